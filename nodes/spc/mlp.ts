/**
 * A small multilayer perceptron in plain TypeScript (Float64Array): input standardisation, fully connected
 * layers with ReLU, a softmax output, cross-entropy loss, and mini-batch training with Adam (Kingma and Ba
 * 2015). It trains the control-chart pattern model (train-patterns.ts) and is the float64 reference the
 * exported ONNX graph is tested against. Weights are stored [out, in] row-major, as ONNX Gemm with transB = 1
 * takes them.
 */
import { TaktError } from '../core/errors';
import { Rng } from './patterns';

export interface MlpParams {
  /** Layer widths, input first, classes last, e.g. [40, 64, 32, 9]. */
  sizes: number[];
  /** Input standardisation: x′ = (x − inMean)·inScale. */
  inMean: Float64Array;
  inScale: Float64Array;
  /** Per layer: weights [out·in] (row = output unit) and biases [out]. */
  W: Float64Array[];
  b: Float64Array[];
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 weight decay added to the gradient of the weights (not the biases). */
  weightDecay?: number;
}

export class Mlp {
  readonly p: MlpParams;
  private readonly acts: Float64Array[];
  private readonly deltas: Float64Array[];
  private gW: Float64Array[] = [];
  private gb: Float64Array[] = [];
  private mW: Float64Array[] = [];
  private vW: Float64Array[] = [];
  private mb: Float64Array[] = [];
  private vb: Float64Array[] = [];
  private step = 0;

  constructor(p: MlpParams) {
    const L = p.sizes.length - 1;
    if (L < 1 || p.W.length !== L || p.b.length !== L)
      throw new TaktError('spc.badModel', 'mlp: sizes, weights and biases disagree', 'model');
    for (let l = 0; l < L; l++) {
      if (p.W[l].length !== p.sizes[l] * p.sizes[l + 1] || p.b[l].length !== p.sizes[l + 1])
        throw new TaktError('spc.badModel', `mlp: layer ${l} has the wrong number of weights`, 'model');
    }
    if (p.inMean.length !== p.sizes[0] || p.inScale.length !== p.sizes[0])
      throw new TaktError('spc.badModel', 'mlp: input standardisation has the wrong length', 'model');
    this.p = p;
    this.acts = p.sizes.map((n) => new Float64Array(n));
    this.deltas = p.sizes.map((n) => new Float64Array(n));
  }

  /** He-initialised network with identity input standardisation. */
  static random(sizes: number[], seed: number): Mlp {
    const rng = new Rng(seed);
    const W: Float64Array[] = [];
    const b: Float64Array[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const w = new Float64Array(sizes[l] * sizes[l + 1]);
      const sd = Math.sqrt(2 / sizes[l]);
      for (let i = 0; i < w.length; i++) w[i] = sd * rng.normal();
      W.push(w);
      b.push(new Float64Array(sizes[l + 1]));
    }
    return new Mlp({
      sizes: [...sizes],
      inMean: new Float64Array(sizes[0]),
      inScale: new Float64Array(sizes[0]).fill(1),
      W,
      b,
    });
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

  /** Class probabilities of row `row` of X into `out` (default: a new array). */
  forward(X: Float64Array, row = 0, out?: Float64Array): Float64Array {
    this.run(X, row);
    const last = this.acts[this.acts.length - 1];
    const o = out ?? new Float64Array(last.length);
    o.set(last);
    return o;
  }

  /** Probabilities of all n rows, row-major [n, classes]. */
  predict(X: Float64Array, n: number): Float64Array {
    const C = this.p.sizes[this.p.sizes.length - 1];
    const P = new Float64Array(n * C);
    for (let i = 0; i < n; i++) this.forward(X, i, P.subarray(i * C, (i + 1) * C));
    return P;
  }

  /** One Adam step on the rows `idx` of X with labels y; returns the mean cross-entropy of the batch. */
  trainBatch(X: Float64Array, y: ArrayLike<number>, idx: ArrayLike<number>, opt: AdamOptions): number {
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
    let loss = 0;
    const m = idx.length;
    for (let k = 0; k < m; k++) {
      const row = idx[k];
      this.run(X, row);
      const label = y[row];
      const out = this.acts[L];
      loss -= Math.log(Math.max(out[label], 1e-300));
      // output delta: softmax + cross-entropy
      const dL = this.deltas[L];
      for (let j = 0; j < out.length; j++) dL[j] = out[j] - (j === label ? 1 : 0);
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
          for (let i = 0; i < nin; i++) if (a[i] <= 0) dp[i] = 0; // ReLU
        }
      }
    }
    this.adam(opt, m);
    return loss / m;
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

  /** A deep copy of the parameters (for keeping the best epoch). */
  snapshot(): MlpParams {
    const c = (a: Float64Array[]) => a.map((v) => Float64Array.from(v));
    return {
      sizes: [...this.p.sizes],
      inMean: Float64Array.from(this.p.inMean),
      inScale: Float64Array.from(this.p.inScale),
      W: c(this.p.W),
      b: c(this.p.b),
    };
  }

  private run(X: Float64Array, row: number): void {
    const { sizes, W, b, inMean, inScale } = this.p;
    const L = sizes.length - 1;
    const d0 = sizes[0];
    const a0 = this.acts[0];
    const base = row * d0;
    for (let j = 0; j < d0; j++) a0[j] = (X[base + j] - inMean[j]) * inScale[j];
    for (let l = 0; l < L; l++) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const a = this.acts[l];
      const z = this.acts[l + 1];
      const w = W[l];
      const bb = b[l];
      for (let o = 0; o < nout; o++) {
        let s = bb[o];
        const off = o * nin;
        for (let i = 0; i < nin; i++) s += w[off + i] * a[i];
        z[o] = l < L - 1 && s < 0 ? 0 : s;
      }
    }
    // softmax on the last layer
    const out = this.acts[L];
    let mx = -Infinity;
    for (let j = 0; j < out.length; j++) if (out[j] > mx) mx = out[j];
    let s = 0;
    for (let j = 0; j < out.length; j++) {
      out[j] = Math.exp(out[j] - mx);
      s += out[j];
    }
    for (let j = 0; j < out.length; j++) out[j] /= s;
  }
}
