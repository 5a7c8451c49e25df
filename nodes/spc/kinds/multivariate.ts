/**
 * Multivariate charts of individual vectors, judged on rule 1 only:
 *
 *   T²     sample mean and covariance; phase I limit (m − 1)²/m · Beta(p/2, (m − p − 1)/2) quantile,
 *          phase II prediction limit p(m + 1)(m − 1)/(m(m − p)) · F(p, m − p) quantile.
 *   MEWMA  Lowry et al. (1992) with time-varying covariance; limit = decision interval, or the χ²(p) quantile.
 */
import { invertSpd } from '../../core/linalg';
import { betaQuantile, chiSquareQuantile, fQuantile, normalSf } from '../numeric';
import {
  type ChartKind,
  type ChartTraits,
  type EstimateOptions,
  type Sample,
  Step,
  type BaseParams,
  fail,
  meanCov,
  toVector,
  toVectors,
} from './common';
import type { ChartParams } from '../types';

const TRAITS: Omit<ChartTraits, 'label' | 'iterable' | 'settings' | 'sameData'> = {
  family: 'multivariate',
  input: 'vector',
  minSubgroup: 1,
  grouping: false,
  sizes: 'none',
  minPhaseOne: 4,
  beyondLimitsOnly: true,
  measured: false,
  cumulative: false,
  capability: false,
  runToRun: false,
  autocorrelation: false,
  tableConstants: false,
};

function defaultConfidence(nsigmas: number, p: number): number {
  return Math.pow(1 - 2 * normalSf(nsigmas), p);
}

function parse(obs: unknown, field: string, dim?: number): Sample {
  const v = toVector(obs, field, dim ?? (Array.isArray(obs) ? obs.length : 0));
  return { value: NaN, size: 1, vector: v };
}

/** Phase I and phase II limits of a multivariate statistic. */
interface Limits {
  ucl: number;
  ucl2: number;
}

/** What a multivariate kind's limits are computed from. */
interface LimitInput {
  m: number;
  p: number;
  conf: number;
  known: boolean;
  o: EstimateOptions;
}

/** Mean vector, covariance and the kind's limits (`limits`) from phase I vectors or known values. */
function estimate(
  samples: Sample[],
  o: EstimateOptions,
  base: BaseParams,
  limits: (x: LimitInput) => Limits,
): ChartParams {
  const known = o.limits;
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
  const { ucl, ucl2 } = limits({ m, p, conf, known: Boolean(known?.means && known.covariance), o });
  return {
    ...base,
    center: 0,
    sigma: 1,
    estimator: known?.means ? 'known' : 'sample covariance',
    means,
    covariance,
    ucl,
    ucl2,
  };
}

/** T²: Beta (phase I) and F (phase II prediction) limits, or χ² with known parameters. */
function t2Limits({ m, p, conf, known }: LimitInput): Limits {
  if (known) {
    const ucl = chiSquareQuantile(conf, p);
    return { ucl, ucl2: ucl };
  }
  return {
    ucl: (((m - 1) * (m - 1)) / m) * betaQuantile(conf, p / 2, (m - p - 1) / 2),
    ucl2: ((p * (m + 1) * (m - 1)) / (m * (m - p))) * fQuantile(conf, p, m - p),
  };
}

/** MEWMA: the decision interval when given, else the χ²(p) quantile. */
function mewmaLimits({ p, conf, o }: LimitInput): Limits {
  const ucl = o.decisionIntervalGiven ? o.decisionInterval : chiSquareQuantile(conf, p);
  return { ucl, ucl2: ucl };
}

/** The statistic d'Σ⁻¹d / scale, its limit for the phase, and each variable's share beyond it. */
function judge(P: ChartParams, d: number[], scale: number, inv: number[][], phase: 1 | 2): Step {
  const sd2 = inv.map((row) => row.reduce((acc, a, j) => acc + a * d[j], 0));
  const stat = d.reduce((acc, v, j) => acc + v * sd2[j], 0) / scale;
  const ucl = (phase === 2 ? P.ucl2 : P.ucl) as number;
  const beyond = stat > ucl;
  const out = new Step(stat, 0, 0, ucl, stat, beyond, 1);
  if (beyond) out.contributions = sd2.map((v, j) => (v * v) / inv[j][j] / scale);
  return out;
}

const prepare = (P: ChartParams): number[][] => invertSpd(P.covariance as number[][]);
const standardError: ChartKind['standardError'] = (P, n) => P.sigma / Math.sqrt(n);

export const T2: ChartKind<'t2', number[][]> = {
  type: 't2',
  traits: { ...TRAITS, label: 'Hotelling T²', iterable: true, settings: ['confidence'], sameData: 't2' },
  parse: (obs, _size, field, dim) => parse(obs, field, dim),
  checkBatch: (data, field, dim) => void toVectors(data, field, dim),
  estimate: (samples, o, base) => estimate(samples, o, base, t2Limits),
  prepare,
  step(P, s, { phase, prepared: inv }) {
    const x = s.vector as number[];
    const mu = P.means as number[];
    return judge(
      P,
      x.map((v, j) => v - mu[j]),
      1,
      inv,
      phase,
    );
  },
  standardError,
};

export const MEWMA: ChartKind<'mewma', number[][]> = {
  type: 'mewma',
  traits: {
    ...TRAITS,
    label: 'MEWMA',
    iterable: false,
    settings: ['lambda', 'decisionInterval', 'confidence'],
    sameData: 'mewma',
  },
  parse: (obs, _size, field, dim) => parse(obs, field, dim),
  checkBatch: (data, field, dim) => void toVectors(data, field, dim),
  estimate: (samples, o, base) => ({ ...estimate(samples, o, base, mewmaLimits), lambda: o.lambda }),
  prepare,
  step(P, s, { state, phase, prepared: inv }) {
    const x = s.vector as number[];
    const mu = P.means as number[];
    const lambda = P.lambda as number;
    state.mz = x.map((v, j) => lambda * (v - mu[j]) + (1 - lambda) * state.mz[j]);
    const scale = (lambda / (2 - lambda)) * (1 - Math.pow(1 - lambda, 2 * state.t));
    return judge(P, state.mz, scale, inv, phase);
  },
  standardError,
};
