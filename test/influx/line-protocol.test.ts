/**
 * Line-protocol encoding against the rules of the InfluxDB line-protocol reference ("Special characters"):
 * measurement: comma, space; tag key/value and field key: comma, equals sign, space; string field value:
 * double quote, backslash. Expectations are written by hand from those rules.
 */
import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import {
  encodePoint,
  escapeKey,
  escapeMeasurement,
  formatField,
  quoteString,
} from '../../nodes/influx/line-protocol';

const code = (c: string) => (err: unknown) => err instanceof TaktError && err.code === c;

describe('influx line protocol', () => {
  it('escapes commas and spaces in measurements but not equals signs', () => {
    assert.equal(escapeMeasurement('my measurement,1=2'), 'my\\ measurement\\,1=2');
  });

  it('escapes commas, equals signs and spaces in keys and tag values', () => {
    assert.equal(escapeKey('a b,c=d'), 'a\\ b\\,c\\=d');
  });

  it('doubles backslashes for v2 servers and leaves them for InfluxDB 1.x', () => {
    assert.equal(escapeKey('C:\\temp'), 'C:\\\\temp');
    assert.equal(escapeKey('C:\\temp', 'literal'), 'C:\\temp');
    assert.equal(escapeKey('a\\,b', 'literal'), 'a\\\\,b');
    assert.throws(() => escapeKey('ends\\', 'literal'), code('influx.trailingBackslash'));
  });

  it('quotes string fields, escaping double quotes and backslashes only', () => {
    assert.equal(quoteString('say "hi" \\ ok, a=b'), '"say \\"hi\\" \\\\ ok, a=b"');
  });

  it('keeps unicode as it is', () => {
    assert.equal(
      encodePoint({ measurement: 'Temperatur °C', tags: { Linie: 'Größe,1' }, fields: { 値: 'ü' }, ts: 5 }),
      'Temperatur\\ °C,Linie=Größe\\,1 値="ü" 5',
    );
  });

  it('writes numbers as floats, bigints as integers and booleans as true/false', () => {
    assert.equal(formatField(3), '3');
    assert.equal(formatField(-0.25), '-0.25');
    assert.equal(formatField(12n), '12i');
    assert.equal(formatField(false), 'false');
    assert.throws(() => formatField(NaN), code('influx.notFinite'));
  });

  it('sorts tags, skips empty tag values and keeps field order', () => {
    assert.equal(
      encodePoint({
        measurement: 'm',
        tags: { z: '1', a: '2', e: '' },
        fields: { b: 1, a: true },
        ts: 1700000000000,
      }),
      'm,a=2,z=1 b=1,a=true 1700000000000',
    );
  });

  it('omits the timestamp when there is none', () => {
    assert.equal(encodePoint({ measurement: 'm', fields: { v: 1 } }), 'm v=1');
  });

  it('refuses line breaks in names, empty measurements, points without fields and times out of range', () => {
    assert.throws(
      () => encodePoint({ measurement: 'm', tags: { t: 'a\nb' }, fields: { v: 1 } }),
      code('influx.newline'),
    );
    assert.throws(() => encodePoint({ measurement: 'm\r', fields: { v: 1 } }), code('influx.newline'));
    assert.throws(() => encodePoint({ measurement: ' ', fields: { v: 1 } }), code('influx.emptyMeasurement'));
    assert.throws(() => encodePoint({ measurement: 'm', fields: {} }), code('influx.noFields'));
    assert.throws(
      () => encodePoint({ measurement: 'm', fields: { v: 1 }, ts: 1e16 }),
      code('influx.tsRange'),
    );
  });

  it('allows line breaks inside string field values', () => {
    assert.equal(encodePoint({ measurement: 'm', fields: { note: 'a\nb' } }), 'm note="a\nb"');
  });
});
