/**
 * What every chart kind shares: the ChartKind contract a kind module implements (how it parses its input,
 * estimates its limits in phase I, judges one sample in phase II, and what it supports), input validation
 * with errors that name the field, and the sample statistics the families build on.
 */
import { TaktError } from '../../core/errors';
import { type Constants, constants, type ConstantsMode } from '../constants';
import type { RuleSpec } from '../rules';
import type { ChartParams, ChartType, KnownLimits } from '../types';

// ---------------------------------------------------------------- validation

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function fail(code: string, field: string, text: string): never {
  throw new TaktError(code, `${field}: ${text}`, field);
}

export function describe(v: unknown): string {
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

export function toSubgroups(data: unknown, field: string, minSize: number, chart: string): number[][] {
  if (!Array.isArray(data))
    fail('spc.badData', field, `expected an array of subgroups, got ${describe(data)}`);
  if (data.length === 0) fail('spc.noData', field, 'no subgroups');
  return data.map((g, i) => toSubgroup(g, `${field}[${i}]`, minSize, chart));
}

export function toSizes(
  sizes: unknown,
  count: number,
  field: string,
  required: boolean,
): number[] | undefined {
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

export function toVectors(data: unknown, field: string, dim?: number): number[][] {
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

export function positive(v: unknown, field: string, dflt: number): number {
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

export function weightedMean(values: readonly number[], weights: readonly number[]): number {
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

// ---------------------------------------------------------------- the kind contract

/** Sample statistic and size of one input, as the given chart sees it (validated). */
export interface Sample {
  value: number;
  size: number;
  /** R, S or MR input: the subgroup, for secondary statistics. */
  group?: number[];
  vector?: number[];
}

/** Chart options after validation, as phase I estimation reads them. */
export interface EstimateOptions {
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

/** Chart parameters every kind sets (estimate() spreads them into its result). */
export type BaseParams = Pick<ChartParams, 'type' | 'nsigmas' | 'rules' | 'samples'>;

/** The memory a stream carries from sample to sample (kept in snapshots; plain JSON). */
export interface StreamState {
  /** Count of points since the start of the chart (EWMA/MEWMA time-varying limits). */
  t: number;
  /** The previous observation (moving range). */
  prev: number | null;
  /** The smoothed statistic (starts at the centre). */
  ewma: number;
  /** Upper and lower cumulative sums (start at the head start). */
  pos: number;
  neg: number;
  /** A smoothed vector (starts at zeros). */
  mz: number[];
}

/** What a kind's step sees besides the sample: the constants, the phase and the stream's memory. */
export interface StepContext<C> {
  K: Constants;
  phase: 1 | 2;
  state: StreamState;
  /** What the kind's prepare() computed once from the frozen parameters. */
  prepared: C;
}

/**
 * One judged sample, before the run rules: the stream turns it into a ChartPoint. A class, so that every
 * kind's result has the same shape (the stream's hot path stays monomorphic).
 */
export class Step {
  /** The value the trend rule (Nelson 3) reads. */
  readonly trend: number;
  /** ewma, cusum: the sample statistic that fed the plotted one. */
  value: number | undefined = undefined;
  /** cusum: upper (≥ 0) and lower (≤ 0) cumulative sums. */
  upper: number | undefined = undefined;
  lower: number | undefined = undefined;
  /** Multivariate: each variable's share of the statistic. */
  contributions: number[] | undefined = undefined;
  /** The dispersion statistic of the companion chart (R, S, MR) and its standard error. */
  secondary: { stat: number; se: number } | undefined = undefined;

  constructor(
    readonly stat: number,
    readonly center: number,
    readonly lcl: number,
    readonly ucl: number,
    /** Zone position the run rules read. */
    readonly z: number,
    /** Beyond the limits (rule 1). */
    readonly beyond: boolean,
    readonly size: number,
    trend?: number,
  ) {
    this.trend = trend ?? z;
  }
}

/** A Shewhart chart of the sample mean: limits centre ± k·σ/√n. */
export function meanStep(P: ChartParams, s: Sample): Step {
  const k = P.nsigmas;
  const center = P.center;
  const se = P.sigma / Math.sqrt(s.size);
  return shewhart(s.value, center, center - k * se, center + k * se, se, s.size);
}

/** A Shewhart point: z = (stat − centre)/se, beyond outside [lcl, ucl], the trend rule on the statistic. */
export function shewhart(
  stat: number,
  center: number,
  lcl: number,
  ucl: number,
  se: number,
  size: number,
): Step {
  const z = se > 0 ? (stat - center) / se : 0;
  return new Step(stat, center, lcl, ucl, z, stat > ucl || stat < lcl, size, stat);
}

/** Input a kind takes for one sample. */
export type ChartInput = 'subgroup' | 'observation' | 'observation-or-subgroup' | 'count' | 'vector';

/** Chart settings a kind reads (the editor shows their fields for it). */
export type ChartSetting = 'lambda' | 'decisionInterval' | 'shift' | 'headStart' | 'confidence';

/**
 * What a chart kind supports. The monitor, the batch chart and the editor read these instead of testing
 * chart names. Plain JSON (served to the editor).
 */
export interface ChartTraits {
  /** The family module it belongs to. */
  family: string;
  /** English name (the editor's label when the message catalogue has none). */
  label: string;
  input: ChartInput;
  /** Smallest subgroup the kind can chart (a range or a standard deviation needs 2). */
  minSubgroup: number;
  /** Values may be grouped into subgroups by count, time window or field (else one sample per message). */
  grouping: boolean;
  /** Sample sizes (inspected units): required, optional (default 1) or not used. */
  sizes: 'required' | 'optional' | 'none';
  /** Fewest phase-I samples the monitor accepts. */
  minPhaseOne: number;
  /** Judged on rule 1 (beyond the limits) only: the statistic carries over, run rules do not apply. */
  beyondLimitsOnly: boolean;
  /** A measured variable with a process sigma (no variation is an error; change points in sigma units). */
  measured: boolean;
  /** Phase I may drop out-of-control samples and re-estimate (samples are independent). */
  iterable: boolean;
  /** The companion dispersion chart, and whether it is judged on rule 1 only. */
  secondary?: { kind: 'R' | 'S' | 'MR'; beyondLimitsOnly: boolean };
  /** The statistic is a pair of one-sided cumulative sums against a decision interval. */
  cumulative: boolean;
  /** Process capability is computed from phase I when specification limits are given. */
  capability: boolean;
  /** Run-to-run adjustment proposals. */
  runToRun: boolean;
  /** Phase I is checked for autocorrelation (AR(1) residual chart on request). */
  autocorrelation: boolean;
  /** Sigma or limits use d2/d3, so 'table' and 'exact' constants differ. */
  tableConstants: boolean;
  /** Chart settings it reads. */
  settings: readonly ChartSetting[];
  /** Kinds charting the same data: a recommendation of another kind with the same key is no warning. */
  sameData: string;
}

/**
 * A chart kind. A family module exports one per chart type; the registry (kinds/registry.ts) lists the
 * built-in ones and registerChartKind() adds others. `C` is what prepare() computes once per stream.
 */
export interface ChartKind<T extends ChartType = ChartType, C = unknown> {
  readonly type: T;
  readonly traits: ChartTraits;
  /** Parses one sample (an observation, a subgroup, a count with its size, or a vector). */
  parse(obs: unknown, size: unknown, field: string, dim?: number): Sample;
  /** Checks a whole phase I or phase II data set before its samples are parsed (shape errors first). */
  checkBatch?(data: unknown[], field: string, dim?: number): void;
  /** Checks the resolved options that only this kind reads. */
  checkOptions?(
    o: Pick<EstimateOptions, 'nsigmas' | 'lambda' | 'decisionInterval' | 'shift' | 'headStart'>,
  ): void;
  /** Phase I: the chart parameters from the samples (or the known limits in `o.limits`). */
  estimate(samples: Sample[], o: EstimateOptions, base: BaseParams, K: Constants): ChartParams;
  /** Warnings on a batch chart (phase I and II samples). */
  warnings?(samples: Sample[], o: EstimateOptions): string[];
  /** Reported centre and sigma of a batch chart when they differ from the parameters' (np: in counts). */
  summary?(params: ChartParams, phase1: Sample[]): { center: number; sigma: number };
  /** Computed once per stream from the frozen parameters. */
  prepare?(params: ChartParams, K: Constants): C;
  /** Phase II (and the phase I replay): judges one sample. Updates ctx.state, never throws. */
  step(params: ChartParams, s: Sample, ctx: StepContext<C>): Step;
  /** Standard error of the plotted Shewhart statistic (of the sample mean for time-weighted charts). */
  standardError(params: ChartParams, n: number): number;
}
