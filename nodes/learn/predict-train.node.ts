/**
 * takt-predict-train: collects labelled feature rows (a record or prep row in msg.payload, the measured
 * quality in msg.label), trains gradient-boosted trees in a worker thread once `rows` rows are in (or on
 * msg.action "train"), and writes <userDir>/takt/models/<name>.onnx plus its JSON card. The output carries
 * the model path in msg.payload and msg.model (wire it to takt-predict to hot-swap) and the card in msg.card.
 * msg.action "reset" drops the rows collected so far.
 *
 * With a takt-model node (modelRef) each trained model is also registered there as a new version (the first of
 * its name becomes the current one; later ones wait for a promotion through takt-model-ops): its card says it
 * is a quality model, with the target, the conformal interval or the classes, the training rows' sample as the
 * drift reference and the held-out rows with their labels and errors. msg.version names the new version.
 * *Register* (`register`) can limit that to a model that beats the current version on its held-out rows
 * (`better`) or to the first model (`first`); msg.registration says what was decided and why.
 *
 * Labels that arrive later (join "id" or "time"): rows without a label wait in a bounded buffer (join.ts) and
 * messages with topic "label" carry the labels (msg.label or msg.payload, the part id in msg.partId or
 * payload.partId, the measuring time in payload.ts or msg.ts). Rows whose label never comes expire, counted;
 * a label that matches several rows in the time window is warned about.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { championFeed, configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readFeatureRows, readTimestamp, rowVector } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { type JoinStats, LabelJoin, labelValue } from './join';
import {
  type QualityFeed,
  qualityRegistration,
  REGISTER_WHEN,
  type RegisterDecision,
  registerDecision,
} from './registry';
import { startFit, type FitResult } from './train-job';

interface PredictTrainDef extends NodeDef {
  task: string;
  features: string;
  rows: number | string;
  modelName: string;
  timeLimitS: number | string;
  coverage: number | string;
  join?: string;
  joinWindow?: string | number;
  joinDelay?: string | number;
  labelWait?: string | number;
  waitRows?: string | number;
  modelRef?: string;
  target?: string;
  /** Which trained models go to the registry (REGISTER_WHEN); default every one. */
  register?: string;
}

type Msg = NodeMessageInFlow & {
  action?: unknown;
  label?: unknown;
  partId?: unknown;
  ts?: unknown;
  model?: unknown;
  card?: unknown;
  join?: JoinStats;
  version?: number;
  registration?: RegisterDecision;
};

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** Fields of a row record that are never features. */
const NOT_FEATURES = new Set(['label', 'partId', 'ts']);

const init: NodeInitializer = (RED) => {
  function PredictTrainNode(this: Node, def: PredictTrainDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const coverage = cfg.number('coverage', { default: 0.9, min: 0, exclusiveMin: true });
      if (coverage >= 1)
        throw new TaktError('config.tooLarge', `coverage: ${coverage} must be below 1`, 'coverage');
      const by = cfg.choice('join', ['none', 'id', 'time'], 'none');
      return {
        feed: def.modelRef
          ? championFeed<QualityFeed>((id) => RED.nodes.getNode(id), def.modelRef)
          : undefined,
        target: cfg.string('target', 'quality'),
        when: cfg.choice('register', REGISTER_WHEN, 'every'),
        task: cfg.choice('task', ['regression', 'classification'], 'regression'),
        rowsWanted: cfg.number('rows', { default: 1000, min: 50, integer: true }),
        timeLimitS: cfg.number('timeLimitS', { default: 60, min: 0, exclusiveMin: true }),
        coverage,
        joiner:
          by === 'none'
            ? undefined
            : new LabelJoin({
                by,
                windowMs: cfg.duration('joinWindow', { unit: 's', default: 5, minMs: 1 }),
                delayMs: cfg.duration('joinDelay', { unit: 's', default: 0 }),
                maxWaitMs: cfg.duration('labelWait', { unit: 's', default: 3600, minMs: 1 }),
                maxRows: cfg.number('waitRows', { default: 10000, min: 1, integer: true }),
              }),
      };
    });
    if (!set) return;
    const { task, rowsWanted, timeLimitS, coverage, joiner, feed, target, when } = set;
    /** Warnings so far about expired rows, unmatched and ambiguous labels (the first, then every 100th). */
    const told = { expired: 0, unmatched: 0, ambiguous: 0 };
    const tell = (what: keyof typeof told, n: number, text: string) => {
      if (n === 0) return;
      const before = told[what];
      told[what] += n;
      if (before === 0 || Math.floor(told[what] / 100) > Math.floor(before / 100))
        this.warn(`${text} (${told[what]} so far)`);
    };
    const names = (def.features ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const name = def.modelName || `predict-${this.id.replace(/[^A-Za-z0-9]/g, '')}`;
    let X: number[][] = [];
    let y: number[] = [];
    let job: { promise: Promise<FitResult>; cancel(): void } | undefined;
    const collecting = () =>
      joiner && joiner.stats.waiting > 0
        ? status.idle(
            RED._('predictTrain.status.joining', { n: X.length, of: rowsWanted, w: joiner.stats.waiting }),
          )
        : status.idle(RED._('predictTrain.status.collecting', { n: X.length, of: rowsWanted }));
    this.status(collecting());

    const train = (msg: Msg, send: (m: Msg) => void, done: (err?: Error) => void) => {
      const data = { X, y };
      X = [];
      y = [];
      shown.now(status.busy(RED._('predictTrain.status.training', { n: data.X.length })));
      job = startFit({
        ...data,
        features: [...names],
        task,
        timeLimitMs: timeLimitS * 1000,
        coverage,
        dir: join(userDir, 'takt', 'models'),
        name,
      });
      job.promise
        .then(async (r) => {
          if (!feed) return { r, version: undefined, decision: undefined };
          const fitted = { onnx: new Uint8Array(readFileSync(r.model)), card: r.card, split: r.split };
          const decision = await registerDecision(feed.registry, fitted, data.X, data.y, when);
          if (!decision.registered) return { r, version: undefined, decision };
          const reg = qualityRegistration(fitted, data.X, data.y, { target });
          const { card } = await feed.registry.register(reg, {
            who: `takt-predict-train ${this.id}`,
            why: `trained on ${data.X.length} labelled rows${when === 'every' ? '' : `: ${decision.why}`}`,
          });
          return { r, version: card.version, decision };
        })
        .then(
          ({ r, version, decision }) => {
            job = undefined;
            const m = r.card.metrics;
            shown.now(
              status.ready(
                (task === 'regression'
                  ? RED._('predictTrain.status.trainedRegression', {
                      rmse: m.valid.rmse?.toPrecision(3) ?? '',
                      ridge: m.baseline.rmse?.toPrecision(3) ?? '',
                    })
                  : RED._('predictTrain.status.trainedClassification', {
                      acc: m.valid.accuracy?.toFixed(3) ?? '',
                      ridge: m.baseline.accuracy?.toFixed(3) ?? '',
                    })) +
                  (version !== undefined
                    ? `, v${version}`
                    : decision
                      ? `, ${RED._('predictTrain.status.notRegistered')}`
                      : ''),
              ),
            );
            send({
              ...msg,
              payload: r.model,
              model: r.model,
              card: r.card,
              ...(joiner ? { join: joiner.stats } : {}),
              ...(version !== undefined ? { version } : {}),
              ...(decision ? { registration: decision } : {}),
            });
            done();
          },
          (err: unknown) => {
            job = undefined;
            done(err as Error); // onInput's done: red status too
          },
        );
    };

    const command = commandReader({ actions: ['train', 'reset'], code: 'learn.badAction' }, (t) =>
      this.warn(t),
    );
    onInput<Msg>(
      this,
      (msg, send, done) => {
        const action = command(msg);
        if (action === 'reset') {
          X = [];
          y = [];
          joiner?.clear();
          shown.now(collecting());
          return;
        }
        if (action === 'train') {
          if (job) throw new TaktError('learn.busy', 'training is already running', 'action');
          train(msg, send, done);
          return 'later';
        }
        const now = Date.now();
        if (joiner && msg.topic === 'label') {
          const p = msg.payload;
          const rec = isRecord(p) ? p : {};
          const value = msg.label ?? (isRecord(p) ? (p.value ?? p.label) : p);
          const out = joiner.addLabel({
            value,
            id: msg.partId ?? rec.partId,
            ts: readTimestamp(rec.ts ?? msg.ts, now, isRecord(p) && p.ts !== undefined ? 'payload.ts' : 'ts'),
          });
          if (out.candidates > 1)
            tell(
              'ambiguous',
              1,
              `label joined to the nearest of ${out.candidates} rows in the time window: the window is too wide for the parts' spacing`,
            );
          if (!out.joined) tell('unmatched', 1, 'a label matched no waiting row');
          else {
            X.push(out.joined.x);
            y.push(out.joined.y);
          }
        } else {
          const { rows, batch } = readFeatureRows(msg, { now });
          const fresh: { x: number[]; label: unknown; ts: number; id: unknown }[] = [];
          rows.forEach((row, i) => {
            const field = batch ? `payload[${i}]` : 'payload';
            if (names.length === 0 && !Array.isArray(row.features))
              names.push(
                ...Object.keys(row.features).filter(
                  (k) =>
                    !NOT_FEATURES.has(k) && typeof (row.features as Record<string, unknown>)[k] === 'number',
                ),
              );
            const src = isRecord(row.source) ? row.source : {};
            fresh.push({
              x: rowVector(row.features, names, field),
              label: batch ? src.label : (msg.label ?? src.label),
              ts: row.ts,
              id: batch ? src.partId : (msg.partId ?? src.partId),
            });
          });
          // Checked whole before any row is kept: a refused message leaves nothing half taken.
          const labels = fresh.map((r, i) =>
            r.label === undefined && joiner
              ? undefined
              : labelValue(r.label, batch ? `payload[${i}].label` : 'label'),
          );
          fresh.forEach((r, i) => {
            const label = labels[i];
            if (label !== undefined) {
              X.push(r.x);
              y.push(label);
            } else if (joiner) tell('expired', joiner.addRow(r), 'rows expired without their label');
          });
        }
        if (X.length >= rowsWanted && !job) {
          train(msg, send, done);
          return 'later';
        }
        shown.update(collecting);
      },
      shown,
    );
    onClose(
      this,
      () => job?.cancel(),
      () => shown.dispose(),
    );
  }
  RED.nodes.registerType('takt-predict-train', PredictTrainNode);
};

export = init;
