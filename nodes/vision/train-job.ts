/**
 * Vision training off the event loop: `startVisionTraining` runs train-worker.js (compiled next to this
 * file) in a worker thread, reports progress and resolves with the written model, its card file and the
 * card. `cancel()` terminates the worker.
 */
import { join } from 'node:path';
import { startWorkerJob, type WorkerReply } from '../core/jobs';
import type { TrainOptions, VisionCard } from './model';

export interface VisionTrainJob {
  images: Uint8Array[];
  options: Omit<TrainOptions, 'onProgress'>;
  /** Folder and base name of the written files (<dir>/<name>.onnx and .json). */
  dir: string;
  name: string;
}

export type VisionWorkerReply = WorkerReply<VisionTrainResult>;

export interface VisionTrainResult {
  model: string;
  cardFile: string;
  card: VisionCard;
}

export function startVisionTraining(
  job: VisionTrainJob,
  onProgress?: (fraction: number, text: string) => void,
): { promise: Promise<VisionTrainResult>; cancel(): void } {
  return startWorkerJob<VisionTrainResult>(join(__dirname, 'train-worker.js'), job, 'vision', onProgress);
}
