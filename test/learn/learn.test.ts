import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { openOnnxSession } from '../../nodes/core/onnx';
import { Rng } from '../../nodes/core/random';
import { util } from '@node-red/util';
import {
  boost,
  binEdges,
  binOf,
  conformalQuantile,
  DEFAULT_BOOST,
  fit,
  type Prediction,
  Predictor,
  SMALL_DATA_LEARNING_RATE,
  SMALL_DATA_ROWS,
  treeExpectation,
  treeShap,
  treeValue,
  type Tree,
} from '../../nodes/learn';

const code = async (fn: () => unknown): Promise<string> => {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof TaktError, String(e));
    return e.code;
  }
  return 'no error';
};

/** y = sin(x0)·2 + x1·x2 + step on x3 + noise; x4.. are irrelevant. */
function synth(n: number, seed: number, d = 6, noise = 0.3): { X: number[][]; y: number[] } {
  const rng = new Rng(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: d }, () => rng.uniform(-2, 2));
    X.push(x);
    y.push(2 * Math.sin(2 * x[0]) + x[1] * x[2] + (x[3] > 0.5 ? 1.5 : 0) + noise * rng.normal());
  }
  return { X, y };
}

/** Shapley values by enumerating coalitions, with the path-dependent value function E[f | x_S]. */
function bruteShap(t: Tree, x: number[], d: number): number[] {
  const v = (S: Set<number>, i = 0): number => {
    if (t.feature[i] < 0) return t.value[i];
    const f = t.feature[i];
    if (S.has(f)) return v(S, Math.fround(x[f]) <= t.threshold[i] ? t.left[i] : t.right[i]);
    const l = t.left[i];
    const r = t.right[i];
    return (t.cover[l] * v(S, l) + t.cover[r] * v(S, r)) / t.cover[i];
  };
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Array<number>(d).fill(0);
  for (let j = 0; j < d; j++)
    for (let mask = 0; mask < 1 << d; mask++) {
      if (mask & (1 << j)) continue;
      const S = new Set<number>();
      for (let q = 0; q < d; q++) if (mask & (1 << q)) S.add(q);
      const w = (fact(S.size) * fact(d - S.size - 1)) / fact(d);
      const without = v(S);
      S.add(j);
      phi[j] += w * (v(S) - without);
    }
  return phi;
}

describe('learn: binning and tree growth', () => {
  it('bins with float32 edges so that a value equal to an edge goes left', () => {
    const e = binEdges([1, 2, 3, 4], 255);
    assert.deepEqual(e, [1.5, 2.5, 3.5]);
    assert.equal(binOf(e, 1.5), 0);
    assert.equal(binOf(e, 1.6), 1);
    assert.equal(binOf(e, 9), 3);
    const q = binEdges(
      Array.from({ length: 1000 }, (_, i) => i),
      10,
    );
    assert.equal(q.length, 9);
    assert.ok(Math.abs(q[4] - 499.5) <= 1, String(q));
  });

  it('finds the split that separates a step by hand: feature 1 at 49.5, leaves 0 and 10', () => {
    const rng = new Rng(3);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 100; i++) {
      X.push([rng.uniform(0, 1), i]);
      y.push(i < 50 ? 0 : 10);
    }
    const r = boost(
      X,
      y,
      [],
      [],
      { kind: 'regression' },
      {
        maxLeaves: 2,
        learningRate: 1,
        l2: 0,
        minLeafRows: 1,
        maxRounds: 1,
      },
    );
    const t = r.ensemble.trees[0];
    assert.equal(t.feature[0], 1);
    assert.equal(t.threshold[0], 49.5);
    assert.equal(r.ensemble.base[0], 5);
    assert.ok(Math.abs(t.value[t.left[0]] + 5) < 1e-6);
    assert.ok(Math.abs(t.value[t.right[0]] - 5) < 1e-6);
    assert.deepEqual([t.cover[0], t.cover[t.left[0]], t.cover[t.right[0]]], [100, 50, 50]);
  });

  it('grows leaf-wise: the second split goes to the leaf with the larger gain', () => {
    // y = 0 for x<30, 1 for 30<=x<60, 20 for x>=60: first split at 59.5, then 29.5 in the left leaf.
    const X = Array.from({ length: 90 }, (_, i) => [i]);
    const y = X.map(([x]) => (x < 30 ? 0 : x < 60 ? 1 : 20));
    const r = boost(
      X,
      y,
      [],
      [],
      { kind: 'regression' },
      {
        maxLeaves: 3,
        learningRate: 1,
        l2: 0,
        minLeafRows: 5,
        maxRounds: 1,
      },
    );
    const t = r.ensemble.trees[0];
    assert.equal(t.threshold[0], 59.5);
    assert.equal(t.threshold[t.left[0]], 29.5);
    assert.equal(t.feature[t.right[0]], -1);
    const base = r.ensemble.base[0];
    for (const [x, want] of [
      [10, 0],
      [45, 1],
      [80, 20],
    ])
      assert.ok(Math.abs(base + treeValue(t, [x]) - want) < 1e-5);
  });

  it('L2 regularisation shrinks a leaf by H/(H+λ)', () => {
    const X = Array.from({ length: 40 }, (_, i) => [i]);
    const y = X.map(([x]) => (x < 20 ? -1 : 1));
    const r = boost(
      X,
      y,
      [],
      [],
      { kind: 'regression' },
      {
        maxLeaves: 2,
        learningRate: 1,
        l2: 20,
        minLeafRows: 1,
        maxRounds: 1,
      },
    );
    const t = r.ensemble.trees[0];
    // G = -20 (gradient F - y = 0 - 1 over 20 rows), H = 20: value = 20 / (20 + 20) = 0.5.
    assert.ok(Math.abs(t.value[t.right[0]] - 0.5) < 1e-6);
  });

  it('stops early on the validation split and keeps the best round', () => {
    const { X, y } = synth(1500, 5, 4, 2);
    const v = synth(500, 6, 4, 2);
    const r = boost(X, y, v.X, v.y, { kind: 'regression' }, { learningRate: 0.5, patience: 5 });
    assert.equal(r.stoppedBy, 'patience');
    assert.equal(r.rounds, r.bestRound + 5);
    assert.equal(r.ensemble.trees.length, r.bestRound);
    assert.equal(Math.min(...r.validLoss), r.validLoss[r.bestRound - 1]);
  });
});

describe('learn: TreeSHAP', () => {
  // A hand-made tree that uses feature 0 twice on one path.
  const t: Tree = {
    feature: [0, 1, 0, -1, -1, -1, 2, -1, -1],
    threshold: [0.5, 0.3, 0.2, 0, 0, 0, 0.7, 0, 0],
    left: [1, 3, 5, -1, -1, -1, 7, -1, -1],
    right: [2, 4, 6, -1, -1, -1, 8, -1, -1],
    value: [0, 0, 0, 1, 3, -2, 0, 5, 7],
    cover: [100, 60, 40, 25, 35, 10, 30, 12, 18],
  };
  it('matches brute-force Shapley values on a tiny tree, for several rows', () => {
    for (const x of [
      [0.1, 0.1, 0.1],
      [0.9, 0.1, 0.9],
      [0.4, 0.9, 0.75],
      [0.6, 0.0, 0.2],
    ]) {
      const phi = new Array<number>(3).fill(0);
      treeShap(t, x, phi);
      const want = bruteShap(t, x, 3);
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(phi[j] - want[j]) < 1e-9, `${x}: ${phi} vs ${want}`);
      const sum = phi.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - (treeValue(t, x) - treeExpectation(t))) < 1e-9);
    }
  });

  it('contributions of a trained model sum to prediction minus expected value', async () => {
    const { X, y } = synth(800, 7, 5);
    const { onnx, card } = await fit(X, y, { task: 'regression', boost: { maxLeaves: 8 } });
    const p = await Predictor.load(onnx);
    const out = await p.predict(X.slice(0, 50));
    for (const r of out) {
      const s = r.contributions.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(s - (r.value! - card.expected[0])) < 1e-6, `${s} vs ${r.value! - card.expected[0]}`);
    }
    // The irrelevant feature x4 gets far less credit than x0.
    const mean = (j: number) => out.reduce((a, r) => a + Math.abs(r.contributions[j]), 0) / out.length;
    assert.ok(mean(4) < mean(0) / 5, `${mean(4)} vs ${mean(0)}`);
  });

  it('works contributions out when first read, from a copy of the row, the same as at once', async () => {
    const { X, y } = synth(600, 9, 4);
    const { onnx } = await fit(X, y, { task: 'regression', boost: { maxLeaves: 8 } });
    const p = await Predictor.load(onnx);
    const want = (x: number[]) => {
      const phi = new Array<number>(4).fill(0);
      for (const t of p.ensemble.trees) treeShap(t, x, phi);
      return phi;
    };
    const rows = X.slice(0, 20).map((x) => [...x]);
    const expected = rows.map(want);
    const out = await p.predict(rows);
    // The caller reuses its rows before reading: the contributions are still those of the rows predicted.
    for (const r of rows) r.fill(0);
    out.forEach((r, i) => {
      for (let j = 0; j < 4; j++) assert.ok(Math.abs(r.contributions[j] - expected[i][j]) < 1e-12);
      assert.equal(r.contributions, r.contributions, 'worked out once, then kept');
    });
    // JSON has them whether read or not; a spread copy has them once read (an own property from then on).
    const fresh = await p.predict(X.slice(0, 2));
    const json = JSON.parse(JSON.stringify(fresh[0])) as { contributions: number[]; value: number };
    assert.deepEqual(json.contributions, want(X[0]));
    assert.equal(json.value, fresh[0].value);
    assert.deepEqual({ ...out[1] }.contributions, expected[1]);
    // Node-RED copies a message it sends on two wires (or from a function node): read or not, the copy explains.
    const [copyUnread, copyRead] = [
      util.cloneMessage({ payload: fresh[1] }).payload as Prediction,
      util.cloneMessage({ payload: out[2] }).payload as Prediction,
    ];
    assert.deepEqual(copyUnread.contributions, want(X[1]));
    assert.deepEqual(copyRead.contributions, expected[2]);
    assert.deepEqual((await p.predict(rows, { contributions: false }))[0].contributions, []);
  });

  it('brute force agrees on the first trees of a trained model', async () => {
    const { X, y } = synth(400, 8, 4);
    const { onnx } = await fit(X, y, { task: 'regression', boost: { maxLeaves: 6 } });
    const p = await Predictor.load(onnx);
    for (const tr of p.ensemble.trees.slice(0, 5))
      for (const x of X.slice(0, 5)) {
        const phi = new Array<number>(4).fill(0);
        treeShap(tr, x, phi);
        const want = bruteShap(tr, x, 4);
        for (let j = 0; j < 4; j++) assert.ok(Math.abs(phi[j] - want[j]) < 1e-9);
      }
  });
});

describe('learn: fit, ONNX round trip and conformal intervals', () => {
  it('onnxruntime gives the TypeScript predictor value within 1e-5 (regression)', async () => {
    const { X, y } = synth(2000, 11);
    const { onnx, card } = await fit(X, y, { task: 'regression' });
    assert.ok(card.training.trees > 10);
    const p = await Predictor.load(onnx);
    const test = synth(300, 12).X;
    const ts = await p.predict(test, { contributions: false });
    const { ort, session } = await openOnnxSession(onnx, (r) => new Error(r));
    const input = new ort.Tensor('float32', Float32Array.from(test.flat()), [test.length, 6]);
    const res = await session.run({ features: input }, ['value']);
    const v = res.value.data as Float32Array;
    for (let i = 0; i < test.length; i++)
      assert.ok(
        Math.abs(v[i] - ts[i].value!) <= 1e-5 * Math.max(1, Math.abs(ts[i].value!)),
        `${v[i]} vs ${ts[i].value}`,
      );
  });

  it('beats the ridge baseline on non-linear data and covers about 90 % of fresh rows', async () => {
    const { X, y } = synth(4000, 21);
    const { onnx, card } = await fit(X, y, { task: 'regression' });
    assert.equal(card.metrics.beatsBaseline, true);
    assert.ok(card.metrics.valid.rmse! < 0.6 * card.metrics.baseline.rmse!);
    const p = await Predictor.load(onnx);
    const test = synth(4000, 22);
    const out = await p.predict(test.X, { contributions: false });
    const cover = out.filter((r, i) => r.lower! <= test.y[i] && test.y[i] <= r.upper!).length / out.length;
    // 400 calibration rows: the coverage of split conformal is Beta-distributed around 0.9 (sd ≈ 0.015).
    assert.ok(cover > 0.85 && cover < 0.95, String(cover));
  });

  it('small data: a finer rate, a regression grown again on train + valid rows, calibration rows kept out', async () => {
    const { X, y } = synth(2000, 23);
    const { onnx, card, split } = await fit(X, y, { task: 'regression' });
    assert.equal(card.training.options.learningRate, SMALL_DATA_LEARNING_RATE);
    assert.equal(card.training.refit, true);
    const { train, valid, calib } = card.rows;
    assert.equal(card.training.trees, Math.round((card.training.bestRound * (train + valid)) / train));
    assert.equal(split.train.length, train + valid);
    assert.equal(split.heldOut.length, calib);
    const trained = new Set(split.train);
    assert.ok(split.heldOut.every((i) => !trained.has(i)));
    // The residuals and the interval are the served model's, on the calibration rows.
    const served = (await Predictor.load(onnx)).predictSync(
      split.heldOut.map((i) => X[i]),
      { contributions: false },
    );
    split.residuals.forEach((e, k) => {
      const want = y[split.heldOut[k]] - served[k].value!;
      assert.ok(Math.abs(e - want) < 1e-5, `row ${split.heldOut[k]}: residual ${e}, served model ${want}`);
    });
    assert.equal(card.conformal!.quantile, conformalQuantile(split.residuals.map(Math.abs), 0.9));
    // A rate given is kept; classification keeps its validation rows held out (the registry's error reference).
    const given = await fit(X, y, { task: 'regression', boost: { learningRate: 0.3 } });
    assert.equal(given.card.training.options.learningRate, 0.3);
    const cls = await fit(
      X,
      y.map((v) => (v > 0.5 ? 1 : 0)),
      { task: 'classification' },
    );
    assert.equal(cls.card.training.refit, false);
    assert.equal(cls.split.train.length, cls.card.rows.train);
  });

  it('grows the same trees whatever the unit of the target (metres or nanometres)', async () => {
    const { X, y } = synth(600, 25);
    const test = synth(50, 26).X;
    const units = [1e-9, 1, 1e9];
    const runs = await Promise.all(
      units.map(async (unit) => {
        const f = await fit(
          X,
          y.map((v) => v * unit),
          { task: 'regression' },
        );
        const out = (await Predictor.load(f.onnx)).predictSync(test, { contributions: false });
        return { trees: f.card.training.trees, values: out.map((p) => p.value!) };
      }),
    );
    const plain = runs[1];
    assert.ok(plain.trees > 10, `${plain.trees} trees`);
    for (const j of [0, 2]) {
      const unit = units[j];
      assert.equal(runs[j].trees, plain.trees, `unit ${unit}`);
      runs[j].values.forEach((v, i) => {
        const want = plain.values[i] * unit;
        assert.ok(Math.abs(v - want) <= 1e-6 * Math.abs(unit), `unit ${unit}: ${v} vs ${want}`);
      });
    }
  });

  it('above SMALL_DATA_ROWS: the default rate and no second growth', async () => {
    const { X, y } = synth(SMALL_DATA_ROWS + 1, 24);
    const { card, split } = await fit(X, y, { task: 'regression', boost: { maxLeaves: 8 } });
    assert.equal(card.training.options.learningRate, DEFAULT_BOOST.learningRate);
    assert.equal(card.training.refit, false);
    assert.equal(card.training.trees, card.training.bestRound);
    assert.equal(split.train.length, card.rows.train);
  });

  it('conformal quantile is the ceil((n+1)(1-α))-th smallest score', () => {
    const s = Array.from({ length: 19 }, (_, i) => 19 - i);
    assert.equal(conformalQuantile(s, 0.9), 18);
    assert.equal(conformalQuantile([1, 2, 3], 0.9), Infinity);
  });

  it('classification: two classes and three classes agree with onnxruntime', async () => {
    for (const K of [2, 3]) {
      const { X, y } = synth(1500, 30 + K);
      const labels = y.map((v) => (K === 2 ? (v > 0.5 ? 7 : 3) : v < -0.5 ? 0 : v < 1 ? 1 : 2));
      const { onnx, card } = await fit(X, labels, { task: 'classification', boost: { maxLeaves: 15 } });
      assert.deepEqual(card.classes, K === 2 ? [3, 7] : [0, 1, 2]);
      assert.ok(card.metrics.valid.accuracy! > 0.75, String(card.metrics.valid.accuracy));
      const p = await Predictor.load(onnx);
      const test = synth(200, 40).X;
      const ts = await p.predict(test);
      const { ort, session } = await openOnnxSession(onnx, (r) => new Error(r));
      const input = new ort.Tensor('float32', Float32Array.from(test.flat()), [test.length, 6]);
      const res = await session.run({ features: input }, ['probabilities']);
      const pr = res.probabilities.data as Float32Array;
      for (let i = 0; i < test.length; i++) {
        for (let k = 0; k < K; k++)
          assert.ok(
            Math.abs(pr[i * K + k] - ts[i].probabilities![k]) < 1e-5,
            `${K}: ${pr[i * K + k]} vs ${ts[i].probabilities}`,
          );
        assert.ok(card.classes!.includes(ts[i].label!));
        assert.equal(ts[i].contributions.length, 6);
        if (K === 2) {
          // Two classes: contributions are in log-odds and sum to logit(p) minus the expected margin.
          const p1 = ts[i].probabilities![1];
          const sum = ts[i].contributions.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - (Math.log(p1 / (1 - p1)) - card.expected[0])) < 1e-6);
        }
      }
    }
  });

  it('stops at the time limit with a usable model', async () => {
    const { X, y } = synth(3000, 50);
    const { card } = await fit(X, y, { task: 'regression', timeLimitMs: 1, boost: { patience: 1000 } });
    assert.equal(card.training.stoppedBy, 'timeLimit');
  });

  it('rejects bad input with named errors', async () => {
    const { X, y } = synth(100, 60, 3);
    assert.equal(await code(() => fit([], [], { task: 'regression' })), 'learn.noData');
    assert.equal(
      await code(() => fit(X.slice(0, 20), y.slice(0, 20), { task: 'regression' })),
      'learn.noData',
    );
    assert.equal(await code(() => fit(X, y.slice(1), { task: 'regression' })), 'learn.badLabels');
    const bad = X.map((r) => [...r]);
    bad[5][1] = NaN;
    assert.equal(await code(() => fit(bad, y, { task: 'regression' })), 'learn.badFeatures');
    assert.equal(
      await code(() =>
        fit(
          X,
          y.map(() => 1),
          { task: 'classification' },
        ),
      ),
      'learn.badLabels',
    );
    const { onnx } = await fit(X, y, { task: 'regression' });
    const p = await Predictor.load(onnx);
    assert.equal(await code(() => p.predict([[1, 2]])), 'learn.badFeatures');
    assert.equal(await code(() => Predictor.load(new Uint8Array([1, 2, 3, 4]))), 'learn.notOnnx');
  });
});
