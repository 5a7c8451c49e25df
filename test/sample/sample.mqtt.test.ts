/**
 * Plain MQTT into Takt: Node-RED's own `mqtt in` node subscribes to JSON topics and takt-sample turns
 * them into samples. Runs against the in-process broker always, and against Mosquitto (started by
 * .ci/run, MQTT_URL) as an integration test.
 */
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { startBroker, type TestBroker } from '../helpers/broker';
import { helper, load, nextMessages } from '../helpers/nodered';
import { requireServer } from '../helpers/servers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sampleNode = require('../../nodes/sample/sample.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');

interface SampleMsg {
  topic: string;
  payload: number;
  ts: number;
  quality: string;
}

async function mqttToSamples(url: string, root: string, protocolVersion: 4 | 5): Promise<void> {
  const u = new URL(url);
  await load(
    [mqttNodes, sampleNode],
    [
      { id: 'tab', type: 'tab' },
      {
        id: 'broker',
        type: 'mqtt-broker',
        broker: u.hostname,
        port: u.port || '1883',
        protocolVersion: String(protocolVersion),
      },
      {
        id: 'in',
        z: 'tab',
        type: 'mqtt in',
        broker: 'broker',
        topic: `${root}/#`,
        qos: '1',
        datatype: 'json',
        wires: [['s']],
      },
      { id: 's', z: 'tab', type: 'takt-sample', coerce: 'number', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ],
  );
  const client = await mqtt.connectAsync(url, { protocolVersion });
  try {
    // The mqtt in node subscribes asynchronously: publish a warm-up value until one comes through.
    const warm = nextMessages<SampleMsg>('out', 1, 10000);
    const timer = setInterval(() => void client.publishAsync(`${root}/warmup`, '1', { qos: 1 }), 100);
    await warm.finally(() => clearInterval(timer));
    const got = nextMessages<SampleMsg>('out', 2, 10000, (m) => !m.topic.endsWith('/warmup'));
    await client.publishAsync(
      `${root}/line1/oven/temp`,
      JSON.stringify({ value: 181.2, ts: '2026-11-26T08:00:00Z' }),
      {
        qos: 1,
      },
    );
    await client.publishAsync(`${root}/line1/oven/door`, '0', { qos: 1 });
    const msgs = (await got).sort((a, b) => a.topic.localeCompare(b.topic));
    assert.deepEqual(
      msgs.map((m) => [m.topic, m.payload, m.quality]),
      [
        [`${root}/line1/oven/door`, 0, 'good'],
        [`${root}/line1/oven/temp`, 181.2, 'good'],
      ],
    );
    assert.equal(msgs[1].ts, Date.UTC(2026, 10, 26, 8));
  } finally {
    await client.endAsync();
  }
}

describe('plain MQTT to samples', () => {
  afterEach(async () => {
    await helper.unload();
  });

  describe('with the in-process broker', () => {
    let broker: TestBroker;
    before(async () => (broker = await startBroker()));
    after(async () => broker.close());

    it('turns JSON and plain-number topics into samples', async () => {
      // aedes speaks MQTT 3.1.1.
      await mqttToSamples(broker.url, 'acme', 4);
    });
  });

  describe('with Mosquitto (integration)', () => {
    let url: string;
    before(async function () {
      url = (await requireServer(this, 'Mosquitto', 'MQTT_URL', 'mqtt://127.0.0.1:1883')).url;
    });

    it('turns JSON and plain-number topics into samples', async () => {
      await mqttToSamples(url, `takt-test-${process.pid}-${Date.now()}`, 5);
    });
  });
});
