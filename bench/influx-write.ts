/**
 * bench:influx-write — points per second written to VictoriaMetrics by the takt-influx-out node in an
 * embedded Node-RED (and, for information, by its engine alone: encoder + InfluxWriter) against a bare
 * @influxdata/influxdb-client WriteApi (batch 5,000) writing the same points to the same server in the same
 * run. Both get the points in chunks with a turn of the event loop between chunks, as a flow delivers them,
 * and both gzip their request bodies: the node at zlib level 1 (its write target's setting, see
 * nodes/influx/transport.ts), the client at its transport's fixed level 6. The node runs as shipped, with
 * its write-ahead log on (every point fsynced before its message is done). Each side's points are counted
 * back from the server. Rounds alternate the two sides, in an order that flips every round (bare-node,
 * node-bare, ...); `ratio` and `cpuRatio` are the medians of the per-round ratios. Both
 * sides run in this process one after the other, so each round's CPU time (process.cpuUsage: main thread
 * and thread pool) is that side's: `cpuRatio` (bare CPU / node CPU) is the same comparison with far less
 * noise from other jobs on a shared machine than the wall-clock `ratio`.
 *
 * Starts its own VictoriaMetrics on a free loopback port unless INFLUX_URL is set.
 *
 *   npm run bench:influx-write -- [--points 1000000] [--series 100] [--chunk 10000] [--rounds 5] [--no-msgid]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB, Point as ClientPoint } from '@influxdata/influxdb-client';
import { MessageEncoder } from '../nodes/influx/encoder';
import { defaultMapping } from '../nodes/influx/mapping';
import { httpTarget } from '../nodes/influx/transport';
import { DEFAULT_RETRY, InfluxWriter } from '../nodes/influx/writer';
import { freePort } from '../test/helpers/net';
import { startEmbedded } from './lib/runtime';
import type { InfluxOutNode } from '../nodes/influx/server-types';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';

const flags = parseFlags();
const N = numberFlag(flags, 'points', 1_000_000);
const SERIES = numberFlag(flags, 'series', 100);
const CHUNK = numberFlag(flags, 'chunk', 10_000);
const ROUNDS = numberFlag(flags, 'rounds', 5);
/** --no-msgid: messages without a `_msgid`, so Node-RED's receive() generates one for each (8 random bytes). */
const MSGID = flags['no-msgid'] === undefined;
const BATCH = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));

async function startVm(): Promise<{ url: string; proc?: ChildProcess; dir?: string }> {
  if (process.env.INFLUX_URL) return { url: process.env.INFLUX_URL.replace(/\/$/, '') };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'takt-bench-vm-'));
  const proc = spawn(
    process.env.VICTORIA_METRICS_BIN || 'victoria-metrics',
    [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${dir}`,
      '-retentionPeriod=100y',
      '-loggerLevel=ERROR',
    ],
    { stdio: 'ignore' },
  );
  let failed: Error | undefined;
  proc.once('error', (e) => (failed = e));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (failed)
      throw new Error(`cannot start victoria-metrics (${failed.message}); install it or set INFLUX_URL`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, proc, dir };
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  throw new Error('victoria-metrics did not start');
}

/** Points stored for a run tag (VictoriaMetrics export, counted line by line). */
async function stored(url: string, run: string): Promise<number> {
  const body = new URLSearchParams({ 'match[]': `{site="${run}"}`, start: '0' });
  const res = await fetch(`${url}/api/v1/export`, { method: 'POST', body });
  let n = 0;
  for (const line of (await res.text()).split('\n'))
    if (line) n += (JSON.parse(line) as { values: unknown[] }).values.length;
  return n;
}

async function waitStored(url: string, run: string, want: number, everyMs = 500): Promise<number> {
  let got = 0;
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    got = await stored(url, run);
    if (got >= want) return got;
    await sleep(everyMs);
  }
  return got;
}

/** The i-th point: series i % SERIES, one ms apart per round, ending about now. */
const T0 = Date.now() - Math.ceil(N / SERIES) - 60000;
const topicOf = (run: string, s: number) => `acme/${run}/press/l${s % 10}/c1/tag${s}`;
const tsOf = (i: number) => T0 + Math.floor(i / SERIES);
const valueOf = (i: number) => (i % 1000) / 10;

interface Result {
  seconds: number;
  pps: number;
  /** CPU seconds of this process (main thread and its thread pool: gzip, fsync) over the round. */
  cpuS: number;
}

async function produce(each: (i: number) => void, done: () => Promise<void>, n = N): Promise<Result> {
  const t = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i += CHUNK) {
    const end = Math.min(n, i + CHUNK);
    for (let k = i; k < end; k++) each(k);
    await tick();
  }
  await done();
  const seconds = (performance.now() - t) / 1000;
  const c = process.cpuUsage(c0);
  return { seconds, pps: n / seconds, cpuS: (c.user + c.system) / 1e6 };
}

async function bare(url: string, run: string, n = N): Promise<Result> {
  const api = new InfluxDB({ url, token: 'bench' }).getWriteApi('takt', 'bench', 'ms', {
    batchSize: BATCH,
    maxBufferLines: N,
    flushInterval: 1000,
  });
  return produce(
    (i) => {
      const s = i % SERIES;
      api.writePoint(
        new ClientPoint(`tag${s}`)
          .tag('enterprise', 'acme')
          .tag('site', run)
          .tag('area', 'press')
          .tag('line', `l${s % 10}`)
          .tag('cell', 'c1')
          .floatField('value', valueOf(i))
          .timestamp(tsOf(i)),
      );
    },
    () => api.close(),
    n,
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function takt(url: string, run: string, queueDir: string): Promise<Result> {
  const encoder = new MessageEncoder(defaultMapping(), 'escape', 'samples');
  const writer = new InfluxWriter({
    target: httpTarget({ url, api: 'v2', org: 'takt', bucket: 'bench', token: 'bench', gzip: true }),
    queue: { dir: queueDir, maxBytes: 1024 ** 3, maxAgeMs: 3600e3, policy: 'drop-oldest' },
    batchSize: BATCH,
    flushIntervalMs: 1000,
    maxInFlight: 4,
    maxPending: 64,
    retry: DEFAULT_RETRY,
  });
  const r = await produce(
    (i) => {
      const msg = { topic: topicOf(run, i % SERIES), payload: valueOf(i), ts: tsOf(i) };
      for (const l of encoder.encode(msg, 0)) writer.add(l);
    },
    async () => {
      if (!(await writer.drained(600000))) throw new Error('the writer did not drain');
    },
  );
  const s = await writer.close(1000);
  if (s.queued || s.dropped.full || s.dropped.age || s.dropped.rejected) {
    console.log(`note: queued ${s.queued}, dropped ${JSON.stringify(s.dropped)}, retries ${s.retries}`);
  }
  return r;
}

/** The takt-influx-out node itself, in an embedded Node-RED (started once, used for every round). */
async function startNode(url: string, userDir: string) {
  const rt = await startEmbedded([], undefined, { userDir: userDir });
  await rt.deploy([
    { id: 'tab', type: 'tab' },
    { id: 'srv', type: 'takt-influx-server', url, api: 'v2', org: 'takt', bucket: 'bench', gzip: true },
    { id: 'o', z: 'tab', type: 'takt-influx-out', server: 'srv', batchSize: BATCH, flushInterval: 1000 },
  ]);
  const o = rt.RED.nodes.getNode('o') as unknown as InfluxOutNode;
  const written = () => o.writer?.stats().written ?? 0;
  return {
    stop: () => rt.stop(),
    round(run: string, n = N): Promise<Result> {
      const target = written() + n;
      return produce(
        (i) =>
          o.receive({
            // As on a wire: the sending node gave the message its id (without one, receive() makes one).
            _msgid: MSGID ? `${run}.${i}` : undefined,
            topic: topicOf(run, i % SERIES),
            payload: valueOf(i),
            ts: tsOf(i),
          }),
        async () => {
          // Done when the server has confirmed every point (polled on the node's writer counters).
          const deadline = Date.now() + 300000;
          while (written() < target) {
            if (Date.now() > deadline) throw new Error(`the node wrote ${written()} of ${target} points`);
            await sleep(5);
          }
        },
        n,
      );
    },
  };
}

async function main(): Promise<void> {
  const vm = await startVm();
  const queueDir = mkdtempSync(join(tmpdir(), 'takt-bench-queue-'));
  const userDir = mkdtempSync(join(tmpdir(), 'takt-bench-nr-'));
  const id = Date.now().toString(36);
  try {
    console.log(
      `influx-write: ${N} points, ${SERIES} series, batch ${BATCH}, ${ROUNDS} rounds, to ${vm.url}`,
    );
    const nodeRt = await startNode(vm.url, userDir);
    const rows: (string | number)[][] = [
      ['round', 'writer', 'points', 'seconds', 'points/s', 'CPU s', 'stored'],
    ];
    const refs: number[] = [];
    const nodes: number[] = [];
    const refCpu: number[] = [];
    const nodeCpu: number[] = [];
    let short = 0;
    // A warm-up of each side (a fifth of the points, not counted): the first round is not the one that
    // compiles the code.
    await bare(vm.url, `warm-${id}`, Math.ceil(N / 5));
    await nodeRt.round(`warmnode-${id}`, Math.ceil(N / 5));
    // Rounds alternate the two writers on the same server, and the order flips every round (bare first,
    // then node first, ...), so a slow spell on the shared machine or a warm-up hits both sides alike. The
    // figures are the medians of the per-round ratios: each compares two runs a few seconds apart.
    for (let r = 1; r <= ROUNDS; r++) {
      const side = async (which: 'bare' | 'node') => {
        const run = `${which === 'bare' ? 'ref' : 'node'}${r}-${id}`;
        const res = which === 'bare' ? await bare(vm.url, run) : await nodeRt.round(run);
        const got = await waitStored(vm.url, run, N);
        const name = which === 'bare' ? 'bare WriteApi' : 'takt-influx-out';
        rows.push([r, name, N, res.seconds, Math.round(res.pps), res.cpuS, got]);
        printTable(rows);
        (which === 'bare' ? refs : nodes).push(res.pps);
        (which === 'bare' ? refCpu : nodeCpu).push(res.cpuS);
        short += N - got;
      };
      for (const which of r % 2 === 1 ? (['bare', 'node'] as const) : (['node', 'bare'] as const))
        await side(which);
    }
    await nodeRt.stop();
    const eng = await takt(vm.url, `engine-${id}`, queueDir);
    const engStored = await waitStored(vm.url, `engine-${id}`, N);
    rows.push(['-', '(takt engine alone)', N, eng.seconds, Math.round(eng.pps), eng.cpuS, engStored]);
    printTable(rows);
    if (short > 0) console.log(`warning: ${short} points missing on the server`);
    const ratios = nodes.map((n, i) => Number((n / refs[i]).toFixed(3)));
    console.log(`ratio per round (node / bare): ${ratios.join(', ')}`);
    // CPU per point: what the rate would be if each side had the cores to itself; on a shared machine it
    // moves far less than the wall-clock rate with the other jobs' load.
    const cpuRatios = nodeCpu.map((c, i) => Number((refCpu[i] / c).toFixed(3)));
    console.log(`CPU ratio per round (bare CPU / node CPU): ${cpuRatios.join(', ')}`);
    finalLine({
      bench: 'influx-write',
      points: N,
      rounds: ROUNDS,
      log: true,
      pointsPerS: Math.round(median(nodes)),
      rawPointsPerS: Math.round(median(refs)),
      // Median of the per-round ratios (node / bare points per second), not a ratio of medians.
      ratio: Number(median(ratios).toFixed(3)),
      roundRatios: ratios,
      cpuSecondsNode: Number(median(nodeCpu).toFixed(3)),
      cpuSecondsBare: Number(median(refCpu).toFixed(3)),
      // Median of the per-round ratios of CPU time (bare / node): above 1, the node costs less per point.
      cpuRatio: Number(median(cpuRatios).toFixed(3)),
      roundCpuRatios: cpuRatios,
    });
  } finally {
    rmSync(queueDir, { recursive: true, force: true });
    rmSync(userDir, { recursive: true, force: true });
    if (vm.proc) {
      await new Promise<void>((r) => {
        vm.proc!.once('exit', () => r());
        vm.proc!.kill('SIGINT');
      });
      if (vm.dir) rmSync(vm.dir, { recursive: true, force: true });
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
