/**
 * bench:influx-outage — zero loss through an outage and a restart. takt-influx-out runs in a Node-RED
 * runtime (a child process) writing to a VictoriaMetrics this bench starts; the server is stopped for
 * 30 s while points keep coming, the Node-RED runtime is stopped and started again during the outage (its
 * close handler keeps the queue on disk, the new runtime replays it), the server comes back, and every point
 * is counted back from the server.
 *
 *   npm run bench:influx-outage -- [--points 1000000] [--outage 30]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InfluxOutNode } from '../nodes/influx/server-types';
import type { WriterStats } from '../nodes/influx/writer';
import { VmProcess, vmCount } from '../test/helpers/influx-db';
import { startEmbedded } from './lib/runtime';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';

const flags = parseFlags();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ChildArgs {
  userDir: string;
  url: string;
  from: number;
  to: number;
  /** Send {paused} at this index and wait for "continue". */
  pauseAt?: number;
  t0: number;
  series: number;
}
type FromChild =
  | { ready: true }
  | { paused: number }
  | { injected: WriterStats }
  | { stats: WriterStats }
  | { stopped: WriterStats };

const topic = (s: number) => `acme/outage/press/l${s % 10}/c1/tag${s}`;

async function child(a: ChildArgs): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  const rt = await startEmbedded([], undefined, { userDir: a.userDir });
  await rt.deploy([
    { id: 'tab', type: 'tab' },
    {
      id: 'srv',
      type: 'takt-influx-server',
      url: a.url,
      api: 'v2',
      org: 'takt',
      bucket: 'outage',
      gzip: true,
      timeout: 5000,
    },
    {
      id: 'o',
      z: 'tab',
      type: 'takt-influx-out',
      server: 'srv',
      batchSize: 5000,
      flushInterval: 500,
      queueMB: 1024,
    },
  ]);
  const o = rt.RED.nodes.getNode('o') as unknown as InfluxOutNode;
  const stats = () => o.writer!.stats();
  let resume: (() => void) | undefined;
  process.on('message', (m) => {
    if (m === 'continue') resume?.();
    if (m === 'stop') {
      void rt.stop().then(() => {
        send({ stopped: stats() });
        process.exit(0);
      });
    }
  });
  send({ ready: true });
  for (let i = a.from; i < a.to; i++) {
    if (i === a.pauseAt) {
      await new Promise<void>((r) => {
        resume = r;
        send({ paused: i });
      });
    }
    const s = i % a.series;
    o.receive({ topic: topic(s), payload: i, ts: a.t0 + Math.floor(i / a.series) });
    if (i % 10000 === 9999) await new Promise((r) => setImmediate(r));
  }
  send({ injected: stats() });
  setInterval(() => send({ stats: stats() }), 250);
}

function startChild(args: ChildArgs, onMsg: (m: FromChild) => void): ChildProcess {
  const c = fork(__filename, ['--child', JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  c.on('message', (m) => onMsg(m as FromChild));
  return c;
}

function until<T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      const v = get();
      if (v !== undefined) return resolve(v);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

async function main(): Promise<void> {
  const N = numberFlag(flags, 'points', 1_000_000);
  const OUTAGE_S = numberFlag(flags, 'outage', 30);
  const SERIES = 100;
  const root = mkdtempSync(join(tmpdir(), 'takt-outage-'));
  const userDir = join(root, 'nr');
  const vm = new VmProcess(join(root, 'vm'));
  const t0 = Date.now() - Math.ceil(N / SERIES) - 60000;
  const rows: (string | number)[][] = [['step', 'at point', 'written', 'queued', 'dropped']];
  const row = (step: string, at: number, s?: WriterStats) => {
    rows.push([
      step,
      at,
      s?.written ?? '',
      s ? s.queued + s.buffered : '',
      s ? s.dropped.full + s.dropped.age + s.dropped.rejected : '',
    ]);
    console.log(rows[rows.length - 1].join('  '));
  };
  try {
    await vm.start();
    const port = vm.port;
    console.log(`influx-outage: ${N} points, server down ${OUTAGE_S} s, runtime restarted during the outage`);
    console.log(rows[0].join('  '));
    // Runtime A: a third of the points with the server up, a third with it down, then restarted.
    let last: FromChild | undefined;
    const a = startChild(
      {
        userDir,
        url: vm.url,
        from: 0,
        to: Math.floor((2 * N) / 3),
        pauseAt: Math.floor(N / 3),
        t0,
        series: SERIES,
      },
      (m) => (last = m),
    );
    await until(() => (last && 'paused' in last ? last : undefined), 'runtime A to reach the outage', 300000);
    await vm.stop();
    const downAt = Date.now();
    row('server stopped', Math.floor(N / 3));
    a.send('continue');
    const injected = await until(
      () => (last && 'injected' in last ? last.injected : undefined),
      'runtime A to inject',
      300000,
    );
    row('runtime A injected', Math.floor((2 * N) / 3), injected);
    a.send('stop');
    const stoppedA = await until(
      () => (last && 'stopped' in last ? last.stopped : undefined),
      'runtime A to stop',
      60000,
    );
    row('runtime A stopped', Math.floor((2 * N) / 3), stoppedA);
    // Runtime B: replays the queue and takes the rest.
    let lastB: FromChild | undefined;
    const b = startChild(
      { userDir, url: vm.url, from: Math.floor((2 * N) / 3), to: N, t0, series: SERIES },
      (m) => (lastB = m),
    );
    const injB = await until(
      () => (lastB && 'injected' in lastB ? lastB.injected : undefined),
      'runtime B to inject',
      300000,
    );
    row('runtime B injected', N, injB);
    await sleep(Math.max(0, downAt + OUTAGE_S * 1000 - Date.now()));
    await vm.start(port);
    row(
      `server back after ${Math.round((Date.now() - downAt) / 1000)} s`,
      N,
      lastB && 'stats' in lastB ? lastB.stats : undefined,
    );
    const done = await until(
      () =>
        lastB &&
        'stats' in lastB &&
        lastB.stats.queued + lastB.stats.buffered === 0 &&
        lastB.stats.state === 'connected'
          ? lastB.stats
          : undefined,
      'the queue to drain',
      600000,
    );
    row('queue drained', N, done);
    b.send('stop');
    await until(() => (lastB && 'stopped' in lastB ? lastB : undefined), 'runtime B to stop', 60000);
    let storedN = 0;
    const deadline = Date.now() + 120000;
    while (Date.now() < deadline) {
      storedN = await vmCount(vm.url, 'tag0_value', { site: 'outage' }).then(async (n0) => {
        if (n0 < N / SERIES) return n0;
        let n = 0;
        for (let s = 0; s < SERIES; s++) n += await vmCount(vm.url, `tag${s}_value`, { site: 'outage' });
        return n;
      });
      if (storedN >= N) break;
      await sleep(1000);
    }
    if (storedN < N / SERIES) storedN = 0;
    printTable(rows);
    finalLine({ bench: 'influx-outage', written: N, stored: storedN, lost: N - storedN });
  } finally {
    await vm.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3]) as ChildArgs).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
