/**
 * Worker-thread entry of vision training: receives a VisionTrainJob, trains, writes the model and its card
 * (each written to a temporary file and renamed, so a reader never sees half a model), posts progress and
 * the result. Started by `startVisionTraining` (train-job.ts); never imported by the main thread.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { train } from './model';
import type { VisionTrainJob, VisionWorkerReply } from './train-job';

function post(m: VisionWorkerReply): void {
  parentPort?.postMessage(m);
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

const job = workerData as VisionTrainJob;
train(job.images, {
  ...job.options,
  onProgress: (fraction, text) => post({ type: 'progress', fraction, text }),
}).then(
  (r) => {
    try {
      mkdirSync(job.dir, { recursive: true });
      const model = join(job.dir, `${job.name}.onnx`);
      const cardFile = join(job.dir, `${job.name}.json`);
      writeAtomic(model, r.onnx);
      writeAtomic(cardFile, JSON.stringify(r.card, null, 2));
      post({ type: 'done', model, cardFile, card: r.card });
    } catch (err) {
      post({ type: 'error', message: (err as Error).message, code: 'vision.writeFailed' });
    }
  },
  (err: unknown) => {
    const e = err as Error & { code?: string; field?: string };
    post({ type: 'error', message: e.message, code: e.code ?? 'vision.trainFailed', field: e.field });
  },
);
