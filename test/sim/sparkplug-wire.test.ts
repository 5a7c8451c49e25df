/**
 * The simulator's Sparkplug edge node on the wire, message by message: it runs on the shared edge engine
 * (mqtt/sparkplug-edge) and must publish what it always did. Every NBIRTH, DBIRTH, DDATA and NDEATH is
 * decoded with the pack's own codec and host decoder and compared with what the simulator holds: the tags
 * in model order with aliases 1..n, their Sparkplug types, the snapshot values at simulated time, DDATA by
 * exception (changed values, and every finished part as its own value with its own time), seq 0..255
 * across the node, bdSeq the same in a session's birth and death and one more in the next session.
 */
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import { codec } from '../../nodes/mqtt/codec';
import { rebirthCommand, SparkplugDecoder } from '../../nodes/mqtt/decoder';
import { PlantSimulator, type TagValue } from '../../nodes/sim/engine';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SparkplugEdgeNode } from '../../nodes/sim/sparkplug';
import { startBroker, type TestBroker } from '../helpers/broker';
import { waitUntil } from '../helpers/net';

interface Seen {
  kind: string;
  device?: string;
  topic: string;
  raw: Uint8Array;
  p: UPayload;
}

const num = (v: unknown) => Number(typeof v === 'object' && v !== null ? String(v) : v);
/** A decoded value: UInt32 (and 64-bit) metrics come back as Long. */
const plain = (v: unknown) => (typeof v === 'object' && v !== null && 'low' in v ? num(v) : v);

describe('sim Sparkplug edge node on the wire (shared edge engine)', function () {
  this.timeout(30000);
  let broker: TestBroker;
  let watcher: mqtt.MqttClient;
  let edge: SparkplugEdgeNode | undefined;
  const seen: Seen[] = [];
  const GROUP = 'Plant1';

  beforeEach(async () => {
    broker = await startBroker();
    seen.length = 0;
    watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    watcher.on('message', (topic, payload) => {
      const [, , kind, , device] = topic.split('/');
      if (kind === 'NCMD') return;
      const raw = new Uint8Array(payload);
      seen.push({ kind, device, topic, raw, p: codec.decodePayload(raw) });
    });
    await watcher.subscribeAsync(`spBv1.0/${GROUP}/#`, { qos: 1 });
  });
  afterEach(async () => {
    await edge?.stop();
    edge = undefined;
    await watcher.endAsync();
    await broker.close();
  });

  it('births every tag with its alias, type and value, then DDATA by exception, decoded as the simulator holds them', async () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 11 });
    sim.advance(60_000);
    const tags = sim.tags().filter((t) => t.type !== 'DoubleArray');
    const aliasOf = new Map(tags.map((t, i) => [t.topic, i + 1]));
    const machines = [...new Set(tags.map((t) => t.machine))];
    edge = new SparkplugEdgeNode(sim, { url: broker.url, groupId: GROUP, edgeNodeId: 'Line1' });
    const wall = Date.now();
    await edge.start();
    await waitUntil(
      () => seen.filter((s) => s.kind === 'DBIRTH').length === machines.length,
      'births',
      10000,
    );

    // NBIRTH: seq 0, bdSeq 0 of the first session, the Rebirth control and the plant property, at wall time.
    const [nb, ...dbs] = seen;
    assert.equal(nb.kind, 'NBIRTH');
    assert.equal(nb.topic, `spBv1.0/${GROUP}/NBIRTH/Line1`);
    assert.equal(num(nb.p.seq), 0);
    assert.ok(num(nb.p.timestamp) >= wall && num(nb.p.timestamp) <= Date.now());
    assert.deepEqual(
      nb.p.metrics?.map((m) => [m.name, m.type, plain(m.value)]),
      [
        ['bdSeq', 'UInt64', 0],
        ['Node Control/Rebirth', 'Boolean', false],
        [
          'Properties/Plant',
          'String',
          `${DEFAULT_PLANT.enterprise}/${DEFAULT_PLANT.site}/${DEFAULT_PLANT.area}`,
        ],
      ],
    );

    // DBIRTH per machine in model order, seq 1..n, every tag at simulated time with its snapshot value.
    const snap = sim.snapshot();
    assert.deepEqual(
      dbs.map((d) => [d.kind, d.device, num(d.p.seq), num(d.p.timestamp)]),
      machines.map((m, i) => ['DBIRTH', m, i + 1, sim.now]),
    );
    for (const d of dbs) {
      assert.deepEqual(
        d.p.metrics?.map((m) => [
          m.name,
          num(m.alias),
          m.type,
          plain(m.value),
          num(m.timestamp),
          m.properties,
        ]),
        tags
          .filter((t) => t.machine === d.device)
          .map((t) => [t.name, aliasOf.get(t.topic), t.type, snap.get(t.topic)?.value, sim.now, undefined]),
      );
    }

    // DDATA: what changed since the last publication, parts each with their own time, in tag order.
    const last = new Map<string, TagValue | undefined>(tags.map((t) => [t.topic, snap.get(t.topic)?.value]));
    const expected: { device: string; ts: number; metrics: [number, unknown, number][] }[] = [];
    let parts = 0;
    for (let i = 0; i < 40; i++) {
      const r = sim.advance(2_000 + (i % 5) * 700);
      const now = sim.snapshot();
      const byDevice = new Map<string, [number, unknown, number][]>();
      const add = (device: string, m: [number, unknown, number]) =>
        byDevice.set(device, [...(byDevice.get(device) ?? []), m]);
      const partTopics = new Set<string>();
      for (const p of r.parts) {
        if (!aliasOf.has(p.topic)) continue;
        partTopics.add(p.topic);
        last.set(p.topic, p.value);
        add(p.machine, [aliasOf.get(p.topic)!, p.value, p.ts]);
        parts++;
      }
      for (const m of machines) {
        for (const t of tags.filter((x) => x.machine === m)) {
          const v = now.get(t.topic)?.value;
          if (partTopics.has(t.topic) || v === undefined || v === last.get(t.topic)) continue;
          last.set(t.topic, v);
          add(m, [aliasOf.get(t.topic)!, v, sim.now]);
        }
      }
      for (const [device, metrics] of byDevice) expected.push({ device, ts: sim.now, metrics });
      edge.publish(r);
    }
    assert.ok(parts > 0, 'parts were finished');
    await waitUntil(
      () => seen.filter((s) => s.kind === 'DDATA').length === expected.length,
      'every DDATA',
      10000,
    );
    const ddata = seen.filter((s) => s.kind === 'DDATA');
    assert.deepEqual(
      ddata.map((d) => ({
        device: d.device!,
        ts: num(d.p.timestamp),
        metrics: d.p.metrics!.map((m: UMetric) => [num(m.alias), plain(m.value), num(m.timestamp)]),
      })),
      expected,
    );
    for (const d of ddata) {
      for (const m of d.p.metrics!) {
        assert.equal(m.name ?? undefined, undefined, 'by alias only');
        assert.equal(m.type, tags[num(m.alias) - 1].type, 'the type of its birth');
      }
    }
    assert.deepEqual(
      seen.map((s) => num(s.p.seq)),
      seen.map((_, i) => i % 256),
      'seq runs 0..255 across the node',
    );

    // The pack's own host reads it all without a gap, unknown alias or rebirth request, and ends on the
    // simulator's values.
    const host = new SparkplugDecoder({});
    const got = new Map<string, unknown>();
    for (const s of seen) {
      const r = host.handle(s.topic, s.raw);
      assert.equal(r.problem, undefined, `${s.topic}: ${r.problem}`);
      assert.equal(r.wantsRebirth, undefined);
      for (const x of r.samples) if (x.device) got.set(`${x.device}/${x.metric}`, x.value);
    }
    assert.equal(host.stats().gaps, 0);
    const final = sim.snapshot();
    for (const t of tags)
      assert.deepEqual(got.get(`${t.machine}/${t.name}`), final.get(t.topic)?.value, t.topic);
  });

  it('is born again on a Rebirth command with the same bdSeq, and in a new session with the next bdSeq', async () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 12 });
    const machines = new Set(sim.tags().map((t) => t.machine)).size;
    edge = new SparkplugEdgeNode(sim, { url: broker.url, groupId: GROUP, edgeNodeId: 'Line1' });
    const births: number[] = [];
    edge.on('birth', (n) => births.push(n));
    await edge.start();
    const kinds = (k: string) => seen.filter((s) => s.kind === k);
    const bdSeq = (s: Seen) => num(s.p.metrics?.find((m) => m.name === 'bdSeq')?.value);
    await waitUntil(() => kinds('DBIRTH').length === machines, 'births', 10000);
    sim.advance(5_000);
    edge.publish(sim.advance(5_000));
    await waitUntil(() => kinds('DDATA').length > 0, 'data', 10000);

    // Rebirth: NBIRTH seq 0, same bdSeq, DBIRTHs with the values now held.
    await watcher.publishAsync(`spBv1.0/${GROUP}/NCMD/Line1`, Buffer.from(rebirthCommand()), { qos: 1 });
    await waitUntil(() => kinds('DBIRTH').length === 2 * machines, 'rebirth', 10000);
    const reborn = kinds('NBIRTH')[1];
    assert.deepEqual([num(reborn.p.seq), bdSeq(reborn)], [0, 0]);
    const snap = sim.snapshot();
    for (const d of kinds('DBIRTH').slice(machines)) {
      assert.equal(num(d.p.timestamp), sim.now);
      for (const m of d.p.metrics!)
        assert.deepEqual(
          plain(m.value),
          snap.get(`${sim.tags().find((t) => t.machine === d.device && t.name === m.name)!.topic}`)?.value,
        );
    }
    // A command without Rebirth does nothing; a DCMD with Rebirth is honoured as before.
    await watcher.publishAsync(
      `spBv1.0/${GROUP}/DCMD/Line1/Oven1`,
      Buffer.from(
        codec.encodePayload({
          timestamp: Date.now(),
          metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }],
        }),
      ),
      { qos: 1 },
    );
    await waitUntil(() => kinds('NBIRTH').length === 3, 'rebirth on DCMD', 10000);
    assert.deepEqual(births, [1, 2, 3]);

    // The session dies without a goodbye: the broker publishes the will (bdSeq 0), the next session is bdSeq 1.
    const clients = (broker.broker as unknown as { clients: Record<string, { id: string; close(): void }> })
      .clients;
    Object.values(clients)
      .find((c) => c.id.startsWith('takt-sim-'))!
      .close();
    await waitUntil(() => kinds('NDEATH').length === 1, 'NDEATH (the will)', 10000);
    assert.equal(bdSeq(kinds('NDEATH')[0]), 0);
    await waitUntil(() => kinds('NBIRTH').length === 4, 'the next session is born', 15000);
    assert.deepEqual([num(kinds('NBIRTH')[3].p.seq), bdSeq(kinds('NBIRTH')[3])], [0, 1]);

    // A clean stop says NDEATH of the current session itself.
    await edge.stop();
    edge = undefined;
    await waitUntil(() => kinds('NDEATH').length === 2, 'NDEATH on stop', 10000);
    assert.equal(bdSeq(kinds('NDEATH')[1]), 1);
  });
});
