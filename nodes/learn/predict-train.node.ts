/**
 * takt-predict-train: collects labelled feature rows (a record or prep row in msg.payload, the measured
 * quality in msg.label), trains gradient-boosted trees in a worker thread once `rows` rows are in (or on
 * msg.action "train"), and writes <userDir>/takt/models/<name>.onnx plus its JSON card. The output carries
 * the model path in msg.payload and msg.model (wire it to takt-predict to hot-swap) and the card in msg.card.
 * msg.action "reset" drops the rows collected so far.
 */
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { disable, onClose, onInput } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { featureVector, labelOf } from './rows';
import { startFit, type FitResult } from './train-job';

interface PredictTrainDef extends NodeDef {
  task: string;
  features: string;
  rows: number | string;
  modelName: string;
  timeLimitS: number | string;
  coverage: number | string;
}

type Msg = NodeMessageInFlow & { action?: unknown; label?: unknown; model?: unknown; card?: unknown };

const init: NodeInitializer = (RED) => {
  function PredictTrainNode(this: Node, def: PredictTrainDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const task = def.task === 'classification' ? 'classification' : 'regression';
    const rowsWanted = Number(def.rows ?? 1000);
    const timeLimitS = Number(def.timeLimitS ?? 60);
    const coverage = Number(def.coverage ?? 0.9);
    const bad = !(Number.isInteger(rowsWanted) && rowsWanted >= 50)
      ? new TaktError('learn.badConfig', `rows: ${def.rows} is not an integer >= 50`, 'rows')
      : !(timeLimitS > 0)
        ? new TaktError(
            'learn.badConfig',
            `time limit: ${def.timeLimitS} is not a positive number`,
            'timeLimitS',
          )
        : !(coverage > 0 && coverage < 1)
          ? new TaktError('learn.badConfig', `coverage: ${def.coverage} is not in (0, 1)`, 'coverage')
          : undefined;
    if (bad) return disable(this, bad);
    const names = (def.features ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const name = def.modelName || `predict-${this.id.replace(/[^A-Za-z0-9]/g, '')}`;
    let X: number[][] = [];
    let y: number[] = [];
    let job: { promise: Promise<FitResult>; cancel(): void } | undefined;
    const collecting = () =>
      status.idle(RED._('predictTrain.status.collecting', { n: X.length, of: rowsWanted }));
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
      job.promise.then(
        (r) => {
          job = undefined;
          const m = r.card.metrics;
          shown.now(
            status.ready(
              task === 'regression'
                ? RED._('predictTrain.status.trainedRegression', {
                    rmse: m.valid.rmse?.toPrecision(3) ?? '',
                    ridge: m.baseline.rmse?.toPrecision(3) ?? '',
                  })
                : RED._('predictTrain.status.trainedClassification', {
                    acc: m.valid.accuracy?.toFixed(3) ?? '',
                    ridge: m.baseline.accuracy?.toFixed(3) ?? '',
                  }),
            ),
          );
          send({ ...msg, payload: r.model, model: r.model, card: r.card });
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
          shown.now(collecting());
          return;
        }
        if (action === 'train') {
          if (job) throw new TaktError('learn.busy', 'training is already running', 'action');
          train(msg, send, done);
          return 'later';
        }
        const x = featureVector(msg.payload, names);
        const label = labelOf(msg);
        X.push(x);
        y.push(label);
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
