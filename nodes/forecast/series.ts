/**
 * Series checks and the small statistics every method shares: input validation (gaps, NaN,
 * negative demand), the 90% autocorrelation seasonality test used by Hyndman's thetaf, classical
 * multiplicative decomposition, and linear regression on time.
 */
import { TaktError } from '../core/errors';

/** What to do with missing (null/NaN) values: reject the series, or fill them. */
export type GapPolicy = 'error' | 'interpolate' | 'zero' | 'previous';

export interface CleanResult {
  values: number[];
  /** Indices that were missing and filled. */
  filled: number[];
}

/** Checks a series and fills gaps as asked. Negative values are refused unless `allowNegative`. */
export function cleanSeries(
  series: readonly unknown[],
  opts: { gaps?: GapPolicy; allowNegative?: boolean; field?: string } = {},
): CleanResult {
  const field = opts.field ?? 'series';
  if (!Array.isArray(series))
    throw new TaktError('forecast.badSeries', `${field}: must be an array of numbers`, field);
  const gaps = opts.gaps ?? 'error';
  const out: (number | undefined)[] = [];
  const filled: number[] = [];
  series.forEach((v, i) => {
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) {
      if (gaps === 'error')
        throw new TaktError('forecast.gap', `${field}[${i}]: missing value (set gaps to fill it)`, field);
      filled.push(i);
      out.push(undefined);
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TaktError('forecast.badValue', `${field}[${i}]: ${String(v)} is not a finite number`, field);
    if (v < 0 && !opts.allowNegative)
      throw new TaktError('forecast.negative', `${field}[${i}]: negative demand ${v}`, field);
    out.push(v);
  });
  if (filled.length === out.length) throw new TaktError('forecast.empty', `${field}: no values`, field);
  const values = new Array<number>(out.length);
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v !== undefined) {
      values[i] = v;
      continue;
    }
    if (gaps === 'zero') values[i] = 0;
    else {
      let p = i - 1;
      while (p >= 0 && out[p] === undefined) p--;
      let q = i + 1;
      while (q < out.length && out[q] === undefined) q++;
      const pv = p >= 0 ? values[p] : undefined;
      const qv = q < out.length ? (out[q] as number) : undefined;
      if (gaps === 'previous' || qv === undefined) values[i] = pv ?? (qv as number);
      else if (pv === undefined) values[i] = qv;
      else values[i] = pv + ((qv - pv) * (i - p)) / (q - p);
    }
  }
  return { values, filled };
}

export function mean(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** Sample autocorrelations r_1..r_maxLag (the usual biased estimator, as R's acf). */
export function acf(x: readonly number[], maxLag: number): number[] {
  const n = x.length;
  const mu = mean(x);
  let d = 0;
  for (const v of x) d += (v - mu) ** 2;
  const r: number[] = [];
  for (let k = 1; k <= maxLag; k++) {
    let s = 0;
    for (let t = k; t < n; t++) s += (x[t] - mu) * (x[t - k] - mu);
    r.push(d > 0 ? s / d : 0);
  }
  return r;
}

/**
 * The seasonality test of Hyndman's thetaf (and of the M4 benchmarks): the lag-m autocorrelation
 * against its standard error under Bartlett's formula, at the 90% level (one-sided z = 1.645).
 */
export function isSeasonal(x: readonly number[], m: number): boolean {
  if (m <= 1 || x.length < 3 * m) return false;
  const r = acf(x, m);
  let s = 1;
  for (let i = 0; i < m - 1; i++) s += 2 * r[i] * r[i];
  const limit = 1.6448536269514722 * Math.sqrt(s / x.length);
  return Math.abs(r[m - 1]) > limit;
}

/**
 * Classical multiplicative decomposition: centred moving average of order m (2×m when m is even),
 * the ratios to it averaged per season and normalised to mean 1. Returns m indices where index k
 * belongs to observations t with t mod m = k.
 */
export function seasonalIndices(x: readonly number[], m: number, multiplicative = true): number[] {
  const n = x.length;
  const half = Math.floor(m / 2);
  const sums = new Array<number>(m).fill(0);
  const counts = new Array<number>(m).fill(0);
  for (let t = half; t < n - half; t++) {
    let trend: number;
    if (m % 2 === 0) {
      let s = 0.5 * (x[t - half] + x[t + half]);
      for (let j = t - half + 1; j < t + half; j++) s += x[j];
      trend = s / m;
    } else {
      let s = 0;
      for (let j = t - half; j <= t + half; j++) s += x[j];
      trend = s / m;
    }
    if (t + half >= n) break;
    sums[t % m] += multiplicative ? x[t] / trend : x[t] - trend;
    counts[t % m]++;
  }
  const idx = sums.map((s, k) => (counts[k] ? s / counts[k] : multiplicative ? 1 : 0));
  const mu = mean(idx);
  return idx.map((v) => (multiplicative ? v / mu : v - mu));
}

/** Least-squares line y = a + b·t for t = 0..n-1. */
export function linearTrend(x: readonly number[]): { intercept: number; slope: number } {
  const n = x.length;
  if (n < 2) return { intercept: x[0] ?? 0, slope: 0 };
  const tm = (n - 1) / 2;
  const ym = mean(x);
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < n; t++) {
    sxy += (t - tm) * (x[t] - ym);
    sxx += (t - tm) ** 2;
  }
  const slope = sxy / sxx;
  return { intercept: ym - slope * tm, slope };
}

/** "12" or "96, 672" -> number or number[]. */
export function parseFrequency(v: unknown): number | number[] {
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(Number);
  const parts = String(v ?? '1')
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);
  return parts.length === 1 ? parts[0] : parts;
}
