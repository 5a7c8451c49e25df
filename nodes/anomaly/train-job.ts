/**
 * Training off the event loop: `startTraining` runs worker.js (compiled next to this file) in a worker thread,
 * reports progress, and resolves with the written model and card. `cancel()` terminates the worker.
 */
import { join } from 'node:path';
import { type WorkerReply as JobReply, startWorkerJob } from '../core/jobs';
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

export type WorkerReply = JobReply<TrainResult>;

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
  return startWorkerJob<TrainResult>(join(__dirname, 'worker.js'), job, 'anomaly', onProgress);
}
