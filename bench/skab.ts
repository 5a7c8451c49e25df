/**
 * SKAB (Skoltech Anomaly Benchmark) with its own protocol: every labelled CSV under the folder; per file, a fresh
 * model trained on the first 400 rows scores the rest; per-row F1, FAR, MAR from TP/FP/TN/FN pooled over all
 * files; NAB scores (standard, low FP, low FN) of the change points (rising and falling edges of the prediction),
 * 60 s windows to the right of each true change point.
 *
 *   npm run bench:skab -- [--data ../shared/datasets/skab] [--select valve1] [--methods pca/drift/blocked,...]
 *                         [--seed 1] [--synthetic 15]
 *
 * Configurations (all eight sensors given to every model; one configuration for all files, nothing per file):
 * model PCA T²+Q, MSET or dense autoencoder (nodes/anomaly) × features (FEATURES below: which sensors count as
 * drifting, decided per file on its 400 training rows only, and whether a drifting sensor gets weight 0 or is
 * scored against an adapting level) × threshold `in-sample` (largest smoothed training score × 4/3, as SKAB's
 * Conv-AE notebook) or `blocked` (largest smoothed out-of-fold score over 4 consecutive blocks of the training
 * rows, factor 1; the engine default). The alarm is the 30-row moving mean of the score above the smoothed
 * threshold, which is what takt-anomaly's `alarm` (health index >= 1) does on line. `pca-raw` (no smoothing,
 * in-sample maximum) is the baseline closest to the published T²+Q. `follow-*` let the sensors' levels follow slow
 * changes after training (TrainOptions.follow, followGate, calibrateFollowing). Every option is passed explicitly,
 * so that a configuration's figures do not move when an engine default does.
 * PCA and MSET are deterministic; the autoencoder has a fixed seed (7).
 *
 * Protocol (issue #26, round two; rule and candidate set written here before the round-two candidates were run):
 * the configuration is chosen on the selection data only: valve1 (`--select`; F1 and FAR) and the anomaly-free
 * recording cut into file-length segments (FAR only: it carries no anomalies). Rule: highest valve1 F1 among the
 * configurations whose FAR upper bound on valve1 AND FAR upper bound on the anomaly-free segments are both at
 * most 12 % (upper bound: pooled FAR + 1.645 standard errors from the spread over files, a one-sided 95 % bound,
 * because the limit has to hold on files not seen). The pick of the plain rule (point FARs <= 12 %) is shown
 * too. Checks, never used to choose: valve2 (looked at by earlier sessions, so the JSON says it is not truly held
 * out) and a synthetic "other-like" set from a generator in this file (drifting temperatures, leaks, a partly
 * closed valve, cavitation, imbalance, heating), labelled synthetic in the output. SKAB's `other` group (14 of its
 * 34 files) is not here: it is the part held out from every choice. The protocol ran in three rounds on the same
 * selection data, each with its candidates written here before it ran (the follow grid, the hold, the resume
 * level, below); each round keeps the earlier candidates, so it can only move the choice to a higher valve1 F1.
 * The final JSON keeps the pooled keys and adds per-group figures, the checks and the protocol statement.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { movingMean } from '../nodes/anomaly/linalg';
import {
  type Calibration,
  type DriftMode,
  type ModelKind,
  scoreSeries,
  trainModel,
} from '../nodes/anomaly/models';
import { Rng } from '../nodes/core/random';
import { dataDir, finalLine, fmt, numberFlag, parseFlags, printTable } from './lib/cli';

interface SkabFile {
  name: string;
  columns: string[];
  X: number[][];
  t: number[];
  anomaly: number[];
  changepoint: number[];
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (f.endsWith('.csv')) out.push(p);
  }
  return out;
}

/** Parses one SKAB CSV (semicolon separated, datetime first); unlabelled (no `anomaly` column): all zeros. */
function parse(file: string, root: string): SkabFile & { labelled: boolean } {
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const head = lines[0].split(';').map((s) => s.trim());
  const ai = head.indexOf('anomaly');
  const ci = head.indexOf('changepoint');
  const sensors = head
    .map((h, i) => ({ h, i }))
    .filter(({ h, i }) => i > 0 && h !== 'anomaly' && h !== 'changepoint');
  const f: SkabFile & { labelled: boolean } = {
    labelled: ai >= 0,
    name: relative(root, file),
    columns: sensors.map((s) => s.h),
    X: [],
    t: [],
    anomaly: [],
    changepoint: [],
  };
  for (const line of lines.slice(1)) {
    const c = line.split(';');
    f.t.push(Date.parse(`${c[0].trim().replace(' ', 'T')}Z`));
    f.X.push(sensors.map((s) => Number(c[s.i])));
    f.anomaly.push(ai >= 0 && Number(c[ai]) === 1 ? 1 : 0);
    f.changepoint.push(ci >= 0 && Number(c[ci]) === 1 ? 1 : 0);
  }
  return f;
}

interface Method {
  name: string;
  kind: ModelKind;
  /** Slow-feature limit (1 keeps every feature). */
  slowShare: number;
  /** The trend rule on (a significant monotone trend also makes a feature drift). */
  trend: boolean;
  /** Drifting features: weight 0 or scored against an adapting level. */
  drift: DriftMode;
  calibration: Calibration;
  smoothing: number;
  /** Threshold: max of the smoothed calibration score times this factor. */
  factor: number;
  /** Baselines are shown but never chosen. */
  baseline?: boolean;
  /**
   * TrainOptions.follow: after training, the sensors' levels follow slow changes with this time constant (rows)
   * while the health index is under the threshold and stand still during an alarm. Off when absent.
   */
  follow?: number;
  /** TrainOptions.followGate: the levels move while the health index is under this fraction of the threshold. */
  followGate?: number;
  /** TrainOptions.followHold: rows the health index must stay under the gate before the levels move again. */
  followHold?: number;
  /** TrainOptions.followResume: after an alarm, the levels move again under this fraction of the threshold. */
  followResume?: number;
  /** TrainOptions.calibrateFollowing: held-out calibration blocks scored behind a follower. */
  calibrateFollowing?: boolean;
}

const KINDS: [string, ModelKind][] = [
  ['pca', 'pca'],
  ['mset', 'mset'],
  ['ae', 'autoencoder'],
];
const METHODS: Method[] = [
  {
    name: 'pca-raw',
    kind: 'pca',
    slowShare: 1,
    trend: false,
    drift: 'ignore',
    calibration: 'in-sample',
    smoothing: 1,
    factor: 1,
    baseline: true,
  },
];
// Feature rules: `all` every sensor at its level; `drift` slow share or trend, weight 0 (the engine default since
// issue #26); `slow` the slow-share rule alone, weight 0 (the engine before); `slow-level` and `drift-level` the
// same rules, the drifting sensors scored against an adapting level (drift: 'baseline'). A tie on the choosing
// group goes to the configuration listed first: `drift` before `slow`, since valve1 cannot tell them apart (the
// same sensors drift under both rules on every valve1 file) and the trend rule covers drifts the share misses.
const FEATURES: [string, number, boolean, DriftMode][] = [
  ['all', 1, false, 'ignore'],
  ['drift', 0.5, true, 'ignore'],
  ['slow', 0.5, false, 'ignore'],
  ['slow-level', 0.5, false, 'baseline'],
  ['drift-level', 0.5, true, 'baseline'],
];
for (const [short, kind] of KINDS)
  for (const [fname, slowShare, trend, drift] of FEATURES)
    for (const [cname, calibration, factor] of [
      ['in-sample', 'in-sample', 4 / 3],
      ['blocked', 'blocked', 1],
    ] as const)
      METHODS.push({
        name: `${short}/${fname}/${cname}`,
        kind,
        slowShare,
        trend,
        drift,
        calibration,
        smoothing: 30,
        factor,
      });

/** A PCA candidate with the engine's drift rules and blocked threshold whose levels follow (TrainOptions.follow*). */
const following = (follow: number, suffix: string, o: Partial<Method> = {}): Method => ({
  name: `pca/drift/blocked/follow-${follow}${suffix}`,
  kind: 'pca',
  slowShare: 0.5,
  trend: true,
  drift: 'ignore',
  calibration: 'blocked',
  smoothing: 30,
  factor: 1,
  follow,
  followGate: 1,
  followHold: 0,
  followResume: 1,
  calibrateFollowing: false,
  ...o,
});
// Level following (issue #26, round two; the candidate set was fixed here before any of it was run): time constant
// 150 or 300 rows × gate 1 (levels move while the health index is under the threshold) or 0.5 (under half of it,
// so that a fault building up under the alarm line is not learnt) × held-out calibration blocks scored at fixed
// levels or behind a follower as on line (`cal-follow`).
for (const follow of [150, 300])
  for (const followGate of [1, 0.5])
    for (const calibrateFollowing of [false, true])
      METHODS.push(
        following(
          follow,
          `${followGate < 1 ? `/gate-${followGate}` : ''}${calibrateFollowing ? '/cal-follow' : ''}`,
          { followGate, calibrateFollowing },
        ),
      );
// Round two of the same protocol (fixed after round one, before it was run; same rule): round one chose
// follow-150, which lost valve1 F1 where an alarm dipped under its line and the levels learnt the fault in the dip.
// A hold keeps the levels still until the health index has been under the threshold for one smoothing window.
for (const follow of [150, 300]) METHODS.push(following(follow, '/hold-30', { followHold: 30 }));
// Round three (fixed after round two, before it was run; same rule), prompted by an engine test, not by SKAB data:
// with the round-two default a marginal step fault (a broken correlation whose index hovers about the threshold)
// was learnt in the dips of its alarm. After an alarm, the levels wait until the index is under half the threshold
// (for the 30-row hold) before they move again.
for (const follow of [150, 300])
  METHODS.push(following(follow, '/hold-30/resume-0.5', { followHold: 30, followResume: 0.5 }));

const TRAIN = 400;

// ---------------------------------------------------------------- NAB (SKAB's chp_score, "improved" sigmoid)

const PROFILES = {
  standard: { tp: 1, fp: -0.11, fn: -1 },
  lowFP: { tp: 1, fp: -0.22, fn: -1 },
  lowFN: { tp: 1, fp: -0.11, fn: -2 },
};
type Profile = keyof typeof PROFILES;

interface NabCounts {
  /** Per file: detection positions in [0,1) of each TP window, number of FPs and FNs. */
  files: { tpPos: number[]; fp: number; fn: number }[];
  windows: number;
}

function nabFile(t: number[], cp: number[], pred: number[], windowMs: number) {
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < t.length; i++)
    if (cp[i] === 1) {
      starts.push(t[i]);
      ends.push(t[i] + windowMs);
    }
  for (let i = 0; i + 1 < starts.length; i++) if (ends[i] >= starts[i + 1]) starts[i + 1] = ends[i];
  const P: number[] = [];
  for (let i = 0; i < pred.length; i++)
    if ((i === 0 ? pred[0] : Math.abs(pred[i] - pred[i - 1])) === 1) P.push(t[i]);
  const tpPos: number[] = [];
  let fn = 0;
  const used = new Set<number>();
  starts.forEach((s, w) => {
    const det = P.find((p) => p >= s && p <= ends[w]);
    if (det === undefined) fn++;
    else tpPos.push((det - s) / (ends[w] - s));
    for (const p of P) if (p >= s && p <= ends[w]) used.add(p);
  });
  const fp = P.filter((p) => !used.has(p)).length;
  return { tpPos, fp, fn, windows: starts.length };
}

function nabScore(c: NabCounts, profile: Profile): number {
  const a = PROFILES[profile];
  const xs = Array.from({ length: 1000 }, (_, k) => -Math.PI / 2 + (k * Math.PI) / 999);
  const y = xs.map((x) => a.fp + ((a.tp - a.fp) / 2) * (1 - Math.tanh(x) / Math.tanh(Math.PI / 2)));
  let S = 0;
  for (const f of c.files) {
    S += a.fp * f.fp + a.fn * f.fn;
    for (const pos of f.tpPos) S += y[Math.min(999, Math.floor(1000 * pos))];
  }
  const nul = c.windows * a.fn;
  const perfect = c.windows * a.tp;
  return Math.round((10000 * (S - nul)) / (perfect - nul)) / 100;
}

// ---------------------------------------------------------------- run

/** Counts of one group of files. */
interface Counts {
  files: number;
  TP: number;
  FP: number;
  TN: number;
  FN: number;
  /** Per file: false alarms and normal rows (for the file-level spread of the FAR). */
  perFile: [number, number][];
  nab: NabCounts;
}

interface Result {
  f1: number;
  far: number;
  mar: number;
  nabStandard: number;
  nabLowFP: number;
  nabLowFN: number;
  cps: number;
  files: number;
  /** One-sided 95 % upper bound of the FAR (%): pooled FAR + 1.645 file-level standard errors. */
  farUpper: number;
}

const emptyCounts = (): Counts => ({
  files: 0,
  TP: 0,
  FP: 0,
  TN: 0,
  FN: 0,
  perFile: [],
  nab: { files: [], windows: 0 },
});

function merge(cs: Counts[]): Counts {
  const out = emptyCounts();
  for (const c of cs) {
    out.files += c.files;
    out.TP += c.TP;
    out.FP += c.FP;
    out.TN += c.TN;
    out.FN += c.FN;
    out.perFile.push(...c.perFile);
    out.nab.files.push(...c.nab.files);
    out.nab.windows += c.nab.windows;
  }
  return out;
}

function metrics(c: Counts): Result {
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const { TP, FP, TN, FN } = c;
  // The FAR is a ratio estimate over files (clusters of rows): its standard error from the files' spread.
  const R = FP / (FP + TN);
  const m = c.perFile.length;
  let v = 0;
  for (const [fp, normal] of c.perFile) v += (fp - R * normal) ** 2;
  const se = m > 1 ? Math.sqrt(v / (m * (m - 1))) / ((FP + TN) / m) : 0;
  return {
    farUpper: r2(100 * (R + 1.645 * se)),
    f1: r2(TP / (TP + (FN + FP) / 2)),
    far: r2((100 * FP) / (FP + TN)),
    mar: r2((100 * FN) / (FN + TP)),
    nabStandard: nabScore(c.nab, 'standard'),
    nabLowFP: nabScore(c.nab, 'lowFP'),
    nabLowFN: nabScore(c.nab, 'lowFN'),
    cps: c.nab.windows,
    files: c.files,
  };
}

/** The group of a file: its top folder under the data folder ('' for files at the top). */
const groupOf = (f: SkabFile) => (f.name.includes(sep) ? f.name.split(sep)[0] : '');

/** Runs one configuration over every file; counts per group. */
function run(files: SkabFile[], m: Method): Map<string, Counts> {
  const groups = new Map<string, Counts>();
  for (const f of files) {
    const g = groups.get(groupOf(f)) ?? emptyCounts();
    groups.set(groupOf(f), g);
    const d = f.columns.length;
    const n = f.X.length;
    const X = Float64Array.from(f.X.flat());
    const model = trainModel(X.subarray(0, TRAIN * d), TRAIN, f.columns, {
      kind: m.kind,
      smoothing: m.smoothing,
      thresholdQuantile: 1,
      thresholdFactor: m.factor,
      calibration: m.calibration,
      slowShare: m.slowShare,
      trend: m.trend,
      drift: m.drift,
      follow: m.follow ?? 0,
      followGate: m.followGate ?? 1,
      followHold: m.followHold ?? 0,
      followResume: m.followResume ?? 1,
      calibrateFollowing: m.calibrateFollowing ?? false,
      seed: 7,
    });
    // Scores and their moving mean run over the file in time order (training rows included), as on line.
    const thr = model.card.smoothedThreshold;
    const s = movingMean(scoreSeries(model, X, n).score, m.smoothing);
    const pred: number[] = [];
    let fp = 0;
    let normal = 0;
    for (let i = TRAIN; i < n; i++) {
      const p = s[i] > thr ? 1 : 0;
      pred.push(p);
      const y = f.anomaly[i];
      if (y === 1 && p === 1) g.TP++;
      else if (y === 1) g.FN++;
      else if (p === 1) g.FP++;
      else g.TN++;
      if (y !== 1) normal++;
      if (y !== 1 && p === 1) fp++;
    }
    g.perFile.push([fp, normal]);
    const r = nabFile(f.t.slice(TRAIN), f.changepoint.slice(TRAIN), pred, 60000);
    g.nab.files.push(r);
    g.nab.windows += r.windows;
    g.files++;
  }
  return groups;
}

// ---------------------------------------------------------------- checks beside the protocol

/**
 * The unlabelled anomaly-free recording (9,405 rows of normal running on another day) cut into consecutive
 * segments of a labelled file's length: each is trained on its first 400 rows and scored on the rest like a file,
 * and every alarm is a false one. It shows how the slow changes of a long normal run (warming, vibration and flow
 * levels moving) turn into false alarms, the failure the 14 files of SKAB's `other` group are feared for. Part
 * of the selection data since issue #26's second round (FAR upper bound <= 12 %, `choose`).
 */
function segments(f: SkabFile, length: number): SkabFile[] {
  const out: SkabFile[] = [];
  for (let s0 = 0, k = 0; s0 + length <= f.X.length; s0 += length, k++)
    out.push({
      name: join('anomaly-free', String(k)),
      columns: f.columns,
      X: f.X.slice(s0, s0 + length),
      t: f.t.slice(s0, s0 + length),
      anomaly: f.anomaly.slice(s0, s0 + length),
      changepoint: f.changepoint.slice(s0, s0 + length),
    });
  return out;
}

const FAULTS = ['leak', 'valve', 'cavitation', 'imbalance', 'heating'] as const;

/**
 * A synthetic "other-like" file, from a generator of this bench only (not SKAB data, and no SKAB file was fitted
 * to it): a pump loop with a slowly wandering load driving flow, pressure, current and vibration; a motor
 * temperature warming (or cooling) exponentially and a fluid temperature drifting linearly, both from the first
 * row, so that they drift inside the training window and on after it; one fault on rows 560-959, ramping in and
 * out over 60 rows: a slow leak (flow and pressure fall), a partly closed valve (a level change), cavitation
 * (vibration and pressure noise ×3), rotor imbalance (vibration up) or the fluid heating faster.
 */
function synthetic(seed: number, k: number): SkabFile {
  const rng = new Rng(seed, 1000 + k);
  const fault = FAULTS[k % FAULTS.length];
  const n = 1150;
  const on = 560;
  const off = 960;
  const columns = ['Acc1', 'Acc2', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Flow'];
  const warm = rng.uniform(2, 8) * (rng.next() < 0.75 ? 1 : -1);
  const tauT = rng.uniform(300, 1500);
  // Fluid drift over one training window: 1 to 4 of its noise widths (0.02 °C).
  const slope = (rng.uniform(1, 4) * 0.02 * (rng.next() < 0.5 ? 1 : -1)) / 400;
  let u = 0;
  const f: SkabFile = {
    name: join('synthetic', `${k}-${fault}`),
    columns,
    X: [],
    t: [],
    anomaly: [],
    changepoint: [],
  };
  for (let i = 0; i < n; i++) {
    u = 0.98 * u + 0.2 * rng.normal();
    // Fault strength: 0 outside, ramps over 60 rows at each end.
    const m = i < on || i >= off ? 0 : Math.min(1, (i - on) / 60, (off - i) / 60);
    const noisy = fault === 'cavitation' ? 1 + 2 * m : 1;
    let flow = 32 + 0.6 * u + 0.4 * rng.normal() * (fault === 'cavitation' ? 1 + m : 1);
    if (fault === 'leak') flow -= (2.5 * m * (i - on)) / (off - on);
    if (fault === 'valve') flow -= 2 * m;
    let pressure = 0.2 + 0.15 * (flow - 32) + 0.2 * rng.normal() * noisy;
    if (fault === 'valve') pressure += 0.6 * m;
    let current = 1 + 0.1 * u + 0.15 * rng.normal();
    if (fault === 'valve') current -= 0.1 * m;
    if (fault === 'imbalance') current += 0.06 * m;
    let acc1 = 0.027 + 0.0005 * u + 0.0006 * rng.normal() * noisy;
    let acc2 = 0.041 + 0.0008 * rng.normal() * noisy;
    if (fault === 'imbalance') {
      acc1 += 0.003 * m;
      acc2 += 0.002 * m;
    }
    const temperature = 68 + warm * (1 - Math.exp(-i / tauT)) + 0.05 * rng.normal();
    let fluid = 24 + slope * i + 0.02 * rng.normal();
    if (fault === 'heating') fluid += 1.5 * m;
    f.X.push([acc1, acc2, current, pressure, temperature, fluid, 232 + 1.5 * rng.normal(), flow]);
    f.t.push(i * 1000);
    f.anomaly.push(i >= on && i < off ? 1 : 0);
    f.changepoint.push(i === on || i === on + 60 || i === off - 60 || i === off ? 1 : 0);
  }
  return f;
}

const LEADERBOARD: [string, number, number, number, number][] = [
  ['Conv-AE', 0.78, 13.55, 28.02, 23.61],
  ['MSET', 0.78, 39.73, 14.13, 13.84],
  ['T-squared+Q (PCA)', 0.76, 26.62, 24.92, 25.35],
  ['LSTM-AE', 0.74, 29.96, 25.92, 23.51],
  ['T-squared', 0.66, 19.21, 42.6, 19.54],
  ['Isolation forest', 0.29, 2.56, 82.89, 26.16],
];

const FAR_LIMIT = 12;

const PROTOCOL =
  'chosen on valve1 (F1, FAR) and the anomaly-free segments (FAR): highest valve1 F1 whose FAR upper bounds on ' +
  'valve1 and on the anomaly-free segments are both <= 12 %; rule and candidates fixed before each of three rounds; valve2 ' +
  'and the synthetic set are checks, never used to choose';

/**
 * The configuration chosen on one group (the rule was fixed, with the candidate set, before the round-two
 * candidates were run): highest F1 on the group among the configurations whose FAR upper bound on that group AND
 * FAR upper bound on the anomaly-free segments are both at most 12 % (the issue's limit, which has to hold on
 * files not seen and on long normal running); ties go to the lower FAR on the group, then to the configuration
 * listed first. When none qualifies, the one whose larger upper bound is lowest. `robust` false: the point FARs
 * instead of the upper bounds (shown beside, never used). Without anomaly-free segments only the group's FAR
 * counts.
 */
function choose<T extends { m: Method; by: Map<string, Counts>; free: Result; freeSegments: number }>(
  results: T[],
  group: string | undefined,
  robust = true,
) {
  const far = (y: Result) => (robust ? y.farUpper : y.far);
  const worst = (x: T, r: Result) => Math.max(far(r), x.freeSegments ? far(x.free) : 0);
  let best: (T & { r: Result }) | undefined;
  for (const x of results) {
    if (x.m.baseline) continue;
    const c = group === undefined ? merge([...x.by.values()]) : x.by.get(group);
    if (!c) continue;
    const r = metrics(c);
    const ok = worst(x, r) <= FAR_LIMIT;
    const bestOk = best !== undefined && worst(best, best.r) <= FAR_LIMIT;
    const better =
      !best ||
      (ok && !bestOk) ||
      (ok && bestOk && (r.f1 > best.r.f1 || (r.f1 === best.r.f1 && r.far < best.r.far))) ||
      (!ok && !bestOk && worst(x, r) < worst(best, best.r));
    if (better) best = { ...x, r };
  }
  return best;
}

function main(): void {
  const flags = parseFlags();
  const dir = dataDir(flags, 'data', 'datasets/skab');
  const parsed = walk(dir).map((p) => parse(p, dir));
  const files = parsed.filter((f) => f.labelled && f.X.length > TRAIN);
  if (files.length === 0) {
    console.error(`no labelled SKAB CSV under ${dir}`);
    process.exit(2);
  }
  const only = typeof flags.methods === 'string' ? flags.methods.split(',') : undefined;
  const methods = METHODS.filter((m) => !only || only.includes(m.name));
  const groups = [...new Set(files.map(groupOf))].sort();
  const select =
    typeof flags.select === 'string' ? flags.select : groups.includes('valve1') ? 'valve1' : undefined;
  if (select !== undefined && !groups.includes(select)) {
    console.error(`--select ${select}: no such group (have ${groups.join(', ')})`);
    process.exit(2);
  }
  console.log(
    `SKAB: ${files.length} labelled files under ${dir} (${groups
      .map((g) => `${g || '.'} ${files.filter((f) => groupOf(f) === g).length}`)
      .join(', ')}); train on the first ${TRAIN} rows of each, score the rest`,
  );
  // Selection data beside valve1 (FAR only): the anomaly-free segments. Checks never used to choose: the synthetic set.
  const length = Math.round(files.reduce((a, f) => a + f.X.length, 0) / files.length);
  const free = parsed.filter((f) => !f.labelled).flatMap((f) => segments(f, length));
  const seed = numberFlag(flags, 'seed', 1);
  const synth = Array.from({ length: numberFlag(flags, 'synthetic', 15) }, (_, k) => synthetic(seed, k));
  console.log(
    `selection data beside ${select ?? 'all files'}: ${free.length} anomaly-free segments of ${length} rows (FAR ` +
      `only); check, not used to choose: ${synth.length} synthetic other-like files (seed ${seed}: ${FAULTS.join(', ')}, drifting temperatures)`,
  );
  const head = ['method'];
  for (const g of groups) head.push(`${g} F1`, 'FAR %', 'FAR up');
  head.push('all F1', 'FAR %', 'MAR %', 'NAB std', 'NAB lowFP', 'NAB lowFN');
  head.push('free FAR %', 'FAR up', 'synth F1', 'FAR %', 'MAR %', 's');
  const rows: (string | number)[][] = [head];
  const results: { m: Method; by: Map<string, Counts>; free: Result; freeSegments: number; synth: Result }[] =
    [];
  for (const m of methods) {
    const t0 = Date.now();
    const by = run(files, m);
    const fr = metrics(merge([...run(free, m).values()]));
    const sy = metrics(merge([...run(synth, m).values()]));
    results.push({ m, by, free: fr, freeSegments: free.length, synth: sy });
    const all = metrics(merge([...by.values()]));
    const line: (string | number)[] = [`takt ${m.name}`];
    for (const g of groups) {
      const r = metrics(by.get(g) ?? emptyCounts());
      line.push(r.f1, r.far, r.farUpper);
    }
    line.push(
      all.f1,
      all.far,
      all.mar,
      all.nabStandard,
      all.nabLowFP,
      all.nabLowFN,
      free.length ? fr.far : '',
      free.length ? fr.farUpper : '',
      sy.f1,
      sy.far,
      sy.mar,
      (Date.now() - t0) / 1000,
    );
    rows.push(line);
    console.log(`  ${line.map((c) => (typeof c === 'number' ? fmt(c) : c)).join('  ')}`);
  }
  for (const [name, f1, far, mar, nab] of LEADERBOARD) {
    const line: (string | number)[] = [`published ${name} (34 files)`];
    line.push(...groups.flatMap(() => ['', '', '']));
    line.push(f1, far, mar, nab, '', '', '', '', '', '', '', '');
    rows.push(line);
  }
  console.log('');
  printTable(rows);

  // Each group in turn chooses; the others are held out. The point-estimate rule is shown beside the one used.
  console.log(
    '\nchosen on one group (highest F1 whose FAR upper bounds, "FAR up", on the group and on the anomaly-free' +
      ' segments are <= 12 %; "point": the FARs themselves <= 12 %), reported on the others:',
  );
  const split: (string | number)[][] = [
    ['chosen on', 'method', 'group', 'F1', 'FAR %', 'FAR up', 'MAR %', 'NAB std'],
  ];
  for (const [g, robust] of groups.flatMap((x) => [
    [x, true],
    [x, false],
  ]) as [string, boolean][]) {
    const c = choose(results, g, robust);
    if (!c) continue;
    const by = robust ? g || '.' : `${g || '.'} (point)`;
    for (const h of groups) {
      const r = metrics(c.by.get(h) ?? emptyCounts());
      split.push([
        by,
        c.m.name,
        h === g ? `${h} (chosen here)` : `${h} (held out)`,
        r.f1,
        r.far,
        r.farUpper,
        r.mar,
        r.nabStandard,
      ]);
    }
    const held = metrics(merge(groups.filter((h) => h !== g).map((h) => c.by.get(h) ?? emptyCounts())));
    if (groups.length > 1)
      split.push([
        by,
        c.m.name,
        'all held out',
        held.f1,
        held.far,
        held.farUpper,
        held.mar,
        held.nabStandard,
      ]);
  }
  printTable(split);

  const chosen = choose(results, select);
  if (!chosen) return;
  const pooled = metrics(merge([...chosen.by.values()]));
  console.log(
    `\nchosen on ${select ?? 'all files'}: ${chosen.m.name}; pooled over ${pooled.files} files: F1 ${pooled.f1}, ` +
      `FAR ${pooled.far} % (upper bound ${pooled.farUpper} %), MAR ${pooled.mar} %, NAB ${pooled.nabStandard} ` +
      `(${pooled.cps} true change points in the test parts); anomaly-free FAR ${chosen.free.far} % (upper bound ` +
      `${chosen.free.farUpper} %)`,
  );
  finalLine({
    bench: 'skab',
    files: files.length,
    f1: pooled.f1,
    far: pooled.far,
    mar: pooled.mar,
    nabStandard: pooled.nabStandard,
    nabLowFP: pooled.nabLowFP,
    nabLowFN: pooled.nabLowFN,
    method: chosen.m.name,
    selectedOn: select ?? 'all',
    chosenOn: select ?? 'all',
    heldOut:
      groups
        .filter((g) => g !== select)
        .map((g) => (g === 'valve2' ? 'valve2 (seen by earlier sessions, so not truly held out)' : g))
        .join(', ') || 'none',
    groups: Object.fromEntries(
      groups.map((g) => {
        const r = metrics(chosen.by.get(g) ?? emptyCounts());
        return [g || '.', { files: r.files, f1: r.f1, far: r.far, mar: r.mar, nabStandard: r.nabStandard }];
      }),
    ),
    anomalyFree: free.length
      ? { segments: free.length, far: chosen.free.far, farUpper: chosen.free.farUpper, usedToChoose: true }
      : undefined,
    protocol: PROTOCOL,
    candidates: methods.filter((m) => !m.baseline).length,
    synthetic: {
      note: 'generated by this bench, not SKAB data',
      seed,
      files: synth.length,
      f1: chosen.synth.f1,
      far: chosen.synth.far,
      mar: chosen.synth.mar,
    },
  });
}

main();
