/**
 * takt-mqtt-broker + takt-sparkplug-in against the simulator's Sparkplug B edge node, on the in-process
 * broker (aedes) and on Mosquitto (MQTT_URL, started by .ci/run): the reader starts after the births, so
 * it must ask for a rebirth before it can resolve aliases; a malformed payload is warned about and skipped;
 * stopping the simulator turns its metrics bad. Also: a broker restart (reconnect and resubscribe), an
 * unreachable broker, and bad configuration.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { startBroker, type TestBroker } from '../helpers/broker';
import { freePort, waitUntil } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus, statusesOf } from '../helpers/nodered';
import { requireServer } from '../helpers/servers';

/* eslint-disable @typescript-eslint/no-require-imports */
const brokerNode = require('../../nodes/mqtt/broker.node');
const inNode = require('../../nodes/mqtt/sparkplug-in.node');
/* eslint-enable @typescript-eslint/no-require-imports */
const NODES = [brokerNode, inNode];

interface SampleMsg {
  topic: string;
  payload: unknown;
  ts: number;
  quality: string;
}
interface BatchMsg {
  topic: string;
  payload: { topic: string; value: unknown; ts: number; quality: string }[];
  sparkplug: { type: string; group: string; edgeNode: string; device?: string; seq?: number };
}
type Status = { fill?: string; shape?: string; text?: string };

let groupNo = 0;
const uniqueGroup = () => `TaktSp${process.pid}x${Date.now() % 100000}x${groupNo++}`;

/** Every call of a node method (warn, error, status) from now on. */
function record<T>(id: string, method: string): T[] {
  const seen: T[] = [];
  getNode(id).on(`call:${method}`, ((c: { args: [T] }) => seen.push(c.args[0])) as never);
  return seen;
}

const flow = (url: string, group: string, inExtra: object = {}, more: object[] = []) => [
  { id: 'tab', type: 'tab' },
  {
    id: 'br',
    type: 'takt-mqtt-broker',
    url,
    keepalive: 10,
    reconnectPeriod: 200,
    reconnectMaxMs: 1000,
  },
  {
    id: 'in',
    z: 'tab',
    type: 'takt-sparkplug-in',
    broker: 'br',
    group,
    edgeNode: '+',
    device: '+',
    mode: 'metric',
    rebirth: true,
    rebirthInterval: 1,
    wires: [['out']],
    ...inExtra,
  },
  { id: 'out', z: 'tab', type: 'helper' },
  ...more,
];

function simOn(url: string, group: string): { runner: SimRunner; births: () => number } {
  const runner = new SimRunner(DEFAULT_PLANT, {
    seed: 4,
    timeFactor: 60,
    sparkplug: { url, groupId: group, edgeNodeId: 'Line1' },
  });
  let births = 0;
  runner.sparkplug!.on('birth', (n) => (births = n));
  return { runner, births: () => births };
}

/** The main scenario, run against each broker. */
async function readsTheSimulator(url: string): Promise<void> {
  const group = uniqueGroup();
  const { runner, births } = simOn(url, group);
  const pub = await mqtt.connectAsync(url, { protocolVersion: 4 });
  try {
    await runner.start();
    await waitUntil(() => births() === 1, 'the first birth', 10000);
    // The reader starts after the births: it sees aliases only and must ask for a rebirth.
    await load(
      NODES,
      flow(url, group, {}, [
        {
          id: 'cnc',
          z: 'tab',
          type: 'takt-sparkplug-in',
          broker: 'br',
          group,
          edgeNode: 'Line1',
          device: 'CNC1',
          mode: 'batch',
          rebirth: false,
          wires: [['batches']],
        },
        { id: 'batches', z: 'tab', type: 'helper' },
      ]),
    );
    const statuses = record<Status>('in', 'status');
    const warnings = record<string>('in', 'warn');
    const temp = `${group}/Line1/CNC1/Temperature`;
    const first = await nextMessages<SampleMsg>('out', 3, 15000, (m) => m.topic === temp);
    assert.ok(births() >= 2, 'the simulator was asked for a rebirth');
    for (const m of first) {
      assert.equal(typeof m.payload, 'number');
      assert.equal(m.quality, 'good');
      assert.ok(m.ts > Date.UTC(2020, 0, 1), 'epoch ms');
    }
    const line = await nextMessages<SampleMsg>('out', 200, 15000);
    const topics = new Set(line.map((m) => m.topic));
    for (const t of topics) assert.ok(t.startsWith(`${group}/Line1/`), t);
    assert.ok(
      [...topics].some((t) => t.startsWith(`${group}/Line1/Oven1/`)),
      'other machines resolve too',
    );
    await waitUntil(
      () => statuses.some((s) => s.fill === 'green' && s.text === '1 node, 73 metrics'),
      '"1 node, 73 metrics" (4 machines x 18 + the plant property)',
      5000,
    );

    // The device-filtered batch reader on the same broker connection (it does not ask for rebirths itself).
    const [batch] = await nextMessages<BatchMsg>('batches', 1, 10000);
    assert.equal(batch.topic, `${group}/Line1/CNC1`);
    assert.match(batch.sparkplug.type, /^D(BIRTH|DATA)$/);
    assert.ok(batch.payload.length > 0);
    for (const s of batch.payload) assert.ok(s.topic.startsWith(`${group}/Line1/CNC1/`), s.topic);

    // A malformed payload on a matching topic: a warning naming the topic; samples keep coming.
    const badTopic = `spBv1.0/${group}/DDATA/Line1/CNC1`;
    await pub.publishAsync(badTopic, Buffer.from('this is not protobuf {}'), { qos: 1 });
    await waitUntil(() => warnings.find((w) => /malformed/.test(w)), 'a malformed-payload warning', 5000);
    assert.ok(
      warnings.some((w) => w.includes(badTopic)),
      JSON.stringify(warnings),
    );
    assert.ok(
      statuses.some((s) => s.fill === 'yellow'),
      'yellow status after a malformed payload',
    );
    const after = await nextMessages<SampleMsg>('out', 5, 10000, (m) => m.topic === temp);
    assert.ok(after.every((m) => m.quality === 'good'));

    // The simulator stops (NDEATH with its bdSeq): its metrics come once more, bad.
    const bad = nextMessages<SampleMsg>('out', 73, 10000, (m) => m.quality === 'bad');
    await runner.stop();
    const dead = await bad;
    assert.ok(dead.some((m) => m.topic === temp && typeof m.payload === 'number'));
    assert.equal(new Set(dead.map((m) => m.topic)).size, 73, 'each metric once');
    // Joining late is normal: the rebirth is logged, not warned about; the only warning is the malformed one.
    assert.deepEqual(
      warnings.filter((w) => !w.includes(badTopic)),
      [],
    );
    await nextStatus('in', (s) => s.text === '0 nodes, 0 metrics', 5000);
  } finally {
    await runner.stop();
    await pub.endAsync();
  }
}

describe('takt-sparkplug-in against the simulator', function () {
  this.timeout(60000);
  afterEach(async () => {
    await helper.unload();
  });

  describe('with the in-process broker', () => {
    let broker: TestBroker;
    before(async () => (broker = await startBroker()));
    after(async () => broker.close());

    it('requests a rebirth, resolves aliases, skips a malformed payload and reports the death', () =>
      readsTheSimulator(broker.url));

    it('shares one client between readers and ends it with the last one', async () => {
      const group = uniqueGroup();
      const clientsBefore = broker.broker.connectedClients;
      await load(
        NODES,
        flow(broker.url, group, {}, [
          { id: 'in2', z: 'tab', type: 'takt-sparkplug-in', broker: 'br', group, wires: [[]] },
        ]),
      );
      await nextStatus('in', (s) => s.text === 'subscribed', 5000);
      assert.equal(broker.broker.connectedClients, clientsBefore + 1);
      await helper.unload();
      await waitUntil(
        () => broker.broker.connectedClients === clientsBefore,
        'the client to disconnect',
        5000,
      );
    });
  });

  describe('with Mosquitto (integration)', () => {
    let url: string;
    before(async function () {
      url = (await requireServer(this, 'Mosquitto', 'MQTT_URL', 'mqtt://127.0.0.1:1883')).url;
    });
    it('requests a rebirth, resolves aliases, skips a malformed payload and reports the death', () =>
      readsTheSimulator(url));
  });

  describe('connection faults', () => {
    it('shows the cause while the broker is unreachable, then connects and resubscribes', async () => {
      const port = await freePort();
      const url = `mqtt://127.0.0.1:${port}`;
      const group = uniqueGroup();
      await load(NODES, flow(url, group));
      const down = await nextStatus('in', (s) => s.fill === 'red', 5000);
      assert.deepEqual(down, { fill: 'red', shape: 'ring', text: 'refused' });

      // The broker comes up on that port: the reader connects, subscribes and reads the simulator.
      let aedes = await Aedes.createBroker();
      let server: Server = createServer(aedes.handle);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      const { runner } = simOn(url, group);
      try {
        await nextStatus('in', (s) => s.text === 'subscribed', 10000);
        await runner.start();
        await nextMessages<SampleMsg>('out', 1, 10000, (m) => m.topic === `${group}/Line1/Press1/Power`);

        // Broker restart: red ring, then data again without a redeploy (subscriptions made again).
        const lost = nextStatus('in', (s) => s.fill === 'red', 10000);
        await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
        await lost;
        aedes = await Aedes.createBroker();
        server = createServer(aedes.handle);
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
        const again = await nextMessages<SampleMsg>(
          'out',
          3,
          20000,
          (m) => m.topic === `${group}/Line1/Press1/Power` && m.quality === 'good',
        );
        assert.equal(typeof again[0].payload, 'number');
      } finally {
        await runner.stop();
        await helper.unload();
        await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
      }
    });

    it('passes the credentials and names a rejected password', async () => {
      const aedes = await Aedes.createBroker();
      aedes.authenticate = (_client, username, password, done) =>
        done(null, username === 'op' && password?.toString() === 'takt-pw');
      const server = createServer(aedes.handle);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const addr = server.address();
      const url = `mqtt://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
      try {
        await load(NODES, flow(url, 'G'), { br: { user: 'op', password: 'wrong' } });
        const st = await nextStatus('in', (s) => s.fill === 'red', 5000);
        assert.equal(st.text, 'not authorised');
        await helper.unload();
        await load(NODES, flow(url, 'G'), { br: { user: 'op', password: 'takt-pw' } });
        await nextStatus('in', (s) => s.text === 'subscribed', 5000);
      } finally {
        await helper.unload();
        await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
      }
    });

    it('refuses a bad configuration with a red ring', async () => {
      await load(NODES, [
        { id: 'tab', type: 'tab' },
        { id: 'br', type: 'takt-mqtt-broker', url: 'http://nowhere' },
        { id: 'in', z: 'tab', type: 'takt-sparkplug-in', broker: 'br', group: 'G', wires: [[]] },
        { id: 'in2', z: 'tab', type: 'takt-sparkplug-in', broker: 'nope', group: 'G', wires: [[]] },
        { id: 'in3', z: 'tab', type: 'takt-sparkplug-in', broker: 'br2', group: 'a/b', wires: [[]] },
        { id: 'br2', type: 'takt-mqtt-broker', url: 'mqtt://127.0.0.1:1' },
        { id: 'in4', z: 'tab', type: 'takt-sparkplug-in', broker: 'br3', group: 'G', wires: [[]] },
        {
          id: 'br3',
          type: 'takt-mqtt-broker',
          url: 'mqtts://127.0.0.1:1',
          usetls: true,
          caFile: '/no/ca.pem',
        },
      ]);
      // Statuses are set during construction: every one each node showed.
      assert.deepEqual(statusesOf('in'), [{ fill: 'red', shape: 'ring', text: 'bad config' }]);
      assert.deepEqual(statusesOf('in2'), [{ fill: 'red', shape: 'ring', text: 'no broker' }]);
      assert.deepEqual(statusesOf('in3'), [{ fill: 'red', shape: 'ring', text: 'bad config' }]);
      assert.deepEqual(statusesOf('in4'), [{ fill: 'red', shape: 'ring', text: 'bad config' }]);
    });
  });
});
