import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TaktError } from '../../nodes/core/errors';
import {
  ElemType,
  encodeModel,
  floatsAttr,
  floatTensor,
  int64Tensor,
  intAttr,
  op,
  openOnnxSession,
  readOnnx,
  stringAttr,
  tensorInfo,
} from '../../nodes/core/onnx';
import { Rng } from '../../nodes/core/random';
import { DEFAULT_PATTERN_MODEL } from '../../nodes/spc/patterns';
import { mlpFromOnnx, mlpToOnnx } from '../../nodes/spc/train-patterns';

describe('core ONNX builder and reader', () => {
  it('builds a graph that onnxruntime runs as the plain computation, and reads its declarations back', async () => {
    // y = relu(x·Wᵀ + b), s = Σ_j y_j (ReduceSum with int64 axes), on a batch of 5 rows of 3 features
    const rng = new Rng(2);
    const W = Float32Array.from({ length: 6 }, () => rng.normal());
    const b = Float32Array.from({ length: 2 }, () => rng.normal());
    const bytes = encodeModel({
      name: 'probe',
      doc: 'a probe',
      nodes: [
        op('Gemm', ['x', 'W', 'b'], ['pre'], [intAttr('transB', 1)]),
        op('Relu', ['pre'], ['y']),
        op('ReduceSum', ['y', 'axes'], ['s'], [intAttr('keepdims', 1)], { name: 'sum' }),
      ],
      initializers: [floatTensor('W', [2, 3], W), floatTensor('b', [2], b), int64Tensor('axes', [1])],
      inputs: [{ name: 'x', width: 3 }],
      outputs: [{ name: 'y', width: 2 }, tensorInfo('s', ElemType.FLOAT, ['N', 1])],
      metadata: { 'takt.kind': 'probe', 'takt.note': 'ünïcode ✓' },
    });
    const m = readOnnx(bytes);
    assert.equal(m.irVersion, 8);
    assert.deepEqual(m.opsets, [{ domain: '', version: 17 }]);
    assert.equal(m.producer, 'takt');
    assert.equal(m.graphName, 'probe');
    assert.deepEqual(m.metadata, { 'takt.kind': 'probe', 'takt.note': 'ünïcode ✓' });
    assert.deepEqual(m.inputs, [{ name: 'x', elemType: ElemType.FLOAT, shape: ['N', 3] }]);
    assert.deepEqual(
      m.outputs.map((o) => [o.name, o.shape]),
      [
        ['y', ['N', 2]],
        ['s', ['N', 1]],
      ],
    );
    assert.deepEqual(m.ops, ['Gemm', 'Relu', 'ReduceSum']);
    assert.deepEqual(m.initializers, ['W', 'b', 'axes']);
    assert.deepEqual(m.dims('W'), [2, 3]);
    assert.deepEqual(Array.from(m.floats('W')), Array.from(W));
    assert.deepEqual(m.int64s('axes'), [1]);

    const X = Float32Array.from({ length: 15 }, () => rng.normal());
    const { ort, session } = await openOnnxSession(bytes, (r) => new Error(r));
    try {
      const res = await session.run({ x: new ort.Tensor('float32', X, [5, 3]) }, ['y', 's']);
      const y = res.y.data as Float32Array;
      const s = res.s.data as Float32Array;
      for (let i = 0; i < 5; i++) {
        let sum = 0;
        for (let o = 0; o < 2; o++) {
          let v = b[o];
          for (let k = 0; k < 3; k++) v += X[i * 3 + k] * W[o * 3 + k];
          v = Math.max(0, v);
          sum += v;
          assert.ok(Math.abs(y[i * 2 + o] - v) < 1e-5, `y[${i},${o}]`);
        }
        assert.ok(Math.abs(s[i] - sum) < 1e-5, `s[${i}]`);
      }
    } finally {
      await session.release();
    }
  });

  it('writes operators of another domain (ONNX-ML) with their opset import; onnxruntime runs them', async () => {
    const bytes = encodeModel({
      name: 'ml',
      nodes: [
        op(
          'LinearRegressor',
          ['x'],
          ['y'],
          [
            floatsAttr('coefficients', [0.5, -1]),
            floatsAttr('intercepts', [2]),
            stringAttr('post_transform', 'NONE'),
          ],
          { domain: 'ai.onnx.ml' },
        ),
      ],
      initializers: [],
      inputs: [{ name: 'x', width: 2 }],
      outputs: [{ name: 'y', width: 1 }],
      opsets: [
        { domain: '', version: 17 },
        { domain: 'ai.onnx.ml', version: 3 },
      ],
    });
    const m = readOnnx(bytes);
    assert.deepEqual(m.opsets, [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ]);
    assert.deepEqual(m.ops, ['ai.onnx.ml:LinearRegressor']);
    // A node's attributes read back by name and type (how learn reads its tree ensembles).
    const node = m.findNode((type, domain) => type === 'LinearRegressor' && domain === 'ai.onnx.ml');
    assert.ok(node);
    assert.deepEqual([node.input, node.output], [['x'], ['y']]);
    assert.deepEqual(node.attributes.floats('coefficients'), [0.5, -1]);
    assert.equal(node.attributes.string('post_transform'), 'NONE');
    assert.deepEqual([node.attributes.has('targets'), node.attributes.ints('targets')], [false, []]);
    assert.equal(
      m.findNode((type) => type === 'Gemm'),
      undefined,
    );
    const { ort, session } = await openOnnxSession(bytes, (r) => new Error(r));
    try {
      const x = Float32Array.from([1, 2, -3, 0.5]);
      const res = await session.run({ x: new ort.Tensor('float32', x, [2, 2]) }, ['y']);
      assert.deepEqual(Array.from(res.y.data as Float32Array), [0.5 * 1 - 2 + 2, 0.5 * -3 - 0.5 + 2]);
    } finally {
      await session.release();
    }
  });

  it('re-exporting the shipped pattern model from its own weights gives its bytes back exactly', () => {
    const shipped = readFileSync(DEFAULT_PATTERN_MODEL);
    const { params, metadata } = mlpFromOnnx(shipped);
    assert.ok(Buffer.from(mlpToOnnx(params, metadata)).equals(shipped));
  });

  it('refuses bytes that are not a model, a missing initializer, and a tensor of the wrong size', () => {
    const junk = new TextEncoder().encode('this is not a model');
    assert.throws(
      () => readOnnx(junk),
      (e: TaktError) => e.code === 'onnx.notOnnx',
    );
    assert.throws(
      () => readOnnx(junk, (why) => new TaktError('x.mine', `mine: ${why}`)),
      (e: TaktError) => e.code === 'x.mine' && e.message.startsWith('mine: '),
    );
    assert.throws(
      () => readOnnx(new Uint8Array(0)),
      (e: TaktError) => e.code === 'onnx.notOnnx',
    );
    const shipped = readOnnx(readFileSync(DEFAULT_PATTERN_MODEL));
    assert.throws(() => shipped.floats('nope'), /no initializer nope/);
    assert.throws(
      () => floatTensor('t', [2, 2], [1, 2, 3]),
      (e: TaktError) => e.code === 'onnx.badGraph',
    );
  });
});
