/**
 * Training off the event loop for takt-predict-train: `startFit` runs worker.js (compiled next to this file)
 * in a worker thread, which fits the model and writes <dir>/<name>.onnx and <name>.json (the card).
 * `cancel()` terminates the worker. No Node-RED import.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import type { LearnCard, Task } from './model';

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

export type FitReply =
  | { type: 'done'; model: string; cardFile: string; card: LearnCard }
  | { type: 'error'; message: string; code: string; field?: string };

export interface FitResult {
  model: string;
  cardFile: string;
  card: LearnCard;
}

/** Writes the model and its card beside it; returns both paths. */
export function saveFitted(onnx: Uint8Array, card: LearnCard, dir: string, name: string): FitResult {
  mkdirSync(dir, { recursive: true });
  const model = join(dir, `${name}.onnx`);
  const cardFile = join(dir, `${name}.json`);
  writeFileSync(model, onnx);
  writeFileSync(cardFile, JSON.stringify(card, null, 2));
  return { model, cardFile, card };
}

export function startFit(job: FitJob): { promise: Promise<FitResult>; cancel(): void } {
  const worker = new Worker(join(__dirname, 'worker.js'), { workerData: job });
  let settled = false;
  let cancel = (): void => undefined;
  const promise = new Promise<FitResult>((resolve, reject) => {
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    cancel = () => finish(() => reject(new TaktError('learn.cancelled', 'training: cancelled', 'training')));
    worker.on('message', (m: FitReply) => {
      if (m.type === 'done') finish(() => resolve({ model: m.model, cardFile: m.cardFile, card: m.card }));
      else finish(() => reject(new TaktError(m.code, m.message, m.field)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() =>
        reject(new TaktError('learn.trainFailed', `training: worker exited with code ${code}`, 'training')),
      ),
    );
  });
  return { promise, cancel: () => cancel() };
}
