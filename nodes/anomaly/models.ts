/**
 * Anomaly models trained in the pack and exported to ONNX, so that the edge box needs no Python. The model kinds
 * are modules of a registry (kinds/index.ts; one module each, see docs/ARCHITECTURE.md):
 *
 *   pca          PCA on standardised features; Hotelling T² on the retained components and Q (SPE) on the
 *                residual. score = ½·T²/T²ref + ½·Q/Qref (refs: training quantiles), so both statistics weigh alike;
 *                per-feature contributions sum to the score (T² by its complete decomposition z·(PΛ⁻¹Pᵀz)).
 *   mset         multivariate state estimation with a Gaussian similarity over remembered states (kinds/mset.ts).
 *   autoencoder  dense tanh autoencoder d-h-b-h-d trained by mini-batch Adam on standardised features (the core
 *                trainer, core/dense.ts), early stopping on a held-out fifth; score = mean squared reconstruction
 *                error, contributions its terms.
 *
 * This module does what is common to every kind: options, drifting features, threshold calibration, the card,
 * the ONNX metadata, and reading a written model back (`loadTrainedModel`). A kind name that is not registered
 * fails with `anomaly.unknownKind`.
 *
 * Normalisation is in the graph. Weights are kept as float32 so that the in-process scorer (`scoreMatrix`) and
 * onnxruntime compute with the same numbers.
 *
 * Drifting features: a feature drifts when the training window shows it moving on a time scale the window cannot
 * cover, so that normal running will carry it out of the window's range: most of its variance lies between
 * consecutive blocks of rows (between-block share, `slowShare` in linalg.ts, above `TrainOptions.slowShare`,
 * default 0.5), or its block medians trend (Mann-Kendall |z| > 2.576, the 1 % level) by a Theil-Sen slope that
 * would move it more than 2 within-block noise widths over one more window (`trendTest` in linalg.ts). Blocks
 * are the health-index window, at least 10 rows and at most an eighth of the training window (shorter windows,
 * under 80 rows, skip both tests). If every feature drifts, none is treated. By default (`drift: 'ignore'`) a
 * drifting feature gets weight 0 (inverse scale 0 in the graph: it stays an input, contributes nothing, and the
 * card lists it under `ignored`). With `drift: 'baseline'` it is scored instead by its deviation from a slowly
 * adapting level (baseline.ts, time constant `baselineRows`, default twice the smoothing window), so that its
 * drift is discounted but a step in it still counts; the model is fitted on those deviations, the card carries the
 * levels (`baseline`) and scoring must run in time order (`scoreSeries` here, OnnxAnomalyModel on line). On SKAB's
 * valve1 files that mode lost to weight 0 (README, bench:skab), hence the default.
 *
 * Following (`follow`, default 150 rows; 0 turns it off): after training, the other sensors' levels follow slow
 * changes with that time constant while the model's health index stays under its threshold, stand still during an
 * alarm, and stay still until the index has been back under the threshold for `followHold` rows (default one
 * smoothing window), so that an alarm dipping under its line is not learnt in the dip (LevelFollower in
 * baseline.ts). It is for normal running that wanders beyond what one training window shows: on SKAB's
 * anomaly-free recording, fixed levels raise false alarms on 23.6 % of the rows, followed ones on 7.6 % (README,
 * bench:skab, where this default was chosen on valve1 and that recording). The price: a fault that builds up
 * slower than the time constant while the index stays under the threshold is followed and not found, and a drift
 * that goes on through a long alarm can keep the alarm up after the fault (the levels stood still meanwhile).
 * Scoring must then run in time order (scoreSeries here, OnnxAnomalyModel row by row on line). `followGate` (a
 * fraction of the threshold the index must be under), `followResume` (after an alarm, move again only under a
 * fraction of the threshold) and `calibrateFollowing` (held-out calibration blocks scored behind a follower) are
 * options the bench tried and did not choose. takt-train does not offer them (it trains with the defaults);
 * they stay for the library and because bench:skab runs every candidate of its three protocol rounds again
 * (its final JSON counts them), which is how the choice above can be checked. A card that carries a gate or a
 * resume level (FollowSpec) is scored with it by takt-anomaly.
 *
 * Threshold: a quantile of calibration scores times a factor, for the raw score and for its moving mean (the
 * health index). By default (`calibration: 'blocked'`) the calibration scores are out of sample: the training
 * rows are cut into `folds` (default 4) consecutive blocks, and each block is scored by a model fitted on the
 * others, so the threshold reflects how the model scores rows it has not seen (including drift between
 * blocks). `calibration: 'in-sample'` scores the training rows with the final model itself.
 */
import { TaktError } from '../core/errors';
import { readOnnx } from '../core/onnx';
import { applyBaseline, type BaselineSpec, type FollowSpec, LevelFollower } from './baseline';
import {
  BUILTIN_KINDS,
  type BuiltinKind,
  type KindOptions,
  type KindParams,
  modelKind,
  type Scores,
} from './kinds';
import { movingMean, quantile, slowShare, trendTest } from './linalg';
import { encodeModel } from './onnx';

export type { BaselineSpec, FollowSpec };
export type {
  AeParams,
  KindParams,
  ModelKindModule,
  ModelParams,
  MsetParams,
  PcaParams,
  Scores,
} from './kinds';
export {
  isModelKind,
  modelKind,
  modelKinds,
  registerModelKind,
  scorePca,
  unregisterModelKind,
} from './kinds';

/** The built-in kinds (the ones the train node offers); registerModelKind adds others for in-process training. */
export const MODEL_KINDS = BUILTIN_KINDS;
export type ModelKind = BuiltinKind;

export const CALIBRATIONS = ['blocked', 'in-sample'] as const;
export type Calibration = (typeof CALIBRATIONS)[number];

export const DRIFT_MODES = ['baseline', 'ignore'] as const;
export type DriftMode = (typeof DRIFT_MODES)[number];

export interface TrainOptions extends KindOptions {
  /** A registered model kind (default 'pca'; the built-in ones are MODEL_KINDS). */
  kind?: string;
  /** Threshold = quantile(training scores, thresholdQuantile) · thresholdFactor; defaults 1 (the max) and 1. */
  thresholdFactor?: number;
  /** Moving-mean window of the health index, in rows (default 30). */
  smoothing?: number;
  /** Threshold calibration scores: out of sample over consecutive blocks (default) or in sample. */
  calibration?: Calibration;
  /** Blocks of the 'blocked' calibration (default 4, at least 2). */
  folds?: number;
  /** A feature whose between-block variance share exceeds this drifts (default 0.5; 1 turns the rule off). */
  slowShare?: number;
  /** A feature with a significant monotone trend that would carry it 2 noise widths in one window drifts. */
  trend?: boolean;
  /** Drifting features: weight 0 (default) or scored against an adapting level. */
  drift?: DriftMode;
  /** Time constant of the adapting level, in rows (default twice the smoothing window). */
  baselineRows?: number;
  /**
   * After training, let the levels of the other sensors follow slow changes with this time constant (rows) while
   * the health index is under its threshold (LevelFollower in baseline.ts); default 150, 0 keeps them fixed.
   */
  follow?: number;
  /**
   * With `follow`: the levels move only while the health index is at or under this fraction of its threshold
   * (FollowSpec.gate; default 1), so that a fault building up under the alarm line is not learnt. A candidate of
   * bench:skab that was not chosen; takt-train leaves it at 1 (module comment).
   */
  followGate?: number;
  /**
   * With `follow`: after the health index was over the gate, the levels stay still until it has been under it for
   * this many rows (FollowSpec.hold; default the smoothing window).
   */
  followHold?: number;
  /**
   * With `follow`: after an alarm, the levels move again only once the health index is at or under this fraction of
   * its threshold (FollowSpec.resume; default 1), for `followHold` rows. A candidate of bench:skab that was not
   * chosen; takt-train leaves it at 1.
   */
  followResume?: number;
  /**
   * With `follow` and blocked calibration: score each held-out block behind a level follower (started at its
   * fold's training means) as rows after training are scored, so that the threshold is calibrated on scores
   * made the way the model scores on line (default false: held-out blocks at fixed levels). A candidate of
   * bench:skab that was not chosen; takt-train leaves it off.
   */
  calibrateFollowing?: boolean;
}

export interface ModelCard {
  /** The model kind (a registered name: MODEL_KINDS or one added by registerModelKind). */
  kind: string;
  features: string[];
  rows: number;
  range: { min: number[]; max: number[]; mean: number[] };
  threshold: number;
  smoothing: number;
  smoothedThreshold: number;
  thresholdQuantile: number;
  thresholdFactor: number;
  /** How the thresholds were calibrated ('in-sample' when the window is too short for blocks). */
  calibration: Calibration;
  folds: number;
  /** Between-block variance share of each feature in the training window, and the features given weight 0. */
  slowShare: number[];
  ignored: string[];
  /** Mann-Kendall z of each feature's block medians; the features found drifting (slow share or trend). */
  trendZ: number[];
  drifting: string[];
  /** Drifting features scored against an adapting level (baseline.ts); absent when there are none. */
  baseline?: BaselineSpec;
  /** Levels that follow slow changes after training (TrainOptions.follow); absent when off. */
  follow?: FollowSpec;
  metrics: Record<string, number>;
  trainedAt: string;
}

export interface TrainedModel {
  /** The kind's parameters (ModelParams for the built-in kinds). */
  params: KindParams;
  card: ModelCard;
}

/** Trend rule: Mann-Kendall |z| above the 1 % two-sided level, and a drift over one window of 2 noise widths. */
const TREND_Z = 2.576;
const TREND_NOISE = 2;

function bad(code: string, field: string, message: string): never {
  throw new TaktError(code, `${field}: ${message}`, field);
}

function checkMatrix(X: ArrayLike<number>, n: number, d: number, features: readonly string[]): void {
  if (X.length !== n * d) bad('anomaly.badMatrix', 'rows', `expected ${n}×${d} values, got ${X.length}`);
  for (let i = 0; i < n * d; i++)
    if (!Number.isFinite(X[i]))
      bad('anomaly.notFinite', features[i % d] ?? 'rows', `row ${Math.floor(i / d)} is not a finite number`);
}

// ---------------------------------------------------------------- common API

/** Scores rows (n×d row-major) with the in-process model. */
export function scoreMatrix(p: KindParams, X: ArrayLike<number>, n: number): Scores {
  return modelKind(p.kind).score(p, X, n);
}

/**
 * Scores rows of a series that starts at the model's first training row, in time order: the drifting features
 * against their adapting level from where training started (card.baseline), the rows after the training window
 * behind the level follower (card.follow), the rest as scoreMatrix does.
 */
export function scoreSeries(t: TrainedModel, X: ArrayLike<number>, n: number): Scores {
  const { baseline: b, follow: f } = t.card;
  if (!b && !f) return scoreMatrix(t.params, X, n);
  const d = t.params.d;
  const Y = Float64Array.from(X);
  if (b) applyBaseline(b, Y, n, d, [...b.start]);
  if (!f || n <= t.card.rows) return scoreMatrix(t.params, Y, n);
  // Training rows as they are; after them, row by row behind the follower.
  const m = t.card.rows;
  const head = scoreMatrix(t.params, Y.subarray(0, m * d), m);
  const score = new Float64Array(n);
  const contributions = new Float64Array(n * d);
  score.set(head.score);
  contributions.set(head.contributions);
  scoreFollowing(t.params, new LevelFollower(f), Y, m, n, score, contributions);
  return { n, d, score, contributions };
}

/** Scores rows [lo, hi) of Y (rows of d = p.d columns) one by one behind `follower`, into score (and contributions). */
function scoreFollowing(
  p: KindParams,
  follower: LevelFollower,
  Y: Float64Array,
  lo: number,
  hi: number,
  score: Float64Array,
  contributions?: Float64Array,
): void {
  const d = p.d;
  const row = new Float64Array(d);
  for (let i = lo; i < hi; i++) {
    row.set(Y.subarray(i * d, (i + 1) * d));
    follower.shift(Y, i, d, row, 0);
    const r = scoreMatrix(p, row, 1);
    score[i] = r.score[0];
    contributions?.set(r.contributions, i * d);
    follower.update(Y, i, d, score[i]);
  }
}

/**
 * Trains a model on `n` rows of normal data (n×features.length, row-major), gives slow features weight 0 and
 * calibrates its thresholds (module comment). Fewer rows than features, NaN, or an unknown option give a
 * TaktError.
 */
export function trainModel(
  X: ArrayLike<number>,
  n: number,
  features: readonly string[],
  o: TrainOptions = {},
): TrainedModel {
  const kind = o.kind ?? 'pca';
  const module = modelKind(kind, 'kind', 'anomaly.badOption');
  const d = features.length;
  if (d < 2) bad('anomaly.badOption', 'features', 'a model needs at least 2 features');
  if (new Set(features).size !== d) bad('anomaly.badOption', 'features', 'feature names must be unique');
  if (!Number.isInteger(n) || n <= d || n < 10)
    bad(
      'anomaly.tooFewRows',
      'rows',
      `${n} training rows for ${d} features: need more rows than features (and at least 10)`,
    );
  checkMatrix(X, n, d, features);
  const tq = o.thresholdQuantile ?? 1;
  const tf = o.thresholdFactor ?? 1;
  const w = Math.max(1, Math.round(o.smoothing ?? 30));
  if (!(tq > 0 && tq <= 1)) bad('anomaly.badOption', 'thresholdQuantile', 'must be in (0, 1]');
  if (!(tf > 0)) bad('anomaly.badOption', 'thresholdFactor', 'must be positive');
  const calibration = o.calibration ?? 'blocked';
  if (!(CALIBRATIONS as readonly string[]).includes(calibration))
    bad(
      'anomaly.badOption',
      'calibration',
      `"${String(calibration)}" is not one of ${CALIBRATIONS.join(', ')}`,
    );
  const folds = o.folds ?? 4;
  if (!(Number.isInteger(folds) && folds >= 2)) bad('anomaly.badOption', 'folds', 'must be an integer >= 2');
  const slowLimit = o.slowShare ?? 0.5;
  if (!(slowLimit > 0 && slowLimit <= 1)) bad('anomaly.badOption', 'slowShare', 'must be in (0, 1]');
  const driftMode = o.drift ?? 'ignore';
  if (!(DRIFT_MODES as readonly string[]).includes(driftMode))
    bad('anomaly.badOption', 'drift', `"${String(driftMode)}" is not one of ${DRIFT_MODES.join(', ')}`);
  const tau = o.baselineRows ?? 2 * w;
  if (!(tau >= 1)) bad('anomaly.badOption', 'baselineRows', 'must be at least 1');
  const follow = o.follow ?? 150;
  if (!(follow === 0 || follow >= 1)) bad('anomaly.badOption', 'follow', 'must be 0 (off) or at least 1 row');
  const gate = o.followGate ?? 1;
  if (!(gate > 0 && gate <= 1)) bad('anomaly.badOption', 'followGate', 'must be in (0, 1]');
  const hold = o.followHold ?? w;
  if (!(Number.isInteger(hold) && hold >= 0))
    bad('anomaly.badOption', 'followHold', 'must be an integer >= 0');
  const resume = o.followResume ?? 1;
  if (!(resume > 0 && resume <= 1)) bad('anomaly.badOption', 'followResume', 'must be in (0, 1]');
  const raw = Float64Array.from(X);
  o.onProgress?.(0, `training ${kind} on ${n} rows`);
  // Drifting features (module comment): most of the training variance between blocks, or a significant trend.
  const block = Math.min(Math.max(10, w), Math.floor(n / 8));
  const shares = Array.from({ length: d }, (_, j) => (block >= 10 ? slowShare(raw, n, d, j, block) : 0));
  const trends = Array.from({ length: d }, (_, j) =>
    block >= 10 && o.trend !== false ? trendTest(raw, n, d, j, block) : { z: 0, slope: 0, noise: 0 },
  );
  let drifting = shares.map(
    (v, j) =>
      v > slowLimit ||
      (Math.abs(trends[j].z) > TREND_Z && Math.abs(trends[j].slope) * n > TREND_NOISE * trends[j].noise),
  );
  if (drifting.every(Boolean)) drifting = drifting.map(() => false);
  const ignore = drifting.map((v) => v && driftMode === 'ignore');
  let Xf = raw;
  let baseline: BaselineSpec | undefined;
  const adapt = drifting.flatMap((v, j) => (v && driftMode === 'baseline' ? [j] : []));
  if (adapt.length) {
    const first = Math.min(n, block >= 10 ? block : n);
    const start = adapt.map((j) =>
      quantile(
        Array.from({ length: first }, (_, i) => raw[i * d + j]),
        0.5,
      ),
    );
    const level = [...start];
    const spec = { index: adapt, alpha: 1 / tau };
    Xf = Float64Array.from(raw);
    applyBaseline(spec, Xf, n, d, level);
    baseline = { features: adapt.map((j) => features[j]), ...spec, start, level };
  }
  // Calibration scores: out of fold over consecutive blocks when every fold keeps enough rows to fit.
  const blocked = calibration === 'blocked' && n - Math.ceil(n / folds) > Math.max(d, 10);
  const share = blocked ? 1 / (folds + 1) : 1;
  const progress = o.onProgress;
  const main: TrainOptions = { ...o, onProgress: progress && ((f, text) => progress(f * share, text)) };
  const { params, metrics } = module.train(Xf, n, d, main, ignore);
  const s = scoreMatrix(params, Xf, n).score;
  let cal = s;
  const followed = Array.from({ length: d }, (_, j) => j).filter((j) => !adapt.includes(j));
  // each fold's model and means, kept only for the calibration behind a follower below
  const calibrateFollowing = !!follow && blocked && !!o.calibrateFollowing;
  const held: { params: KindParams; lo: number; hi: number; mean: number[] }[] = [];
  if (blocked) {
    cal = new Float64Array(n);
    const quiet: TrainOptions = { ...o, onProgress: undefined };
    for (let b = 0; b < folds; b++) {
      progress?.(share * (b + 1), `calibrating: block ${b + 1} of ${folds}`);
      const lo = Math.floor((b * n) / folds);
      const hi = Math.floor(((b + 1) * n) / folds);
      const m = n - (hi - lo);
      const rest = new Float64Array(m * d);
      rest.set(Xf.subarray(0, lo * d));
      rest.set(Xf.subarray(hi * d), lo * d);
      const fold = module.train(rest, m, d, quiet, ignore).params;
      cal.set(scoreMatrix(fold, Xf.subarray(lo * d, hi * d), hi - lo).score, lo);
      if (!calibrateFollowing) continue;
      const mean = followed.map((j) => {
        let v = 0;
        for (let i = 0; i < m; i++) v += rest[i * d + j] / m;
        return v;
      });
      held.push({ params: fold, lo, hi, mean });
    }
  }
  let threshold = quantile(cal, tq) * tf;
  let smoothedThreshold = quantile(movingMean(cal, w), tq) * tf;
  if (calibrateFollowing) {
    // Each held-out block again, behind a follower started at its fold's means and gated by the threshold above.
    const again = new Float64Array(n);
    for (const h of held) {
      const spec: FollowSpec = {
        rows: follow,
        features: followed.map((j) => features[j]),
        index: followed,
        mean: h.mean,
        smoothing: w,
        threshold: smoothedThreshold,
        gate,
        hold,
        resume,
      };
      scoreFollowing(h.params, new LevelFollower(spec), Xf, h.lo, h.hi, again);
    }
    cal = again;
    threshold = quantile(cal, tq) * tf;
    smoothedThreshold = quantile(movingMean(cal, w), tq) * tf;
  }
  metrics.meanTrainingScore = s.reduce((a, b) => a + b, 0) / n;
  if (blocked) metrics.meanCalibrationScore = cal.reduce((a, b) => a + b, 0) / n;
  const min: number[] = [];
  const max: number[] = [];
  const mean: number[] = [];
  for (let j = 0; j < d; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = raw[i * d + j];
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      m += v / n;
    }
    min.push(lo);
    max.push(hi);
    mean.push(m);
  }
  o.onProgress?.(1, 'trained');
  return {
    params,
    card: {
      kind,
      features: [...features],
      rows: n,
      range: { min, max, mean },
      threshold,
      smoothing: w,
      smoothedThreshold,
      thresholdQuantile: tq,
      thresholdFactor: tf,
      calibration: blocked ? 'blocked' : 'in-sample',
      folds: blocked ? folds : 1,
      slowShare: shares,
      ignored: features.filter((_, j) => ignore[j]),
      trendZ: trends.map((t) => t.z),
      drifting: features.filter((_, j) => drifting[j]),
      ...(baseline ? { baseline } : {}),
      ...(follow
        ? {
            follow: {
              rows: follow,
              features: followed.map((j) => features[j]),
              index: followed,
              mean: followed.map((j) => mean[j]),
              smoothing: w,
              threshold: smoothedThreshold,
              // written only when they differ from the defaults of earlier versions, whose cards lack them
              ...(gate !== 1 ? { gate } : {}),
              ...(hold !== 0 ? { hold } : {}),
              ...(resume !== 1 ? { resume } : {}),
            },
          }
        : {}),
      metrics,
      trainedAt: new Date().toISOString(),
    },
  };
}

/** Metadata keys written into the ONNX file (and read back by OnnxAnomalyModel). */
export const META = {
  kind: 'takt.kind',
  features: 'takt.features',
  threshold: 'takt.threshold',
  smoothing: 'takt.smoothing',
  smoothedThreshold: 'takt.smoothedThreshold',
  means: 'takt.means',
  input: 'takt.input',
  score: 'takt.score',
  contributions: 'takt.contributions',
  card: 'takt.card',
} as const;

/** The trained model as ONNX bytes: input `features` [N, d]; outputs `score` [N, 1], `contributions` [N, d]. */
export function modelToOnnx(t: TrainedModel): Uint8Array {
  const c = t.card;
  if (c.kind !== t.params.kind)
    bad('anomaly.badModel', 'kind', `the card says "${c.kind}", the parameters are "${t.params.kind}"`);
  const g = modelKind(t.params.kind).export(t.params);
  return encodeModel({
    name: `takt_${c.kind}`,
    doc: `Takt anomaly model (${c.kind}) over ${c.features.join(', ')}`,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'features', width: t.params.d }],
    outputs: g.outputs,
    metadata: {
      [META.kind]: c.kind,
      [META.features]: JSON.stringify(c.features),
      [META.threshold]: String(c.threshold),
      [META.smoothing]: String(c.smoothing),
      [META.smoothedThreshold]: String(c.smoothedThreshold),
      [META.means]: JSON.stringify(c.range.mean),
      [META.input]: 'features',
      [META.score]: 'score',
      [META.contributions]: 'contributions',
      [META.card]: JSON.stringify(c),
    },
  });
}

/**
 * Reads a model written by `modelToOnnx` back: the card from the metadata and the parameters from the graph, by
 * the card's kind. A file that is not a Takt anomaly model gives `anomaly.notOnnx`; a card whose kind is not
 * registered gives `anomaly.unknownKind`.
 */
export function loadTrainedModel(bytes: Uint8Array, where = 'model'): TrainedModel {
  const notOnnx = (reason: string) =>
    new TaktError('anomaly.notOnnx', `${where}: not a Takt anomaly model (${reason})`, 'model');
  const m = readOnnx(bytes, notOnnx);
  let card: ModelCard;
  try {
    card = JSON.parse(m.metadata[META.card] ?? '') as ModelCard;
  } catch {
    throw notOnnx(`no model card in metadata ${META.card}`);
  }
  if (card === null || typeof card !== 'object' || !Array.isArray(card.features))
    throw notOnnx(`no model card in metadata ${META.card}`);
  const module = modelKind(card.kind, 'kind');
  if (m.metadata[META.kind] !== undefined && m.metadata[META.kind] !== card.kind)
    throw notOnnx(
      `metadata ${META.kind} "${m.metadata[META.kind]}" and the card's kind "${card.kind}" differ`,
    );
  return { params: module.load(m, card.features.length), card };
}
