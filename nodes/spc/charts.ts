/**
 * Control charts with the conventions of the R package qcc (version 3) and its default estimators:
 *
 *   X̄-R   centre = size-weighted grand mean; σ = mean(Rᵢ / d2(nᵢ)) ("UWAVE-R"), or the pooled standard
 *          deviation / c4(Σ(nᵢ − 1) + 1) ("RMSDF") when a subgroup is larger than 25; R chart centre =
 *          size-weighted mean range, limits centre ± k·d3(nᵢ)·σ, lower limit clipped at 0.
 *   X̄-S   σ = mean(sᵢ / c4(nᵢ)) ("UWAVE-SD"); S chart centre = size-weighted mean of sᵢ, limits
 *          centre ± k·σ·sqrt(1 − c4(nᵢ)²).
 *   I-MR   σ = MR̄ / d2(2) ("MR"); MR chart centre MR̄, limits MR̄ ± k·d3(2)·σ.
 *   p, np  p̄ = Σ defectives / Σ inspected; per-point limits clipped to [0, 1] (p) or [0, nᵢ] (np).
 *   c, u   c̄ = mean count; ū = Σ defects / Σ units; lower limits clipped at 0.
 *   EWMA   λ = 0.2, z₀ = centre, time-varying limits (σ²/nᵢ)·λ/(2 − λ)·(1 − (1 − λ)^{2i}).
 *   CUSUM  on standardised values (x̄ᵢ − centre)/(σ/√nᵢ), k = shift/2, decision interval h, head start.
 *   T²     individual vectors: sample mean and covariance; phase I limit (m − 1)²/m · Beta(p/2, (m − p − 1)/2)
 *          quantile, phase II prediction limit p(m + 1)(m − 1)/(m(m − p)) · F(p, m − p) quantile.
 *   MEWMA  Lowry et al. (1992) with time-varying covariance; limit = decision interval, or the χ²(p) quantile.
 *
 * The constants d2 and d3 come by default from qcc's published tables (constants.ts), so sigma, limits and
 * the statistics built on sigma (CUSUM sums) agree with qcc to rounding; `constants: 'exact'` computes
 * them exactly instead (sigma and limits then differ from qcc's by up to about 0.05%). c4 is exact in both.
 */
import { TaktError } from '../core/errors';
import { type Constants, constants, type ConstantsMode, toConstantsMode } from './constants';
import { betaQuantile, chiSquareQuantile, fQuantile, invertSpd, normalSf } from './numeric';
import { BEYOND_LIMITS_ONLY, RuleEngine, type RuleEngineState, ruleSet, type RuleSpec } from './rules';
import {
  CHART_TYPES,
  type ChartOptions,
  type ChartParams,
  type ChartPoint,
  type ChartResult,
  type ChartType,
  type KnownLimits,
} from './types';

// ---------------------------------------------------------------- validation

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function fail(code: string, field: string, text: string): never {
  throw new TaktError(code, `${field}: ${text}`, field);
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return Array.isArray(v) ? 'an array' : typeof v;
}

/** A finite number, or a TaktError naming the field. */
export function toNumber(v: unknown, field: string): number {
  if (!finite(v)) {
    if (typeof v === 'number') fail('spc.notFinite', field, `${v} is not a finite number`);
    fail('spc.notNumeric', field, `${describe(v)} is not a number`);
  }
  return v;
}

export function toObservations(data: unknown, field: string): number[] {
  if (!Array.isArray(data)) fail('spc.badData', field, `expected an array of numbers, got ${describe(data)}`);
  if (data.length === 0) fail('spc.noData', field, 'no observations');
  return data.map((v, i) => toNumber(v, `${field}[${i}]`));
}

export function toSubgroup(g: unknown, field: string, minSize: number, chart: string): number[] {
  if (!Array.isArray(g))
    fail('spc.badSubgroup', field, `expected a subgroup (array of numbers), got ${describe(g)}`);
  if (g.length === 0) fail('spc.emptySubgroup', field, 'the subgroup is empty');
  if (g.length < minSize) {
    fail(
      'spc.subgroupTooSmall',
      field,
      `a subgroup of size ${g.length} cannot be charted on ${chart} (needs ${minSize} or more)`,
    );
  }
  return g.map((v, i) => toNumber(v, `${field}[${i}]`));
}

function toSubgroups(data: unknown, field: string, minSize: number, chart: string): number[][] {
  if (!Array.isArray(data))
    fail('spc.badData', field, `expected an array of subgroups, got ${describe(data)}`);
  if (data.length === 0) fail('spc.noData', field, 'no subgroups');
  return data.map((g, i) => toSubgroup(g, `${field}[${i}]`, minSize, chart));
}

function toSizes(sizes: unknown, count: number, field: string, required: boolean): number[] | undefined {
  if (sizes === undefined || sizes === null) {
    if (required) fail('spc.noSizes', field, 'sample sizes are required for this chart');
    return undefined;
  }
  const list = typeof sizes === 'number' ? new Array<number>(count).fill(sizes) : sizes;
  if (!Array.isArray(list))
    fail('spc.badSizes', field, `expected a number or an array of numbers, got ${describe(sizes)}`);
  if (list.length !== count) fail('spc.badSizes', field, `${list.length} sizes for ${count} samples`);
  return list.map((v, i) => {
    const n = toNumber(v, `${field}[${i}]`);
    if (!(n > 0)) fail('spc.badSizes', `${field}[${i}]`, `sample size ${n} must be positive`);
    return n;
  });
}

function toVectors(data: unknown, field: string, dim?: number): number[][] {
  if (!Array.isArray(data)) fail('spc.badData', field, `expected an array of vectors, got ${describe(data)}`);
  if (data.length === 0) fail('spc.noData', field, 'no vectors');
  const p = dim ?? (Array.isArray(data[0]) ? data[0].length : 0);
  return data.map((v, i) => toVector(v, `${field}[${i}]`, p));
}

export function toVector(v: unknown, field: string, p: number): number[] {
  if (!Array.isArray(v))
    fail('spc.badVector', field, `expected a vector of ${p} numbers, got ${describe(v)}`);
  if (v.length < 2) fail('spc.badVector', field, 'a multivariate chart needs at least 2 variables');
  if (v.length !== p) fail('spc.badVector', field, `has ${v.length} variables, expected ${p}`);
  return v.map((x, j) => toNumber(x, `${field}[${j}]`));
}

function positive(v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const n = toNumber(v, field);
  if (!(n > 0)) fail('spc.badOption', field, `${n} must be positive`);
  return n;
}

// ---------------------------------------------------------------- sample statistics

export const mean = (g: readonly number[]): number => {
  let s = 0;
  for (const v of g) s += v;
  return s / g.length;
};
export const range = (g: readonly number[]): number => {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of g) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
};
export const sd = (g: readonly number[]): number => {
  const m = mean(g);
  let s = 0;
  for (const v of g) s += (v - m) * (v - m);
  return Math.sqrt(s / (g.length - 1));
};

/** Within-subgroup sigma as qcc estimates it for X̄ charts: UWAVE-R, or RMSDF above 25, or UWAVE-SD. */
export function withinSigma(
  groups: readonly number[][],
  method: 'R' | 'S',
  mode: ConstantsMode = 'table',
): { sigma: number; estimator: string } {
  const K = constants(mode);
  if (method === 'R' && groups.some((g) => g.length > 25)) {
    let num = 0;
    let df = 0;
    for (const g of groups) {
      const s = sd(g);
      num += s * s * (g.length - 1);
      df += g.length - 1;
    }
    return { sigma: Math.sqrt(num / df) / K.c4(df + 1), estimator: 'RMSDF' };
  }
  let s = 0;
  for (const g of groups) s += method === 'R' ? range(g) / K.d2(g.length) : sd(g) / K.c4(g.length);
  return { sigma: s / groups.length, estimator: method === 'R' ? 'UWAVE-R' : 'UWAVE-SD' };
}

/** σ of individual observations from the average moving range (qcc "MR"). */
export function mrSigma(x: readonly number[], mode: ConstantsMode = 'table'): number {
  let s = 0;
  for (let i = 1; i < x.length; i++) s += Math.abs(x[i] - x[i - 1]);
  return s / (x.length - 1) / constants(mode).d2(2);
}

function weightedMean(values: readonly number[], weights: readonly number[]): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i] * weights[i];
    w += weights[i];
  }
  return s / w;
}

/** Sample mean vector and covariance matrix of vectors. */
export function meanCov(xs: readonly number[][]): { means: number[]; covariance: number[][] } {
  const m = xs.length;
  const p = xs[0].length;
  const means = new Array<number>(p).fill(0);
  for (const x of xs) for (let j = 0; j < p; j++) means[j] += x[j] / m;
  const covariance = means.map(() => new Array<number>(p).fill(0));
  for (const x of xs)
    for (let i = 0; i < p; i++)
      for (let j = 0; j < p; j++) covariance[i][j] += ((x[i] - means[i]) * (x[j] - means[j])) / (m - 1);
  return { means, covariance };
}

// ---------------------------------------------------------------- estimation (phase I)

/** Sample statistic and size of one input, as the given chart sees it (validated). */
export interface Sample {
  value: number;
  size: number;
  /** R, S or MR input: the subgroup, for secondary statistics. */
  group?: number[];
  vector?: number[];
}

/** Parses one sample (an observation, a subgroup, a count with its size, or a vector) for a chart type. */
export function parseSample(
  type: ChartType,
  obs: unknown,
  size: unknown,
  field: string,
  dim?: number,
): Sample {
  switch (type) {
    case 'xbar-r':
    case 'xbar-s': {
      const g = toSubgroup(obs, field, 2, type === 'xbar-r' ? 'an X-bar R chart' : 'an X-bar S chart');
      return { value: mean(g), size: g.length, group: g };
    }
    case 'imr':
      return { value: toNumber(obs, field), size: 1 };
    case 'ewma':
    case 'cusum': {
      if (Array.isArray(obs)) {
        const g = toSubgroup(obs, field, 1, type);
        return { value: mean(g), size: g.length, group: g };
      }
      return { value: toNumber(obs, field), size: 1 };
    }
    case 'p':
    case 'np':
    case 'u':
    case 'c': {
      const x = toNumber(obs, field);
      if (x < 0) fail('spc.negativeCount', field, `count ${x} cannot be negative`);
      if (type === 'c')
        return { value: x, size: size === undefined ? 1 : positive(size, `${field}.size`, 1) };
      if (size === undefined || size === null)
        fail('spc.noSizes', `${field}.size`, `a ${type} chart needs the sample size`);
      const n = positive(size, `${field}.size`, 1);
      if ((type === 'p' || type === 'np') && x > n) {
        fail(
          'spc.pAboveOne',
          field,
          `${x} defectives in ${n} units is a proportion p = ${x / n} greater than 1`,
        );
      }
      return { value: x, size: n };
    }
    case 't2':
    case 'mewma': {
      const v = toVector(obs, field, dim ?? (Array.isArray(obs) ? obs.length : 0));
      return { value: NaN, size: 1, vector: v };
    }
  }
}

function parseAll(type: ChartType, data: unknown, sizes: unknown, field: string, dim?: number): Sample[] {
  if (!Array.isArray(data)) fail('spc.badData', field, `expected an array, got ${describe(data)}`);
  if (data.length === 0) fail('spc.noData', field, 'no samples');
  const needSizes = type === 'p' || type === 'np' || type === 'u';
  const sz = toSizes(sizes, data.length, `${field === 'data' ? 'sizes' : 'newSizes'}`, needSizes);
  if (type === 't2' || type === 'mewma') toVectors(data, field, dim);
  else if (type === 'xbar-r' || type === 'xbar-s') {
    toSubgroups(data, field, 2, type === 'xbar-r' ? 'an X-bar R chart' : 'an X-bar S chart');
  } else if (type === 'imr' || type === 'p' || type === 'np' || type === 'c' || type === 'u')
    toObservations(data, field);
  return data.map((obs, i) => parseSample(type, obs, sz?.[i], `${field}[${i}]`, dim));
}

interface EstimateOptions {
  nsigmas: number;
  rules: RuleSpec;
  lambda: number;
  decisionInterval: number;
  shift: number;
  headStart: number;
  confidence?: number;
  limits?: KnownLimits;
  decisionIntervalGiven: boolean;
  constants: ConstantsMode;
}

function defaultConfidence(nsigmas: number, p: number): number {
  return Math.pow(1 - 2 * normalSf(nsigmas), p);
}

/** Estimates the chart parameters from phase-I samples (or takes the known ones). */
function estimate(type: ChartType, samples: Sample[], o: EstimateOptions): ChartParams {
  const params = estimateRaw(type, samples, o);
  if (['xbar-r', 'xbar-s', 'imr', 'ewma', 'cusum'].includes(type) && !(params.sigma > 0)) {
    fail(
      'spc.noVariation',
      'data',
      `the phase I data show no variation (sigma = ${params.sigma}): limits cannot be set`,
    );
  }
  return params;
}

function estimateRaw(type: ChartType, samples: Sample[], o: EstimateOptions): ChartParams {
  const base = { type, nsigmas: o.nsigmas, rules: o.rules, samples: samples.length };
  const known = o.limits;
  const K = constants(o.constants);
  const sizes = samples.map((s) => s.size);
  const values = samples.map((s) => s.value);
  switch (type) {
    case 'xbar-r':
    case 'xbar-s': {
      const groups = samples.map((s) => s.group as number[]);
      const est = withinSigma(groups, type === 'xbar-r' ? 'R' : 'S', o.constants);
      const sigma = known?.sigma ?? est.sigma;
      const secStats = groups.map(type === 'xbar-r' ? range : sd);
      const secondaryCenter =
        known?.sigma !== undefined
          ? weightedMean(
              sizes.map((n) => (type === 'xbar-r' ? K.d2(n) : K.c4(n)) * sigma),
              sizes,
            )
          : weightedMean(secStats, sizes);
      return {
        ...base,
        center: known?.center ?? weightedMean(values, sizes),
        sigma,
        estimator: known?.sigma !== undefined ? 'known' : est.estimator,
        secondaryCenter,
        constants: o.constants,
      };
    }
    case 'imr': {
      if (samples.length < 2 && known?.sigma === undefined) {
        fail('spc.noData', 'data', 'an I-MR chart needs at least 2 observations to estimate sigma');
      }
      let mr = 0;
      for (let i = 1; i < values.length; i++) mr += Math.abs(values[i] - values[i - 1]);
      const mrBar = values.length > 1 ? mr / (values.length - 1) : NaN;
      const sigma = known?.sigma ?? mrBar / K.d2(2);
      return {
        ...base,
        center: known?.center ?? mean(values),
        sigma,
        estimator: known?.sigma !== undefined ? 'known' : 'MR',
        secondaryCenter: known?.sigma !== undefined ? K.d2(2) * sigma : mrBar,
        constants: o.constants,
      };
    }
    case 'p':
    case 'np': {
      const pbar =
        known?.center ??
        weightedMean(
          values.map((x, i) => x / sizes[i]),
          sizes,
        );
      if (!(pbar >= 0 && pbar <= 1))
        fail('spc.pAboveOne', 'limits.center', `p = ${pbar} is not a proportion`);
      return {
        ...base,
        center: pbar,
        sigma: Math.sqrt(pbar * (1 - pbar)),
        estimator: known ? 'known' : 'pooled proportion',
      };
    }
    case 'c': {
      const cbar = known?.center ?? mean(values);
      return { ...base, center: cbar, sigma: Math.sqrt(cbar), estimator: known ? 'known' : 'mean count' };
    }
    case 'u': {
      const ubar =
        known?.center ??
        weightedMean(
          values.map((x, i) => x / sizes[i]),
          sizes,
        );
      return { ...base, center: ubar, sigma: Math.sqrt(ubar), estimator: known ? 'known' : 'pooled rate' };
    }
    case 'ewma':
    case 'cusum': {
      const grouped = samples.some((s) => s.size > 1);
      if (grouped && samples.some((s) => s.size === 1) && known?.sigma === undefined) {
        fail('spc.mixedSizes', 'data', 'mixes single observations and subgroups: give limits.sigma');
      }
      let sigma: number;
      let estimator: string;
      if (known?.sigma !== undefined) {
        sigma = known.sigma;
        estimator = 'known';
      } else if (grouped) {
        ({ sigma, estimator } = withinSigma(
          samples.map((s) => s.group as number[]),
          'R',
          o.constants,
        ));
      } else {
        if (values.length < 2)
          fail('spc.noData', 'data', 'at least 2 observations are needed to estimate sigma');
        sigma = mrSigma(values, o.constants);
        estimator = 'MR';
      }
      const center = known?.center ?? weightedMean(values, sizes);
      return type === 'ewma'
        ? { ...base, center, sigma, estimator, lambda: o.lambda, constants: o.constants }
        : {
            ...base,
            center,
            sigma,
            estimator,
            constants: o.constants,
            decisionInterval: o.decisionInterval,
            shift: o.shift,
            headStart: o.headStart,
          };
    }
    case 't2':
    case 'mewma': {
      const xs = samples.map((s) => s.vector as number[]);
      const m = xs.length;
      const p = xs[0].length;
      let means: number[];
      let covariance: number[][];
      if (known?.means && known.covariance) {
        if (known.means.length !== p || known.covariance.length !== p) {
          fail('spc.badLimits', 'limits.means', `known means and covariance must have ${p} variables`);
        }
        ({ means, covariance } = { means: known.means, covariance: known.covariance });
      } else {
        if (m <= p + 1)
          fail('spc.noData', 'data', `${m} vectors of ${p} variables: at least ${p + 2} are needed`);
        ({ means, covariance } = meanCov(xs));
      }
      try {
        invertSpd(covariance);
      } catch {
        fail(
          'spc.singular',
          'data',
          'the covariance matrix is singular (a variable is constant or a combination of others)',
        );
      }
      const conf = o.confidence ?? defaultConfidence(o.nsigmas, p);
      let ucl: number;
      let ucl2: number;
      if (type === 't2') {
        if (known?.means && known.covariance) {
          ucl = ucl2 = chiSquareQuantile(conf, p);
        } else {
          ucl = (((m - 1) * (m - 1)) / m) * betaQuantile(conf, p / 2, (m - p - 1) / 2);
          ucl2 = ((p * (m + 1) * (m - 1)) / (m * (m - p))) * fQuantile(conf, p, m - p);
        }
      } else {
        ucl = ucl2 = o.decisionIntervalGiven ? o.decisionInterval : chiSquareQuantile(conf, p);
      }
      return {
        ...base,
        center: 0,
        sigma: 1,
        estimator: known?.means ? 'known' : 'sample covariance',
        means,
        covariance,
        ucl,
        ucl2,
        ...(type === 'mewma' ? { lambda: o.lambda } : {}),
      };
    }
  }
}

// ---------------------------------------------------------------- streaming evaluation

export interface StreamSnapshot {
  params: ChartParams;
  index: number;
  /** Count of points since the start of the chart (EWMA/MEWMA time-varying limits). */
  t: number;
  prev: number | null;
  ewma: number;
  pos: number;
  neg: number;
  mz: number[];
  rules: RuleEngineState;
  rules2: RuleEngineState;
}

export interface StreamOutput {
  point: ChartPoint;
  secondary?: ChartPoint;
}

const BEYOND_ONLY_TYPES: ChartType[] = ['ewma', 'cusum', 't2', 'mewma'];

/**
 * Judges samples one at a time against frozen parameters. Constant time per sample for I-MR, EWMA,
 * CUSUM and the Shewhart attribute charts (O(n) for a subgroup of n, O(p²) for a vector of p).
 * A bad sample throws before any state changes.
 */
export class ChartStream {
  readonly params: ChartParams;
  private readonly engine: RuleEngine;
  private readonly engine2: RuleEngine;
  private readonly covInv?: number[][];
  private index = 0;
  private t = 0;
  private prev: number | null = null;
  private ewma: number;
  private pos: number;
  private neg: number;
  private mz: number[];
  private readonly mrSe: number;
  private readonly K: Constants;

  constructor(params: ChartParams) {
    this.params = params;
    this.K = constants(params.constants);
    this.mrSe = params.type === 'imr' ? this.K.d3(2) * params.sigma : 0;
    const beyondOnly = BEYOND_ONLY_TYPES.includes(params.type);
    this.engine = new RuleEngine(beyondOnly ? BEYOND_LIMITS_ONLY : ruleSet(params.rules), params.nsigmas);
    // R and S charts take the same rules; successive moving ranges are correlated, so MR is judged on rule 1.
    this.engine2 = new RuleEngine(
      params.type === 'imr' || beyondOnly ? BEYOND_LIMITS_ONLY : ruleSet(params.rules),
      params.nsigmas,
    );
    if (params.covariance) this.covInv = invertSpd(params.covariance);
    this.ewma = params.center;
    this.pos = params.headStart ?? 0;
    this.neg = params.headStart ?? 0;
    this.mz = params.means ? params.means.map(() => 0) : [];
  }

  /** Points judged so far (the next point's index). */
  get count(): number {
    return this.index;
  }

  reset(): void {
    this.index = 0;
    this.t = 0;
    this.prev = null;
    this.ewma = this.params.center;
    this.pos = this.params.headStart ?? 0;
    this.neg = this.params.headStart ?? 0;
    this.mz = this.params.means ? this.params.means.map(() => 0) : [];
    this.engine.reset();
    this.engine2.reset();
  }

  snapshot(): StreamSnapshot {
    return {
      params: this.params,
      index: this.index,
      t: this.t,
      prev: this.prev,
      ewma: this.ewma,
      pos: this.pos,
      neg: this.neg,
      mz: [...this.mz],
      rules: this.engine.snapshot(),
      rules2: this.engine2.snapshot(),
    };
  }

  static restore(s: StreamSnapshot): ChartStream {
    const c = new ChartStream(s.params);
    c.index = s.index;
    c.t = s.t;
    c.prev = s.prev;
    c.ewma = s.ewma;
    c.pos = s.pos;
    c.neg = s.neg;
    c.mz = [...s.mz];
    c.engine.restore(s.rules);
    c.engine2.restore(s.rules2);
    return c;
  }

  /** Validates and judges one sample: a subgroup, an observation, a count (with `size`) or a vector. */
  push(obs: unknown, size?: number, phase: 1 | 2 = 2, field = 'payload'): StreamOutput {
    const s = parseSample(this.params.type, obs, size, field, this.params.means?.length);
    return this.pushSample(s, phase);
  }

  /** Judges a parsed sample. */
  pushSample(s: Sample, phase: 1 | 2): StreamOutput {
    const P = this.params;
    const k = P.nsigmas;
    const index = this.index++;
    this.t++;
    let stat: number;
    let center = P.center;
    let se: number;
    let lcl: number;
    let ucl: number;
    let value: number | undefined;
    let secondary: ChartPoint | undefined;
    switch (P.type) {
      case 'xbar-r':
      case 'xbar-s':
      case 'imr': {
        stat = s.value;
        se = P.sigma / Math.sqrt(s.size);
        lcl = center - k * se;
        ucl = center + k * se;
        let sec: number | undefined;
        let secSe = 0;
        if (P.type === 'imr') {
          if (this.prev !== null) {
            sec = Math.abs(s.value - this.prev);
            secSe = this.mrSe;
          }
          this.prev = s.value;
        } else if (P.type === 'xbar-r') {
          sec = range(s.group as number[]);
          secSe = this.K.d3(s.size) * P.sigma;
        } else {
          sec = sd(s.group as number[]);
          secSe = Math.sqrt(1 - this.K.c4(s.size) ** 2) * P.sigma;
        }
        if (sec !== undefined) {
          const c2 = P.secondaryCenter as number;
          const l2 = Math.max(0, c2 - k * secSe);
          const u2 = c2 + k * secSe;
          const z2 = (sec - c2) / secSe;
          secondary = {
            index,
            phase,
            stat: sec,
            center: c2,
            lcl: l2,
            ucl: u2,
            z: z2,
            size: s.size,
            violations: this.engine2.push(z2, sec > u2 || sec < l2, sec),
          };
        }
        break;
      }
      case 'p': {
        stat = s.value / s.size;
        se = Math.sqrt((center * (1 - center)) / s.size);
        lcl = Math.max(0, center - k * se);
        ucl = Math.min(1, center + k * se);
        break;
      }
      case 'np': {
        stat = s.value;
        center = P.center * s.size;
        se = Math.sqrt(s.size * P.center * (1 - P.center));
        lcl = Math.max(0, center - k * se);
        ucl = Math.min(s.size, center + k * se);
        break;
      }
      case 'c': {
        stat = s.value;
        se = P.sigma;
        lcl = Math.max(0, center - k * se);
        ucl = center + k * se;
        break;
      }
      case 'u': {
        stat = s.value / s.size;
        se = Math.sqrt(center / s.size);
        lcl = Math.max(0, center - k * se);
        ucl = center + k * se;
        break;
      }
      case 'ewma': {
        const lambda = P.lambda as number;
        this.ewma = lambda * s.value + (1 - lambda) * this.ewma;
        stat = this.ewma;
        se =
          (P.sigma / Math.sqrt(s.size)) *
          Math.sqrt((lambda / (2 - lambda)) * (1 - Math.pow(1 - lambda, 2 * this.t)));
        lcl = center - k * se;
        ucl = center + k * se;
        value = s.value;
        break;
      }
      case 'cusum': {
        const zi = (s.value - center) / (P.sigma / Math.sqrt(s.size));
        const half = (P.shift as number) / 2;
        this.pos = Math.max(0, this.pos + zi - half);
        this.neg = Math.max(0, this.neg - zi - half);
        stat = this.pos;
        const h = P.decisionInterval as number;
        center = 0;
        se = 1;
        lcl = -h;
        ucl = h;
        const beyond = this.pos > h || this.neg > h;
        const point: ChartPoint = {
          index,
          phase,
          stat,
          center,
          lcl,
          ucl,
          z: stat,
          size: s.size,
          violations: this.engine.push(stat, beyond),
          value: s.value,
          upper: this.pos,
          lower: this.neg === 0 ? 0 : -this.neg,
        };
        return { point };
      }
      case 't2':
      case 'mewma': {
        const x = s.vector as number[];
        const mu = P.means as number[];
        const inv = this.covInv as number[][];
        let d: number[];
        let scale = 1;
        if (P.type === 't2') d = x.map((v, j) => v - mu[j]);
        else {
          const lambda = P.lambda as number;
          this.mz = x.map((v, j) => lambda * (v - mu[j]) + (1 - lambda) * this.mz[j]);
          d = this.mz;
          scale = (lambda / (2 - lambda)) * (1 - Math.pow(1 - lambda, 2 * this.t));
        }
        const sd2 = inv.map((row) => row.reduce((acc, a, j) => acc + a * d[j], 0));
        stat = d.reduce((acc, v, j) => acc + v * sd2[j], 0) / scale;
        center = 0;
        se = 1;
        lcl = 0;
        ucl = (phase === 2 ? P.ucl2 : P.ucl) as number;
        const beyond = stat > ucl;
        const point: ChartPoint = {
          index,
          phase,
          stat,
          center,
          lcl,
          ucl,
          z: stat,
          size: 1,
          violations: this.engine.push(stat, beyond),
        };
        if (beyond) point.contributions = sd2.map((v, j) => (v * v) / inv[j][j] / scale);
        return { point };
      }
    }
    const z = se > 0 ? (stat - center) / se : 0;
    const point: ChartPoint = {
      index,
      phase,
      stat,
      center,
      lcl,
      ucl,
      z,
      size: s.size,
      violations: this.engine.push(z, stat > ucl || stat < lcl, stat),
    };
    if (value !== undefined) point.value = value;
    return secondary ? { point, secondary } : { point };
  }
}

// ---------------------------------------------------------------- batch chart

type Resolved = EstimateOptions;

function resolveOptions(opts: ChartOptions): Resolved {
  const nsigmas = positive(opts.nsigmas, 'nsigmas', 3);
  const lambda = positive(opts.lambda, 'lambda', 0.2);
  if (lambda > 1) fail('spc.badOption', 'lambda', `${lambda} must be in (0, 1]`);
  const decisionInterval = positive(opts.decisionInterval, 'decisionInterval', opts.type === 'mewma' ? 0 : 5);
  const shift = positive(opts.shift, 'shift', 1);
  const headStart = opts.headStart === undefined ? 0 : toNumber(opts.headStart, 'headStart');
  if (opts.type === 'cusum' && (headStart < 0 || headStart >= decisionInterval)) {
    fail(
      'spc.badOption',
      'headStart',
      `${headStart} must be at least 0 and below the decision interval ${decisionInterval}`,
    );
  }
  const rules = opts.rules ?? 'nelson';
  ruleSet(rules); // validates
  let confidence: number | undefined;
  if (opts.confidence !== undefined) {
    confidence = toNumber(opts.confidence, 'confidence');
    if (!(confidence > 0 && confidence < 1))
      fail('spc.badOption', 'confidence', `${confidence} must be in (0, 1)`);
  }
  let limits: KnownLimits | undefined;
  if (opts.limits !== undefined) {
    if (typeof opts.limits !== 'object' || opts.limits === null) {
      fail('spc.badLimits', 'limits', 'expected { center, sigma? }');
    }
    limits = { center: toNumber(opts.limits.center, 'limits.center') };
    if (opts.limits.sigma !== undefined) {
      limits.sigma = toNumber(opts.limits.sigma, 'limits.sigma');
      if (!(limits.sigma > 0)) fail('spc.badLimits', 'limits.sigma', `${limits.sigma} must be positive`);
    }
    if (opts.limits.means) limits.means = toObservations(opts.limits.means, 'limits.means');
    if (opts.limits.covariance) limits.covariance = toVectors(opts.limits.covariance, 'limits.covariance');
  }
  return {
    nsigmas,
    lambda,
    decisionInterval,
    decisionIntervalGiven: opts.decisionInterval !== undefined,
    constants: toConstantsMode(opts.constants),
    shift,
    headStart,
    rules,
    ...(confidence !== undefined ? { confidence } : {}),
    ...(limits ? { limits } : {}),
  };
}

const ITERABLE: ChartType[] = ['xbar-r', 'xbar-s', 'imr', 'p', 'np', 'c', 'u', 't2'];

/** Computes a control chart: phase-I estimates from `data`, then `newData` judged against them. */
export function chart(opts: ChartOptions): ChartResult {
  if (typeof opts !== 'object' || opts === null) fail('spc.badOptions', 'options', 'expected an object');
  if (!CHART_TYPES.includes(opts.type)) {
    fail(
      'spc.badType',
      'type',
      `${JSON.stringify(opts.type)} is not a chart type (${CHART_TYPES.join(', ')})`,
    );
  }
  const type = opts.type;
  const o = resolveOptions(opts);
  const phase1 = parseAll(type, opts.data, opts.sizes, 'data');
  const dim = phase1[0].vector?.length;
  const phase2 =
    opts.newData === undefined ? [] : parseAll(type, opts.newData, opts.newSizes, 'newData', dim);

  const warnings: string[] = [];
  if (type === 'xbar-r' && o.constants === 'table') {
    const K = constants('table');
    const sizes = [...phase1, ...phase2].map((p) => p.size);
    const d2Beyond = o.limits?.sigma !== undefined && sizes.some((n) => K.beyondTable(n, 'd2'));
    if (d2Beyond || sizes.some((n) => K.beyondTable(n, 'd3'))) {
      warnings.push(
        "subgroups beyond qcc's tables (d2 to n = 25, d3 to n = 50): their constants are computed exactly",
      );
    }
  }
  let included = phase1.map((_, i) => i);
  const maxRounds = opts.iterate === true ? 10 : typeof opts.iterate === 'number' ? opts.iterate : 0;
  if (maxRounds > 0 && !ITERABLE.includes(type)) {
    warnings.push(`iterate is ignored for ${type} charts: their statistics carry over from sample to sample`);
  }
  let params = estimate(type, phase1, o);
  if (maxRounds > 0 && ITERABLE.includes(type) && !o.limits) {
    for (let round = 0; round < maxRounds; round++) {
      const stream = new ChartStream(params);
      const out = included.map((i) => stream.pushSample(phase1[i], 1));
      const keep = included.filter(
        (_, j) =>
          !out[j].point.violations.includes(1) && !(out[j].secondary?.violations.includes(1) ?? false),
      );
      if (keep.length === included.length) break;
      if (keep.length < Math.max(2, Math.ceil(phase1.length / 2))) {
        warnings.push('iteration stopped: more than half of the phase I samples would be excluded');
        break;
      }
      included = keep;
      params = estimate(
        type,
        included.map((i) => phase1[i]),
        o,
      );
    }
    params.samples = included.length;
  }

  const stream = new ChartStream(params);
  const points: ChartPoint[] = [];
  const secondary: ChartPoint[] = [];
  const excludedSet = new Set(phase1.map((_, i) => i).filter((i) => !included.includes(i)));
  phase1.forEach((s, i) => {
    const r = stream.pushSample(s, 1);
    if (excludedSet.has(i)) r.point.excluded = true;
    points.push(r.point);
    if (r.secondary) secondary.push(r.secondary);
  });
  for (const s of phase2) {
    const r = stream.pushSample(s, 2);
    points.push(r.point);
    if (r.secondary) secondary.push(r.secondary);
  }
  const result: ChartResult = {
    type,
    center: type === 'np' ? params.center * mean(phase1.map((s) => s.size)) : params.center,
    sigma: type === 'np' ? Math.sqrt(mean(phase1.map((s) => s.size))) * params.sigma : params.sigma,
    estimator: params.estimator,
    nsigmas: params.nsigmas,
    points,
    params,
  };
  if (type === 'xbar-r' || type === 'xbar-s' || type === 'imr') {
    result.secondary = {
      kind: type === 'xbar-r' ? 'R' : type === 'xbar-s' ? 'S' : 'MR',
      center: params.secondaryCenter as number,
      points: secondary,
    };
  }
  if (excludedSet.size > 0) result.excluded = [...excludedSet];
  if (params.means) {
    result.means = params.means;
    result.covariance = params.covariance;
  }
  if (warnings.length) result.warnings = warnings;
  return result;
}
