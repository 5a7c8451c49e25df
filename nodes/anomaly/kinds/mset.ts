/**
 * MSET (multivariate state estimation technique) with a Gaussian similarity: a memory D of m training states
 * (standardised), G = K(D, D) + λI (λ = 0.1), and for a new state z the estimate ẑ = K(z, D)·G⁻¹·D, with
 * G⁻¹·D folded into one matrix so the graph needs a single product; the score is the
 * mean squared residual z − ẑ. Far from every remembered state the similarities vanish, the estimate falls to
 * the training mean and the residual grows. The memory holds the rows with the extreme value of each feature
 * plus rows evenly spaced in time, up to `memory` (default 150).
 */
import type { OnnxModel } from '../../core/onnx';
import { floatTensor, int64Tensor, intAttr, op } from '../onnx';
import {
  type GraphBody,
  loadNormalised,
  type ModelKindModule,
  normaliser,
  type Scores,
  standardise,
} from './kind';

export interface MsetParams {
  kind: 'mset';
  d: number;
  mean: Float32Array;
  invScale: Float32Array;
  m: number;
  /** Memory states m×d and their squared norms. */
  D: Float32Array;
  Dn: Float32Array;
  /** (K(D, D) + λI)⁻¹·D, m×d: the estimate is K(z, D)·W. */
  W: Float32Array;
  /** 1 / kernel bandwidth (squared distance). */
  invH: number;
}

/** Inverse of a symmetric positive-definite m×m matrix by Gauss-Jordan with partial pivoting. */
function invert(A0: Float64Array, m: number): Float64Array {
  const A = Float64Array.from(A0);
  const I = new Float64Array(m * m);
  for (let i = 0; i < m; i++) I[i * m + i] = 1;
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r * m + c]) > Math.abs(A[p * m + c])) p = r;
    if (p !== c)
      for (let k = 0; k < m; k++) {
        [A[c * m + k], A[p * m + k]] = [A[p * m + k], A[c * m + k]];
        [I[c * m + k], I[p * m + k]] = [I[p * m + k], I[c * m + k]];
      }
    const piv = A[c * m + c];
    for (let k = 0; k < m; k++) {
      A[c * m + k] /= piv;
      I[c * m + k] /= piv;
    }
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = A[r * m + c];
      if (f === 0) continue;
      for (let k = 0; k < m; k++) {
        A[r * m + k] -= f * A[c * m + k];
        I[r * m + k] -= f * I[c * m + k];
      }
    }
  }
  return I;
}

function timesD(Gi: Float64Array, D: Float32Array, m: number, d: number): Float64Array {
  const W = new Float64Array(m * d);
  for (let a = 0; a < m; a++)
    for (let k = 0; k < m; k++) {
      const g = Gi[a * m + k];
      for (let j = 0; j < d; j++) W[a * d + j] += g * D[k * d + j];
    }
  return W;
}

/** Fits the memory and kernel on standardised rows Z (n×d). */
export function fitMset(
  Z: Float64Array,
  n: number,
  d: number,
  norm: { mean: Float32Array; invScale: Float32Array },
  memory = 150,
  lambda = 0.1,
): MsetParams {
  const pick = new Set<number>();
  for (let j = 0; j < d; j++) {
    let lo = 0;
    let hi = 0;
    for (let i = 1; i < n; i++) {
      if (Z[i * d + j] < Z[lo * d + j]) lo = i;
      if (Z[i * d + j] > Z[hi * d + j]) hi = i;
    }
    pick.add(lo).add(hi);
  }
  const m = Math.min(n, Math.max(memory, pick.size));
  for (let k = 0; pick.size < m && k < n; k++) pick.add(Math.floor((k * n) / Math.min(n, m)) % n);
  for (let i = 0; pick.size < m && i < n; i++) pick.add(i);
  const rows = [...pick].sort((a, b) => a - b);
  const D = new Float32Array(m * d);
  rows.forEach((r, k) => {
    for (let j = 0; j < d; j++) D[k * d + j] = Z[r * d + j];
  });
  const Dn = new Float32Array(m);
  for (let k = 0; k < m; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += D[k * d + j] ** 2;
    Dn[k] = s;
  }
  const dist = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (D[a * d + j] - D[b * d + j]) ** 2;
    return s;
  };
  const all: number[] = [];
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) all.push(dist(a, b));
  all.sort((x, y) => x - y);
  const h = Math.max(all[Math.floor(all.length / 2)] ?? 1, 1e-6);
  const invH = Math.fround(1 / h);
  const G = new Float64Array(m * m);
  for (let a = 0; a < m; a++)
    for (let b = 0; b < m; b++) G[a * m + b] = Math.exp(-dist(a, b) * invH) + (a === b ? lambda : 0);
  return {
    kind: 'mset',
    d,
    mean: norm.mean,
    invScale: norm.invScale,
    m,
    D,
    Dn,
    W: Float32Array.from(timesD(invert(G, m), D, m, d)),
    invH,
  };
}

/** Scores standardised rows; returns score (n) and contributions (n×d). */
export function scoreMsetZ(
  p: MsetParams,
  Z: Float64Array,
  n: number,
): { score: Float64Array; contributions: Float64Array } {
  const { d, m, D, Dn, W, invH } = p;
  const score = new Float64Array(n);
  const contributions = new Float64Array(n * d);
  const s = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    let zz = 0;
    for (let j = 0; j < d; j++) zz += Z[i * d + j] ** 2;
    for (let k = 0; k < m; k++) {
      let zd = 0;
      for (let j = 0; j < d; j++) zd += Z[i * d + j] * D[k * d + j];
      s[k] = Math.exp(-(zz - 2 * zd + Dn[k]) * invH);
    }
    let tot = 0;
    for (let j = 0; j < d; j++) {
      let est = 0;
      for (let k = 0; k < m; k++) est += s[k] * W[k * d + j];
      const c = (Z[i * d + j] - est) ** 2 / d;
      contributions[i * d + j] = c;
      tot += c;
    }
    score[i] = tot;
  }
  return { score, contributions };
}

export function msetGraph(p: MsetParams): GraphBody {
  const { d, m } = p;
  const Dt = new Float32Array(d * m);
  for (let k = 0; k < m; k++) for (let j = 0; j < d; j++) Dt[j * m + k] = p.D[k * d + j];
  return {
    nodes: [
      op('Sub', ['features', 'mean'], ['xc']),
      op('Mul', ['xc', 'inv_scale'], ['z']),
      op('Mul', ['z', 'z'], ['z2']),
      op('ReduceSum', ['z2', 'axes'], ['zz'], [intAttr('keepdims', 1)]),
      op('MatMul', ['z', 'Dt'], ['zd']),
      op('Mul', ['zd', 'minus2'], ['zd2']),
      op('Add', ['zd2', 'zz'], ['dz']),
      op('Add', ['dz', 'Dn'], ['dist']),
      op('Mul', ['dist', 'neg_inv_h'], ['logsim']),
      op('Exp', ['logsim'], ['sim']),
      op('MatMul', ['sim', 'W'], ['recon']),
      op('Sub', ['z', 'recon'], ['resid']),
      op('Mul', ['resid', 'resid'], ['sq']),
      op('Mul', ['sq', 'inv_d'], ['contributions']),
      op('ReduceSum', ['contributions', 'axes'], ['score'], [intAttr('keepdims', 1)]),
    ],
    initializers: [
      floatTensor('mean', [d], p.mean),
      floatTensor('inv_scale', [d], p.invScale),
      floatTensor('Dt', [d, m], Dt),
      floatTensor('Dn', [m], p.Dn),
      floatTensor('W', [m, d], p.W),
      floatTensor('minus2', [1], [-2]),
      floatTensor('neg_inv_h', [1], [-p.invH]),
      floatTensor('inv_d', [1], [1 / d]),
      int64Tensor('axes', [1]),
    ],
    outputs: [
      { name: 'score', width: 1 },
      { name: 'contributions', width: d },
    ],
  };
}

/** Reads MSET back from its graph (the memory from Dt, the bandwidth from neg_inv_h). */
function loadMset(m: OnnxModel, d: number): MsetParams {
  const [, mm] = m.dims('Dt');
  const Dt = m.floats('Dt');
  const D = new Float32Array(mm * d);
  for (let k = 0; k < mm; k++) for (let j = 0; j < d; j++) D[k * d + j] = Dt[j * mm + k];
  return {
    kind: 'mset',
    ...loadNormalised(m, d),
    m: mm,
    D,
    Dn: m.floats('Dn'),
    W: m.floats('W'),
    invH: -m.floats('neg_inv_h')[0],
  };
}

export const mset: ModelKindModule<MsetParams> = {
  kind: 'mset',
  description: 'multivariate state estimation, Gaussian similarity to remembered states',
  train(X, n, d, o, ignore) {
    const norm = normaliser(X, n, d, ignore);
    const p = fitMset(standardise(norm, X, n), n, d, norm, o.memory);
    return { params: p, metrics: { memory: p.m } };
  },
  score: (p, X, n): Scores => ({ n, d: p.d, ...scoreMsetZ(p, standardise(p, X, n), n) }),
  export: msetGraph,
  load: loadMset,
};
