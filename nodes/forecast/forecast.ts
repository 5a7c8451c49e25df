/**
 * takt-forecast: forecasts a demand (or energy) series with the forecast engine (engine.ts). A thin
 * adaptor: reads config and msg overrides, calls fit or backtest, sets status. The fit is bounded
 * (at most `maxLength` recent values, capped optimiser evaluations), so it runs inline.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status } from '../core/status';
import { backtest, fit, type FitOptions, type Method } from './engine';
import { parseFrequency, type GapPolicy } from './series';

interface ForecastNodeDef extends NodeDef {
  method: string;
  frequency: string;
  horizon: string | number;
  gaps: string;
  selection: string;
  property: string;
  maxLength: string | number;
}

type Msg = NodeMessageInFlow & {
  frequency?: unknown;
  horizon?: unknown;
  method?: unknown;
  action?: unknown;
  origins?: unknown;
  forecast?: unknown;
  backtest?: unknown;
};

const init: NodeInitializer = (RED) => {
  function ForecastNode(this: Node, def: ForecastNodeDef) {
    RED.nodes.createNode(this, def);
    const base: FitOptions = {
      // A flow saved without the field gets the editor's default (12: monthly data, yearly season).
      frequency: parseFrequency(def.frequency === undefined || def.frequency === '' ? '12' : def.frequency),
      horizon: Number(def.horizon) || 12,
      method: (def.method || 'auto') as Method,
      gaps: (def.gaps || 'error') as GapPolicy,
      selection: (def.selection || 'combination') as FitOptions['selection'],
    };
    const property = def.property || 'payload';
    const maxLength = Number(def.maxLength) || 5000;
    this.status(status.idle(base.method as string));

    this.on('input', (msg: Msg, send, done) => {
      try {
        const series = RED.util.getMessageProperty(msg, property) as unknown;
        if (!Array.isArray(series))
          throw new TaktError('forecast.badSeries', `${property}: expected an array of numbers`, property);
        const opts: FitOptions = { ...base };
        if (msg.frequency !== undefined) opts.frequency = parseFrequency(msg.frequency);
        if (msg.horizon !== undefined) opts.horizon = Number(msg.horizon);
        if (msg.method !== undefined) opts.method = msg.method as Method;
        const y = series.length > maxLength ? series.slice(series.length - maxLength) : series;
        if (msg.action === 'backtest') {
          const origins = msg.origins === undefined ? 3 : Number(msg.origins);
          const r = backtest(y, { ...opts, origins });
          msg.backtest = r;
          msg.payload = r;
          this.status(status.ready(`MASE ${r.mase.toFixed(2)}`));
        } else {
          const r = fit(y, opts);
          msg.forecast = r;
          msg.payload = r.forecast;
          this.status(status.ready(`${r.method} ${r.forecast.length} steps`));
        }
        send(msg);
        done();
      } catch (err) {
        this.status(errorStatus(err));
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('takt-forecast', ForecastNode);
};

export = init;
