/**
 * Training off the event loop for takt-predict-train: `startFit` runs worker.js (compiled next to this file)
 * in a worker thread, which fits the model and writes <dir>/<name>.onnx and <name>.json (the card).
 * `cancel()` terminates the worker. No Node-RED import.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorkerJob, type WorkerReply } from '../core/jobs';
import type { FitSplit, LearnCard, Task } from './model';

export interface FitJob {
  X: number[][];
  y: number[];
  features: string[];
  task: Task;
  timeLimitMs?: number;
  coverage?: number;
  /** Folder and base name of the written files. */
  dir: string;
  name: string;
}

export type FitReply = WorkerReply<FitResult>;

export interface FitResult {
  model: string;
  cardFile: string;
  card: LearnCard;
  /** The rows trained on and held out, with the held-out errors (model.ts FitSplit). */
  split: FitSplit;
}

/** Writes the model and its card beside it; returns both paths. */
export function saveFitted(
  onnx: Uint8Array,
  card: LearnCard,
  split: FitSplit,
  dir: string,
  name: string,
): FitResult {
  mkdirSync(dir, { recursive: true });
  const model = join(dir, `${name}.onnx`);
  const cardFile = join(dir, `${name}.json`);
  writeFileSync(model, onnx);
  writeFileSync(cardFile, JSON.stringify(card, null, 2));
  return { model, cardFile, card, split };
}

export function startFit(job: FitJob): { promise: Promise<FitResult>; cancel(): void } {
  return startWorkerJob<FitResult>(join(__dirname, 'worker.js'), job, 'learn');
}
