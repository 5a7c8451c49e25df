/**
 * takt-forecast: forecasts a demand (or energy) series with the forecast engine (engine.ts). A thin
 * adaptor: reads config and msg overrides, calls fit or backtest, sets status. The fit is bounded
 * (at most `maxLength` recent values, capped optimiser evaluations), so it runs inline. A series of
 * quality "bad" (msg.quality, core/message) is skipped; msg.action "backtest" evaluates instead.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, toQuality } from '../core/message';
import { status } from '../core/status';
import { backtest, fit, type FitOptions, type Method, METHODS } from './engine';
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
  quality?: unknown;
  origins?: unknown;
  forecast?: unknown;
  backtest?: unknown;
};

const init: NodeInitializer = (RED) => {
  function ForecastNode(this: Node, def: ForecastNodeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const base: FitOptions = {
        // A flow saved without the field gets the editor's default (12: monthly data, yearly season).
        frequency: parseFrequency(cfg.string('frequency', '12')),
        horizon: cfg.number('horizon', { default: 12, min: 1, integer: true }),
        method: cfg.choice<Method>('method', METHODS, 'auto'),
        gaps: cfg.choice<GapPolicy>('gaps', ['error', 'interpolate', 'zero', 'previous'], 'error'),
        selection: cfg.choice<NonNullable<FitOptions['selection']>>(
          'selection',
          ['combination', 'validation', 'aicc'],
          'combination',
        ),
      };
      const maxLength = cfg.number('maxLength', { default: 5000, min: 1, integer: true });
      return { base, maxLength, property: cfg.string('property', 'payload') };
    });
    if (!set) return;
    const { base, maxLength, property } = set;
    const command = commandReader({ actions: ['backtest'] }, (t) => this.warn(t));
    this.status(status.idle(base.method as string));

    onInput<Msg>(this, (msg, send) => {
      const action = command(msg);
      if (toQuality(msg.quality) === 'bad') {
        this.status(status.warning('bad quality skipped'));
        return;
      }
      const series = RED.util.getMessageProperty(msg, property) as unknown;
      if (!Array.isArray(series))
        throw new TaktError('forecast.badSeries', `${property}: expected an array of numbers`, property);
      const opts: FitOptions = { ...base };
      if (msg.frequency !== undefined) opts.frequency = parseFrequency(msg.frequency);
      if (msg.horizon !== undefined) opts.horizon = Number(msg.horizon);
      if (msg.method !== undefined) opts.method = msg.method as Method;
      const y = series.length > maxLength ? series.slice(series.length - maxLength) : series;
      if (action === 'backtest') {
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
    });
  }
  RED.nodes.registerType('takt-forecast', ForecastNode);
};

export = init;
