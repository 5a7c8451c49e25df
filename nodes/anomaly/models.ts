/**
 * Anomaly models trained in the pack and exported to ONNX, so that the edge box needs no Python:
 *
 *   pca          PCA on standardised features; Hotelling T² on the retained components and Q (SPE) on the
 *                residual. score = ½·T²/T²ref + ½·Q/Qref (refs: training quantiles), so both statistics weigh alike;
 *                per-feature contributions sum to the score (T² by its complete decomposition z·(PΛ⁻¹Pᵀz)).
 *   mset         multivariate state estimation with a Gaussian similarity over remembered states (mset.ts).
 *   autoencoder  dense tanh autoencoder d-h-b-h-d trained by mini-batch Adam on standardised features, early
 *                stopping on a held-out fifth; score = mean squared reconstruction error, contributions its terms.
 *
 * Normalisation is in the graph. Weights are kept as float32 so that the in-process scorer (`scoreMatrix`) and
 * onnxruntime compute with the same numbers.
 *
 * Drifting features: a feature drifts when the training window shows it moving on a time scale the window cannot
 * cover, so that normal running will carry it out of the window's range: most of its variance lies between
 * consecutive blocks of rows (between-block share, `slowShare` in linalg.ts, above `TrainOptions.slowShare`,
 * default 0.5), or its block medians trend (Mann-Kendall |z| > 2.576, the 1 % level) by a Theil-Sen slope that
 * would move it more than 2 within-block noise widths over one more window (`trendTest` in linalg.ts). Blocks
 * are the health-index window, at least 10 rows and at most an eighth of the training window (shorter windows,
 * under 80 rows, skip both tests). If every feature drifts, none is treated. By default (`drift: 'ignore'`) a
 * drifting feature gets weight 0 (inverse scale 0 in the graph: it stays an input, contributes nothing, and the
 * card lists it under `ignored`). With `drift: 'baseline'` it is scored instead by its deviation from a slowly
 * adapting level (baseline.ts, time constant `baselineRows`, default twice the smoothing window), so that its
 * drift is discounted but a step in it still counts; the model is fitted on those deviations, the card carries the
 * levels (`baseline`) and scoring must run in time order (`scoreSeries` here, OnnxAnomalyModel on line). On SKAB's
 * valve1 files that mode lost to weight 0 (README, bench:skab), hence the default.
 *
 * Following (`follow`, off by default): after training, the other sensors' levels may follow slow changes while
 * the model's health index stays under its threshold and stand still during an alarm (LevelFollower in
 * baseline.ts), for processes whose normal running wanders beyond what one training window shows. A drift that
 * goes on through a long alarm can keep the alarm up after the fault (the levels stood still meanwhile).
 *
 * Threshold: a quantile of calibration scores times a factor, for the raw score and for its moving mean (the
 * health index). By default (`calibration: 'blocked'`) the calibration scores are out of sample: the training
 * rows are cut into `folds` (default 4) consecutive blocks, and each block is scored by a model fitted on the
 * others, so the threshold reflects how the model scores rows it has not seen (including drift between
 * blocks). `calibration: 'in-sample'` scores the training rows with the final model itself.
 */
import { TaktError } from '../core/errors';
import { Rng } from '../core/random';
import { applyBaseline, type BaselineSpec, type FollowSpec, LevelFollower } from './baseline';
import { movingMean, quantile, slowShare, symmetricEigen, trendTest } from './linalg';
import { fitMset, msetGraph, type MsetParams, scoreMsetZ } from './mset';
import { encodeModel, floatTensor, int64Tensor, intAttr, op } from './onnx';

export type { BaselineSpec, FollowSpec, MsetParams };

export const MODEL_KINDS = ['pca', 'autoencoder', 'mset'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export const CALIBRATIONS = ['blocked', 'in-sample'] as const;
export type Calibration = (typeof CALIBRATIONS)[number];

export const DRIFT_MODES = ['baseline', 'ignore'] as const;
export type DriftMode = (typeof DRIFT_MODES)[number];

interface Normalised {
  d: number;
  mean: Float32Array;
  invScale: Float32Array;
}

export interface PcaParams extends Normalised {
  kind: 'pca';
  k: number;
  /** P Λ⁻¹ Pᵀ (d×d): T² = zᵀ M z. */
  M: Float32Array;
  /** P Pᵀ (d×d): the reconstruction of z from its k components. */
  R: Float32Array;
  /** Weights of the T² and Q contributions in the score. */
  a: number;
  b: number;
  explained: number;
}

export interface AeParams extends Normalised {
  kind: 'autoencoder';
  sizes: number[];
  /** Layer l weights [sizes[l+1], sizes[l]] row-major, biases [sizes[l+1]]. */
  W: Float32Array[];
  B: Float32Array[];
  /** Weight of each squared residual in the score: 1/d, 0 for an ignored feature. */
  outW: Float32Array;
}

export type ModelParams = PcaParams | AeParams | MsetParams;

export interface Scores {
  n: number;
  d: number;
  score: Float64Array;
  /** n×d, row-major; each row sums to the score. */
  contributions: Float64Array;
}

export interface TrainOptions {
  kind?: ModelKind;
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
  /** Threshold = quantile(training scores, thresholdQuantile) · thresholdFactor; defaults 1 (the max) and 1. */
  thresholdQuantile?: number;
  thresholdFactor?: number;
  /** Moving-mean window of the health index, in rows (default 30). */
  smoothing?: number;
  /** Threshold calibration scores: out of sample over consecutive blocks (default) or in sample. */
  calibration?: Calibration;
  /** Blocks of the 'blocked' calibration (default 4, at least 2). */
  folds?: number;
  /** A feature whose between-block variance share exceeds this drifts (default 0.5; 1 turns the rule off). */
  slowShare?: number;
  /** A feature with a significant monotone trend that would carry it 2 noise widths in one window drifts. */
  trend?: boolean;
  /** Drifting features: weight 0 (default) or scored against an adapting level. */
  drift?: DriftMode;
  /** Time constant of the adapting level, in rows (default twice the smoothing window). */
  baselineRows?: number;
  /**
   * After training, let the levels of the other sensors follow slow changes with this time constant (rows) while
   * the health index is under its threshold (LevelFollower in baseline.ts); 0 (default) keeps them fixed.
   */
  follow?: number;
  onProgress?: (fraction: number, text: string) => void;
}

export interface ModelCard {
  kind: ModelKind;
  features: string[];
  rows: number;
  range: { min: number[]; max: number[]; mean: number[] };
  threshold: number;
  smoothing: number;
  smoothedThreshold: number;
  thresholdQuantile: number;
  thresholdFactor: number;
  /** How the thresholds were calibrated ('in-sample' when the window is too short for blocks). */
  calibration: Calibration;
  folds: number;
  /** Between-block variance share of each feature in the training window, and the features given weight 0. */
  slowShare: number[];
  ignored: string[];
  /** Mann-Kendall z of each feature's block medians; the features found drifting (slow share or trend). */
  trendZ: number[];
  drifting: string[];
  /** Drifting features scored against an adapting level (baseline.ts); absent when there are none. */
  baseline?: BaselineSpec;
  /** Levels that follow slow changes after training (TrainOptions.follow); absent when off. */
  follow?: FollowSpec;
  metrics: Record<string, number>;
  trainedAt: string;
}

export interface TrainedModel {
  params: ModelParams;
  card: ModelCard;
}

/** Trend rule: Mann-Kendall |z| above the 1 % two-sided level, and a drift over one window of 2 noise widths. */
const TREND_Z = 2.576;
const TREND_NOISE = 2;

function bad(code: string, field: string, message: string): never {
  throw new TaktError(code, `${field}: ${message}`, field);
}

/** Mean and inverse standard deviation of each feature; inverse scale 0 for the ignored ones. */
function normaliser(X: Float64Array, n: number, d: number, ignore: readonly boolean[]): Normalised {
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
function standardise(p: Normalised, X: ArrayLike<number>, n: number): Float64Array {
  const { d, mean, invScale } = p;
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) Z[i * d + j] = (Math.fround(X[i * d + j]) - mean[j]) * invScale[j];
  return Z;
}

function checkMatrix(X: ArrayLike<number>, n: number, d: number, features: readonly string[]): void {
  if (X.length !== n * d) bad('anomaly.badMatrix', 'rows', `expected ${n}×${d} values, got ${X.length}`);
  for (let i = 0; i < n * d; i++)
    if (!Number.isFinite(X[i]))
      bad('anomaly.notFinite', features[i % d] ?? 'rows', `row ${Math.floor(i / d)} is not a finite number`);
}

// ---------------------------------------------------------------- PCA

function fitPca(X: Float64Array, n: number, d: number, o: TrainOptions, ignore: boolean[]): PcaParams {
  const norm = normaliser(X, n, d, ignore);
  const Z = standardise(norm, X, n);
  const C = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) {
      const za = Z[i * d + a];
      for (let b = a; b < d; b++) C[a * d + b] += (za * Z[i * d + b]) / (n - 1);
    }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) C[a * d + b] = C[b * d + a];
  const { values, vectors } = symmetricEigen(C, d);
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0) || 1;
  let k = o.components ?? 0;
  if (!k) {
    const target = o.variance ?? 0.9;
    let acc = 0;
    while (k < d && acc / total < target) acc += Math.max(values[k++], 0);
  }
  k = Math.max(1, Math.min(k, d - 1 > 0 ? d - 1 : 1));
  const M = new Float64Array(d * d);
  const R = new Float64Array(d * d);
  let explained = 0;
  for (let c = 0; c < k; c++) {
    const lam = Math.max(values[c], 1e-9);
    explained += Math.max(values[c], 0) / total;
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        const pp = vectors[a * d + c] * vectors[b * d + c];
        M[a * d + b] += pp / lam;
        R[a * d + b] += pp;
      }
  }
  const p: PcaParams = {
    kind: 'pca',
    ...norm,
    k,
    M: Float32Array.from(M),
    R: Float32Array.from(R),
    a: 1,
    b: 1,
    explained,
  };
  // Reference levels of each statistic on the training rows, so that both weigh alike in the score.
  const { t2, q } = scorePca(p, X, n);
  const tq = o.thresholdQuantile ?? 1;
  p.a = Math.fround(0.5 / Math.max(quantile(t2, tq), 1e-9));
  p.b = Math.fround(0.5 / Math.max(quantile(q, tq), 1e-9 * d));
  return p;
}

/** PCA scores plus each row's T² and Q (SPE). */
export function scorePca(
  p: PcaParams,
  X: ArrayLike<number>,
  n: number,
): Scores & { t2: Float64Array; q: Float64Array } {
  const { d, M, R } = p;
  const Z = standardise(p, X, n);
  const score = new Float64Array(n);
  const contributions = new Float64Array(n * d);
  const t2 = new Float64Array(n);
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let a = 0; a < d; a++) {
      let u = 0;
      let rec = 0;
      for (let b = 0; b < d; b++) {
        u += Z[i * d + b] * M[b * d + a];
        rec += Z[i * d + b] * R[b * d + a];
      }
      const z = Z[i * d + a];
      const ct = u * z;
      const cq = (z - rec) ** 2;
      t2[i] += ct;
      q[i] += cq;
      const c = ct * p.a + cq * p.b;
      contributions[i * d + a] = c;
      s += c;
    }
    score[i] = s;
  }
  return { n, d, score, contributions, t2, q };
}

function pcaGraph(p: PcaParams) {
  const d = p.d;
  return {
    nodes: [
      op('Sub', ['features', 'mean'], ['xc']),
      op('Mul', ['xc', 'inv_scale'], ['z']),
      op('MatMul', ['z', 'M'], ['u']),
      op('Mul', ['u', 'z'], ['t2_terms']),
      op('MatMul', ['z', 'R'], ['rec']),
      op('Sub', ['z', 'rec'], ['resid']),
      op('Mul', ['resid', 'resid'], ['q_terms']),
      op('Mul', ['t2_terms', 'a'], ['t2_w']),
      op('Mul', ['q_terms', 'b'], ['q_w']),
      op('Add', ['t2_w', 'q_w'], ['contributions']),
      op('ReduceSum', ['contributions', 'axes'], ['score'], [intAttr('keepdims', 1)]),
      op('ReduceSum', ['t2_terms', 'axes'], ['t2'], [intAttr('keepdims', 1)]),
      op('ReduceSum', ['q_terms', 'axes'], ['spe'], [intAttr('keepdims', 1)]),
    ],
    initializers: [
      floatTensor('mean', [d], p.mean),
      floatTensor('inv_scale', [d], p.invScale),
      floatTensor('M', [d, d], p.M),
      floatTensor('R', [d, d], p.R),
      floatTensor('a', [1], [p.a]),
      floatTensor('b', [1], [p.b]),
      int64Tensor('axes', [1]),
    ],
    outputs: [
      { name: 'score', width: 1 },
      { name: 'contributions', width: d },
      { name: 't2', width: 1 },
      { name: 'spe', width: 1 },
    ],
  };
}

// ---------------------------------------------------------------- autoencoder

function aeForward(p: AeParams, z: Float64Array, acts: Float64Array[]): Float64Array {
  let x = z;
  acts[0] = z;
  const L = p.sizes.length - 1;
  for (let l = 0; l < L; l++) {
    const nin = p.sizes[l];
    const nout = p.sizes[l + 1];
    const y = new Float64Array(nout);
    const W = p.W[l];
    for (let o = 0; o < nout; o++) {
      let s = p.B[l][o];
      for (let i = 0; i < nin; i++) s += W[o * nin + i] * x[i];
      y[o] = l < L - 1 ? Math.tanh(s) : s;
    }
    acts[l + 1] = y;
    x = y;
  }
  return x;
}

function scoreAe(p: AeParams, X: ArrayLike<number>, n: number): Scores {
  const d = p.d;
  const Z = standardise(p, X, n);
  const score = new Float64Array(n);
  const contributions = new Float64Array(n * d);
  const acts: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const z = Z.subarray(i * d, (i + 1) * d);
    const out = aeForward(p, z, acts);
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
  o: TrainOptions,
  ignore: boolean[],
): { p: AeParams; metrics: Record<string, number> } {
  const norm = normaliser(X, n, d, ignore);
  const outW = Float32Array.from({ length: d }, (_, j) => (ignore[j] ? 0 : 1 / d));
  const Z = standardise(norm, X, n);
  const wide = Math.max(8, 2 * d);
  const hidden = o.hidden ?? [wide, Math.max(2, Math.ceil(d / 2)), wide];
  const sizes = [d, ...hidden, d];
  const L = sizes.length - 1;
  const rng = new Rng(o.seed ?? 7, 31);
  const W = sizes.slice(0, L).map((nin, l) => {
    const lim = Math.sqrt(6 / (nin + sizes[l + 1]));
    return Float64Array.from({ length: nin * sizes[l + 1] }, () => rng.uniform(-lim, lim));
  });
  const B = sizes.slice(1).map((nout) => new Float64Array(nout));
  const params = [...W, ...B];
  const m1 = params.map((a) => new Float64Array(a.length));
  const m2 = params.map((a) => new Float64Array(a.length));
  const grads = params.map((a) => new Float64Array(a.length));
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nVal = n >= 20 ? Math.max(2, Math.floor(n / 5)) : 0;
  const val = order.slice(0, nVal);
  const train = order.slice(nVal);
  const epochs = o.epochs ?? 300;
  const batch = o.batch ?? 32;
  const lr = o.lr ?? 3e-3;
  const patience = o.patience ?? 25;
  const b1 = 0.9;
  const b2 = 0.999;
  let step = 0;
  const live = (): AeParams => ({
    kind: 'autoencoder',
    ...norm,
    sizes,
    W: W.map((w) => Float32Array.from(w)),
    B: B.map((b) => Float32Array.from(b)),
    outW,
  });
  const lossOf = (rows: number[]): number => {
    const p = live();
    const acts: Float64Array[] = [];
    let s = 0;
    for (const r of rows) {
      const z = Z.subarray(r * d, (r + 1) * d);
      const out = aeForward(p, z, acts);
      for (let j = 0; j < d; j++) s += (z[j] - out[j]) ** 2 * outW[j];
    }
    return s / Math.max(1, rows.length);
  };
  let best = { loss: Infinity, epoch: 0, W: W.map((w) => w.slice()), B: B.map((b) => b.slice()) };
  let epoch = 0;
  let trainLoss = 0;
  for (epoch = 1; epoch <= epochs; epoch++) {
    for (let i = train.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [train[i], train[j]] = [train[j], train[i]];
    }
    let sum = 0;
    for (let s0 = 0; s0 < train.length; s0 += batch) {
      const rows = train.slice(s0, s0 + batch);
      for (const g of grads) g.fill(0);
      for (const r of rows) {
        const z = Z.subarray(r * d, (r + 1) * d);
        // forward in float64
        const acts: Float64Array[] = [z];
        let x: Float64Array = z;
        for (let l = 0; l < L; l++) {
          const nin = sizes[l];
          const nout = sizes[l + 1];
          const y = new Float64Array(nout);
          for (let oo = 0; oo < nout; oo++) {
            let s = B[l][oo];
            for (let ii = 0; ii < nin; ii++) s += W[l][oo * nin + ii] * x[ii];
            y[oo] = l < L - 1 ? Math.tanh(s) : s;
          }
          acts.push(y);
          x = y;
        }
        let delta = new Float64Array(d);
        for (let j = 0; j < d; j++) {
          const e = x[j] - z[j];
          sum += e * e * outW[j];
          delta[j] = (2 * e * outW[j]) / rows.length;
        }
        for (let l = L - 1; l >= 0; l--) {
          const nin = sizes[l];
          const nout = sizes[l + 1];
          const xin = acts[l];
          const gW = grads[l];
          const gB = grads[L + l];
          const prev = new Float64Array(nin);
          for (let oo = 0; oo < nout; oo++) {
            const dl = delta[oo];
            gB[oo] += dl;
            for (let ii = 0; ii < nin; ii++) {
              gW[oo * nin + ii] += dl * xin[ii];
              prev[ii] += dl * W[l][oo * nin + ii];
            }
          }
          if (l > 0) for (let ii = 0; ii < nin; ii++) prev[ii] *= 1 - xin[ii] * xin[ii];
          delta = prev;
        }
      }
      step++;
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      params.forEach((w, pi) => {
        const g = grads[pi];
        for (let k = 0; k < w.length; k++) {
          m1[pi][k] = b1 * m1[pi][k] + (1 - b1) * g[k];
          m2[pi][k] = b2 * m2[pi][k] + (1 - b2) * g[k] * g[k];
          w[k] -= (lr * (m1[pi][k] / c1)) / (Math.sqrt(m2[pi][k] / c2) + 1e-8);
        }
      });
    }
    trainLoss = sum / Math.max(1, train.length);
    const vloss = nVal ? lossOf(val) : trainLoss;
    if (vloss < best.loss - 1e-7)
      best = { loss: vloss, epoch, W: W.map((w) => w.slice()), B: B.map((b) => b.slice()) };
    if (epoch % 10 === 0)
      o.onProgress?.(epoch / epochs, `epoch ${epoch} loss ${trainLoss.toFixed(4)} val ${vloss.toFixed(4)}`);
    if (epoch - best.epoch >= patience) break;
  }
  best.W.forEach((w, l) => W[l].set(w));
  best.B.forEach((b, l) => B[l].set(b));
  return {
    p: live(),
    metrics: { epochs: Math.min(epoch, epochs), bestEpoch: best.epoch, trainLoss, validationLoss: best.loss },
  };
}

function aeGraph(p: AeParams) {
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

// ---------------------------------------------------------------- common API

/** Scores rows (n×d row-major) with the in-process model. */
export function scoreMatrix(p: ModelParams, X: ArrayLike<number>, n: number): Scores {
  if (p.kind === 'pca') return scorePca(p, X, n);
  if (p.kind === 'autoencoder') return scoreAe(p, X, n);
  return { n, d: p.d, ...scoreMsetZ(p, standardise(p, X, n), n) };
}

/**
 * Scores rows of a series that starts at the model's first training row, in time order: the drifting features
 * against their adapting level from where training started (card.baseline), the rows after the training window
 * behind the level follower (card.follow), the rest as scoreMatrix does.
 */
export function scoreSeries(t: TrainedModel, X: ArrayLike<number>, n: number): Scores {
  const { baseline: b, follow: f } = t.card;
  if (!b && !f) return scoreMatrix(t.params, X, n);
  const d = t.params.d;
  const Y = Float64Array.from(X);
  if (b) applyBaseline(b, Y, n, d, [...b.start]);
  if (!f || n <= t.card.rows) return scoreMatrix(t.params, Y, n);
  // Training rows as they are; after them, row by row behind the follower.
  const m = t.card.rows;
  const head = scoreMatrix(t.params, Y.subarray(0, m * d), m);
  const score = new Float64Array(n);
  const contributions = new Float64Array(n * d);
  score.set(head.score);
  contributions.set(head.contributions);
  const follower = new LevelFollower(f);
  const row = new Float64Array(d);
  for (let i = m; i < n; i++) {
    row.set(Y.subarray(i * d, (i + 1) * d));
    follower.shift(Y, i, d, row, 0);
    const r = scoreMatrix(t.params, row, 1);
    score[i] = r.score[0];
    contributions.set(r.contributions, i * d);
    follower.update(Y, i, d, score[i]);
  }
  return { n, d, score, contributions };
}

/** Fits one model of `kind` on n rows (n×d), the ignored features at weight 0. */
function fitKind(
  kind: ModelKind,
  X: Float64Array,
  n: number,
  d: number,
  o: TrainOptions,
  ignore: boolean[],
): { params: ModelParams; metrics: Record<string, number> } {
  if (kind === 'pca') {
    const p = fitPca(X, n, d, o, ignore);
    return { params: p, metrics: { components: p.k, explainedVariance: p.explained } };
  }
  if (kind === 'mset') {
    const norm = normaliser(X, n, d, ignore);
    const p = fitMset(standardise(norm, X, n), n, d, norm, o.memory);
    return { params: p, metrics: { memory: p.m } };
  }
  const r = fitAe(X, n, d, o, ignore);
  return { params: r.p, metrics: r.metrics };
}

/**
 * Trains a model on `n` rows of normal data (n×features.length, row-major), gives slow features weight 0 and
 * calibrates its thresholds (module comment). Fewer rows than features, NaN, or an unknown option give a
 * TaktError.
 */
export function trainModel(
  X: ArrayLike<number>,
  n: number,
  features: readonly string[],
  o: TrainOptions = {},
): TrainedModel {
  const kind = o.kind ?? 'pca';
  if (!(MODEL_KINDS as readonly string[]).includes(kind))
    bad('anomaly.badOption', 'kind', `"${String(kind)}" is not one of ${MODEL_KINDS.join(', ')}`);
  const d = features.length;
  if (d < 2) bad('anomaly.badOption', 'features', 'a model needs at least 2 features');
  if (new Set(features).size !== d) bad('anomaly.badOption', 'features', 'feature names must be unique');
  if (!Number.isInteger(n) || n <= d || n < 10)
    bad(
      'anomaly.tooFewRows',
      'rows',
      `${n} training rows for ${d} features: need more rows than features (and at least 10)`,
    );
  checkMatrix(X, n, d, features);
  const tq = o.thresholdQuantile ?? 1;
  const tf = o.thresholdFactor ?? 1;
  const w = Math.max(1, Math.round(o.smoothing ?? 30));
  if (!(tq > 0 && tq <= 1)) bad('anomaly.badOption', 'thresholdQuantile', 'must be in (0, 1]');
  if (!(tf > 0)) bad('anomaly.badOption', 'thresholdFactor', 'must be positive');
  const calibration = o.calibration ?? 'blocked';
  if (!(CALIBRATIONS as readonly string[]).includes(calibration))
    bad(
      'anomaly.badOption',
      'calibration',
      `"${String(calibration)}" is not one of ${CALIBRATIONS.join(', ')}`,
    );
  const folds = o.folds ?? 4;
  if (!(Number.isInteger(folds) && folds >= 2)) bad('anomaly.badOption', 'folds', 'must be an integer >= 2');
  const slowLimit = o.slowShare ?? 0.5;
  if (!(slowLimit > 0 && slowLimit <= 1)) bad('anomaly.badOption', 'slowShare', 'must be in (0, 1]');
  const driftMode = o.drift ?? 'ignore';
  if (!(DRIFT_MODES as readonly string[]).includes(driftMode))
    bad('anomaly.badOption', 'drift', `"${String(driftMode)}" is not one of ${DRIFT_MODES.join(', ')}`);
  const tau = o.baselineRows ?? 2 * w;
  if (!(tau >= 1)) bad('anomaly.badOption', 'baselineRows', 'must be at least 1');
  const follow = o.follow ?? 0;
  if (!(follow === 0 || follow >= 1)) bad('anomaly.badOption', 'follow', 'must be 0 (off) or at least 1 row');
  const raw = Float64Array.from(X);
  o.onProgress?.(0, `training ${kind} on ${n} rows`);
  // Drifting features (module comment): most of the training variance between blocks, or a significant trend.
  const block = Math.min(Math.max(10, w), Math.floor(n / 8));
  const shares = Array.from({ length: d }, (_, j) => (block >= 10 ? slowShare(raw, n, d, j, block) : 0));
  const trends = Array.from({ length: d }, (_, j) =>
    block >= 10 && o.trend !== false ? trendTest(raw, n, d, j, block) : { z: 0, slope: 0, noise: 0 },
  );
  let drifting = shares.map(
    (v, j) =>
      v > slowLimit ||
      (Math.abs(trends[j].z) > TREND_Z && Math.abs(trends[j].slope) * n > TREND_NOISE * trends[j].noise),
  );
  if (drifting.every(Boolean)) drifting = drifting.map(() => false);
  const ignore = drifting.map((v) => v && driftMode === 'ignore');
  let Xf = raw;
  let baseline: BaselineSpec | undefined;
  const adapt = drifting.flatMap((v, j) => (v && driftMode === 'baseline' ? [j] : []));
  if (adapt.length) {
    const first = Math.min(n, block >= 10 ? block : n);
    const start = adapt.map((j) =>
      quantile(
        Array.from({ length: first }, (_, i) => raw[i * d + j]),
        0.5,
      ),
    );
    const level = [...start];
    const spec = { index: adapt, alpha: 1 / tau };
    Xf = Float64Array.from(raw);
    applyBaseline(spec, Xf, n, d, level);
    baseline = { features: adapt.map((j) => features[j]), ...spec, start, level };
  }
  // Calibration scores: out of fold over consecutive blocks when every fold keeps enough rows to fit.
  const blocked = calibration === 'blocked' && n - Math.ceil(n / folds) > Math.max(d, 10);
  const share = blocked ? 1 / (folds + 1) : 1;
  const progress = o.onProgress;
  const main: TrainOptions = { ...o, onProgress: progress && ((f, text) => progress(f * share, text)) };
  const { params, metrics } = fitKind(kind, Xf, n, d, main, ignore);
  const s = scoreMatrix(params, Xf, n).score;
  let cal = s;
  if (blocked) {
    cal = new Float64Array(n);
    const quiet: TrainOptions = { ...o, onProgress: undefined };
    for (let b = 0; b < folds; b++) {
      progress?.(share * (b + 1), `calibrating: block ${b + 1} of ${folds}`);
      const lo = Math.floor((b * n) / folds);
      const hi = Math.floor(((b + 1) * n) / folds);
      const rest = new Float64Array((n - (hi - lo)) * d);
      rest.set(Xf.subarray(0, lo * d));
      rest.set(Xf.subarray(hi * d), lo * d);
      const fold = fitKind(kind, rest, n - (hi - lo), d, quiet, ignore).params;
      cal.set(scoreMatrix(fold, Xf.subarray(lo * d, hi * d), hi - lo).score, lo);
    }
  }
  const threshold = quantile(cal, tq) * tf;
  const smoothedThreshold = quantile(movingMean(cal, w), tq) * tf;
  metrics.meanTrainingScore = s.reduce((a, b) => a + b, 0) / n;
  if (blocked) metrics.meanCalibrationScore = cal.reduce((a, b) => a + b, 0) / n;
  const min: number[] = [];
  const max: number[] = [];
  const mean: number[] = [];
  for (let j = 0; j < d; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = raw[i * d + j];
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      m += v / n;
    }
    min.push(lo);
    max.push(hi);
    mean.push(m);
  }
  const followed = Array.from({ length: d }, (_, j) => j).filter((j) => !adapt.includes(j));
  o.onProgress?.(1, 'trained');
  return {
    params,
    card: {
      kind,
      features: [...features],
      rows: n,
      range: { min, max, mean },
      threshold,
      smoothing: w,
      smoothedThreshold,
      thresholdQuantile: tq,
      thresholdFactor: tf,
      calibration: blocked ? 'blocked' : 'in-sample',
      folds: blocked ? folds : 1,
      slowShare: shares,
      ignored: features.filter((_, j) => ignore[j]),
      trendZ: trends.map((t) => t.z),
      drifting: features.filter((_, j) => drifting[j]),
      ...(baseline ? { baseline } : {}),
      ...(follow
        ? {
            follow: {
              rows: follow,
              features: followed.map((j) => features[j]),
              index: followed,
              mean: followed.map((j) => mean[j]),
              smoothing: w,
              threshold: smoothedThreshold,
            },
          }
        : {}),
      metrics,
      trainedAt: new Date().toISOString(),
    },
  };
}

/** Metadata keys written into the ONNX file (and read back by OnnxAnomalyModel). */
export const META = {
  kind: 'takt.kind',
  features: 'takt.features',
  threshold: 'takt.threshold',
  smoothing: 'takt.smoothing',
  smoothedThreshold: 'takt.smoothedThreshold',
  means: 'takt.means',
  input: 'takt.input',
  score: 'takt.score',
  contributions: 'takt.contributions',
  card: 'takt.card',
} as const;

/** The trained model as ONNX bytes: input `features` [N, d]; outputs `score` [N, 1], `contributions` [N, d]. */
export function modelToOnnx(t: TrainedModel): Uint8Array {
  const g =
    t.params.kind === 'pca'
      ? pcaGraph(t.params)
      : t.params.kind === 'mset'
        ? msetGraph(t.params)
        : aeGraph(t.params);
  const c = t.card;
  return encodeModel({
    name: `takt_${c.kind}`,
    doc: `Takt anomaly model (${c.kind}) over ${c.features.join(', ')}`,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'features', width: t.params.d }],
    outputs: g.outputs,
    metadata: {
      [META.kind]: c.kind,
      [META.features]: JSON.stringify(c.features),
      [META.threshold]: String(c.threshold),
      [META.smoothing]: String(c.smoothing),
      [META.smoothedThreshold]: String(c.smoothedThreshold),
      [META.means]: JSON.stringify(c.range.mean),
      [META.input]: 'features',
      [META.score]: 'score',
      [META.contributions]: 'contributions',
      [META.card]: JSON.stringify(c),
    },
  });
}
