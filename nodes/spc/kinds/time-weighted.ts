/**
 * Time-weighted charts of a mean (single observations or subgroups), judged on rule 1 only because each
 * point carries the ones before it (qcc conventions):
 *
 *   EWMA   λ = 0.2, z₀ = centre, time-varying limits (σ²/nᵢ)·λ/(2 − λ)·(1 − (1 − λ)^{2i}).
 *   CUSUM  on standardised values (x̄ᵢ − centre)/(σ/√nᵢ), k = shift/2, decision interval h, head start.
 *
 * σ: moving ranges for single observations ("MR"), UWAVE-R for subgroups; a mix needs a known sigma.
 */
import {
  type ChartKind,
  type BaseParams,
  type ChartTraits,
  type EstimateOptions,
  type Sample,
  shewhart,
  Step,
  fail,
  mean,
  mrSigma,
  toNumber,
  toSubgroup,
  weightedMean,
  withinSigma,
} from './common';

type TimeWeightedType = 'ewma' | 'cusum';

const TRAITS: Omit<ChartTraits, 'label' | 'cumulative' | 'settings' | 'sameData'> = {
  family: 'time-weighted',
  input: 'observation-or-subgroup',
  minSubgroup: 1,
  grouping: true,
  sizes: 'none',
  minPhaseOne: 2,
  beyondLimitsOnly: true,
  measured: true,
  iterable: false,
  capability: false,
  runToRun: true,
  autocorrelation: false,
  tableConstants: true,
};

function parse(type: TimeWeightedType, obs: unknown, field: string): Sample {
  if (Array.isArray(obs)) {
    const g = toSubgroup(obs, field, 1, type);
    return { value: mean(g), size: g.length, group: g };
  }
  return { value: toNumber(obs, field), size: 1 };
}

/** σ of the observations behind a time-weighted chart (or the known one). */
function processSigma(samples: Sample[], o: EstimateOptions): { sigma: number; estimator: string } {
  const known = o.limits;
  const grouped = samples.some((s) => s.size > 1);
  if (grouped && samples.some((s) => s.size === 1) && known?.sigma === undefined) {
    fail('spc.mixedSizes', 'data', 'mixes single observations and subgroups: give limits.sigma');
  }
  if (known?.sigma !== undefined) return { sigma: known.sigma, estimator: 'known' };
  if (grouped)
    return withinSigma(
      samples.map((s) => s.group as number[]),
      'R',
      o.constants,
    );
  const values = samples.map((s) => s.value);
  if (values.length < 2) fail('spc.noData', 'data', 'at least 2 observations are needed to estimate sigma');
  return { sigma: mrSigma(values, o.constants), estimator: 'MR' };
}

/** Centre, sigma and estimator of the mean behind a time-weighted chart (or the known ones). */
function meanParams(samples: Sample[], o: EstimateOptions, base: BaseParams) {
  const { sigma, estimator } = processSigma(samples, o);
  const center =
    o.limits?.center ??
    weightedMean(
      samples.map((s) => s.value),
      samples.map((s) => s.size),
    );
  return { ...base, center, sigma, estimator };
}

const standardError: ChartKind['standardError'] = (P, n) => P.sigma / Math.sqrt(n);

export const EWMA: ChartKind<'ewma'> = {
  type: 'ewma',
  traits: { ...TRAITS, label: 'EWMA', cumulative: false, settings: ['lambda'], sameData: 'ewma' },
  parse: (obs, _size, field) => parse('ewma', obs, field),
  estimate: (samples, o, base) => ({
    ...meanParams(samples, o, base),
    lambda: o.lambda,
    constants: o.constants,
  }),
  step(P, s, { state }) {
    const k = P.nsigmas;
    const c = P.center;
    const lambda = P.lambda as number;
    state.ewma = lambda * s.value + (1 - lambda) * state.ewma;
    const stat = state.ewma;
    const se =
      (P.sigma / Math.sqrt(s.size)) *
      Math.sqrt((lambda / (2 - lambda)) * (1 - Math.pow(1 - lambda, 2 * state.t)));
    const lcl = c - k * se;
    const ucl = c + k * se;
    const out = shewhart(stat, c, lcl, ucl, se, s.size);
    out.value = s.value;
    return out;
  },
  standardError,
};

export const CUSUM: ChartKind<'cusum'> = {
  type: 'cusum',
  traits: {
    ...TRAITS,
    label: 'CUSUM',
    cumulative: true,
    settings: ['decisionInterval', 'shift', 'headStart'],
    sameData: 'cusum',
  },
  parse: (obs, _size, field) => parse('cusum', obs, field),
  checkOptions(o) {
    if (o.headStart < 0 || o.headStart >= o.decisionInterval) {
      fail(
        'spc.badOption',
        'headStart',
        `${o.headStart} must be at least 0 and below the decision interval ${o.decisionInterval}`,
      );
    }
  },
  estimate: (samples, o, base) => ({
    ...meanParams(samples, o, base),
    constants: o.constants,
    decisionInterval: o.decisionInterval,
    shift: o.shift,
    headStart: o.headStart,
  }),
  step(P, s, { state }) {
    const zi = (s.value - P.center) / (P.sigma / Math.sqrt(s.size));
    const half = (P.shift as number) / 2;
    state.pos = Math.max(0, state.pos + zi - half);
    state.neg = Math.max(0, state.neg - zi - half);
    const stat = state.pos;
    const h = P.decisionInterval as number;
    const out = new Step(stat, 0, -h, h, stat, state.pos > h || state.neg > h, s.size);
    out.value = s.value;
    out.upper = state.pos;
    out.lower = state.neg === 0 ? 0 : -state.neg;
    return out;
  },
  standardError,
};
