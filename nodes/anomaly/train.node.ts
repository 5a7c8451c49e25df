/**
 * takt-train: collects a window of normal feature rows from the flow (or reads a CSV), trains an anomaly
 * model in a worker thread, and writes <userDir>/takt/models/<name>.onnx plus its JSON card. The output
 * message carries the model path in msg.payload and msg.model (wire it to takt-anomaly to hot-swap) and the
 * card in msg.card. msg.action "train" trains now (on the rows so far, or the CSV), "reset" drops the rows.
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { onClose, onInput, setUp } from '../core/adaptor';
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
    const name = def.modelName || `model-${this.id.replace(/[^A-Za-z0-9]/g, '')}`;
    let job: TrainHandle | undefined;
    this.status(status.idle(RED._('train.status.collecting', { n: 0, of: opts.rows })));

    const train = (msg: Msg, send: (m: Msg) => void, done: (err?: Error) => void) => {
      const data = rows.rows > 0 || !def.csv ? rows.take() : parseCsv(def.csv, list(def.features));
      const { rows: _r, ...options } = opts;
      void _r;
      shown.now(status.busy(RED._('train.status.training', { pct: 0 })));
      job = startTraining({ ...data, options, dir: modelsDir(userDir), name }, (f) =>
        shown.update(() => status.busy(RED._('train.status.training', { pct: Math.round(100 * f) }))),
      );
      job.promise.then(
        (r) => {
          job = undefined;
          shown.now(status.ready(RED._('train.status.trained', { kind: r.card.kind })));
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
        if (job) {
          shown.update(() => status.busy(RED._('train.status.busy')));
          return;
        }
        const action = command(msg);
        if (action === 'reset') {
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
