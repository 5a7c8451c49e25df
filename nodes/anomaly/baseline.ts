/**
 * Adapting levels for drifting features. A feature that trends through the training window (a motor or fluid
 * temperature warming up) would leave the window's range later in normal running, so its absolute level cannot
 * be trusted. Instead the model sees its deviation from a slowly adapting level, an exponentially weighted mean
 * with time constant 1/alpha rows: r_t = x_t − L_(t−1), then L_t = L_(t−1) + alpha·(x_t − L_(t−1)). A drift at
 * the pace seen in training leaves r at the lag it had in training; a step (a fault) shows in full at once and
 * fades over a few time constants. The state runs in time order: over the training rows from `start` (the median
 * of the first block), then on line from `level` (where training ended). No Node-RED import.
 */

export interface BaselineSpec {
  /** The features scored against their adapting level (names and column indices). */
  features: string[];
  index: number[];
  /** Weight of a new row in the level: 1 / time constant in rows. */
  alpha: number;
  /** Levels before the first training row, and after the last one (where scoring on line starts). */
  start: number[];
  level: number[];
}

/**
 * Replaces, in place, each listed column of X (n×d, row-major, rows in time order) by its deviation from the
 * adapting level, and advances `level` (one entry per listed feature). A row flagged in `skip` (e.g. an
 * imputed value) scores as on the level and leaves it unchanged.
 */
export function applyBaseline(
  spec: Pick<BaselineSpec, 'index' | 'alpha'>,
  X: { [i: number]: number; length: number },
  n: number,
  d: number,
  level: number[] | Float64Array,
  skip?: (row: number, k: number) => boolean,
): void {
  const { index, alpha } = spec;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < index.length; k++) {
      const at = i * d + index[k];
      if (skip?.(i, k)) {
        X[at] = 0;
        continue;
      }
      const x = X[at];
      const r = x - level[k];
      level[k] += alpha * r;
      X[at] = r;
    }
}
