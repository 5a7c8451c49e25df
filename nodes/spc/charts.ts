/**
 * Control charts with the conventions of the R package qcc (version 3) and its default estimators. Each
 * chart type is a kind (kinds/: subgroup X̄-R and X̄-S, individuals I-MR, attributes p, np, c, u,
 * time-weighted EWMA and CUSUM, multivariate T² and MEWMA) that parses its input, estimates its phase-I
 * parameters and judges one sample; this module runs any kind: the batch chart (phase I, iteration,
 * phase II) and the stream that judges samples one at a time against frozen parameters.
 *
 * The constants d2 and d3 come by default from qcc's published tables (constants.ts), so sigma, limits and
 * the statistics built on sigma (CUSUM sums) agree with qcc to rounding; `constants: 'exact'` computes
 * them exactly instead (sigma and limits then differ from qcc's by up to about 0.05%). c4 is exact in both.
 */
import { constants, toConstantsMode } from './constants';
import {
  type ChartKind,
  describe,
  type EstimateOptions,
  fail,
  positive,
  type Sample,
  type StepContext,
  type StreamState,
  toNumber,
  toObservations,
  toSizes,
  toVectors,
} from './kinds/common';
import { chartKind } from './kinds/registry';
import { BEYOND_LIMITS_ONLY, RuleEngine, type RuleEngineState, ruleSet } from './rules';
import type { ChartOptions, ChartParams, ChartPoint, ChartResult, ChartType, KnownLimits } from './types';

export {
  mean,
  meanCov,
  mrSigma,
  range,
  type Sample,
  sd,
  toNumber,
  toObservations,
  toSubgroup,
  toVector,
  withinSigma,
} from './kinds/common';

/** Parses one sample (an observation, a subgroup, a count with its size, or a vector) for a chart type. */
export function parseSample(
  type: ChartType,
  obs: unknown,
  size: unknown,
  field: string,
  dim?: number,
): Sample {
  return chartKind(type).parse(obs, size, field, dim);
}

function parseAll(kind: ChartKind, data: unknown, sizes: unknown, field: string, dim?: number): Sample[] {
  if (!Array.isArray(data)) fail('spc.badData', field, `expected an array, got ${describe(data)}`);
  if (data.length === 0) fail('spc.noData', field, 'no samples');
  const needSizes = kind.traits.sizes === 'required';
  const sz = toSizes(sizes, data.length, `${field === 'data' ? 'sizes' : 'newSizes'}`, needSizes);
  kind.checkBatch?.(data, field, dim);
  return data.map((obs, i) => kind.parse(obs, sz?.[i], `${field}[${i}]`, dim));
}

/** Estimates the chart parameters from phase-I samples (or takes the known ones). */
function estimate(kind: ChartKind, samples: Sample[], o: EstimateOptions): ChartParams {
  const base = { type: kind.type, nsigmas: o.nsigmas, rules: o.rules, samples: samples.length };
  const params = kind.estimate(samples, o, base, constants(o.constants));
  if (kind.traits.measured && !(params.sigma > 0)) {
    fail(
      'spc.noVariation',
      'data',
      `the phase I data show no variation (sigma = ${params.sigma}): limits cannot be set`,
    );
  }
  return params;
}

// ---------------------------------------------------------------- streaming evaluation

/** A stream's state as plain JSON: its parameters, position, memory and run-rule state. */
export interface StreamSnapshot extends StreamState {
  params: ChartParams;
  index: number;
  rules: RuleEngineState;
  rules2: RuleEngineState;
}

export interface StreamOutput {
  point: ChartPoint;
  secondary?: ChartPoint;
}

/**
 * Judges samples one at a time against frozen parameters, with the kind of the chart type. Constant time
 * per sample for I-MR, EWMA, CUSUM and the Shewhart attribute charts (O(n) for a subgroup of n, O(p²) for a
 * vector of p). A bad sample throws before any state changes.
 */
export class ChartStream {
  readonly params: ChartParams;
  private readonly kind: ChartKind;
  private readonly engine: RuleEngine;
  private readonly engine2: RuleEngine;
  /** What the kind's step sees; its state is the stream's memory (one object, updated in place). */
  private readonly ctx: StepContext<unknown>;
  private index = 0;

  constructor(params: ChartParams) {
    this.params = params;
    this.kind = chartKind(params.type, 'params.type');
    const K = constants(params.constants);
    const { beyondLimitsOnly, secondary } = this.kind.traits;
    this.engine = new RuleEngine(
      beyondLimitsOnly ? BEYOND_LIMITS_ONLY : ruleSet(params.rules),
      params.nsigmas,
    );
    this.engine2 = new RuleEngine(
      secondary?.beyondLimitsOnly || beyondLimitsOnly ? BEYOND_LIMITS_ONLY : ruleSet(params.rules),
      params.nsigmas,
    );
    this.ctx = { K, phase: 1, state: this.initial(), prepared: this.kind.prepare?.(params, K) };
  }

  private initial(): StreamState {
    const P = this.params;
    return {
      t: 0,
      prev: null,
      ewma: P.center,
      pos: P.headStart ?? 0,
      neg: P.headStart ?? 0,
      mz: P.means ? P.means.map(() => 0) : [],
    };
  }

  /** Points judged so far (the next point's index). */
  get count(): number {
    return this.index;
  }

  reset(): void {
    this.index = 0;
    this.ctx.state = this.initial();
    this.engine.reset();
    this.engine2.reset();
  }

  snapshot(): StreamSnapshot {
    const st = this.ctx.state;
    return {
      params: this.params,
      index: this.index,
      t: st.t,
      prev: st.prev,
      ewma: st.ewma,
      pos: st.pos,
      neg: st.neg,
      mz: [...st.mz],
      rules: this.engine.snapshot(),
      rules2: this.engine2.snapshot(),
    };
  }

  static restore(s: StreamSnapshot): ChartStream {
    const c = new ChartStream(s.params);
    c.index = s.index;
    c.ctx.state = { t: s.t, prev: s.prev, ewma: s.ewma, pos: s.pos, neg: s.neg, mz: [...s.mz] };
    c.engine.restore(s.rules);
    c.engine2.restore(s.rules2);
    return c;
  }

  /** Validates and judges one sample: a subgroup, an observation, a count (with `size`) or a vector. */
  push(obs: unknown, size?: number, phase: 1 | 2 = 2, field = 'payload'): StreamOutput {
    const s = this.kind.parse(obs, size, field, this.params.means?.length);
    return this.pushSample(s, phase);
  }

  /** Judges a parsed sample. */
  pushSample(s: Sample, phase: 1 | 2): StreamOutput {
    const P = this.params;
    const index = this.index++;
    const ctx = this.ctx;
    ctx.state.t++;
    ctx.phase = phase;
    const r = this.kind.step(P, s, ctx);
    let secondary: ChartPoint | undefined;
    if (r.secondary) {
      const k = P.nsigmas;
      const sec = r.secondary.stat;
      const secSe = r.secondary.se;
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
    const point: ChartPoint = {
      index,
      phase,
      stat: r.stat,
      center: r.center,
      lcl: r.lcl,
      ucl: r.ucl,
      z: r.z,
      size: r.size,
      violations: this.engine.push(r.z, r.beyond, r.trend),
    };
    if (r.value !== undefined) point.value = r.value;
    if (r.upper !== undefined) point.upper = r.upper;
    if (r.lower !== undefined) point.lower = r.lower;
    if (r.contributions) point.contributions = r.contributions;
    return secondary ? { point, secondary } : { point };
  }
}

// ---------------------------------------------------------------- batch chart

function resolveOptions(kind: ChartKind, opts: ChartOptions): EstimateOptions {
  const nsigmas = positive(opts.nsigmas, 'nsigmas', 3);
  const lambda = positive(opts.lambda, 'lambda', 0.2);
  if (lambda > 1) fail('spc.badOption', 'lambda', `${lambda} must be in (0, 1]`);
  const decisionInterval = positive(opts.decisionInterval, 'decisionInterval', 5);
  const shift = positive(opts.shift, 'shift', 1);
  const headStart = opts.headStart === undefined ? 0 : toNumber(opts.headStart, 'headStart');
  kind.checkOptions?.({ nsigmas, lambda, decisionInterval, shift, headStart });
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

/** Computes a control chart: phase-I estimates from `data`, then `newData` judged against them. */
export function chart(opts: ChartOptions): ChartResult {
  if (typeof opts !== 'object' || opts === null) fail('spc.badOptions', 'options', 'expected an object');
  const kind = chartKind(opts.type);
  const type = kind.type;
  const o = resolveOptions(kind, opts);
  const phase1 = parseAll(kind, opts.data, opts.sizes, 'data');
  const dim = phase1[0].vector?.length;
  const phase2 =
    opts.newData === undefined ? [] : parseAll(kind, opts.newData, opts.newSizes, 'newData', dim);

  const warnings: string[] = kind.warnings?.([...phase1, ...phase2], o) ?? [];
  const iterable = kind.traits.iterable;
  let included = phase1.map((_, i) => i);
  const maxRounds = opts.iterate === true ? 10 : typeof opts.iterate === 'number' ? opts.iterate : 0;
  if (maxRounds > 0 && !iterable) {
    warnings.push(`iterate is ignored for ${type} charts: their statistics carry over from sample to sample`);
  }
  let params = estimate(kind, phase1, o);
  if (maxRounds > 0 && iterable && !o.limits) {
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
        kind,
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
    ...(kind.summary?.(params, phase1) ?? { center: params.center, sigma: params.sigma }),
    estimator: params.estimator,
    nsigmas: params.nsigmas,
    points,
    params,
  };
  if (kind.traits.secondary) {
    result.secondary = {
      kind: kind.traits.secondary.kind,
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
