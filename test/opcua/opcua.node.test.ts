/**
 * takt-opcua-endpoint / -in / -write against the simulator's OPC UA server (in-process, real node-opcua
 * server on a free port): subscribe, batch, one-shot read, bad items, security with a user, certificate
 * trust, write with coercion, method calls, and a server restart in the middle of a subscription.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { freePort, waitUntil } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

/* eslint-disable @typescript-eslint/no-require-imports */
const endpointNode = require('../../nodes/opcua/endpoint.node');
const inNode = require('../../nodes/opcua/opcua-in.node');
const writeNode = require('../../nodes/opcua/opcua-write.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

const USER = { user: 'operator', password: 'takt-op-2026' };
const NODES = [endpointNode, inNode, writeNode, catchNode];

type Status = { fill?: string; shape?: string; text?: string };

/** Every status a node sets from now on. */
function recordStatus(id: string): Status[] {
  const seen: Status[] = [];
  getNode(id).on('call:status', ((c: { args: [Status] }) => seen.push(c.args[0])) as never);
  return seen;
}

interface SampleMsg {
  topic: string;
  payload: unknown;
  ts: number;
  quality: string;
}

describe('takt-opcua nodes against the simulator', function () {
  this.timeout(60000);
  let dir: string;
  let runner: SimRunner;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'takt-opcua-'));
    runner = new SimRunner(DEFAULT_PLANT, {
      seed: 2,
      timeFactor: 60,
      opcua: { port: await freePort(), pkiDir: join(dir, 'pki-server'), users: [USER] },
    });
    await runner.start();
    url = runner.opcua!.endpointUrl;
  });
  after(async () => {
    await runner.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => helper.settings({ userDir: dir }));
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
  });

  const endpoint = (extra: object = {}) => ({
    id: 'ep',
    type: 'takt-opcua-endpoint',
    url,
    securityMode: 'None',
    securityPolicy: 'None',
    authType: 'anonymous',
    ...extra,
  });
  const flow = (inExtra: object, epExtra: object = {}) => [
    { id: 'tab', type: 'tab' },
    endpoint(epExtra),
    {
      id: 'in',
      z: 'tab',
      type: 'takt-opcua-in',
      endpoint: 'ep',
      topicPrefix: 'Acme',
      samplingInterval: 100,
      publishingInterval: 200,
      wires: [['out']],
      ...inExtra,
    },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  it('subscribes by browse path and sends one sample per change', async () => {
    await load(NODES, flow({ items: '/Plant1/Line1/CNC1/Energy\n/Plant1/Line1/CNC1/State' }));
    const statuses = recordStatus('in');
    const msgs = await nextMessages<SampleMsg>('out', 6, 15000);
    const energy = msgs.filter((m) => m.topic === 'Acme/Plant1/Line1/CNC1/Energy');
    assert.ok(energy.length >= 2, 'energy changes');
    for (const m of energy) {
      assert.equal(typeof m.payload, 'number');
      assert.equal(m.quality, 'good');
      assert.ok(m.ts > Date.UTC(2020, 0, 1));
    }
    assert.ok(
      (energy.at(-1)!.payload as number) > (energy[0].payload as number),
      'the energy meter counts up',
    );
    assert.ok(msgs.some((m) => m.topic === 'Acme/Plant1/Line1/CNC1/State' && typeof m.payload === 'string'));
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: 'subscribed 2' });
  });

  it('subscribes to every variable under a folder in batch mode, arrays included', async () => {
    await load(NODES, flow({ items: '/Plant1/Line1/Oven1/*', mode: 'batch' }));
    const batches = await nextMessages<{ payload: SampleMsg[] & { topic: string; value: unknown }[] }>(
      'out',
      3,
      15000,
    );
    const all = batches.flatMap(
      (b) => b.payload as unknown as { topic: string; value: unknown; quality: string }[],
    );
    const topics = new Set(all.map((s) => s.topic));
    assert.ok(topics.has('Acme/Plant1/Line1/Oven1/Temperature'));
    assert.ok(topics.has('Acme/Plant1/Line1/Oven1/Hardness'));
    const wave = all.find((s) => s.topic.endsWith('/VibrationWaveform'));
    assert.ok(wave && Array.isArray(wave.value) && wave.value.length === 2048, 'waveform as a plain array');
  });

  it('reads every item once on an input message, NodeIds and paths', async () => {
    await load(NODES, flow({ items: 'i=2258\n/Plant1/Line1/Press1/IdealCycleTime' }));
    const out = nextMessages<SampleMsg>(
      'out',
      2,
      10000,
      (m) => (m as { _readOnce?: boolean })._readOnce === true,
    );
    getNode('in').receive({ _readOnce: true });
    const msgs = await out;
    const byTopic = new Map(msgs.map((m) => [m.topic, m]));
    assert.equal(byTopic.get('Acme/Plant1/Line1/Press1/IdealCycleTime')?.payload, 12);
    const time = [...byTopic.values()].find((m) => m.topic.endsWith('CurrentTime'));
    assert.ok(
      time && typeof time.payload === 'string' && !Number.isNaN(Date.parse(time.payload as string)),
      'DateTime as ISO text',
    );
  });

  it('decodes enumerations by name and structures as objects', async () => {
    // Server_ServerStatus_State (ServerState enumeration) and Server_ServerStatus (a structure).
    await load(NODES, flow({ items: 'i=2259\ni=2256' }));
    const out = nextMessages<SampleMsg>(
      'out',
      2,
      10000,
      (m) => (m as { _readOnce?: boolean })._readOnce === true,
    );
    getNode('in').receive({ _readOnce: true });
    const [status, state] = (await out).sort((a, b) => a.topic.length - b.topic.length);
    assert.equal(status.topic, 'Acme/Server/ServerStatus');
    assert.equal(state.topic, 'Acme/Server/ServerStatus/State');
    assert.equal(state.payload, 'Running');
    const s = status.payload as { buildInfo: { productName: string }; startTime: string };
    assert.equal(s.buildInfo.productName, 'Takt plant simulator');
    assert.ok(!Number.isNaN(Date.parse(s.startTime)));
  });

  it('shares one session among the nodes of an endpoint, and browses for the editor', async () => {
    const server = (runner.opcua as unknown as { server: { engine: { currentSessionCount: number } } })
      .server;
    const before = server.engine.currentSessionCount;
    await load(NODES, [
      ...flow({ items: '/Plant1/Line1/CNC1/Power' }),
      {
        id: 'in2',
        z: 'tab',
        type: 'takt-opcua-in',
        endpoint: 'ep',
        items: '/Plant1/Line1/Oven1/Power',
        wires: [['out']],
      },
    ]);
    await nextMessages<SampleMsg>('out', 4, 15000);
    assert.equal(server.engine.currentSessionCount - before, 1, 'one session for two readers');

    const top = await helper.request().get('/takt-opcua/ep/browse').expect(200);
    const plant = (top.body as { nodeId: string; browseName: string; nodeClass: string }[]).find(
      (r) => r.browseName === 'Plant1',
    );
    assert.ok(plant && plant.nodeClass === 'Object');
    const line = await helper
      .request()
      .get('/takt-opcua/ep/browse')
      .query({ nodeId: plant.nodeId })
      .expect(200);
    const line1 = (line.body as { nodeId: string; browseName: string }[]).find(
      (r) => r.browseName === 'Line1',
    )!;
    const machines = await helper
      .request()
      .get('/takt-opcua/ep/browse')
      .query({ nodeId: line1.nodeId })
      .expect(200);
    const cnc = (machines.body as { nodeId: string; browseName: string }[]).find(
      (r) => r.browseName === 'CNC1',
    )!;
    const vars = (
      await helper.request().get('/takt-opcua/ep/browse').query({ nodeId: cnc.nodeId }).expect(200)
    ).body as {
      browseName: string;
      nodeClass: string;
      dataType?: string;
      unit?: string;
    }[];
    const temp = vars.find((v) => v.browseName === 'Temperature');
    assert.deepEqual([temp?.nodeClass, temp?.dataType, temp?.unit], ['Variable', 'Double', '°C']);
    assert.equal(vars.find((v) => v.browseName === 'GoodCount')?.dataType, 'UInt32');
    await helper.request().get('/takt-opcua/nope/browse').expect(404);
  });

  it('marks a bad item bad and keeps the others flowing', async () => {
    await load(
      NODES,
      flow({ items: 'ns=1;s=NoSuchTag\n/Plant1/Line1/NoMachine/Power\n/Plant1/Line1/Packer1/Energy' }),
    );
    const statuses = recordStatus('in');
    const msgs = await nextMessages<SampleMsg>('out', 5, 15000);
    const bad = msgs.filter((m) => m.quality === 'bad');
    assert.deepEqual(bad.map((m) => m.payload).sort(), ['BadNoMatch', 'BadNodeIdUnknown']);
    assert.ok(msgs.some((m) => m.topic === 'Acme/Plant1/Line1/Packer1/Energy' && m.quality === 'good'));
    assert.ok(
      statuses.some((st) => st.fill === 'yellow' && st.shape === 'dot' && st.text === '1 items, 2 bad'),
      JSON.stringify(statuses),
    );
  });

  it('connects with SignAndEncrypt and a user once the server certificate is trusted', async () => {
    await load(
      NODES,
      flow(
        { items: '/Plant1/Line1/CNC1/Power' },
        { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', authType: 'username' },
      ),
      {
        ep: { user: USER.user, password: USER.password },
      },
    );
    // Not trusted yet: the reader says why and keeps retrying.
    const untrusted = await nextStatus('in', (s) => s.fill === 'red', 20000);
    assert.match(untrusted.text ?? '', /not trusted/);
    const res = await helper.request().post('/takt-opcua/ep/trust').expect(200);
    assert.match((res.body as { message: string }).message, /trusted/);
    const msgs = await nextMessages<SampleMsg>('out', 1, 20000);
    assert.equal(msgs[0].topic, 'Acme/Plant1/Line1/CNC1/Power');
  });

  it('authenticates with an X.509 user certificate (PEM files)', async function () {
    // A user certificate and key as a plant's PKI would issue them (made with openssl here).
    const cert = join(dir, 'user-cert.pem');
    const key = join(dir, 'user-key.pem');
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=takt-operator',
      ],
      {
        encoding: 'utf8',
        // node-opcua sets OPENSSL_CONF to "undefined" in this process: let openssl use its default config.
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'OPENSSL_CONF')),
      },
    );
    if (r.error && process.env.CI !== 'true') return this.skip();
    assert.equal(r.status, 0, r.stderr);
    // The simulator accepts only user certificates on its trust list.
    await runner.opcua!.trustUserCertificate(cert);
    await load(
      NODES,
      flow(
        { items: '/Plant1/Line1/CNC1/Power' },
        {
          securityMode: 'SignAndEncrypt',
          securityPolicy: 'Basic256Sha256',
          authType: 'x509',
          certificateFile: cert,
          privateKeyFile: key,
          trustOnFirstUse: true,
        },
      ),
    );
    const msgs = await nextMessages<SampleMsg>('out', 1, 20000);
    assert.equal(msgs[0].topic, 'Acme/Plant1/Line1/CNC1/Power');
  });

  it('reports a rejected password by name', async () => {
    await load(
      NODES,
      flow(
        { items: '/Plant1/Line1/CNC1/Power' },
        {
          securityMode: 'SignAndEncrypt',
          securityPolicy: 'Aes128_Sha256_RsaOaep',
          authType: 'username',
          trustOnFirstUse: true,
        },
      ),
      { ep: { user: USER.user, password: 'wrong' } },
    );
    const st = await nextStatus('in', (s) => s.fill === 'red', 20000);
    assert.match(st.text ?? '', /user rejected/);
  });

  it('refuses an unknown security policy at deploy with a clear error', async () => {
    await load(NODES, flow({ items: '/Plant1' }, { securityMode: 'Sign', securityPolicy: 'Basic128' }));
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('in').receive({});
    assert.match((await caught)[0].error.message, /unknown security policy "Basic128"/);
  });

  it('writes with DataType coercion, one result per item, and reports failures', async () => {
    await load(NODES, [
      { id: 'tab', type: 'tab' },
      endpoint(),
      {
        id: 'w',
        z: 'tab',
        type: 'takt-opcua-write',
        endpoint: 'ep',
        mode: 'write',
        item: '/Plant1/Line1/Packer1/WeightOffset',
        wires: [['out']],
      },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ]);
    const ok = nextMessages<{ payload: { item: string; statusCode: string; good: boolean }[] }>(
      'out',
      1,
      10000,
    );
    getNode('w').receive({ payload: '1.25' });
    assert.deepEqual(
      (await ok)[0].payload.map((r) => [r.statusCode, r.good]),
      [['Good', true]],
    );
    assert.equal(runner.sim.snapshot().get('Acme/Plant1/Machining/Line1/Packer1/WeightOffset')!.value, 1.25);

    const mixed = nextMessages<{ payload: { item: string; statusCode: string; good: boolean }[] }>(
      'out',
      1,
      10000,
    );
    const caught = nextMessages<{ error: { message: string } }>('caught', 1, 10000);
    getNode('w').receive({
      payload: [
        { item: '/Plant1/Line1/Packer1/WeightOffset', value: -0.5 },
        { item: '/Plant1/Line1/Packer1/GoodCount', value: 3 },
        { item: '/Plant1/Line1/Packer1/WeightOffset', value: 'heavy' },
      ],
    });
    const results = (await mixed)[0].payload;
    assert.deepEqual(
      results.map((r) => r.good),
      [true, false, false],
    );
    assert.match(results[1].statusCode, /BadNotWritable|BadUserAccessDenied/);
    assert.match(results[2].statusCode, /"heavy" cannot be written as Double/);
    assert.match((await caught)[0].error.message, /GoodCount: Bad/);
  });

  it('calls a method with typed arguments and returns its outputs or its reason', async () => {
    await load(NODES, [
      { id: 'tab', type: 'tab' },
      endpoint(),
      {
        id: 'm',
        z: 'tab',
        type: 'takt-opcua-write',
        endpoint: 'ep',
        mode: 'call',
        object: '/Plant1',
        method: '/Plant1/InjectFault',
        wires: [['out']],
      },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ]);
    const ok = nextMessages<{ payload: { good: boolean; outputs: unknown[] } }>('out', 1, 10000);
    getNode('m').receive({ payload: ['Oven1', 'overheat', '0.4'] });
    const r = (await ok)[0].payload;
    assert.equal(r.good, true);
    assert.ok(typeof r.outputs[0] === 'number' && r.outputs[0] > 0);
    assert.equal(runner.sim.groundTruth.at(-1)!.kind, 'overheat');
    runner.clear('Oven1');

    const caught = nextMessages<{ error: { message: string } }>('caught', 2, 10000);
    getNode('m').receive({ payload: ['Lathe9', 'bearing', 0.5] });
    getNode('m').receive({ payload: ['Oven1'] });
    const errors = (await caught).map((c) => c.error.message);
    assert.ok(
      errors.some((e) => /BadInvalidArgument \(unknown machine "Lathe9"/.test(e)),
      errors.join(' | '),
    );
    assert.ok(
      errors.some((e) => /takes 3 argument\(s\) \(machine, kind, severity\), got 1/.test(e)),
      errors.join(' | '),
    );
  });

  it('survives a server restart mid-subscription: values resume, nothing doubled', async () => {
    await load(NODES, flow({ items: '/Plant1/Line1/Press1/Energy' }, { reconnectMaxMs: 1000 }));
    const seen: SampleMsg[] = [];
    getNode('out').on('input', ((m: SampleMsg) => seen.push(m)) as never);
    await waitUntil(() => seen.length >= 3, 'values before the restart', 15000);
    await runner.opcua!.stop();
    const down = await nextStatus('in', (s) => s.fill === 'red' || s.fill === 'yellow', 15000);
    assert.ok(down.text, 'the status says the connection is gone');
    const before = seen.length;
    await runner.opcua!.start();
    await waitUntil(() => seen.length >= before + 3, 'values after the restart', 30000);
    // Each change arrives once: source timestamps never repeat (a doubled subscription would repeat them).
    const ts = seen.filter((m) => m.quality === 'good').map((m) => m.ts);
    assert.equal(new Set(ts).size, ts.length, 'no duplicate samples');
    const server = (runner.opcua as unknown as { server: { engine: { currentSubscriptionCount: number } } })
      .server;
    assert.equal(server.engine.currentSubscriptionCount, 1, 'one subscription on the server');
  });
});

describe('takt-opcua-in under overload', function () {
  this.timeout(60000);
  let dir: string;
  let runner: SimRunner;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'takt-opcua-overflow-'));
    runner = new SimRunner(DEFAULT_PLANT, {
      opcua: { port: await freePort(), pkiDir: join(dir, 'pki-server'), load: { tags: 3, rateHz: 50 } },
    });
    await runner.start();
  });
  after(async () => {
    await runner.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => helper.settings({ userDir: dir }));
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
  });

  it('warns when the server reports dropped changes (queue overflow) instead of losing them silently', async () => {
    // 50 changes/s per tag into a queue of 2 emptied once a second: the server must drop and flag.
    await load(NODES, [
      { id: 'tab', type: 'tab' },
      {
        id: 'ep',
        type: 'takt-opcua-endpoint',
        url: runner.opcua!.endpointUrl,
        securityMode: 'None',
        securityPolicy: 'None',
        authType: 'anonymous',
      },
      {
        id: 'in',
        z: 'tab',
        type: 'takt-opcua-in',
        endpoint: 'ep',
        items: '/Plant1/Load/*',
        samplingInterval: 0,
        publishingInterval: 1000,
        queueSize: 2,
        mode: 'batch',
        wires: [['out']],
      },
      { id: 'out', z: 'tab', type: 'helper' },
    ]);
    const warned = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no overflow warning')), 20000);
      getNode('in').on('call:warn', ((c: { args: [string] }) => {
        if (/overflowed/.test(c.args[0])) {
          clearTimeout(t);
          resolve(c.args[0]);
        }
      }) as never);
    });
    assert.match(warned, /queue overflowed \d+ time\(s\): changes were lost/);
  });
});
