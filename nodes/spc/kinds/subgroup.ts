/**
 * Subgroup variables charts: X̄-R and X̄-S (qcc conventions).
 *
 *   X̄-R   centre = size-weighted grand mean; σ = mean(Rᵢ / d2(nᵢ)) ("UWAVE-R"), or the pooled standard
 *          deviation / c4(Σ(nᵢ − 1) + 1) ("RMSDF") when a subgroup is larger than 25; R chart centre =
 *          size-weighted mean range, limits centre ± k·d3(nᵢ)·σ, lower limit clipped at 0.
 *   X̄-S   σ = mean(sᵢ / c4(nᵢ)) ("UWAVE-SD"); S chart centre = size-weighted mean of sᵢ, limits
 *          centre ± k·σ·sqrt(1 − c4(nᵢ)²).
 */
import { constants } from '../constants';
import {
  type ChartKind,
  type ChartTraits,
  mean,
  range,
  sd,
  meanStep,
  toSubgroup,
  toSubgroups,
  weightedMean,
  withinSigma,
} from './common';

type SubgroupType = 'xbar-r' | 'xbar-s';

const TRAITS: Omit<ChartTraits, 'label' | 'secondary' | 'tableConstants'> = {
  family: 'subgroup',
  input: 'subgroup',
  minSubgroup: 2,
  grouping: true,
  sizes: 'none',
  minPhaseOne: 2,
  beyondLimitsOnly: false,
  measured: true,
  iterable: true,
  cumulative: false,
  capability: true,
  runToRun: true,
  autocorrelation: false,
  settings: [],
  sameData: 'subgroups',
};

/** The dispersion statistic behind each chart's sigma and companion chart (every type must say). */
const DISPERSION: { readonly [T in SubgroupType]: 'R' | 'S' } = { 'xbar-r': 'R', 'xbar-s': 'S' };

function subgroupKind<T extends SubgroupType>(type: T): ChartKind<T> {
  const byRange = DISPERSION[type] === 'R';
  const chartName = byRange ? 'an X-bar R chart' : 'an X-bar S chart';
  return {
    type,
    traits: {
      ...TRAITS,
      label: byRange ? 'X-bar R' : 'X-bar S',
      secondary: { kind: byRange ? 'R' : 'S', beyondLimitsOnly: false },
      // the S chart uses c4 only, exact in both modes
      tableConstants: byRange,
    },
    parse(obs, _size, field) {
      const g = toSubgroup(obs, field, 2, chartName);
      return { value: mean(g), size: g.length, group: g };
    },
    checkBatch(data, field) {
      toSubgroups(data, field, 2, chartName);
    },
    estimate(samples, o, base, K) {
      const known = o.limits;
      const sizes = samples.map((s) => s.size);
      const values = samples.map((s) => s.value);
      const groups = samples.map((s) => s.group as number[]);
      const est = withinSigma(groups, byRange ? 'R' : 'S', o.constants);
      const sigma = known?.sigma ?? est.sigma;
      const secStats = groups.map(byRange ? range : sd);
      const secondaryCenter =
        known?.sigma !== undefined
          ? weightedMean(
              sizes.map((n) => (byRange ? K.d2(n) : K.c4(n)) * sigma),
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
    },
    warnings(samples, o) {
      if (!byRange || o.constants !== 'table') return [];
      const K = constants('table');
      const sizes = samples.map((p) => p.size);
      const d2Beyond = o.limits?.sigma !== undefined && sizes.some((n) => K.beyondTable(n, 'd2'));
      if (d2Beyond || sizes.some((n) => K.beyondTable(n, 'd3'))) {
        return [
          "subgroups beyond qcc's tables (d2 to n = 25, d3 to n = 50): their constants are computed exactly",
        ];
      }
      return [];
    },
    step(P, s, { K }) {
      const out = meanStep(P, s);
      const g = s.group as number[];
      out.secondary = byRange
        ? { stat: range(g), se: K.d3(s.size) * P.sigma }
        : { stat: sd(g), se: Math.sqrt(1 - K.c4(s.size) ** 2) * P.sigma };
      return out;
    },
    standardError: (P, n) => P.sigma / Math.sqrt(n),
  };
}

export const XBAR_R = subgroupKind('xbar-r');
export const XBAR_S = subgroupKind('xbar-s');
