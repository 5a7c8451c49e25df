/**
 * bench:spc — (1) the SPC engine's samples per second for every chart, streaming against frozen limits,
 * at two run lengths to show the per-sample cost stays constant; (2) takt-spc inside a real Node-RED
 * runtime beside a pass-through node (a change node with no rules) over the same messages in the same run.
 *
 *   npm run bench:spc -- [--samples 200000] [--messages 100000] [--rounds 3]
 */
import * as spc from '../nodes/spc';
import { cpuMs, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { startEmbedded } from './lib/runtime';

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

async function nodeBench() {
  const rt = await startEmbedded(['end-s', 'end-p']);
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
  await rt.deploy(flows);
  const z = normals(1 << 16, 7);
  const message = (i: number) => ({
    topic: 'line1/grinder/bore',
    payload: 10 + z[i % z.length],
    ts: 1764144000000 + i,
  });
  const run = async (entry: string, exit: string, n: number) => {
    rt.reset();
    const node = rt.RED.nodes.getNode(entry)!;
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      node.receive(message(i));
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    while ((rt.received.get(exit) ?? 0) < n) await new Promise((r) => setImmediate(r));
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
