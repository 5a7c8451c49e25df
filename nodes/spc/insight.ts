/**
 * What the engine adds beyond the classic charts: change-point estimates, an autocorrelation check with an
 * AR(1) residual chart, a chart-type recommendation, an EWMA run-to-run adjustment proposal, and the
 * interface a control-chart pattern classifier plugs into.
 */
import { TaktError } from '../core/errors';
import { chart, mean, toNumber, toObservations } from './charts';
import { normalSf } from './numeric';
import type { ChartOptions, ChartResult, ChartType } from './types';

// ---------------------------------------------------------------- change point

export interface ChangePoint {
  /** Index of the first sample at the new level (`offset` added). */
  index: number;
  /** Size of the step in `unit`s (sigma units). */
  shift: number;
  /** Estimated level after the change, in the statistic's units. */
  level: number;
  /** Samples since the change (inclusive of the last). */
  samples: number;
  /** Log-likelihood ratio of "step at index" against "no change". */
  llr: number;
}

/**
 * Maximum-likelihood estimate of when a step change in the mean began (Samuel, Pignatiello and Calvin 1998):
 * for the last T statistics with in-control centre μ₀ and per-point standard errors σᵢ, the start τ maximises
 * (Σ_{i≥τ} wᵢ(xᵢ − μ₀))² / Σ_{i≥τ} wᵢ with wᵢ = 1/σᵢ². The shift is reported in `unit` (default: σ of
 * the statistic, pass the process sigma for X̄ charts to get it in process sigma).
 */
export function changePoint(
  stats: readonly number[],
  opts: { center: number; sigma: number | readonly number[]; unit?: number; offset?: number },
): ChangePoint | null {
  const xs = toObservations(stats, 'stats');
  const center = toNumber(opts.center, 'center');
  const sig = (i: number) => (typeof opts.sigma === 'number' ? opts.sigma : opts.sigma[i]);
  const T = xs.length;
  let best = -1;
  let bestT = 0;
  let s = 0;
  let w = 0;
  let bestS = 0;
  let bestW = 1;
  for (let t = T - 1; t >= 0; t--) {
    const si = sig(t);
    if (!(si > 0)) throw new TaktError('spc.badLimits', `sigma[${t}]: must be positive`, 'sigma');
    const wi = 1 / (si * si);
    s += wi * (xs[t] - center);
    w += wi;
    const v = (s * s) / w;
    if (v > best) {
      best = v;
      bestT = t;
      bestS = s;
      bestW = w;
    }
  }
  if (best <= 0) return null;
  const level = center + bestS / bestW;
  const unit = opts.unit ?? (typeof opts.sigma === 'number' ? opts.sigma : mean(opts.sigma as number[]));
  return {
    index: bestT + (opts.offset ?? 0),
    shift: (level - center) / unit,
    level,
    samples: T - bestT,
    llr: best / 2,
  };
}

// ---------------------------------------------------------------- autocorrelation

export interface Autocorrelation {
  r1: number;
  n: number;
  /** r1·√n, approximately N(0, 1) for independent data (Bartlett). */
  z: number;
  /** Two-sided p-value. */
  p: number;
  autocorrelated: boolean;
}

/** Lag-1 sample autocorrelation with a two-sided test at level `alpha` (default 0.05). */
export function autocorrelation(data: readonly number[], alpha = 0.05): Autocorrelation {
  const x = toObservations(data, 'data');
  const n = x.length;
  if (n < 10)
    throw new TaktError(
      'spc.tooFew',
      `data: the autocorrelation check needs at least 10 values, got ${n}`,
      'data',
    );
  const m = mean(x);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    den += (x[i] - m) ** 2;
    if (i > 0) num += (x[i] - m) * (x[i - 1] - m);
  }
  const r1 = den > 0 ? num / den : 0;
  const z = r1 * Math.sqrt(n);
  const p = 2 * normalSf(Math.abs(z));
  return { r1, n, z, p, autocorrelated: p < alpha };
}

export interface Ar1Model {
  phi: number;
  mean: number;
  /** Standard deviation of the residuals (innovations). */
  sigmaE: number;
}

/** Fits x_t − μ = φ(x_{t−1} − μ) + e_t by the lag-1 (Yule-Walker) estimate. */
export function ar1Fit(data: readonly number[]): Ar1Model {
  const x = toObservations(data, 'data');
  if (x.length < 10) throw new TaktError('spc.tooFew', 'data: an AR(1) fit needs at least 10 values', 'data');
  const { r1 } = autocorrelation(x);
  const m = mean(x);
  let ss = 0;
  for (let i = 1; i < x.length; i++) ss += (x[i] - m - r1 * (x[i - 1] - m)) ** 2;
  return { phi: r1, mean: m, sigmaE: Math.sqrt(ss / (x.length - 2)) };
}

/** Streaming AR(1) residuals: the first value gives none, every later one its one-step prediction error. */
export class Ar1Filter {
  readonly model: Ar1Model;
  private prev: number | null;

  constructor(model: Ar1Model, prev: number | null = null) {
    this.model = model;
    this.prev = prev;
  }

  push(x: number): number | undefined {
    const { phi, mean: m } = this.model;
    const e = this.prev === null ? undefined : x - m - phi * (this.prev - m);
    this.prev = x;
    return e;
  }

  reset(): void {
    this.prev = null;
  }

  snapshot(): { model: Ar1Model; prev: number | null } {
    return { model: this.model, prev: this.prev };
  }
}

/**
 * The residual chart for autocorrelated individuals: fits AR(1) on `data` and charts the one-step
 * prediction errors on an I-MR chart (Montgomery 10.4), so that autocorrelation does not raise false alarms.
 */
export function ar1ResidualChart(
  data: readonly number[],
  opts: Omit<ChartOptions, 'type' | 'data'> = {},
): { model: Ar1Model; residuals: number[]; chart: ChartResult } {
  const model = ar1Fit(data);
  const f = new Ar1Filter(model);
  const residuals: number[] = [];
  for (const x of data) {
    const e = f.push(x);
    if (e !== undefined) residuals.push(e);
  }
  const newResiduals: number[] = [];
  if (Array.isArray(opts.newData)) {
    for (const x of opts.newData as number[]) {
      const e = f.push(toNumber(x, 'newData'));
      if (e !== undefined) newResiduals.push(e);
    }
  }
  const rest = { ...opts };
  delete rest.newData;
  return {
    model,
    residuals,
    chart: chart({
      ...rest,
      type: 'imr',
      data: residuals,
      ...(newResiduals.length ? { newData: newResiduals } : {}),
    }),
  };
}

// ---------------------------------------------------------------- chart recommendation

export interface Recommendation {
  type: ChartType;
  /** Chart the AR(1) residuals instead of the raw data. */
  residuals: boolean;
  reason: string;
  alternatives: { type: ChartType; reason: string }[];
  autocorrelation?: Autocorrelation;
}

/**
 * Recommends a chart from the data's shape: vectors → T² (MEWMA for small shifts); subgroups → X̄-R up to
 * 10 per subgroup, X̄-S above; counts with sizes → p/np (count ≤ size) or u; counts alone → c; individuals
 * → I-MR, or the AR(1) residual chart when the lag-1 autocorrelation is significant. EWMA and CUSUM are
 * offered as alternatives for small sustained shifts.
 */
export function recommendChart(data: number[] | number[][], sizes?: number[] | number): Recommendation {
  if (!Array.isArray(data) || data.length === 0)
    throw new TaktError('spc.noData', 'data: no samples', 'data');
  const small = [
    { type: 'ewma' as const, reason: 'detects small sustained shifts (0.5 to 1.5 sigma) sooner' },
    { type: 'cusum' as const, reason: 'detects small sustained shifts sooner and shows when they began' },
  ];
  if (Array.isArray(data[0])) {
    const groups = data as number[][];
    const n = Math.max(...groups.map((g) => g.length));
    if (n === 1) return recommendChart(groups.map((g) => g[0]));
    const type: ChartType = n > 10 ? 'xbar-s' : 'xbar-r';
    return {
      type,
      residuals: false,
      reason:
        n > 10
          ? `subgroups of up to ${n}: the standard deviation uses every value, the range loses efficiency above 10`
          : `subgroups of ${n}: the range is nearly as efficient as the standard deviation up to 10`,
      alternatives: [
        { type: 't2', reason: 'if each array is one vector of correlated variables, not a subgroup' },
        ...small,
      ],
    };
  }
  const x = toObservations(data, 'data');
  const counts = x.every((v) => Number.isInteger(v) && v >= 0);
  if (counts && sizes !== undefined) {
    const sz = typeof sizes === 'number' ? x.map(() => sizes) : sizes;
    const bounded = x.every((v, i) => v <= sz[i]);
    const constant = sz.every((v) => v === sz[0]);
    if (bounded) {
      return {
        type: constant ? 'np' : 'p',
        residuals: false,
        reason: constant
          ? 'defective counts out of a constant sample size'
          : 'defective counts out of varying sample sizes: proportions with per-point limits',
        alternatives: [{ type: 'u', reason: 'if a unit can have several defects' }],
      };
    }
    return {
      type: 'u',
      residuals: false,
      reason: 'defect counts above the sample size: defects per unit',
      alternatives: [{ type: 'c', reason: 'if the inspected amount is constant' }],
    };
  }
  if (counts && x.length >= 2 && mean(x) < 50 && x.some((v) => v !== x[0])) {
    return {
      type: 'c',
      residuals: false,
      reason: 'non-negative integer counts without sample sizes: defects per constant inspection unit',
      alternatives: [
        { type: 'imr', reason: 'if the values are measurements that happen to be whole numbers' },
      ],
    };
  }
  if (x.length >= 10) {
    const ac = autocorrelation(x);
    if (ac.autocorrelated) {
      return {
        type: 'imr',
        residuals: true,
        reason: `lag-1 autocorrelation ${ac.r1.toFixed(2)} (p = ${ac.p.toPrecision(2)}): chart the AR(1) residuals, raw limits would raise false alarms`,
        alternatives: [
          {
            type: 'ewma',
            reason: 'an EWMA of the raw data with wider limits also tolerates autocorrelation',
          },
        ],
        autocorrelation: ac,
      };
    }
    return {
      type: 'imr',
      residuals: false,
      reason: 'individual measurements with no significant autocorrelation',
      alternatives: small,
      autocorrelation: ac,
    };
  }
  return { type: 'imr', residuals: false, reason: 'individual measurements', alternatives: small };
}

// ---------------------------------------------------------------- run-to-run adjustment

export interface R2ROptions {
  /** The value the output should sit at. */
  target: number;
  /** Process gain: output change per unit of setpoint change (default 1). */
  gain?: number;
  /** EWMA weight of the disturbance estimate (default 0.3). */
  lambda?: number;
  /** Propose only when the output correction would exceed this (default 0). */
  deadband?: number;
  /** Largest setpoint change in one proposal (default unlimited). */
  maxStep?: number;
  /** The setpoint in force now (default 0). */
  setpoint?: number;
}

export interface R2RProposal {
  /** Proposed change of the setpoint. */
  offset: number;
  /** Proposed new setpoint. */
  setpoint: number;
  /** Setpoint in force when proposed. */
  current: number;
  /** EWMA estimate of the output the current setpoint gives. */
  predicted: number;
  target: number;
  /** Samples seen so far. */
  samples: number;
}

/**
 * EWMA run-to-run controller (Sachs, Hu and Ingolfsson 1995): output y = a + b·u; the intercept is tracked
 * as aₜ = λ(yₜ − b·u) + (1 − λ)aₜ₋₁, and the setpoint that puts the output on target is (T − aₜ)/b. It only
 * proposes: nothing changes until `accept(setpoint)` reports that a new setpoint is in force (for example
 * after a person approved it), so a rejected proposal is simply proposed again, updated, later.
 */
export class EwmaR2R {
  readonly target: number;
  readonly gain: number;
  readonly lambda: number;
  readonly deadband: number;
  readonly maxStep: number;
  private u: number;
  private a: number;
  private n = 0;

  constructor(o: R2ROptions) {
    this.target = toNumber(o.target, 'target');
    this.gain = o.gain === undefined ? 1 : toNumber(o.gain, 'gain');
    if (this.gain === 0) throw new TaktError('spc.badOption', 'gain: the process gain cannot be 0', 'gain');
    this.lambda = o.lambda === undefined ? 0.3 : toNumber(o.lambda, 'lambda');
    if (!(this.lambda > 0 && this.lambda <= 1))
      throw new TaktError('spc.badOption', 'lambda: must be in (0, 1]', 'lambda');
    this.deadband = o.deadband === undefined ? 0 : Math.abs(toNumber(o.deadband, 'deadband'));
    this.maxStep = o.maxStep === undefined ? Infinity : Math.abs(toNumber(o.maxStep, 'maxStep'));
    this.u = o.setpoint === undefined ? 0 : toNumber(o.setpoint, 'setpoint');
    this.a = this.target - this.gain * this.u;
  }

  get setpoint(): number {
    return this.u;
  }

  /** Takes one output measurement; returns a proposal when the correction exceeds the deadband. */
  observe(y: number): R2RProposal | undefined {
    const v = toNumber(y, 'value');
    this.a = this.lambda * (v - this.gain * this.u) + (1 - this.lambda) * this.a;
    this.n++;
    const predicted = this.a + this.gain * this.u;
    const ideal = (this.target - this.a) / this.gain;
    let offset = ideal - this.u;
    if (Math.abs(offset * this.gain) <= this.deadband) return undefined;
    if (Math.abs(offset) > this.maxStep) offset = Math.sign(offset) * this.maxStep;
    return {
      offset,
      setpoint: this.u + offset,
      current: this.u,
      predicted,
      target: this.target,
      samples: this.n,
    };
  }

  /** Reports the setpoint now in force (after an approved write, or a manual change). */
  accept(setpoint: number): void {
    this.u = toNumber(setpoint, 'setpoint');
  }

  reset(setpoint = this.u): void {
    this.u = setpoint;
    this.a = this.target - this.gain * this.u;
    this.n = 0;
  }

  snapshot(): { u: number; a: number; n: number } {
    return { u: this.u, a: this.a, n: this.n };
  }

  restore(s: { u: number; a: number; n: number }): void {
    this.u = s.u;
    this.a = s.a;
    this.n = s.n;
  }
}

// ---------------------------------------------------------------- pattern classifier (plug-in point)

/** The standard control-chart pattern classes (Western Electric handbook; Pham and Oztemel). */
export const PATTERN_CLASSES = [
  'normal',
  'upward-shift',
  'downward-shift',
  'upward-trend',
  'downward-trend',
  'cycle',
  'systematic',
  'stratification',
  'mixture',
] as const;
export type PatternClass = (typeof PATTERN_CLASSES)[number];

export interface PatternResult {
  pattern: PatternClass;
  confidence: number;
  scores?: Partial<Record<PatternClass, number>>;
}

/**
 * A classifier of the recent window of standardised points z = (stat − centre)/σ. The SPC monitor keeps
 * the window; a classifier (for example an ONNX model) only maps it to a pattern. May be asynchronous.
 */
export interface PatternClassifier {
  /** Number of most recent points it looks at. */
  readonly window: number;
  classify(z: Float64Array): PatternResult | Promise<PatternResult>;
}
