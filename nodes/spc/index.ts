/**
 * The SPC engine (exported as `spc` from the package): control charts, run rules, capability, and what the
 * engine adds (change points, autocorrelation check with AR(1) residual charts, chart recommendation,
 * EWMA run-to-run adjustment, a pattern-classifier plug-in point). No Node-RED import anywhere below.
 *
 *   import { spc } from '@takt/node-red-mes';
 *   const r = spc.chart({ type: 'xbar-r', data: subgroups, newData: later });
 */
export {
  chart,
  ChartStream,
  type StreamOutput,
  type StreamSnapshot,
  withinSigma,
  mrSigma,
  meanCov,
} from './charts';
export {
  rules,
  ruleSet,
  RuleEngine,
  NELSON,
  WESTERN_ELECTRIC,
  RULE_TEXT,
  type RuleHit,
  type RuleSet,
  type RuleSpec,
} from './rules';
export { capability, andersonDarling, type CapabilityResult, type CapabilitySpec } from './capability';
export {
  c4,
  d2,
  d3,
  constants,
  toConstantsMode,
  CONSTANTS_MODES,
  QCC_D2,
  QCC_D3,
  type Constants,
  type ConstantsMode,
} from './constants';
export {
  changePoint,
  autocorrelation,
  ar1Fit,
  Ar1Filter,
  ar1ResidualChart,
  recommendChart,
  EwmaR2R,
  PATTERN_CLASSES,
  type ChangePoint,
  type Autocorrelation,
  type Ar1Model,
  type Recommendation,
  type R2ROptions,
  type R2RProposal,
  type PatternClass,
  type PatternClassifier,
  type PatternResult,
} from './insight';
export {
  SpcMonitor,
  describeAlarm,
  withPattern,
  GROUPINGS,
  type Alarm,
  type FrozenInfo,
  type Grouping,
  type MonitorConfig,
  type MonitorState,
  type SpcEvent,
  type SpcSampleIn,
  type Zone,
} from './monitor';
export {
  OnnxPatternClassifier,
  PatternGenerator,
  patternFeatures,
  featureMatrix,
  featureLength,
  readOnnxMetadata,
  DEFAULT_PATTERN_MODEL,
  DEFAULT_PATTERN_RANGES,
  PATTERN_WINDOW,
  PATTERN_SUMMARY,
  type PatternModelInfo,
  type PatternRanges,
  type PatternSpec,
  type GeneratedPattern,
} from './patterns';
export {
  registerChartKind,
  unregisterChartKind,
  chartKind,
  chartTypes,
  chartTraits,
  isChartType,
} from './kinds/registry';
export {
  Step,
  shewhart,
  toNumber,
  toObservations,
  toSubgroup,
  toVector,
  type BaseParams,
  type ChartInput,
  type ChartKind,
  type ChartSetting,
  type ChartTraits,
  type EstimateOptions,
  type Sample,
  type StepContext,
  type StreamState,
} from './kinds/common';
export * from './types';
