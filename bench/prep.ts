/**
 * bench:prep — 100 tags at 100 Hz (10,000 samples per second of data) aligned into 10 Hz rows and cleaned
 * (Hampel filter over 7 rows, hold for gaps, z-score scaling). The data has 5% out-of-order samples (20 ms, within the
 * 50 ms lateness), 0.1% late ones (300 ms), 0.1% bad quality, 0.05% NaN and 0.1% spikes.
 *   (1) the engines alone (Aligner + Cleaner): samples and rows per second of CPU;
 *   (2) takt-align -> takt-clean inside a real Node-RED runtime beside a pass-through node (a change node
 *       with no rules) over the same messages in the same run, as one message per sample and as batches of
 *       100 samples (one simulator tick); CPU ratio = align+clean CPU / pass-through CPU. Like with like:
 *       takt-align takes one hop per message (the one into it; it sends only rows, 10 a second), so the
 *       pass-through node has no wire out and takes one hop too, counted where it arrives.
 * cpuRatio is for one message per sample (the sample contract's plain form). With batches the pass-through
 * handles 100 samples per message for almost nothing, so cpuRatioBatch is large while the node's absolute
 * cost per sample is lower than with single messages (nodeUsPerSample is over both forms).
 * accountedRatio: samples used, counted late or counted bad, over samples sent.
 *
 *   npm run bench:prep -- [--seconds 20] [--rounds 3]
 */
import { Rng } from '../nodes/core/random';
import * as prep from '../nodes/prep';
import { cpuMs, finalLine, numberFlag, parseFlags, printTable } from './lib/cli';
import { startEmbedded } from './lib/runtime';

const flags = parseFlags();
const SECONDS = numberFlag(flags, 'seconds', 20);
const ROUNDS = numberFlag(flags, 'rounds', 3);
const TAGS = 100;
const HZ = 100;
const PERIOD = 100;
const LATENESS = 50;

interface S {
  topic: string;
  value: number;
  ts: number;
  quality: 'good' | 'bad';
}

const topics = Array.from({ length: TAGS }, (_, t) => `acme/plant1/line1/m${t % 10}/tag${t}`);

/** Ticks of 10 ms with one sample per tag, starting at data time t0 (deterministic). */
function makeTicks(t0: number, seconds: number, seed: number): S[][] {
  const rng = new Rng(seed);
  const ticks: S[][] = [];
  for (let i = 0; i < seconds * HZ; i++) {
    const ts = t0 + i * (1000 / HZ);
    const tick: S[] = new Array(TAGS);
    for (let t = 0; t < TAGS; t++) {
      const u = rng.next();
      let value = 50 + 10 * Math.sin((ts / 1000) * (0.1 + t / 100)) + rng.normal();
      let sts = ts;
      let quality: 'good' | 'bad' = 'good';
      if (u < 0.05)
        sts = ts - 20; // out of order, within the lateness
      else if (u < 0.051)
        sts = ts - 300; // late
      else if (u < 0.052) quality = 'bad';
      else if (u < 0.0525) value = NaN;
      else if (u < 0.0535) value *= 10; // spike
      tick[t] = { topic: topics[t], value, ts: sts, quality };
    }
    ticks.push(tick);
  }
  return ticks;
}

const alignCfg: prep.AlignConfig = { periodMs: PERIOD, agg: 'mean', latenessMs: LATENESS };
const cleanCfg: prep.CleanConfig = {
  missing: 'hold',
  hampelWindow: 3,
  hampelThreshold: 3,
  scaling: 'zscore',
  fitRows: 100,
};

function engineBench(t0: number) {
  const ticks = makeTicks(t0, SECONDS, 1);
  const once = () => {
    const a = new prep.Aligner(alignCfg);
    const c = new prep.Cleaner(cleanCfg);
    const now = t0;
    let rows = 0;
    const c0 = cpuMs();
    for (const tick of ticks) {
      for (const s of tick) a.push(s, now);
      const out = a.takeRows();
      for (const r of out) c.push(r);
      rows += c.takeRows().length;
    }
    a.flush();
    for (const r of a.takeRows()) c.push(r);
    c.flush();
    rows += c.takeRows().length;
    return { cpu: cpuMs() - c0, rows, accounted: a.accountedRatio(), counts: a.counts, clean: c.counts };
  };
  once(); // warm-up: JIT
  const runs = [once(), once(), once()];
  const best = runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  const samples = ticks.length * TAGS;
  return {
    ...best,
    samples,
    samplesPerS: (samples / best.cpu) * 1000,
    rowsPerS: (best.rows / best.cpu) * 1000,
  };
}

/**
 * takt-align -> takt-clean beside a pass-through node, in an embedded runtime; ends are junctions. The
 * pass-through has no wire out: each message makes one hop, into it, as each sample message does into
 * takt-align (which sends only rows); it handles a message synchronously, so counting its arrivals
 * counts its work done.
 */
async function startRuntime(onDiag: (counts: prep.AlignCounts) => void) {
  const rt = await startEmbedded(['end-r', 'pass', 'end-d'], (id, msg) => {
    if (id !== 'end-d') return;
    const p = msg.payload as { counts?: prep.AlignCounts };
    if (p?.counts && 'received' in p.counts) onDiag(p.counts);
  });
  await rt.deploy([
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'align',
      z: 'tab',
      type: 'takt-align',
      periodMs: PERIOD,
      agg: 'mean',
      latenessMs: LATENESS,
      features: '',
      wires: [['clean'], ['end-d']],
    },
    {
      id: 'clean',
      z: 'tab',
      type: 'takt-clean',
      missing: 'hold',
      hampelWindow: 3,
      hampelThreshold: 3,
      scaling: 'zscore',
      fitRows: 100,
      wires: [['end-r'], ['end-d']],
    },
    { id: 'end-r', z: 'tab', type: 'junction', wires: [] },
    { id: 'end-d', z: 'tab', type: 'junction', wires: [] },
    { id: 'pass', z: 'tab', type: 'change', rules: [], wires: [] },
  ]);
  return rt;
}

const tick = () => new Promise((r) => setImmediate(r));

async function nodeBench(t0: number) {
  let diag: prep.AlignCounts | undefined;
  const rt = await startRuntime((c) => (diag = c));
  const align = rt.RED.nodes.getNode('align')!;
  const pass = rt.RED.nodes.getNode('pass')!;
  // Each run gets its own half of SECONDS of data, 5 s of data time after the previous run's: the bench
  // feeds data far faster than real time and then pauses (pass-through runs), and during a pause the
  // node's wall-clock flush moves its data clock on at real-time speed, as it would for a live source.
  const half = Math.round((SECONDS * HZ) / 2);
  const runData = (i: number) => makeTicks(t0 + i * (SECONDS / 2 + 5) * 1000, half / HZ, i + 2);
  const toSingle = (ticks: S[][]) =>
    ticks.flatMap((t) => t.map((s) => ({ topic: s.topic, payload: s.value, ts: s.ts, quality: s.quality })));
  const toBatch = (ticks: S[][]) => ticks.map((t) => ({ topic: 'line1', payload: t }));

  let expected = 0; // samples handed to takt-align so far: the flush report must have received them all
  const runAlign = async (msgs: object[], samples: number) => {
    expected += samples;
    const c0 = cpuMs();
    for (let i = 0; i < msgs.length; i++) {
      align.receive(msgs[i]);
      if (i % 1000 === 999) await tick();
    }
    align.receive({ action: 'flush' });
    while (!diag || diag.received < expected) await tick();
    return { cpu: cpuMs() - c0, counts: diag as prep.AlignCounts };
  };
  const runPass = async (msgs: object[]) => {
    rt.received.set('pass', 0);
    const c0 = cpuMs();
    for (let i = 0; i < msgs.length; i++) {
      pass.receive(msgs[i]);
      if (i % 1000 === 999) await tick();
    }
    while ((rt.received.get('pass') ?? 0) < msgs.length) await tick();
    return { cpu: cpuMs() - c0 };
  };

  const accountedOf = (c: prep.AlignCounts) =>
    c.used +
    c.late +
    c.badQuality +
    c.notNumeric +
    c.nan +
    c.badTs +
    c.future +
    c.stale +
    c.unknownTopic +
    c.filtered;
  // warm-up on round 0's data (JIT, runtime caches); the counts from here on are what the rounds add
  const warmData = toSingle(runData(0)).slice(0, 50000);
  const warm = await runAlign(warmData, warmData.length);
  await runPass(warmData);
  let before = accountedOf(warm.counts);
  const rows: (string | number)[][] = [
    [
      'round',
      'form',
      'messages',
      'align+clean cpu ms',
      'pass cpu ms',
      'cpu ratio',
      'used',
      'rows',
      'accounted',
    ],
  ];
  const ratios = { single: [] as number[], batch: [] as number[] };
  let sent = 0;
  let alignCpu = 0;
  let last = warm.counts;
  for (let r = 1; r <= ROUNDS; r++) {
    // half a round's data as one message per sample, the other half as batches
    for (const form of ['single', 'batch'] as const) {
      const part = runData(2 * r - (form === 'single' ? 1 : 0));
      const msgs = form === 'single' ? toSingle(part) : toBatch(part);
      const n = part.length * TAGS;
      const a = await runAlign(msgs, n);
      const p = await runPass(msgs);
      const acc = accountedOf(a.counts);
      sent += n;
      alignCpu += a.cpu;
      ratios[form].push(a.cpu / p.cpu);
      rows.push([
        r,
        form,
        msgs.length,
        a.cpu,
        p.cpu,
        a.cpu / p.cpu,
        a.counts.used - last.used,
        a.counts.rows - last.rows,
        (acc - before) / n,
      ]);
      before = acc;
      last = a.counts;
    }
  }
  await rt.stop();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    rows,
    cpuRatioSingle: median(ratios.single),
    cpuRatioBatch: median(ratios.batch),
    accountedRatio: (accountedOf(last) - accountedOf(warm.counts)) / sent,
    samplesPerCpuS: (sent / alignCpu) * 1000,
    counts: last,
  };
}

async function main() {
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  console.log(`prep engines: ${TAGS} tags x ${HZ} Hz, ${SECONDS} s of data, ${PERIOD} ms rows, cleaning on`);
  const eng = engineBench(t0);
  printTable([
    ['samples', 'rows', 'cpu ms', 'samples/s', 'rows/s', 'late', 'bad', 'accounted'],
    [
      eng.samples,
      eng.rows,
      eng.cpu,
      eng.samplesPerS,
      eng.rowsPerS,
      eng.counts.late,
      eng.counts.badQuality + eng.counts.nan,
      eng.accounted,
    ],
  ]);
  console.log(`cleaning: ${JSON.stringify(eng.clean)}`);
  console.log(`\ntakt-align -> takt-clean vs pass-through (change node), ${ROUNDS} rounds`);
  const node = await nodeBench(Math.floor(Date.now() / 1000) * 1000);
  printTable(node.rows);
  console.log(
    'CPU figures are noisy on a shared 2-core machine: compare the ratios, measured in the same run.',
  );
  finalLine({
    bench: 'prep',
    samplesPerS: Math.round(eng.samplesPerS),
    rowsPerS: Math.round(eng.rowsPerS),
    cpuRatio: Number(node.cpuRatioSingle.toFixed(3)),
    cpuRatioBatch: Number(node.cpuRatioBatch.toFixed(3)),
    accountedRatio: Number(Math.min(eng.accounted, node.accountedRatio).toFixed(5)),
    nodeUsPerSample: Number((1e6 / node.samplesPerCpuS).toFixed(3)),
    seconds: SECONDS,
    rounds: ROUNDS,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
