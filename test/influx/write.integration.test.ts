/**
 * Writing to real servers: VictoriaMetrics through the v2 API (/api/v2/write) and /write, and InfluxDB 1.x
 * through the v1 API; every test queries the data back. `.ci/run` starts both servers and exports
 * INFLUX_V2_URL (VictoriaMetrics) and INFLUX_V1_URL (InfluxDB 1.x).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackslashMode, encodePoint, type Point } from '../../nodes/influx/line-protocol';
import { defaultMapping, sampleToPoint } from '../../nodes/influx/mapping';
import { httpTarget, type ServerOptions } from '../../nodes/influx/transport';
import { InfluxWriter, type WriterOptions } from '../../nodes/influx/writer';
import { waitUntil } from '../helpers/net';
import { requireServer } from '../helpers/servers';
import { influxQl, vmCount, vmSeries } from '../helpers/influx-db';

const run = () => randomUUID().slice(0, 8);
const NOW = Date.now();

function writerFor(server: ServerOptions, dir: string, over: Partial<WriterOptions> = {}): InfluxWriter {
  return new InfluxWriter({
    target: httpTarget(server),
    queue: { dir, maxBytes: 64e6, maxAgeMs: 3600e3, policy: 'drop-oldest' },
    batchSize: 1000,
    flushIntervalMs: 100,
    maxInFlight: 2,
    maxPending: 8,
    retry: { initialMs: 50, maxMs: 500, factor: 2, jitter: 0.5 },
    ...over,
  });
}

function writeSamples(w: InfluxWriter, n: number, tag: string, mode: BackslashMode = 'escape'): void {
  const m = defaultMapping({ extraTags: { run: tag } });
  for (let i = 0; i < n; i++) {
    const p = sampleToPoint(
      { topic: `acme/p1/press/l${i % 4}/c1/force`, value: i * 0.5, ts: NOW - n + i, quality: 'good' },
      m,
    );
    w.add(encodePoint(p, mode));
  }
}

describe('influx writer against real servers', function () {
  this.timeout(60000);
  let dir: string;
  const writers: InfluxWriter[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'takt-influx-it-'))));
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });
  const keep = (w: InfluxWriter) => (writers.push(w), w);

  describe('VictoriaMetrics', () => {
    let url: string;
    before(async function () {
      url = (await requireServer(this, 'VictoriaMetrics', 'INFLUX_V2_URL', 'http://127.0.0.1:8428')).url;
    });

    it('writes 10,000 samples through the v2 API (gzip) and they all come back', async () => {
      const tag = run();
      const w = keep(
        writerFor({ url, api: 'v2', org: 'takt', bucket: 'plant', token: 'unused', gzip: true }, dir),
      );
      writeSamples(w, 10000, tag);
      assert.equal(await w.drained(30000), true);
      assert.equal(w.stats().written, 10000);
      await waitUntil(
        async () => (await vmCount(url, 'force_value', { run: tag })) === 10000,
        'all points in VictoriaMetrics',
        30000,
        250,
      );
    });

    it('writes through the v1 /write API', async () => {
      const tag = run();
      const w = keep(writerFor({ url, api: 'v1', database: 'takt' }, dir));
      writeSamples(w, 2000, tag);
      assert.equal(await w.drained(30000), true);
      await waitUntil(
        async () => (await vmCount(url, 'force_value', { run: tag })) === 2000,
        'all points',
        30000,
        250,
      );
    });

    it('keeps spaces, commas, equals signs, backslashes and unicode in names intact', async () => {
      const tag = run();
      const w = keep(writerFor({ url, api: 'v2', org: 'takt', bucket: 'plant' }, dir));
      const p: Point = {
        measurement: 'esc meas,x',
        tags: { run: tag, 'a b': 'c,d=e', path: 'C:\\data\\x', name: 'Größe °C 温度' },
        fields: { 'f=1': 2.5 },
        ts: NOW,
      };
      w.add(encodePoint(p));
      assert.equal(await w.drained(30000), true);
      const series = await waitUntil(
        async () => {
          const s = await vmSeries(url, `{run=${JSON.stringify(tag)}}`);
          return s.length ? s : undefined;
        },
        'the series',
        30000,
        250,
      );
      assert.equal(series.length, 1);
      assert.equal(series[0].__name__, 'esc meas,x_f=1');
      assert.equal(series[0]['a b'], 'c,d=e');
      assert.equal(series[0].path, 'C:\\data\\x');
      assert.equal(series[0].name, 'Größe °C 温度');
    });
  });

  describe('InfluxDB 1.x', () => {
    let url: string;
    const db = `takt_${run()}`;
    before(async function () {
      url = (await requireServer(this, 'InfluxDB 1.x', 'INFLUX_V1_URL', 'http://127.0.0.1:8086')).url;
      await influxQl(url, '', `CREATE DATABASE ${db}`);
    });
    after(async () => {
      if (url) await influxQl(url, '', `DROP DATABASE ${db}`).catch(() => undefined);
    });

    it('writes 10,000 samples through the v1 API and counts them back', async () => {
      const tag = run();
      const w = keep(writerFor({ url, api: 'v1', database: db, gzip: true }, dir));
      writeSamples(w, 10000, tag, 'literal');
      assert.equal(await w.drained(30000), true);
      const r = await influxQl(url, db, 'SELECT count(value) FROM force WHERE run = $run', { run: tag });
      assert.equal(r.series?.[0].values[0][1], 10000);
    });

    it('keeps special characters in names and string fields intact', async () => {
      const tag = run();
      const w = keep(writerFor({ url, api: 'v1', database: db }, dir));
      w.add(
        encodePoint(
          {
            measurement: 'esc meas,x',
            tags: { run: tag, 'a b': 'c,d=e', path: 'C:\\data\\x', name: 'Größe °C' },
            fields: { note: 'say "hi" \\ bye, a=b\nline 2', 'f=1': 1.5 },
            ts: NOW,
          },
          'literal',
        ),
      );
      assert.equal(await w.drained(30000), true);
      const r = await influxQl(url, db, 'SELECT * FROM "esc meas,x" WHERE run = $run', { run: tag });
      const s = r.series?.[0];
      assert.ok(s);
      const row = Object.fromEntries(s.columns.map((c, i) => [c, s.values[0][i]]));
      assert.equal(row.note, 'say "hi" \\ bye, a=b\nline 2');
      assert.equal(row['a b'], 'c,d=e');
      assert.equal(row.path, 'C:\\data\\x');
      assert.equal(row.name, 'Größe °C');
      assert.equal(row['f=1'], 1.5);
    });

    it('counts a batch the server refuses (field type conflict) and keeps writing', async () => {
      const tag = run();
      const drops: string[] = [];
      const w = keep(
        writerFor({ url, api: 'v1', database: db }, dir, {
          batchSize: 1,
          onDrop: (r, n, d) => drops.push(`${r} ${n} ${d}`),
        }),
      );
      w.add(`conflict,run=${tag} v=1 ${NOW}`);
      assert.equal(await w.drained(30000), true);
      w.add(`conflict,run=${tag} v="text" ${NOW + 1}`);
      assert.equal(await w.drained(30000), true);
      w.add(`conflict,run=${tag} v=3 ${NOW + 2}`);
      assert.equal(await w.drained(30000), true);
      assert.equal(drops.length, 1);
      assert.match(drops[0], /^rejected 1 HTTP 400/);
      assert.equal(w.stats().dropped.rejected, 1);
      const r = await influxQl(url, db, 'SELECT count(v) FROM conflict WHERE run = $run', { run: tag });
      assert.equal(r.series?.[0].values[0][1], 2);
    });

    it('holds the data while the database is missing and writes it once it exists', async () => {
      const late = `takt_late_${run()}`;
      const w = keep(writerFor({ url, api: 'v1', database: late }, dir));
      writeSamples(w, 500, 'late', 'literal');
      await waitUntil(
        () => w.stats().queued === 500 && w.stats().lastError !== undefined,
        'points held in the log after a failed write',
        30000,
        50,
      );
      assert.match(w.stats().lastError ?? '', /404|database not found/);
      await influxQl(url, '', `CREATE DATABASE ${late}`);
      try {
        await waitUntil(
          () => w.stats().written === 500,
          'points written after the database appeared',
          30000,
          50,
        );
        const r = await influxQl(url, late, 'SELECT count(value) FROM force');
        assert.equal(r.series?.[0].values[0][1], 500);
      } finally {
        await influxQl(url, '', `DROP DATABASE ${late}`);
      }
    });
  });
});
