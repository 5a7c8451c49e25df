/**
 * bench:spc — (1) the SPC engine's samples per second for every chart, streaming against frozen limits,
 * at two run lengths to show the per-sample cost stays constant; (2) takt-spc inside a real Node-RED
 * runtime beside a pass-through node (a change node with no rules) over the same messages in the same run.
 *
 *   npm run bench:spc -- [--samples 200000] [--messages 100000] [--rounds 3]
 */
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as spc from '../nodes/spc';
import { cpuMs, finalLine, numberFlag, parseFlags, printTable, ROOT } from './lib/cli';

const flags = parseFlags();
const SAMPLES = numberFlag(flags, 'samples', 200000);
const MESSAGES = numberFlag(flags, 'messages', 100000);
const ROUNDS = numberFlag(flags, 'rounds', 3);

/** Deterministic normal deviates (LCG + Box-Muller): the same data every run. */
function normals(count: number, seed = 1): Float64Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

type Gen = (i: number) => { obs: number | number[]; size?: number };

function generators(z: Float64Array): Record<spc.ChartType, Gen> {
  const at = (i: number) => z[i % z.length];
  const sub = (i: number) => [0, 1, 2, 3, 4].map((k) => 10 + at(i * 5 + k));
  const vec = (i: number) => [0, 1, 2, 3].map((k) => 10 + at(i * 4 + k) + 0.5 * at(i * 4));
  const count = (i: number, mean: number) => Math.max(0, Math.round(mean + Math.sqrt(mean) * at(i)));
  return {
    'xbar-r': (i) => ({ obs: sub(i) }),
    'xbar-s': (i) => ({ obs: sub(i) }),
    imr: (i) => ({ obs: 10 + at(i) }),
    p: (i) => ({ obs: Math.min(100, count(i, 10)), size: 100 }),
    np: (i) => ({ obs: Math.min(100, count(i, 10)), size: 100 }),
    c: (i) => ({ obs: count(i, 20) }),
    u: (i) => ({ obs: count(i, 20), size: 5 }),
    ewma: (i) => ({ obs: 10 + at(i) }),
    cusum: (i) => ({ obs: 10 + at(i) }),
    t2: (i) => ({ obs: vec(i) }),
    mewma: (i) => ({ obs: vec(i) }),
  };
}

function engineBench(): { rows: (string | number)[][]; perChart: Record<string, number> } {
  const z = normals(1 << 20);
  const gens = generators(z);
  const rows: (string | number)[][] = [['chart', 'samples/s', 'ns/sample, first 10%', 'ns/sample, last 10%']];
  const perChart: Record<string, number> = {};
  for (const type of spc.CHART_TYPES) {
    const g = gens[type];
    const phase1 = Array.from({ length: 100 }, (_, i) => g(i));
    const needsSizes = type === 'p' || type === 'np' || type === 'u';
    const r = spc.chart({
      type,
      data: phase1.map((s) => s.obs) as number[] | number[][],
      ...(needsSizes ? { sizes: phase1.map((s) => s.size as number) } : {}),
    });
    const inputs = Array.from({ length: SAMPLES }, (_, i) => g(i + 100));
    const block = Math.max(1, Math.floor(SAMPLES / 10));
    // One long stream, timed in blocks: the cost per sample of the first and of the last tenth shows that
    // it does not grow with the length of the stream (constant time per sample).
    const time = () => {
      const stream = new spc.ChartStream(r.params);
      const blocks: number[] = [];
      let sink = 0;
      for (let b = 0; b * block < SAMPLES; b++) {
        const t0 = performance.now();
        const end = Math.min(SAMPLES, (b + 1) * block);
        for (let i = b * block; i < end; i++) sink += stream.push(inputs[i].obs, inputs[i].size).point.stat;
        blocks.push(((performance.now() - t0) * 1e6) / (end - b * block));
      }
      if (!Number.isFinite(sink)) throw new Error('bad statistic');
      return blocks;
    };
    time(); // warm-up: JIT
    const runs = [time(), time(), time()];
    const best = (k: number) => Math.min(...runs.map((bl) => bl[k]));
    const nBlocks = runs[0].length;
    const total = Math.min(...runs.map((bl) => bl.reduce((a, v) => a + v, 0) / bl.length));
    const first = best(0);
    const last = best(nBlocks - 1);
    perChart[type] = Math.round(1e9 / total);
    rows.push([type, perChart[type], first, last]);
  }
  return { rows, perChart };
}

interface NodeRedApi {
  init(server: unknown, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): { receive(msg: object): void } | null };
  hooks: {
    add(name: string, fn: (evt: { destination: { id: string } }) => void): void;
    remove(name: string): void;
  };
  runtime: {
    flows: { setFlows(opts: { flows: { flows: object[] }; deploymentType?: string }): Promise<unknown> };
  };
}

/**
 * An embedded runtime that loads takt-spc: from package.json once it is registered there, otherwise from
 * dist/nodes/spc as a local node folder (spc.js with spc.html and locales beside it).
 */
async function startRuntime(): Promise<{
  RED: NodeRedApi;
  counts: Map<string, number>;
  stop(): Promise<void>;
  source: string;
}> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    'node-red'?: { nodes?: Record<string, string> };
  };
  const registered = Boolean(pkg['node-red']?.nodes?.['takt-spc']);
  const local = join(ROOT, 'dist', 'nodes', 'spc');
  if (!registered && !existsSync(join(local, 'spc.html'))) {
    throw new Error('takt-spc is neither in package.json nor built with its spc.html in dist/nodes/spc');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRedApi;
  const userDir = mkdtempSync(join(tmpdir(), 'takt-bench-spc-'));
  RED.init(createServer(), {
    userDir,
    flowFile: join(userDir, 'flows.json'),
    nodesDir: registered ? [ROOT] : [ROOT, local],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: 'warn' } },
    telemetry: { enabled: false },
  });
  await RED.start();
  const counts = new Map<string, number>([
    ['end-s', 0],
    ['end-p', 0],
  ]);
  RED.hooks.add('onReceive.takt-bench-spc', (evt) => {
    const n = counts.get(evt.destination.id);
    if (n !== undefined) counts.set(evt.destination.id, n + 1);
  });
  return {
    RED,
    counts,
    source: registered ? 'package.json' : 'dist/nodes/spc (local)',
    async stop() {
      RED.hooks.remove('onReceive.takt-bench-spc');
      await RED.stop();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

async function nodeBench() {
  const rt = await startRuntime();
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'spc',
      z: 'tab',
      type: 'takt-spc',
      chartType: 'imr',
      phaseOne: 100,
      rules: 'nelson',
      wires: [['end-s'], [], []],
    },
    { id: 'end-s', z: 'tab', type: 'junction', wires: [] },
    { id: 'pass', z: 'tab', type: 'change', rules: [], wires: [['end-p']] },
    { id: 'end-p', z: 'tab', type: 'junction', wires: [] },
  ];
  await rt.RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
  const deadline = Date.now() + 30000;
  while (!rt.RED.nodes.getNode('spc') || !rt.RED.nodes.getNode('pass')) {
    if (Date.now() > deadline) throw new Error('flow did not start: is takt-spc loadable?');
    await new Promise((r) => setTimeout(r, 20));
  }
  const z = normals(1 << 16, 7);
  const message = (i: number) => ({
    topic: 'line1/grinder/bore',
    payload: 10 + z[i % z.length],
    ts: 1764144000000 + i,
  });
  const run = async (entry: string, exit: string, n: number) => {
    rt.counts.set(exit, 0);
    const node = rt.RED.nodes.getNode(entry)!;
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      node.receive(message(i));
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    while ((rt.counts.get(exit) ?? 0) < n) await new Promise((r) => setImmediate(r));
    return { ms: performance.now() - t0, cpu: cpuMs() - c0 };
  };
  await run('spc', 'end-s', 100); // phase I: the limits freeze
  await run('spc', 'end-s', Math.min(MESSAGES, 20000)); // warm-up
  await run('pass', 'end-p', Math.min(MESSAGES, 20000));
  const rows: (string | number)[][] = [['round', 'spc msg/s', 'pass msg/s', 'spc cpu/1k', 'pass cpu/1k']];
  let sTot = 0;
  let pTot = 0;
  const cpuRatios: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const s = await run('spc', 'end-s', MESSAGES);
    const p = await run('pass', 'end-p', MESSAGES);
    sTot += s.ms;
    pTot += p.ms;
    cpuRatios.push(s.cpu / p.cpu);
    rows.push([
      r,
      (MESSAGES / s.ms) * 1000,
      (MESSAGES / p.ms) * 1000,
      (s.cpu / MESSAGES) * 1000,
      (p.cpu / MESSAGES) * 1000,
    ]);
  }
  await rt.stop();
  return {
    rows,
    source: rt.source,
    msgPerS: Math.round((MESSAGES * ROUNDS * 1000) / sTot),
    passMsgPerS: Math.round((MESSAGES * ROUNDS * 1000) / pTot),
    ratio: Number((pTot / sTot).toFixed(3)),
    cpuRatioMedian: Number(cpuRatios.sort((a, b) => a - b)[Math.floor(cpuRatios.length / 2)].toFixed(3)),
  };
}

async function main() {
  console.log(`SPC engine, streaming against frozen limits (${SAMPLES} samples per chart)`);
  const eng = engineBench();
  printTable(eng.rows);
  console.log(
    `\ntakt-spc (I-MR, Nelson rules, phase II) vs pass-through, ${MESSAGES} messages x ${ROUNDS} rounds`,
  );
  const node = await nodeBench();
  console.log(`takt-spc loaded from ${node.source}`);
  printTable(node.rows);
  finalLine({
    bench: 'spc',
    samples: SAMPLES,
    samplesPerS: eng.perChart,
    messages: MESSAGES,
    rounds: ROUNDS,
    msgPerS: node.msgPerS,
    passMsgPerS: node.passMsgPerS,
    throughputRatio: node.ratio,
    cpuRatioMedian: node.cpuRatioMedian,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
