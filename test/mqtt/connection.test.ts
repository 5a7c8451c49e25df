/** The shared MQTT connection's pure parts: option checks, topic matching, error causes. */
import assert from 'node:assert/strict';
import {
  brokerUrls,
  checkBrokerOptions,
  describeMqttError,
  MqttBrokerConnection,
  topicMatches,
} from '../../nodes/mqtt/connection';

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
});
