import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import {
  analyticsToPoint,
  defaultMapping,
  explicitToPoint,
  parseLevels,
  parseTags,
  sampleToPoint,
  topicToSeries,
} from '../../nodes/influx/mapping';

const code = (c: string) => (err: unknown) => err instanceof TaktError && err.code === c;

describe('influx mapping', () => {
  const m = defaultMapping();

  it('maps an ISA-95 path to tags and the last segment to the measurement', () => {
    assert.deepEqual(topicToSeries('acme/plant1/press/line2/cell3/temp', m), {
      measurement: 'temp',
      tags: { enterprise: 'acme', site: 'plant1', area: 'press', line: 'line2', cell: 'cell3' },
    });
  });

  it('joins extra trailing segments into the last level and fills short paths from the start', () => {
    assert.equal(topicToSeries('a/b/c/d/e/motor/current', m).measurement, 'motor/current');
    assert.deepEqual(topicToSeries('acme/plant1/temp', m), {
      measurement: 'temp',
      tags: { enterprise: 'acme', site: 'plant1' },
    });
  });

  it('follows custom levels, skips "-" and uses a fixed measurement when given', () => {
    const c = defaultMapping({ levels: parseLevels('-/site/measurement/tag'), measurement: '' });
    assert.deepEqual(topicToSeries('acme/p1/press/force', c), {
      measurement: 'press',
      tags: { site: 'p1', tag: 'force' },
    });
    const f = defaultMapping({ levels: parseLevels('site/line/tag'), measurement: 'plant' });
    assert.deepEqual(topicToSeries('p1/l2/speed', f), {
      measurement: 'plant',
      tags: { site: 'p1', line: 'l2', tag: 'speed' },
    });
    assert.throws(
      () => topicToSeries('p1/l2/speed', defaultMapping({ levels: ['site', 'line', 'tag'] })),
      code('influx.emptyMeasurement'),
    );
    assert.throws(() => parseLevels('a/b/a'), code('influx.badLevels'));
  });

  it('puts extra tags (e.g. the edge box) on every point of a topic', () => {
    assert.deepEqual(parseTags(' box = line1-box, site=p9 '), { box: 'line1-box', site: 'p9' });
    assert.deepEqual(parseTags(''), {});
    assert.throws(() => parseTags('box'), code('influx.badTags'));
    assert.throws(() => parseTags('=x'), code('influx.badTags'));
    const m = defaultMapping({ extraTags: parseTags('box=b2') });
    assert.deepEqual(topicToSeries('acme/plant1/temp', m), {
      measurement: 'temp',
      tags: { box: 'b2', enterprise: 'acme', site: 'plant1' },
    });
  });

  it('turns a sample into a point with the value field, time and quality', () => {
    const p = sampleToPoint(
      { topic: 'acme/p1/temp', value: 71.5, ts: 1764115200000, quality: 'uncertain' },
      defaultMapping({ qualityAs: 'tag' }),
    );
    assert.deepEqual(p, {
      measurement: 'temp',
      tags: { enterprise: 'acme', site: 'p1', quality: 'uncertain' },
      fields: { value: 71.5 },
      ts: 1764115200000,
    });
    const arr = sampleToPoint({ topic: 'w', value: [1, 2], ts: 1, quality: 'good' }, m);
    assert.deepEqual(arr.fields, { value_0: 1, value_1: 2 });
  });

  it('refuses non-numeric values when the mapping wants numbers', () => {
    const num = defaultMapping({ valueType: 'number' });
    assert.throws(
      () => sampleToPoint({ topic: 'a/b', value: 'open', ts: 1, quality: 'good' }, num),
      code('sample.notNumeric'),
    );
    assert.deepEqual(sampleToPoint({ topic: 'a/b', value: true, ts: 1, quality: 'good' }, num).fields, {
      value: 1,
    });
  });

  it('reads explicit points and checks their parts', () => {
    assert.deepEqual(
      explicitToPoint(
        { measurement: 'oee', tags: { line: 2 }, fields: { a: 0.9, ok: true }, ts: '2026-01-01T00:00:00Z' },
        0,
      ),
      {
        measurement: 'oee',
        tags: { line: '2' },
        fields: { a: 0.9, ok: true },
        ts: Date.UTC(2026, 0, 1),
      },
    );
    assert.equal(explicitToPoint({ measurement: 'm', fields: { v: 1 } }, 42).ts, 42);
    assert.throws(
      () => explicitToPoint({ measurement: '', fields: { v: 1 } }, 0),
      code('influx.emptyMeasurement'),
    );
    assert.throws(
      () => explicitToPoint({ measurement: 'm', fields: { v: [1] } }, 0),
      code('influx.badField'),
    );
    assert.throws(() => explicitToPoint({ measurement: 'm', fields: {} }, 0), code('influx.noFields'));
    assert.throws(
      () => explicitToPoint({ measurement: 'm', fields: { v: 1 }, ts: 'soon' }, 0),
      (e: unknown) => e instanceof TaktError,
    );
  });

  it('flattens an SPC result and an anomaly score into fields', () => {
    const spc = analyticsToPoint(
      'spc',
      {
        type: 'xbar',
        phase: 2,
        index: 7,
        ts: 1000,
        stat: 10.2,
        ucl: 11,
        lcl: 9,
        violations: [1, 5],
        alarms: [],
        frozen: undefined,
      },
      'acme/p1/press/l1/c1/force',
      5,
      m,
    );
    assert.deepEqual(spc, {
      measurement: 'spc',
      tags: { enterprise: 'acme', site: 'p1', area: 'press', line: 'l1', cell: 'c1', source: 'force' },
      fields: {
        type: 'xbar',
        phase: 2,
        stat: 10.2,
        ucl: 11,
        lcl: 9,
        violations_count: 2,
        violations: '1,5',
        alarms_count: 0,
      },
      ts: 1000,
    });
    const an = analyticsToPoint(
      'anomaly',
      { score: 3.2, threshold: 2, isAnomaly: true, contributions: { rms: 0.7 } },
      undefined,
      9,
      m,
      'takt_',
    );
    assert.deepEqual(an, {
      measurement: 'takt_anomaly',
      tags: {},
      fields: { score: 3.2, threshold: 2, isAnomaly: true, contributions_rms: 0.7 },
      ts: 9,
    });
    assert.throws(() => analyticsToPoint('oee', 0.8, undefined, 1, m), code('influx.badResult'));
  });
});
