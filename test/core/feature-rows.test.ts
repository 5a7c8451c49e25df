import assert from 'node:assert/strict';
import { featureRowQuality, readFeatureRows, readRows, TaktError } from '../../nodes/core';

const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);
const T = Date.UTC(2026, 10, 26, 7, 59, 30, 250);

// A row as takt-align sends it: quality per feature, null where a feature is missing or bad.
const alignRow = (ts: unknown, quality: Record<string, string>) => ({
  ts,
  features: { a: quality.a === 'good' || quality.a === 'uncertain' ? 1 : null, b: 2 },
  quality,
  names: ['a', 'b'],
  vector: [1, 2],
});

describe('core/message: rows of the prep nodes (per-feature quality)', () => {
  it('summarises a per-feature quality record into the row quality', () => {
    assert.equal(featureRowQuality({ a: 'good', b: 'good' }), 'good');
    assert.equal(featureRowQuality({ a: 'missing', b: 'good' }), 'uncertain');
    assert.equal(featureRowQuality({ a: 'bad', b: 'UncertainLastUsableValue' }), 'uncertain');
    assert.equal(featureRowQuality({ a: 'bad', b: 'missing' }), 'bad');
    assert.equal(featureRowQuality({ a: 'so-so' }), undefined);
  });

  it('reads a takt-align row, which readRows alone refuses, keeping the source row', () => {
    const row = alignRow('2026-11-26T07:59:30.250Z', { a: 'missing', b: 'good' });
    assert.throws(() => readRows({ payload: row }, { now: NOW }), { code: 'sample.badQuality' });
    const { rows, batch } = readFeatureRows({ payload: row }, { now: NOW });
    assert.equal(batch, false);
    assert.equal(rows[0].ts, T);
    assert.equal(rows[0].quality, 'uncertain');
    assert.deepEqual(rows[0].features, { a: null, b: 2 });
    assert.equal(rows[0].source, row);
  });

  it('checks every row of a batch and names the bad one', () => {
    const good = alignRow(T, { a: 'good', b: 'good' });
    const { rows } = readFeatureRows({ payload: [good, alignRow(T, { a: 'bad', b: 'bad' })] }, { now: NOW });
    assert.deepEqual(
      rows.map((r) => r.quality),
      ['good', 'bad'],
    );
    let err: unknown;
    try {
      readFeatureRows({ payload: [good, good, alignRow(T, { a: 'meh', b: 'good' })] }, { now: NOW });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TaktError);
    assert.equal(err.code, 'sample.badQuality');
    assert.equal(err.field, 'payload[2].quality');
    const marked = readFeatureRows(
      { payload: [good, alignRow('then', { a: 'good', b: 'good' })] },
      {
        now: NOW,
        onBad: 'mark',
      },
    );
    assert.equal(marked.rows[1].error?.code, 'time.noZone');
    assert.equal(marked.rows[0].error, undefined);
  });

  it('reads plain records and arrays as readRows does', () => {
    const { rows } = readFeatureRows({ payload: { a: 1 }, ts: T, quality: 'bad' }, { now: NOW });
    assert.deepEqual(
      { ...rows[0], source: undefined },
      { ts: T, features: { a: 1 }, quality: 'bad', source: undefined },
    );
    assert.deepEqual(readFeatureRows({ payload: [1, 2] }, { now: NOW }).rows[0].features, [1, 2]);
  });
});
