/**
 * What the retrains of every model kind share (lifecycle.ts for anomaly models, quality.ts for quality
 * models): the split of recent rows into a training part and the latest rows held out, and a training job in a
 * worker that can be cancelled before or while it runs, whose staged files are removed afterwards.
 * No Node-RED import.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TaktError } from '../core/errors';
import type { ModelRegistry } from './registry';
import type { ChampionPointer, VersionCard } from './types';

/**
 * How many of `rows` recent rows (time order) a retrain trains on: all but the latest `holdoutShare` (default
 * 0.2), and at least `minHoldout` held out; `models.tooFewRows` below `minRows` (default 50).
 */
export function trainingCount(
  rows: number,
  o: { minRows?: number; holdoutShare?: number; minHoldout: number; what: string },
): number {
  const minRows = o.minRows ?? 50;
  if (rows < minRows)
    throw new TaktError(
      'models.tooFewRows',
      `rows: ${rows} recorded ${o.what} rows, a retrain needs at least ${minRows}`,
      'rows',
    );
  const share = o.holdoutShare ?? 0.2;
  if (!(share > 0 && share < 0.9))
    throw new TaktError('models.badOption', 'holdoutShare: must be between 0 and 0.9', 'holdoutShare');
  return rows - Math.max(o.minHoldout, Math.floor(rows * share));
}

/** A job a retrain starts in a worker: the files it writes (model and card) and how to stop it. */
export interface StagedJob<R extends { model: string; cardFile: string }> {
  promise: Promise<R>;
  cancel(): void;
}

/**
 * Runs a retrain from the registry's champion (`models.noChampion` when there is none): `prepare(champion,
 * card)` checks the request against the champion's card, then `start(dir, name)` starts the training job (in
 * the registry's staging folder, named after the next version) and `finish(trained, version)` evaluates and
 * registers its result; the staged files are removed either way. `cancel()` stops it before the job starts
 * or while it runs.
 */
export function stagedRetrain<R extends { model: string; cardFile: string }, T>(
  registry: ModelRegistry,
  prepare: (
    champion: ChampionPointer,
    card: VersionCard,
  ) => {
    start(dir: string, name: string): StagedJob<R>;
    finish(trained: R, version: number): Promise<T>;
  },
): { promise: Promise<T>; cancel(): void } {
  let cancelled = false;
  let stop = (): void => undefined;
  const promise = (async (): Promise<T> => {
    const cur = registry.champion();
    if (!cur)
      throw new TaktError('models.noChampion', `${registry.name}: no champion to retrain from`, 'version');
    const steps = prepare(cur, registry.card(cur.version));
    const version = (registry.versions().at(-1) ?? 0) + 1;
    if (cancelled) throw new TaktError('models.cancelled', 'retrain: cancelled', 'retrain');
    const job = steps.start(join(registry.dir, '.staging'), `v${version}-${Date.now()}`);
    stop = job.cancel;
    const trained = await job.promise;
    try {
      return await steps.finish(trained, version);
    } finally {
      rmSync(trained.model, { force: true });
      rmSync(trained.cardFile, { force: true });
    }
  })();
  return {
    promise,
    cancel: () => {
      cancelled = true;
      stop();
    },
  };
}
