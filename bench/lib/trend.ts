/**
 * A straight-line trend by least squares, with what tells a trend from noise: the standard error of the
 * slope and the residual standard deviation. Used by the soak bench for memory growth per hour.
 */

export interface Trend {
  /** Points used. */
  n: number;
  /** Change of y per unit of x. */
  slope: number;
  intercept: number;
  /** Standard error of the slope (0 with fewer than 3 points). */
  slopeSe: number;
  /** Standard deviation of the residuals around the line (n - 2 degrees of freedom). */
  residualSd: number;
}

export function linearTrend(xs: readonly number[], ys: readonly number[]): Trend {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { n: 0, slope: 0, intercept: 0, slopeSe: 0, residualSd: 0 };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] / n;
    my += ys[i] / n;
  }
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - intercept - slope * xs[i]) ** 2;
  const residualSd = n > 2 ? Math.sqrt(sse / (n - 2)) : 0;
  const slopeSe = n > 2 && sxx > 0 ? residualSd / Math.sqrt(sxx) : 0;
  return { n, slope, intercept, slopeSe, residualSd };
}

/** A curve that levels off: y = asymptote − b·exp(−x/τ). */
export interface Saturation {
  /** Time constant, in units of x (the largest tried when the data show no levelling off). */
  tau: number;
  asymptote: number;
  /** asymptote − the fitted y at the last x: what is left to grow. */
  left: number;
  residualSd: number;
  /** τ reached the largest tried: the data are a straight line as far as the fit can tell. */
  unbounded: boolean;
}

/**
 * Least-squares fit of y = a + b·exp(−x/τ) (a JIT warm-up or a cache filling up levels off; a leak does not):
 * for each τ on a geometric grid from `minTau` to `maxTau` the best a and b are a straight-line fit of y on
 * exp(−x/τ); the τ with the least squared error is kept. xs in increasing order.
 */
export function saturatingFit(
  xs: readonly number[],
  ys: readonly number[],
  minTau: number,
  maxTau: number,
): Saturation {
  let best: { tau: number; t: Trend; sse: number } | undefined;
  if (!(minTau > 0) || !(maxTau >= minTau)) throw new RangeError('saturatingFit: needs 0 < minTau <= maxTau');
  for (let tau = minTau; tau <= maxTau * (1 + 1e-9); tau *= 1.02) {
    const e = xs.map((x) => Math.exp(-x / tau));
    const t = linearTrend(e, ys);
    const sse = t.residualSd ** 2 * Math.max(1, t.n - 2);
    if (!best || sse < best.sse) best = { tau, t, sse };
  }
  if (!best || best.t.n < 4) return { tau: NaN, asymptote: NaN, left: NaN, residualSd: NaN, unbounded: true };
  const { tau, t } = best;
  const last = xs[xs.length - 1];
  return {
    tau,
    asymptote: t.intercept,
    left: -t.slope * Math.exp(-last / tau),
    residualSd: Math.sqrt(best.sse / Math.max(1, t.n - 3)),
    unbounded: tau * 1.02 > maxTau,
  };
}
