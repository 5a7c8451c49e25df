/**
 * The simulator's change counts: the pure counter, the OPC UA server counting every value change it writes
 * (checked against a twin simulator and against what a subscribed client receives), GetChangeCounts,
 * pausing the load mode, and the counts in the log on stop.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  ClientSubscription,
  makeBrowsePath,
  TimestampsToReturn,
  type ClientMonitoredItemBase,
  type ClientSession,
  type DataValue,
  type OPCUAClient,
} from 'node-opcua';
import { ChangeCounter } from '../../nodes/sim/counts';
import { PlantSimulator, type TagValue } from '../../nodes/sim/engine';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimOpcuaServer } from '../../nodes/sim/opcua-server';
import { SimRunner } from '../../nodes/sim/runner';
import { freePort, waitUntil } from '../helpers/net';
import { getChangeCounts, setLoad, testClient } from '../helpers/opcua';

const START = Date.UTC(2026, 10, 26, 6, 0, 0);

describe('sim change counter', () => {
  it('counts per tag, lists declared tags with 0, and snapshots by prefix', () => {
    const c = new ChangeCounter();
    c.declare('P/L/M1/A');
    c.declare('P/L/M1/B');
    c.add('P/L/M1/A');
    c.add('P/L/M1/A');
    c.add('P/Load/T1', 5);
    c.declare('P/L/M1/A'); // declaring again keeps the count
    assert.equal(c.get('P/L/M1/A'), 2);
    assert.equal(c.get('nowhere'), 0);
    assert.equal(c.total(), 7);
    assert.equal(c.total('P/L/'), 2);
    assert.deepEqual(c.snapshot(), { 'P/L/M1/A': 2, 'P/L/M1/B': 0, 'P/Load/T1': 5 });
    assert.deepEqual(c.snapshot('P/Load/'), { 'P/Load/T1': 5 });
    const snap = c.snapshot();
    c.add('P/L/M1/B');
    assert.equal(snap['P/L/M1/B'], 0, 'a snapshot is a copy');
  });
});

describe('sim OPC UA change counts', function () {
  this.timeout(60000);
  let dir: string;
  const servers: SimOpcuaServer[] = [];
  const clients: OPCUAClient[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'takt-sim-counts-'));
  });
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.disconnect()));
    await Promise.allSettled(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function session(server: SimOpcuaServer): Promise<ClientSession> {
    const client = testClient(join(dir, 'pki-client'));
    clients.push(client);
    await client.connect(server.endpointUrl);
    return client.createSession();
  }

  it('counts every value change it writes, per tag (browse path), and answers GetChangeCounts with them', async () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 5, startTime: START });
    const server = new SimOpcuaServer(sim, { port: await freePort(), pkiDir: join(dir, 'pki-a') });
    servers.push(server);
    // The oracle: a twin simulator with the same seed, whose values the test compares step by step.
    const twin = new PlantSimulator(DEFAULT_PLANT, { seed: 5, startTime: START });
    const pathOf = new Map(
      twin.tags().map((t) => [t.topic, `${DEFAULT_PLANT.site}/${t.line}/${t.machine}/${t.name}`]),
    );
    const served = twin.tags().filter((t) => !t.writable && t.type !== 'DoubleArray');
    const expected: Record<string, number> = {};
    for (const t of twin.tags()) if (!t.writable) expected[pathOf.get(t.topic)!] = 0;
    const prev = new Map<string, TagValue>();
    const observe = () => {
      const snap = twin.snapshot();
      for (const t of served) {
        const v = snap.get(t.topic)!.value;
        if (prev.get(t.topic) !== v) expected[pathOf.get(t.topic)!]++;
        prev.set(t.topic, v);
      }
    };
    const waveforms = () => {
      for (const t of twin.tags()) if (t.type === 'DoubleArray') expected[pathOf.get(t.topic)!]++;
    };

    await server.start(); // writes every value once
    observe();
    for (let i = 1; i <= 120; i++) {
      sim.advance(2000);
      twin.advance(2000);
      server.publish();
      observe();
      if (i % 7 === 0) {
        server.publishWaveforms();
        waveforms();
      }
    }
    assert.deepEqual(server.changes.snapshot(), expected);
    // Values that change at most steps (Power) and ones that change rarely (GoodCount) are both there.
    assert.ok(expected['Plant1/Line1/CNC1/Power'] > 100);
    assert.ok(expected['Plant1/Line1/CNC1/GoodCount'] > 1);
    assert.equal(expected['Plant1/Line1/CNC1/VibrationWaveform'], 17);
    assert.ok(!('Plant1/Line1/CNC1/BoreDiameterOffset' in expected), 'setpoints are written by clients');

    const s = await session(server);
    const all = await getChangeCounts(s);
    assert.deepEqual(all.counts, expected);
    assert.equal(
      all.total,
      Object.values(expected).reduce((a, b) => a + b, 0),
    );
    assert.equal(all.loadTick, 0);
    const cnc = await getChangeCounts(s, 'Plant1/Line1/CNC1/');
    assert.deepEqual(
      Object.keys(cnc.counts).sort(),
      Object.keys(expected)
        .filter((p) => p.startsWith('Plant1/Line1/CNC1/'))
        .sort(),
    );
    assert.equal(cnc.counts['Plant1/Line1/CNC1/Power'], expected['Plant1/Line1/CNC1/Power']);
  });

  it('load mode: counts equal the changes a subscribed client received, tick by tick; Stop pauses, Start resumes', async () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 6, startTime: START });
    const server = new SimOpcuaServer(sim, {
      port: await freePort(),
      pkiDir: join(dir, 'pki-b'),
      load: { tags: 4, rateHz: 40 },
    });
    servers.push(server);
    await server.start();
    const s = await session(server);
    const t0 = await setLoad(s, false);
    assert.equal(server.loadRunning, false);
    const before = await getChangeCounts(s, 'Plant1/Load/');
    assert.deepEqual(
      Object.keys(before.counts),
      [0, 1, 2, 3].map((i) => `Plant1/Load/Tag0000${i}`),
    );
    for (const n of Object.values(before.counts)) assert.equal(n, t0);

    const folder = await s.translateBrowsePath(makeBrowsePath('i=85', '/1:Plant1/1:Load'));
    const refs = await s.browse({ nodeId: folder.targets![0].targetId, resultMask: 63 });
    const tags = (refs.references ?? []).filter((r) => r.browseName.name?.startsWith('Tag'));
    const sub = ClientSubscription.create(s, {
      requestedPublishingInterval: 50,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 10,
      publishingEnabled: true,
    });
    const got = new Map<string, number[]>(tags.map((t) => [`Plant1/Load/${t.browseName.name}`, []]));
    const names = [...got.keys()];
    const group = ClientMonitoredItemGroup.create(
      sub,
      tags.map((t) => ({ nodeId: t.nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: 0, queueSize: 1000, discardOldest: true },
      TimestampsToReturn.Both,
    );
    group.on('changed', (_i: ClientMonitoredItemBase, dv: DataValue, index: number) =>
      got.get(names[index])!.push(dv.value.value as number),
    );
    await new Promise<void>((r) => group.once('initialized', () => r()));
    // The first notification of each item is the current value, tick t0.
    await waitUntil(() => [...got.values()].every((v) => v.length >= 1), 'the initial values', 10000);

    assert.equal(await setLoad(s, true), t0);
    await waitUntil(() => server.loadTick >= t0 + 20, 'twenty load ticks', 10000);
    const t1 = await setLoad(s, false);
    const total = () => [...got.values()].reduce((a, v) => a + v.length, 0);
    await waitUntil(() => total() === 4 * (t1 - t0 + 1), 'every change at the client', 10000);
    await new Promise((r) => setTimeout(r, 300));
    const after = await getChangeCounts(s, 'Plant1/Load/');
    assert.equal(after.loadTick, t1, 'no tick while stopped');
    for (const [path, values] of got) {
      assert.equal(after.counts[path] - before.counts[path], t1 - t0, path);
      // Every tick from t0 to t1, once each: the initial value, then one notification per change.
      assert.deepEqual(
        values,
        Array.from({ length: t1 - t0 + 1 }, (_, i) => t0 + i),
        path,
      );
    }
    await sub.terminate();
  });

  it('writes the final counts to its log when it stops', async () => {
    const log = join(dir, 'log.jsonl');
    const runner = new SimRunner(DEFAULT_PLANT, {
      seed: 7,
      startTime: START,
      opcua: { port: await freePort(), pkiDir: join(dir, 'pki-c') },
      groundTruthFile: log,
    });
    await runner.start();
    runner.inject('Press1', 'shift', 0.5);
    runner.advance(60000);
    await runner.stop();
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; total?: number; tags?: Record<string, number> });
    assert.equal(lines[0].event, 'start'); // the fault's ground truth is still there
    const last = lines.at(-1)!;
    assert.equal(last.event, 'changeCounts');
    assert.deepEqual(last.tags, runner.opcua!.changes.snapshot());
    assert.equal(last.total, runner.opcua!.changes.total());
    assert.ok(last.tags!['Plant1/Line1/Press1/Energy'] >= 2);
  });
});
