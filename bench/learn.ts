/**
 * bench:learn — quality prediction on seeded synthetic process data (bench/lib/process-data.ts: non-linear
 * effects, interactions, tool-wear drift, lot offsets): RMSE of Takt's gradient-boosted trees against XGBoost
 * and scikit-learn's HistGradientBoostingRegressor (default hyper-parameters, one thread) trained on the same
 * split in the same run by /usr/bin/python3 (null when they are missing), conformal interval coverage on the
 * test split, training time, prediction rows/s of the TypeScript predictor and of onnxruntime.
 *
 *   npm run bench:learn -- [--rows 100000] [--seed 2] [--coverage 0.9] [--lr 0.1] [--parts 1000]
 *                          [--control-seeds 27] [--energy-weight 0.01]
 *
 * Then adaptive control on the simulator (see `control()` below): MSD from target of takt-tune's engine against
 * the EWMA run-to-run controller and fixed setpoints, energy per part, proposals out of bounds or beyond step.
 *
 * Takt's defaults were chosen before looking at seed 2 (the dev seed is 1); a second seed of the same
 * generator is still not a held-out test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOnnxSession } from '../nodes/core/onnx';
import { Rng } from '../nodes/core/random';
import { fit, Predictor } from '../nodes/learn';
import { cpuMs, finalLine, median, numberFlag, parseFlags, printTable, ROOT } from './lib/cli';
import {
  controlRun,
  type ControlRun,
  HELD_OUT_CNC,
  randomProcess,
  randomProcessB,
  tunerFlags,
} from './lib/control';
import { processData } from './lib/process-data';

const flags = parseFlags();
const ROWS = numberFlag(flags, 'rows', 100_000);
const SEED = numberFlag(flags, 'seed', 2);
const COVERAGE = numberFlag(flags, 'coverage', 0.9);
/** Learning rate of the boosting (the engine's default when not given). */
const LR = flags.lr === undefined ? undefined : numberFlag(flags, 'lr', 0.1);
const PYTHON = '/usr/bin/python3';
/** Control: parts per run and the simulator seeds (median over them; 9 seeds gave medians on the good side). */
const PARTS = numberFlag(flags, 'parts', 1000);
const CONTROL_SEEDS = Array.from({ length: numberFlag(flags, 'control-seeds', 27) }, (_, i) => i + 1);
/** takt-tune's options in the control runs (`--energy-weight`; the engine's defaults when not given). */
const TUNER = tunerFlags(flags);

async function main(): Promise<void> {
  const data = processData(ROWS, SEED);
  const order = Array.from({ length: ROWS }, (_, i) => i);
  const rng = new Rng(SEED, 99);
  for (let i = ROWS - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTest = Math.round(ROWS * 0.2);
  const te = order.slice(0, nTest);
  const tr = order.slice(nTest);
  const Xtr = tr.map((i) => data.X[i]);
  const ytr = tr.map((i) => data.y[i]);
  const Xte = te.map((i) => data.X[i]);
  const yte = te.map((i) => data.y[i]);
  console.log(`process data: ${ROWS} rows x ${data.features.length} features, seed ${SEED}, test ${nTest}`);

  const t0 = Date.now();
  const c0 = cpuMs();
  const { onnx, card } = await fit(Xtr, ytr, {
    task: 'regression',
    features: data.features,
    coverage: COVERAGE,
    ...(LR !== undefined ? { boost: { learningRate: LR } } : {}),
  });
  const trainS = (Date.now() - t0) / 1000;
  const trainCpuS = (cpuMs() - c0) / 1000;
  const p = await Predictor.load(onnx);
  const rmse = (pred: number[]): number =>
    Math.sqrt(pred.reduce((a, v, i) => a + (v - yte[i]) ** 2, 0) / pred.length);

  // Rates per CPU second of this process (onnxruntime runs on one thread of it): the machine is shared, so
  // wall-clock rates measure the load as much as the code; both are printed.
  const tsRates: number[] = [];
  const tsWall: number[] = [];
  let out = p.predictSync(Xte, { contributions: false });
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    const c = cpuMs();
    out = p.predictSync(Xte, { contributions: false });
    tsRates.push(nTest / ((cpuMs() - c) / 1e3));
    tsWall.push(nTest / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  const taktRmse = rmse(out.map((o) => o.value!));
  const coverage = out.filter((o, i) => o.lower! <= yte[i] && yte[i] <= o.upper!).length / nTest;
  // The API's defaults: every prediction can give its contributions, worked out when first read.
  const defRates: number[] = [];
  for (let r = 0; r < 3; r++) {
    const c = cpuMs();
    p.predictSync(Xte);
    defRates.push(nTest / ((cpuMs() - c) / 1e3));
  }
  const shapRows = Math.min(2000, nTest);
  const cs0 = cpuMs();
  for (const r of p.predictSync(Xte.slice(0, shapRows)))
    if (r.contributions.length === 0) throw new Error('none');
  const shapRate = shapRows / ((cpuMs() - cs0) / 1e3);

  const { ort, session } = await openOnnxSession(onnx, (r) => new Error(r));
  const flat = Float32Array.from(Xte.flat());
  const input = new ort.Tensor('float32', flat, [nTest, data.features.length]);
  await session.run({ features: input }, ['value']);
  const ortRates: number[] = [];
  const ortWall: number[] = [];
  let ortValues: ArrayLike<number> = [];
  for (let r = 0; r < 3; r++) {
    const t = process.hrtime.bigint();
    const c = cpuMs();
    const res = await session.run({ features: input }, ['value']);
    ortRates.push(nTest / ((cpuMs() - c) / 1e3));
    ortWall.push(nTest / (Number(process.hrtime.bigint() - t) / 1e9));
    ortValues = res.value.data as Float32Array;
  }
  const maxDiff = out.reduce((m, o, i) => Math.max(m, Math.abs(o.value! - ortValues[i])), 0);

  // References, after Takt's training so they do not share the CPU with it.
  const dir = mkdtempSync(join(tmpdir(), 'takt-learn-'));
  let ref: { xgb?: { rmse: number; trainS: number } | null; hgb?: { rmse: number; trainS: number } | null } =
    {};
  try {
    const csv = (X: number[][], y: number[]): string =>
      X.map((x, i) => [y[i], ...x].join(',')).join('\n') + '\n';
    writeFileSync(join(dir, 'train.csv'), csv(Xtr, ytr));
    writeFileSync(join(dir, 'test.csv'), csv(Xte, yte));
    const r = spawnSync(PYTHON, [join(ROOT, 'bench', 'learn_ref.py'), dir], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      maxBuffer: 1 << 20,
    });
    if (r.status === 0) ref = JSON.parse(r.stdout.trim().split('\n').pop()!);
    else console.log(`references not run: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const xgb = ref.xgb ?? null;
  const hgb = ref.hgb ?? null;
  if (!xgb) console.log('XGBoost missing in /usr/bin/python3: ratio null');
  if (!hgb) console.log('scikit-learn missing in /usr/bin/python3: ratio null');

  printTable([
    ['model', 'test RMSE', 'train wall (s)', 'notes'],
    [
      'Takt GBT',
      taktRmse,
      trainS,
      `${trainCpuS.toFixed(1)} CPU s; ${card.training.trees} trees (best of ${card.training.rounds} rounds, ${card.training.stoppedBy}), ${card.rows.train} train / ${card.rows.valid} valid / ${card.rows.calib} calib rows`,
    ],
    ['ridge baseline (valid)', card.metrics.baseline.rmse!, '', 'on Takt validation rows'],
    ['XGBoost defaults', xgb ? xgb.rmse : 'n/a', xgb ? xgb.trainS : 'n/a', 'hist, 1 thread, 100 rounds'],
    ['sklearn HGB defaults', hgb ? hgb.rmse : 'n/a', hgb ? hgb.trainS : 'n/a', '1 thread, early stopping'],
  ]);
  console.log('');
  printTable([
    ['measure', 'value'],
    [`conformal ${COVERAGE * 100} % interval coverage (test)`, coverage],
    ['interval half-width', card.conformal!.quantile],
    ['predict rows per CPU s, TS (median of 3)', median(tsRates)],
    ['predict rows per wall s, TS (median of 3)', median(tsWall)],
    ['predict rows per CPU s, TS, default options (contributions on read; median of 3)', median(defRates)],
    ['predict rows per CPU s, onnxruntime batch (median of 3)', median(ortRates)],
    ['predict rows per wall s, onnxruntime batch (median of 3)', median(ortWall)],
    ['predict + TreeSHAP read, rows per CPU s, TS', shapRate],
    ['max |TS - onnxruntime|', maxDiff],
  ]);
  // `--control-seeds 0`: the prediction figures alone.
  const ctl = CONTROL_SEEDS.length > 0 ? control() : undefined;
  finalLine({
    bench: 'learn',
    rows: ROWS,
    seed: SEED,
    rmse: taktRmse,
    rmseXgb: xgb?.rmse ?? null,
    rmseHgb: hgb?.rmse ?? null,
    rmseRatioXgb: xgb ? taktRmse / xgb.rmse : null,
    rmseRatioHgb: hgb ? taktRmse / hgb.rmse : null,
    coverage,
    trainS,
    trainCpuS,
    predictRowsPerS: Math.round(median(tsRates)),
    predictRowsPerSOnnx: Math.round(median(ortRates)),
    predictRowsPerSWall: Math.round(median(tsWall)),
    predictRowsPerSDefault: Math.round(median(defRates)),
    shapRowsPerS: Math.round(shapRate),
    msdVsR2R: ctl?.dev.msdVsR2R ?? null,
    msdVsFixed: ctl?.dev.msdVsFixed ?? null,
    energyVsR2R: ctl?.dev.energyVsR2R ?? null,
    msdVsR2RHeldOut: ctl?.heldOut.msdVsR2R ?? null,
    msdVsFixedHeldOut: ctl?.heldOut.msdVsFixed ?? null,
    msdVsR2RPress: ctl?.press.msdVsR2R ?? null,
    floorVsR2R: ctl?.dev.floorVsR2R ?? null,
    floorVsR2RPress: ctl?.press.floorVsR2R ?? null,
    energyVsR2RPress: ctl?.press.energyVsR2R ?? null,
    msdVsR2RRandom: ctl?.random.msdVsR2R ?? null,
    floorVsR2RRandom: ctl?.random.floorVsR2R ?? null,
    energyVsR2RRandom: ctl?.random.energyVsR2R ?? null,
    msdVsR2RRandomB: ctl?.randomB.msdVsR2R ?? null,
    floorVsR2RRandomB: ctl?.randomB.floorVsR2R ?? null,
    energyVsR2RRandomB: ctl?.randomB.energyVsR2R ?? null,
    outOfBounds: ctl?.outOfBounds ?? null,
    energyWeight: TUNER.energyWeight ?? null,
  });
}

interface Surface {
  msdVsR2R: number;
  /** σ² / MSD of R2R: the lowest msdVsR2R any controller could reach (the noise floor). */
  floorVsR2R: number;
  msdVsFixed: number;
  energyVsR2R: number;
}

/**
 * Adaptive control on the simulator's process response (bench/lib/control.ts): takt-tune's engine against the
 * SPC engine's EWMA run-to-run controller and fixed setpoints, PARTS parts per run with drift, on CNC1's
 * surface (the one the tuner's defaults were set on), on the CNC surface held out last session (other curvature,
 * interaction, drift that scales with the setpoints; seen since), on Press1 (held out last session, developed on
 * since), on one random surface per seed (bench/lib/control.ts randomProcess(1000 + seed), defined before the
 * tuner first ran on it; the warm-up's length was later chosen looking at these too, so they are no longer held
 * out), and on one surface per seed of a second generator (randomProcessB: written after the tuner's defaults
 * were chosen, before its first run; held out for all of them but the warm-up probes' cap, PROBE_SPAN, chosen
 * after looking at it). Ratios are medians over the seeds (27 by default: with 5, the CNC1 median moved by a
 * few hundredths from one seed to the next, and the medians of 9 sat on the good side of those of 27); every
 * controller of a seed faces the same drift path (common random numbers, bench/lib/control.ts). outOfBounds
 * counts every proposal outside the bounds or beyond the step limit, in every run.
 */
function control(): {
  dev: Surface;
  heldOut: Surface;
  press: Surface;
  random: Surface;
  randomB: Surface;
  outOfBounds: number;
} {
  let outOfBounds = 0;
  const rows: (string | number)[][] = [
    [
      'surface',
      'seed',
      'MSD fixed',
      'MSD EWMA R2R',
      'MSD tune',
      'kWh/part R2R',
      'kWh/part tune',
      'tune/R2R',
      'tune/fixed',
      'floor/R2R',
    ],
  ];
  type Plant = { machine?: string; process?: typeof HELD_OUT_CNC; stepShare?: number };
  const surface = (label: string, plant: Plant | ((seed: number) => Plant)): Surface => {
    const r: { fixed: ControlRun; r2r: ControlRun; tune: ControlRun }[] = CONTROL_SEEDS.map((seed) => {
      const o = typeof plant === 'function' ? plant(seed) : plant;
      return {
        fixed: controlRun('fixed', { seed, parts: PARTS, ...o }),
        r2r: controlRun('r2r', { seed, parts: PARTS, ...o }),
        tune: controlRun('tune', {
          seed,
          parts: PARTS,
          ...o,
          tuner: TUNER,
        }),
      };
    });
    r.forEach((x, i) => {
      for (const run of [x.fixed, x.r2r, x.tune]) outOfBounds += run.outOfBounds + run.beyondStep;
      rows.push([
        label,
        CONTROL_SEEDS[i],
        x.fixed.msd,
        x.r2r.msd,
        x.tune.msd,
        x.r2r.energy,
        x.tune.energy,
        x.tune.msd / x.r2r.msd,
        x.tune.msd / x.fixed.msd,
        x.tune.noiseVar / x.r2r.msd,
      ]);
    });
    return {
      msdVsR2R: median(r.map((x) => x.tune.msd / x.r2r.msd)),
      floorVsR2R: median(r.map((x) => x.tune.noiseVar / x.r2r.msd)),
      msdVsFixed: median(r.map((x) => x.tune.msd / x.fixed.msd)),
      energyVsR2R: median(r.map((x) => x.tune.energy / x.r2r.energy)),
    };
  };
  const dev = surface('CNC1', {});
  const heldOut = surface('CNC held out', { process: HELD_OUT_CNC });
  const press = surface('Press1', { machine: 'Press1' });
  // One random surface per seed (randomProcess: defined before the tuner first ran on it; see control()).
  const random = surface('random', (seed) => randomProcess(1000 + seed));
  // A second generator (randomProcessB: one to four setpoints, other step limits, weak setpoints beside strong
  // ones), held out for every default of the tuner but the probes' cap, which was chosen looking at it.
  const randomB = surface('random B', (seed) => randomProcessB(seed));
  console.log('');
  console.log(`adaptive control: ${PARTS} parts per run, seeds ${CONTROL_SEEDS.join(', ')} (median ratios)`);
  console.log(
    "floor/R2R: the measurement noise σ² over R2R's MSD, the lowest tune/R2R any controller could reach",
  );
  printTable(rows);
  return { dev, heldOut, press, random, randomB, outOfBounds };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
