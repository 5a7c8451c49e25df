/**
 * takt-mqtt-broker's connection on a real three-node nats-server cluster (MQTT 3.1.1, JetStream sessions):
 * it fails over when its broker node is killed, keeps its session (clean session off, QoS 1) so nothing
 * published meanwhile is lost, and acknowledges a message only once its handler has stored it.
 *
 * What a killed node costs on nats-server 2.9 (see the README's edge section): until the JetStream assets it
 * led have new leaders (about 5-10 s), a node cannot store a QoS 1 message, load a session or make the
 * consumer of a new subscription; it then closes the publisher's connection after 4 s without a PUBACK
 * and refuses the subscription (SUBACK 0x80). So every client here is takt's failover connection, which
 * sends unacknowledged publishes again on its next connection and asks again for refused subscriptions.
 * Every test starts on a whole, healthy cluster: a node killed by an earlier test (also a failed one) is
 * started again first.
 */
import assert from 'node:assert/strict';
import { type MessageHandler, MqttBrokerConnection } from '../../nodes/mqtt/connection';
import { type NatsCluster, requireNatsServer, startNatsCluster } from '../helpers/nats-cluster';
import { waitUntil } from '../helpers/net';

/** Subscribes a user and resolves once the broker has granted every filter (refusals are asked again). */
function subscribed(
  conn: MqttBrokerConnection,
  user: object,
  filters: string[],
  handler: MessageHandler,
  timeoutMs = 30000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let last = '';
    const timer = setTimeout(() => {
      conn.off('subscribed', on);
      reject(new Error(`${filters.join(', ')} not granted in ${timeoutMs} ms ${last}`));
    }, timeoutMs);
    const on = (u: object, err: Error | undefined) => {
      if (u !== user) return;
      if (err) return void (last = `(last: ${err.message})`);
      clearTimeout(timer);
      conn.off('subscribed', on);
      resolve();
    };
    conn.on('subscribed', on);
    conn.subscribe(user, filters, handler, 1);
  });
}

describe('mqtt failover on a nats-server cluster', function () {
  this.timeout(120000);
  let cluster: NatsCluster;
  const open: MqttBrokerConnection[] = [];

  before(async function () {
    requireNatsServer(this);
    this.timeout(300000); // two attempts at forming a cluster (test/helpers/nats-cluster.ts)
    cluster = await startNatsCluster(3);
  });
  beforeEach(async () => {
    for (const [i, n] of cluster.nodes.entries()) if (!n.proc) await cluster.restart(i);
    await cluster.waitHealthy();
  });
  afterEach(async function () {
    // A failure says what the cluster looked like: leaders and replicas of every JetStream asset.
    if (this.currentTest?.state === 'failed') console.log(await cluster.describe());
    for (const c of open.splice(0)) await c.close();
  });
  after(async () => cluster?.stop());

  const connect = (urls: string[], clientId?: string, cleanSession = true) => {
    const conn = new MqttBrokerConnection({
      url: urls.join(', '),
      ...(clientId ? { clientId } : {}),
      cleanSession,
      reconnectInitialMs: 200,
      reconnectMaxMs: 1000,
    });
    open.push(conn);
    return conn;
  };

  /** A publisher on the given nodes; `send` resolves on the PUBACK, publishing again while disconnected. */
  const publisher = (urls: string[]) => {
    const conn = connect(urls);
    conn.register({});
    const send = async (topic: string, payload: string) => {
      const deadline = Date.now() + 60000;
      for (;;) {
        try {
          return await conn.publish(topic, payload, { qos: 1 });
        } catch (err) {
          // Refused at once while not connected (a publish in flight when the connection drops is kept by
          // the client and sent again on the next one).
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    return { conn, send };
  };

  it('moves to another node when its node dies and receives every QoS 1 message once in all', async () => {
    // The node to kill leads the stream that stores QoS 1 messages: the worst case, where no node can
    // store a message nor load the session until the survivors have elected new leaders.
    const victim = await cluster.leaderOf('$MQTT_msgs');
    assert.ok(victim >= 0, 'the $MQTT_msgs stream has a leader');
    const others = [1, 2].map((k) => (victim + k) % 3);
    const conn = connect(
      [victim, ...others].map((i) => cluster.urls[i]),
      'fleet-test-box1',
      false,
    );
    const got = new Map<number, number>();
    await subscribed(conn, {}, ['fleet/t1/#'], (_t, p) => {
      const i = Number(p.toString());
      got.set(i, (got.get(i) ?? 0) + 1);
    });
    const first = conn.server;
    assert.equal(first, cluster.urls[victim]);
    const pub = publisher([others[1], others[0]].map((i) => cluster.urls[i]));
    const total = 400;
    for (let i = 0; i < total; i++) {
      await pub.send('fleet/t1/x', String(i));
      if (i === 100) cluster.kill(victim);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    await waitUntil(() => got.size === total, `all ${total} messages (have ${got.size})`, 60000);
    assert.notEqual(conn.server, first, 'moved to another node');
    assert.ok(conn.connected);
    const missing = [...Array(total).keys()].filter((i) => !got.has(i));
    assert.deepEqual(missing, []);
  });

  it('keeps the session across a restart of the client: what arrived meanwhile is handed over', async () => {
    const urls = cluster.urls;
    const box = connect(urls, 'fleet-test-box2', false);
    const user = {};
    await subscribed(box, user, ['fleet/t2/#'], () => undefined);
    await box.close();
    const pub = publisher([urls[1]]);
    for (let i = 0; i < 50; i++) await pub.send('fleet/t2/x', String(i));
    const got: number[] = [];
    const again = connect(urls, 'fleet-test-box2', false);
    await subscribed(again, user, ['fleet/t2/#'], (_t, p) => void got.push(Number(p.toString())));
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
    const urls = [cluster.urls[1]];
    const box = connect(urls, 'fleet-test-box3', false);
    const user = {};
    const first: string[] = [];
    // The handler never finishes storing: the box "dies" before the message is on its disk.
    await subscribed(box, user, ['fleet/t3/#'], (_t, p) => {
      first.push(p.toString());
      return new Promise(() => undefined);
    });
    const pub = publisher([cluster.urls[2]]);
    await pub.send('fleet/t3/x', 'unstored');
    await waitUntil(() => first.length === 1, 'the first delivery', 10000);
    await box.close();
    const again: string[] = [];
    const next = connect(urls, 'fleet-test-box3', false);
    await subscribed(next, user, ['fleet/t3/#'], (_t, p) => void again.push(p.toString()));
    await waitUntil(() => again.length >= 1, 'the message delivered again', 20000);
    assert.deepEqual(again, ['unstored']);
  });
});
