import assert from 'node:assert/strict';
import {
  isBatch,
  qualityFromStatusCode,
  TaktError,
  toBatch,
  toQuality,
  toSample,
  toTopic,
  toValue,
} from '../../nodes/core';

const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TaktError, `expected a TaktError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected an error');
}

describe('core/sample', () => {
  describe('toValue', () => {
    it('keeps finite numbers, booleans and text', () => {
      assert.equal(toValue(12.7), 12.7);
      assert.equal(toValue(false), false);
      assert.equal(toValue('Running'), 'Running');
    });

    it('auto-coerces numeric and boolean text', () => {
      assert.equal(toValue(' 71.5 '), 71.5);
      assert.equal(toValue('-1e3'), -1000);
      assert.equal(toValue('.5'), 0.5);
      assert.equal(toValue('TRUE'), true);
      assert.equal(toValue('12 kg'), '12 kg');
    });

    it('with coerce=number refuses text that is not numeric and maps booleans to 0/1', () => {
      assert.equal(toValue('3', 'number'), 3);
      assert.equal(toValue(true, 'number'), 1);
      assert.equal(
        code(() => toValue('abc', 'number')),
        'sample.notNumeric',
      );
    });

    it('with coerce=none keeps numeric text as text', () => {
      assert.equal(toValue('42', 'none'), '42');
    });

    it('refuses NaN and Infinity', () => {
      assert.equal(
        code(() => toValue(NaN)),
        'sample.notFinite',
      );
      assert.equal(
        code(() => toValue(-Infinity)),
        'sample.notFinite',
      );
    });

    it('copies numeric arrays and typed arrays into plain arrays, refusing bad elements by index', () => {
      const wave = new Float64Array([0.1, -0.2, 0.3]);
      const v = toValue(wave);
      assert.ok(Array.isArray(v));
      assert.deepEqual(v, [0.1, -0.2, 0.3]);
      assert.throws(() => toValue([1, NaN, 3]), /value\[1\]: NaN/);
      assert.throws(() => toValue([1, '2']), /value\[1\]/);
    });

    it('refuses objects, null and undefined', () => {
      assert.equal(
        code(() => toValue({ a: 1 })),
        'sample.badValue',
      );
      assert.equal(
        code(() => toValue(null)),
        'sample.badValue',
      );
      assert.equal(
        code(() => toValue(undefined)),
        'sample.badValue',
      );
    });
  });

  describe('toQuality', () => {
    it('reads words in any case, including OPC UA status names', () => {
      assert.equal(toQuality('GOOD'), 'good');
      assert.equal(toQuality('UncertainLastUsableValue'), 'uncertain');
      assert.equal(toQuality('BadNotConnected'), 'bad');
    });

    it('reads OPC UA StatusCode severity bits', () => {
      assert.equal(qualityFromStatusCode(0), 'good');
      assert.equal(qualityFromStatusCode(0x40920000), 'uncertain'); // UncertainSubNormal
      assert.equal(qualityFromStatusCode(0x80310000), 'bad'); // BadNoCommunication
      assert.equal(toQuality(0x808a0000), 'bad');
    });

    it('maps booleans and a missing quality', () => {
      assert.equal(toQuality(true), 'good');
      assert.equal(toQuality(false), 'bad');
      assert.equal(toQuality(undefined), 'good');
    });

    it('refuses anything else', () => {
      assert.equal(
        code(() => toQuality('excellent')),
        'sample.badQuality',
      );
      assert.equal(
        code(() => toQuality(-1)),
        'sample.badQuality',
      );
    });
  });

  describe('toTopic', () => {
    it('joins a prefix and a topic', () => {
      assert.equal(toTopic('line1/press/temp', 'acme/plant1'), 'acme/plant1/line1/press/temp');
      assert.equal(toTopic(undefined, 'acme/plant1/tag'), 'acme/plant1/tag');
    });

    it('refuses empty topics, empty segments and wildcards', () => {
      assert.equal(
        code(() => toTopic('')),
        'sample.noTopic',
      );
      assert.equal(
        code(() => toTopic('a//b')),
        'sample.badTopic',
      );
      assert.equal(
        code(() => toTopic('a/b/')),
        'sample.badTopic',
      );
      assert.equal(
        code(() => toTopic('a/+/b')),
        'sample.badTopic',
      );
      assert.equal(
        code(() => toTopic('a/#')),
        'sample.badTopic',
      );
    });
  });

  describe('toSample', () => {
    it('builds a sample with defaults for ts and quality', () => {
      assert.deepEqual(toSample({ topic: 'l1/oven/temp', value: '180.5' }, { now: NOW }), {
        topic: 'l1/oven/temp',
        value: 180.5,
        ts: NOW,
        quality: 'good',
      });
    });

    it('names the field at fault', () => {
      assert.throws(
        () => toSample({ topic: 't', value: 1, ts: 'yesterday' }, { now: NOW }),
        (err: TaktError) => err.field === 'payload.ts' && err.code === 'time.noZone',
      );
    });
  });

  describe('batches', () => {
    it('tells a batch from a numeric array', () => {
      assert.equal(isBatch([{ value: 1 }]), true);
      assert.equal(isBatch([1, 2, 3]), false);
      assert.equal(isBatch([]), false);
      assert.equal(isBatch([{ value: 1 }, 2]), false);
    });

    it('reads every element, taking the default topic where one is missing', () => {
      const b = toBatch(
        [
          { topic: 'a', value: 1, ts: NOW - 1000 },
          { value: '2', quality: 'bad' },
        ],
        'dflt',
        { now: NOW, topicPrefix: 'site' },
      );
      assert.deepEqual(b, [
        { topic: 'site/a', value: 1, ts: NOW - 1000, quality: 'good' },
        { topic: 'site/dflt', value: 2, ts: NOW, quality: 'bad' },
      ]);
    });

    it('refuses the whole batch on one bad element and names it', () => {
      assert.throws(
        () => toBatch([{ topic: 'a', value: 1 }, { topic: 'b' }], undefined, { now: NOW }),
        /payload\[1\]/,
      );
      assert.throws(
        () =>
          toBatch(
            [
              { topic: 'a', value: 1 },
              { topic: 'b', value: NaN },
            ],
            undefined,
            { now: NOW },
          ),
        /payload\[1\]\.value/,
      );
    });
  });
});
