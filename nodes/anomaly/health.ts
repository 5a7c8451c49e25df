/**
 * Health index and the time until it reaches the alarm level, from a stream of anomaly scores.
 *
 * The health index is the moving mean of the score over `smoothing` points divided by its alarm threshold
 * (the smoothed threshold calibrated on training data): below 1 healthy, 1 the alarm level. It has no upper
 * bound (a failing machine reaches thousands), so `healthIndexLog` = log2(1 + index) gives a scale for
 * charts: 0 at 0, still 1 at the alarm level, about 10 at a thousand.
 *
 * The time to alarm fits an exponential degradation, ln(index) = a + b·t, by least squares over the last
 * `window` points, and extrapolates to index 1; the interval uses the slope ± 2 standard errors. No trend
 * (slope not above 2 standard errors) gives no estimate. It is the time until the alarm level, not until a
 * failure.
 *
 * The failure level is an index (`failureIndex`, in alarm levels, default DEFAULT_FAILURE_INDEX) at which the
 * machine is taken as failed: set it from run-to-failure history of the machine and model (the default is the
 * order the simulator's bearing reaches with the demo's PCA model). Two things use it:
 *  - `healthPercent`, a readable scale for people: 100 · (1 − ln(1 + index) / ln(1 + failureIndex)), clamped
 *    to 0..100. Bounded and monotone (falls as the index grows), logarithmic, so an early defect already shows
 *    (the alarm level reads about 94 % with the default) and a severe one reads a few percent, not 44,982.
 *  - `failure`, the predicted time until the index reaches the failure level, with an interval (see
 *    predictFailure), fitted over the points since the index reached the alarm level (at most
 *    `failureWindow`, at least `minPoints`): absent before that and while there is no upward trend.
 */
import { TaktError } from '../core/errors';

export interface HealthOptions {
  smoothing: number;
  smoothedThreshold: number;
  /** Points used for the degradation fit (default 120), at least `minPoints` (default 20) before any estimate. */
  window?: number;
  minPoints?: number;
  /** Index (in alarm levels) taken as failure; default DEFAULT_FAILURE_INDEX. */
  failureIndex?: number;
  /** Points at or above the alarm level used for the failure fit (default `window`). */
  failureWindow?: number;
}

/** The default failure level, in alarm levels (see the module comment: set it from run-to-failure history). */
export const DEFAULT_FAILURE_INDEX = 1e5;

/** The predicted failure: when the health index reaches the failure level, in minutes from the last point. */
export interface FailurePrediction {
  /** Point estimate, and the interval around it (minutes of the clock the timestamps are in). */
  expectedInMin: number;
  lowerMin: number;
  upperMin: number;
  /** Nominal coverage of [lowerMin, upperMin]. */
  confidence: number;
  /** Growth of √index per hour (the fitted slope). */
  ratePerHour: number;
  /** The failure level the prediction is for (alarm levels). */
  failureIndex: number;
}

export interface TimeToAlarm {
  /** Time until the health index reaches the alarm level 1 (ms), and its interval. */
  ms: number;
  lowerMs: number;
  upperMs: number;
  /** Degradation rate: growth of the index per hour (exponential rate). */
  ratePerHour: number;
}

/** @deprecated the old name of TimeToAlarm (it never was a remaining useful life); goes in the next release. */
export type Rul = TimeToAlarm;

export interface HealthState {
  smoothed: number;
  /** Smoothed score over the smoothed threshold (1 = alarm level); unbounded above. */
  healthIndex: number;
  /** log2(1 + healthIndex): the same order, 1 at the alarm level, readable on a chart during a fault. */
  healthIndexLog: number;
  /** Readable health, 100 (no anomaly) to 0 (at the failure level), logarithmic in the index. */
  healthPercent: number;
  alarm: boolean;
  /** Predicted time until the failure level; absent before the alarm level and without an upward trend. */
  failure?: FailurePrediction;
  /** Time until the index reaches the alarm level (0 once it has); absent without a rising trend. */
  timeToAlarm?: TimeToAlarm;
  /** @deprecated the same object as `timeToAlarm`, under its old name; goes in the next release. */
  rul?: TimeToAlarm;
}

export class HealthTracker {
  readonly smoothing: number;
  readonly threshold: number;
  readonly window: number;
  readonly minPoints: number;
  readonly failureIndex: number;
  readonly failureWindow: number;
  private fhist: { t: number; y: number }[] = [];
  private recent: number[] = [];
  private sum = 0;
  private hist: { t: number; y: number }[] = [];

  constructor(o: HealthOptions) {
    if (!(Number.isInteger(o.smoothing) && o.smoothing >= 1))
      throw new TaktError('anomaly.badOption', 'smoothing: must be an integer >= 1', 'smoothing');
    if (!(o.smoothedThreshold > 0))
      throw new TaktError('anomaly.badOption', 'smoothedThreshold: must be positive', 'smoothedThreshold');
    this.smoothing = o.smoothing;
    this.threshold = o.smoothedThreshold;
    this.window = o.window ?? 120;
    this.minPoints = o.minPoints ?? 20;
    const f = o.failureIndex ?? DEFAULT_FAILURE_INDEX;
    if (!(f > 1))
      throw new TaktError(
        'anomaly.badOption',
        'failureIndex: must be above the alarm level 1',
        'failureIndex',
      );
    this.failureIndex = f;
    this.failureWindow = o.failureWindow ?? this.window;
  }

  reset(): void {
    this.recent = [];
    this.sum = 0;
    this.hist = [];
    this.fhist = [];
  }

  push(score: number, ts: number): HealthState {
    this.recent.push(score);
    this.sum += score;
    if (this.recent.length > this.smoothing) this.sum -= this.recent.shift() as number;
    const smoothed = this.sum / this.recent.length;
    const healthIndex = smoothed / this.threshold;
    this.hist.push({ t: ts, y: Math.log(Math.max(healthIndex, 1e-9)) });
    if (this.hist.length > this.window) this.hist.shift();
    const out: HealthState = {
      smoothed,
      healthIndex,
      healthIndexLog: Math.log2(1 + Math.max(0, healthIndex)),
      healthPercent: healthPercent(healthIndex, this.failureIndex),
      alarm: healthIndex >= 1,
    };
    // The degradation phase: points at or above the alarm level; falling back under it (a repair) ends it.
    if (out.alarm) {
      this.fhist.push({ t: ts, y: Math.sqrt(healthIndex) });
      if (this.fhist.length > this.failureWindow) this.fhist.shift();
      const f =
        this.fhist.length >= this.minPoints ? predictFailure(this.fhist, ts, this.failureIndex) : undefined;
      if (f) out.failure = f;
    } else this.fhist = [];
    const tta = out.alarm ? { ms: 0, lowerMs: 0, upperMs: 0, ratePerHour: 0 } : this.fit(ts);
    if (tta) {
      out.timeToAlarm = tta;
      out.rul = tta;
    }
    return out;
  }

  private fit(now: number): TimeToAlarm | undefined {
    const h = this.hist;
    const n = h.length;
    if (n < this.minPoints) return undefined;
    const H = 3600000;
    let mt = 0;
    let my = 0;
    for (const p of h) {
      mt += (p.t - now) / H / n;
      my += p.y / n;
    }
    let stt = 0;
    let sty = 0;
    for (const p of h) {
      const dt = (p.t - now) / H - mt;
      stt += dt * dt;
      sty += dt * (p.y - my);
    }
    if (!(stt > 0)) return undefined;
    const b = sty / stt;
    const a = my - b * mt;
    let sse = 0;
    for (const p of h) sse += (p.y - (a + b * ((p.t - now) / H))) ** 2;
    const se = Math.sqrt(sse / Math.max(1, n - 2) / stt);
    if (!(b > 2 * se) || !(b > 0)) return undefined;
    // ln index now (fitted) is a; reaching ln 1 = 0 takes -a / rate hours.
    const at = (rate: number) => (rate > 0 ? (Math.max(0, -a) / rate) * H : Infinity);
    return { ms: at(b), lowerMs: at(b + 2 * se), upperMs: at(b - 2 * se), ratePerHour: b };
  }
}

/** 100 · (1 − ln(1 + index) / ln(1 + failureIndex)), clamped to 0..100 (see the module comment). */
export function healthPercent(index: number, failureIndex = DEFAULT_FAILURE_INDEX): number {
  const x = Math.max(0, Number.isFinite(index) ? index : Infinity);
  return 100 * Math.min(1, Math.max(0, 1 - Math.log1p(x) / Math.log1p(failureIndex)));
}

const Z90 = 1.6449; // two-sided 90 %

/**
 * When the health index reaches `failureIndex`, from the points of the degradation phase { t: epoch ms,
 * y: √index }, counted from `now` (minutes of the timestamps' clock).
 *
 * Model: √index grows linearly in time. The anomaly scores are squared distances (PCA residual, Mahalanobis,
 * squared reconstruction error), so √index is proportional to the size of the deviation, and a defect that grows
 * at a steady rate makes it a line. (A log-linear, exponential model was tried first and is early by a factor of
 * 2-5 on the simulator's bearing, whose index is polynomial in time.)
 * Fit: a Theil–Sen line y = a + b·(t − now) (slope: the median of the pairwise slopes; intercept: the median
 * of y − b·(t − now)), robust to the spikes a vibration index has. Its residual scale s is 1.4826 · their median
 * absolute deviation. The noise of a vibration index is about proportional to its level, so the spread of a
 * reading at the failure level is sF = s · max(1, √F / a). The 90 % interval (z = 1.645) combines that spread
 * and the slope's (se_b = s / √Σ(t − t̄)²): lower = (√F − a − z·sF) / (b + z·se_b), upper = (√F − a + z·sF) /
 * (b − z·se_b), each at least 0. It does not cover a wrong failure level, nor a trend that bends. No prediction without an upward trend
 * (b − z·se_b ≤ 0 would leave the upper end unbounded) or with fewer than 3 points.
 */
export function predictFailure(
  pts: readonly { t: number; y: number }[],
  now: number,
  failureIndex: number,
): FailurePrediction | undefined {
  const n = pts.length;
  if (n < 3) return undefined;
  const H = 3600000;
  const x = pts.map((p) => (p.t - now) / H);
  const slopes: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) if (x[j] !== x[i]) slopes.push((pts[j].y - pts[i].y) / (x[j] - x[i]));
  if (slopes.length === 0) return undefined;
  const b = median(slopes);
  const a = median(pts.map((p, i) => p.y - b * x[i]));
  const s = 1.4826 * median(pts.map((p, i) => Math.abs(p.y - a - b * x[i])));
  const mx = x.reduce((u, v) => u + v, 0) / n;
  const sxx = x.reduce((u, v) => u + (v - mx) ** 2, 0);
  const z = Z90;
  const seB = sxx > 0 ? s / Math.sqrt(sxx) : Infinity;
  if (!(b - z * seB > 0)) return undefined;
  const yF = Math.sqrt(failureIndex);
  // The spread of a reading grows with its level: scaled from now to the failure level.
  const sF = s * Math.max(1, yF / a);
  const hours = (level: number, rate: number) => Math.max(0, (yF - level) / rate);
  return {
    expectedInMin: hours(a, b) * 60,
    lowerMin: hours(a + z * sF, b + z * seB) * 60,
    upperMin: hours(a - z * sF, b - z * seB) * 60,
    confidence: 0.9,
    ratePerHour: b,
    failureIndex,
  };
}

function median(v: number[]): number {
  // A typed array sorts numerically without a comparator call per comparison: with the pairwise slopes of a
  // full failure window (7,140 of them) this runs on every score of a machine in alarm.
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
