/**
 * The OPC UA engine (no Node-RED) against a real server: the simulator's node-opcua server, in process on
 * a free loopback port. The pooled connection and its state machine, item resolution and browsing,
 * subscriptions and one-shot reads as samples, writes with coercion and method calls, each checked
 * against what the simulator itself holds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaktError } from '../../nodes/core/errors';
import {
  browseLevel,
  callMethod,
  type ConnectionState,
  enumNames,
  OpcuaConnection,
  type OpcuaSample,
  OpcuaSubscriber,
  parseItems,
  resolveItems,
  writeItems,
} from '../../nodes/opcua';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { freePort, waitUntil } from '../helpers/net';

const USER = { user: 'operator', password: 'takt-op-2026' };

describe('OPC UA engine against the simulator’s server', function () {
  this.timeout(60000);
  let dir: string;
  let runner: SimRunner;
  let url: string;
  let conn: OpcuaConnection;
  const states: [ConnectionState, string | undefined][] = [];
  const user = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'takt-opcua-engine-'));
    runner = new SimRunner(DEFAULT_PLANT, {
      seed: 5,
      timeFactor: 60,
      opcua: { port: await freePort(), pkiDir: join(dir, 'pki-server'), users: [USER] },
    });
    await runner.start();
    url = runner.opcua!.endpointUrl;
    conn = new OpcuaConnection({
      url,
      securityMode: 'None',
      securityPolicy: 'None',
      auth: { type: 'anonymous' },
      pkiDir: join(dir, 'pki-client'),
      reconnectInitialMs: 100,
      reconnectMaxMs: 500,
    });
    conn.on('state', (s, why) => states.push([s, why]));
  });
  after(async () => {
    await conn.close();
    await runner.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Tags of one simulated machine: OPC UA browse name -> tag. */
  const tagsOf = (machine: string) =>
    new Map(
      runner.sim
        .tags()
        .filter((t) => t.machine === machine)
        .map((t) => [t.name, t]),
    );

  it('opens one session on the first user, shares it, and runs each user’s onSession', async () => {
    assert.equal(conn.state, 'idle');
    const sessions: unknown[] = [];
    conn.register(user, (s) => void sessions.push(s));
    const session = await conn.whenConnected(20000);
    assert.deepEqual(
      states.map(([s]) => s),
      ['connecting', 'connected'],
    );
    assert.equal(conn.session, session);
    const other = {};
    conn.register(other, (s) => void sessions.push(s));
    await waitUntil(() => sessions.length === 2, 'both users ran', 5000);
    assert.equal(sessions[0], sessions[1], 'one session for both');
    await conn.deregister(other);
    assert.equal(conn.state, 'connected', 'open while a user remains');
  });

  it('resolves NodeIds, paths, children and descendants to browse names, and bad items by status', async () => {
    const session = await conn.whenConnected();
    const items = await resolveItems(
      session,
      parseItems(
        'i=2258\n/Plant1/Line1/CNC1/Power\n/Plant1/Line1/Oven1/*\nns=1;s=NoSuchTag\n/Plant1/Line1/NoMachine/Power',
      ),
    );
    const bySpec = (spec: string) => items.filter((i) => i.spec === spec);
    assert.deepEqual(bySpec('i=2258')[0].names, ['Server', 'ServerStatus', 'CurrentTime']);
    const power = bySpec('/Plant1/Line1/CNC1/Power')[0];
    assert.deepEqual(power.names, ['Plant1', 'Line1', 'CNC1', 'Power']);
    assert.ok(power.nodeId && !power.error);
    // Children: exactly the simulated machine's variables.
    const oven = bySpec('/Plant1/Line1/Oven1/*');
    assert.deepEqual(new Set(oven.map((i) => i.names.at(-1))), new Set(tagsOf('Oven1').keys()));
    assert.ok(oven.every((i) => i.names.join('/').startsWith('Plant1/Line1/Oven1/') && !i.error));
    assert.equal(bySpec('ns=1;s=NoSuchTag')[0].error, 'BadNodeIdUnknown');
    assert.equal(bySpec('/Plant1/Line1/NoMachine/Power')[0].error, 'BadNoMatch');
    // Descendants: every machine's variables under the line.
    const all = await resolveItems(session, parseItems('/Plant1/Line1/**'));
    const expected = runner.sim
      .tags()
      .filter((t) => t.line === 'Line1')
      .map((t) => `${t.machine}/${t.name}`);
    assert.deepEqual(new Set(all.map((i) => i.names.slice(2).join('/'))), new Set(expected));
  });

  it('browses one level with data types and units, and names enumeration values', async () => {
    const session = await conn.whenConnected();
    const [cnc] = await resolveItems(session, parseItems('/Plant1/Line1/CNC1'));
    const entries = await browseLevel(session, cnc.nodeId);
    const tags = tagsOf('CNC1');
    assert.deepEqual(new Set(entries.map((e) => e.browseName)), new Set(tags.keys()));
    for (const e of entries) {
      const t = tags.get(e.browseName)!;
      assert.equal(e.nodeClass, 'Variable');
      assert.equal(e.namespaceIndex, 1);
      assert.equal(e.dataType, t.type === 'DoubleArray' ? 'Double' : t.type, e.browseName);
      // The server gives EngineeringUnits by their UNECE display name (rpm shows as r/min).
      assert.equal(e.unit !== undefined, t.unit !== undefined, e.browseName);
    }
    assert.equal(entries.find((e) => e.browseName === 'Temperature')?.unit, '°C');
    // Server_ServerStatus_State is a ServerState enumeration; Server_ServerStatus_CurrentTime is not.
    const names = await enumNames(session, ['i=2259', 'i=2258']);
    assert.equal(names.get('i=2259')?.[0], 'Running');
    assert.equal(names.has('i=2258'), false);
  });

  it('subscribes: a ready report, changes as samples on ISA-95 topics, a bad item as a bad sample', async () => {
    const session = await conn.whenConnected();
    const sub = new OpcuaSubscriber({
      items: parseItems('/Plant1/Line1/CNC1/Energy\n/Plant1/Line1/CNC1/State\nns=1;s=NoSuchTag'),
      topicPrefix: 'Acme',
      samplingIntervalMs: 100,
      publishingIntervalMs: 200,
      queueSize: 0,
      deadband: { type: 'none', value: 0 },
    });
    const batches: OpcuaSample[][] = [];
    sub.on('samples', (b) => batches.push(b));
    const ready = new Promise<{ monitored: number; bad: { spec: string; error: string }[] }>((r) =>
      sub.once('ready', r),
    );
    await sub.start(session);
    assert.deepEqual(await ready, {
      monitored: 2,
      bad: [{ spec: 'ns=1;s=NoSuchTag', error: 'BadNodeIdUnknown' }],
    });
    const samples = () => batches.flat();
    await waitUntil(
      () => samples().filter((s) => s.topic === 'Acme/Plant1/Line1/CNC1/Energy').length >= 3,
      'energy changes',
      20000,
    );
    await sub.stop();
    const all = samples();
    const bad = all.filter((s) => s.quality === 'bad');
    assert.deepEqual(
      bad.map((s) => s.value),
      ['BadNodeIdUnknown'],
    );
    const energy = all.filter((s) => s.topic === 'Acme/Plant1/Line1/CNC1/Energy');
    assert.ok(energy.every((s) => typeof s.value === 'number' && s.quality === 'good'));
    assert.ok((energy.at(-1)!.value as number) > (energy[0].value as number), 'the meter counts up');
    const states = all.filter((s) => s.topic === 'Acme/Plant1/Line1/CNC1/State');
    assert.ok(states.length >= 1 && states.every((s) => typeof s.value === 'string'));
    assert.equal(sub.received, all.length - bad.length, 'every change counted');
    assert.equal(sub.overflows, 0);
    // Stopped: nothing more arrives.
    const n = samples().length;
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(samples().length, n);
  });

  it('reads once: the simulator’s values, DateTime as ISO text, bad items by status', async () => {
    const session = await conn.whenConnected();
    const out = await OpcuaSubscriber.readOnce(
      session,
      parseItems('/Plant1/Line1/Press1/IdealCycleTime\ni=2258\n/Plant1/Line1/Press1/Nope'),
      'Acme',
    );
    const ideal = runner.sim.snapshot().get(tagsOf('Press1').get('IdealCycleTime')!.topic)!.value;
    assert.deepEqual(out[0], {
      ...out[0],
      topic: 'Acme/Plant1/Line1/Press1/IdealCycleTime',
      value: ideal,
      quality: 'good',
    });
    assert.equal(out[1].topic, 'Acme/Server/ServerStatus/CurrentTime');
    assert.ok(typeof out[1].value === 'string' && !Number.isNaN(Date.parse(out[1].value)));
    assert.deepEqual([out[2].value, out[2].quality], ['BadNoMatch', 'bad']);
  });

  it('writes with coercion, one result per item, and calls a method with coerced arguments', async () => {
    const session = await conn.whenConnected();
    const offset = tagsOf('Packer1').get('WeightOffset')!.topic;
    const results = await writeItems(session, [
      { item: '/Plant1/Line1/Packer1/WeightOffset', value: '1.25' },
      { item: '/Plant1/Line1/Packer1/GoodCount', value: 3 },
      { item: '/Plant1/Line1/Packer1/WeightOffset', value: 'heavy' },
      { item: '/Plant1/Line1/Packer1/Nope', value: 1 },
    ]);
    assert.deepEqual(
      results.map((r) => r.good),
      [true, false, false, false],
    );
    assert.equal(results[0].statusCode, 'Good');
    assert.equal(runner.sim.snapshot().get(offset)!.value, 1.25);
    assert.match(results[1].statusCode, /BadNotWritable|BadUserAccessDenied/);
    assert.match(results[2].statusCode, /"heavy" cannot be written as Double/);
    assert.equal(results[3].statusCode, 'BadNoMatch');

    const faults = runner.sim.groundTruth.length;
    const r = await callMethod(session, '/Plant1', '/Plant1/InjectFault', ['Oven1', 'overheat', '0.4']);
    assert.equal(r.good, true);
    assert.equal(runner.sim.groundTruth.length, faults + 1);
    const injected = runner.sim.groundTruth.at(-1)!;
    assert.deepEqual([injected.machine, injected.kind, injected.severity], ['Oven1', 'overheat', 0.4]);
    assert.equal(r.outputs[0], injected.id);
    runner.clear('Oven1');
    const refused = await callMethod(session, '/Plant1', '/Plant1/InjectFault', ['Lathe9', 'bearing', 0.5]);
    assert.deepEqual([refused.good, refused.statusCode], [false, 'BadInvalidArgument']);
    assert.match(refused.message ?? '', /unknown machine "Lathe9"/);
    await assert.rejects(
      callMethod(session, '/Plant1', '/Plant1/InjectFault', ['Oven1']),
      (e: unknown) => e instanceof TaktError && e.code === 'opcua.badArguments',
    );
    await assert.rejects(
      callMethod(session, '/Plant1/Nope', '/Plant1/InjectFault', []),
      (e: unknown) => e instanceof TaktError && e.code === 'opcua.badObject',
    );
  });

  it('comes back after a server restart with a new session, and runs onSession again', async () => {
    const sessions: unknown[] = [];
    const u = {};
    conn.register(u, (s) => void sessions.push(s));
    await waitUntil(() => sessions.length === 1, 'onSession on the live session', 5000);
    states.length = 0;
    await runner.opcua!.stop();
    await waitUntil(() => states.some(([s]) => s === 'backoff'), 'backoff after the loss', 20000);
    await runner.opcua!.start();
    await waitUntil(() => sessions.length === 2, 'a new session after the restart', 30000);
    assert.notEqual(sessions[1], sessions[0]);
    assert.equal(conn.state, 'connected');
    await conn.deregister(u);
  });

  it('reports a rejected password by name and keeps retrying; the last user leaving closes it', async () => {
    const bad = new OpcuaConnection({
      url,
      securityMode: 'SignAndEncrypt',
      securityPolicy: 'Aes128_Sha256_RsaOaep',
      auth: { type: 'username', user: USER.user, password: 'wrong' },
      pkiDir: join(dir, 'pki-client-2'),
      trustOnFirstUse: true,
      reconnectInitialMs: 100,
      reconnectMaxMs: 200,
    });
    const seen: [ConnectionState, string | undefined][] = [];
    bad.on('state', (s, why) => seen.push([s, why]));
    const u = {};
    bad.register(u);
    try {
      await waitUntil(() => seen.filter(([s]) => s === 'backoff').length >= 2, 'two failed attempts', 30000);
      assert.deepEqual(
        seen.find(([s]) => s === 'backoff'),
        ['backoff', 'user rejected'],
      );
      assert.equal(bad.lastError, 'user rejected');
      await assert.rejects(bad.whenConnected(200), /not connected to .*: user rejected/);
    } finally {
      await bad.deregister(u);
    }
    assert.equal(bad.state, 'closed');
  });
});
