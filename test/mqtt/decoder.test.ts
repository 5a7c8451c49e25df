/**
 * The Sparkplug B host engine on its own, with payloads built by sparkplug-payload (as an edge node would):
 * births and aliases, sequence checks and rebirth requests, deaths, value conversion, malformed input.
 */
import assert from 'node:assert/strict';
import { get as getSparkplug } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import * as proto from 'sparkplug-payload/lib/sparkplugPayloadProto';
import {
  parseTopic,
  rebirthCommand,
  rebirthTopic,
  SparkplugDecoder,
  subscriptionFilters,
} from '../../nodes/mqtt/decoder';

const sp = getSparkplug('spBv1.0')!;
const enc = (p: UPayload) => sp.encodePayload(p);
const T0 = Date.UTC(2026, 0, 5, 6, 0, 0);

const nbirth = (seq = 0, bdSeq = 3, extra: UMetric[] = []) =>
  enc({
    timestamp: T0,
    seq,
    metrics: [
      { name: 'bdSeq', type: 'UInt64', value: bdSeq },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
      { name: 'Properties/Site', type: 'String', value: 'Plant1', alias: 1 },
      ...extra,
    ],
  });
const dbirth = (seq: number, metrics?: UMetric[]) =>
  enc({
    timestamp: T0,
    seq,
    metrics: metrics ?? [
      { name: 'Temperature', alias: 10, type: 'Double', value: 21.5, timestamp: T0 },
      { name: 'Spindle/Speed', alias: 11, type: 'Int32', value: 1200 },
      { name: 'Running', alias: 12, type: 'Boolean', value: true },
    ],
  });
const ddata = (seq: number, metrics: UMetric[], timestamp = T0 + 1000) => enc({ timestamp, seq, metrics });
const ndeath = (bdSeq: number) =>
  enc({ timestamp: T0 + 9000, metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });

const N = (kind: string) => `spBv1.0/G1/${kind}/Line1`;
const D = (kind: string, dev = 'CNC1') => `spBv1.0/G1/${kind}/Line1/${dev}`;

/** A decoder that has seen NBIRTH (seq 0) and the CNC1 DBIRTH (seq 1). */
function born(opts = {}): SparkplugDecoder {
  const d = new SparkplugDecoder(opts);
  d.handle(N('NBIRTH'), nbirth(), T0);
  d.handle(D('DBIRTH'), dbirth(1), T0);
  return d;
}

describe('mqtt SparkplugDecoder', () => {
  it('parses topics and builds subscription filters', () => {
    assert.deepEqual(parseTopic('spBv1.0/G1/DDATA/Line1/CNC1'), {
      group: 'G1',
      type: 'DDATA',
      edgeNode: 'Line1',
      device: 'CNC1',
    });
    assert.deepEqual(parseTopic('spBv1.0/G1/NBIRTH/Line1'), {
      group: 'G1',
      type: 'NBIRTH',
      edgeNode: 'Line1',
    });
    assert.equal(parseTopic('spBv1.0/STATE/host1'), undefined);
    assert.equal(parseTopic('spBv1.0/G1/DDATA/Line1'), undefined, 'a device message needs a device');
    assert.equal(parseTopic('spBv1.0/G1/NDATA/Line1/CNC1'), undefined, 'a node message has none');
    assert.equal(parseTopic('spAv1.0/G1/NDATA/Line1'), undefined);
    assert.deepEqual(subscriptionFilters('G1', '+'), ['spBv1.0/G1/+/+', 'spBv1.0/G1/+/+/+']);
    assert.throws(() => subscriptionFilters('G/1', '+'), /group "G\/1"/);
    assert.throws(() => subscriptionFilters('G1', 'Li+ne'), /edgeNode/);
    assert.equal(rebirthTopic('G1', 'Line1'), 'spBv1.0/G1/NCMD/Line1');
    const cmd = sp.decodePayload(rebirthCommand(T0));
    assert.deepEqual(
      cmd.metrics!.map((m) => [m.name, m.type, m.value]),
      [['Node Control/Rebirth', 'Boolean', true]],
    );
  });

  it('emits birth values and resolves aliases in data messages', () => {
    const d = new SparkplugDecoder();
    const nb = d.handle(N('NBIRTH'), nbirth(), T0);
    assert.equal(nb.rebirth, undefined);
    // Protocol metrics (bdSeq, Node Control/*) are tracked, not emitted.
    assert.deepEqual(
      nb.samples.map((s) => [s.topic, s.value, s.ts, s.quality]),
      [['G1/Line1/Properties/Site', 'Plant1', T0, 'good']],
    );
    const db = d.handle(D('DBIRTH'), dbirth(1), T0);
    assert.deepEqual(
      db.samples.map((s) => s.topic),
      ['G1/Line1/CNC1/Temperature', 'G1/Line1/CNC1/Spindle/Speed', 'G1/Line1/CNC1/Running'],
    );
    const r = d.handle(
      D('DDATA'),
      ddata(2, [
        { alias: 10, type: 'Double', value: 22.25, timestamp: T0 + 500 },
        { alias: 11, type: 'Int32', value: -5 },
      ]),
      T0,
    );
    assert.equal(r.rebirth, undefined);
    assert.equal(r.problem, undefined);
    assert.deepEqual(
      r.samples.map((s) => ({ topic: s.topic, value: s.value, ts: s.ts, quality: s.quality })),
      [
        // metric timestamp first, else the payload's
        { topic: 'G1/Line1/CNC1/Temperature', value: 22.25, ts: T0 + 500, quality: 'good' },
        { topic: 'G1/Line1/CNC1/Spindle/Speed', value: -5, ts: T0 + 1000, quality: 'good' },
      ],
    );
    assert.equal(r.samples[1].metric, 'Spindle/Speed');
    assert.equal(r.samples[1].device, 'CNC1');
    assert.deepEqual(d.stats(), {
      nodes: 1,
      metrics: 4,
      messages: 3,
      malformed: 0,
      rebirths: 0,
      gaps: 0,
      refusedNodes: 0,
    });
  });

  it('resolves node-level aliases in NDATA and data metrics sent without a datatype', () => {
    const d = born();
    const r = d.handle(N('NDATA'), ddata(2, [{ alias: 1, type: 'String', value: 'Plant2' }]), T0);
    assert.deepEqual(
      r.samples.map((s) => [s.topic, s.value]),
      [['G1/Line1/Properties/Site', 'Plant2']],
    );
    // Built by hand: sparkplug-payload always writes the datatype, the spec lets data messages leave it out.
    const Payload = proto.org.eclipse.tahu.protobuf.Payload;
    const bare = Payload.encode(
      Payload.create({ timestamp: T0 + 2000, seq: 3, metrics: [{ alias: 10, doubleValue: 30.5 }] }),
    ).finish();
    const r2 = d.handle(D('DDATA'), bare, T0);
    assert.equal(r2.problem, undefined);
    assert.deepEqual(
      r2.samples.map((s) => [s.topic, s.value, s.quality]),
      [['G1/Line1/CNC1/Temperature', 30.5, 'good']],
    );
  });

  it('asks for a rebirth on a sequence gap, rate-limited, and keeps resolving', () => {
    const d = born({ rebirthIntervalMs: 5000 });
    const gap = d.handle(D('DDATA'), ddata(5, [{ alias: 10, type: 'Double', value: 1 }]), T0);
    assert.deepEqual(gap.rebirth, {
      group: 'G1',
      edgeNode: 'Line1',
      reason: 'sequence gap: expected 2, got 5',
    });
    assert.equal(gap.samples.length, 1, 'the data itself is still good');
    const gap2 = d.handle(D('DDATA'), ddata(9, [{ alias: 10, type: 'Double', value: 2 }]), T0 + 1000);
    assert.equal(gap2.rebirth, undefined, 'a second request within 5 s is held back');
    assert.equal(gap2.wantsRebirth, true);
    assert.match(gap2.problem ?? '', /expected 6, got 9/);
    const gap3 = d.handle(D('DDATA'), ddata(20, [{ alias: 10, type: 'Double', value: 3 }]), T0 + 6000);
    assert.ok(gap3.rebirth, 'asked again after the interval');
    assert.equal(d.stats().gaps, 3);
    assert.equal(d.stats().rebirths, 2);
  });

  it('follows the sequence number through 255 -> 0', () => {
    const d = new SparkplugDecoder();
    d.handle(N('NBIRTH'), nbirth(), T0);
    for (let i = 1; i <= 300; i++) {
      const seq = i % 256;
      const r =
        i === 1
          ? d.handle(D('DBIRTH'), dbirth(seq), T0)
          : d.handle(D('DDATA'), ddata(seq, [{ alias: 12, type: 'Boolean', value: i % 2 === 0 }]), T0);
      assert.equal(r.problem, undefined, `message ${i}`);
      assert.equal(r.rebirth, undefined);
    }
    assert.equal(d.snapshot()[0].seq, 300 % 256);
  });

  it('asks for a rebirth for data before any birth, and resolves aliases once it comes', () => {
    const d = new SparkplugDecoder();
    const early = d.handle(D('DDATA'), ddata(17, [{ alias: 10, type: 'Double', value: 1 }]), T0);
    assert.deepEqual(early.samples, []);
    assert.equal(early.rebirth?.edgeNode, 'Line1');
    assert.match(early.rebirth?.reason ?? '', /before the edge node's NBIRTH/);
    assert.equal(d.stats().nodes, 0);
    d.handle(N('NBIRTH'), nbirth(), T0 + 100);
    d.handle(D('DBIRTH'), dbirth(1), T0 + 100);
    const r = d.handle(D('DDATA'), ddata(2, [{ alias: 10, type: 'Double', value: 23 }]), T0 + 200);
    assert.deepEqual(
      r.samples.map((s) => [s.topic, s.value]),
      [['G1/Line1/CNC1/Temperature', 23]],
    );
  });

  it('asks for a rebirth for an unknown alias and for a device without DBIRTH', () => {
    const d = born();
    const r = d.handle(
      D('DDATA'),
      ddata(2, [
        { alias: 10, type: 'Double', value: 5 },
        { alias: 99, type: 'Double', value: 6 },
      ]),
      T0,
    );
    assert.deepEqual(
      r.samples.map((s) => s.value),
      [5],
    );
    assert.equal(r.rebirth?.reason, 'unknown alias 99');
    const d2 = born({ rebirthIntervalMs: 0 });
    const r2 = d2.handle(D('DDATA', 'Oven1'), ddata(2, [{ alias: 10, type: 'Double', value: 5 }]), T0);
    assert.match(r2.rebirth?.reason ?? '', /device Oven1 without a DBIRTH/);
    assert.deepEqual(r2.samples, []);
  });

  it('turns a matching NDEATH into bad samples and ignores a stale one', () => {
    const d = born();
    d.handle(D('DDATA'), ddata(2, [{ alias: 10, type: 'Double', value: 25 }]), T0);
    const stale = d.handle(N('NDEATH'), ndeath(2), T0);
    assert.deepEqual(stale.samples, []);
    assert.match(stale.problem ?? '', /bdSeq 2 ignored/);
    assert.equal(stale.rebirth, undefined);
    assert.equal(stale.wantsRebirth, undefined);
    const death = d.handle(N('NDEATH'), ndeath(3), T0);
    assert.equal(death.rebirth, undefined);
    assert.deepEqual(
      death.samples.map((s) => [s.topic, s.value, s.quality, s.ts]),
      [
        ['G1/Line1/Properties/Site', 'Plant1', 'bad', T0 + 9000],
        ['G1/Line1/CNC1/Temperature', 25, 'bad', T0 + 9000],
        ['G1/Line1/CNC1/Spindle/Speed', 1200, 'bad', T0 + 9000],
        ['G1/Line1/CNC1/Running', true, 'bad', T0 + 9000],
      ],
    );
    assert.equal(d.stats().nodes, 0);
    // Data after the death needs a new birth.
    const after = d.handle(D('DDATA'), ddata(3, [{ alias: 10, type: 'Double', value: 1 }]), T0 + 10000);
    assert.deepEqual(after.samples, []);
    assert.ok(after.rebirth);
  });

  it('turns a DDEATH into bad samples of that device only, counting it in the sequence', () => {
    const d = born();
    d.handle(D('DBIRTH', 'Oven1'), dbirth(2, [{ name: 'Zone/1', alias: 20, type: 'Float', value: 180 }]), T0);
    const death = d.handle(D('DDEATH'), enc({ timestamp: T0 + 5, seq: 3 }), T0);
    assert.deepEqual(
      death.samples.map((s) => [s.topic, s.quality]),
      [
        ['G1/Line1/CNC1/Temperature', 'bad'],
        ['G1/Line1/CNC1/Spindle/Speed', 'bad'],
        ['G1/Line1/CNC1/Running', 'bad'],
      ],
    );
    const oven = d.handle(D('DDATA', 'Oven1'), ddata(4, [{ alias: 20, type: 'Float', value: 181 }]), T0);
    assert.equal(oven.problem, undefined);
    assert.deepEqual(
      oven.samples.map((s) => [s.topic, s.value, s.quality]),
      [['G1/Line1/Oven1/Zone/1', 181, 'good']],
    );
    assert.equal(d.stats().metrics, 2, 'site property and the oven zone');
  });

  it('decodes Int64/UInt64 Longs, DateTime (epoch or ISO), Bytes, UInt32 and null values', () => {
    const metrics: UMetric[] = [
      // Encoded as protobuf uint64 (decoded as long.js Longs): the sign comes from the datatype.
      { name: 'Count', alias: 1, type: 'Int64', value: -42 },
      { name: 'Total', alias: 2, type: 'UInt64', value: 2 ** 60 },
      { name: 'Changed', alias: 3, type: 'DateTime', value: T0 + 7 },
      { name: 'Blob', alias: 4, type: 'Bytes', value: new Uint8Array([0, 1, 2, 250]) },
      { name: 'Parts', alias: 5, type: 'UInt32', value: 3000000000 },
      { name: 'Label', alias: 6, type: 'String', value: 'ok' },
    ];
    const check = (dateTime: 'epoch' | 'iso', changed: unknown) => {
      const d = new SparkplugDecoder({ dateTime });
      d.handle(N('NBIRTH'), nbirth(), T0);
      const r = d.handle(D('DBIRTH'), dbirth(1, metrics), T0);
      assert.deepEqual(
        r.samples.map((s) => [s.metric, s.value]),
        [
          ['Count', -42],
          ['Total', 2 ** 60],
          ['Changed', changed],
          ['Blob', 'AAEC+g=='],
          ['Parts', 3000000000],
          ['Label', 'ok'],
        ],
      );
      for (const s of r.samples) assert.equal(typeof s.ts, 'number', 'Long timestamps become numbers');
      // A null value: the last value, marked bad.
      const n = d.handle(D('DDATA'), ddata(2, [{ alias: 6, type: 'String', value: null }]), T0);
      assert.deepEqual(
        n.samples.map((s) => [s.metric, s.value, s.quality]),
        [['Label', 'ok', 'bad']],
      );
    };
    check('epoch', T0 + 7);
    check('iso', new Date(T0 + 7).toISOString());

    // An impossible metric timestamp falls back to the payload's; an impossible DateTime is not sent.
    const d = born({ dateTime: 'iso' });
    d.handle(D('DBIRTH', 'X'), dbirth(2, [{ name: 'When', alias: 50, type: 'DateTime', value: T0 }]), T0);
    const odd = d.handle(
      D('DDATA'),
      ddata(3, [{ alias: 10, type: 'Double', value: 1, timestamp: 2 ** 60 }]),
      T0,
    );
    assert.deepEqual(
      odd.samples.map((s) => s.ts),
      [T0 + 1000],
    );
    const when = d.handle(D('DDATA', 'X'), ddata(4, [{ alias: 50, type: 'DateTime', value: 2 ** 60 }]), T0);
    assert.deepEqual(when.samples, []);
    assert.match(when.problem ?? '', /"When" has a value of unsupported type DateTime/);
    assert.equal(when.wantsRebirth, undefined);
  });

  it('flattens templates into path segments', () => {
    const d = new SparkplugDecoder();
    d.handle(N('NBIRTH'), nbirth(), T0);
    const r = d.handle(
      D('DBIRTH'),
      dbirth(1, [
        {
          name: 'Motor',
          alias: 30,
          type: 'Template',
          value: {
            templateRef: 'MotorType',
            metrics: [
              { name: 'Amps', type: 'Float', value: 3.5 },
              { name: 'On', type: 'Boolean', value: true },
            ],
          },
        },
      ]),
      T0,
    );
    assert.deepEqual(
      r.samples.map((s) => [s.topic, s.value]),
      [
        ['G1/Line1/CNC1/Motor/Amps', 3.5],
        ['G1/Line1/CNC1/Motor/On', true],
      ],
    );
  });

  it('filters by device and adds the topic prefix', () => {
    const d = born({ device: 'CNC1', topicPrefix: 'Acme/' });
    const other = d.handle(
      D('DBIRTH', 'Oven1'),
      dbirth(2, [{ name: 'T', alias: 40, type: 'Double', value: 1 }]),
      T0,
    );
    assert.deepEqual(other.samples, [], 'other devices are decoded (sequence!) but not emitted');
    assert.equal(other.problem, undefined);
    const r = d.handle(D('DDATA'), ddata(3, [{ alias: 10, type: 'Double', value: 2 }]), T0);
    assert.deepEqual(
      r.samples.map((s) => s.topic),
      ['Acme/G1/Line1/CNC1/Temperature'],
    );
    const node = d.handle(N('NDATA'), ddata(4, [{ alias: 1, type: 'String', value: 'x' }]), T0);
    assert.deepEqual(node.samples, [], "the edge node's own metrics are not sent with a device filter");
  });

  it('reports a malformed payload and keeps working', () => {
    const d = born();
    const bad = d.handle(D('DDATA'), Buffer.from('{"not":"protobuf"}'), T0);
    assert.equal(bad.error?.code, 'sparkplug.malformed');
    assert.match(bad.error?.message ?? '', /spBv1\.0\/G1\/DDATA\/Line1\/CNC1/);
    assert.deepEqual(bad.samples, []);
    const noSeq = d.handle(D('DDATA'), enc({ timestamp: T0, metrics: [] }), T0);
    assert.equal(noSeq.error?.code, 'sparkplug.noSeq');
    assert.equal(d.stats().malformed, 2);
    const ok = d.handle(D('DDATA'), ddata(2, [{ alias: 10, type: 'Double', value: 7 }]), T0);
    assert.equal(ok.problem, undefined);
    assert.deepEqual(
      ok.samples.map((s) => s.value),
      [7],
    );
    const cmd = d.handle(N('NCMD'), rebirthCommand(), T0);
    assert.deepEqual(
      [cmd.samples, cmd.error, cmd.rebirth],
      [[], undefined, undefined],
      'commands are ignored',
    );
  });

  it('asks for a rebirth after invalidate() but still resolves aliases', () => {
    const d = born();
    d.invalidate();
    const r = d.handle(D('DDATA'), ddata(2, [{ alias: 10, type: 'Double', value: 3 }]), T0);
    assert.match(r.rebirth?.reason ?? '', /continuity unknown/);
    assert.deepEqual(
      r.samples.map((s) => s.value),
      [3],
    );
    const r2 = d.handle(D('DDATA'), ddata(3, [{ alias: 10, type: 'Double', value: 4 }]), T0);
    assert.equal(r2.problem, undefined);
    d.reset();
    assert.deepEqual(d.snapshot(), []);
  });
});
