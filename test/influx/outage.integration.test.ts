/**
 * Zero loss across a server outage and a writer restart: a private VictoriaMetrics (the test must stop
 * and start it) gets points, is stopped, the writer keeps taking points, is closed (as Node-RED does on a
 * restart) and reopened on the same queue folder, the server comes back, and every point is counted.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpTarget } from '../../nodes/influx/transport';
import { InfluxWriter } from '../../nodes/influx/writer';
import { waitUntil } from '../helpers/net';
import { vmCount, VmProcess } from '../helpers/influx-db';

function hasVm(): boolean {
  try {
    execFileSync(process.env.VICTORIA_METRICS_BIN || 'victoria-metrics', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('influx writer: outage and restart without loss', function () {
  this.timeout(120000);
  let root: string;
  let vm: VmProcess;
  before(function () {
    if (!hasVm()) {
      if (process.env.CI === 'true') throw new Error('CI=true and victoria-metrics is not installed');
      console.warn('      skipped: victoria-metrics is not installed');
      this.skip();
    }
    root = mkdtempSync(join(tmpdir(), 'takt-influx-outage-'));
    vm = new VmProcess(join(root, 'vm'));
  });
  after(async () => {
    await vm?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('stores every point written before, during and after the outage', async () => {
    await vm.start();
    const port = vm.port;
    const queueDir = join(root, 'queue');
    const open = () =>
      new InfluxWriter({
        target: httpTarget({ url: vm.url, api: 'v2', org: 'o', bucket: 'b', timeoutMs: 2000 }),
        queue: { dir: queueDir, maxBytes: 256e6, maxAgeMs: 3600e3, policy: 'drop-newest' },
        batchSize: 500,
        flushIntervalMs: 50,
        maxInFlight: 2,
        maxPending: 4,
        retry: { initialMs: 50, maxMs: 400, factor: 2, jitter: 0.5 },
      });
    const t0 = Date.now() - 60000;
    const line = (i: number) => `outage,run=t${t0},k=${i % 10} v=${i} ${t0 + Math.floor(i / 10)}`;
    const N = 30000;
    let w = open();
    for (let i = 0; i < 10000; i++) w.add(line(i));
    assert.equal(await w.drained(30000), true);
    await vm.stop();
    for (let i = 10000; i < 20000; i++) w.add(line(i));
    await waitUntil(() => w.stats().queued === 10000, 'points queued during the outage', 30000, 50);
    const closed = await w.close(500);
    assert.equal(closed.queued, 10000);
    w = open();
    assert.equal(w.stats().queued, 10000);
    for (let i = 20000; i < N; i++) w.add(line(i));
    await vm.start(port);
    await waitUntil(
      () => w.stats().written === 20000 && w.stats().queued === 0,
      'replay after restart',
      60000,
      100,
    );
    const s = await w.close(5000);
    assert.deepEqual(s.dropped, { full: 0, age: 0, rejected: 0 });
    await waitUntil(
      async () => (await vmCount(vm.url, 'outage_v', { run: `t${t0}` })) === N,
      `all ${N} points stored`,
      60000,
      500,
    );
  });
});
