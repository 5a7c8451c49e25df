/**
 * takt-drift: feature rows in, drift reports out. Compares a sliding window of live rows (and the anomaly
 * scores on them, msg.anomaly.score) with the training reference of the champion of a takt-model node (or a
 * reference sent with action "reference"), by PSI and two-sample KS per feature (drift.ts). A report goes out
 * as msg.drift every `step` rows once the window is full, or on action "check".
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status, throttledStatus } from '../core/status';
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
  anomaly?: unknown;
  features?: unknown;
  drift?: DriftReport;
};

function options(def: DriftDef): DriftOptions {
  const o: DriftOptions = {};
  for (const k of ['window', 'step', 'minSamples', 'psiThreshold', 'alpha', 'bins'] as const) {
    const v = def[k];
    if (v !== undefined && v !== '') o[k] = Number(v);
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
    let opts: DriftOptions;
    let monitor: DriftMonitor | undefined;
    let stop: (() => void) | undefined;
    let src: ReturnType<typeof modelSource> | undefined;
    const collecting = () =>
      shown.update(() => status.idle(`${monitor?.size ?? 0}/${monitor?.options.window ?? '?'} rows`));
    try {
      opts = options(def);
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
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }

    this.on('input', (msg: Msg, send, done) => {
      try {
        if (msg.action === 'reference') {
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
          return done();
        }
        if (!monitor && src && !src.server.current && !src.server.error && msg.action === undefined) {
          // The model has no version yet: nothing to compare with, not an error.
          shown.update(() => status.idle('no model yet'));
          return done();
        }
        if (!monitor)
          throw new TaktError(
            'models.noReference',
            'reference: none yet (the champion was registered without one; send action "reference" with training rows)',
            'reference',
          );
        let report: DriftReport | undefined;
        if (msg.action === 'reset') {
          monitor.reset();
          collecting();
          return done();
        } else if (msg.action === 'check') report = monitor.check();
        else if (msg.action !== undefined)
          throw new TaktError(
            'models.badAction',
            `action: "${String(msg.action)}" is not one of check, reset, reference`,
            'action',
          );
        else {
          const { rows } = rowsOf(msg.payload);
          const scores = scoresOf(msg.anomaly, rows.length);
          rows.forEach((r, i) => (report = monitor!.push(r, scores[i]) ?? report));
        }
        if (report) {
          const r = report;
          shown.update(() =>
            r.drift ? status.warning(`drift: ${r.moved.join(', ')}`) : status.ready('no drift'),
          );
          send({ ...msg, drift: r });
        } else collecting();
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      stop?.();
      shown.dispose();
      done();
    });
  }
  RED.nodes.registerType('takt-drift', DriftNode);
};

export = init;
