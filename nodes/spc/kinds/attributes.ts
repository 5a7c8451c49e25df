/**
 * Attributes charts (qcc conventions): p and np (defectives in n inspected), c (defects per sample),
 * u (defects per unit). p̄ = Σ defectives / Σ inspected; per-point limits clipped to [0, 1] (p) or
 * [0, nᵢ] (np); c̄ = mean count; ū = Σ defects / Σ units; lower limits clipped at 0.
 */
import {
  type ChartKind,
  type ChartTraits,
  fail,
  mean,
  positive,
  type Sample,
  shewhart,
  toNumber,
  toObservations,
  weightedMean,
} from './common';
import type { ChartParams } from '../types';

type AttributeType = 'p' | 'np' | 'c' | 'u';

const LABEL: Record<AttributeType, string> = { p: 'p', np: 'np', c: 'c', u: 'u' };

function unreachable(type: never): never {
  throw new Error(`attributes: unknown chart type ${String(type)}`);
}

/** np is charted in counts: the centre and sigma of the average sample. */
function npSummary(params: ChartParams, phase1: Sample[]): { center: number; sigma: number } {
  const nbar = mean(phase1.map((s) => s.size));
  return { center: params.center * nbar, sigma: Math.sqrt(nbar) * params.sigma };
}

function attributeKind<T extends AttributeType>(type: T): ChartKind<T> {
  const traits: ChartTraits = {
    family: 'attributes',
    label: LABEL[type],
    input: 'count',
    minSubgroup: 1,
    grouping: false,
    sizes: type === 'c' ? 'optional' : 'required',
    minPhaseOne: 2,
    beyondLimitsOnly: false,
    measured: false,
    iterable: true,
    cumulative: false,
    capability: false,
    runToRun: false,
    autocorrelation: false,
    tableConstants: false,
    settings: [],
    sameData: type === 'p' || type === 'np' ? 'defectives' : type,
  };
  return {
    type,
    traits,
    parse(obs, size, field) {
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
    },
    checkBatch(data, field) {
      toObservations(data, field);
    },
    estimate(samples, o, base) {
      const known = o.limits;
      const sizes = samples.map((s) => s.size);
      const values = samples.map((s) => s.value);
      const t: AttributeType = type;
      switch (t) {
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
          return {
            ...base,
            center: ubar,
            sigma: Math.sqrt(ubar),
            estimator: known ? 'known' : 'pooled rate',
          };
        }
        default:
          return unreachable(t);
      }
    },
    ...(type === 'np' ? { summary: npSummary } : {}),
    step(P, s) {
      const k = P.nsigmas;
      let stat: number;
      let center = P.center;
      let se: number;
      let lcl: number;
      let ucl: number;
      const t: AttributeType = type;
      switch (t) {
        case 'p':
          stat = s.value / s.size;
          se = Math.sqrt((center * (1 - center)) / s.size);
          lcl = Math.max(0, center - k * se);
          ucl = Math.min(1, center + k * se);
          break;
        case 'np':
          stat = s.value;
          center = P.center * s.size;
          se = Math.sqrt(s.size * P.center * (1 - P.center));
          lcl = Math.max(0, center - k * se);
          ucl = Math.min(s.size, center + k * se);
          break;
        case 'c':
          stat = s.value;
          se = P.sigma;
          lcl = Math.max(0, center - k * se);
          ucl = center + k * se;
          break;
        case 'u':
          stat = s.value / s.size;
          se = Math.sqrt(center / s.size);
          lcl = Math.max(0, center - k * se);
          ucl = center + k * se;
          break;
        default:
          return unreachable(t);
      }
      return shewhart(stat, center, lcl, ucl, se, s.size);
    },
    standardError(P, n) {
      const t: AttributeType = type;
      switch (t) {
        case 'p':
          return Math.sqrt((P.center * (1 - P.center)) / n);
        case 'np':
          return Math.sqrt(n * P.center * (1 - P.center));
        case 'u':
          return Math.sqrt(P.center / n);
        case 'c':
          return P.sigma;
        default:
          return unreachable(t);
      }
    },
  };
}

export const P_CHART = attributeKind('p');
export const NP_CHART = attributeKind('np');
export const C_CHART = attributeKind('c');
export const U_CHART = attributeKind('u');
