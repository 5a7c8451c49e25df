/**
 * Data preparation (exported as `prep` from the package): align samples of many tags into feature rows,
 * window samples or rows, and clean rows for models. No Node-RED import anywhere below.
 *
 *   import { prep } from '@takt/node-red-mes';
 *   const a = new prep.Aligner({ periodMs: 100, agg: 'twa' });
 */
export {
  Aligner,
  AGGREGATIONS,
  type Aggregation,
  type AlignConfig,
  type AlignCounts,
  type AlignSnapshot,
  type AlignSample,
  type FeatureSpec,
} from './aligner';
export { Windower, type Window, type WindowBy, type WindowConfig, type WindowCounts } from './windower';
export {
  Cleaner,
  MISSING_POLICIES,
  SCALINGS,
  type ChangeKind,
  type CleanConfig,
  type CleanFeatureSpec,
  type CleanRow,
  type MissingPolicy,
  type ScalingMethod,
  type ScalingParams,
} from './cleaner';
export { featureNames, nextFeatureName } from './names';
export { IssueLog, isFeatureRow, type FeatureQuality, type FeatureRow, type PrepIssue } from './types';
