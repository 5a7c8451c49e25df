/** takt-influx-query's engine against a real InfluxDB 1.x (INFLUX_V1_URL): chunked streaming, bound parameters. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { queryV1, type SeriesChunk, toSamples } from '../../nodes/influx/query';
import type { ServerOptions } from '../../nodes/influx/transport';
import { requireServer } from '../helpers/servers';
import { influxQl } from '../helpers/influx-db';

describe('influx query against InfluxDB 1.x', function () {
  this.timeout(60000);
  let url: string;
  const db = `takt_q_${randomUUID().slice(0, 8)}`;
  let server: ServerOptions;
  // Taken when the data is written, not when mocha loads the file: the queries look 10 minutes back, and in
  // a full run this file loads many minutes before it runs.
  let now = 0;
  before(async function () {
    now = Date.now();
    url = (await requireServer(this, 'InfluxDB 1.x', 'INFLUX_V1_URL', 'http://127.0.0.1:8086')).url;
    server = { url, api: 'v1', database: db };
    await influxQl(url, '', `CREATE DATABASE ${db}`);
    const lines: string[] = [];
    for (let i = 0; i < 2500; i++) lines.push(`temp,site=p1,line=l${i % 2} value=${i} ${now - 100000 + i}`);
    lines.push(`temp,site=p1,line=x'\\ OR\\ 1\\=1 value=-1 ${now - 1000}`);
    const res = await fetch(`${url}/write?db=${db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
    assert.equal(res.status, 204);
  });
  after(async () => {
    if (url) await influxQl(url, '', `DROP DATABASE ${db}`).catch(() => undefined);
  });

  const collect = async (gen: AsyncGenerator<SeriesChunk[]>) => {
    const chunks: SeriesChunk[][] = [];
    for await (const c of gen) chunks.push(c);
    return chunks;
  };

  it('streams a measurement filtered by tag in chunks', async () => {
    const chunks = await collect(
      queryV1(server, { start: '-10m', measurement: 'temp', tags: { line: 'l1' }, chunkSize: 500 }),
    );
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    const samples = chunks.flatMap((c) => toSamples(c, ['site', 'line', 'measurement']));
    assert.equal(samples.length, 1250);
    assert.ok(
      samples.every(
        (s) => s.topic === 'p1/l1/temp' && typeof s.value === 'number' && (s.value as number) % 2 === 1,
      ),
    );
  });

  it('treats a tag value as data, not as query text', async () => {
    const chunks = await collect(
      queryV1(server, { start: '-10m', measurement: 'temp', tags: { line: "x' OR 1=1" } }),
    );
    const samples = chunks.flatMap((c) => toSamples(c, ['site', 'line', 'measurement']));
    assert.deepEqual(
      samples.map((s) => s.value),
      [-1],
    );
  });

  it('runs a raw InfluxQL query with bound parameters', async () => {
    const chunks = await collect(
      queryV1(server, {
        start: '-10m',
        raw: 'SELECT count(value) FROM temp WHERE time >= $start AND value >= $min',
        params: { min: 2000 },
      }),
    );
    assert.equal(chunks[0][0].values[0][1], 500);
  });

  it('reports a query error clearly', async () => {
    await assert.rejects(
      collect(queryV1(server, { start: '-10m', raw: 'SELEC nonsense' })),
      /query: .*error parsing query/,
    );
  });
});
