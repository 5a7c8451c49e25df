/**
 * takt-influx-out in Node-RED (node-red-node-test-helper) writing to the real VictoriaMetrics
 * (INFLUX_V2_URL): samples and analytics results arrive; bad input goes to a Catch node with a red status
 * and the node keeps working; with the server away, a redeploy keeps the log on disk and writes it later.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { requireServer } from '../helpers/servers';
import type { InfluxOutNode } from '../../nodes/influx/server-types';
import { vmCount } from '../helpers/influx-db';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const serverNode = require('../../nodes/influx/server.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const outNode = require('../../nodes/influx/out.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

const flow = (url: string, out: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 'srv',
    type: 'takt-influx-server',
    url,
    api: 'v2',
    org: 'takt',
    bucket: 'plant',
    gzip: true,
    timeout: 2000,
  },
  { id: 'o', z: 'tab', type: 'takt-influx-out', server: 'srv', batchSize: 100, flushInterval: 50, ...out },
  { id: 'c', z: 'tab', type: 'catch', scope: ['o'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

describe('takt-influx-out node', function () {
  this.timeout(60000);
  let url: string;
  let userDir: string;
  before(async function () {
    url = (await requireServer(this, 'VictoriaMetrics', 'INFLUX_V2_URL', 'http://127.0.0.1:8428')).url;
  });
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-influx-node-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('writes samples and SPC results that come back from the server', async () => {
    await load([serverNode, outNode, catchNode], flow(url));
    const run = randomUUID().slice(0, 8);
    const o = getNode('o');
    const now = Date.now();
    for (let i = 0; i < 250; i++) {
      o.receive({ topic: `acme/${run}/press/l1/c1/temp`, payload: 20 + i / 10, ts: now - 1000 + i });
    }
    o.receive({
      topic: `acme/${run}/press/l1/c1/force`,
      payload: 12,
      ts: now,
      spc: { phase: 2, stat: 12, ucl: 13, lcl: 11, violations: [1] },
    });
    await waitUntil(
      async () => (await vmCount(url, 'temp_value', { site: run })) === 250,
      'samples stored',
      30000,
      250,
    );
    await waitUntil(
      async () => (await vmCount(url, 'spc_ucl', { site: run, source: 'force' })) === 1,
      'SPC point stored',
      30000,
      250,
    );
    await nextStatus('o', (s) => s.fill === 'green' && /^\d+(\.\d)?k?\/s q:0 d:0$/.test(s.text ?? ''), 5000);
  });

  it('refuses bad input with a clear error and red status, and keeps taking data', async () => {
    await load([serverNode, outNode, catchNode], flow(url, { valueType: 'number' }));
    const o = getNode('o');
    const bad: [object, RegExp][] = [
      [{ topic: 'a/b/temp', payload: 'open' }, /not a number/],
      [{ topic: 'a/b/temp', payload: 1, measurement: ' ' }, /measurement/],
      [{ payload: { measurement: 'm', tags: { t: 'a\nb' }, fields: { v: 1 } } }, /line break/],
      [{ topic: 'a/b/temp', payload: 1, ts: 1e17 }, /timestamp|time range/],
    ];
    for (const [msg, re] of bad) {
      const caught = nextMessages<{ error: { message: string } }>('caught', 1);
      const red = nextStatus('o', (s) => s.fill === 'red' && s.shape === 'dot');
      o.receive(msg);
      const [c] = await caught;
      assert.match(c.error.message, re);
      await red;
    }
    const run = randomUUID().slice(0, 8);
    o.receive({ topic: `acme/${run}/x/l/c/ok`, payload: 1, ts: Date.now() });
    await waitUntil(
      async () => (await vmCount(url, 'ok_value', { site: run })) === 1,
      'the good point',
      30000,
      250,
    );
  });

  it('keeps points on disk across a redeploy while the server is away', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    await load([serverNode, outNode, catchNode], flow(down));
    const run = randomUUID().slice(0, 8);
    const now = Date.now();
    for (let i = 0; i < 120; i++)
      getNode('o').receive({ topic: `acme/${run}/x/l/c/held`, payload: i, ts: now - 500 + i });
    await nextStatus('o', (s) => s.fill === 'red' && s.shape === 'ring', 10000);
    await helper.unload();
    const dir = join(userDir, 'takt', 'influx-queue', 'o');
    assert.ok(readdirSync(dir).length > 0);
    await load([serverNode, outNode, catchNode], flow(url));
    await waitUntil(
      async () => (await vmCount(url, 'held_value', { site: run })) === 120,
      'queued points written',
      30000,
      250,
    );
    // Confirmed points leave the log: only the segment being appended to and the acks file stay.
    await waitUntil(
      () => (getNode('o') as unknown as InfluxOutNode).writer?.stats().queued === 0,
      'log confirmed',
      10000,
      100,
    );
    await helper.unload();
    assert.deepEqual(readdirSync(dir), ['acks']);
  });
});
