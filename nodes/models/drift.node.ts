/**
 * takt-drift: feature rows in, drift reports out. Compares a sliding window of live rows (and the anomaly
 * scores on them, msg.anomaly.score) with the training reference of the champion of a takt-model node (or a
 * reference sent with action "reference"), by PSI and two-sample KS per feature (drift.ts). A report goes out
 * as msg.drift every `step` rows once the window is full, or on action "check". Rows are read by
 * core/message: a row of quality "bad" (msg.quality, or a prep row's own) stays out of the window.
 *
 * A quality model's reference also holds its held-out residuals: a message with msg.residual (a number, or one
 * per part; takt-predict sets it once the part's measured label is known) adds those to the residual window
 * and nothing else, so the model's errors are watched as well as its inputs.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readRows } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { DriftMonitor, type DriftOptions, type DriftReport } from './drift';
import { rowsOf, toVector } from './rows';
import { modelSource } from './source';
import type { ReferenceSample } from './types';

interface DriftDef extends NodeDef {
  modelRef?: string;
  window?: string | number;
  step?: string | number;
  minSamples?: string | number;
  psiThreshold?: string | number;
  alpha?: string | number;
  bins?: string | number;
}
type Msg = NodeMessageInFlow & {
  action?: unknown;
  ts?: unknown;
  quality?: unknown;
  anomaly?: unknown;
  features?: unknown;
  residual?: unknown;
  drift?: DriftReport;
};

function options(def: DriftDef): DriftOptions {
  const cfg = configReader(def);
  const o: DriftOptions = {};
  for (const k of ['window', 'step', 'minSamples', 'psiThreshold', 'alpha', 'bins'] as const) {
    const v = cfg.optionalNumber(k);
    if (v !== undefined) o[k] = v;
  }
  // Checks the options now rather than at the first reference.
  new DriftMonitor({ features: ['x'], columns: [Array.from({ length: 30 }, (_, i) => i)] }, o);
  return o;
}

/** Scores of the rows from msg.anomaly ({ score } or an array of them), where present. */
function scoresOf(anomaly: unknown, n: number): (number | undefined)[] {
  const list = Array.isArray(anomaly) ? anomaly : [anomaly];
  return Array.from({ length: n }, (_, i) => {
    const a = list[i] as { score?: unknown } | undefined;
    return a && typeof a.score === 'number' ? a.score : undefined;
  });
}

const init: NodeInitializer = (RED) => {
  function DriftNode(this: Node, def: DriftDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    let monitor: DriftMonitor | undefined;
    let stop: (() => void) | undefined;
    const collecting = () =>
      shown.update(() => status.idle(`${monitor?.size ?? 0}/${monitor?.options.window ?? '?'} rows`));
    const set = setUp(this, () => {
      const opts = options(def);
      let src: ReturnType<typeof modelSource> | undefined;
      if (def.modelRef) {
        const s = modelSource((id) => RED.nodes.getNode(id), def.modelRef);
        src = s;
        stop = s.server.on((e) => {
          if (e.type === 'error') return;
          const ref = s.registry.reference(e.version);
          monitor = ref ? new DriftMonitor(ref, opts, e.version) : undefined;
          if (monitor) collecting();
          else shown.now(status.warning(`v${e.version}: no reference`));
        });
      } else shown.now(status.idle('no reference'));
      return { opts, src };
    });
    if (!set) return;
    const { opts, src } = set;
    const command = commandReader(
      { actions: ['reference', 'check', 'reset'], code: 'models.badAction' },
      (t) => this.warn(t),
    );

    onInput<Msg>(
      this,
      (msg, send) => {
        const action = command(msg);
        if (action === 'reference') {
          const { rows } = rowsOf(msg.payload);
          const features = Array.isArray(msg.features)
            ? msg.features.map(String)
            : Array.isArray(rows[0])
              ? rows[0].map((_, j) => `f${j}`)
              : Object.keys(rows[0]).filter(
                  (k) => typeof (rows[0] as Record<string, unknown>)[k] === 'number',
                );
          const X = rows.map((r) => toVector(r, features));
          const ref: ReferenceSample = { features, columns: features.map((_, j) => X.map((x) => x[j])) };
          monitor = new DriftMonitor(ref, opts);
          collecting();
          return;
        }
        if (!monitor && src && !src.server.current && !src.server.error && action === undefined) {
          // The model has no version yet: nothing to compare with, not an error.
          shown.update(() => status.idle('no model yet'));
          return;
        }
        if (!monitor)
          throw new TaktError(
            'models.noReference',
            'reference: none yet (the champion was registered without one; send action "reference" with training rows)',
            'reference',
          );
        let report: DriftReport | undefined;
        if (action === 'reset') {
          monitor.reset();
          collecting();
          return;
        } else if (action === 'check') report = monitor.check();
        else if (msg.residual !== undefined) {
          const list = Array.isArray(msg.residual) ? (msg.residual as unknown[]) : [msg.residual];
          const values = list.map((v, i) => {
            if (typeof v !== 'number' || !Number.isFinite(v))
              throw new TaktError(
                'models.missing',
                `residual${Array.isArray(msg.residual) ? `[${i}]` : ''}: ${String(v)} is not a number`,
                'residual',
              );
            return v;
          });
          for (const v of values) report = monitor.pushScore(v) ?? report;
        } else {
          const { rows } = readRows(msg, { now: Date.now() });
          const scores = scoresOf(msg.anomaly, rows.length);
          rows.forEach((r, i) => {
            if (r.quality !== 'bad') report = monitor!.push(r.features, scores[i]) ?? report;
          });
        }
        if (report) {
          const r = report;
          shown.update(() =>
            r.drift ? status.warning(`drift: ${r.moved.join(', ')}`) : status.ready('no drift'),
          );
          send({ ...msg, drift: r });
        } else collecting();
      },
      shown,
    );

    onClose(
      this,
      () => stop?.(),
      () => shown.dispose(),
    );
  }
  RED.nodes.registerType('takt-drift', DriftNode);
};

export = init;
