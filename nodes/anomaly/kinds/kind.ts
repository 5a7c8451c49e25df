/**
 * What an anomaly model kind declares (one module per kind under kinds/, listed in kinds/index.ts): how it trains
 * on standardised rows, how it scores in process, the ONNX graph it exports and how it reads its parameters back
 * from that graph. models.ts does everything else (options, drifting features, calibration, the card, metadata)
 * the same way for every kind, through the registry.
 *
 * The contract a kind keeps:
 *   - `train` fits on n×d rows (row-major, raw units); features flagged in `ignore` must not move the score
 *     (weight 0, as `normaliser` does with inverse scale 0);
 *   - `score` gives each row a score ≥ 0 and d contributions that sum to it;
 *   - `export` builds a graph reading the float input `features` [N, d], with outputs `score` [N, 1] and
 *     `contributions` [N, d] that match `score` to about 1e-6 (weights are float32, as onnxruntime computes);
 *   - `load` returns, from such a graph, parameters that `score` as the exported model does.
 */
import type { onnx } from 'onnx-proto';
import type { OnnxModel } from '../../core/onnx';

/** Parameters of every kind: the kind's name and the number of features. */
export interface KindParams {
  readonly kind: string;
  readonly d: number;
}

/** Per-feature standardisation, in the graph as Sub/Mul. */
export interface Normalised {
  d: number;
  mean: Float32Array;
  invScale: Float32Array;
}

export interface Scores {
  n: number;
  d: number;
  score: Float64Array;
  /** n×d, row-major; each row sums to the score. */
  contributions: Float64Array;
}

/** The training options a kind reads (models.ts TrainOptions adds the ones every kind shares). */
export interface KindOptions {
  /** PCA: share of variance the retained components explain (default 0.9), or a fixed count. */
  variance?: number;
  components?: number;
  /** Autoencoder hidden sizes (default [2d, ⌈d/2⌉, 2d], at least 8 and 2). */
  hidden?: number[];
  /** MSET: number of remembered training states (default 150). */
  memory?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  patience?: number;
  seed?: number;
  /** Quantile of the training scores the thresholds use (PCA weighs T² and Q by it). */
  thresholdQuantile?: number;
  onProgress?: (fraction: number, text: string) => void;
}

/** The body of a kind's graph: models.ts adds the input `features`, the name and the metadata. */
export interface GraphBody {
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  outputs: { name: string; width: number }[];
}

export interface KindFit<P extends KindParams> {
  params: P;
  /** Figures for the card (components, epochs, losses, ...). */
  metrics: Record<string, number>;
}

/**
 * One model kind. Methods (not function properties) so that a module of a narrower parameter type registers
 * as a module of any parameters.
 */
export interface ModelKindModule<P extends KindParams = KindParams> {
  /** The name in TrainOptions.kind, the card and the ONNX metadata (`takt.kind`). */
  readonly kind: string;
  /** One line for documentation and errors. */
  readonly description: string;
  train(X: Float64Array, n: number, d: number, o: KindOptions, ignore: readonly boolean[]): KindFit<P>;
  score(p: P, X: ArrayLike<number>, n: number): Scores;
  export(p: P): GraphBody;
  load(m: OnnxModel, d: number): P;
}

/** Mean and inverse standard deviation of each feature; inverse scale 0 for the ignored ones. */
export function normaliser(X: Float64Array, n: number, d: number, ignore: readonly boolean[]): Normalised {
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sd[j] += (X[i * d + j] - mean[j]) ** 2 / (n - 1);
  const invScale = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(sd[j]);
    invScale[j] = ignore[j] ? 0 : 1 / Math.max(s, 1e-6 * Math.max(1, Math.abs(mean[j])));
  }
  return { d, mean: Float32Array.from(mean), invScale };
}

/** Standardised rows, computed from float32-rounded inputs as onnxruntime sees them. */
export function standardise(p: Normalised, X: ArrayLike<number>, n: number): Float64Array {
  const { d, mean, invScale } = p;
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) Z[i * d + j] = (Math.fround(X[i * d + j]) - mean[j]) * invScale[j];
  return Z;
}

/** The standardisation back from a graph (initialisers `mean` and `inv_scale`). */
export function loadNormalised(m: OnnxModel, d: number): Normalised {
  return { d, mean: m.floats('mean'), invScale: m.floats('inv_scale') };
}
