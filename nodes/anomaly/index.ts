/**
 * The anomaly engine (exported as `anomaly` from the package): models trained in the pack (PCA T²+Q, dense
 * autoencoder, MSET, and kinds added with registerModelKind; drifting features at weight 0 or against an adapting level, thresholds calibrated out of
 * sample), ONNX export, ONNX inference with onnxruntime-node, health index and the time until it reaches the
 * alarm level. No Node-RED import.
 *
 *   import { anomaly } from '@takt/node-red-mes';
 *   const t = anomaly.trainModel(X, n, names, { kind: 'pca' });
 *   writeFileSync('m.onnx', anomaly.modelToOnnx(t));
 *   const m = await anomaly.OnnxAnomalyModel.load('m.onnx');
 *   const [r] = await m.score([{ rms: 0.4, kurtosis: 3.1 }]);
 */
export {
  trainModel,
  scoreMatrix,
  scoreSeries,
  scorePca,
  modelToOnnx,
  loadTrainedModel,
  registerModelKind,
  unregisterModelKind,
  modelKind,
  modelKinds,
  isModelKind,
  META,
  MODEL_KINDS,
  CALIBRATIONS,
  DRIFT_MODES,
  type AeParams,
  type KindParams,
  type ModelKindModule,
  type MsetParams,
  type BaselineSpec,
  type Calibration,
  type DriftMode,
  type ModelCard,
  type ModelKind,
  type ModelParams,
  type PcaParams,
  type Scores,
  type TrainedModel,
  type TrainOptions,
} from './models';
export {
  OnnxAnomalyModel,
  type FeatureRow,
  type MissingPolicy,
  type ScoreResult,
  type ScorerOptions,
} from './scorer';
export {
  DEFAULT_FAILURE_INDEX,
  type FailurePrediction,
  HealthTracker,
  healthPercent,
  predictFailure,
  type HealthOptions,
  type HealthState,
  type Rul,
  type TimeToAlarm,
} from './health';
export { saveModel, parseCsv, type SavedModel } from './files';
export * as onnxGraph from './onnx';
export {
  normaliser,
  standardise,
  loadNormalised,
  BUILTIN_KINDS,
  type GraphBody,
  type KindFit,
  type KindOptions,
  type Normalised,
} from './kinds';
export { symmetricEigen, quantile, movingMean, slowShare, trendTest, type Trend } from './linalg';
export { applyBaseline } from './baseline';
export { LiveAnomaly, type LiveOptions, type LiveResult } from './live';
export { RowCollector } from './collect';
export { startTraining, type TrainHandle, type TrainJob, type TrainResult } from './train-job';
