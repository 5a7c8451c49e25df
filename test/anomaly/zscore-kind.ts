/**
 * A model kind defined outside the engine, to show that a new kind is one module: the mean squared z-score of
 * the features (score = Σⱼ zⱼ²/d, contributions its terms). It uses only what the registry's contract offers
 * (the anomaly library's kind helpers and the core ONNX builder) and is registered by the test that uses it.
 */
import {
  loadNormalised,
  type ModelKindModule,
  type Normalised,
  normaliser,
  standardise,
} from '../../nodes/anomaly';
import { floatTensor, int64Tensor, intAttr, op } from '../../nodes/core/onnx';

export interface ZScoreParams extends Normalised {
  kind: 'zscore';
}

export const zscore: ModelKindModule<ZScoreParams> = {
  kind: 'zscore',
  description: 'mean squared z-score of the features',
  train(X, n, d, _o, ignore) {
    return { params: { kind: 'zscore', ...normaliser(X, n, d, ignore) }, metrics: {} };
  },
  score(p, X, n) {
    const { d } = p;
    const Z = standardise(p, X, n);
    const score = new Float64Array(n);
    const contributions = new Float64Array(n * d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) {
        const c = Z[i * d + j] ** 2 / d;
        contributions[i * d + j] = c;
        score[i] += c;
      }
    return { n, d, score, contributions };
  },
  export(p) {
    return {
      nodes: [
        op('Sub', ['features', 'mean'], ['xc']),
        op('Mul', ['xc', 'inv_scale'], ['z']),
        op('Mul', ['z', 'z'], ['sq']),
        op('Mul', ['sq', 'inv_d'], ['contributions']),
        op('ReduceSum', ['contributions', 'axes'], ['score'], [intAttr('keepdims', 1)]),
      ],
      initializers: [
        floatTensor('mean', [p.d], p.mean),
        floatTensor('inv_scale', [p.d], p.invScale),
        floatTensor('inv_d', [1], [1 / p.d]),
        int64Tensor('axes', [1]),
      ],
      outputs: [
        { name: 'score', width: 1 },
        { name: 'contributions', width: p.d },
      ],
    };
  },
  load: (m, d) => ({ kind: 'zscore', ...loadNormalised(m, d) }),
};
