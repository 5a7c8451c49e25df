import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { LastValueBuffer, toUnsMessage } from '../../nodes/uns/uns';
import { startBroker, type TestBroker } from '../helpers/broker';
import { waitUntil } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { requireServer } from '../helpers/servers';

/* eslint-disable @typescript-eslint/no-require-imports */
const unsNode = require('../../nodes/uns/uns-out.node');
const brokerNode = require('../../nodes/mqtt/broker.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

const NOW = Date.UTC(2026, 10, 26, 8);

describe('uns engine', () => {
  it('makes a JSON payload with value, ts, quality and unit on the prefixed ISA-95 topic', () => {
    const m = toUnsMessage(
      {
        topic: 'line1/oven/temp',
        value: 181.2,
        ts: '2026-11-26T08:00:00Z',
        quality: 'GoodClamped',
        unit: '°C',
      },
      { prefix: 'acme/plant1', now: 0 },
    );
    assert.equal(m.topic, 'acme/plant1/line1/oven/temp');
    assert.deepEqual(JSON.parse(m.payload), { value: 181.2, ts: NOW, quality: 'good', unit: '°C' });
    assert.deepEqual(JSON.parse(toUnsMessage({ topic: 'a/b', value: 'Running' }, { now: NOW }).payload), {
      value: 'Running',
      ts: NOW,
      quality: 'good',
    });
  });

  it('refuses wildcards, empty segments and a missing value', () => {
    assert.throws(() => toUnsMessage({ topic: 'a/+/b', value: 1 }, { now: NOW }), /wildcard/);
    assert.throws(() => toUnsMessage({ topic: 'a//b', value: 1 }, { now: NOW }), /empty path segment/);
    assert.throws(() => toUnsMessage({ topic: 'a/b', value: undefined }, { now: NOW }), /needs a value/);
  });

  it('holds the last value per topic, in first-seen order, and counts what it supersedes or drops', () => {
    const b = new LastValueBuffer(2);
    b.put({ topic: 'a', payload: '1' });
    b.put({ topic: 'b', payload: '2' });
    b.put({ topic: 'a', payload: '3' });
    b.put({ topic: 'c', payload: '4' });
    assert.deepEqual(b.drain(), [
      { topic: 'a', payload: '3' },
      { topic: 'b', payload: '2' },
    ]);
    assert.deepEqual([b.superseded, b.dropped, b.size], [1, 1, 0]);
  });
});

async function retained(
  url: string,
  filter: string,
  count: number,
  protocolVersion: 4 | 5,
): Promise<Map<string, unknown>> {
  const seen = new Map<string, unknown>();
  const c = await mqtt.connectAsync(url, { protocolVersion });
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) seen.set(topic, JSON.parse(payload.toString()));
  });
  await c.subscribeAsync(filter, { qos: 1 });
  try {
    await waitUntil(() => seen.size >= count, `${count} retained values under ${filter}`, 10000);
  } finally {
    await c.endAsync();
  }
  return seen;
}

async function publishesRetained(url: string, root: string, protocolVersion: 4 | 5) {
  const u = new URL(url);
  await load(
    [unsNode, brokerNode, catchNode],
    [
      { id: 'tab', type: 'tab' },
      {
        id: 'b',
        type: 'takt-mqtt-broker',
        url: `mqtt://${u.hostname}:${u.port}`,
        protocolVersion: String(protocolVersion),
      },
      { id: 'u', z: 'tab', type: 'takt-uns-out', broker: 'b', prefix: root, qos: 1, retain: true },
      { id: 'c', z: 'tab', type: 'catch', scope: ['u'], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ],
  );
  getNode('u').receive({
    payload: [
      { topic: 'line1/oven/temp', value: 181.2, ts: NOW, unit: '°C' },
      { topic: 'line1/oven/state', value: 'Running', ts: NOW },
    ],
  });
  // Subscribe after the node published, so what arrives is what the broker retained.
  await nextStatus('u', (st) => st.text === 'published 2', 10000);
  const seen = await retained(url, `${root}/#`, 2, protocolVersion);
  assert.deepEqual(seen.get(`${root}/line1/oven/temp`), {
    value: 181.2,
    ts: NOW,
    quality: 'good',
    unit: '°C',
  });
  assert.deepEqual(seen.get(`${root}/line1/oven/state`), { value: 'Running', ts: NOW, quality: 'good' });
}

describe('takt-uns-out node', function () {
  this.timeout(30000);
  afterEach(async () => {
    await helper.unload();
  });

  describe('with the in-process broker', () => {
    let broker: TestBroker;
    beforeEach(async () => (broker = await startBroker()));
    afterEach(async () => broker.close());

    it('publishes retained JSON on the ISA-95 topics', () => publishesRetained(broker.url, 'acme', 4));

    it('checks every element of a batch: one that is not a sample refuses the whole message', async () => {
      const u = new URL(broker.url);
      await load(
        [unsNode, brokerNode, catchNode],
        [
          { id: 'tab', type: 'tab' },
          { id: 'b', type: 'takt-mqtt-broker', url: `mqtt://${u.hostname}:${u.port}` },
          { id: 'u', z: 'tab', type: 'takt-uns-out', broker: 'b', prefix: 'acme', qos: 1, retain: true },
          { id: 'c', z: 'tab', type: 'catch', scope: ['u'], uncaught: false, wires: [['caught']] },
          { id: 'caught', z: 'tab', type: 'helper' },
        ],
      );
      const caught = nextMessages<{ error: { message: string } }>('caught');
      getNode('u').receive({ topic: 'line1/oven/temp', payload: [{ value: 181.2, ts: NOW }, 7] });
      assert.match((await caught)[0].error.message, /payload\[1\]: a batch element needs a value/);
    });

    it('holds last values while the broker is away and publishes them when it is back', async () => {
      const port = broker.port;
      await broker.close();
      await load(
        [unsNode, brokerNode, catchNode],
        [
          { id: 'tab', type: 'tab' },
          {
            id: 'b',
            type: 'takt-mqtt-broker',
            url: `mqtt://127.0.0.1:${port}`,
            protocolVersion: '4',
            reconnectPeriod: 200,
            reconnectMaxMs: 500,
          },
          { id: 'u', z: 'tab', type: 'takt-uns-out', broker: 'b', prefix: 'acme', qos: 1, retain: true },
        ],
      );
      getNode('u').receive({ topic: 'line1/press/force', payload: 10, ts: NOW });
      getNode('u').receive({ topic: 'line1/press/force', payload: 12, ts: NOW + 1000 });
      // The broker comes back on the same port.
      const { Aedes } = await import('aedes');
      const { createServer } = await import('node:net');
      const aedes = await Aedes.createBroker();
      const server = createServer(aedes.handle);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
      try {
        // Once the node has reconnected and flushed, a new subscriber gets the held value as retained.
        await nextStatus('u', (st) => /^published/.test(st.text ?? ''), 10000);
        const seen = await retained(`mqtt://127.0.0.1:${port}`, 'acme/#', 1, 4);
        assert.deepEqual(seen.get('acme/line1/press/force'), { value: 12, ts: NOW + 1000, quality: 'good' });
      } finally {
        await helper.unload();
        await new Promise<void>((r) => aedes.close(() => server.close(() => r())));
      }
    });
  });

  describe('with Mosquitto (integration)', () => {
    let url: string;
    before(async function () {
      url = (await requireServer(this, 'Mosquitto', 'MQTT_URL', 'mqtt://127.0.0.1:1883')).url;
    });
    it('publishes retained JSON on the ISA-95 topics', () =>
      publishesRetained(url, `takt-uns-${process.pid}-${Date.now()}`, 5));
  });
});
