/**
 * The forecasting engine: `fit(series, opts)` and `backtest(series, opts)`.
 *
 * Methods: seasonal naive; ETS with AICc selection on the raw series; SES, Holt, damped trend and
 * the Theta method on the seasonally adjusted series (classical multiplicative decomposition when
 * the 90% ACF test finds seasonality, as Hyndman's thetaf does); Croston, SBA and TSB for
 * intermittent demand; a combination (plain mean of point forecasts and interval bounds).
 * `auto` uses SBA for intermittent series (ADI > 1.32, no seasonality found) and otherwise the combination of ETS, Theta
 * and damped trend (or picks by rolling-origin validation when `selection: "validation"`).
 */
import { TaktError } from '../core/errors';
import { autoEts, etsCandidates, etsForecast, etsSimulate, fitEts, type EtsModel, type EtsSpec } from './ets';
import { croston, demandClass, tsb } from './intermittent';
import { cleanSeries, isSeasonal, linearTrend, seasonalIndices, type GapPolicy } from './series';

export const METHODS = [
  'auto',
  'snaive',
  'naive',
  'ets',
  'theta',
  'ses',
  'holt',
  'damped',
  'croston',
  'sba',
  'tsb',
  'combination',
] as const;
export type Method = (typeof METHODS)[number];
type Component = Exclude<Method, 'auto' | 'combination'>;

export interface FitOptions {
  /** Seasonal period m (1 for none), or several periods for sub-daily data (e.g. [96, 672]). */
  frequency: number | number[];
  horizon: number;
  method?: Method;
  /** Methods averaged by `combination` (and by `auto` for regular demand). */
  combine?: Component[];
  /** How `auto` chooses for regular demand: the fixed combination, or rolling-origin validation. */
  selection?: 'combination' | 'validation' | 'aicc';
  gaps?: GapPolicy;
  allowNegative?: boolean;
  /** Smoothing constant for Croston/SBA/TSB (default 0.1). */
  alpha?: number;
  /** Sample paths for simulated intervals (multiplicative ETS). */
  nsim?: number;
  seed?: number;
}

export interface ForecastResult {
  method: string;
  params: Record<string, unknown>;
  forecast: number[];
  lower80: number[];
  upper80: number[];
  lower95: number[];
  upper95: number[];
  fitted: number[];
  aicc?: number;
  /** Standard deviation of the one-step in-sample errors (in the units of the series). */
  sigma: number;
  /** Indices filled because they were missing. */
  filled?: number[];
}

export const DEFAULT_COMBINATION: Component[] = ['ets', 'theta', 'damped'];
const Z80 = 1.2815515655446004;
const Z95 = 1.959963984540054;
const PROBS = [0.025, 0.1, 0.9, 0.975];

function checkOptions(n: number, opts: FitOptions): { periods: number[]; h: number } {
  const periods = Array.isArray(opts.frequency) ? opts.frequency : [opts.frequency];
  for (const p of periods)
    if (!Number.isInteger(p) || p < 1)
      throw new TaktError(
        'forecast.badFrequency',
        `frequency: ${String(p)} is not a whole number >= 1`,
        'frequency',
      );
  const h = opts.horizon;
  if (!Number.isInteger(h) || h < 1)
    throw new TaktError('forecast.badHorizon', `horizon: ${String(h)} is not a whole number >= 1`, 'horizon');
  if (opts.method !== undefined && !METHODS.includes(opts.method))
    throw new TaktError(
      'forecast.badMethod',
      `method: "${String(opts.method)}" is not one of ${METHODS.join(', ')}`,
      'method',
    );
  const m = Math.max(...periods);
  const method = opts.method ?? 'auto';
  const minN = m > 1 ? 2 * m : 3;
  if (n < minN)
    throw new TaktError(
      'forecast.tooShort',
      `series: ${n} values are too few for frequency ${m} (at least ${minN}: ${m > 1 ? 'two full seasons' : 'three values'}, method ${method})`,
      'series',
    );
  if (opts.alpha !== undefined && !(opts.alpha > 0 && opts.alpha <= 1))
    throw new TaktError('forecast.badAlpha', 'alpha: must be in (0, 1]', 'alpha');
  return { periods, h };
}

function result(
  method: string,
  params: Record<string, unknown>,
  forecast: number[],
  q: number[][],
  fitted: number[],
  sigma: number,
  aicc?: number,
): ForecastResult {
  const r: ForecastResult = {
    method,
    params,
    forecast,
    lower95: q.map((v) => v[0]),
    lower80: q.map((v) => v[1]),
    upper80: q.map((v) => v[2]),
    upper95: q.map((v) => v[3]),
    fitted,
    sigma,
  };
  if (aicc !== undefined) r.aicc = aicc;
  return r;
}

const normalQ = (f: number, sd: number) => [f - Z95 * sd, f - Z80 * sd, f + Z80 * sd, f + Z95 * sd];

function rmse(y: readonly number[], f: readonly number[]): number {
  let s = 0;
  let k = 0;
  for (let t = 0; t < y.length; t++)
    if (Number.isFinite(f[t])) {
      s += (y[t] - f[t]) ** 2;
      k++;
    }
  return k ? Math.sqrt(s / k) : 0;
}

function snaive(y: readonly number[], m: number, h: number): ForecastResult {
  const n = y.length;
  const mm = n > m ? m : 1;
  const fitted = y.map((_, t) => (t >= mm ? y[t - mm] : NaN));
  const sd = rmse(y, fitted);
  const fc: number[] = [];
  const q: number[][] = [];
  for (let k = 1; k <= h; k++) {
    const f = y[n - mm + ((k - 1) % mm)];
    fc.push(f);
    q.push(normalQ(f, sd * Math.sqrt(Math.floor((k - 1) / mm) + 1)));
  }
  return result(mm === 1 ? 'naive' : 'snaive', { m: mm }, fc, q, fitted, sd);
}

/** Seasonal adjustment by classical decomposition for each period that passes the seasonality test. */
interface Adjusted {
  adj: number[];
  factor: (t: number) => number;
  multiplicative: boolean;
  periods: number[];
}

function adjust(y: readonly number[], periods: readonly number[]): Adjusted {
  const positive = y.every((v) => v > 0);
  let adj = [...y];
  const used: { m: number; idx: number[] }[] = [];
  for (const m of [...periods].sort((a, b) => b - a)) {
    if (m > 1 && isSeasonal(adj, m)) {
      const idx = seasonalIndices(adj, m, positive);
      adj = adj.map((v, t) => (positive ? v / idx[t % m] : v - idx[t % m]));
      used.push({ m, idx });
    }
  }
  const factor = (t: number) => {
    let f = positive ? 1 : 0;
    for (const u of used) f = positive ? f * u.idx[t % u.m] : f + u.idx[t % u.m];
    return f;
  };
  return { adj, factor, multiplicative: positive, periods: used.map((u) => u.m) };
}

const reseason = (a: Adjusted, t: number, v: number) =>
  a.multiplicative ? v * a.factor(t) : v + a.factor(t);

/** SES/Holt/damped on the adjusted series, with the analytic variance of the linear models. */
function smooth(
  y: readonly number[],
  a: Adjusted,
  trend: 'N' | 'A' | 'Ad',
  h: number,
  name: string,
): ForecastResult {
  const spec: EtsSpec = { error: 'A', trend, season: 'N' };
  const model =
    fitEts(a.adj, spec, 1) ?? (fitEts(a.adj, { error: 'A', trend: 'N', season: 'N' }, 1) as EtsModel);
  const fc = etsForecast(model, h);
  const n = y.length;
  const { alpha } = model.params;
  const beta = model.params.beta ?? 0;
  const phi = model.params.phi ?? 1;
  const sd = Math.sqrt(model.sigma2);
  let acc = 1;
  let damp = 0;
  let ph = 1;
  const q: number[][] = [];
  for (let k = 1; k <= h; k++) {
    const s = sd * Math.sqrt(acc);
    const qq = normalQ(fc[k - 1], s).map((v) => reseason(a, n + k - 1, v));
    q.push(qq);
    ph *= trend === 'Ad' ? phi : 1;
    damp += ph;
    const c = alpha + (trend === 'N' ? 0 : beta * damp);
    acc += c * c;
  }
  const out = fc.map((v, k) => reseason(a, n + k, v));
  const fitted = model.fitted.map((v, t) => reseason(a, t, v));
  return result(
    name,
    { ...model.params, model: model.name, seasonal: a.periods },
    out,
    q,
    fitted,
    rmse(y, fitted),
    model.aicc,
  );
}

/** The Theta method as SES with drift (Hyndman & Billah 2003): drift = half the slope of the linear trend. */
function theta(y: readonly number[], a: Adjusted, h: number): ForecastResult {
  const model = fitEts(a.adj, { error: 'A', trend: 'N', season: 'N' }, 1) as EtsModel;
  const n = y.length;
  const alpha = model.params.alpha;
  const drift = linearTrend(a.adj).slope / 2;
  const base = etsForecast(model, h);
  const sd = Math.sqrt(model.sigma2);
  const corr = (1 - (1 - alpha) ** n) / alpha;
  const fc: number[] = [];
  const q: number[][] = [];
  for (let k = 1; k <= h; k++) {
    const f = base[k - 1] + drift * (k - 1 + corr);
    fc.push(reseason(a, n + k - 1, f));
    q.push(normalQ(f, sd * Math.sqrt(1 + (k - 1) * alpha * alpha)).map((v) => reseason(a, n + k - 1, v)));
  }
  const fitted = model.fitted.map((v, t) => reseason(a, t, v + drift * 0));
  return result(
    'theta',
    { alpha, drift, l0: model.params.l0, seasonal: a.periods },
    fc,
    q,
    fitted,
    rmse(y, fitted),
  );
}

function ets(y: readonly number[], periods: number[], h: number, opts: FitOptions): ForecastResult {
  const m = Math.max(...periods);
  if (m > 24 || periods.length > 1) {
    // long or multiple seasonality: ETS on the seasonally adjusted series
    const a = adjust(y, periods);
    const model = autoEts(a.adj, 1);
    const r = fromEts(model, h, opts);
    const n = y.length;
    return {
      ...r,
      forecast: r.forecast.map((v, k) => reseason(a, n + k, v)),
      lower95: r.lower95.map((v, k) => reseason(a, n + k, v)),
      lower80: r.lower80.map((v, k) => reseason(a, n + k, v)),
      upper80: r.upper80.map((v, k) => reseason(a, n + k, v)),
      upper95: r.upper95.map((v, k) => reseason(a, n + k, v)),
      fitted: r.fitted.map((v, t) => reseason(a, t, v)),
      params: { ...r.params, seasonal: a.periods },
    };
  }
  return fromEts(autoEts(y, m), h, opts);
}

function fromEts(model: EtsModel, h: number, opts: FitOptions): ForecastResult {
  const fc = etsForecast(model, h);
  const q = etsSimulate(model, h, PROBS, opts.nsim ?? 500, opts.seed ?? 1);
  const fitted = model.fitted;
  const sd = Math.sqrt(
    model.residuals.reduce((s, e, t) => s + (model.spec.error === 'A' ? e : e * fitted[t]) ** 2, 0) /
      fitted.length,
  );
  return result('ets', { ...model.params, model: model.name, m: model.m }, fc, q, fitted, sd, model.aicc);
}

function intermittent(
  y: readonly number[],
  method: 'croston' | 'sba' | 'tsb',
  h: number,
  alpha: number,
): ForecastResult {
  const fit = method === 'tsb' ? tsb(y, alpha, alpha) : croston(y, method, alpha);
  const sd = rmse(y, fit.fitted);
  const q = normalQ(fit.forecast, sd).map((v) => Math.max(0, v));
  const params: Record<string, unknown> = { alpha: fit.alpha, size: fit.size };
  if (fit.beta !== undefined) params.beta = fit.beta;
  if (fit.interval !== undefined) params.interval = fit.interval;
  if (fit.probability !== undefined) params.probability = fit.probability;
  return result(
    method,
    params,
    new Array<number>(h).fill(fit.forecast),
    new Array(h).fill(q),
    fit.fitted,
    sd,
  );
}

function component(
  y: readonly number[],
  method: Component,
  periods: number[],
  h: number,
  opts: FitOptions,
  adj?: Adjusted,
): ForecastResult {
  const m = Math.max(...periods);
  const a = () => adj ?? adjust(y, periods);
  switch (method) {
    case 'snaive':
      return snaive(y, m, h);
    case 'naive':
      return snaive(y, 1, h);
    case 'ets':
      return ets(y, periods, h, opts);
    case 'theta':
      return theta(y, a(), h);
    case 'ses':
      return smooth(y, a(), 'N', h, 'ses');
    case 'holt':
      return smooth(y, a(), 'A', h, 'holt');
    case 'damped':
      return smooth(y, a(), 'Ad', h, 'damped');
    default:
      return intermittent(y, method, h, opts.alpha ?? 0.1);
  }
}

function combination(
  y: readonly number[],
  methods: Component[],
  periods: number[],
  h: number,
  opts: FitOptions,
): ForecastResult {
  const adj = adjust(y, periods);
  const parts = methods.map((mt) => component(y, mt, periods, h, opts, adj));
  const avg = (pick: (r: ForecastResult) => number[]) =>
    Array.from({ length: h }, (_, k) => parts.reduce((s, r) => s + pick(r)[k], 0) / parts.length);
  const fitted = y.map((_, t) => parts.reduce((s, r) => s + r.fitted[t], 0) / parts.length);
  return {
    method: 'combination',
    params: { methods, parts: parts.map((p) => ({ method: p.method, params: p.params })) },
    forecast: avg((r) => r.forecast),
    lower80: avg((r) => r.lower80),
    upper80: avg((r) => r.upper80),
    lower95: avg((r) => r.lower95),
    upper95: avg((r) => r.upper95),
    fitted,
    sigma: rmse(y, fitted),
  };
}

/** True when the series looks like intermittent demand (Syntetos-Boylan: ADI > 1.32). */
export function isIntermittent(y: readonly number[]): boolean {
  return demandClass(y).adi > 1.32;
}

/** Fits the chosen (or automatically chosen) method and forecasts `horizon` steps. */
export function fit(series: readonly unknown[], opts: FitOptions): ForecastResult {
  if (!opts || typeof opts !== 'object')
    throw new TaktError('forecast.badOptions', 'options: expected an object', 'options');
  const clean = cleanSeries(series, { gaps: opts.gaps, allowNegative: opts.allowNegative });
  const y = clean.values;
  const { periods, h } = checkOptions(y.length, opts);
  const method = opts.method ?? 'auto';
  let r: ForecastResult;
  if (method === 'combination') r = combination(y, opts.combine ?? DEFAULT_COMBINATION, periods, h, opts);
  else if (method !== 'auto') r = component(y, method, periods, h, opts);
  else if (isIntermittent(y) && !periods.some((m) => isSeasonal(y, m)))
    r = { ...component(y, 'sba', periods, h, opts), method: 'sba' };
  else if (opts.selection === 'validation' && y.length >= 2 * h + 4) {
    const cands: Component[] = ['ets', 'theta', 'damped', 'ses', 'snaive'];
    let best: Component = 'theta';
    let bestErr = Infinity;
    for (const c of cands) {
      let err = Infinity;
      try {
        err = backtest(y, { ...opts, method: c, origins: 1 }).mase;
      } catch {
        // too short to hold out a horizon for this method: not a candidate
      }
      if (err < bestErr) {
        bestErr = err;
        best = c;
      }
    }
    r = component(y, best, periods, h, opts);
  } else if (opts.selection === 'aicc') r = ets(y, periods, h, opts);
  else r = combination(y, opts.combine ?? DEFAULT_COMBINATION, periods, h, opts);
  if (!opts.allowNegative) {
    // demand (and energy) cannot be negative: clip forecasts and interval bounds at zero
    const clip = (a: number[]) => a.map((v) => Math.max(0, v));
    r.forecast = clip(r.forecast);
    r.lower80 = clip(r.lower80);
    r.upper80 = clip(r.upper80);
    r.lower95 = clip(r.lower95);
    r.upper95 = clip(r.upper95);
  }
  if (clean.filled.length) r.filled = clean.filled;
  return r;
}

export interface BacktestOptions extends FitOptions {
  /** Number of forecast origins, each `step` values apart, the last leaving `horizon` values to test. */
  origins?: number;
  step?: number;
}

export interface BacktestResult {
  method: string;
  origins: number;
  smape: number;
  mase: number;
  /** Mean of forecast − actual (positive: over-forecasting). */
  bias: number;
  mae: number;
  coverage80: number;
  coverage95: number;
}

/** sMAPE in percent, M3/M4 definition. */
export function smape(actual: readonly number[], fc: readonly number[]): number {
  let s = 0;
  for (let t = 0; t < actual.length; t++) {
    const d = Math.abs(actual[t]) + Math.abs(fc[t]);
    s += d === 0 ? 0 : (200 * Math.abs(actual[t] - fc[t])) / d;
  }
  return s / actual.length;
}

/** In-sample MAE of the seasonal naive method (naive when m = 1): the MASE denominator. */
export function maseScale(train: readonly number[], m: number): number {
  const mm = train.length > m ? m : 1;
  let s = 0;
  for (let t = mm; t < train.length; t++) s += Math.abs(train[t] - train[t - mm]);
  return s / (train.length - mm);
}

/** MASE, M4 definition (seasonal naive scaling). */
export function mase(
  train: readonly number[],
  actual: readonly number[],
  fc: readonly number[],
  m: number,
): number {
  let s = 0;
  for (let t = 0; t < actual.length; t++) s += Math.abs(actual[t] - fc[t]);
  return s / actual.length / maseScale(train, m);
}

/** Rolling-origin evaluation: fits at each origin and scores the next `horizon` values. */
export function backtest(series: readonly unknown[], opts: BacktestOptions): BacktestResult {
  const y = cleanSeries(series, { gaps: opts.gaps, allowNegative: opts.allowNegative }).values;
  const { periods, h } = checkOptions(y.length, opts);
  const m = Math.max(...periods);
  const origins = opts.origins ?? 1;
  const step = opts.step ?? 1;
  if (!Number.isInteger(origins) || origins < 1)
    throw new TaktError('forecast.badOrigins', 'origins: must be a whole number >= 1', 'origins');
  const acc = { smape: 0, mase: 0, bias: 0, mae: 0, c80: 0, c95: 0, n: 0, k: 0, nm: 0 };
  let method = opts.method ?? 'auto';
  for (let o = origins - 1; o >= 0; o--) {
    const end = y.length - h - o * step;
    if (end < (m > 1 ? 2 * m : 3)) continue;
    const train = y.slice(0, end);
    const test = y.slice(end, end + h);
    const r = fit(train, { ...opts, horizon: h });
    method = r.method as Method;
    acc.smape += smape(test, r.forecast);
    const sc = maseScale(train, m);
    if (sc > 0) {
      acc.mase += mase(train, test, r.forecast, m);
      acc.nm++;
    }
    for (let t = 0; t < h; t++) {
      acc.bias += r.forecast[t] - test[t];
      acc.mae += Math.abs(r.forecast[t] - test[t]);
      if (test[t] >= r.lower80[t] && test[t] <= r.upper80[t]) acc.c80++;
      if (test[t] >= r.lower95[t] && test[t] <= r.upper95[t]) acc.c95++;
      acc.k++;
    }
    acc.n++;
  }
  if (!acc.n)
    throw new TaktError(
      'forecast.tooShort',
      `series: too short for ${origins} origins of horizon ${h}`,
      'series',
    );
  return {
    method,
    origins: acc.n,
    smape: acc.smape / acc.n,
    mase: acc.nm ? acc.mase / acc.nm : NaN,
    bias: acc.bias / acc.k,
    mae: acc.mae / acc.k,
    coverage80: acc.c80 / acc.k,
    coverage95: acc.c95 / acc.k,
  };
}

export { etsCandidates };
