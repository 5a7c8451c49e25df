/**
 * The model lifecycle engine (exported as `models` from the package): a versioned registry with verified loads,
 * champion pointer and hash-chained audit log; drift (PSI and two-sample KS per feature against the training
 * reference); shadow and feedback metrics per version; retraining in a worker and gated promotion.
 * No Node-RED import.
 *
 *   import { models } from '@takt/node-red-mes';
 *   const reg = new models.ModelRegistry('/data/registry', 'pump');
 *   await reg.register({ onnx, reference: rows }, { who: 'ana', why: 'first model' });
 *   const mon = new models.DriftMonitor(reg.reference(1)!);
 *   const report = mon.push({ flow: 31, pressure: 1.2 });
 */
export {
  ModelRegistry,
  type Actor,
  type LabelledRows,
  type RegisterInput,
  type RegistryListener,
} from './registry';
export {
  DriftMonitor,
  DRIFT_DEFAULTS,
  kolmogorovQ,
  ksTwoSample,
  psi,
  quantileEdges,
  type DriftOptions,
  type DriftReport,
  type DriftRow,
  type SeriesDrift,
} from './drift';
export {
  ShadowBook,
  toLabel,
  type Decision,
  type Label,
  type ShadowSnapshot,
  type VersionCounts,
  type VersionMetrics,
} from './metrics';
export {
  evaluate,
  promoteGated,
  retrain,
  worseBy,
  MIN_HOLDOUT,
  PROMOTION_MARGIN,
  type PromoteRequest,
  type PromoteResult,
  type RetrainHandle,
  type RetrainRequest,
  type RetrainResult,
} from './lifecycle';
export { ChampionServer, type Served, type ServerEvent, type ServerListener } from './server';
export { buildReference, sampleIndices, REFERENCE_MAX } from './reference';
export { championFeed } from '../core/adaptor';
export {
  followChampion,
  type ChampionEvent,
  type ChampionFeed,
  type FollowCallbacks,
} from '../anomaly/follow';
export {
  ModelOps,
  OPS_ACTIONS,
  type OpsAction,
  type OpsOptions,
  type OpsState,
  type ShadowResult,
  type VersionDecision,
} from './ops';
export { rowsOf, toVector, type Row } from './rows';
export {
  checkCard,
  checkSignature,
  isCheckedVersion,
  isVisionVersion,
  openVerified,
  readImageSignature,
  readSignature,
  tabular,
  verifyQuality,
  verifyVision,
  type CheckedVersion,
  type ImageSignature,
  type OnnxSignature,
  type ServedModel,
  type VisionVersion,
} from './verify';
export { sha256 } from '../core/hash';
export { domainOf, isQualityDomain } from '../learn/registry';
export {
  checkQualityPromotion,
  evaluateQuality,
  openQuality,
  qualityWorseBy,
  retrainQuality,
  MIN_QUALITY_HOLDOUT,
  type QualityRetrainRequest,
  type QualityRetrainResult,
} from './quality';
export { MODEL_DOMAINS } from './types';
export type {
  AuditAction,
  AuditEntry,
  ChampionPointer,
  Evaluation,
  ModelDomain,
  QualityDomain,
  QualityEvaluation,
  QualityInfo,
  ReferenceSample,
  VersionCard,
} from './types';
