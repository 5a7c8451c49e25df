import assert from 'node:assert/strict';
import { forEachSample, parseFeatureLines, readQuality, readTs } from '../../nodes/prep/input';
import type { AlignSample } from '../../nodes/prep';

const NOW = 1764115200000;

describe('prep message input', () => {
  it('reads timestamps as epoch ms, epoch s or ISO text, and NaN for anything else', () => {
    assert.equal(readTs(undefined, NOW), NOW);
    assert.equal(readTs(1764115201000, NOW), 1764115201000);
    assert.equal(readTs(1764115201.5, NOW), 1764115201500);
    assert.equal(readTs('2025-11-26T00:00:01Z', NOW), 1764115201000);
    assert.ok(Number.isNaN(readTs('yesterday', NOW)));
    assert.ok(Number.isNaN(readTs(-5, NOW)));
  });

  it('reads qualities, OPC UA status codes included, and takes the unreadable as bad', () => {
    assert.deepEqual([undefined, 'good', 'UncertainLastUsableValue', 0x80000000, 'so-so'].map(readQuality), [
      'good',
      'good',
      'uncertain',
      'bad',
      'bad',
    ]);
  });

  it('walks a batch and a single sample alike', () => {
    const got: AlignSample[] = [];
    const n = forEachSample(
      { topic: 'line1', payload: [{ topic: 'a/x', value: 1, ts: NOW }, { value: 2 }] },
      NOW,
      (s) => got.push(s),
    );
    forEachSample({ topic: 'a/y', payload: 3, quality: 'bad' }, NOW, (s) => got.push(s));
    assert.equal(n, 2);
    assert.deepEqual(got, [
      { topic: 'a/x', value: 1, ts: NOW, quality: 'good' },
      { topic: 'line1', value: 2, ts: NOW, quality: 'good' },
      { topic: 'a/y', value: 3, ts: NOW, quality: 'bad' },
    ]);
  });

  it('parses the feature list lines and names the bad line', () => {
    assert.deepEqual(parseFeatureLines('# comment\np/CNC1/Temp\np/Press1/Temp, ptemp, twa, 5000\n'), [
      { topic: 'p/CNC1/Temp' },
      { topic: 'p/Press1/Temp', name: 'ptemp', agg: 'twa', maxAgeMs: 5000 },
    ]);
    assert.throws(() => parseFeatureLines('a\nb, b, median'), /line 2/);
  });
});
