/**
 * The shared MQTT connection's pure parts (option checks, topic matching, error causes, back-off) and its
 * retry of refused subscriptions against an in-process broker.
 */
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import {
  backoffDelay,
  brokerUrls,
  checkBrokerOptions,
  describeMqttError,
  MqttBrokerConnection,
  topicMatches,
} from '../../nodes/mqtt/connection';
import { startBroker, type TestBroker } from '../helpers/broker';
import { waitUntil } from '../helpers/net';

describe('mqtt connection helpers', () => {
  it('matches topics against filters with + and # and shared subscriptions', () => {
    const yes: [string, string][] = [
      ['spBv1.0/G1/+/Line1', 'spBv1.0/G1/NDATA/Line1'],
      ['spBv1.0/G1/+/Line1/+', 'spBv1.0/G1/DDATA/Line1/CNC1'],
      ['spBv1.0/#', 'spBv1.0/G1/DDATA/Line1/CNC1'],
      ['a/#', 'a'],
      ['$share/edge/spBv1.0/+/+/+', 'spBv1.0/G/NDATA/N'],
      ['a/b', 'a/b'],
    ];
    const no: [string, string][] = [
      ['spBv1.0/G1/+/Line1', 'spBv1.0/G1/DDATA/Line1/CNC1'],
      ['spBv1.0/G1/+/Line1/+', 'spBv1.0/G1/NDATA/Line1'],
      ['spBv1.0/G1/+/Line1', 'spBv1.0/G2/NDATA/Line1'],
      ['+/x', '$SYS/x'],
      ['#', '$SYS/broker'],
      ['a/b', 'a/b/c'],
    ];
    for (const [f, t] of yes) assert.equal(topicMatches(f, t), true, `${f} ~ ${t}`);
    for (const [f, t] of no) assert.equal(topicMatches(f, t), false, `${f} !~ ${t}`);
  });

  it('checks broker options and generates a client id', () => {
    const o = checkBrokerOptions({ url: ' mqtt://127.0.0.1:1883 ' });
    assert.equal(o.url, 'mqtt://127.0.0.1:1883');
    assert.match(o.clientId ?? '', /^takt_[0-9a-f]{12}$/);
    assert.notEqual(checkBrokerOptions({ url: 'ws://h:9001/mqtt' }).clientId, o.clientId);
    assert.equal(checkBrokerOptions({ url: 'mqtts://h', clientId: 'line1-host' }).clientId, 'line1-host');
    assert.throws(() => checkBrokerOptions({ url: 'http://h' }), /must look like mqtt:\/\//);
    assert.throws(() => checkBrokerOptions({ url: 'mqtt://h', keepaliveSec: -1 }), /keepalive/);
    assert.throws(
      () => checkBrokerOptions({ url: 'mqtt://h', reconnectInitialMs: 5000, reconnectMaxMs: 1000 }),
      /back-off/,
    );
  });

  it('reads a failover list of broker URLs and keeps sessions only with a fixed client id', () => {
    assert.deepEqual(brokerUrls(' mqtt://a:1883, mqtt://b:1884 mqtt://c '), [
      'mqtt://a:1883',
      'mqtt://b:1884',
      'mqtt://c',
    ]);
    const o = checkBrokerOptions({
      url: 'mqtt://a:1883,mqtt://b:1884',
      cleanSession: false,
      clientId: 'box1',
    });
    assert.equal(o.url, 'mqtt://a:1883, mqtt://b:1884');
    assert.equal(o.cleanSession, false);
    assert.equal(checkBrokerOptions({ url: 'mqtt://a' }).cleanSession, true);
    assert.throws(() => checkBrokerOptions({ url: 'mqtt://a, http://b' }), /"http:\/\/b" must look like/);
    assert.throws(() => checkBrokerOptions({ url: ' , ' }), /must look like/);
    assert.throws(
      () => checkBrokerOptions({ url: 'mqtt://a', cleanSession: false }),
      (err: Error & { code?: string }) => err.code === 'mqtt.sessionNeedsId',
    );
    // Before the first attempt the connection names the first broker of the list.
    const c = new MqttBrokerConnection({ url: 'mqtt://a:1883, mqtt://b:1884' });
    assert.equal(c.server, 'mqtt://a:1883');
  });

  it('names the cause of a failure in under 20 characters', () => {
    const cases: [unknown, string][] = [
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1883'), { code: 'ECONNREFUSED' }), 'refused'],
      [new Error('Connection refused: Not authorized'), 'not authorised'],
      [new Error('Connection refused: Bad username or password'), 'not authorised'],
      [new Error('self-signed certificate in certificate chain'), 'cert not trusted'],
      [new Error('getaddrinfo ENOTFOUND broker.local'), 'host not found'],
      [new Error('connack timeout'), 'timed out'],
    ];
    for (const [err, label] of cases) {
      assert.equal(describeMqttError(err), label);
      assert.ok(label.length < 20);
    }
  });

  it('waits the initial back-off doubled per attempt (per round of a failover list) up to its cap, within 20 %', () => {
    const o = { reconnectInitialMs: 200, reconnectMaxMs: 1000 };
    for (const [attempt, base] of [
      [0, 200],
      [1, 400],
      [2, 800],
      [3, 1000],
      [40, 1000],
    ]) {
      const d = backoffDelay(attempt, o);
      assert.ok(d >= base * 0.8 && d <= base * 1.2, `attempt ${attempt}: ${d} ms`);
    }
    // Three brokers: each is tried at the initial wait before it doubles (once per round of the list).
    for (const [attempt, base] of [
      [0, 200],
      [2, 200],
      [3, 400],
      [5, 400],
      [6, 800],
      [9, 1000],
    ]) {
      const d = backoffDelay(attempt, o, 3);
      assert.ok(d >= base * 0.8 && d <= base * 1.2, `3 brokers, attempt ${attempt}: ${d} ms`);
    }
  });
});

describe('mqtt connection against an in-process broker', () => {
  let broker: TestBroker;
  let refusals = 0;
  // Holds back the PUBACK of the first publish on "hold/x" (the broker never answers it).
  const held: boolean[] = [];
  before(async () => {
    broker = await startBroker();
    broker.broker.authorizePublish = (_client, packet, done) => {
      if (packet.topic !== 'hold/x') return done(null);
      held.push(packet.dup);
      if (held.length > 1) done(null);
    };
    // Refuses the first two SUBSCRIBEs of "jobs/#" (as a nats-server node does while the JetStream consumer
    // waits for a leader), then grants it.
    broker.broker.authorizeSubscribe = (_client, sub, done) => {
      if (sub.topic === 'jobs/#' && refusals < 2) {
        refusals++;
        return done(null, null);
      }
      done(null, sub);
    };
  });
  after(async () => broker?.close());

  it('sends a QoS 1 publish again on the next connection when the last one dropped before its PUBACK', async () => {
    const conn = new MqttBrokerConnection({ url: broker.url, reconnectInitialMs: 50, reconnectMaxMs: 200 });
    try {
      conn.register({});
      await waitUntil(() => conn.connected, 'connected', 5000);
      let acked = false;
      const sent = conn.publish('hold/x', 'v', { qos: 1 }).then(() => (acked = true));
      await waitUntil(() => held.length === 1, 'the publish at the broker', 5000);
      conn.dropConnection('no PUBACK');
      await waitUntil(() => acked, 'the PUBACK of the publish sent again', 5000);
      await sent;
      assert.equal(held.length, 2, 'sent twice: once before the drop, once after'); // mqtt.js leaves dup unset
    } finally {
      await conn.close();
    }
  });

  it('reports a refused subscription, asks again after the back-off until granted, then delivers', async () => {
    const conn = new MqttBrokerConnection({ url: broker.url, reconnectInitialMs: 50, reconnectMaxMs: 200 });
    try {
      const user = {};
      const other = {};
      const events: (string | undefined)[] = [];
      conn.on('subscribed', (u, err) => {
        if (u === user) events.push(err ? (err as Error & { code?: string }).code : 'ok');
      });
      const got: string[] = [];
      conn.subscribe(user, ['jobs/#'], (_t, p) => void got.push(p.toString()), 1);
      conn.subscribe(other, ['other/#'], () => undefined, 1);
      await waitUntil(() => events.includes('ok'), 'the subscription granted', 10000);
      assert.deepEqual(events, ['mqtt.subscribeRefused', 'mqtt.subscribeRefused', 'ok']);
      assert.equal(refusals, 2);
      const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await pub.publishAsync('jobs/1', 'run', { qos: 1 });
      await pub.endAsync();
      await waitUntil(() => got.length === 1, 'the message on the granted subscription', 5000);
      assert.deepEqual(got, ['run']);
    } finally {
      await conn.close();
    }
  });
});
