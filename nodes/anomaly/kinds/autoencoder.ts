/**
 * A dense tanh autoencoder d-h-b-h-d on standardised features (hidden sizes default [2d, ⌈d/2⌉, 2d], at least 8
 * and 2), trained by the core trainer (../../core/dense.ts: Glorot-uniform initialisation, mini-batch Adam on the
 * weighted squared reconstruction error) with early stopping on a held-out fifth of the rows; the weights of the
 * best validation epoch are kept and rounded to float32. score = mean squared reconstruction error over the
 * features (ignored ones weigh 0), contributions its terms.
 */
import { DenseNetwork, type DenseShape, type DenseWeights, shuffle } from '../../core/dense';
import type { OnnxModel } from '../../core/onnx';
import { Rng } from '../../core/random';
import { floatTensor, int64Tensor, intAttr, op } from '../onnx';
import {
  type GraphBody,
  type KindOptions,
  loadNormalised,
  type ModelKindModule,
  type Normalised,
  normaliser,
  type Scores,
  standardise,
} from './kind';

export interface AeParams extends Normalised {
  kind: 'autoencoder';
  sizes: number[];
  /** Layer l weights [sizes[l+1], sizes[l]] row-major, biases [sizes[l+1]]. */
  W: Float32Array[];
  B: Float32Array[];
  /** Weight of each squared residual in the score: 1/d, 0 for an ignored feature. */
  outW: Float32Array;
}

const SHAPE: DenseShape = { hidden: 'tanh', output: 'linear' };

/** The network of float32 parameters, computing in float64 on already standardised rows. */
function network(p: AeParams): DenseNetwork {
  return new DenseNetwork(
    {
      sizes: p.sizes,
      inMean: new Float64Array(p.d),
      inScale: new Float64Array(p.d).fill(1),
      W: p.W.map((w) => Float64Array.from(w)),
      b: p.B.map((b) => Float64Array.from(b)),
    },
    SHAPE,
  );
}

function scoreAe(p: AeParams, X: ArrayLike<number>, n: number): Scores {
  const d = p.d;
  const Z = standardise(p, X, n);
  const score = new Float64Array(n);
  const contributions = new Float64Array(n * d);
  const net = network(p);
  const out = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const z = Z.subarray(i * d, (i + 1) * d);
    net.forward(Z, i, out);
    let s = 0;
    for (let j = 0; j < d; j++) {
      const c = (z[j] - out[j]) ** 2 * p.outW[j];
      contributions[i * d + j] = c;
      s += c;
    }
    score[i] = s;
  }
  return { n, d, score, contributions };
}

/** Trains the autoencoder in float64 (Adam, mini-batches, early stopping), then rounds to float32. */
function fitAe(
  X: Float64Array,
  n: number,
  d: number,
  o: KindOptions,
  ignore: readonly boolean[],
): { params: AeParams; metrics: Record<string, number> } {
  const norm = normaliser(X, n, d, ignore);
  const outW = Float32Array.from({ length: d }, (_, j) => (ignore[j] ? 0 : 1 / d));
  const Z = standardise(norm, X, n);
  const wide = Math.max(8, 2 * d);
  const hidden = o.hidden ?? [wide, Math.max(2, Math.ceil(d / 2)), wide];
  const sizes = [d, ...hidden, d];
  // One stream draws the initial weights, then the validation split, then every epoch's order.
  const rng = new Rng(o.seed ?? 7, 31);
  const net = new DenseNetwork(DenseNetwork.initialWeights(sizes, 'glorot-uniform', rng), SHAPE);
  const order = shuffle(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
  const nVal = n >= 20 ? Math.max(2, Math.floor(n / 5)) : 0;
  const val = order.slice(0, nVal);
  const train = order.slice(nVal);
  const epochs = o.epochs ?? 300;
  const batch = o.batch ?? 32;
  const lr = o.lr ?? 3e-3;
  const patience = o.patience ?? 25;
  const loss = { kind: 'squared-error', weights: outW } as const;
  const rounded = (w: DenseWeights): AeParams => ({
    kind: 'autoencoder',
    ...norm,
    sizes,
    W: w.W.map((x) => Float32Array.from(x)),
    B: w.b.map((x) => Float32Array.from(x)),
    outW,
  });
  // Validation loss of the float32 weights, as they will be exported.
  const lossOf = (rows: number[]): number => {
    const check = network(rounded(net.p));
    const out = new Float64Array(d);
    let s = 0;
    for (const r of rows) {
      const z = Z.subarray(r * d, (r + 1) * d);
      check.forward(Z, r, out);
      for (let j = 0; j < d; j++) s += (z[j] - out[j]) ** 2 * outW[j];
    }
    return s / Math.max(1, rows.length);
  };
  let best = { loss: Infinity, epoch: 0, weights: net.snapshot() };
  let epoch = 0;
  let trainLoss = 0;
  for (epoch = 1; epoch <= epochs; epoch++) {
    shuffle(train, rng);
    let sum = 0;
    for (let s0 = 0; s0 < train.length; s0 += batch)
      sum = net.trainBatch(Z, train.slice(s0, s0 + batch), loss, { lr }, sum);
    trainLoss = sum / Math.max(1, train.length);
    const vloss = nVal ? lossOf(val) : trainLoss;
    if (vloss < best.loss - 1e-7) best = { loss: vloss, epoch, weights: net.snapshot() };
    if (epoch % 10 === 0)
      o.onProgress?.(epoch / epochs, `epoch ${epoch} loss ${trainLoss.toFixed(4)} val ${vloss.toFixed(4)}`);
    if (epoch - best.epoch >= patience) break;
  }
  return {
    params: rounded(best.weights),
    metrics: { epochs: Math.min(epoch, epochs), bestEpoch: best.epoch, trainLoss, validationLoss: best.loss },
  };
}

function aeGraph(p: AeParams): GraphBody {
  const d = p.d;
  const L = p.sizes.length - 1;
  const nodes = [op('Sub', ['features', 'mean'], ['xc']), op('Mul', ['xc', 'inv_scale'], ['z'])];
  const initializers = [floatTensor('mean', [d], p.mean), floatTensor('inv_scale', [d], p.invScale)];
  let x = 'z';
  for (let l = 0; l < L; l++) {
    initializers.push(floatTensor(`W${l}`, [p.sizes[l + 1], p.sizes[l]], p.W[l]));
    initializers.push(floatTensor(`B${l}`, [p.sizes[l + 1]], p.B[l]));
    const y = l < L - 1 ? `pre${l}` : 'recon';
    nodes.push(op('Gemm', [x, `W${l}`, `B${l}`], [y], [intAttr('transB', 1)]));
    if (l < L - 1) {
      nodes.push(op('Tanh', [y], [`h${l}`]));
      x = `h${l}`;
    }
  }
  initializers.push(floatTensor('out_w', [d], p.outW), int64Tensor('axes', [1]));
  nodes.push(
    op('Sub', ['z', 'recon'], ['resid']),
    op('Mul', ['resid', 'resid'], ['sq']),
    op('Mul', ['sq', 'out_w'], ['contributions']),
    op('ReduceSum', ['contributions', 'axes'], ['score'], [intAttr('keepdims', 1)]),
  );
  return {
    nodes,
    initializers,
    outputs: [
      { name: 'score', width: 1 },
      { name: 'contributions', width: d },
    ],
  };
}

/** Reads the autoencoder back from its graph (layers W0, B0, W1, ... as long as they go). */
function loadAe(m: OnnxModel, d: number): AeParams {
  const sizes = [d];
  const W: Float32Array[] = [];
  const B: Float32Array[] = [];
  for (let l = 0; m.initializers.includes(`W${l}`); l++) {
    W.push(m.floats(`W${l}`));
    B.push(m.floats(`B${l}`));
    sizes.push(m.dims(`W${l}`)[0]);
  }
  return { kind: 'autoencoder', ...loadNormalised(m, d), sizes, W, B, outW: m.floats('out_w') };
}

export const autoencoder: ModelKindModule<AeParams> = {
  kind: 'autoencoder',
  description: 'dense tanh autoencoder, mean squared reconstruction error',
  train: fitAe,
  score: scoreAe,
  export: aeGraph,
  load: loadAe,
};
