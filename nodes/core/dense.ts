/**
 * A small dense neural network in plain TypeScript (Float64Array), trained by mini-batch Adam (Kingma and Ba
 * 2015): the one trainer behind the anomaly autoencoder (tanh hidden layers, linear output, weighted squared
 * reconstruction error) and the SPC pattern classifier (ReLU hidden layers, softmax output, cross-entropy).
 *
 *   x′ = (x − inMean)·inScale                         input standardisation (identity unless set)
 *   a⁽ˡ⁺¹⁾ = act(W⁽ˡ⁾ a⁽ˡ⁾ + b⁽ˡ⁾)                     act = the hidden activation, the output one last
 *
 * Weights are stored [out, in] row-major, as ONNX Gemm with transB = 1 takes them, so a network exports as
 * Sub/Mul, then Gemm and the activation per layer. Initialisation is seeded: Glorot-uniform (±√(6/(in+out))) or
 * He-normal (N(0, 2/in)), biases 0.
 *
 * Losses, per row, summed over the batch by `trainBatch`:
 *   cross-entropy   −log p(label)      (softmax output); the gradient is divided by the batch size in the Adam step
 *   squared-error   Σⱼ wⱼ (outⱼ − x′ⱼ)² (reconstruction of the standardised input; linear output); the output delta
 *                   carries 2wⱼ(outⱼ − x′ⱼ)/m itself.
 * Where the 1/m enters differs between the two because that is how each network was trained before they shared
 * this module; keeping it makes the same seed give the same weights, bit for bit, as before.
 */
import { TaktError } from './errors';
import type { Rng } from './random';

export type HiddenActivation = 'relu' | 'tanh';
export type OutputActivation = 'softmax' | 'linear';

/** Weights of a dense network. */
export interface DenseWeights {
  /** Layer widths, input first, output last, e.g. [40, 64, 32, 9]. */
  sizes: number[];
  /** Input standardisation: x′ = (x − inMean)·inScale. */
  inMean: Float64Array;
  inScale: Float64Array;
  /** Per layer: weights [out·in] (row = output unit) and biases [out]. */
  W: Float64Array[];
  b: Float64Array[];
}

export interface DenseShape {
  hidden: HiddenActivation;
  output: OutputActivation;
}

export type DenseLoss =
  /** Labels index the output units (softmax output). */
  | { kind: 'cross-entropy'; labels: ArrayLike<number> }
  /** Reconstruction of the standardised input with a weight per unit (linear output, as many units as inputs). */
  | { kind: 'squared-error'; weights: ArrayLike<number> };

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 weight decay added to the gradient of the weights (not the biases). */
  weightDecay?: number;
}

export type DenseInit = 'glorot-uniform' | 'he-normal';

const never = (what: string, v: never): never => {
  throw new TaktError('core.badOption', `dense network: unknown ${what} "${String(v)}"`, what);
};

/** Fisher-Yates shuffle in place with the given generator (the order both trainers draw). */
export function shuffle<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

export class DenseNetwork {
  readonly p: DenseWeights;
  readonly shape: DenseShape;
  private readonly acts: Float64Array[];
  private readonly deltas: Float64Array[];
  private gW: Float64Array[] = [];
  private gb: Float64Array[] = [];
  private mW: Float64Array[] = [];
  private vW: Float64Array[] = [];
  private mb: Float64Array[] = [];
  private vb: Float64Array[] = [];
  private step = 0;

  /** Checks that sizes, weights and standardisation agree; `fail` words the error (default core.badModel). */
  constructor(p: DenseWeights, shape: DenseShape, fail?: (reason: string) => Error) {
    const bad = (reason: string) =>
      fail ? fail(reason) : new TaktError('core.badModel', `dense network: ${reason}`, 'model');
    const L = p.sizes.length - 1;
    if (L < 1 || p.W.length !== L || p.b.length !== L) throw bad('sizes, weights and biases disagree');
    for (let l = 0; l < L; l++) {
      if (p.W[l].length !== p.sizes[l] * p.sizes[l + 1] || p.b[l].length !== p.sizes[l + 1])
        throw bad(`layer ${l} has the wrong number of weights`);
    }
    if (p.inMean.length !== p.sizes[0] || p.inScale.length !== p.sizes[0])
      throw bad('input standardisation has the wrong length');
    this.p = p;
    this.shape = { ...shape };
    this.acts = p.sizes.map((n) => new Float64Array(n));
    this.deltas = p.sizes.map((n) => new Float64Array(n));
  }

  /**
   * Seeded initial weights (biases 0) with identity input standardisation. The weights are drawn from `rng`
   * layer by layer, row by row, so the caller may go on drawing from it (e.g. to shuffle).
   */
  static initialWeights(sizes: readonly number[], init: DenseInit, rng: Rng): DenseWeights {
    const W: Float64Array[] = [];
    const b: Float64Array[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const w = new Float64Array(nin * nout);
      switch (init) {
        case 'glorot-uniform': {
          const lim = Math.sqrt(6 / (nin + nout));
          for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-lim, lim);
          break;
        }
        case 'he-normal': {
          const sd = Math.sqrt(2 / nin);
          for (let i = 0; i < w.length; i++) w[i] = sd * rng.normal();
          break;
        }
        default:
          never('init', init);
      }
      W.push(w);
      b.push(new Float64Array(nout));
    }
    return {
      sizes: [...sizes],
      inMean: new Float64Array(sizes[0]),
      inScale: new Float64Array(sizes[0]).fill(1),
      W,
      b,
    };
  }

  /** Sets the input standardisation from data X [n, in] (mean and 1/standard deviation per column). */
  fitInput(X: Float64Array, n: number): void {
    const d = this.p.sizes[0];
    const mean = this.p.inMean;
    const scale = this.p.inScale;
    mean.fill(0);
    scale.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j] / n;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) scale[j] += (X[i * d + j] - mean[j]) ** 2 / Math.max(1, n - 1);
    for (let j = 0; j < d; j++) scale[j] = scale[j] > 1e-12 ? 1 / Math.sqrt(scale[j]) : 1;
  }

  /** Output of row `row` of X into `out` (default: a new array). */
  forward(X: ArrayLike<number>, row = 0, out?: Float64Array): Float64Array {
    this.run(X, row);
    const last = this.acts[this.acts.length - 1];
    const o = out ?? new Float64Array(last.length);
    o.set(last);
    return o;
  }

  /** The standardised input of the last `forward` (what a squared-error loss reconstructs). */
  get input(): Float64Array {
    return this.acts[0];
  }

  /** Outputs of all n rows, row-major [n, out]. */
  predict(X: ArrayLike<number>, n: number): Float64Array {
    const C = this.p.sizes[this.p.sizes.length - 1];
    const P = new Float64Array(n * C);
    for (let i = 0; i < n; i++) this.forward(X, i, P.subarray(i * C, (i + 1) * C));
    return P;
  }

  /**
   * One Adam step on the rows `idx` of X; returns `acc` plus the summed loss of the batch's rows (added row by
   * row and unit by unit, so a caller can keep one running sum over an epoch).
   */
  trainBatch(
    X: ArrayLike<number>,
    idx: ArrayLike<number>,
    loss: DenseLoss,
    opt: AdamOptions,
    acc = 0,
  ): number {
    const { sizes, W, b } = this.p;
    const L = sizes.length - 1;
    if (this.gW.length === 0) {
      const z = (a: Float64Array[]) => a.map((v) => new Float64Array(v.length));
      this.gW = z(W);
      this.gb = z(b);
      this.mW = z(W);
      this.vW = z(W);
      this.mb = z(b);
      this.vb = z(b);
    }
    for (let l = 0; l < L; l++) {
      this.gW[l].fill(0);
      this.gb[l].fill(0);
    }
    const m = idx.length;
    let divisor = 1;
    for (let k = 0; k < m; k++) {
      const row = idx[k];
      this.run(X, row);
      const out = this.acts[L];
      const dL = this.deltas[L];
      switch (loss.kind) {
        case 'cross-entropy': {
          const label = loss.labels[row];
          acc -= Math.log(Math.max(out[label], 1e-300));
          for (let j = 0; j < out.length; j++) dL[j] = out[j] - (j === label ? 1 : 0);
          divisor = m;
          break;
        }
        case 'squared-error': {
          const x0 = this.acts[0];
          const w = loss.weights;
          for (let j = 0; j < out.length; j++) {
            const e = out[j] - x0[j];
            acc += e * e * w[j];
            dL[j] = (2 * e * w[j]) / m;
          }
          break;
        }
        default:
          never('loss', loss);
      }
      this.backward();
    }
    this.adam(opt, divisor);
    return acc;
  }

  /** A deep copy of the weights (for keeping the best epoch). */
  snapshot(): DenseWeights {
    const c = (a: Float64Array[]) => a.map((v) => Float64Array.from(v));
    return {
      sizes: [...this.p.sizes],
      inMean: Float64Array.from(this.p.inMean),
      inScale: Float64Array.from(this.p.inScale),
      W: c(this.p.W),
      b: c(this.p.b),
    };
  }

  /** Accumulates the gradients of the row whose output delta is in deltas[L]. */
  private backward(): void {
    const { sizes, W } = this.p;
    const L = sizes.length - 1;
    const hidden = this.shape.hidden;
    for (let l = L - 1; l >= 0; l--) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const a = this.acts[l];
      const d = this.deltas[l + 1];
      const w = W[l];
      const gw = this.gW[l];
      const gb = this.gb[l];
      for (let o = 0; o < nout; o++) {
        const dv = d[o];
        if (dv === 0) continue;
        gb[o] += dv;
        const off = o * nin;
        for (let i = 0; i < nin; i++) gw[off + i] += dv * a[i];
      }
      if (l > 0) {
        const dp = this.deltas[l];
        dp.fill(0);
        for (let o = 0; o < nout; o++) {
          const dv = d[o];
          if (dv === 0) continue;
          const off = o * nin;
          for (let i = 0; i < nin; i++) dp[i] += dv * w[off + i];
        }
        switch (hidden) {
          case 'relu':
            for (let i = 0; i < nin; i++) if (a[i] <= 0) dp[i] = 0;
            break;
          case 'tanh':
            for (let i = 0; i < nin; i++) dp[i] *= 1 - a[i] * a[i];
            break;
          default:
            never('activation', hidden);
        }
      }
    }
  }

  private adam(opt: AdamOptions, m: number): void {
    const b1 = opt.beta1 ?? 0.9;
    const b2 = opt.beta2 ?? 0.999;
    const eps = opt.eps ?? 1e-8;
    const wd = opt.weightDecay ?? 0;
    this.step++;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    const upd = (p: Float64Array, g: Float64Array, mm: Float64Array, vv: Float64Array, decay: number) => {
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] / m + decay * p[i];
        mm[i] = b1 * mm[i] + (1 - b1) * gi;
        vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
        p[i] -= (opt.lr * (mm[i] / c1)) / (Math.sqrt(vv[i] / c2) + eps);
      }
    };
    for (let l = 0; l < this.p.W.length; l++) {
      upd(this.p.W[l], this.gW[l], this.mW[l], this.vW[l], wd);
      upd(this.p.b[l], this.gb[l], this.mb[l], this.vb[l], 0);
    }
  }

  private run(X: ArrayLike<number>, row: number): void {
    const { sizes, W, b, inMean, inScale } = this.p;
    const L = sizes.length - 1;
    const d0 = sizes[0];
    const a0 = this.acts[0];
    const base = row * d0;
    for (let j = 0; j < d0; j++) a0[j] = (X[base + j] - inMean[j]) * inScale[j];
    const hidden = this.shape.hidden;
    for (let l = 0; l < L; l++) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const a = this.acts[l];
      const z = this.acts[l + 1];
      const w = W[l];
      const bb = b[l];
      const last = l === L - 1;
      for (let o = 0; o < nout; o++) {
        let s = bb[o];
        const off = o * nin;
        for (let i = 0; i < nin; i++) s += w[off + i] * a[i];
        z[o] = last ? s : hidden === 'relu' ? (s < 0 ? 0 : s) : Math.tanh(s);
      }
    }
    const output = this.shape.output;
    switch (output) {
      case 'linear':
        break;
      case 'softmax': {
        const out = this.acts[L];
        let mx = -Infinity;
        for (let j = 0; j < out.length; j++) if (out[j] > mx) mx = out[j];
        let s = 0;
        for (let j = 0; j < out.length; j++) {
          out[j] = Math.exp(out[j] - mx);
          s += out[j];
        }
        for (let j = 0; j < out.length; j++) out[j] /= s;
        break;
      }
      default:
        never('activation', output);
    }
  }
}
