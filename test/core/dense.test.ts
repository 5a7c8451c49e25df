import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DenseNetwork, type DenseLoss, type DenseShape, shuffle } from '../../nodes/core/dense';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';
import { Mlp } from '../../nodes/spc/mlp';
import { trainPatternModel } from '../../nodes/spc/train-patterns';
import { ROOT } from '../helpers/paths';

interface Weights64 {
  sizes: number[];
  inMean: number[];
  inScale: number[];
  W: number[][];
  b: number[][];
}

/** Written by nodes/spc/mlp.ts and train-patterns.ts at b23294b, before they used the core trainer. */
const REF = JSON.parse(
  readFileSync(join(ROOT, 'test', 'core', 'fixtures', 'mlp-reference.json'), 'utf8'),
) as {
  X: number[];
  y: number[];
  losses: number[];
  params: Weights64;
  patternRun: {
    params: Weights64;
    epochs: number;
    bestEpoch: number;
    trainAccuracy: number;
    validationAccuracy: number;
  };
};

/** Every float64 value equal, bit for bit (JSON numbers round-trip doubles exactly). */
function sameWeights(got: Mlp['p'], want: Weights64, what: string): void {
  assert.deepEqual(got.sizes, want.sizes, `${what}: sizes`);
  assert.deepEqual(Array.from(got.inMean), want.inMean, `${what}: inMean`);
  assert.deepEqual(Array.from(got.inScale), want.inScale, `${what}: inScale`);
  got.W.forEach((w, l) => assert.deepEqual(Array.from(w), want.W[l], `${what}: W${l}`));
  got.b.forEach((b, l) => assert.deepEqual(Array.from(b), want.b[l], `${what}: b${l}`));
}

describe('core dense network (one trainer for the autoencoder and the pattern MLP)', () => {
  it('the pattern MLP trains to the same weights, bit for bit, as before it used the core trainer', () => {
    const net = Mlp.random([40, 6, 5, 9], 13);
    const X = Float64Array.from(REF.X);
    net.fitInput(X, 64);
    const losses: number[] = [];
    for (let i = 0; i < 25; i++)
      losses.push(
        net.trainBatch(
          X,
          REF.y,
          Array.from({ length: 16 }, (_, k) => (i * 16 + k * 7) % 64),
          { lr: 0.01, weightDecay: 1e-3 },
        ),
      );
    assert.deepEqual(losses, REF.losses);
    sameWeights(net.p, REF.params, 'Adam steps');
  });

  it('a short pattern-model training run gives the same weights and figures as before', () => {
    const r = trainPatternModel({ seed: 101, perClass: 30, epochs: 3, validationPerClass: 10, hidden: [8] });
    const want = REF.patternRun;
    sameWeights(r.params, want.params, 'trainPatternModel');
    assert.equal(r.epochs, want.epochs);
    assert.equal(r.bestEpoch, want.bestEpoch);
    assert.equal(r.trainAccuracy, want.trainAccuracy);
    assert.equal(r.validationAccuracy, want.validationAccuracy);
  });

  /** The summed loss of the rows, computed from the outputs (no gradient code involved). */
  const lossOf = (net: DenseNetwork, X: Float64Array, rows: number[], loss: DenseLoss): number => {
    let s = 0;
    for (const r of rows) {
      const out = net.forward(X, r);
      if (loss.kind === 'cross-entropy') s -= Math.log(out[loss.labels[r]]);
      else {
        const x0 = net.input;
        for (let j = 0; j < out.length; j++) s += loss.weights[j] * (out[j] - x0[j]) ** 2;
      }
    }
    return s;
  };

  const cases: { shape: DenseShape; sizes: number[]; loss: (n: number) => DenseLoss }[] = [
    {
      shape: { hidden: 'relu', output: 'softmax' },
      sizes: [5, 7, 4],
      loss: (n) => ({ kind: 'cross-entropy', labels: Array.from({ length: n }, (_, i) => i % 4) }),
    },
    {
      shape: { hidden: 'tanh', output: 'linear' },
      sizes: [4, 6, 2, 6, 4],
      loss: () => ({ kind: 'squared-error', weights: [0.25, 0.25, 0, 0.5] }),
    },
  ];
  for (const c of cases) {
    it(`${c.shape.hidden}/${c.shape.output}: a small Adam step lowers the loss as the gradient predicts`, () => {
      // Adam's first step moves each weight by about lr·sign(g): the loss falls by about lr·Σ|g|. Check the
      // predicted fall against the measured one with a central-difference gradient of the summed loss.
      const rng = new Rng(5);
      const n = 12;
      const X = Float64Array.from({ length: n * c.sizes[0] }, () => rng.normal());
      const rows = Array.from({ length: n }, (_, i) => i);
      const loss = c.loss(n);
      const net = new DenseNetwork(
        DenseNetwork.initialWeights(c.sizes, 'glorot-uniform', new Rng(6)),
        c.shape,
      );
      const h = 1e-6;
      let l1 = 0;
      for (const arr of [...net.p.W, ...net.p.b])
        for (let i = 0; i < arr.length; i++) {
          const v = arr[i];
          arr[i] = v + h;
          const up = lossOf(net, X, rows, loss);
          arr[i] = v - h;
          const down = lossOf(net, X, rows, loss);
          arr[i] = v;
          l1 += Math.abs((up - down) / (2 * h));
        }
      const before = lossOf(net, X, rows, loss);
      const lr = 1e-7;
      const summed = net.trainBatch(X, rows, loss, { lr });
      assert.ok(Math.abs(summed - before) < 1e-9 * Math.max(1, before), 'trainBatch returns the summed loss');
      const after = lossOf(net, X, rows, loss);
      // squared-error deltas carry the 1/m of the batch mean, cross-entropy's the Adam step: either way the
      // step direction is the gradient's sign, which does not depend on the scale.
      const predicted = lr * l1;
      assert.ok(
        Math.abs(before - after - predicted) < 0.02 * predicted,
        `fall ${before - after}, predicted ${predicted}`,
      );
    });
  }

  it('initialises with the named scheme from the given stream, and shuffles as both trainers did', () => {
    const w = DenseNetwork.initialWeights([3, 2], 'glorot-uniform', new Rng(1));
    const rng = new Rng(1);
    const lim = Math.sqrt(6 / 5);
    assert.deepEqual(
      Array.from(w.W[0]),
      Array.from({ length: 6 }, () => rng.uniform(-lim, lim)),
    );
    assert.deepEqual(Array.from(w.b[0]), [0, 0]);
    const h = DenseNetwork.initialWeights([8, 4], 'he-normal', new Rng(2));
    const r2 = new Rng(2);
    assert.deepEqual(
      Array.from(h.W[0]),
      Array.from({ length: 32 }, () => Math.sqrt(2 / 8) * r2.normal()),
    );
    const a = shuffle([0, 1, 2, 3, 4, 5], new Rng(3));
    assert.deepEqual([...a].sort(), [0, 1, 2, 3, 4, 5]);
    assert.notDeepEqual(a, [0, 1, 2, 3, 4, 5]);
  });

  it('refuses weights that do not match the sizes', () => {
    const w = DenseNetwork.initialWeights([3, 2], 'he-normal', new Rng(1));
    w.b[0] = new Float64Array(3);
    assert.throws(
      () => new DenseNetwork(w, { hidden: 'relu', output: 'softmax' }),
      (e: TaktError) => e.code === 'core.badModel' && /layer 0/.test(e.message),
    );
    assert.throws(
      () => new Mlp(w),
      (e: TaktError) => e.code === 'spc.badModel',
    );
  });
});
