/**
 * PCA on standardised features: Hotelling T² on the retained components and Q (SPE) on the residual.
 * score = a·T² + b·Q with a = ½/T²ref and b = ½/Qref (refs: training quantiles at the threshold quantile), so both
 * statistics weigh alike; per-feature contributions sum to the score (T² by its complete decomposition
 * z·(PΛ⁻¹Pᵀz)). The components keep a share of the variance (`variance`, default 0.9) or a fixed count.
 */
import type { OnnxModel } from '../../core/onnx';
import { quantile, symmetricEigen } from '../linalg';
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

function fitPca(
  X: Float64Array,
  n: number,
  d: number,
  o: KindOptions,
  ignore: readonly boolean[],
): PcaParams {
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

function pcaGraph(p: PcaParams): GraphBody {
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

/**
 * Reads PCA parameters back from its graph: k is the trace of the projection R = PPᵀ; the explained share of
 * variance is not in the graph (NaN).
 */
function loadPca(m: OnnxModel, d: number): PcaParams {
  const R = m.floats('R');
  let trace = 0;
  for (let a = 0; a < d; a++) trace += R[a * d + a];
  return {
    kind: 'pca',
    ...loadNormalised(m, d),
    k: Math.round(trace),
    M: m.floats('M'),
    R,
    a: m.floats('a')[0],
    b: m.floats('b')[0],
    explained: Number.NaN,
  };
}

export const pca: ModelKindModule<PcaParams> = {
  kind: 'pca',
  description: 'PCA, Hotelling T² and Q (SPE) weighed alike',
  train(X, n, d, o, ignore) {
    const p = fitPca(X, n, d, o, ignore);
    return { params: p, metrics: { components: p.k, explainedVariance: p.explained } };
  },
  score: (p, X, n) => scorePca(p, X, n),
  export: pcaGraph,
  load: loadPca,
};
