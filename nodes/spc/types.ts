/**
 * Types of the SPC engine's public contract (issue 11). Keep them stable; extend with optional fields only.
 */
import type { ConstantsMode } from './constants';
import type { RuleSpec } from './rules';

export const CHART_TYPES = [
  'xbar-r',
  'xbar-s',
  'imr',
  'p',
  'np',
  'c',
  'u',
  'ewma',
  'cusum',
  't2',
  'mewma',
] as const;
/** The chart types built into the engine (each has a kind in kinds/registry.ts). */
export type BuiltinChartType = (typeof CHART_TYPES)[number];

/**
 * Names of chart kinds added by other modules with registerChartKind(): a module adding kind "zone"
 * declares it here by declaration merging,
 *   declare module '<path>/spc/types' { interface ExtraChartTypes { zone: true } }
 * so that ChartType, chart options and monitor settings accept its name.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ExtraChartTypes {}

export type ChartType = BuiltinChartType | (keyof ExtraChartTypes & string);

/** Known parameters instead of estimates (phase II against standards, or limits frozen earlier). */
export interface KnownLimits {
  center: number;
  sigma?: number;
  /** t2, mewma: the in-control mean vector. */
  means?: number[];
  /** t2, mewma: the in-control covariance matrix. */
  covariance?: number[][];
}

export interface ChartOptions {
  type: ChartType;
  /** Observations (imr, p, np, c, u, ewma, cusum), subgroups (xbar-r, xbar-s, ewma, cusum) or vectors (t2, mewma). */
  data: number[] | number[][];
  /** Inspected units per sample for p, np, u (one number applies to every sample). */
  sizes?: number[] | number;
  nsigmas?: number;
  lambda?: number;
  decisionInterval?: number;
  shift?: number;
  headStart?: number;
  limits?: KnownLimits;
  newData?: number[] | number[][];
  newSizes?: number[] | number;
  rules?: RuleSpec;
  /** Phase I: drop samples beyond the limits and re-estimate until none is left (true: at most 10 rounds). */
  iterate?: boolean | number;
  /** t2, mewma: confidence level of the limits; default (1 − α)^p with α the two-sided tail of nsigmas. */
  confidence?: number;
  /**
   * d2 and d3 from qcc's published tables ('table', the default: results agree with qcc) or computed
   * exactly ('exact'). c4 is exact in both, as in qcc.
   */
  constants?: ConstantsMode;
}

export interface ChartPoint {
  /** 0-based over data, then newData. */
  index: number;
  phase: 1 | 2;
  /** The plotted statistic. */
  stat: number;
  center: number;
  lcl: number;
  ucl: number;
  /** Rule numbers (Nelson numbering) completed at this point. */
  violations: number[];
  /** (stat − center) / sigma of the plotted statistic (zone position). */
  z: number;
  /** Sample size behind the point. */
  size: number;
  /** ewma, cusum: the sample statistic (mean or observation) that fed the plotted statistic. */
  value?: number;
  /** cusum: upper (≥ 0) and lower (≤ 0) cumulative sums in sigma units. */
  upper?: number;
  lower?: number;
  /** t2, mewma: each variable's share of the statistic, T² − T² without that variable. */
  contributions?: number[];
  /** Phase I points dropped while iterating. */
  excluded?: boolean;
}

export interface SecondaryChart {
  /** "R", "S" or "MR". */
  kind: 'R' | 'S' | 'MR';
  center: number;
  points: ChartPoint[];
}

/** Everything a stream needs to judge new samples: the frozen phase-I limits. Plain JSON. */
export interface ChartParams {
  type: ChartType;
  nsigmas: number;
  center: number;
  sigma: number;
  estimator: string;
  rules: RuleSpec;
  lambda?: number;
  decisionInterval?: number;
  shift?: number;
  headStart?: number;
  /** R, S or MR chart centre. */
  secondaryCenter?: number;
  means?: number[];
  covariance?: number[][];
  /** t2 / mewma limit for phase I and for phase II (prediction limit). */
  ucl?: number;
  ucl2?: number;
  /** Number of phase-I samples the limits come from. */
  samples: number;
  /** The constants behind sigma and the R, S and MR limits (absent in limits saved before: 'table'). */
  constants?: ConstantsMode;
}

export interface ChartResult {
  type: ChartType;
  center: number;
  sigma: number;
  estimator: string;
  nsigmas: number;
  points: ChartPoint[];
  secondary?: SecondaryChart;
  /** The frozen limits, to judge later samples with a ChartStream. */
  params: ChartParams;
  /** Phase I indices dropped while iterating. */
  excluded?: number[];
  means?: number[];
  covariance?: number[][];
  warnings?: string[];
}
