import assert from 'node:assert/strict';
import { Cleaner, type CleanConfig, type FeatureRow, type FeatureQuality } from '../../nodes/prep';

const T0 = 1764115200000;

function rows(name: string, values: (number | null | string)[], step = 1000, ts?: number[]): FeatureRow[] {
  const names = [name];
  return values.map((v, i) => ({
    ts: T0 + (ts ? ts[i] : i * step),
    features: { [name]: v as number | null },
    quality: { [name]: (v === null ? 'missing' : 'good') as FeatureQuality },
    names,
    vector: [v as number | null],
  }));
}

function run(cfg: CleanConfig, input: FeatureRow[]) {
  const c = new Cleaner(cfg);
  for (const r of input) c.push(r);
  c.flush();
  return { c, out: c.takeRows() };
}

describe('prep Cleaner', () => {
  it('holds rows back for the centred Hampel window', () => {
    const c = new Cleaner({ hampelWindow: 2 });
    for (const r of rows('x', [1, 2, 3])) c.push(r);
    assert.deepEqual(
      c.takeRows().map((r) => r.features.x),
      [1],
    );
    c.flush();
    assert.deepEqual(
      c.takeRows().map((r) => r.features.x),
      [2, 3],
    );
  });

  it('finds the spike of a known series with the Hampel filter and holds the last good value', () => {
    const { c, out } = run(
      { hampelWindow: 2, hampelThreshold: 3, missing: 'hold' },
      rows('x', [10, 11, 10, 12, 11, 50, 11, 10]),
    );
    // centred window of 5 around 50: 12 11 50 11 10, median 11, MAD 1; |50 - 11| = 39 > 3 * 1.4826 * 1
    // around 12: 11 10 12 11 50, median 11, MAD 1, |12 - 11| = 1: kept; around the last 10: 50 11 10: kept
    assert.deepEqual(
      out.map((r) => r.features.x),
      [10, 11, 10, 12, 11, 11, 11, 10],
    );
    assert.deepEqual(out[5].changes, { x: 'hold' });
    assert.equal(out[5].quality.x, 'uncertain');
    assert.equal(c.counts.hampel, 1);
    assert.equal(c.counts.hold, 1);
    assert.deepEqual(c.featureCounts().x, { hampel: 1, hold: 1 });
  });

  it('interpolates linearly across a gap by timestamp, holding rows until the next good value', () => {
    const c = new Cleaner({ missing: 'linear' });
    const input = rows('x', [10, null, null, 50], 0, [0, 1000, 3000, 4000]);
    c.push(input[0]);
    c.push(input[1]);
    c.push(input[2]);
    assert.equal(c.takeRows().length, 1);
    assert.equal(c.waiting, 2);
    c.push(input[3]);
    const out = c.takeRows();
    // 10 + 40 * 1000 / 4000 = 20; 10 + 40 * 3000 / 4000 = 40
    assert.deepEqual(
      out.map((r) => [r.ts - T0, r.features.x, r.quality.x]),
      [
        [1000, 20, 'uncertain'],
        [3000, 40, 'uncertain'],
        [4000, 50, 'good'],
      ],
    );
    assert.equal(c.counts.linear, 2);
  });

  it('gives up interpolating after maxGapRows and counts the value as unfilled', () => {
    const { c, out } = run({ missing: 'linear', maxGapRows: 1 }, rows('x', [1, null, null, 4]));
    assert.deepEqual(
      out.map((r) => r.features.x),
      [1, null, 3, 4],
    );
    assert.equal(c.counts.unfilled, 1);
    assert.equal(c.counts.linear, 1);
  });

  it('fills with the training mean and drops rows when asked', () => {
    const params = {
      method: 'none' as const,
      names: ['x'],
      offset: [0],
      scale: [1],
      mean: [7.5],
      std: [1],
      min: [0],
      max: [9],
      rows: 10,
    };
    const filled = run({ missing: 'mean', params }, rows('x', [1, null]));
    assert.deepEqual(
      filled.out.map((r) => r.features.x),
      [1, 7.5],
    );
    const dropped = run({ missing: 'drop' }, rows('x', [1, null, 3]));
    assert.deepEqual(
      dropped.out.map((r) => r.features.x),
      [1, 3],
    );
    assert.equal(dropped.c.counts.droppedRows, 1);
  });

  it('applies the physical range, the rate-of-change limit and the deadband', () => {
    const range = run({ features: [{ name: 'x', low: 0, high: 100 }] }, rows('x', [50, 150, -1]));
    assert.deepEqual(
      range.out.map((r) => [r.features.x, r.quality.x]),
      [
        [50, 'good'],
        [null, 'bad'],
        [null, 'bad'],
      ],
    );
    assert.equal(range.c.counts.range, 2);
    // 10 units/s: 0 -> 5 in 1 s passes, 5 -> 50 in 1 s does not, 5 -> 20 in 2 s passes (7.5/s)
    const rate = run({ maxRate: 10 }, rows('x', [0, 5, 50, 20]));
    assert.deepEqual(
      rate.out.map((r) => r.features.x),
      [0, 5, null, 20],
    );
    assert.equal(rate.c.counts.rate, 1);
    const db = run({ deadband: 0.5 }, rows('x', [10, 10.3, 10.6, 10.2]));
    assert.deepEqual(
      db.out.map((r) => r.features.x),
      [10, 10, 10.6, 10.6],
    );
    assert.equal(db.c.counts.deadband, 2);
  });

  it('takes physical ranges later, e.g. from an OPC UA EURange', () => {
    const c = new Cleaner();
    c.push(rows('x', [500])[0]);
    c.setRanges({ x: { low: 0, high: 100 } });
    c.push(rows('x', [50, 500])[1]);
    assert.deepEqual(
      c.takeRows().map((r) => r.features.x),
      [500, null],
    );
    assert.throws(() => c.setRanges({ x: { low: 'a', high: 1 } }), {
      code: 'prep.badRange',
      field: 'euRange.x',
    });
  });

  it('converts units with js-quantities, temperatures as absolute readings', () => {
    const { c, out } = run({ features: [{ name: 't', from: 'degC', to: 'degF' }] }, rows('t', [100, 0, -40]));
    const got = out.map((r) => r.features.t as number);
    [212, 32, -40].forEach((want, i) => assert.ok(Math.abs(got[i] - want) < 1e-9, `${got[i]} vs ${want}`));
    assert.equal(c.counts.converted, 3);
    const p = run({ features: [{ name: 'p', from: 'bar', to: 'kPa' }] }, rows('p', [1.5])).out[0].features
      .p as number;
    assert.ok(Math.abs(p - 150) < 1e-9, `${p} kPa`);
    assert.throws(() => new Cleaner({ features: [{ name: 't', from: 'degC', to: 'kg' }] }), {
      code: 'prep.badUnit',
    });
  });

  it('fits z-score parameters on the first rows, then scales, and hands the parameters out once', () => {
    const { c, out } = run({ scaling: 'zscore', fitRows: 4 }, rows('x', [1, 2, 3, 4, 5]));
    // mean 2.5, sample std sqrt(5/3)
    const std = Math.sqrt(5 / 3);
    assert.deepEqual(
      out.slice(0, 4).map((r) => [r.features.x, r.scaled]),
      [
        [1, false],
        [2, false],
        [3, false],
        [4, false],
      ],
    );
    assert.ok(out[4].scaled);
    assert.ok(Math.abs((out[4].features.x as number) - 2.5 / std) < 1e-12);
    const p = c.takeParams();
    assert.ok(p);
    assert.deepEqual([p.names, p.offset, p.rows], [['x'], [2.5], 4]);
    assert.ok(Math.abs(p.scale[0] - std) < 1e-12);
    assert.equal(c.takeParams(), undefined);
  });

  it('scales min-max with saved parameters from the start', () => {
    const saved = run({ scaling: 'minmax', fitRows: 4 }, rows('x', [1, 2, 3, 4])).c.getParams();
    assert.deepEqual([saved?.offset, saved?.scale], [[1], [3]]);
    const { out } = run({ scaling: 'minmax', params: saved }, rows('x', [5.5, 1]));
    assert.deepEqual(
      out.map((r) => [r.features.x, r.scaled]),
      [
        [1.5, true],
        [0, true],
      ],
    );
  });

  it('counts non-numeric values and feature list changes without failing', () => {
    const c = new Cleaner({ missing: 'hold' });
    c.push(rows('x', [1])[0]);
    c.push(rows('x', ['abc'])[0]);
    c.push({
      ts: T0 + 5000,
      features: { x: 2, y: 3 },
      quality: { x: 'good', y: 'good' },
      names: ['x', 'y'],
      vector: [2, 3],
    });
    const out = c.takeRows();
    assert.deepEqual(
      out.map((r) => r.vector),
      [[1], [1], [2, 3]],
    );
    assert.equal(c.counts.notNumeric, 1);
    assert.equal(c.counts.featureChanges, 1);
    assert.deepEqual(
      c.takeIssues().map((i) => i.code),
      ['notNumeric', 'featuresChanged'],
    );
  });

  it('refuses bad configuration with a named field', () => {
    assert.throws(() => new Cleaner({ missing: 'guess' as never }), {
      code: 'prep.badConfig',
      field: 'missing',
    });
    assert.throws(() => new Cleaner({ features: [{ name: 'x', low: 5, high: 1 }] }), {
      field: 'features[0].low',
    });
  });
});
