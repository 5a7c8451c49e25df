/**
 * The shared Sparkplug B edge engine (protocol layer) beyond what takt-uns-out uses: metrics declared up
 * front with their datatype, extra node metrics, a separate device clock, command checks with the owner's
 * error scope. The UNS flavour's own tests are in test/uns/sparkplug.test.ts.
 */
import assert from 'node:assert/strict';
import type { UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import * as lib from '../../nodes';
import { TaktError } from '../../nodes/core/errors';
import { codec } from '../../nodes/mqtt/codec';
import { rebirthCommand, SparkplugDecoder } from '../../nodes/mqtt/decoder';
import { SparkplugEdgeEngine, type SpMessage } from '../../nodes/mqtt/sparkplug-edge';

const T0 = Date.UTC(2026, 10, 26, 8);
const decode = (m: SpMessage): UPayload => codec.decodePayload(m.payload);
const num = (v: unknown) => Number(typeof v === 'object' && v !== null ? String(v) : v);
/** A decoded value: 32-bit unsigned and 64-bit integers come back as Long. */
const plain = (v: unknown) => (typeof v === 'object' && v !== null && 'low' in v ? num(v) : v);

describe('Sparkplug edge engine (shared)', () => {
  const engine = () =>
    new SparkplugEdgeEngine({
      groupId: 'G',
      edgeNodeId: 'E',
      errorScope: 'sim',
      nodeMetrics: [{ name: 'Properties/Plant', type: 'String', value: 'acme/p1' }],
    });

  it('births declared metrics with their datatype in declaration order, null until a value is known', () => {
    const e = engine();
    e.define('Press1', 'GoodCount', 'UInt32');
    e.define('Press1', 'State', 'String');
    e.define('Oven1', 'Temperature', 'Double');
    e.define('Press1', 'GoodCount', 'UInt32'); // again: nothing changes
    assert.equal(e.metricCount, 3);
    assert.equal(e.valueOf('Press1', 'GoodCount'), null);
    assert.equal(e.valueOf('Press1', 'Nope'), undefined);
    e.updateMetrics([{ device: 'Press1', name: 'GoodCount', value: 17, ts: T0 }], false, T0);
    const [nb, press, oven] = e.birth(T0 + 5, T0);
    assert.deepEqual(
      decode(nb).metrics?.map((m) => m.name),
      ['bdSeq', 'Node Control/Rebirth', 'Properties/Plant'],
    );
    assert.equal(num(decode(nb).timestamp), T0 + 5, 'NBIRTH at the wall clock');
    assert.equal(num(decode(press).timestamp), T0, 'DBIRTH at the devices’ clock');
    assert.deepEqual(
      decode(press).metrics?.map((m) => [m.name, num(m.alias), m.type, plain(m.value)]),
      [
        ['GoodCount', 1, 'UInt32', 17],
        ['State', 2, 'String', null],
      ],
    );
    assert.deepEqual(
      decode(oven).metrics?.map((m) => [m.name, num(m.alias), m.type]),
      [['Temperature', 3, 'Double']],
    );
    // DDATA keeps the declared type; a host reads it back.
    const [dd] = e.updateMetrics(
      [{ device: 'Press1', name: 'GoodCount', value: 18, ts: T0 + 100 }],
      true,
      T0 + 100,
    );
    assert.deepEqual(
      decode(dd).metrics?.map((m) => [num(m.alias), m.type, plain(m.value)]),
      [[1, 'UInt32', 18]],
    );
    const host = new SparkplugDecoder({});
    for (const m of [nb, press, oven, dd]) assert.equal(host.handle(m.topic, m.payload).problem, undefined);
  });

  it('checks every value against its metric’s datatype before keeping any, also within one call', () => {
    const e = engine();
    e.define('Press1', 'GoodCount', 'UInt32');
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (x) {
        assert.ok(x instanceof TaktError);
        return `${x.code}: ${x.message}`;
      }
      assert.fail('expected a throw');
    };
    assert.match(
      err(() => e.updateMetrics([{ device: 'Press1', name: 'GoodCount', value: 'many', ts: T0 }], false)),
      /^sim\.typeChanged: metric "GoodCount" of Press1 was born UInt32, got a string/,
    );
    // A new metric is born with its first value's type: a second value of another kind in the same call is refused.
    assert.match(
      err(() =>
        e.updateMetrics(
          [
            { device: 'Oven1', name: 'Door', value: true, ts: T0 },
            { device: 'Oven1', name: 'Door', value: 'open', ts: T0, source: 'acme/Oven1/Door' },
          ],
          false,
        ),
      ),
      /^sim\.typeChanged: acme\/Oven1\/Door: metric "Door" of Oven1 was born Boolean/,
    );
    assert.equal(e.metricCount, 1, 'nothing of a refused call is kept');
    assert.match(
      err(() => e.define('Oven/1', 'x', 'Double')),
      /^sim\.badSparkplugId/,
    );
  });

  it('is part of the library’s mqtt namespace', () => {
    assert.equal(lib.mqtt.SparkplugEdgeEngine, SparkplugEdgeEngine);
  });

  it('tells a Rebirth command from others and names the topic of a malformed one', () => {
    const e = engine();
    assert.equal(e.rebirthRequested(rebirthCommand()), true);
    assert.equal(e.rebirthRequested(codec.encodePayload({ timestamp: T0, metrics: [] })), false);
    assert.throws(
      () => e.rebirthRequested(new Uint8Array([0xff, 1, 2]), 'spBv1.0/G/NCMD/E'),
      (x: unknown) =>
        x instanceof TaktError &&
        x.code === 'sim.badCommand' &&
        /^malformed Sparkplug command on spBv1\.0\/G\/NCMD\/E: /.test(x.message),
    );
    assert.deepEqual(e.command(rebirthCommand()), [], 'not born: nothing to answer');
    e.birth();
    assert.deepEqual(
      e.command(rebirthCommand()).map((m) => m.kind),
      ['NBIRTH'],
    );
    assert.equal(e.births, 2);
  });
});
