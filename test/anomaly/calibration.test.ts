import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';
import {
  movingMean,
  OnnxAnomalyModel,
  saveModel,
  scoreMatrix,
  slowShare,
  trainModel,
} from '../../nodes/anomaly';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** n rows: three correlated fast features and a fourth that ramps slowly (plus a little noise). */
function rampRows(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 4);
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    X.set(
      [10 + a, 5 + 0.5 * a + 0.1 * rng.normal(), rng.normal(), 60 + (3 * i) / n + 0.05 * rng.normal()],
      i * 4,
    );
  }
  return X;
}
const NAMES = ['f1', 'f2', 'f3', 'ramp'];

describe('slow features and blocked calibration', () => {
  it('computes the between-block variance share by hand', () => {
    // one column: blocks of 2
    assert.equal(slowShare([1, 1, 3, 3], 4, 1, 0, 2), 1);
    assert.equal(slowShare([1, 3, 1, 3], 4, 1, 0, 2), 0);
    close(slowShare([0, 0, 0, 6], 4, 1, 0, 2), 1 / 3, 1e-12, '[0,0,0,6]');
    // short last block: mean 2.4, between 25.2, total 43.2
    close(slowShare([0, 0, 0, 6, 6], 5, 1, 0, 2), 7 / 12, 1e-12, '[0,0,0,6,6]');
    assert.equal(slowShare([5, 5, 5, 5], 4, 1, 0, 2), 0, 'a constant');
    // second column of a two-column matrix
    assert.equal(slowShare([9, 1, 9, 1, 9, 3, 9, 3], 4, 2, 1, 2), 1);
    // white noise: about 1/block (expected (blocks - 1)/(n - 1) = 99/2999)
    const rng = new Rng(5);
    const w = Float64Array.from({ length: 3000 }, () => rng.normal());
    const s = slowShare(w, 3000, 1, 0, 30);
    assert.ok(s > 0.015 && s < 0.06, `white noise ${s}`);
  });

  it('gives a slowly drifting feature weight 0 and lists it in the card', () => {
    const X = rampRows(400, 1);
    const t = trainModel(X, 400, NAMES, { kind: 'pca' });
    assert.deepEqual(t.card.ignored, ['ramp']);
    assert.ok(t.card.slowShare[3] > 0.9 && t.card.slowShare.slice(0, 3).every((v) => v < 0.2));
    // slowShare 1 and no trend rule keep every feature (with the trend rule alone, the ramp still drifts)
    assert.deepEqual(trainModel(X, 400, NAMES, { kind: 'pca', slowShare: 1, trend: false }).card.ignored, []);
    assert.deepEqual(trainModel(X, 400, NAMES, { kind: 'pca', slowShare: 1 }).card.ignored, ['ramp']);
    // under 80 rows the test is skipped
    assert.deepEqual(trainModel(X.subarray(0, 79 * 4), 79, NAMES, { kind: 'pca' }).card.ignored, []);
  });

  const dir = mkdtempSync(join(tmpdir(), 'takt-calib-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const kind of ['pca', 'mset', 'autoencoder'] as const) {
    it(`${kind}: an ignored feature moves neither score nor contributions, in process and in ONNX`, async () => {
      const X = rampRows(400, 2);
      // fixed levels (follow: 0): the rows below are scored each on its own, in process and in ONNX
      const t = trainModel(X, 400, NAMES, { kind, seed: 3, epochs: 40, follow: 0 });
      assert.deepEqual(t.card.ignored, ['ramp']);
      const rows = [
        [10.2, 5.1, 0.3, 61],
        [10.2, 5.1, 0.3, 900],
        [12, 4, 0.3, 61], // a broken correlation
      ];
      const s = scoreMatrix(t.params, rows.flat(), 3);
      assert.equal(s.score[0], s.score[1]);
      assert.equal(s.contributions[3], 0);
      assert.equal(s.contributions[7], 0);
      assert.ok(s.score[2] > s.score[0]);
      const { model } = saveModel(t, dir, `ign-${kind}`);
      const m = await OnnxAnomalyModel.load(model);
      try {
        const got = await m.score(rows);
        got.forEach((g, i) => close(g.score, s.score[i], 1e-6 * Math.max(1, s.score[i]), `onnx row ${i}`));
        assert.equal(got[0].score, got[1].score);
        assert.equal(got[1].contributions.ramp, 0);
      } finally {
        await m.dispose();
      }
    });
  }

  it('calibrates the thresholds on out-of-fold scores of consecutive blocks', () => {
    const X = rampRows(400, 3);
    const o = { kind: 'pca' as const, slowShare: 1, thresholdQuantile: 1, smoothing: 10 };
    const progress: number[] = [];
    const t = trainModel(X, 400, NAMES, { ...o, folds: 4, onProgress: (f) => progress.push(f) });
    assert.equal(t.card.calibration, 'blocked');
    assert.equal(t.card.folds, 4);
    assert.ok(progress.every((f, i) => i === 0 || f >= progress[i - 1]) && progress.at(-1) === 1);
    // The same by hand: fit on three blocks, score the fourth, in turn.
    const oof = new Float64Array(400);
    for (let b = 0; b < 4; b++) {
      const rest = [...X.subarray(0, b * 400), ...X.subarray((b + 1) * 400)];
      const fold = trainModel(rest, 300, NAMES, { ...o, calibration: 'in-sample' });
      oof.set(scoreMatrix(fold.params, X.subarray(b * 400, (b + 1) * 400), 100).score, b * 100);
    }
    close(t.card.threshold, Math.max(...oof), 1e-12, 'threshold');
    close(t.card.smoothedThreshold, Math.max(...movingMean(oof, 10)), 1e-12, 'smoothed threshold');
    // The ramp leaves the range of the other blocks: out of fold the last block scores far above in sample.
    const inSample = trainModel(X, 400, NAMES, { ...o, calibration: 'in-sample' });
    assert.equal(inSample.card.calibration, 'in-sample');
    assert.ok(t.card.threshold > 1.5 * inSample.card.threshold);
  });

  it('falls back to in-sample calibration on a short window and rejects bad options', () => {
    const X = rampRows(12, 4);
    const t = trainModel(X, 12, NAMES, { kind: 'pca' });
    assert.equal(t.card.calibration, 'in-sample');
    assert.equal(t.card.folds, 1);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof TaktError);
        return e.code;
      }
      return 'no error';
    };
    const Y = rampRows(100, 4);
    assert.equal(
      code(() => trainModel(Y, 100, NAMES, { folds: 1 })),
      'anomaly.badOption',
    );
    assert.equal(
      code(() => trainModel(Y, 100, NAMES, { slowShare: 0 })),
      'anomaly.badOption',
    );
    assert.equal(
      code(() => trainModel(Y, 100, NAMES, { calibration: 'cv' as 'blocked' })),
      'anomaly.badOption',
    );
  });
});
