/**
 * Vibration features off the event loop: a block of windows big enough to hold the runtime's event loop
 * (an FFT, the envelope and its spectrum per window) is computed by the same `features` in a worker thread
 * kept between calls (core/jobs.ts `KeptWorker`, script worker.ts), so the results are the same numbers as
 * in the runtime's thread. No Node-RED import.
 */
import { join } from 'node:path';
import { KeptWorker } from '../core/jobs';
import { checkSamples, type FeatureOptions, type VibrationFeatures } from './features';

/** The compiled worker script, next to this file. */
export const WORKER_FILE = join(__dirname, 'worker.js');

/**
 * A message whose windows hold at least this many samples in all goes to the worker thread (takt-vibration's
 * *Worker from*; one 2,048-sample window with the envelope takes about 0.5-1 ms of the loop, the copy to the
 * worker a few µs).
 */
export const WORKER_MIN_SAMPLES = 1024;

/** One call to the worker: the windows of one message and their options. */
export interface FeatureCall {
  windows: Float64Array[];
  options: FeatureOptions;
}

export type FeatureWorker = KeptWorker<FeatureCall, VibrationFeatures[]>;

/** The process's feature worker, shared by every takt-vibration node; `release` when the node closes. */
export function acquireFeatureWorker(): { worker: FeatureWorker; release: () => Promise<void> } {
  return KeptWorker.acquire<FeatureCall, VibrationFeatures[]>(WORKER_FILE, 'vibration');
}

/**
 * `features` of each window, computed in the worker. The samples are checked here first (as `features`
 * checks them), since the copy into a Float64Array would turn text or null into numbers.
 */
export async function featuresInWorker(
  worker: FeatureWorker,
  windows: readonly ArrayLike<number>[],
  options: FeatureOptions,
): Promise<VibrationFeatures[]> {
  for (const w of windows) checkSamples(w);
  const copies = windows.map((w) => Float64Array.from(w));
  return worker.call(
    { windows: copies, options },
    copies.map((c) => c.buffer),
  );
}
