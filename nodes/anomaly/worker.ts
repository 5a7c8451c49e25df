/**
 * Worker-thread entry of training: receives a TrainJob, trains, writes the model and its card, and posts
 * progress and the result. Started by `startTraining` (train-job.ts); never imported by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { saveModel } from './files';
import { trainModel } from './models';
import type { TrainJob, WorkerReply } from './train-job';

function post(m: WorkerReply): void {
  parentPort?.postMessage(m);
}

const job = workerData as TrainJob;
try {
  const t = trainModel(job.X, job.n, job.features, {
    ...job.options,
    onProgress: (fraction, text) => post({ type: 'progress', fraction, text }),
  });
  const saved = saveModel(t, job.dir, job.name);
  post({ type: 'done', model: saved.model, cardFile: saved.card, card: t.card });
} catch (err) {
  const e = err as Error & { code?: string; field?: string };
  post({ type: 'error', message: e.message, code: e.code ?? 'anomaly.trainFailed', field: e.field });
}
