/**
 * takt-train: collects a window of normal feature rows from the flow (or reads a CSV), trains an anomaly
 * model in a worker thread, and writes <userDir>/takt/models/<name>.onnx plus its JSON card. The output
 * message carries the model path in msg.payload and msg.model (wire it to takt-anomaly to hot-swap) and the
 * card in msg.card. msg.action "train" trains now (on the rows so far, or the CSV), "reset" drops the rows.
 * No row is dropped unseen: rows that arrive while a model trains start the next window (`after: 'collect'`,
 * up to its size) or, with `after: 'stop'` (train once), rows after the first training are not used until
 * "reset"; both counts of unused rows show in the status.
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readFeatureRows } from '../core/message';
import { errorStatus, status, throttledStatus } from '../core/status';
import { RowCollector } from './collect';
import { list, modelsDir, toTrainOptions, type TrainNodeDef } from './config';
import { parseCsv } from './files';
import { startTraining, type TrainHandle } from './train-job';

type Msg = NodeMessageInFlow & { action?: unknown; quality?: unknown; model?: unknown; card?: unknown };

const init: NodeInitializer = (RED) => {
  function TrainNode(this: Node, def: TrainNodeDef) {
    RED.nodes.createNode(this, def);
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const opts = setUp(this, () => toTrainOptions(def));
    if (!opts) return;
    const shown = throttledStatus((s) => this.status(s));
    const command = commandReader({ actions: ['train', 'reset'], code: 'anomaly.badAction' }, (t) =>
      this.warn(t),
    );
    const rows = new RowCollector(list(def.features));
    /** With `after: 'stop'`: a model is trained and rows are no longer collected. */
    let stopped = false;
    /** Rows not used: after the training with `after: 'stop'`, or beyond a full window while training. */
    let unused = 0;
    const name = def.modelName || `model-${this.id.replace(/[^A-Za-z0-9]/g, '')}`;
    let job: TrainHandle | undefined;
    this.status(status.idle(RED._('train.status.collecting', { n: 0, of: opts.rows })));

    const train = (msg: Msg, send: (m: Msg) => void, done: (err?: Error) => void) => {
      const data = rows.rows > 0 || !def.csv ? rows.take() : parseCsv(def.csv, list(def.features));
      const { rows: _r, stopAfter: _s, ...options } = opts;
      void _r;
      void _s;
      shown.now(status.busy(RED._('train.status.training', { pct: 0 })));
      job = startTraining({ ...data, options, dir: modelsDir(userDir), name }, (f) =>
        shown.update(() =>
          // once rows go unused while training, the status keeps saying how many
          unused > 0
            ? status.busy(`training, ${unused} unused`)
            : status.busy(RED._('train.status.training', { pct: Math.round(100 * f) })),
        ),
      );
      job.promise.then(
        (r) => {
          job = undefined;
          stopped = opts.stopAfter;
          shown.now(
            unused > 0
              ? status.ready(`trained, ${unused} unused`)
              : status.ready(RED._('train.status.trained', { kind: r.card.kind })),
          );
          send({ ...msg, payload: r.model, model: r.model, card: r.card });
          done();
        },
        (err: unknown) => {
          job = undefined;
          shown.now(errorStatus(err));
          done(err as Error);
        },
      );
    };

    onInput<Msg>(
      this,
      (msg, send, done) => {
        const action = command(msg);
        if (action === undefined && (job || stopped)) {
          // While a model trains, rows start the next window (or, to train once, are not used); counted.
          const take = !opts.stopAfter && rows.rows < opts.rows;
          const read = readFeatureRows(msg, { now: Date.now() }).rows;
          for (const r of read)
            if (r.quality === 'bad') continue;
            else if (take && rows.rows < opts.rows) rows.push(r.features);
            else unused++;
          if (unused > 0)
            shown.update(() =>
              job ? status.busy(`training, ${unused} unused`) : status.ready(`trained, ${unused} unused`),
            );
          return;
        }
        if (job)
          throw new TaktError('anomaly.busy', 'a model is being trained: send the command again later');
        if (action === 'reset') {
          stopped = false;
          unused = 0;
          rows.reset();
          shown.now(status.idle(RED._('train.status.collecting', { n: 0, of: opts.rows })));
          return;
        }
        if (action === 'train') {
          train(msg, send, done);
          return 'later';
        }
        // Every row read by the one row reader (core/message); a bad-quality row is not trained on.
        for (const r of readFeatureRows(msg, { now: Date.now() }).rows)
          if (r.quality !== 'bad') rows.push(r.features);
        if (rows.rows >= opts.rows) {
          train(msg, send, done);
          return 'later';
        }
        shown.update(() => status.idle(RED._('train.status.collecting', { n: rows.rows, of: opts.rows })));
      },
      shown,
    );

    onClose(
      this,
      () => job?.cancel(),
      () => shown.dispose(),
    );
  }
  RED.nodes.registerType('takt-train', TrainNode);
};

export = init;
