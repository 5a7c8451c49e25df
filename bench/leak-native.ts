/**
 * Native (non-heap) memory per repetition of what the demo runtime does again and again: each suspect runs in a
 * child process of its own for N repetitions of a small real job, and the child's RSS is read (after a full
 * collection and a short pause, so that terminated threads are gone) after a warm-up and at each checkpoint.
 * The figure per suspect is the RSS growth per 100 repetitions between the first and the last checkpoint
 * (least squares over the checkpoints after the first), beside the references measured in the same run: the
 * same loop doing nothing (`noop`) and an empty worker thread started and terminated (`thread`: the cost of an
 * isolate alone). Every suspect runs with the default allocator settings and again with MALLOC_ARENA_MAX=2
 * (glibc: at most two malloc arenas, so freed memory of short-lived threads is not kept in arenas of their own).
 *
 *   node --expose-gc dist/bench/leak-native.js [--reps 200] [--checkpoints 50,100,200] [--only schedule,onnx]
 *     [--arena both|default|2] [--unsettled]
 *
 * `--unsettled` reads RSS at each checkpoint at once, without the collections and pauses: what a runtime
 * busy with back-to-back jobs carries (threads still being torn down, garbage not yet collected).
 *
 * Suspects: `schedule` (schedule.solve with workers: 1, a 40 ms search on the kept search thread; the demo's
 * line plan solves this way on every order and breakdown), `schedule-cold` (the same with the kept thread
 * released after each solve: a new thread per solve, as before the threads were kept), `energy`
 * (energy.optimise with a peak term: the kept HiGHS thread plus the kept local search thread beside it),
 * `energy-cold` (the same with both released after each call: new threads and a new HiGHS WebAssembly instance
 * per call), `train` (an anomaly training job in its own worker, as takt-train runs on every retraining),
 * `onnx` (an anomaly model loaded into an onnxruntime session and released, as takt-anomaly does on every swap),
 * `onnx-run` (100 rows scored one by one on a kept session: the demo scores a feature row per machine every 30
 * plant seconds), `vibration` (4 messages of 10 windows of 2,048 samples through the kept feature worker thread,
 * as takt-vibration does with the demo's waveforms).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { finalLine, parseFlags, printTable, ROOT } from './lib/cli';
import { linearTrend } from './lib/trend';
import { startTraining } from '../nodes/anomaly/train-job';
import { OnnxAnomalyModel } from '../nodes/anomaly/scorer';
import { Rng } from '../nodes/core/random';
import { optimise, releaseSolver } from '../nodes/energy/optimise';
import type { EnergyProblem } from '../nodes/energy/types';
import { releaseSearchThreads, solve } from '../nodes/schedule/solve';
import type { SchedulingProblem } from '../nodes/schedule/types';
import { toFeatureOptions, type VibrationNodeDef } from '../nodes/vibration/config';
import { acquireFeatureWorker, featuresInWorker } from '../nodes/vibration/offload';

const SUSPECTS = [
  'noop',
  'thread',
  'schedule',
  'schedule-cold',
  'energy',
  'energy-cold',
  'train',
  'onnx',
  'onnx-run',
  'vibration',
] as const;
type Suspect = (typeof SUSPECTS)[number];

const flags = parseFlags();
const reps = Number(flags.reps ?? 200);
const checkpoints = (typeof flags.checkpoints === 'string' ? flags.checkpoints : `50,100,${reps}`)
  .split(',')
  .map(Number)
  .filter((c) => c > 0 && c <= reps);
const WARMUP = 10;
const MB = 1024 * 1024;

// ------------------------------------------------------------------------------------------------ the jobs

/** A line like the demo's: 4 machines in a row, `jobs` orders with seeded durations. */
function lineProblem(jobs: number, seed: number): SchedulingProblem {
  const rng = new Rng(seed);
  const machines = ['CNC1', 'Press1', 'Oven1', 'Packer1'];
  return {
    now: 0,
    machines: machines.map((id) => ({ id })),
    jobs: Array.from({ length: jobs }, (_, j) => ({
      id: `ORD-${j}`,
      due: 60 + 40 * j,
      operations: machines.map((machine) => ({
        alternatives: [{ machine, duration: 10 + Math.floor(rng.next() * 30) }],
      })),
    })),
    objective: { makespan: 1, weightedTardiness: 2 },
  };
}

/** A day ahead in hours with a demand charge (so a local search thread runs beside HiGHS). */
function energyProblem(): EnergyProblem {
  const T = 24;
  const prices = Array.from({ length: T }, (_, t) => (t < 7 ? 0.1 : t < 17 ? 0.2 : 0.3));
  return {
    slotMinutes: 60,
    prices,
    baseLoadKw: prices.map((_, t) => 20 + (t % 5)),
    demandChargePerKw: 0.5,
    loads: Array.from({ length: 6 }, (_, j) => ({
      id: `l${j}`,
      powerKw: 5 + 3 * j,
      durationSlots: 1 + (j % 3),
      release: j,
      deadline: T - j,
    })),
  };
}

/** Feature rows for an anomaly model: 6 correlated features, 75 rows as takt-train takes in the demo. */
function trainingRows(n: number, seed: number): { X: Float64Array; features: string[] } {
  const rng = new Rng(seed);
  const features = ['velocityRmsMmS', 'kurtosis', 'crestFactor', 'envelopeRms', 'bpfoAmp1', 'bpfiAmp1'];
  const X = new Float64Array(n * features.length);
  for (let i = 0; i < n; i++) {
    const z = rng.next();
    for (let k = 0; k < features.length; k++) X[i * features.length + k] = z * (k + 1) + 0.1 * rng.next();
  }
  return { X, features };
}

async function train(dir: string, name: string): Promise<string> {
  const { X, features } = trainingRows(75, 7);
  const r = await startTraining({
    X,
    n: 75,
    features,
    options: { kind: 'pca', thresholdFactor: 2, smoothing: 5 },
    dir,
    name,
  }).promise;
  return r.model;
}

async function thread(): Promise<void> {
  const w = new Worker('require("node:worker_threads").parentPort.postMessage(1)', { eval: true });
  await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
}

/** The job of one repetition of `suspect`. */
async function jobOf(suspect: Suspect, dir: string): Promise<(i: number) => Promise<void>> {
  switch (suspect) {
    case 'noop':
      return () => new Promise((r) => setImmediate(r));
    case 'thread':
      return thread;
    case 'schedule':
    case 'schedule-cold': {
      const p = lineProblem(10, 3);
      return async (i) => {
        await solve(p, { workers: 1, timeLimitMs: 40, target: 0, seed: 1 + i });
        if (suspect === 'schedule-cold') await releaseSearchThreads();
      };
    }
    case 'energy':
    case 'energy-cold': {
      const p = energyProblem();
      return async () => {
        await optimise(p, { timeLimitMs: 150, threads: 2 });
        if (suspect === 'energy-cold') await releaseSolver();
      };
    }
    case 'train':
      return async (i) => {
        await train(dir, `m${i % 4}`);
      };
    case 'onnx': {
      const path = await train(dir, 'scorer');
      const row: Record<string, number> = {};
      trainingRows(1, 9).features.forEach((f, k) => (row[f] = k));
      return async () => {
        const m = await OnnxAnomalyModel.load(path);
        await m.score([row]);
        await m.dispose();
      };
    }
    case 'onnx-run': {
      const m = await OnnxAnomalyModel.load(await train(dir, 'scorer'));
      const rng = new Rng(11);
      const features = trainingRows(1, 9).features;
      return async () => {
        for (let k = 0; k < 100; k++) {
          const row: Record<string, number> = {};
          for (const f of features) row[f] = rng.next() * 3;
          await m.score([row]);
        }
      };
    }
    case 'vibration': {
      const flow = JSON.parse(
        readFileSync(join(ROOT, 'flows', 'plant-demo.json'), 'utf8'),
      ) as VibrationNodeDef[];
      const def = flow.find((n) => (n as { type?: string }).type === 'takt-vibration');
      if (!def) throw new Error('flows/plant-demo.json has no takt-vibration');
      const options = toFeatureOptions(def);
      const { worker, release } = acquireFeatureWorker();
      releases.push(release);
      const rng = new Rng(13);
      const window = () => Float64Array.from({ length: options.windowSize }, () => rng.normal());
      return async () => {
        for (let k = 0; k < 4; k++)
          await featuresInWorker(worker, Array.from({ length: 10 }, window), options);
      };
    }
  }
}

/** What the jobs hold open until the child ends (the kept feature worker). */
const releases: (() => Promise<void>)[] = [];

// ------------------------------------------------------------------------------------------------ the child

interface ChildResult {
  suspect: Suspect;
  arena: string;
  /** RSS in MB after the warm-up (index 0) and at each checkpoint. */
  rssMB: number[];
  at: number[];
  msPerRep: number;
}

/** `--unsettled`: RSS read at once, without the collections and pauses (what a busy runtime carries). */
const UNSETTLED = flags.unsettled === true;

/** RSS in MB: after collections and pauses, so that terminated threads are gone (or at once, `--unsettled`). */
async function readRss(): Promise<number> {
  if (UNSETTLED) return process.memoryUsage().rss / MB;
  for (let k = 0; k < 3; k++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage().rss / MB;
}

async function child(suspect: Suspect): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'takt-leak-native-'));
  try {
    const job = await jobOf(suspect, dir);
    for (let i = 0; i < WARMUP; i++) await job(i);
    const rssMB = [await readRss()];
    const at = [0];
    let busy = 0;
    for (let i = 1; i <= reps; i++) {
      const t = performance.now();
      await job(WARMUP + i);
      busy += performance.now() - t;
      if (checkpoints.includes(i)) {
        rssMB.push(await readRss());
        at.push(i);
      }
    }
    const out: ChildResult = {
      suspect,
      arena: process.env.MALLOC_ARENA_MAX ?? 'default',
      rssMB,
      at,
      msPerRep: busy / reps,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    for (const r of releases) await r();
    await releaseSolver();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------ the parent

function runChild(suspect: Suspect, arena: string | undefined): Promise<ChildResult> {
  const env = { ...process.env };
  delete env.MALLOC_ARENA_MAX;
  if (arena) env.MALLOC_ARENA_MAX = arena;
  const args = ['--expose-gc', __filename, '--child', suspect, '--reps', String(reps)];
  if (UNSETTLED) args.push('--unsettled');
  args.push('--checkpoints', checkpoints.join(','));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${suspect}: child exited with ${code}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

/** Least-squares slope of RSS over repetitions, from the first checkpoint on, in MB per 100 repetitions. */
export function growthPer100(r: Pick<ChildResult, 'rssMB' | 'at'>): number {
  const xs = r.at.slice(1);
  const ys = r.rssMB.slice(1);
  if (xs.length < 2) return (100 * (r.rssMB[1] - r.rssMB[0])) / Math.max(1, r.at[1]);
  return 100 * linearTrend(xs, ys).slope;
}

async function main(): Promise<void> {
  const only = typeof flags.only === 'string' ? flags.only.split(',') : undefined;
  // the no-op reference always runs; the bare thread when no --only is given or when it names it
  const suspects = SUSPECTS.filter((s) => !only || only.includes(s) || s === 'noop');
  const arenaFlag = typeof flags.arena === 'string' ? flags.arena : 'both';
  const arenas =
    arenaFlag === 'both' ? [undefined, '2'] : arenaFlag === 'default' ? [undefined] : [arenaFlag];
  console.log(
    `leak-native: ${reps} repetitions per suspect after ${WARMUP} of warm-up, RSS ` +
      `${UNSETTLED ? 'read at once (--unsettled)' : 'after a full collection'} at ` +
      `${checkpoints.join(', ')}; each suspect in its own process; allocator: ${arenas.map((a) => (a ? `MALLOC_ARENA_MAX=${a}` : 'default')).join(', ')}`,
  );
  const results: ChildResult[] = [];
  for (const arena of arenas)
    for (const s of suspects) {
      const r = await runChild(s, arena);
      results.push(r);
    }
  const rows: (string | number)[][] = [
    [
      'suspect',
      'arenas',
      'ms/rep',
      'RSS after warm-up MB',
      ...checkpoints.map((c) => `at ${c}`),
      'MB per 100 reps',
    ],
  ];
  for (const r of results)
    rows.push([
      r.suspect,
      r.arena,
      Number(r.msPerRep.toFixed(1)),
      Number(r.rssMB[0].toFixed(1)),
      ...r.rssMB.slice(1).map((x) => Number(x.toFixed(1))),
      Number(growthPer100(r).toFixed(2)),
    ]);
  printTable(rows);
  const per = (arena: string) =>
    Object.fromEntries(
      results.filter((r) => r.arena === arena).map((r) => [r.suspect, Number(growthPer100(r).toFixed(2))]),
    );
  const dflt = per('default');
  const arena2 = per('2');
  const ref = dflt.noop ?? 0;
  finalLine({
    bench: 'leak-native',
    reps,
    mbPer100Reps: dflt,
    mbPer100RepsArena2: arena2,
    referenceNoopMbPer100: ref,
    scheduleVsNoop: dflt.schedule !== undefined ? Number((dflt.schedule - ref).toFixed(2)) : null,
    unsettled: UNSETTLED,
  });
}

if (flags.child) {
  child(String(flags.child) as Suspect).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
