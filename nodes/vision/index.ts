/**
 * The vision engine (exported as `vision` from the package): image decoding and preparation, anomaly
 * models learned from good parts only (a PatchCore-style memory bank over a fixed multi-scale filter bank,
 * built as one ONNX graph), models made elsewhere (anomalib-style exports, classifiers: interop.ts),
 * inspection with a score, a map, defect boxes and a heat map, and image-statistics drift. The seeded
 * generator of synthetic inspection images is the simulator's (`sim.renderPart`). No Node-RED import.
 *
 *   import { vision } from '@takt/node-red-mes';
 *   const { onnx, card } = await vision.train(goodPngs, { falseRejectRate: 0.01 });
 *   const inspector = await vision.Inspector.load(onnx);
 *   const { score, threshold, anomalous, defects } = await inspector.inspect(png);
 */
export {
  train,
  thresholdFromGood,
  kCenterCoreset,
  mapRegions,
  verdict,
  readVisionModel,
  heatmapPng,
  CARD_KEY,
  type VisionCard,
  type TrainOptions,
  type TrainResult,
  type Inspection,
  type InspectOptions,
  type Defect,
} from './model';
export {
  prepare,
  encodePng,
  encodeBmp,
  decodeBmp,
  sniffFormat,
  DEFAULT_MAX_PIXELS,
  type ImageInput,
  type RawFrame,
  type Roi,
  type Prepared,
  type PrepareOptions,
  type RawImage,
} from './image';
export { Inspector, type LoadOptions } from './inspector';
/** The SHA-256 of a model file (core/hash.ts), under the name this library has always exported. */
export { sha256 as sha256Hex } from '../core/hash';
export {
  readForeignSpec,
  ForeignModel,
  type ForeignKind,
  type ForeignSpec,
  type VisionResult,
} from './interop';
export {
  ImageDrift,
  imageStats,
  statsReference,
  IMAGE_STATS,
  type ImageStats,
  type ImageStatName,
  type ImageDriftReport,
  type ImageDriftOptions,
} from './stats';
