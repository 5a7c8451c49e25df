/**
 * takt-predict: predicts a part's quality from its feature row with a model written by takt-predict-train
 * (or learn.fit): msg.payload becomes `{ value, lower, upper }` (regression, conformal interval) or
 * `{ label, probabilities }` (classification), plus `contributions` (TreeSHAP, by feature name; `explain`:
 * every part, only parts predicted out of tolerance, or none, since TreeSHAP costs several hundred times the
 * prediction) and, when limits are set, `inTolerance`. A string in msg.model (a model path) loads that model
 * first (hot swap); when msg.payload is not a row (takt-predict-train's output, payload = path) nothing is sent.
 *
 * With a takt-model node (modelRef) it predicts with the registry's current version instead, verified against
 * its card, and follows promotions and rollbacks without a redeploy (`version` in each result); a card that is
 * not a quality model is refused (learn.notQuality). When the part's measured label is already known
 * (msg.label, one per row of a batch), each result carries `residual` (measured minus predicted, or one minus
 * the measured class's probability) and msg.residual has them all: the input of takt-drift's residual check.
 * Parts that come before the registry has any version are not predicted, only counted on the status.
 */
import { isAbsolute, join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { championFeed, configReader, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { readRows, rowVector } from '../core/message';
import { errorStatus, status, throttledStatus } from '../core/status';
import { labelValue } from './join';
import { Predictor } from './model';
import { followQuality, type QualityFeed, residualOf } from './registry';

interface PredictDef extends NodeDef {
  model: string;
  modelRef?: string;
  lower: string | number;
  upper: string | number;
  /** Which parts get `contributions`: every one (default), those predicted out of tolerance, or none. */
  explain?: string;
}

const EXPLAIN = ['all', 'out', 'none'] as const;

type Msg = NodeMessageInFlow & { model?: unknown; label?: unknown; residual?: number | number[] };

/** The measured labels of the rows, when the message carries them (msg.label: one, or one per row). */
function labelsOf(label: unknown, n: number, batch: boolean): (number | undefined)[] {
  if (label === undefined || label === null) return new Array<undefined>(n).fill(undefined);
  if (batch) {
    if (!Array.isArray(label) || label.length !== n)
      throw new TaktError('learn.badLabel', `label: a batch of ${n} rows needs ${n} labels`, 'label');
    return label.map((v, i) => (v === null || v === undefined ? undefined : labelValue(v, `label[${i}]`)));
  }
  return [labelValue(label)];
}

const init: NodeInitializer = (RED) => {
  function PredictNode(this: Node, def: PredictDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const resolve = (p: string) => (isAbsolute(p) ? p : join(userDir, 'takt', 'models', p));
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const lo = cfg.optionalNumber('lower');
      const hi = cfg.optionalNumber('upper');
      const explain = cfg.choice('explain', EXPLAIN, 'all');
      if (explain === 'out' && lo === undefined && hi === undefined)
        throw new TaktError(
          'config.badChoice',
          'explain: "out" explains the parts predicted out of tolerance: set a lower or upper limit',
          'explain',
        );
      return {
        lo,
        hi,
        explain,
        model: cfg.string('model', ''),
        // A takt-model node that is missing or broken disables the node, as in every node that uses one.
        feed: def.modelRef
          ? championFeed<QualityFeed>((id) => RED.nodes.getNode(id), def.modelRef)
          : undefined,
      };
    });
    if (!set) return;
    const { lo, hi, explain, feed } = set;
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
    let unfollow: (() => void) | undefined;
    /** Warned that `explain: out` explains no part of a classification model. */
    let warnedClass = false;
    /** Parts that came before the registry had a version. */
    let waiting = 0;
    /** The registry version each model came from. */
    const versions = new WeakMap<Predictor, number>();
    /** The version being loaded: messages that arrive meanwhile wait for it. */
    let wanted: { version: number; settle(p: Predictor | Error): void } | undefined;
    if (feed) {
      this.status(status.idle(RED._('predict.status.noModel')));
      unfollow = followQuality(feed, {
        loading: (v) => {
          shown.now(status.connecting(RED._('predict.status.loading', { v })));
          const pending = new Promise<Predictor>((resolve, reject) => {
            wanted = { version: v, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) };
          });
          pending.catch(() => undefined);
          loading = pending;
        },
        ready: (p, v) => {
          versions.set(p, v);
          // A slower load of a version announced earlier does not replace a later one.
          if (wanted && wanted.version !== v) return;
          predictor = p;
          wanted?.settle(p);
          wanted = undefined;
          shown.now(status.ready(RED._('predict.status.version', { v, n: p.card.features.length })));
        },
        failed: (err) => {
          // The version served so far (if any) stays.
          wanted?.settle(predictor ?? err);
          wanted = undefined;
          this.error(`model not loaded: ${err.message}`);
          shown.now(errorStatus(err));
        },
      });
    } else if (set.model)
      load(set.model).catch((err: unknown) => {
        this.warn((err as Error).message);
        shown.now(errorStatus(err));
      });
    else this.status(status.idle(RED._('predict.status.noModel')));

    this.on('input', (msg: Msg, send, done) => {
      const run = async () => {
        if (typeof msg.model === 'string' && msg.model !== '') {
          // With a takt-model node the registry says which version predicts, not the message.
          if (!feed) await load(msg.model);
          // A message that only hands over a model (takt-predict-train's output) is not a row to predict.
          if (typeof msg.payload !== 'object' || msg.payload === null) return;
        }
        if (feed && !predictor && !loading && !feed.current && !feed.error) {
          // The registry has no version yet (takt-predict-train has not registered one): nothing to predict
          // with, not an error; the parts are counted on the status.
          waiting++;
          shown.update(() => status.idle(RED._('predict.status.waiting', { n: waiting })));
          return;
        }
        const p = predictor ?? (loading ? await loading : undefined);
        if (!p) throw new TaktError('learn.noModel', 'no model loaded: set one or send msg.model', 'model');
        const names = p.card.features;
        const { rows, batch } = readRows({ payload: msg.payload }, { now: Date.now() });
        const X = rows.map((row, i) => rowVector(row.features, names, batch ? `payload[${i}]` : 'payload'));
        const labels = labelsOf(msg.label, rows.length, batch);
        const served = versions.get(p);
        const residuals: number[] = [];
        if (explain === 'out' && p.card.task === 'classification' && !warnedClass) {
          warnedClass = true;
          this.warn(
            'explain "out" explains the parts predicted out of tolerance: a classification model\'s are not explained',
          );
        }
        const results = (await p.predict(X, { contributions: explain !== 'none' })).map((r, i) => {
          // Named fields, not a spread: a prediction keeps how to work its contributions out under a symbol key
          // (model.ts), which a spread would copy along.
          const out: Record<string, unknown> = {};
          for (const k of ['value', 'lower', 'upper', 'label', 'probabilities'] as const)
            if (r[k] !== undefined) out[k] = r[k];
          const inTolerance =
            r.value !== undefined && (lo !== undefined || hi !== undefined)
              ? (lo === undefined || r.value >= lo) && (hi === undefined || r.value <= hi)
              : undefined;
          if (explain === 'all' || (explain === 'out' && inTolerance === false))
            out.contributions = Object.fromEntries(names.map((f, j) => [f, r.contributions[j]]));
          if (served !== undefined) out.version = served;
          const label = labels[i];
          if (label !== undefined) {
            out.residual = residualOf(p.card, r, label);
            residuals.push(out.residual as number);
          }
          if (inTolerance !== undefined) out.inTolerance = inTolerance;
          return out;
        });
        const r = results[results.length - 1] as { value?: number; label?: string };
        const out: Msg = { ...msg, payload: batch ? results : results[0] };
        if (residuals.length) out.residual = batch ? residuals : residuals[0];
        send(out);
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
      unfollow?.();
      shown.dispose();
      done();
    });
  }
  RED.nodes.registerType('takt-predict', PredictNode);
};

export = init;
