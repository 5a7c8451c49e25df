/**
 * What vibration features cost the runtime's event loop: the demo's takt-vibration node (CNC1's, from
 * flows/plant-demo.json) in a real (embedded) Node-RED runtime is fed waveforms at a steady rate, once computing in the runtime's thread (*Worker from*
 * set out of reach: the node before the worker) and once with the worker thread (the default), alternating
 * rounds in the same process. Measured on the main thread only: event-loop delay (p99, max, from
 * perf_hooks' histogram), event-loop utilisation, and the tasks that held the loop over 20 ms (a 2 ms timer's
 * lateness). Every round checks that both modes send the same features.
 *
 *   npm run bench:vibration -- --rounds 3 --seconds 8
 *
 * Flags: --rounds (3), --seconds per round and mode (8), --rate (waveforms per second, 80: the demo's four
 * machines at 600x send about that), --samples (per waveform, 2048 as the demo), --big-samples (65536: a
 * 3.2 s record at 20.48 kHz), --big-rate (4).
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finalLine, numberFlag, parseFlags, printTable, ROOT } from './lib/cli';
import { startEmbedded, type EmbeddedRuntime } from './lib/runtime';
import { Rng } from '../nodes/spc/patterns';

const flags = parseFlags();
const rounds = numberFlag(flags, 'rounds', 3);
const seconds = numberFlag(flags, 'seconds', 8);
const FS = 20480; // the demo's sampling rate

interface Case {
  name: string;
  samples: number;
  rate: number;
}
const cases: Case[] = [
  { name: 'demo', samples: numberFlag(flags, 'samples', 2048), rate: numberFlag(flags, 'rate', 80) },
  { name: 'big', samples: numberFlag(flags, 'big-samples', 65536), rate: numberFlag(flags, 'big-rate', 4) },
];

interface Result {
  p99Ms: number;
  maxMs: number;
  elu: number;
  over20: number;
  sent: number;
  out: number;
}

function waveform(rng: Rng, n: number): number[] {
  const x = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const k = i % 229;
    x[i] =
      0.3 * Math.sin((2 * Math.PI * 30 * i) / FS) +
      0.8 * Math.exp(-k / 12) * Math.sin((2 * Math.PI * 3500 * k) / FS) +
      0.05 * rng.normal();
  }
  return x;
}

/** CNC1's takt-vibration node of the plant demo (flows/plant-demo.json), wired to the counting sink. */
function node(id: string, workerSamples: number | ''): object {
  const demo = (JSON.parse(readFileSync(join(ROOT, 'flows', 'plant-demo.json'), 'utf8')) as FlowNode[]).find(
    (n) => n.type === 'takt-vibration' && n.name === 'CNC1',
  );
  if (!demo) throw new Error('flows/plant-demo.json has no takt-vibration node named CNC1');
  return { ...demo, id, z: 'tab', workerSamples, wires: [['sink']] };
}

interface FlowNode {
  type: string;
  name?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(
  rt: EmbeddedRuntime,
  nodeId: string,
  c: Case,
  waves: number[][],
  outputs: Record<string, unknown>[],
): Promise<Result> {
  outputs.length = 0;
  rt.reset();
  await sleep(300);
  const h = monitorEventLoopDelay({ resolution: 1 });
  let over20 = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    if (now - last - 2 > 20) over20++;
    last = now;
  }, 2);
  const elu0 = performance.eventLoopUtilization();
  h.enable();
  const total = Math.round(c.rate * seconds);
  let sent = 0;
  const t0 = performance.now();
  // a steady rate: each tick sends what is due by now
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * c.rate) + 1);
    while (sent < due) {
      rt.inject(nodeId, { payload: waves[sent % waves.length], seq: sent });
      sent++;
    }
    await sleep(5);
  }
  const deadline = Date.now() + 120000;
  while ((rt.received.get('sink') ?? 0) < total && Date.now() < deadline) await sleep(10);
  h.disable();
  clearInterval(tick);
  const elu = performance.eventLoopUtilization(elu0);
  return {
    p99Ms: h.percentile(99) / 1e6,
    maxMs: h.max / 1e6,
    elu: elu.utilization,
    over20,
    sent,
    out: rt.received.get('sink') ?? 0,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const outputs: Record<string, unknown>[] = [];
  const rt = await startEmbedded(['sink'], (_id, msg) => outputs.push(msg));
  const summary: Record<string, number> = {};
  let identical = true;
  try {
    await rt.deploy([
      { id: 'tab', type: 'tab' },
      node('thread', 1e12),
      node('worker', ''),
      { id: 'sink', z: 'tab', type: 'junction', wires: [] },
    ]);
    const rows: (string | number)[][] = [
      ['case', 'round', 'mode', 'loop p99 ms', 'loop max ms', 'tasks > 20 ms', 'loop busy', 'sent', 'out'],
    ];
    for (const c of cases) {
      const rng = new Rng(11);
      const waves = Array.from({ length: 8 }, () => waveform(rng, c.samples));
      const by: Record<string, Result[]> = { thread: [], worker: [] };
      for (let r = 0; r < rounds; r++)
        for (const mode of r % 2 ? ['worker', 'thread'] : ['thread', 'worker']) {
          const res = await measure(rt, mode, c, waves, outputs);
          by[mode].push(res);
          rows.push([c.name, r + 1, mode, res.p99Ms, res.maxMs, res.over20, res.elu, res.sent, res.out]);
          // both modes must send the same features for the same waveforms (all of them, by sequence)
          const got = outputs
            .map((m) => [m.seq as number, JSON.stringify(m.payload)] as const)
            .sort((a, b) => a[0] - b[0])
            .map(([, p]) => p)
            .join('\n');
          const seen = firstPayloads.get(c.name);
          if (seen === undefined) firstPayloads.set(c.name, got);
          else if (seen !== got) identical = false;
        }
      for (const mode of ['thread', 'worker'] as const) {
        const M = mode === 'thread' ? 'Thread' : 'Worker';
        const rs = by[mode];
        summary[`${c.name}P99Ms${M}`] = median(rs.map((x) => x.p99Ms));
        summary[`${c.name}MaxMs${M}`] = median(rs.map((x) => x.maxMs));
        summary[`${c.name}Over20${M}`] = median(rs.map((x) => x.over20));
        summary[`${c.name}Elu${M}`] = median(rs.map((x) => x.elu));
        summary[`${c.name}Lost${M}`] = rs.reduce((a, x) => a + x.sent - x.out, 0);
      }
    }
    printTable(rows);
  } finally {
    await rt.stop();
  }
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  console.log(
    `medians of ${rounds} rounds of ${seconds} s per mode; ratios are worker / thread (below 1: the worker frees the loop)`,
  );
  finalLine({
    bench: 'vibration',
    rounds,
    seconds,
    ...Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, Number(v.toFixed(3))])),
    demoP99Ratio: ratio(summary.demoP99MsWorker, summary.demoP99MsThread),
    bigP99Ratio: ratio(summary.bigP99MsWorker, summary.bigP99MsThread),
    bigMaxRatio: ratio(summary.bigMaxMsWorker, summary.bigMaxMsThread),
    identical,
  });
}

const firstPayloads = new Map<string, string>();

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
