/**
 * takt-train: collects a window of normal feature rows from the flow (or reads a CSV), trains an anomaly
 * model in a worker thread, and writes <userDir>/takt/models/<name>.onnx plus its JSON card. The output
 * message carries the model path in msg.payload and msg.model (wire it to takt-anomaly to hot-swap) and the
 * card in msg.card. msg.action "train" trains now (on the rows so far, or the CSV), "reset" drops the rows.
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status, throttledStatus } from '../core/status';
import { RowCollector } from './collect';
import { list, modelsDir, toTrainOptions, type TrainNodeDef } from './config';
import { parseCsv } from './files';
import { startTraining, type TrainHandle } from './train-job';

type Msg = NodeMessageInFlow & { action?: unknown; model?: unknown; card?: unknown };

const init: NodeInitializer = (RED) => {
  function TrainNode(this: Node, def: TrainNodeDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    let opts: ReturnType<typeof toTrainOptions>;
    try {
      opts = toTrainOptions(def);
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
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

    this.on('input', (msg: Msg, send, done) => {
      try {
        if (job) {
          shown.update(() => status.busy(RED._('train.status.busy')));
          done();
          return;
        }
        if (msg.action === 'reset') {
          rows.reset();
          shown.now(status.idle(RED._('train.status.collecting', { n: 0, of: opts.rows })));
          done();
          return;
        }
        if (msg.action === 'train') return train(msg, send, done);
        if (msg.action !== undefined)
          throw new TaktError(
            'anomaly.badAction',
            `action: "${String(msg.action)}" is not one of train, reset`,
            'action',
          );
        rows.push(msg.payload);
        if (rows.rows >= opts.rows) return train(msg, send, done);
        shown.update(() => status.idle(RED._('train.status.collecting', { n: rows.rows, of: opts.rows })));
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      job?.cancel();
      shown.dispose();
      done();
    });
  }
  RED.nodes.registerType('takt-train', TrainNode);
};

export = init;
