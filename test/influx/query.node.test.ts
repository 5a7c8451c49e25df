/** takt-influx-query in Node-RED against a real InfluxDB 1.x (INFLUX_V1_URL): chunks, CSV, errors. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { requireServer } from '../helpers/servers';
import { influxQl } from '../helpers/influx-db';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const serverNode = require('../../nodes/influx/server.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const queryNode = require('../../nodes/influx/influx-query.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

interface ChunkMsg {
  payload: unknown;
  chunk: { index: number; last: boolean; rows: number };
}

describe('takt-influx-query node', function () {
  this.timeout(60000);
  let url: string;
  const db = `takt_qn_${randomUUID().slice(0, 8)}`;
  before(async function () {
    url = (await requireServer(this, 'InfluxDB 1.x', 'INFLUX_V1_URL', 'http://127.0.0.1:8086')).url;
    await influxQl(url, '', `CREATE DATABASE ${db}`);
    const now = Date.now();
    const lines = Array.from({ length: 300 }, (_, i) => `force,site=p1,line=l1 value=${i} ${now - 5000 + i}`);
    assert.equal(
      (await fetch(`${url}/write?db=${db}&precision=ms`, { method: 'POST', body: lines.join('\n') })).status,
      204,
    );
  });
  after(async () => {
    await helper.unload();
    if (url) await influxQl(url, '', `DROP DATABASE ${db}`).catch(() => undefined);
  });
  afterEach(() => helper.unload());

  const flow = (q: object) => [
    { id: 'tab', type: 'tab' },
    { id: 'srv', type: 'takt-influx-server', url, api: 'v1', database: db },
    {
      id: 'q',
      z: 'tab',
      type: 'takt-influx-query',
      server: 'srv',
      measurement: 'force',
      chunkSize: 100,
      wires: [['out']],
      ...q,
    },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: ['q'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  it('sends samples in chunks and marks the last one', async () => {
    await load([serverNode, queryNode, catchNode], flow({ levels: 'site/line/measurement' }));
    const got = nextMessages<ChunkMsg>('out', 3, 20000);
    getNode('q').receive({ start: '-1m', tags: { line: 'l1' } });
    const msgs = await got;
    assert.deepEqual(
      msgs.map((m) => [m.chunk.index, m.chunk.rows, m.chunk.last]),
      [
        [0, 100, false],
        [1, 100, false],
        [2, 100, true],
      ],
    );
    const first = (msgs[0].payload as { topic: string; value: number }[])[0];
    assert.equal(first.topic, 'p1/l1/force');
    assert.equal(first.value, 0);
  });

  it('writes CSV with one header', async () => {
    await load([serverNode, queryNode, catchNode], flow({ output: 'csv', chunkSize: 1000 }));
    const got = nextMessages<ChunkMsg>('out', 1, 20000);
    getNode('q').receive({ start: '-1m' });
    const [m] = await got;
    const lines = (m.payload as string).trim().split('\n');
    assert.equal(lines.length, 301);
    assert.equal(lines[0], 'ts,measurement,line,site,value');
    assert.match(lines[1], /^\d+,force,l1,p1,0$/);
  });

  it('reports a bad query to a Catch node with a red status', async () => {
    await load([serverNode, queryNode, catchNode], flow({}));
    const caught = nextMessages<{ error: { message: string } }>('caught', 1, 20000);
    const red = nextStatus('q', (s) => s.fill === 'red');
    getNode('q').receive({ start: '-1m', query: 'SELEC x' });
    assert.match((await caught)[0].error.message, /error parsing query/);
    await red;
  });
});
