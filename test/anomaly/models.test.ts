import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';
import {
  HealthTracker,
  OnnxAnomalyModel,
  parseCsv,
  saveModel,
  scoreMatrix,
  scorePca,
  trainModel,
  type PcaParams,
} from '../../nodes/anomaly';

const code = async (fn: () => unknown): Promise<string> => {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof TaktError, String(e));
    return e.code;
  }
  return 'no error';
};

/** n rows of 4 features driven by two latent factors plus small noise. */
function latentRows(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    const b = rng.normal();
    X.set([10 + a, 5 + 2 * b, 3 + a + b + 0.05 * rng.normal(), -a + 0.5 * b + 0.05 * rng.normal()], i * 4);
  }
  return X;
}

const NAMES = ['p1', 'p2', 'p3', 'p4'];

describe('anomaly models', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'takt-anomaly-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives T² and Q their analytic values for two correlated features', () => {
    // Two standardised features with sample correlation r: eigenvalues 1 ± r, first component (1, 1)/√2.
    const rng = new Rng(3);
    const n = 2000;
    const X = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const u = rng.normal();
      X[2 * i] = 4 + 2 * u;
      X[2 * i + 1] = -1 + 0.5 * (0.8 * u + 0.6 * rng.normal());
    }
    const m = (j: number) => Array.from({ length: n }, (_, i) => X[2 * i + j]).reduce((a, b) => a + b) / n;
    const sd = (j: number, mu: number) =>
      Math.sqrt(
        Array.from({ length: n }, (_, i) => (X[2 * i + j] - mu) ** 2).reduce((a, b) => a + b) / (n - 1),
      );
    const [m0, m1] = [m(0), m(1)];
    const [s0, s1] = [sd(0, m0), sd(1, m1)];
    let r = 0;
    for (let i = 0; i < n; i++) r += (((X[2 * i] - m0) / s0) * ((X[2 * i + 1] - m1) / s1)) / (n - 1);
    const t = trainModel(X, n, ['a', 'b'], { kind: 'pca', components: 1 });
    const p = t.params as PcaParams;
    // z = (c, c): all on the first component, T² = 2c²/(1+r), Q = 0. z = (c, -c): T² = 0, Q = 2c².
    const c = 1.5;
    const rows = [m0 + c * s0, m1 + c * s1, m0 + c * s0, m1 - c * s1];
    const s = scorePca(p, rows, 2);
    const tol = 2e-5;
    assert.ok(Math.abs(s.t2[0] - (2 * c * c) / (1 + r)) < tol, `T² ${s.t2[0]}`);
    assert.ok(Math.abs(s.q[0]) < tol, `Q ${s.q[0]}`);
    assert.ok(Math.abs(s.t2[1]) < tol, `T² ${s.t2[1]}`);
    assert.ok(Math.abs(s.q[1] - 2 * c * c) < tol, `Q ${s.q[1]}`);
    // the score is ½T²/T²ref + ½Q/Qref and its contributions add up to it
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(s.score[i] - (p.a * s.t2[i] + p.b * s.q[i])) < 1e-9);
      assert.ok(Math.abs(s.contributions[2 * i] + s.contributions[2 * i + 1] - s.score[i]) < 1e-9);
    }
  });

  it('calibrates the threshold on the training scores and flags a broken correlation', () => {
    const X = latentRows(500, 1);
    const t = trainModel(X, 500, NAMES, { kind: 'pca', thresholdQuantile: 0.99 });
    const s = scoreMatrix(t.params, X, 500).score;
    const above = s.filter((v) => v > t.card.threshold).length;
    assert.ok(above >= 1 && above <= 6, `${above} training rows above the 99% threshold`);
    // p3 off its relation with p1 and p2 by 1 (20 noise SDs): within each feature's range, but anomalous.
    const row = [10.5, 5.5, 3 + 0.5 + 0.25 + 1, -0.5 + 0.125];
    const r = scoreMatrix(t.params, row, 1);
    assert.ok(r.score[0] > 5 * t.card.threshold);
    const contrib = Array.from(r.contributions);
    assert.equal(contrib.indexOf(Math.max(...contrib)), 2, 'p3 drives the score');
  });

  it('trains an autoencoder that reconstructs normal rows and not a broken one', () => {
    const X = latentRows(600, 2);
    const progress: number[] = [];
    // In-sample threshold: this test is about the reconstruction (calibration.test.ts covers the default).
    const t = trainModel(X, 600, NAMES, {
      kind: 'autoencoder',
      seed: 1,
      calibration: 'in-sample',
      onProgress: (f) => progress.push(f),
    });
    assert.ok(progress.length >= 2 && progress[progress.length - 1] === 1);
    assert.ok(t.card.metrics.validationLoss < 0.05, `validation loss ${t.card.metrics.validationLoss}`);
    const ok = scoreMatrix(t.params, latentRows(50, 9), 50).score;
    assert.ok(ok.filter((v) => v > t.card.threshold).length <= 3);
    const r = scoreMatrix(t.params, [10.5, 5.5, 3 + 0.75 + 1.5, -0.375], 1);
    assert.ok(r.score[0] > 3 * t.card.threshold, `broken row ${r.score[0]} vs ${t.card.threshold}`);
  });

  for (const kind of ['pca', 'autoencoder', 'mset'] as const) {
    it(`exports ${kind} to ONNX and onnxruntime scores as the in-process model (1e-6)`, async () => {
      const X = latentRows(400, 4);
      // fixed levels: the graph itself (drift.test.ts checks on-line scoring behind the default follower)
      const t = trainModel(X, 400, NAMES, { kind, seed: 3, epochs: 60, follow: 0 });
      const { model, card } = saveModel(t, dir, `m-${kind}`);
      const m = await OnnxAnomalyModel.load(model);
      try {
        assert.deepEqual(m.features, NAMES);
        assert.equal(m.threshold, t.card.threshold);
        assert.equal(JSON.parse(readFileSync(card, 'utf8')).kind, kind);
        const test = latentRows(200, 5);
        for (let i = 0; i < 20; i++) test[i * 4 + 2] += 0.5 * i; // some anomalous rows
        const ref = scoreMatrix(t.params, test, 200);
        const rows = Array.from({ length: 200 }, (_, i) => Array.from(test.subarray(i * 4, i * 4 + 4)));
        const got = await m.score(rows);
        let worst = 0;
        got.forEach((g, i) => {
          worst = Math.max(worst, Math.abs(g.score - ref.score[i]) / Math.max(1, Math.abs(ref.score[i])));
          NAMES.forEach((f, j) => {
            const e = Math.abs(g.contributions[f] - ref.contributions[i * 4 + j]);
            worst = Math.max(worst, e / Math.max(1, Math.abs(ref.score[i])));
          });
          assert.equal(g.isAnomaly, g.score > t.card.threshold);
        });
        assert.ok(worst < 1e-6, `largest difference ${worst}`);
        assert.ok(got.slice(10, 20).every((g) => g.isAnomaly));
      } finally {
        await m.dispose();
      }
    });
  }

  it('maps named features, reports or imputes missing ones and rejects a wrong count', async () => {
    // fixed levels, so that the same row scores the same in every call
    const t = trainModel(latentRows(300, 6), 300, NAMES, { kind: 'pca', follow: 0 });
    const { model } = saveModel(t, dir, 'm-map');
    const strict = await OnnxAnomalyModel.load(model);
    const lenient = await OnnxAnomalyModel.load(model, { missing: 'impute' });
    try {
      const [a] = await strict.score([{ p4: -0.1, p2: 5, p1: 10, p3: 3 }]);
      const [b] = await strict.score([[10, 5, 3, -0.1]]);
      assert.equal(a.score, b.score);
      assert.equal(await code(() => strict.score([[1, 2, 3]])), 'anomaly.featureCount');
      assert.equal(
        await code(() => strict.score([{ p1: 10, p2: 5, p3: Number.NaN, p4: 0 }])),
        'anomaly.missing',
      );
      const [c] = await lenient.score([{ p1: 10, p2: 5, p4: 0 }]);
      assert.deepEqual(c.imputed, ['p3']);
      assert.ok(Number.isFinite(c.score));
    } finally {
      await strict.dispose();
      await lenient.dispose();
    }
  });

  it('refuses a file that is not ONNX, too few rows and NaN training data', async () => {
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'this is not a model\n');
    assert.equal(await code(() => OnnxAnomalyModel.load(junk)), 'anomaly.notOnnx');
    assert.equal(await code(() => trainModel(latentRows(4, 1), 4, NAMES)), 'anomaly.tooFewRows');
    const X = latentRows(50, 1);
    X[7] = Number.NaN;
    assert.equal(await code(() => trainModel(X, 50, NAMES)), 'anomaly.notFinite');
    assert.equal(
      await code(() => trainModel(X, 50, NAMES, { kind: 'forest' as 'pca' })),
      'anomaly.badOption',
    );
  });

  it('reads training data from a CSV', () => {
    const f = join(dir, 'normal.csv');
    writeFileSync(f, 'datetime;a;b\r\n2026-01-01 00:00:00;1;2.5\r\n2026-01-01 00:00:01;3;4\r\n');
    const r = parseCsv(f);
    assert.deepEqual(r.features, ['a', 'b']);
    assert.deepEqual(Array.from(r.X), [1, 2.5, 3, 4]);
    assert.throws(() => parseCsv(f, ['c']), /no column "c"/);
  });
});

describe('health index and remaining useful life', () => {
  const H = 3600000;
  it('extrapolates an exponential degradation to the alarm level', () => {
    // index(t) = 0.1·e^(t/10h) reaches 1 at t = 10·ln 10 h ≈ 23.03 h.
    const h = new HealthTracker({ smoothing: 1, smoothedThreshold: 1, window: 60 });
    let last;
    for (let i = 0; i <= 50; i++) {
      const t = i * 0.1 * H;
      const wobble = i % 2 === 0 ? 1.01 : 0.99;
      last = h.push(0.1 * Math.exp(t / H / 10) * wobble, t);
    }
    assert.ok(last?.rul, 'an estimate');
    const expected = (10 * Math.log(10) - 5) * H;
    assert.ok(Math.abs(last.rul.ms - expected) < 0.02 * expected, `RUL ${last.rul.ms / H} h`);
    assert.ok(last.rul.lowerMs <= expected && last.rul.upperMs >= expected, 'interval holds the truth');
    assert.ok(Math.abs(last.rul.ratePerHour - 0.1) < 0.005);
    assert.equal(last.alarm, false);
  });

  it('gives no estimate without a trend and zero at the alarm', () => {
    const h = new HealthTracker({ smoothing: 5, smoothedThreshold: 2 });
    const rng = new Rng(1);
    let s;
    for (let i = 0; i < 100; i++) s = h.push(0.5 + 0.05 * rng.normal(), i * 1000);
    assert.equal(s?.rul, undefined);
    assert.ok(Math.abs((s?.healthIndex ?? 0) - 0.25) < 0.05);
    for (let i = 0; i < 5; i++) s = h.push(4, (100 + i) * 1000);
    assert.equal(s?.alarm, true);
    assert.equal(s?.rul?.ms, 0);
  });
});
