import assert from 'node:assert/strict';
import {
  commandReader,
  coercedValue,
  looksLikeBatch,
  numberValue,
  readRows,
  readSample,
  readSamples,
  readTimestamp,
  rowVector,
  TaktError,
} from '../../nodes/core';

const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);
const T = Date.UTC(2026, 10, 26, 7, 59, 30, 250);

/** The TaktError `fn` throws (fails the test when it throws nothing or something else). */
function caught(fn: () => unknown): TaktError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TaktError, `expected a TaktError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('core/message', () => {
  describe('readTimestamp: the one timestamp rule', () => {
    it('takes epoch ms as is and missing as the arrival time', () => {
      assert.equal(readTimestamp(T, NOW), T);
      assert.equal(readTimestamp(undefined, NOW), NOW);
      assert.equal(readTimestamp(null, NOW), NOW);
    });

    it('reads magnitudes below 1e11 as epoch seconds, fractions kept', () => {
      assert.equal(readTimestamp(T / 1000, NOW), T);
      assert.equal(readTimestamp(1e11 - 1, NOW), (1e11 - 1) * 1000);
      assert.equal(readTimestamp(1e11, NOW), 1e11);
      assert.equal(readTimestamp(String(T / 1000), NOW), T);
    });

    it('reads zoned ISO 8601 text and Dates', () => {
      assert.equal(readTimestamp('2026-11-26T07:59:30.250Z', NOW), T);
      assert.equal(readTimestamp('2026-11-26T08:59:30.250+01:00', NOW), T);
      assert.equal(readTimestamp(new Date(T), NOW), T);
    });

    it('names the field in time.noZone and time.badTimestamp', () => {
      const a = caught(() => readTimestamp('2026-11-26T07:59:30', NOW, 'payload[2].ts'));
      assert.equal(a.code, 'time.noZone');
      assert.equal(a.field, 'payload[2].ts');
      const b = caught(() => readTimestamp({}, NOW));
      assert.equal(b.code, 'time.badTimestamp');
      assert.equal(b.field, 'ts');
    });
  });

  describe('readSamples', () => {
    it('reads a single sample with msg.ts and msg.quality', () => {
      const [s] = readSamples(
        { topic: 'a/b', payload: 4.5, ts: '2026-11-26T07:59:30.250Z', quality: 'Uncertain' },
        { now: NOW },
      );
      assert.deepEqual(s, { topic: 'a/b', value: 4.5, ts: T, quality: 'uncertain' });
    });

    it('reads epoch seconds on a single sample and on batch elements', () => {
      const out = readSamples(
        {
          topic: 't',
          payload: [
            { value: 1, ts: T / 1000 },
            { value: 2, ts: T },
          ],
        },
        { now: NOW },
      );
      assert.deepEqual(
        out.map((s) => s.ts),
        [T, T],
      );
    });

    it('reads every element of a batch: topic from msg.topic, own quality, missing ts = now', () => {
      const out = readSamples(
        {
          topic: 'line/t',
          quality: 'bad',
          payload: [
            { value: 1, ts: T },
            { topic: 'line/u', value: 2, quality: 'bad' },
            { value: 3, quality: 0x40000000 },
          ],
        },
        { now: NOW },
      );
      assert.deepEqual(out, [
        { topic: 'line/t', value: 1, ts: T, quality: 'good' },
        { topic: 'line/u', value: 2, ts: NOW, quality: 'bad' },
        { topic: 'line/t', value: 3, ts: NOW, quality: 'uncertain' },
      ]);
    });

    it('refuses a batch whose LATER element is bad, naming that element', () => {
      const msg = { topic: 't', payload: [{ value: 1 }, { value: 2 }, { value: 3, ts: 'yesterday' }] };
      const err = caught(() => readSamples(msg, { now: NOW }));
      assert.equal(err.code, 'time.noZone');
      assert.equal(err.field, 'payload[2].ts');
      const notSample = caught(() => readSamples({ payload: [{ value: 1 }, 7] }, { now: NOW }));
      assert.equal(notSample.code, 'message.badBatch');
      assert.equal(notSample.field, 'payload[1]');
    });

    it('refuses naming the FIRST bad element after checking all', () => {
      const err = caught(() =>
        readSamples(
          {
            payload: [
              { value: 1, quality: 'meh' },
              { value: 2, ts: {} },
            ],
          },
          { now: NOW },
        ),
      );
      assert.equal(err.code, 'sample.badQuality');
      assert.equal(err.field, 'payload[0].quality');
    });

    it('marks bad elements instead when the node asks for it, keeping the good ones', () => {
      const out = readSamples(
        { topic: 't', payload: [{ value: 1 }, { value: 2, ts: 'x' }, 9, { value: 4, quality: 'meh' }] },
        { now: NOW, onBad: 'mark' },
      );
      assert.equal(out.length, 4);
      assert.equal(out[0].error, undefined);
      assert.equal(out[0].ts, NOW);
      assert.ok(Number.isNaN(out[1].ts));
      assert.equal(out[1].error?.code, 'time.noZone');
      assert.equal(out[2].error?.code, 'message.badBatch');
      assert.equal(out[2].quality, 'bad');
      assert.ok(Number.isNaN(out[2].ts));
      assert.equal(out[3].quality, 'bad');
      assert.equal(out[3].error?.code, 'sample.badQuality');
    });

    it('names the parts of a single sample as parts of a field when asked', () => {
      const err = caught(() =>
        readSample({ payload: 'n/a' }, { now: NOW, value: coercedValue('number'), field: 'payload' }),
      );
      assert.equal(err.field, 'payload.value');
      assert.match(err.message, /^payload\.value: "n\/a" is not a number/);
      assert.equal(
        caught(() => readSample({ payload: 1, ts: 'x' }, { now: NOW, field: 'payload' })).field,
        'payload.ts',
      );
    });

    it('marks a bad single sample too', () => {
      const [s] = readSamples({ payload: 1, ts: 'now' }, { now: NOW, onBad: 'mark' });
      assert.equal(s.error?.field, 'ts');
      assert.ok(Number.isNaN(s.ts));
    });

    it('checks values with the node value reader, naming the field', () => {
      assert.equal(readSample({ payload: 3 }, { now: NOW, value: numberValue }).value, 3);
      const one = caught(() => readSample({ payload: '3' }, { now: NOW, value: numberValue }));
      assert.equal(one.code, 'message.notNumber');
      assert.equal(one.field, 'payload');
      const el = caught(() =>
        readSamples({ payload: [{ value: 1 }, { value: NaN }] }, { now: NOW, value: numberValue }),
      );
      assert.equal(el.code, 'message.notNumber');
      assert.equal(el.field, 'payload[1].value');
      assert.equal(readSample({ payload: ' 7 ' }, { now: NOW, value: coercedValue('auto') }).value, 7);
      assert.equal(
        caught(() => readSample({ payload: 'x' }, { now: NOW, value: coercedValue('number') })).code,
        'sample.notNumeric',
      );
    });

    it('checks ISA-95 paths when asked, with a prefix', () => {
      const [s] = readSamples(
        { topic: 'press/temp', payload: 1 },
        { now: NOW, topic: 'path', topicPrefix: 'acme' },
      );
      assert.equal(s.topic, 'acme/press/temp');
      assert.equal(
        caught(() => readSample({ payload: 1 }, { now: NOW, topic: 'path' })).code,
        'sample.noTopic',
      );
      assert.equal(
        caught(() => readSample({ topic: 'a/+', payload: 1 }, { now: NOW, topic: 'path' })).code,
        'sample.badTopic',
      );
    });

    it('keeps numeric arrays as one value, and refuses a batch where one sample is expected', () => {
      assert.deepEqual(readSamples({ payload: [1, 2, 3] }, { now: NOW })[0].value, [1, 2, 3]);
      assert.equal(looksLikeBatch([{ value: 1 }]), true);
      assert.equal(looksLikeBatch([1, { value: 1 }]), false);
      assert.equal(caught(() => readSample({ payload: [{ value: 1 }] }, { now: NOW })).code, 'message.batch');
      const raw = readSample({ payload: [{ value: 1 }] }, { now: NOW, batch: false });
      assert.deepEqual(raw.value, [{ value: 1 }]);
    });
  });

  describe('readRows and rowVector', () => {
    const prep = (ts: unknown, quality: unknown, a: number) => ({
      ts,
      features: { a, b: 2 },
      quality,
      names: ['a', 'b'],
      vector: [a, 2],
    });

    it('reads a prep row with its own ts and quality', () => {
      const { rows, batch } = readRows({ payload: prep(T / 1000, 'uncertain', 1) }, { now: NOW });
      assert.equal(batch, false);
      assert.deepEqual(rows, [{ ts: T, features: { a: 1, b: 2 }, quality: 'uncertain' }]);
    });

    it('reads plain records and arrays, with msg.ts/msg.quality for a single row', () => {
      const r = readRows({ payload: { a: 1 }, ts: T, quality: 'bad' }, { now: NOW }).rows[0];
      assert.deepEqual(r, { ts: T, features: { a: 1 }, quality: 'bad' });
      assert.deepEqual(readRows({ payload: [1, 2] }, { now: NOW }).rows[0].features, [1, 2]);
    });

    it('checks every row of a batch', () => {
      const { rows, batch } = readRows({ payload: [prep(T, 'good', 1), { a: 3 }, [4, 5]] }, { now: NOW });
      assert.equal(batch, true);
      assert.equal(rows.length, 3);
      const bad = caught(() => readRows({ payload: [prep(T, 'good', 1), 'x'] }, { now: NOW }));
      assert.equal(bad.code, 'message.badRow');
      assert.equal(bad.field, 'payload[1]');
      const badTs = caught(() =>
        readRows({ payload: [prep(T, 'good', 1), prep('then', 'good', 2)] }, { now: NOW }),
      );
      assert.equal(badTs.field, 'payload[1].ts');
      const marked = readRows(
        { payload: [prep(T, 'good', 1), prep(T, 'meh', 2)] },
        { now: NOW, onBad: 'mark' },
      );
      assert.equal(marked.rows[1].error?.code, 'sample.badQuality');
      assert.equal(marked.rows[1].quality, 'bad');
      assert.equal(caught(() => readRows({ payload: 5 }, { now: NOW })).code, 'message.badRow');
    });

    it('orders a row by feature names, naming what is missing', () => {
      assert.deepEqual(rowVector({ b: 2, a: 1 }, ['a', 'b']), [1, 2]);
      assert.deepEqual(rowVector([1, 2], ['a', 'b']), [1, 2]);
      assert.equal(caught(() => rowVector([1], ['a', 'b'])).code, 'message.featureCount');
      const miss = caught(() => rowVector({ a: 1, c: NaN }, ['a', 'b', 'c']));
      assert.equal(miss.code, 'message.missingFeature');
      assert.equal(miss.field, 'b');
      assert.match(miss.message, /b, c/);
    });
  });

  describe('commandReader', () => {
    const actions = ['reset', 'report'] as const;

    it('reads msg.action from the node list, undefined without one', () => {
      const read = commandReader({ actions }, () => assert.fail('no warning expected'));
      assert.equal(read({ action: 'reset' }), 'reset');
      assert.equal(read({ payload: 1 }), undefined);
    });

    it('refuses an action not on the list (message.badAction, field action)', () => {
      const read = commandReader({ actions }, () => undefined);
      const err = caught(() => read({ action: 'flush' }));
      assert.equal(err.code, 'message.badAction');
      assert.equal(err.field, 'action');
      assert.match(err.message, /reset, report/);
    });

    it('accepts the old spellings, warning once per spelling and node', () => {
      const warnings: string[] = [];
      const read = commandReader({ actions, flags: { reset: 'reset' }, payloadAction: true }, (t) =>
        warnings.push(t),
      );
      assert.equal(read({ reset: true }), 'reset');
      assert.equal(read({ reset: 1 }), 'reset');
      assert.equal(read({ reset: false }), undefined);
      assert.equal(read({ payload: { action: 'report' } }), 'report');
      assert.equal(read({ payload: { action: 'report' } }), 'report');
      assert.equal(warnings.length, 2);
      assert.match(warnings[0], /msg\.reset is deprecated/);
      assert.match(warnings[1], /msg\.payload\.action is deprecated/);
      const err = caught(() => read({ payload: { action: 'x' } }));
      assert.equal(err.field, 'payload.action');
      // A second node warns on its own.
      const other: string[] = [];
      commandReader({ actions, flags: { reset: 'reset' } }, (t) => other.push(t))({ reset: true });
      assert.equal(other.length, 1);
    });

    it('does not read msg.payload.action for nodes that never took it', () => {
      const read = commandReader({ actions }, () => undefined);
      assert.equal(read({ payload: { action: 'reset' } }), undefined);
    });
  });
});
