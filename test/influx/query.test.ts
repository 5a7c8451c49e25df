import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import {
  buildFlux,
  buildInfluxQl,
  quoteIdent,
  resolveTime,
  toCsv,
  toRows,
  toSamples,
} from '../../nodes/influx/query';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('influx query building', () => {
  it('resolves relative and absolute times', () => {
    assert.equal(resolveTime('-15m', NOW), NOW - 15 * 60000);
    assert.equal(resolveTime('-2d', NOW), NOW - 2 * 86400000);
    assert.equal(resolveTime('now', NOW), NOW);
    assert.equal(resolveTime('2026-11-26T00:00:00Z', NOW), Date.UTC(2026, 10, 26));
    assert.equal(resolveTime(1764115200000, NOW), 1764115200000);
    assert.throws(
      () => resolveTime('yesterday', NOW),
      (e: unknown) => e instanceof TaktError,
    );
  });

  it('quotes InfluxQL identifiers, escaping quotes and backslashes', () => {
    assert.equal(quoteIdent('my "m"\\x'), '"my \\"m\\"\\\\x"');
  });

  it('keeps values out of the InfluxQL text, as bound parameters', () => {
    const evil = "x' OR 1=1 --";
    const { q, params } = buildInfluxQl(
      { start: '-1h', measurement: 'temp', fields: ['value'], tags: { line: evil } },
      NOW,
    );
    assert.equal(
      q,
      'SELECT "value" FROM "temp" WHERE time >= $start AND time < $stop AND "line" = $tag0 GROUP BY *',
    );
    assert.deepEqual(params, {
      start: '2026-11-26T11:00:00.000Z',
      stop: '2026-11-26T12:00:00.000Z',
      tag0: evil,
    });
    assert.ok(!q.includes(evil));
    assert.throws(
      () => buildInfluxQl({ start: '-1h', stop: '-2h', measurement: 'm' }, NOW),
      (e: unknown) => e instanceof TaktError && e.code === 'influx.badRange',
    );
    assert.throws(
      () => buildInfluxQl({ start: '-1h' }, NOW),
      (e: unknown) => e instanceof TaktError && e.code === 'influx.noMeasurement',
    );
  });

  it('declares Flux parameters as escaped literals and reads them through params', () => {
    const q = buildFlux({ start: '-1h', measurement: 'te"mp', tags: { line: 'a\\b' } }, 'plant', NOW);
    const [head, ...rest] = q.split('\n');
    assert.equal(
      head,
      'params = {bucket: "plant", measurement: "te\\"mp", tagKey0: "line", tag0: "a\\\\b", start: time(v: "2026-11-26T11:00:00.000Z"), stop: time(v: "2026-11-26T12:00:00.000Z")}',
    );
    assert.ok(!rest.join('\n').includes('te"mp'));
    assert.match(
      rest.join('\n'),
      /r\._measurement == params\.measurement and r\[params\.tagKey0\] == params\.tag0/,
    );
    assert.throws(
      () => buildFlux({ start: '-1h', raw: 'x', params: { 'a-b': 1 } }, 'b', NOW),
      (e: unknown) => e instanceof TaktError,
    );
  });

  const chunk = [
    {
      measurement: 'temp',
      tags: { site: 'p1', line: 'l1' },
      columns: ['time', 'value'],
      values: [
        [2000, 1.5],
        [1000, 2],
      ],
    },
    {
      measurement: 'temp',
      tags: { site: 'p1', line: 'l2' },
      columns: ['time', 'value'],
      values: [[1500, 'a,"b"']],
    },
  ];

  it('turns series into samples with topics rebuilt along the levels', () => {
    assert.deepEqual(toSamples(chunk, ['site', 'line', 'measurement']), [
      { topic: 'p1/l1/temp', value: 1.5, ts: 2000, quality: 'good' },
      { topic: 'p1/l1/temp', value: 2, ts: 1000, quality: 'good' },
      { topic: 'p1/l2/temp', value: 'a,"b"', ts: 1500, quality: 'good' },
    ]);
  });

  it('gives time-ordered rows and RFC 4180 CSV', () => {
    const rows = toRows(chunk);
    assert.deepEqual(
      rows.map((r) => r.ts),
      [1000, 1500, 2000],
    );
    assert.equal(
      toCsv(rows, ['ts', 'line', 'value'], true),
      'ts,line,value\n1000,l1,2\n1500,l2,"a,""b"""\n2000,l1,1.5\n',
    );
  });
});
