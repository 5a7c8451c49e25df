import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttributeIds, UserTokenType } from 'node-opcua';
import { toSample } from '../../nodes/core/sample';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { spawnSimulator, testClient } from '../helpers/opcua';
import { freePort } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { ROOT } from '../helpers/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const simNode = require('../../nodes/sim/sim.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

interface Batch {
  payload: { topic: string; value: unknown; ts: number; quality: string }[];
}
interface Truth {
  payload: { event: string; machine: string; kind: string; severity: number; source: string; id: number };
}

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 'sim',
    z: 'tab',
    type: 'takt-sim',
    opcuaPort: 0,
    timeFactor: 3600,
    seed: 5,
    wires: [['samples'], ['truth']],
    ...extra,
  },
  { id: 'samples', z: 'tab', type: 'helper' },
  { id: 'truth', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['sim'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

describe('takt-sim node', function () {
  this.timeout(30000);
  let userDir: string;

  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-sim-node-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('emits batches of valid samples: changed tags, part measurements and waveforms', async () => {
    await load([simNode, catchNode], flow());
    const batches = await nextMessages<Batch>('samples', 3, 10000);
    const all = batches.flatMap((b) => b.payload);
    for (const s of all) assert.deepEqual(toSample(s, { now: 0 }), s, `${s.topic} is a valid sample`);
    const topics = new Set(all.map((s) => s.topic));
    assert.ok(topics.has('Acme/Plant1/Machining/Line1/CNC1/BoreDiameter'), 'part measurements');
    const wave = all.find((s) => s.topic.endsWith('/CNC1/VibrationWaveform'));
    assert.ok(wave && Array.isArray(wave.value) && wave.value.length === 2048, 'waveform');
  });

  it('sends one PNG per part on the third output with its ground truth when cameras are on', async () => {
    await load(
      [simNode, catchNode],
      [
        ...flow({ camera: true, timeFactor: 60, wires: [['samples'], ['truth'], ['images']] }),
        { id: 'images', z: 'tab', type: 'helper' },
      ],
    );
    getNode('sim').receive({
      action: 'inject',
      payload: { machine: 'Packer1', kind: 'surfaceDefect', severity: 1 },
    });
    const images = await nextMessages<{
      topic: string;
      payload: Buffer;
      part: { part: number; defect: { kind: string } | null };
    }>('images', 2, 20000);
    for (const m of images) {
      assert.equal(m.topic, 'Acme/Plant1/Machining/Line1/Packer1/Camera/Image');
      assert.ok(Buffer.isBuffer(m.payload));
      assert.deepEqual([...m.payload.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    }
    assert.equal(images[1]!.part.part, images[0]!.part.part + 1);
    assert.ok(images[1]!.part.defect, 'the part after the injection carries its defect');
  });

  it('refuses surface defects on a machine without a camera, and keeps running', async () => {
    await load([simNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught', 1, 10000);
    getNode('sim').receive({
      action: 'inject',
      payload: { machine: 'CNC1', kind: 'surfaceDefect', severity: 1 },
    });
    assert.match((await caught)[0]!.error.message, /CNC1.*no camera/);
    await nextMessages<Batch>('samples', 1, 10000);
  });

  it('injects and clears faults from messages, reporting ground truth and status', async () => {
    await load([simNode, catchNode], flow());
    const truth = nextMessages<Truth>('truth', 2, 10000);
    const warn = nextStatus('sim', (s) => s.fill === 'yellow' && s.shape === 'dot');
    getNode('sim').receive({
      action: 'inject',
      payload: { machine: 'Press1', kind: 'toolWear', severity: 0.5 },
    });
    assert.match((await warn).text ?? '', /1 fault/);
    const green = nextStatus('sim', (s) => s.fill === 'green');
    getNode('sim').receive({ action: 'clear', payload: { machine: 'Press1' } });
    const [start, end] = await truth;
    assert.deepEqual(
      [
        start.payload.event,
        start.payload.machine,
        start.payload.kind,
        start.payload.severity,
        start.payload.source,
      ],
      ['start', 'Press1', 'toolWear', 0.5, 'message'],
    );
    assert.deepEqual([end.payload.event, end.payload.id], ['end', start.payload.id]);
    assert.match((await green).text ?? '', /3600x/);
  });

  it('refuses a bad action or fault with done(err) and keeps running', async () => {
    await load([simNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught', 2);
    getNode('sim').receive({ action: 'explode', payload: {} });
    getNode('sim').receive({
      action: 'inject',
      payload: { machine: 'Lathe9', kind: 'bearing', severity: 0.5 },
    });
    const [a, b] = await caught;
    assert.match(a.error.message, /action: "explode" is not one of inject, clear/);
    assert.match(b.error.message, /unknown machine "Lathe9"/);
    const more = nextMessages<Batch>('samples', 1, 5000);
    assert.ok((await more)[0].payload.length > 0, 'still simulating');
  });

  it('with setpoints on, publishes them and writes them from msg.action "write"; a bad write changes nothing', async () => {
    await load([simNode, catchNode], flow({ processes: true }));
    const feed = 'Acme/Plant1/Machining/Line1/CNC1/FeedRate';
    const first = await nextMessages<Batch>('samples', 1, 10000);
    assert.equal(first[0].payload.find((s) => s.topic === feed)?.value, 400);
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('sim').receive({
      action: 'write',
      payload: [
        { item: 'Plant1/Line1/CNC1/FeedRate', value: 300 },
        { item: 'Plant1/Line1/CNC1/SpindleSpeed', value: 9999 },
      ],
    });
    assert.match((await caught)[0].error.message, /CNC1\/SpindleSpeed must be within 1200\.\.2400/);
    getNode('sim').receive({ action: 'write', payload: { machine: 'CNC1', name: 'FeedRate', value: 320 } });
    for (let i = 0; i < 20; i++) {
      const [b] = await nextMessages<Batch>('samples', 1, 5000);
      const v = b.payload.find((s) => s.topic === feed)?.value;
      if (v === undefined) continue;
      assert.equal(v, 320, 'the refused list changed nothing, the good write applied');
      return;
    }
    assert.fail('no FeedRate sample after the write');
  });

  it('reports a bad plant model file by field and refuses input', async () => {
    const plantFile = join(userDir, 'plant.json');
    writeFileSync(plantFile, JSON.stringify({ enterprise: 'A', site: 'S', area: 'X', lines: [] }));
    await load([simNode, catchNode], flow({ plantFile }));
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('sim').receive({ action: 'clear', payload: {} });
    assert.match((await caught)[0].error.message, /plant model: plant\.lines must not be empty/);
  });

  it('shows "port in use" when the OPC UA port is taken, and keeps simulating', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const redRing = new Promise<{ text?: string }>((resolve) => {
        void load([simNode, catchNode], flow({ opcuaPort: port })).then(() =>
          getNode('sim').on('call:status', ((c: {
            args: [{ fill?: string; shape?: string; text?: string }];
          }) => {
            if (c.args[0].fill === 'red') resolve(c.args[0]);
          }) as never),
        );
      });
      assert.deepEqual(await redRing, { fill: 'red', shape: 'ring', text: 'port in use' });
      const batch = await nextMessages<Batch>('samples', 1, 5000);
      assert.ok(batch[0].payload.length > 0, 'still simulating');
    } finally {
      blocker.close();
    }
  });

  it('serves OPC UA with the user from its credentials and anonymous access off', async () => {
    const port = await freePort();
    await load([simNode, catchNode], flow({ opcuaPort: port, allowAnonymous: false }), {
      sim: { user: 'op', password: 'op-secret-1' },
    });
    await nextStatus('sim', (s) => s.fill === 'green', 15000);
    const client = testClient(join(userDir, 'pki-client'));
    await client.connect(`opc.tcp://127.0.0.1:${port}/UA/Takt`);
    try {
      await assert.rejects(client.createSession({ type: UserTokenType.Anonymous }));
      const s = await client.createSession({
        type: UserTokenType.UserName,
        userName: 'op',
        password: 'op-secret-1',
      });
      const dv = await s.read({ nodeId: 'ns=1;s=unknown', attributeId: AttributeIds.Value });
      assert.equal(dv.statusCode.name, 'BadNodeIdUnknown');
      await s.close();
    } finally {
      await client.disconnect();
    }
  });
});

describe('takt-sim command', function () {
  this.timeout(30000);

  it('serves the default plant on --port until stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'takt-sim-cli-'));
    const port = await freePort();
    const sim = await spawnSimulator(['--port', String(port), '--pki', join(dir, 'pki')], dir);
    try {
      const client = testClient(join(dir, 'pki-client'));
      await client.connect(`opc.tcp://127.0.0.1:${port}/UA/Takt`);
      const s = await client.createSession();
      const r = await s.translateBrowsePath({
        startingNode: 'i=85',
        relativePath: {
          elements: ['Plant1', 'Line1', 'Packer1', 'State'].map((name) => ({
            referenceTypeId: 'i=33',
            isInverse: false,
            includeSubtypes: true,
            targetName: { namespaceIndex: 1, name },
          })),
        },
      });
      const dv = await s.read({ nodeId: r.targets![0].targetId, attributeId: AttributeIds.Value });
      assert.ok(['Running', 'Idle', 'Setup', 'Down'].includes(dv.value.value as string));
      await s.close();
      await client.disconnect();
    } finally {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops at start-up naming the bad field of a plant model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'takt-sim-cli-'));
    try {
      const plant = join(dir, 'plant.json');
      const model = JSON.parse(JSON.stringify(DEFAULT_PLANT));
      model.lines[0].machines[1].shaftRpm = -5;
      writeFileSync(plant, JSON.stringify(model));
      const r = spawnSync(
        process.execPath,
        [join(ROOT, 'dist/nodes/sim/cli.js'), '--plant', plant, '--port', '0'],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr, /lines\[0\]\.machines\[1\]\.shaftRpm must be >= 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
