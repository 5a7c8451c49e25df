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

/** Levels that follow slow changes of the sensors while no alarm is raised (TrainOptions.follow). */
export interface FollowSpec {
  /** Time constant of the levels, in rows. */
  rows: number;
  /** The features that follow (names and column indices) and their training means, where their levels start. */
  features: string[];
  index: number[];
  mean: number[];
  /** Health index: moving mean of this many scores, compared with this threshold. */
  smoothing: number;
  threshold: number;
  /**
   * The levels move only while the health index is at or under gate·threshold (default 1: under the threshold),
   * so that a fault building up under the alarm line is not learnt before it raises the alarm.
   */
  gate?: number;
  /**
   * After the health index was over the gate, the levels stay still until it has been at or under the gate for
   * this many rows (default 0), so that an alarm that dips under its line for a moment is not learnt in the dip.
   */
  hold?: number;
  /**
   * After an alarm (health index over the threshold), the levels wait until the index is at or under
   * resume·threshold (default 1), for `hold` rows, so that a fault whose index hovers about its line is not learnt.
   */
  resume?: number;
}

/**
 * Follows slow normal changes without learning faults: each row's followed features are shifted by (training
 * mean − level) before scoring, and after scoring the levels move 1/rows of the way towards the row only while
 * the health index (moving mean of the scores since the follower started) is at or under the gate (a fraction
 * `gate` of the threshold, default 1) and has been for `hold` rows (default 0). A slow drift is followed, a fault
 * stands still in its alarm (with a hold, also where the alarm dips under its line for less than the hold; with
 * `resume` under 1, until the index has fallen under that fraction of the threshold), and with a gate under 1
 * also while it builds up towards the alarm. Starts after the last training row.
 */
export class LevelFollower {
  readonly spec: FollowSpec;
  level: number[] = [];
  private recent: number[] = [];
  private sum = 0;
  /** Rows in a row with the health index at or under the gate (or, after an alarm, the resume level). */
  private quiet = 0;
  /** Set by an alarm, cleared when the levels move again. */
  private alarmed = false;

  constructor(spec: FollowSpec) {
    this.spec = spec;
    this.reset();
  }

  reset(): void {
    this.level = [...this.spec.mean];
    this.recent = [];
    this.sum = 0;
    this.quiet = this.spec.hold ?? 0;
    this.alarmed = false;
  }

  /** Writes row `i` of X (d columns), shifted, into `out` at row `o`; a skipped (imputed) value goes to the mean. */
  shift(
    X: ArrayLike<number>,
    i: number,
    d: number,
    out: { [k: number]: number },
    o: number,
    skip?: (k: number) => boolean,
  ): void {
    const { index, mean } = this.spec;
    for (let k = 0; k < index.length; k++) {
      const j = index[k];
      out[o * d + j] = skip?.(k) ? mean[k] : X[i * d + j] - this.level[k] + mean[k];
    }
  }

  /** Records row `i`'s score and moves the levels when the health index allows; returns the health index. */
  update(X: ArrayLike<number>, i: number, d: number, score: number, skip?: (k: number) => boolean): number {
    const { index, rows, smoothing, threshold, gate = 1, hold = 0, resume = 1 } = this.spec;
    this.recent.push(score);
    this.sum += score;
    if (this.recent.length > smoothing) this.sum -= this.recent.shift() ?? 0;
    const h = this.sum / this.recent.length;
    if (h > threshold) this.alarmed = true;
    const under = h <= gate * threshold && (!this.alarmed || h <= resume * threshold);
    this.quiet = under ? this.quiet + 1 : 0;
    if (this.quiet > hold) {
      this.alarmed = false;
      for (let k = 0; k < index.length; k++)
        if (!skip?.(k)) this.level[k] += (X[i * d + index[k]] - this.level[k]) / rows;
    }
    return h;
  }
}
