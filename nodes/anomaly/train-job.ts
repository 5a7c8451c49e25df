/**
 * Training off the event loop: `startTraining` runs worker.js (compiled next to this file) in a worker thread,
 * reports progress, and resolves with the written model and card. `cancel()` terminates the worker.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import type { ModelCard, TrainOptions } from './models';

export interface TrainJob {
  X: Float64Array;
  n: number;
  features: string[];
  options: Omit<TrainOptions, 'onProgress'>;
  /** Folder and base name of the written files (<dir>/<name>.onnx and .json). */
  dir: string;
  name: string;
}

export type WorkerReply =
  | { type: 'progress'; fraction: number; text: string }
  | { type: 'done'; model: string; cardFile: string; card: ModelCard }
  | { type: 'error'; message: string; code: string; field?: string };

export interface TrainResult {
  model: string;
  cardFile: string;
  card: ModelCard;
}

export interface TrainHandle {
  promise: Promise<TrainResult>;
  cancel(): void;
}

export function startTraining(
  job: TrainJob,
  onProgress?: (fraction: number, text: string) => void,
): TrainHandle {
  const worker = new Worker(join(__dirname, 'worker.js'), { workerData: job });
  let settled = false;
  let cancel = () => undefined as void;
  const promise = new Promise<TrainResult>((resolve, reject) => {
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    cancel = () =>
      finish(() => reject(new TaktError('anomaly.cancelled', 'training: cancelled', 'training')));
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') onProgress?.(m.fraction, m.text);
      else if (m.type === 'done')
        finish(() => resolve({ model: m.model, cardFile: m.cardFile, card: m.card }));
      else finish(() => reject(new TaktError(m.code, m.message, m.field)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() =>
        reject(new TaktError('anomaly.trainFailed', `training: worker exited with code ${code}`, 'training')),
      ),
    );
  });
  return { promise, cancel: () => cancel() };
}
