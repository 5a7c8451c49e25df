import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyBaseline, LevelFollower } from '../../nodes/anomaly/baseline';
import { trendTest } from '../../nodes/anomaly/linalg';
import {
  type ModelCard,
  modelKind,
  modelToOnnx,
  movingMean,
  OnnxAnomalyModel,
  saveModel,
  scoreMatrix,
  scoreSeries,
  type TrainOptions,
  trainModel,
} from '../../nodes/anomaly';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';

const NAMES = ['load', 'flow', 'current', 'vibration', 'temp'];
const TRAIN = 400;

/**
 * n rows of a pump-like process: flow and current follow a wandering load, vibration is independent noise, and
 * `temp` drifts linearly from the first row by `drift` noise widths per 400 rows (so inside the training window
 * and on after it). `step` adds `size` noise widths to column `col` on rows [from, to).
 */
function process(
  n: number,
  seed: number,
  drift: number,
  step?: { col: number; from: number; to: number; size: number },
) {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 5);
  let u = 0;
  for (let i = 0; i < n; i++) {
    u = 0.9 * u + 0.45 * rng.normal();
    const row = [
      u + 0.3 * rng.normal(),
      2 * u + 0.3 * rng.normal(),
      -u + 0.3 * rng.normal(),
      rng.normal(),
      60 + (drift * i) / 400 + rng.normal(),
    ];
    if (step && i >= step.from && i < step.to) row[step.col] += step.size * (step.col === 4 ? 1 : 0.3);
    X.set(row, i * 5);
  }
  return X;
}

/** Share of rows in [from, to) whose 30-row health index is above the smoothed threshold. */
function alarmRate(X: Float64Array, n: number, o: TrainOptions, from: number, to: number): number {
  const t = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { kind: 'pca', ...o });
  const h = movingMean(scoreSeries(t, X, n).score, 30);
  let a = 0;
  for (let i = from; i < to; i++) if (h[i] > t.card.smoothedThreshold) a++;
  return a / (to - from);
}

describe('drifting features', () => {
  it('trendTest: Mann-Kendall z and Theil-Sen slope of block medians by hand', () => {
    // 5 blocks of 2 rows, medians 0, 1, 2, 3, 4 at centre rows 0.5, 2.5, ...: S = 10, var = 5·4·15/18
    const X = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4];
    const t = trendTest(X, 10, 1, 0, 2);
    assert.ok(Math.abs(t.z - 9 / Math.sqrt(50 / 3)) < 1e-12, `z ${t.z}`);
    assert.equal(t.slope, 0.5);
    // MAD 0 (a quantised feature): the root mean square of the deviations from the block medians instead
    assert.equal(t.noise, 0);
    const q = trendTest([1, 1, 4, 2, 2, 5, 3, 3, 6, 4, 4, 7], 12, 1, 0, 3);
    assert.ok(Math.abs(q.noise - Math.sqrt(3)) < 1e-12, `noise ${q.noise}`);
    assert.ok(Math.abs(q.slope - 1 / 3) < 1e-12);
    assert.equal(trendTest([0, 2, 1, 3, 2, 4, 3, 5, 4, 6], 10, 1, 0, 2).noise, 1.4826);
    // a short last block joins the previous one; fewer than 4 blocks: no test
    assert.deepEqual(trendTest([1, 2, 3, 4, 5, 6], 6, 1, 0, 2), {
      z: 0,
      slope: 0,
      noise: trendTest([1, 2, 3, 4, 5, 6], 6, 1, 0, 2).noise,
    });
    // second column of two; a falling series gives a negative z
    const down = trendTest([9, 8, 9, 8, 9, 6, 9, 6, 9, 4, 9, 4, 9, 2, 9, 2], 8, 2, 1, 2);
    assert.ok(down.z < 0 && down.slope === -1, JSON.stringify(down));
    // white noise: no trend
    const rng = new Rng(9);
    const w = Float64Array.from({ length: 400 }, () => rng.normal());
    assert.ok(Math.abs(trendTest(w, 400, 1, 0, 30).z) < 2.576);
  });

  it('applyBaseline: deviations from the level before each row, the level moving by alpha', () => {
    const X = [1, 10, 2, 20, 3, 30];
    const level = [0];
    applyBaseline({ index: [1], alpha: 0.5 }, X, 3, 2, level);
    // levels 0 → 5 → 12.5 → 21.25; deviations 10, 15, 17.5; column 0 untouched
    assert.deepEqual(X, [1, 10, 2, 15, 3, 17.5]);
    assert.deepEqual(level, [21.25]);
    // a skipped (imputed) value scores as on the level and leaves it
    const Y = [5, 7];
    const l2 = [4];
    applyBaseline({ index: [0], alpha: 0.5 }, Y, 2, 1, l2, (i) => i === 0);
    assert.deepEqual(Y, [0, 3]);
    assert.deepEqual(l2, [5.5]);
  });

  it('a temperature drifting inside the training window, too little for the slow-share rule, raises no false alarms later', () => {
    // 2.5 noise widths per window: between-block share about 0.35, below the 0.5 limit
    const n = 1200;
    const X = process(n, 11, 2.5);
    const t = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { kind: 'pca' });
    assert.ok(t.card.slowShare[4] < 0.5, `share ${t.card.slowShare[4]}`);
    assert.ok(Math.abs(t.card.trendZ[4]) > 2.576, `z ${t.card.trendZ[4]}`);
    assert.deepEqual(t.card.drifting, ['temp']);
    assert.deepEqual(t.card.ignored, ['temp']);
    // at fixed levels (follow: 0), so that the trend rule alone is seen
    const now = alarmRate(X, n, { follow: 0 }, TRAIN, n);
    // the rule before: slow share only; the temperature weighs and its drift alarms
    const before = alarmRate(X, n, { trend: false, follow: 0 }, TRAIN, n);
    assert.ok(now < 0.05, `false alarms with the trend rule: ${now}`);
    assert.ok(before > 0.3, `false alarms with the slow-share rule only: ${before}`);
  });

  it('still finds a broken correlation (a step in the flow) while the temperature drifts', () => {
    const n = 1200;
    // a step of 8 noise widths: found on every row with the default (levels following) and at fixed levels
    const X = process(n, 12, 2.5, { col: 1, from: 800, to: 950, size: 8 });
    for (const o of [{}, { follow: 0 }]) {
      assert.ok(alarmRate(X, n, o, 830, 950) > 0.9, `the step is found (${JSON.stringify(o)})`);
      assert.ok(alarmRate(X, n, o, TRAIN, 800) < 0.05, 'no false alarm before it');
      assert.ok(alarmRate(X, n, o, 1000, n) < 0.05, 'none after it');
    }
    // the price of following: a marginal step of 6 noise widths, found at fixed levels, is mostly learnt while
    // its health index climbs towards the threshold (README, bench:skab; takt-anomaly's help)
    const Y = process(n, 12, 2.5, { col: 1, from: 800, to: 950, size: 6 });
    assert.ok(alarmRate(Y, n, { follow: 0 }, 830, 950) > 0.9, 'fixed levels find it');
    assert.ok(alarmRate(Y, n, {}, 830, 950) < 0.5, 'following levels learn most of it');
  });

  it('drift "baseline": the drift is discounted but a step in the drifting feature still counts', () => {
    const n = 1200;
    const X = process(n, 13, 2.5, { col: 4, from: 800, to: 950, size: 8 });
    const t = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { kind: 'pca', drift: 'baseline' });
    assert.deepEqual(t.card.ignored, []);
    assert.deepEqual(t.card.baseline?.features, ['temp']);
    assert.equal(t.card.baseline?.alpha, 1 / 60);
    // the drift alarms at its level (the rule before), hardly against the adapting level
    assert.ok(alarmRate(X, n, { drift: 'baseline' }, TRAIN, 800) < 0.1, 'few false alarms from the drift');
    assert.ok(alarmRate(X, n, { trend: false, follow: 0 }, TRAIN, 800) > 0.3, 'many at its level');
    assert.ok(alarmRate(X, n, { drift: 'baseline' }, 800, 860) > 0.8, 'the step shows at once');
    assert.ok(alarmRate(X, n, { drift: 'ignore' }, 800, 860) < 0.3, 'at weight 0 hardly');
    assert.throws(
      () => trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { drift: 'x' as 'ignore' }),
      (e: unknown) => e instanceof TaktError && e.field === 'drift',
    );
  });

  /** The pump process without drift, its vibration creeping up by `ramp` per row from row 500 on, a fault at 1200. */
  function creeping(n: number, seed: number, ramp: number): Float64Array {
    const X = process(n, seed, 0, { col: 1, from: 1200, to: 1400, size: 6 });
    for (let i = 501; i < n; i++) X[i * 5 + 3] += ramp * (i - 500);
    return X;
  }

  it('follow: the levels follow a slow change after training, but not a fault', () => {
    const n = 1500;
    const X = creeping(n, 21, 0.005);
    const t = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { kind: 'pca', follow: 150 });
    assert.deepEqual(t.card.follow?.index, [0, 1, 2, 3, 4]);
    assert.equal(t.card.follow?.threshold, t.card.smoothedThreshold);
    // fixed levels: the creeping vibration alarms before the fault
    assert.ok(alarmRate(X, n, { follow: 0 }, TRAIN, 1200) > 0.1, 'fixed levels alarm on the creep');
    assert.ok(alarmRate(X, n, { follow: 150 }, TRAIN, 1200) < 0.03, 'followed levels do not');
    // the fault is found and held to its end: the levels stand still during the alarm
    assert.ok(alarmRate(X, n, { follow: 150 }, 1230, 1400) > 0.95, 'the fault is found');
    assert.ok(alarmRate(X, n, { follow: 150 }, 1350, 1400) > 0.95, 'and not learnt');
    // the default (chosen in bench:skab): following on, 150 rows, held for one smoothing window after an alarm
    const plain = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES);
    assert.deepEqual(
      [plain.card.follow?.rows, plain.card.follow?.hold, plain.card.follow?.gate],
      [150, 30, undefined],
    );
    const short = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { smoothing: 10 });
    assert.equal(short.card.follow?.hold, 10);
    assert.equal(trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { follow: 0 }).card.follow, undefined);
    for (const follow of [0.5, -1, Number.NaN])
      assert.throws(
        () => trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { follow }),
        (e: unknown) => e instanceof TaktError && e.field === 'follow',
      );
  });

  it('LevelFollower gate: the levels move only while the health index is at or under gate·threshold', () => {
    const spec = { rows: 10, features: ['a'], index: [0], mean: [0], smoothing: 1, threshold: 1 };
    const gated = new LevelFollower({ ...spec, gate: 0.5 });
    const plain = new LevelFollower(spec);
    // health 0.25: under both gates, the level moves 1/10 of the way to 10
    assert.equal(gated.update([10], 0, 1, 0.25), 0.25);
    plain.update([10], 0, 1, 0.25);
    assert.deepEqual([gated.level, plain.level], [[1], [1]]);
    // health 0.75: over half the threshold, under the threshold: only the ungated level moves (to 1 + 0.9)
    gated.update([10], 0, 1, 0.75);
    plain.update([10], 0, 1, 0.75);
    assert.deepEqual(gated.level, [1]);
    assert.ok(Math.abs(plain.level[0] - 1.9) < 1e-12);
    // health exactly at the gate still moves
    gated.update([11], 0, 1, 0.5);
    assert.equal(gated.level[0], 2);
    // the row is shifted by (mean − level)
    const out = [0];
    gated.shift([5], 0, 1, out, 0);
    assert.deepEqual(out, [3]);
  });

  it('LevelFollower hold: after the health index was over the gate, the levels wait `hold` rows under it', () => {
    const f = new LevelFollower({
      rows: 2,
      features: ['a'],
      index: [0],
      mean: [0],
      smoothing: 1,
      threshold: 1,
      hold: 2,
    });
    // from the start the level moves (half way to 4)
    f.update([4], 0, 1, 0.5);
    assert.deepEqual(f.level, [2]);
    // over the threshold: still; then two rows under it: still (the hold); the third moves
    const levels = [2, 0.5, 0.5, 0.5].map((h) => (f.update([4], 0, 1, h), f.level[0]));
    assert.deepEqual(levels, [2, 2, 2, 3]);
    // without a hold the first row under the threshold moves
    const g = new LevelFollower({ ...f.spec, hold: undefined });
    g.update([4], 0, 1, 2);
    g.update([4], 0, 1, 0.5);
    assert.deepEqual(g.level, [2]);
    // reset starts with the hold served
    f.update([4], 0, 1, 2);
    f.reset();
    f.update([4], 0, 1, 0.5);
    assert.deepEqual(f.level, [2]);
  });

  it('followGate and followHold are carried in the card and checked', () => {
    const X = process(TRAIN, 23, 0);
    const t = trainModel(X, TRAIN, NAMES, { kind: 'pca', follow: 150, followGate: 0.5 });
    assert.equal(t.card.follow?.gate, 0.5);
    // the earlier versions' values (gate 1, no hold) are left out of the card, which then reads as theirs
    const old = trainModel(X, TRAIN, NAMES, { kind: 'pca', follow: 150, followHold: 0 }).card.follow;
    assert.deepEqual([old?.gate, old?.hold, old?.resume], [undefined, undefined, undefined]);
    for (const followGate of [0, -0.5, 1.5, Number.NaN])
      assert.throws(
        () => trainModel(X, TRAIN, NAMES, { follow: 150, followGate }),
        (e: unknown) => e instanceof TaktError && e.field === 'followGate',
      );
    assert.equal(trainModel(X, TRAIN, NAMES, { follow: 150, followHold: 30 }).card.follow?.hold, 30);
    for (const followHold of [-1, 2.5, Number.NaN])
      assert.throws(
        () => trainModel(X, TRAIN, NAMES, { follow: 150, followHold }),
        (e: unknown) => e instanceof TaktError && e.field === 'followHold',
      );
  });

  it("calibrateFollowing: each held-out block is scored behind a follower started at its fold's means", () => {
    const X = process(TRAIN, 24, 0);
    const o: TrainOptions = { kind: 'pca', follow: 150, followGate: 0.5 };
    const fixed = trainModel(X, TRAIN, NAMES, { ...o, calibrateFollowing: false });
    const t = trainModel(X, TRAIN, NAMES, { ...o, calibrateFollowing: true });
    const ignore = NAMES.map((f) => fixed.card.ignored.includes(f));
    // by hand: 4 folds of 100 rows; the follower gated at half the fixed-level smoothed threshold, held 30 rows
    const cal = new Float64Array(TRAIN);
    for (let b = 0; b < 4; b++) {
      const lo = b * 100;
      const rest = Float64Array.from([...X.subarray(0, lo * 5), ...X.subarray((lo + 100) * 5)]);
      const params = modelKind('pca').train(rest, 300, 5, o, ignore).params;
      const mean = [0, 1, 2, 3, 4].map(
        (j) => rest.filter((_, k) => k % 5 === j).reduce((a, v) => a + v, 0) / 300,
      );
      const f = new LevelFollower({
        rows: 150,
        features: NAMES,
        index: [0, 1, 2, 3, 4],
        mean,
        smoothing: 30,
        threshold: fixed.card.smoothedThreshold,
        gate: 0.5,
        hold: 30,
      });
      for (let i = lo; i < lo + 100; i++) {
        const row = X.slice(i * 5, (i + 1) * 5);
        f.shift(X, i, 5, row, 0);
        cal[i] = scoreMatrix(params, row, 1).score[0];
        f.update(X, i, 5, cal[i]);
      }
    }
    const want = Math.max(...movingMean(cal, 30));
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.abs(b);
    assert.ok(close(t.card.smoothedThreshold, want), `${t.card.smoothedThreshold} vs ${want}`);
    assert.ok(close(t.card.threshold, Math.max(...cal)), `${t.card.threshold} vs ${Math.max(...cal)}`);
    assert.equal(t.card.follow?.threshold, t.card.smoothedThreshold);
    assert.ok(!close(t.card.smoothedThreshold, fixed.card.smoothedThreshold), 'differs from fixed levels');
  });

  const dir = mkdtempSync(join(tmpdir(), 'takt-drift-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ONNX scoring carries the adapting level from call to call, as scoreSeries does', async () => {
    const n = 700;
    const X = process(n, 14, 3);
    const t = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { kind: 'pca', drift: 'baseline' });
    const want = scoreSeries(t, X, n).score;
    const { model } = saveModel(t, dir, 'drift-pca');
    const m = await OnnxAnomalyModel.load(model);
    try {
      const rows = (a: number, b: number) =>
        Array.from({ length: b - a }, (_, i) => Array.from(X.subarray((a + i) * 5, (a + i + 1) * 5)));
      // on line, scoring starts where training ended, in two calls
      const got = [...(await m.score(rows(TRAIN, 550))), ...(await m.score(rows(550, n)))].map(
        (r) => r.score,
      );
      got.forEach((s, i) =>
        assert.ok(
          Math.abs(s - want[TRAIN + i]) <= 1e-3 * Math.max(1, want[TRAIN + i]),
          `row ${TRAIN + i}: ${s} vs ${want[TRAIN + i]}`,
        ),
      );
      // resetBaseline starts over from where training ended
      m.resetBaseline();
      const again = await m.score(rows(TRAIN, TRAIN + 1));
      assert.ok(Math.abs(again[0].score - got[0]) < 1e-9);
      assert.deepEqual(Object.keys(m.baselineLevel), ['temp']);
    } finally {
      await m.dispose();
    }
  });

  it('ONNX scoring follows the levels row by row, as scoreSeries does', async () => {
    const n = 1300;
    const X = creeping(n, 22, 0.005);
    const t = trainModel(X.subarray(0, TRAIN * 5), TRAIN, NAMES, { kind: 'pca', follow: 150 });
    const want = scoreSeries(t, X, n).score;
    const { model } = saveModel(t, dir, 'follow-pca');
    const m = await OnnxAnomalyModel.load(model);
    try {
      const rows = (a: number, b: number) =>
        Array.from({ length: b - a }, (_, i) => Array.from(X.subarray((a + i) * 5, (a + i + 1) * 5)));
      const got = [...(await m.score(rows(TRAIN, 900))), ...(await m.score(rows(900, n)))].map(
        (r) => r.score,
      );
      got.forEach((s, i) =>
        assert.ok(
          Math.abs(s - want[TRAIN + i]) <= 1e-3 * Math.max(1, want[TRAIN + i]),
          `row ${TRAIN + i}: ${s} vs ${want[TRAIN + i]}`,
        ),
      );
      // with the follower reset, row 1,250 scores against the training levels again, not the followed ones
      m.resetBaseline();
      const [fresh] = await m.score(rows(1250, 1251));
      assert.ok(Math.abs(fresh.score - got[1250 - TRAIN]) > 1e-6);
    } finally {
      await m.dispose();
    }
    // a card whose follower or baseline names features the model does not have is refused at load
    const f = t.card.follow as NonNullable<typeof t.card.follow>;
    const cards: [string, ModelCard][] = [
      ['badFollow', { ...t.card, follow: { ...f, features: ['nope', ...f.features.slice(1)] } }],
      [
        'badBaseline',
        { ...t.card, baseline: { features: ['temp'], index: [4], alpha: 2, start: [0], level: [0] } },
      ],
    ];
    for (const [name, card] of cards) {
      const file = join(dir, `${name}.onnx`);
      writeFileSync(file, modelToOnnx({ params: t.params, card }));
      await assert.rejects(
        OnnxAnomalyModel.load(file),
        (e: unknown) => e instanceof TaktError && e.code === `anomaly.${name}`,
      );
    }
  });
});
