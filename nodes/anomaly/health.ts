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
 * failure: nothing here knows at what index a machine fails.
 */
import { TaktError } from '../core/errors';

export interface HealthOptions {
  smoothing: number;
  smoothedThreshold: number;
  /** Points used for the degradation fit (default 120), at least `minPoints` (default 20) before any estimate. */
  window?: number;
  minPoints?: number;
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
  alarm: boolean;
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
  }

  reset(): void {
    this.recent = [];
    this.sum = 0;
    this.hist = [];
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
      alarm: healthIndex >= 1,
    };
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
