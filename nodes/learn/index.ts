/**
 * The learning engine (exported as `learn` from the package): quality prediction from process data with
 * histogram gradient-boosted trees, a ridge baseline, split conformal intervals and TreeSHAP contributions,
 * exported to ONNX-ML tree ensembles that onnxruntime runs. No Node-RED import.
 *
 *   import { learn } from '@takt/node-red-mes';
 *   const { onnx, card } = await learn.fit(X, y, { task: 'regression' });
 *   const p = await learn.Predictor.load(onnx);
 *   const [{ value, lower, upper, contributions }] = await p.predict([x]);
 */
export {
  fit,
  Predictor,
  CARD_KEY,
  checkMatrix,
  conformalQuantile,
  ridge,
  SMALL_DATA_LEARNING_RATE,
  SMALL_DATA_ROWS,
  type FitOptions,
  type FitSplit,
  type LearnCard,
  type Prediction,
  type Task,
} from './model';
export {
  boost,
  binEdges,
  binOf,
  margins,
  treeValue,
  DEFAULT_BOOST,
  type BoostOptions,
  type BoostResult,
  type Ensemble,
  type Tree,
} from './trees';
export { treeShap, treeExpectation } from './shap';
export { ensembleToOnnx, onnxToEnsemble } from './onnx-ml';
export {
  followQuality,
  openServed,
  qualityDomain,
  qualityRegistration,
  REGISTER_WHEN,
  registerDecision,
  residualOf,
  type QualityEvent,
  type QualityFeed,
  type QualityRegistration,
  type RegisterDecision,
  type RegisterWhen,
  type ServedCard,
} from './registry';
