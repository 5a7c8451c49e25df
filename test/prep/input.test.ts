import assert from 'node:assert/strict';
import { readSamples } from '../../nodes/core/message';
import { parseFeatureLines } from '../../nodes/prep/input';

const NOW = 1764115200000;

// The prep nodes read samples with the one core reader in 'mark' mode: nothing throws on a bad sample,
// an unreadable timestamp becomes NaN and an unreadable quality 'bad', so the engines count them.
const mark = (msg: object) => readSamples(msg, { now: NOW, onBad: 'mark' });
const ts = (v: unknown) => mark({ topic: 't', payload: 1, ts: v })[0].ts;
const quality = (v: unknown) => mark({ topic: 't', payload: 1, quality: v })[0].quality;

describe('prep message input (core/message in mark mode)', () => {
  it('reads timestamps as epoch ms, epoch s or ISO text, and NaN for anything else', () => {
    assert.equal(ts(undefined), NOW);
    assert.equal(ts(1764115201000), 1764115201000);
    assert.equal(ts(1764115201.5), 1764115201500);
    assert.equal(ts('2025-11-26T00:00:01Z'), 1764115201000);
    assert.ok(Number.isNaN(ts('yesterday')));
    assert.ok(Number.isNaN(ts(-5)));
  });

  it('reads qualities, OPC UA status codes included, and takes the unreadable as bad', () => {
    assert.deepEqual([undefined, 'good', 'UncertainLastUsableValue', 0x80000000, 'so-so'].map(quality), [
      'good',
      'good',
      'uncertain',
      'bad',
      'bad',
    ]);
  });

  it('walks a batch and a single sample alike', () => {
    const got = [
      ...mark({ topic: 'line1', payload: [{ topic: 'a/x', value: 1, ts: NOW }, { value: 2 }] }),
      ...mark({ topic: 'a/y', payload: 3, quality: 'bad' }),
    ];
    assert.deepEqual(got, [
      { topic: 'a/x', value: 1, ts: NOW, quality: 'good' },
      { topic: 'line1', value: 2, ts: NOW, quality: 'good' },
      { topic: 'a/y', value: 3, ts: NOW, quality: 'bad' },
    ]);
  });

  it('checks every element of a batch, not only the first: a later bad one is marked', () => {
    const got = mark({
      topic: 'line1',
      payload: [{ value: 1, ts: NOW }, { value: 2, ts: 'noon' }, 7, { value: 4, quality: 'so-so' }],
    });
    assert.equal(got.length, 4);
    assert.equal(got[0].error, undefined);
    assert.ok(Number.isNaN(got[1].ts));
    assert.equal(got[1].error?.field, 'payload[1].ts');
    assert.ok(Number.isNaN(got[2].ts));
    assert.equal(got[2].error?.code, 'message.badBatch');
    assert.equal(got[3].quality, 'bad');
    assert.equal(got[3].error?.field, 'payload[3].quality');
  });

  it('parses the feature list lines and names the bad line', () => {
    assert.deepEqual(parseFeatureLines('# comment\np/CNC1/Temp\np/Press1/Temp, ptemp, twa, 5000\n'), [
      { topic: 'p/CNC1/Temp' },
      { topic: 'p/Press1/Temp', name: 'ptemp', agg: 'twa', maxAgeMs: 5000 },
    ]);
    assert.throws(() => parseFeatureLines('a\nb, b, median'), /line 2/);
    assert.throws(() => parseFeatureLines('a, a, last, soon'), {
      code: 'prep.badConfig',
      field: 'features line 1',
    });
  });
});
