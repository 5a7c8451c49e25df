/**
 * Worker-thread entry of takt-predict-train: receives a FitJob, fits, writes the model and its card, posts
 * the result. Started by `startFit` (train-job.ts); never imported by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fit } from './model';
import { saveFitted, type FitJob, type FitReply } from './train-job';

const post = (m: FitReply): void => parentPort?.postMessage(m);
const job = workerData as FitJob;
fit(job.X, job.y, {
  task: job.task,
  features: job.features,
  ...(job.timeLimitMs !== undefined ? { timeLimitMs: job.timeLimitMs } : {}),
  ...(job.coverage !== undefined ? { coverage: job.coverage } : {}),
}).then(
  ({ onnx, card, split }) => {
    const r = saveFitted(onnx, card, split, job.dir, job.name);
    post({ type: 'done', ...r });
  },
  (err: unknown) => {
    const e = err as Error & { code?: string; field?: string };
    post({ type: 'error', message: e.message, code: e.code ?? 'learn.trainFailed', field: e.field });
  },
);
