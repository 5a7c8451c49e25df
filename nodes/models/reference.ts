/**
 * Drift references: a seeded, bounded sample of training rows (at most 1000) kept column by column, with the
 * model's scores of the same rows, so live feature and score distributions can be compared with training.
 */
import { TaktError } from '../core/errors';
import { Rng } from '../core/random';
import type { OnnxAnomalyModel } from '../anomaly/scorer';
import type { ReferenceSample } from './types';

export const REFERENCE_MAX = 1000;

/** Up to `max` row indices out of `n`, chosen uniformly without replacement (seeded), ascending. */
export function sampleIndices(n: number, max = REFERENCE_MAX, seed = 1): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (n <= max) return idx;
  const rng = new Rng(seed, 7);
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, max).sort((a, b) => a - b);
}

/** Checks rows as arrays of finite numbers in feature order. */
export function checkRows(rows: readonly number[][], features: readonly string[], field = 'rows'): void {
  const d = features.length;
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== d)
      throw new TaktError(
        'models.badRows',
        `${field}[${i}]: expected ${d} numbers (${features.join(', ')})`,
        field,
      );
    for (const v of r)
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new TaktError('models.badRows', `${field}[${i}]: ${String(v)} is not a finite number`, field);
  });
}

/** The reference of a model: sampled rows by column, scored by `model` when given. */
export async function buildReference(
  rows: readonly number[][],
  features: readonly string[],
  model?: OnnxAnomalyModel,
): Promise<ReferenceSample> {
  checkRows(rows, features, 'reference');
  const pick = sampleIndices(rows.length);
  const d = features.length;
  const columns = features.map((_, j) => pick.map((i) => rows[i][j]));
  const ref: ReferenceSample = { features: [...features], columns };
  if (model && pick.length) {
    const X = new Float32Array(pick.length * d);
    pick.forEach((i, k) => rows[i].forEach((v, j) => (X[k * d + j] = v)));
    const { score } = await model.scoreRows(X, pick.length);
    ref.score = Array.from(score);
  }
  return ref;
}
