import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { MessageEncoder } from '../../nodes/influx/encoder';
import { encodePoint } from '../../nodes/influx/line-protocol';
import { defaultMapping, messageToPoints, type MessageIn } from '../../nodes/influx/mapping';

describe('influx message encoder', () => {
  it('writes a plain sample as one line with escaped series, value and time', () => {
    const e = new MessageEncoder(defaultMapping({ qualityAs: 'tag' }), 'escape');
    assert.deepEqual(
      e.encode(
        { topic: 'acme/plant 1/press/l,2/c1/temp', payload: 71.5, ts: 1764115200000, quality: 'bad' },
        0,
      ),
      [
        'temp,area=press,cell=c1,enterprise=acme,line=l\\,2,quality=bad,site=plant\\ 1 value=71.5 1764115200000',
      ],
    );
  });

  it('gives the same lines as mapping and encoding point by point', () => {
    const m = defaultMapping({ qualityAs: 'field', extraTags: { plant: 'p1' } });
    const e = new MessageEncoder(m, 'literal', 'both', 'a_');
    const msgs: MessageIn[] = [
      { topic: 'acme/p1/a/l1/c1/x', payload: 1, ts: 1764115200000 },
      { topic: 'acme/p1/a/l1/c1/x', payload: 'on', ts: '2026-11-26T00:00:00Z', quality: 'uncertain' },
      { topic: 'acme/p1/a/l1/c1/x', payload: true, measurement: 'override', ts: 5e12 },
      { topic: 'a/b', payload: [1, 2], ts: 7e12 },
      { topic: 'a/b', payload: 3, ts: 8e12, results: { spc: { stat: 3, violations: [] } } },
      { payload: { measurement: 'm', fields: { v: 1 }, ts: 9e12 } },
    ];
    for (const msg of msgs) {
      const slow = messageToPoints(msg, m, 0, 'both', 'a_').map((p) => encodePoint(p, 'literal'));
      assert.deepEqual(e.encode(msg, 0), slow);
    }
  });

  it('refuses bad samples on the fast path with the field named', () => {
    const e = new MessageEncoder(defaultMapping({ valueType: 'number' }), 'escape');
    assert.throws(
      () => e.encode({ topic: 'a/b', payload: 'open', ts: 1 }, 0),
      (err: unknown) => err instanceof TaktError && err.field === 'payload',
    );
    assert.throws(
      () => e.encode({ topic: 'a//b', payload: 1 }, 0),
      (err: unknown) => err instanceof TaktError && err.code === 'sample.badTopic',
    );
    assert.throws(
      () => e.encode({ topic: 'a/b', payload: 1, ts: 1e17 }, 0),
      (err: unknown) => err instanceof TaktError,
    );
    assert.throws(
      () => e.encode({ topic: 'a/b\nc', payload: 1, ts: 1 }, 0),
      (err: unknown) => err instanceof TaktError && err.code === 'influx.newline',
    );
  });
});
