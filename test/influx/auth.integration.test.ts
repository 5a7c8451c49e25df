/**
 * Wrong credentials (HTTP 401) against a real InfluxDB 1.x with authentication on (a private influxd the
 * test starts): the writer keeps every point in its queue and says why; after a restart with the right
 * password every point is written.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpTarget } from '../../nodes/influx/transport';
import { InfluxWriter } from '../../nodes/influx/writer';
import { waitUntil } from '../helpers/net';
import { InfluxAuthProcess } from '../helpers/influx-db';

const BASIC = `Basic ${Buffer.from('admin:right').toString('base64')}`;

function hasInfluxd(): boolean {
  try {
    execFileSync(process.env.INFLUXD_BIN || 'influxd', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('influx writer: wrong credentials (401)', function () {
  this.timeout(60000);
  let root: string;
  let influx: InfluxAuthProcess;
  before(async function () {
    if (!hasInfluxd()) {
      if (process.env.CI === 'true') throw new Error('CI=true and influxd is not installed');
      console.warn('      skipped: influxd is not installed');
      this.skip();
    }
    root = mkdtempSync(join(tmpdir(), 'takt-influx-auth-'));
    influx = new InfluxAuthProcess(join(root, 'influx'));
    await influx.start('admin', 'right');
    const res = await fetch(`${influx.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'CREATE DATABASE plant' }),
      headers: { authorization: BASIC },
    });
    assert.equal(res.status, 200);
  });
  after(async () => {
    await influx?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('holds the points with the reason, and writes them all with the right password', async () => {
    const queueDir = join(root, 'queue');
    const open = (password: string) =>
      new InfluxWriter({
        target: httpTarget({ url: influx.url, api: 'v1', database: 'plant', username: 'admin', password }),
        queue: { dir: queueDir, maxBytes: 1e7, maxAgeMs: 3600e3, policy: 'drop-oldest' },
        batchSize: 100,
        flushIntervalMs: 50,
        maxInFlight: 2,
        maxPending: 4,
        retry: { initialMs: 50, maxMs: 200, factor: 2, jitter: 0.5 },
      });
    const now = Date.now();
    let w = open('wrong');
    for (let i = 0; i < 250; i++) w.add(`force,line=l1 value=${i} ${now - 1000 + i}`);
    await waitUntil(
      () => w.stats().queued === 250 && w.stats().lastError !== undefined,
      'points held after a refused write',
      20000,
      20,
    );
    assert.match(w.stats().lastError ?? '', /HTTP 401/);
    assert.deepEqual(w.stats().dropped, { full: 0, age: 0, rejected: 0 });
    await w.close(100);
    w = open('right');
    await waitUntil(() => w.stats().written === 250, 'points written', 20000, 20);
    await w.close(1000);
    const res = await fetch(`${influx.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ db: 'plant', q: 'SELECT count(value) FROM force' }),
      headers: { authorization: BASIC },
    });
    const json = (await res.json()) as { results: { series: { values: [string, number][] }[] }[] };
    assert.equal(json.results[0].series[0].values[0][1], 250);
  });
});
