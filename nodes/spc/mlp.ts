/**
 * The control-chart pattern network: a dense network of the core trainer (../core/dense.ts) with ReLU hidden
 * layers and a softmax output, trained with cross-entropy by mini-batch Adam. It trains the shipped pattern model
 * (train-patterns.ts) and is the float64 reference the exported ONNX graph is tested against. Weights are stored
 * [out, in] row-major, as ONNX Gemm with transB = 1 takes them.
 */
import { type AdamOptions, DenseNetwork, type DenseWeights } from '../core/dense';
import { TaktError } from '../core/errors';
import { Rng } from '../core/random';

export type { AdamOptions };

/** Layer widths (input first, classes last), input standardisation, weights and biases. */
export type MlpParams = DenseWeights;

export class Mlp {
  private readonly net: DenseNetwork;

  constructor(p: MlpParams) {
    this.net = new DenseNetwork(
      p,
      { hidden: 'relu', output: 'softmax' },
      (reason) => new TaktError('spc.badModel', `mlp: ${reason}`, 'model'),
    );
  }

  get p(): MlpParams {
    return this.net.p;
  }

  /** He-initialised network with identity input standardisation. */
  static random(sizes: number[], seed: number): Mlp {
    return new Mlp(DenseNetwork.initialWeights(sizes, 'he-normal', new Rng(seed)));
  }

  /** Sets the input standardisation from data X [n, in] (mean and 1/standard deviation per column). */
  fitInput(X: Float64Array, n: number): void {
    this.net.fitInput(X, n);
  }

  /** Class probabilities of row `row` of X into `out` (default: a new array). */
  forward(X: Float64Array, row = 0, out?: Float64Array): Float64Array {
    return this.net.forward(X, row, out);
  }

  /** Probabilities of all n rows, row-major [n, classes]. */
  predict(X: Float64Array, n: number): Float64Array {
    return this.net.predict(X, n);
  }

  /** One Adam step on the rows `idx` of X with labels y; returns the mean cross-entropy of the batch. */
  trainBatch(X: Float64Array, y: ArrayLike<number>, idx: ArrayLike<number>, opt: AdamOptions): number {
    return this.net.trainBatch(X, idx, { kind: 'cross-entropy', labels: y }, opt) / idx.length;
  }

  /** A deep copy of the parameters (for keeping the best epoch). */
  snapshot(): MlpParams {
    return this.net.snapshot();
  }
}
