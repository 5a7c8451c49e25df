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
