/**
 * Exponential smoothing state-space models ETS(error, trend, season) after Hyndman, Koehler, Ord &
 * Snyder, "Forecasting with Exponential Smoothing" (2008), chapter 2: error A/M, trend N/A/Ad,
 * season N/A/M. Parameters and initial level/trend are fitted by maximum likelihood (Nelder-Mead on
 * the concentrated likelihood); the initial seasonal states come from a classical decomposition of
 * the first years. `autoEts` picks the model with the smallest AICc.
 */
import { Rng } from '../core/random';
import { nelderMead } from './optim';
import { linearTrend, mean, seasonalIndices } from './series';

export type ErrorType = 'A' | 'M';
export type TrendType = 'N' | 'A' | 'Ad';
export type SeasonType = 'N' | 'A' | 'M';

export interface EtsSpec {
  error: ErrorType;
  trend: TrendType;
  season: SeasonType;
}

export interface EtsParams {
  alpha: number;
  beta?: number;
  gamma?: number;
  phi?: number;
  l0: number;
  b0?: number;
  /** Initial seasonal states, oldest first (s_{1-m} .. s_0). */
  s0?: number[];
}

export interface EtsModel {
  spec: EtsSpec;
  name: string;
  m: number;
  params: EtsParams;
  /** -2 log-likelihood up to a constant shared by all models of one series. */
  lik: number;
  aic: number;
  aicc: number;
  bic: number;
  sigma2: number;
  fitted: number[];
  residuals: number[];
  /** Final states after the last observation. */
  state: { l: number; b: number; s: number[] };
}

export const etsName = (s: EtsSpec): string => `ETS(${s.error},${s.trend},${s.season})`;

interface RunOut {
  lik: number;
  sse: number;
  l: number;
  b: number;
  s: number[];
}

/** Runs the recursions; fills `fitted`/`resid` when given. Returns NaN likelihood for invalid paths. */
function run(
  y: readonly number[],
  spec: EtsSpec,
  m: number,
  p: EtsParams,
  fitted?: number[],
  resid?: number[],
): RunOut {
  const { alpha } = p;
  const beta = p.beta ?? 0;
  const gamma = p.gamma ?? 0;
  const phi = spec.trend === 'Ad' ? (p.phi ?? 1) : 1;
  let l = p.l0;
  let b = spec.trend === 'N' ? 0 : (p.b0 ?? 0);
  const s = spec.season === 'N' ? [] : [...(p.s0 as number[])];
  const n = y.length;
  let sse = 0;
  let sumLog = 0;
  for (let t = 0; t < n; t++) {
    const phib = phi * b;
    const q = spec.trend === 'N' ? l : l + phib;
    const so = spec.season === 'N' ? 0 : s[t % m];
    const f = spec.season === 'N' ? q : spec.season === 'A' ? q + so : q * so;
    if (spec.error === 'M' && !(f > 0)) return { lik: NaN, sse: NaN, l, b, s };
    const e = spec.error === 'A' ? y[t] - f : (y[t] - f) / f;
    if (fitted) fitted.push(f);
    if (resid) resid.push(e);
    sse += e * e;
    if (spec.error === 'M') sumLog += Math.log(Math.abs(f));
    const pv = spec.season === 'N' ? y[t] : spec.season === 'A' ? y[t] - so : y[t] / so;
    const lo = l;
    l = q + alpha * (pv - q);
    if (spec.trend !== 'N') b = phib + (beta / alpha) * (l - lo - phib);
    if (spec.season !== 'N') {
      const tv = spec.season === 'A' ? y[t] - q : y[t] / q;
      s[t % m] = so + gamma * (tv - so);
    }
    if (!Number.isFinite(l)) return { lik: NaN, sse: NaN, l, b, s };
  }
  const lik = n * Math.log(sse + 1e-12) + 2 * sumLog;
  return { lik, sse, l, b, s };
}

/** Heuristic initial states (Hyndman et al. 2008, section 2.6.1). */
function initialStates(
  y: readonly number[],
  spec: EtsSpec,
  m: number,
): { l0: number; b0: number; s0: number[] } {
  let s0: number[] = [];
  let ds = [...y];
  if (spec.season !== 'N') {
    const first = y.slice(0, Math.min(y.length, Math.max(2 * m, Math.min(y.length, 4 * m))));
    const idx = seasonalIndices(first, m, spec.season === 'M');
    s0 = idx;
    ds = y.map((v, t) => (spec.season === 'M' ? v / idx[t % m] : v - idx[t % m]));
  }
  const k = Math.min(10, ds.length);
  const head = ds.slice(0, k);
  if (spec.trend === 'N') return { l0: mean(head), b0: 0, s0 };
  const lt = linearTrend(head);
  return { l0: lt.intercept, b0: lt.slope, s0 };
}

/** Fits one ETS model by maximum likelihood. Returns undefined if it cannot be fitted. */
export function fitEts(y: readonly number[], spec: EtsSpec, m = 1, maxEval?: number): EtsModel | undefined {
  const mm = spec.season === 'N' ? 1 : m;
  const n = y.length;
  if (spec.season !== 'N' && (m < 2 || n < 2 * m + 2)) return undefined;
  if ((spec.error === 'M' || spec.season === 'M') && y.some((v) => v <= 0)) return undefined;
  const init = initialStates(y, spec, mm);
  const scale = Math.max(1e-8, mean(y.map(Math.abs)));
  const hasB = spec.trend !== 'N';
  const hasG = spec.season !== 'N';
  const hasPhi = spec.trend === 'Ad';
  // parameter vector: alpha, [beta*], [gamma*], [phi], l0/scale, [b0/scale]; beta* and gamma* are
  // fractions of their admissible range (beta < alpha, gamma < 1 - alpha).
  const x0: number[] = [0.3];
  const lo: number[] = [1e-4];
  const hi: number[] = [0.9999];
  const add = (v: number, l: number, u: number) => {
    x0.push(v);
    lo.push(l);
    hi.push(u);
  };
  if (hasB) add(0.1, 1e-4, 0.9999);
  if (hasG) add(0.05, 1e-4, 0.9999);
  if (hasPhi) add(0.95, 0.8, 0.98);
  add(init.l0 / scale, -Infinity, Infinity);
  if (hasB) add(init.b0 / scale, -Infinity, Infinity);
  const toParams = (x: readonly number[]): EtsParams => {
    let i = 0;
    const alpha = x[i++];
    const p: EtsParams = { alpha, l0: 0 };
    if (hasB) p.beta = x[i++] * alpha;
    if (hasG) p.gamma = x[i++] * (1 - alpha);
    if (hasPhi) p.phi = x[i++];
    p.l0 = x[i++] * scale;
    if (hasB) p.b0 = x[i++] * scale;
    if (hasG) p.s0 = init.s0;
    return p;
  };
  const obj = (x: number[]) => run(y, spec, mm, toParams(x)).lik;
  const nParams = x0.length;
  const res = nelderMead(obj, x0, lo, hi, { maxEval: maxEval ?? 120 * (nParams + 1), tol: 1e-7 });
  const params = toParams(res.x);
  const fitted: number[] = [];
  const residuals: number[] = [];
  const out = run(y, spec, mm, params, fitted, residuals);
  if (!Number.isFinite(out.lik)) return undefined;
  const k = nParams + (hasG ? mm - 1 : 0) + 1;
  const aic = out.lik + 2 * k;
  const aicc = n - k - 1 > 0 ? aic + (2 * k * (k + 1)) / (n - k - 1) : Infinity;
  const bic = out.lik + Math.log(n) * k;
  return {
    spec,
    name: etsName(spec),
    m: mm,
    params,
    lik: out.lik,
    aic,
    aicc,
    bic,
    sigma2: out.sse / Math.max(1, n - nParams),
    fitted,
    residuals,
    state: { l: out.l, b: out.b, s: out.s },
  };
}

/** Point forecasts 1..h from the final states (the deterministic part of the recursions). */
export function etsForecast(model: EtsModel, h: number): number[] {
  const { spec, m } = model;
  const phi = spec.trend === 'Ad' ? (model.params.phi ?? 1) : 1;
  const { l, b, s } = model.state;
  const n = model.fitted.length;
  const out: number[] = [];
  let damp = 0;
  let ph = 1;
  for (let k = 1; k <= h; k++) {
    ph *= phi;
    damp += spec.trend === 'Ad' ? ph : 1;
    const q = spec.trend === 'N' ? l : l + damp * b;
    const so = spec.season === 'N' ? 0 : s[(n + k - 1) % m];
    out.push(spec.season === 'N' ? q : spec.season === 'A' ? q + so : q * so);
  }
  return out;
}

/** Prediction quantiles by simulating `nsim` future sample paths of the model (seeded). */
export function etsSimulate(
  model: EtsModel,
  h: number,
  probs: readonly number[],
  nsim = 500,
  seed = 1,
): number[][] {
  const { spec, m } = model;
  const phi = spec.trend === 'Ad' ? (model.params.phi ?? 1) : 1;
  const alpha = model.params.alpha;
  const beta = model.params.beta ?? 0;
  const gamma = model.params.gamma ?? 0;
  const sd = Math.sqrt(model.sigma2);
  const rng = new Rng(seed);
  const n = model.fitted.length;
  const paths: number[][] = Array.from({ length: h }, () => new Array<number>(nsim));
  for (let i = 0; i < nsim; i++) {
    let { l, b } = model.state;
    const s = [...model.state.s];
    for (let k = 0; k < h; k++) {
      const phib = phi * b;
      const q = spec.trend === 'N' ? l : l + phib;
      const idx = (n + k) % m;
      const so = spec.season === 'N' ? 0 : s[idx];
      const f = spec.season === 'N' ? q : spec.season === 'A' ? q + so : q * so;
      const e = rng.normal() * sd;
      const y = spec.error === 'A' ? f + e : f * (1 + e);
      paths[k][i] = y;
      const pv = spec.season === 'N' ? y : spec.season === 'A' ? y - so : y / so;
      const lo = l;
      l = q + alpha * (pv - q);
      if (spec.trend !== 'N') b = phib + (beta / alpha) * (l - lo - phib);
      if (spec.season !== 'N') s[idx] = so + gamma * ((spec.season === 'A' ? y - q : y / q) - so);
    }
  }
  return paths.map((col) => {
    const sorted = col.filter(Number.isFinite).sort((a, b) => a - b);
    return probs.map((p) => {
      if (!sorted.length) return NaN;
      const pos = p * (sorted.length - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(sorted.length - 1, lo + 1);
      return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    });
  });
}

/** All candidate specs for a series (R's default restricted set: no multiplicative trend, no A error with M season). */
export function etsCandidates(m: number, positive: boolean, seasonalAllowed: boolean): EtsSpec[] {
  const out: EtsSpec[] = [];
  const errors: ErrorType[] = positive ? ['A', 'M'] : ['A'];
  const seasons: SeasonType[] = m > 1 && seasonalAllowed ? (positive ? ['N', 'A', 'M'] : ['N', 'A']) : ['N'];
  for (const error of errors)
    for (const trend of ['N', 'A', 'Ad'] as TrendType[])
      for (const season of seasons) {
        if (error === 'A' && season === 'M') continue;
        out.push({ error, trend, season });
      }
  return out;
}

/** Fits every candidate and returns the one with the smallest AICc. */
export function autoEts(y: readonly number[], m = 1, specs?: EtsSpec[]): EtsModel {
  const positive = y.every((v) => v > 0);
  const cands = specs ?? etsCandidates(m, positive, y.length >= 2 * m + 2);
  let best: EtsModel | undefined;
  for (const spec of cands) {
    const fit = fitEts(y, spec, m);
    if (fit && (!best || fit.aicc < best.aicc)) best = fit;
  }
  if (!best) {
    const fb = fitEts(y, { error: 'A', trend: 'N', season: 'N' }, 1);
    if (!fb) throw new Error('ETS: no model could be fitted');
    return fb;
  }
  return best;
}

/** Runs a model with given parameters (no fitting): one-step fitted values, errors and final states. */
export function etsFilter(
  y: readonly number[],
  spec: EtsSpec,
  params: EtsParams,
  m = 1,
): { fitted: number[]; residuals: number[]; state: { l: number; b: number; s: number[] }; lik: number } {
  const fitted: number[] = [];
  const residuals: number[] = [];
  const out = run(y, spec, spec.season === 'N' ? 1 : m, params, fitted, residuals);
  return { fitted, residuals, state: { l: out.l, b: out.b, s: out.s }, lik: out.lik };
}
