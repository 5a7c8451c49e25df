/**
 * The simulator as a Sparkplug B edge node: births with aliases, data with sequence numbers, rebirth on
 * command and the death certificate. Against the in-process broker always, and against Mosquitto
 * (MQTT_URL, started by .ci/run) as an integration test.
 */
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { get as getSparkplug } from 'sparkplug-payload';
import type { UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { startBroker, type TestBroker } from '../helpers/broker';
import { requireServer } from '../helpers/servers';
import { waitUntil } from '../helpers/net';

const sp = getSparkplug('spBv1.0')!;

interface Seen {
  topic: string;
  kind: string;
  device?: string;
  payload: UPayload;
}

async function sparkplugRoundTrip(url: string): Promise<void> {
  const group = `TaktTest${process.pid}${Date.now() % 100000}`;
  const seen: Seen[] = [];
  const app = await mqtt.connectAsync(url, { protocolVersion: 4 });
  await app.subscribeAsync(`spBv1.0/${group}/#`, { qos: 1 });
  app.on('message', (topic, payload) => {
    const [, , kind, , device] = topic.split('/');
    if (kind === 'NCMD') return; // our own commands (one of them malformed on purpose)
    seen.push({ topic, kind, device, payload: sp.decodePayload(new Uint8Array(payload)) });
  });
  const runner = new SimRunner(DEFAULT_PLANT, {
    seed: 3,
    timeFactor: 60,
    sparkplug: { url, groupId: group, edgeNodeId: 'Line1' },
  });
  try {
    await runner.start();
    await waitUntil(
      () => seen.filter((s) => s.kind === 'DBIRTH').length === 4,
      'NBIRTH and 4 DBIRTHs',
      10000,
    );
    const nbirth = seen.find((s) => s.kind === 'NBIRTH')!;
    assert.equal(Number(nbirth.payload.seq), 0);
    const bdSeq = Number(nbirth.payload.metrics!.find((m) => m.name === 'bdSeq')!.value);
    assert.ok(nbirth.payload.metrics!.some((m) => m.name === 'Node Control/Rebirth'));

    // DBIRTH: every machine metric with a name, a unique alias and a value.
    const dbirths = seen.filter((s) => s.kind === 'DBIRTH');
    assert.deepEqual(dbirths.map((d) => d.device).sort(), ['CNC1', 'Oven1', 'Packer1', 'Press1']);
    assert.deepEqual(
      dbirths.map((d) => Number(d.payload.seq)),
      [1, 2, 3, 4],
    );
    const aliases = new Map<string, string>();
    for (const d of dbirths) {
      for (const m of d.payload.metrics!) {
        assert.ok(m.name && m.alias !== undefined && m.alias !== null, 'name and alias');
        const key = String(Number(m.alias));
        assert.ok(!aliases.has(key), `alias ${key} is unique`);
        aliases.set(key, `${d.device}/${m.name}`);
      }
    }
    assert.equal(aliases.size, 4 * 18); // every tag but the waveform

    // DDATA: aliases only, sequence numbers continue modulo 256 across all messages of the node.
    await waitUntil(() => seen.filter((s) => s.kind === 'DDATA').length >= 10, '10 DDATA messages', 10000);
    const order = seen.filter((s) => s.kind !== 'NDEATH');
    for (let i = 1; i < order.length; i++) {
      assert.equal(
        Number(order[i].payload.seq),
        (Number(order[i - 1].payload.seq) + 1) % 256,
        `seq at message ${i}`,
      );
    }
    const ddata = seen.filter((s) => s.kind === 'DDATA');
    for (const d of ddata) {
      for (const m of d.payload.metrics!) {
        assert.equal(m.name ?? undefined, undefined, 'DDATA metrics carry no name');
        assert.ok(aliases.has(String(Number(m.alias))), 'alias from a birth');
      }
    }

    // Rebirth on command: NBIRTH again with seq 0 and the same bdSeq, then the DBIRTHs.
    const before = seen.length;
    await app.publishAsync(
      `spBv1.0/${group}/NCMD/Line1`,
      Buffer.from(
        sp.encodePayload({
          timestamp: Date.now(),
          metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }],
        }),
      ),
    );
    await waitUntil(
      () => seen.slice(before).filter((s) => s.kind === 'DBIRTH').length === 4,
      'rebirth',
      10000,
    );
    const reborn = seen.slice(before).find((s) => s.kind === 'NBIRTH')!;
    assert.equal(Number(reborn.payload.seq), 0);
    assert.equal(Number(reborn.payload.metrics!.find((m) => m.name === 'bdSeq')!.value), bdSeq);

    // A malformed command is reported, not fatal.
    const warnings: Error[] = [];
    runner.on('warning', (e) => warnings.push(e));
    await app.publishAsync(`spBv1.0/${group}/NCMD/Line1`, Buffer.from([0xff, 0x01, 0x02]));
    await waitUntil(() => warnings.length > 0, 'a warning for the malformed command', 5000);
    assert.match(warnings[0].message, /malformed Sparkplug command/);

    await runner.stop();
    await waitUntil(() => seen.some((s) => s.kind === 'NDEATH'), 'NDEATH', 5000);
    const death = seen.find((s) => s.kind === 'NDEATH')!;
    assert.equal(Number(death.payload.metrics!.find((m) => m.name === 'bdSeq')!.value), bdSeq);
  } finally {
    await runner.stop();
    await app.endAsync();
  }
}

describe('sim Sparkplug B edge node', function () {
  this.timeout(30000);

  describe('with the in-process broker', () => {
    let broker: TestBroker;
    before(async () => (broker = await startBroker()));
    after(async () => broker.close());
    it('births with aliases, sequenced data, rebirth on command and NDEATH', () =>
      sparkplugRoundTrip(broker.url));
  });

  describe('with Mosquitto (integration)', () => {
    let url: string;
    before(async function () {
      url = (await requireServer(this, 'Mosquitto', 'MQTT_URL', 'mqtt://127.0.0.1:1883')).url;
    });
    it('births with aliases, sequenced data, rebirth on command and NDEATH', () => sparkplugRoundTrip(url));
  });
});
