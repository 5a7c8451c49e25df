/**
 * takt-sim's Sparkplug edge node with a list of brokers fails over like takt-mqtt-broker (it is the same
 * connection, mqtt/connection.ts): two Mosquitto brokers of the test's own on free ports; the one the edge
 * node is on is killed, the edge node moves to the other and is born there in a new session (next bdSeq),
 * its data goes on there, and it moves back when that one dies in turn.
 */
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { codec } from '../../nodes/mqtt/codec';
import { DEFAULT_PLANT } from '../../nodes/sim/model';
import { SimRunner } from '../../nodes/sim/runner';
import { type Mosquitto, requireMosquitto, startMosquitto } from '../helpers/mosquitto';
import { waitUntil } from '../helpers/net';

interface Seen {
  broker: number;
  kind: string;
  seq: number;
  bdSeq?: number;
}

const GROUP = 'FailoverTest';

/** A host application on one broker, noting every Sparkplug message of the group; reconnects by itself. */
function watch(url: string, broker: number, seen: Seen[]): mqtt.MqttClient {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 200, connectTimeout: 2000 });
  c.on('connect', () => void c.subscribe(`spBv1.0/${GROUP}/#`, { qos: 1 }));
  c.on('error', () => undefined); // refused while its broker is down: it retries
  c.on('message', (topic, payload) => {
    const kind = topic.split('/')[2];
    if (kind === 'NCMD' || kind === 'DCMD') return;
    const p = codec.decodePayload(new Uint8Array(payload));
    const bd = p.metrics?.find((m) => m.name === 'bdSeq')?.value;
    seen.push({ broker, kind, seq: Number(p.seq), ...(bd !== undefined ? { bdSeq: Number(bd) } : {}) });
  });
  return c;
}

describe('sim Sparkplug edge node fails over between brokers', function () {
  // Two brokers started and killed by the test; generous for a loaded two-core machine.
  this.timeout(90000);
  let brokers: Mosquitto[] = [];
  let watchers: mqtt.MqttClient[] = [];
  let runner: SimRunner | undefined;

  before(function () {
    requireMosquitto(this);
  });
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await Promise.all(watchers.map((w) => w.endAsync(true)));
    watchers = [];
    await Promise.all(brokers.map((b) => b.stop()));
    brokers = [];
  });

  it('takes several broker URLs, moves to the next one when its broker dies and is born there', async () => {
    brokers = [await startMosquitto(), await startMosquitto()];
    const seen: Seen[] = [];
    watchers = brokers.map((b, i) => watch(b.url, i, seen));
    await waitUntil(() => watchers.every((w) => w.connected), 'the watchers to connect', 15000);
    const warnings: string[] = [];
    runner = new SimRunner(DEFAULT_PLANT, {
      seed: 5,
      timeFactor: 60,
      sparkplug: { url: `${brokers[0].url}, ${brokers[1].url}`, groupId: GROUP, edgeNodeId: 'Line1' },
    });
    runner.on('warning', (e) => warnings.push(e.message));
    await runner.start();
    const on = (broker: number, kind: string) => seen.filter((s) => s.broker === broker && s.kind === kind);

    // Born on the first broker of the list, data flows there.
    await waitUntil(
      () => on(0, 'NBIRTH').length === 1 && on(0, 'DDATA').length > 0,
      'birth and data on 1',
      20000,
    );
    assert.equal(runner.sparkplug!.server, brokers[0].url);
    assert.equal(on(1, 'NBIRTH').length, 0, 'nothing on the second broker yet');
    const bd0 = on(0, 'NBIRTH')[0].bdSeq!;

    // Its broker dies: the edge node moves to the second one and is born there in a new session.
    await brokers[0].kill();
    await waitUntil(() => on(1, 'NBIRTH').length === 1, 'a birth on the second broker', 30000);
    const birth1 = on(1, 'NBIRTH')[0];
    assert.equal(birth1.seq, 0);
    assert.ok(birth1.bdSeq! > bd0, `bdSeq ${birth1.bdSeq} after ${bd0}`);
    assert.equal(on(1, 'DBIRTH').length, 4, 'every machine born again');
    await waitUntil(() => on(1, 'DDATA').length > 0, 'data on the second broker', 20000);
    assert.equal(runner.sparkplug!.server, brokers[1].url);
    assert.ok(
      warnings.some((w) => w.includes(brokers[0].url)),
      `the outage is warned, naming the broker: ${warnings.join('; ')}`,
    );

    // The first broker comes back and the second dies: back to the first.
    await brokers[0].restart();
    await waitUntil(() => watchers[0].connected, 'the first watcher to reconnect', 15000);
    const before = on(0, 'NBIRTH').length;
    await brokers[1].kill();
    await waitUntil(() => on(0, 'NBIRTH').length > before, 'a birth on the first broker again', 30000);
    assert.ok(on(0, 'NBIRTH').at(-1)!.bdSeq! > birth1.bdSeq!);
  });

  it('refuses a broker list with a URL that is not one, naming it', () => {
    assert.throws(
      () =>
        new SimRunner(DEFAULT_PLANT, {
          sparkplug: { url: 'mqtt://127.0.0.1:1883, 127.0.0.1:1884', groupId: GROUP, edgeNodeId: 'Line1' },
        }),
      (e: Error & { code?: string }) => e.code === 'mqtt.badUrl' && e.message.includes('127.0.0.1:1884'),
    );
  });
});
