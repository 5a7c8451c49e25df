/**
 * takt-predict: predicts a part's quality from its feature row with a model written by takt-predict-train
 * (or learn.fit): msg.payload becomes `{ value, lower, upper }` (regression, conformal interval) or
 * `{ label, probabilities }` (classification), plus `contributions` (TreeSHAP, by feature name) and, when
 * limits are set, `inTolerance`. A string in msg.model (a model path) loads that model first (hot swap); when
 * msg.payload is not a row (takt-predict-train's output, payload = path) nothing is sent.
 */
import { isAbsolute, join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { readRows, rowVector } from '../core/message';
import { errorStatus, status, throttledStatus } from '../core/status';
import { Predictor } from './model';

interface PredictDef extends NodeDef {
  model: string;
  lower: string | number;
  upper: string | number;
}

type Msg = NodeMessageInFlow & { model?: unknown };

const init: NodeInitializer = (RED) => {
  function PredictNode(this: Node, def: PredictDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const resolve = (p: string) => (isAbsolute(p) ? p : join(userDir, 'takt', 'models', p));
    const set = setUp(this, () => {
      const cfg = configReader(def);
      return {
        lo: cfg.optionalNumber('lower'),
        hi: cfg.optionalNumber('upper'),
        model: cfg.string('model', ''),
      };
    });
    if (!set) return;
    const { lo, hi } = set;
    let predictor: Predictor | undefined;
    let loading: Promise<Predictor> | undefined;
    const load = (path: string): Promise<Predictor> => {
      loading = Predictor.load(resolve(path)).then((p) => {
        predictor = p;
        shown.now(
          status.ready(RED._('predict.status.loaded', { task: p.card.task, n: p.card.features.length })),
        );
        return p;
      });
      return loading;
    };
    if (set.model)
      load(set.model).catch((err: unknown) => {
        this.warn((err as Error).message);
        shown.now(errorStatus(err));
      });
    else this.status(status.idle(RED._('predict.status.noModel')));

    this.on('input', (msg: Msg, send, done) => {
      const run = async () => {
        if (typeof msg.model === 'string' && msg.model !== '') {
          await load(msg.model);
          // A message that only hands over a model (takt-predict-train's output) is not a row to predict.
          if (typeof msg.payload !== 'object' || msg.payload === null) return;
        }
        const p = predictor ?? (loading ? await loading : undefined);
        if (!p) throw new TaktError('learn.noModel', 'no model loaded: set one or send msg.model', 'model');
        const names = p.card.features;
        const { rows, batch } = readRows({ payload: msg.payload }, { now: Date.now() });
        const X = rows.map((row, i) => rowVector(row.features, names, batch ? `payload[${i}]` : 'payload'));
        const results = (await p.predict(X)).map((r) => {
          const contributions = Object.fromEntries(names.map((f, j) => [f, r.contributions[j]]));
          const out: Record<string, unknown> = { ...r, contributions };
          if (r.value !== undefined && (lo !== undefined || hi !== undefined))
            out.inTolerance = (lo === undefined || r.value >= lo) && (hi === undefined || r.value <= hi);
          return out;
        });
        const r = results[results.length - 1] as { value?: number; label?: string };
        send({ ...msg, payload: batch ? results : results[0] });
        shown.update(() =>
          status.ready(
            r.value !== undefined
              ? RED._('predict.status.value', { value: r.value.toPrecision(4) })
              : RED._('predict.status.class', { label: r.label ?? '' }),
          ),
        );
      };
      run().then(
        () => done(),
        (err: unknown) => {
          shown.now(errorStatus(err));
          done(err as Error);
        },
      );
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      shown.dispose();
      done();
    });
  }
  RED.nodes.registerType('takt-predict', PredictNode);
};

export = init;
