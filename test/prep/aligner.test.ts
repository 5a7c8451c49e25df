import assert from 'node:assert/strict';
import { Aligner, type AlignSample, featureNames, nextFeatureName } from '../../nodes/prep';

// 2025-11-26T00:00:00Z: a multiple of every period used here.
const T0 = 1764115200000;
const NOW = T0; // wall clock for the future/stale checks

const s = (
  topic: string,
  dt: number,
  value: unknown,
  quality: AlignSample['quality'] = 'good',
): AlignSample => ({
  topic,
  value,
  ts: T0 + dt,
  quality,
});

describe('prep feature names', () => {
  it('uses the last segment, or as many as make the names unique', () => {
    assert.deepEqual(featureNames(['l/CNC1/Temperature', 'l/Press1/Temperature', 'l/CNC1/Power']), [
      'CNC1/Temperature',
      'Press1/Temperature',
      'Power',
    ]);
    assert.deepEqual(featureNames(['a/x/t', 'b/x/t', 'c']), ['a/x/t', 'b/x/t', 'c']);
  });

  it('names a late topic without renaming the others', () => {
    assert.equal(nextFeatureName('l/Oven1/Power', new Set(['Power', 'Temp'])), 'Oven1/Power');
    assert.equal(nextFeatureName('l/Oven1/Speed', new Set(['Power'])), 'Speed');
    assert.equal(nextFeatureName('l/Oven1/Temp', new Set(['CNC1/Temp']), ['l/CNC1/Temp']), 'Oven1/Temp');
  });
});

describe('prep Aligner', () => {
  it('computes the time-weighted mean over irregular samples, holding into the next bucket', () => {
    const a = new Aligner({ periodMs: 1000, agg: 'twa', features: [{ topic: 'm/a' }] });
    a.push(s('m/a', 0, 10), NOW);
    a.push(s('m/a', 200, 20), NOW);
    a.push(s('m/a', 700, 40), NOW);
    a.push(s('m/a', 1500, 0), NOW); // closes [T0, T0+1000)
    a.flush();
    const rows = a.takeRows();
    // [0,200) at 10, [200,700) at 20, [700,1000) at 40: (2000 + 10000 + 12000) / 1000 = 24
    // [1000,1500) held 40, [1500,2000) at 0: (20000 + 0) / 1000 = 20
    assert.deepEqual(
      rows.map((r) => [r.ts - T0, r.features.a, r.quality.a]),
      [
        [1000, 24, 'good'],
        [2000, 20, 'good'],
      ],
    );
    assert.equal(a.counts.used, 4);
  });

  it('stops holding a value for the time-weighted mean at its maximum age', () => {
    const a = new Aligner({ periodMs: 1000, agg: 'twa', maxAgeMs: 600, features: [{ topic: 'm/a' }] });
    for (const [dt, v] of [
      [0, 10],
      [200, 20],
      [700, 40],
      [1500, 0],
    ])
      a.push(s('m/a', dt, v), NOW);
    a.flush();
    // second bucket: 40 holds [1000, 1300) only (700 + 600), 0 holds [1500, 2000): 12000 / 800 = 15
    assert.deepEqual(
      a.takeRows().map((r) => r.features.a),
      [24, 15],
    );
  });

  it('aggregates last, mean, min, max and count per tag, whatever the arrival order', () => {
    const aggs = ['last', 'mean', 'min', 'max', 'count'] as const;
    const a = new Aligner({ periodMs: 1000, features: aggs.map((agg) => ({ topic: `t/${agg}`, agg })) });
    for (const agg of aggs) {
      a.push(s(`t/${agg}`, 100, 3), NOW);
      a.push(s(`t/${agg}`, 300, 1), NOW);
      a.push(s(`t/${agg}`, 200, 2), NOW);
    }
    a.flush();
    const [row] = a.takeRows();
    assert.deepEqual(row.features, { last: 1, mean: 2, min: 1, max: 3, count: 3 });
    assert.deepEqual(row.names, ['last', 'mean', 'min', 'max', 'count']);
    assert.deepEqual(row.vector, [1, 2, 1, 3, 3]);
  });

  it('takes out-of-order samples within the lateness and counts later ones as late', () => {
    const a = new Aligner({ periodMs: 1000, latenessMs: 500, features: [{ topic: 'm/a' }] });
    a.push(s('m/a', 100, 1), NOW);
    a.push(s('m/a', 1200, 2), NOW); // watermark 700: bucket 0 stays open
    assert.equal(a.takeRows().length, 0);
    a.push(s('m/a', 900, 3), NOW); // late but within the lateness: counts in bucket 0
    a.push(s('m/a', 1600, 4), NOW); // watermark 1100: bucket 0 closes
    const first = a.takeRows();
    assert.deepEqual(
      first.map((r) => [r.ts - T0, r.features.a]),
      [[1000, 3]],
    );
    a.push(s('m/a', 800, 5), NOW); // bucket 0 is gone
    assert.equal(a.counts.late, 1);
    a.flush();
    assert.deepEqual(
      a.takeRows().map((r) => r.features.a),
      [4],
    );
    assert.equal(a.counts.used, 4);
    assert.equal(a.accountedRatio(), 1);
  });

  it('carries values forward until their maximum age, then reports them missing', () => {
    const a = new Aligner({ periodMs: 1000, maxAgeMs: 2000, features: [{ topic: 'm/a' }, { topic: 'm/b' }] });
    a.push(s('m/a', 100, 1), NOW);
    a.push(s('m/b', 100, 2), NOW);
    a.push(s('m/a', 3100, 5), NOW); // closes buckets ending 1000, 2000, 3000
    const rows = a.takeRows();
    assert.deepEqual(
      rows.map((r) => [r.ts - T0, r.vector, r.quality.a, r.quality.b]),
      [
        [1000, [1, 2], 'good', 'good'],
        [2000, [1, 2], 'good', 'good'], // age 1900 <= 2000
        [3000, [null, null], 'missing', 'missing'], // age 2900
      ],
    );
  });

  it('marks bad and uncertain quality and never folds bad values into a row', () => {
    const a = new Aligner({ periodMs: 1000, agg: 'mean', features: [{ topic: 'm/a' }, { topic: 'm/b' }] });
    a.push(s('m/a', 100, 10), NOW);
    a.push(s('m/a', 200, 1000, 'bad'), NOW);
    a.push(s('m/b', 100, 7, 'bad'), NOW);
    a.push(s('m/a', 1100, 4, 'uncertain'), NOW);
    a.flush();
    const rows = a.takeRows();
    assert.deepEqual(rows[0].features, { a: 10, b: null });
    assert.deepEqual(rows[0].quality, { a: 'good', b: 'bad' });
    assert.deepEqual(rows[1].features, { a: 4, b: null });
    assert.deepEqual(rows[1].quality, { a: 'uncertain', b: 'bad' });
    assert.equal(a.counts.badQuality, 2);
  });

  it('counts bad input (unknown topic, text, NaN, future and far-past timestamps) without touching rows', () => {
    const a = new Aligner({ periodMs: 1000, features: [{ topic: 'm/a' }] });
    a.push(s('m/a', 100, 1), NOW);
    a.push(s('m/zzz', 100, 1), NOW);
    a.push(s('m/a', 200, 'abc'), NOW);
    a.push(s('m/a', 300, NaN), NOW);
    a.push({ topic: 'm/a', value: 99, ts: NOW + 7200000, quality: 'good' }, NOW); // 2 h ahead of all clocks
    a.push({ topic: 'm/a', value: 99, ts: NOW - 8 * 86400000, quality: 'good' }, NOW);
    a.push({ topic: 'm/a', value: 99, ts: NaN, quality: 'good' }, NOW);
    a.flush();
    const rows = a.takeRows();
    assert.deepEqual(
      rows.map((r) => r.features),
      [{ a: 1 }],
    );
    const c = a.counts;
    assert.deepEqual(
      [c.received, c.used, c.unknownTopic, c.notNumeric, c.nan, c.future, c.stale, c.badTs],
      [7, 1, 1, 1, 1, 1, 1, 1],
    );
    assert.equal(a.accountedRatio(), 1);
    assert.deepEqual(
      a.takeIssues().map((i) => i.code),
      ['unknownTopic', 'notNumeric', 'nan', 'future', 'stale', 'badTs'],
    );
  });

  it('accepts a source clock running ahead of the wall clock when it moves on steadily', () => {
    const a = new Aligner({ periodMs: 1000, features: [{ topic: 'm/a' }] });
    for (let i = 0; i < 200; i++) a.push(s('m/a', i * 30000, i), NOW); // 30 s steps, 100 min ahead in the end
    assert.equal(a.counts.future, 0);
    a.push(s('m/a', 199 * 30000 + 61000, 0), NOW); // a jump of 61 s ahead of the data and of the wall clock
    assert.equal(a.counts.future, 1);
  });

  it('follows a jump of the data clock once two topics agree on it, and not a lone wild timestamp', () => {
    const a = new Aligner({ periodMs: 1000, features: [{ topic: 'm/a' }, { topic: 'm/b' }] });
    for (let i = 0; i < 10; i++) {
      a.push(s('m/a', i * 1000, i), NOW);
      a.push(s('m/b', i * 1000, -i), NOW);
    }
    // One device far ahead: rejected, and stays rejected however often it repeats itself.
    for (let i = 0; i < 5; i++) a.push(s('m/a', 7200000 + i * 1000, 99), NOW);
    assert.equal(a.counts.future, 5);
    // The source (a simulator after a pause, say) jumps 5 min ahead on every topic at once.
    const J = 10000 + 300000;
    a.push(s('m/a', J, 1), NOW);
    a.push(s('m/b', J, 2), NOW);
    for (let i = 1; i <= 3; i++) {
      a.push(s('m/a', J + i * 1000, 1 + i), NOW);
      a.push(s('m/b', J + i * 1000, 2 + i), NOW);
    }
    a.flush();
    const c = a.counts;
    assert.equal(c.future, 6, 'the wild ones and the first sample of the jump');
    assert.equal(c.clockJumps, 1);
    const rows = a.takeRows();
    assert.deepEqual(rows.at(-1)?.features, { a: 4, b: 5 });
    assert.equal(a.accountedRatio(), 1);
  });

  it('follows a jump of a lone topic after three samples agree', () => {
    const a = new Aligner({ periodMs: 1000, features: [{ topic: 'm/a' }] });
    a.push(s('m/a', 0, 0), NOW);
    for (let i = 0; i < 4; i++) a.push(s('m/a', 600000 + i * 1000, i), NOW);
    a.flush();
    assert.deepEqual([a.counts.future, a.counts.clockJumps], [2, 1]);
    assert.deepEqual(a.takeRows().at(-1)?.features, { a: 3 });
  });

  it('discovers numeric topics, names them uniquely and appends a late one, counted', () => {
    const a = new Aligner({ periodMs: 1000 });
    a.push(s('l/CNC1/Temperature', 100, 20), NOW);
    a.push(s('l/Press1/Temperature', 100, 30), NOW);
    a.push(s('l/CNC1/State', 100, 'RUNNING'), NOW); // text: not a feature
    a.push(s('l/CNC1/Temperature', 1100, 21), NOW);
    assert.deepEqual(a.takeRows()[0].names, ['CNC1/Temperature', 'Press1/Temperature']);
    a.push(s('l/Oven1/Temperature', 1200, 180), NOW);
    a.flush();
    const [row] = a.takeRows();
    assert.deepEqual(row.names, ['CNC1/Temperature', 'Press1/Temperature', 'Oven1/Temperature']);
    assert.deepEqual(row.vector, [21, 30, 180]);
    assert.equal(a.counts.featureChanges, 1);
    assert.equal(a.counts.filtered, 1); // the text tag: left out, not an issue
    assert.equal(a.counts.unknownTopic, 0);
  });

  it('discovers only topics matching the include pattern', () => {
    const a = new Aligner({ periodMs: 1000, include: '/Temp$' });
    a.push(s('l/CNC1/Temp', 100, 20), NOW);
    a.push(s('l/CNC1/Speed', 100, 900), NOW);
    a.flush();
    assert.deepEqual(a.takeRows()[0].features, { Temp: 20 });
    assert.deepEqual([a.counts.filtered, a.accountedRatio(), a.takeIssues().length], [1, 1, 0]);
  });

  it('counts a feature list replaced mid-stream and keeps the kept features', () => {
    const a = new Aligner({ periodMs: 1000, features: [{ topic: 'm/a' }, { topic: 'm/b' }] });
    a.push(s('m/a', 100, 1), NOW);
    a.push(s('m/b', 150, 9), NOW); // waiting in the open bucket when m/b stops being a feature
    a.setFeatures([{ topic: 'm/a', name: 'alpha' }]);
    a.push(s('m/b', 200, 2), NOW);
    a.flush();
    const [row] = a.takeRows();
    assert.deepEqual(row.features, { alpha: 1 });
    assert.equal(a.counts.featureChanges, 1);
    assert.equal(a.counts.unknownTopic, 2);
    assert.equal(a.accountedRatio(), 1);
  });

  it('keeps emitting rows on the wall clock when data stops', () => {
    const a = new Aligner({ periodMs: 1000, maxAgeMs: 2500, features: [{ topic: 'm/a' }] });
    a.push(s('m/a', 100, 7), NOW);
    a.tick(NOW + 900); // quiet for less than a period: nothing moves
    assert.equal(a.takeRows().length, 0);
    a.tick(NOW + 5000); // data clock T0+5100
    assert.deepEqual(
      a.takeRows().map((r) => [r.ts - T0, r.features.a, r.quality.a]),
      [
        [1000, 7, 'good'],
        [2000, 7, 'good'],
        [3000, null, 'missing'],
        [4000, null, 'missing'],
        [5000, null, 'missing'],
      ],
    );
  });

  it('skips long runs of empty rows across a gap in the data, counted', () => {
    const a = new Aligner({ periodMs: 1000, maxEmptyRows: 2, features: [{ topic: 'm/a' }] });
    a.push(s('m/a', 100, 1), NOW);
    a.push(s('m/a', 10100, 2), NOW); // buckets 0..9 close: bucket 0 and 1 (open slots), skip 6, 2 empty
    const rows = a.takeRows();
    assert.deepEqual(
      rows.map((r) => r.ts - T0),
      [1000, 2000, 9000, 10000],
    );
    assert.equal(a.counts.skippedRows, 6);
  });

  it('emits a row per trigger sample with the samples since the previous trigger', () => {
    const a = new Aligner({ triggerTopic: 'm/cycle', agg: 'mean', features: [{ topic: 'm/a' }] });
    a.push(s('m/a', 10, 1), NOW);
    a.push(s('m/a', 20, 3), NOW);
    a.push(s('m/cycle', 30, true), NOW);
    a.push(s('m/a', 25, 100), NOW); // before the last trigger: late
    a.push(s('m/a', 40, 5), NOW);
    a.push(s('m/cycle', 50, true), NOW);
    assert.deepEqual(
      a.takeRows().map((r) => [r.ts - T0, r.features.a]),
      [
        [30, 2],
        [50, 5],
      ],
    );
    assert.equal(a.counts.late, 1);
  });

  it('keeps the discovered feature order and last values across a snapshot', () => {
    const a = new Aligner({ periodMs: 1000 });
    a.push(s('m/b', 100, 2), NOW);
    a.push(s('m/a', 200, 1), NOW);
    a.flush();
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as unknown;
    const b = new Aligner({ periodMs: 1000 });
    assert.ok(b.restore(snap));
    b.push(s('m/a', 1500, 5), NOW); // arrives first this time; m/b is not sent again
    b.flush();
    const [row] = b.takeRows();
    assert.deepEqual(row.names, ['b', 'a']);
    assert.deepEqual(row.vector, [2, 5]); // b held from before the redeploy (age 1900 <= 10000)
    assert.equal(b.restore({ version: 9 }), false);
  });

  it('refuses bad configuration with a named field', () => {
    assert.throws(() => new Aligner({ periodMs: 0 }), { code: 'prep.badConfig', field: 'periodMs' });
    assert.throws(() => new Aligner({ agg: 'median' as never }), { field: 'agg' });
    assert.throws(
      () =>
        new Aligner({
          features: [
            { topic: 'x/a', name: 'a' },
            { topic: 'y/b', name: 'a' },
          ],
        }),
      {
        field: 'features',
      },
    );
  });
});
