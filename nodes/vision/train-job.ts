/**
 * Vision training off the event loop: `startVisionTraining` runs train-worker.js (compiled next to this
 * file) in a worker thread, reports progress and resolves with the written model, its card file and the
 * card. `cancel()` terminates the worker.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import type { TrainOptions, VisionCard } from './model';

export interface VisionTrainJob {
  images: Uint8Array[];
  options: Omit<TrainOptions, 'onProgress'>;
  /** Folder and base name of the written files (<dir>/<name>.onnx and .json). */
  dir: string;
  name: string;
}

export type VisionWorkerReply =
  | { type: 'progress'; fraction: number; text: string }
  | { type: 'done'; model: string; cardFile: string; card: VisionCard }
  | { type: 'error'; message: string; code: string; field?: string };

export interface VisionTrainResult {
  model: string;
  cardFile: string;
  card: VisionCard;
}

export function startVisionTraining(
  job: VisionTrainJob,
  onProgress?: (fraction: number, text: string) => void,
): { promise: Promise<VisionTrainResult>; cancel(): void } {
  const worker = new Worker(join(__dirname, 'train-worker.js'), { workerData: job });
  let settled = false;
  let cancel = () => undefined as void;
  const promise = new Promise<VisionTrainResult>((resolve, reject) => {
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    cancel = () => finish(() => reject(new TaktError('vision.cancelled', 'training: cancelled', 'training')));
    worker.on('message', (m: VisionWorkerReply) => {
      if (m.type === 'progress') onProgress?.(m.fraction, m.text);
      else if (m.type === 'done')
        finish(() => resolve({ model: m.model, cardFile: m.cardFile, card: m.card }));
      else finish(() => reject(new TaktError(m.code, m.message, m.field)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() =>
        reject(new TaktError('vision.trainFailed', `training: worker exited with code ${code}`, 'training')),
      ),
    );
  });
  return { promise, cancel: () => cancel() };
}
