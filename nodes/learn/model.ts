/**
 * Quality prediction (virtual metrology): `fit` splits the rows (seeded) into training, validation (early
 * stopping) and calibration (split conformal intervals) parts, boosts trees, fits a ridge baseline the trees
 * must beat, and returns the ONNX file (ONNX-ML tree ensemble, card in metadata_props) and the card.
 * `Predictor` reads that file back and predicts value, conformal interval or class probabilities, and the
 * TreeSHAP contribution of each feature.
 */
import { readFile } from 'node:fs/promises';
import { TaktError } from '../core/errors';
import { cholesky, choleskySolve } from '../core/linalg';
import { Rng } from '../core/random';
import { ensembleToOnnx, onnxToEnsemble } from './onnx-ml';
import { treeExpectation, treeShap } from './shap';
import {
  boost,
  margins,
  sigmoid,
  softmax,
  DEFAULT_BOOST,
  PackedEnsemble,
  type BoostOptions,
  type Ensemble,
} from './trees';

export type Task = 'regression' | 'classification';

export interface FitOptions {
  task: Task;
  /**
   * Wall-clock limit for boosting; the best model found so far is kept. On small data it covers both growths
   * (see SMALL_DATA_ROWS): a second growth that does not finish in the time left is dropped, and the
   * early-stopped model is kept.
   */
  timeLimitMs?: number;
  /** Feature names (default x0, x1, ...). */
  features?: string[];
  /** Target coverage of the conformal intervals (regression), default 0.9. */
  coverage?: number;
  /** Seed of the row split, default 1. */
  seed?: number;
  /** Share of rows for validation and for calibration, default 0.1 each. */
  validShare?: number;
  calibShare?: number;
  boost?: Partial<BoostOptions>;
}

export interface LearnCard {
  kind: 'gbt';
  task: Task;
  features: string[];
  /** Class labels in the order of `probabilities` (classification). */
  classes?: number[];
  /**
   * The row split: early stopping trained on `train` rows and chose the rounds on `valid`; the conformal
   * interval is calibrated on `calib`. When `training.refit`, the model served trained on train + valid rows.
   */
  rows: { train: number; valid: number; calib: number };
  /** Expected margin per output (what contributions are measured from). */
  expected: number[];
  conformal?: { coverage: number; quantile: number; calibRows: number; calibCoverage: number };
  metrics: {
    valid: { rmse?: number; logLoss?: number; accuracy?: number };
    baseline: { kind: 'ridge'; rmse?: number; accuracy?: number };
    beatsBaseline: boolean;
  };
  training: {
    rounds: number;
    bestRound: number;
    /**
     * Grown again on the training and validation rows together for bestRound rounds (scaled by the rows) after
     * early stopping chose them: regression on small data (see SMALL_DATA_ROWS). Absent in older cards.
     */
    refit?: boolean;
    trees: number;
    stoppedBy: string;
    ms: number;
    options: BoostOptions;
  };
  trainedAt: string;
}

export const CARD_KEY = 'takt.card';

/**
 * Data up to this many rows is small (scikit-learn's HistGradientBoosting turns early stopping on above the same
 * count): there the trees learn at SMALL_DATA_LEARNING_RATE instead of DEFAULT_BOOST's, and a regression is
 * grown again on its training and validation rows together once early stopping has chosen the rounds. The
 * trees are cheap there; a rate of 0.2 with a validation tenth of a few hundred rows stopped early and coarse
 * (on scikit-learn's Friedman 1 and a linear regression, 1.08x and 1.10x HistGradientBoosting's test RMSE;
 * 1.02x and 1.00x with both changes: bench:learn-datasets, group a).
 */
export const SMALL_DATA_ROWS = 10_000;
export const SMALL_DATA_LEARNING_RATE = 0.1;

/**
 * Which rows `fit` trained on and which it held out (calibration rows for regression, validation rows for
 * classification), with the model's error on each held-out row: measured minus predicted (regression) or one
 * minus the probability of the measured class (classification). The registry keeps them as the drift
 * reference of the model's errors and for the promotion check.
 */
export interface FitSplit {
  train: number[];
  heldOut: number[];
  residuals: number[];
}

export interface Prediction {
  value?: number;
  lower?: number;
  upper?: number;
  label?: number;
  probabilities?: number[];
  /** One number per feature (card.features order), in margin units: value for regression, log-odds for two
   * classes, the predicted class's logit for more. They sum to margin minus card.expected. From `predict`:
   * worked out (TreeSHAP) when first read, from a copy of the row, then kept as an own property; a prediction
   * whose contributions are never read costs no TreeSHAP (JSON and Node-RED's message copies have them; a
   * spread or structuredClone only once read). */
  contributions: number[];
}

/** Throws `learn.badFeatures` unless X is a rectangle of finite numbers of width d. */
export function checkMatrix(X: number[][], d: number | undefined, field = 'X'): number {
  if (!Array.isArray(X) || X.length === 0) throw new TaktError('learn.noData', 'no rows', field);
  const w = d ?? (Array.isArray(X[0]) ? X[0].length : 0);
  if (w === 0) throw new TaktError('learn.badFeatures', 'rows have no features', field);
  for (let i = 0; i < X.length; i++) {
    const r = X[i];
    if (!Array.isArray(r) || r.length !== w)
      throw new TaktError(
        'learn.badFeatures',
        `row ${i} has ${Array.isArray(r) ? r.length : 'no'} features, expected ${w}`,
        field,
      );
    for (let j = 0; j < w; j++)
      if (typeof r[j] !== 'number' || !Number.isFinite(r[j]))
        throw new TaktError(
          'learn.badFeatures',
          `row ${i} feature ${j}: ${String(r[j])} is not a finite number`,
          field,
        );
  }
  return w;
}

/** Ridge regression on standardised features with several targets; returns a predictor. */
export function ridge(X: number[][], Y: number[][], lambda = 1): (x: number[]) => number[] {
  const n = X.length;
  const d = X[0].length;
  const k = Y[0].length;
  const mu = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const r of X) for (let j = 0; j < d; j++) mu[j] += r[j] / n;
  for (const r of X) for (let j = 0; j < d; j++) sd[j] += (r[j] - mu[j]) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const ym = new Array<number>(k).fill(0);
  for (const r of Y) for (let c = 0; c < k; c++) ym[c] += r[c] / n;
  const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const B = Array.from({ length: k }, () => new Array<number>(d).fill(0));
  const z = new Array<number>(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = (X[i][j] - mu[j]) / sd[j];
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) A[a][b] += z[a] * z[b];
      for (let c = 0; c < k; c++) B[c][a] += z[a] * (Y[i][c] - ym[c]);
    }
  }
  for (let a = 0; a < d; a++) A[a][a] += lambda;
  // A is symmetric positive definite (λ > 0): one Cholesky factor, a solve per output.
  const L = cholesky(A);
  const cols = B.map((b) => choleskySolve(L, b));
  const beta = Array.from({ length: d }, (_, j) => cols.map((col) => col[j]));
  return (x) => {
    const out = [...ym];
    for (let j = 0; j < d; j++) {
      const zj = (x[j] - mu[j]) / sd[j];
      for (let c = 0; c < k; c++) out[c] += zj * beta[j][c];
    }
    return out;
  };
}

/** The split-conformal quantile: the ceil((n+1)·coverage)-th smallest score (Infinity if n is too small). */
export function conformalQuantile(scores: number[], coverage: number): number {
  const s = [...scores].sort((a, b) => a - b);
  const r = Math.ceil((s.length + 1) * coverage);
  return r > s.length ? Infinity : s[r - 1];
}

const rmseOf = (p: number[], y: number[]): number =>
  Math.sqrt(p.reduce((a, v, i) => a + (v - y[i]) ** 2, 0) / Math.max(1, p.length));

/** Trains a model; see the module comment. */
export async function fit(
  X: number[][],
  y: number[],
  opts: FitOptions,
): Promise<{ onnx: Uint8Array; card: LearnCard; split: FitSplit }> {
  const t0 = Date.now();
  const task = opts.task;
  if (task !== 'regression' && task !== 'classification')
    throw new TaktError(
      'learn.badTask',
      `task must be regression or classification, not ${String(task)}`,
      'task',
    );
  const d = checkMatrix(X, undefined);
  if (!Array.isArray(y) || y.length !== X.length)
    throw new TaktError('learn.badLabels', `${y?.length ?? 0} labels for ${X.length} rows`, 'y');
  y.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TaktError('learn.badLabels', `label ${i}: ${String(v)} is not a finite number`, 'y');
  });
  const features = opts.features ?? Array.from({ length: d }, (_, j) => `x${j}`);
  if (features.length !== d)
    throw new TaktError(
      'learn.badFeatures',
      `${features.length} feature names for ${d} features`,
      'features',
    );
  const n = X.length;
  if (n < 50) throw new TaktError('learn.noData', `${n} rows: at least 50 are needed`, 'X');
  const coverage = opts.coverage ?? 0.9;
  if (!(coverage > 0 && coverage < 1))
    throw new TaktError('learn.badCoverage', `coverage ${coverage} is not in (0, 1)`, 'coverage');
  let classes: number[] | undefined;
  let yi = y;
  if (task === 'classification') {
    classes = [...new Set(y)].sort((a, b) => a - b);
    if (classes.length < 2)
      throw new TaktError('learn.badLabels', 'classification needs at least two classes', 'y');
    const at = new Map(classes.map((c, i) => [c, i]));
    yi = y.map((v) => at.get(v)!);
  }
  // Seeded split.
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(opts.seed ?? 1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nv = Math.max(10, Math.round(n * (opts.validShare ?? 0.1)));
  const nc = task === 'regression' ? Math.max(10, Math.round(n * (opts.calibShare ?? 0.1))) : 0;
  const vIdx = order.slice(0, nv);
  const cIdx = order.slice(nv, nv + nc);
  const tIdx = order.slice(nv + nc);
  const pick = <T>(a: T[], idx: number[]): T[] => idx.map((i) => a[i]);
  const Xt = pick(X, tIdx);
  const yt = pick(yi, tIdx);
  const Xv = pick(X, vIdx);
  const yv = pick(yi, vIdx);
  const small = n <= SMALL_DATA_ROWS;
  const options: BoostOptions = {
    ...DEFAULT_BOOST,
    ...(small ? { learningRate: SMALL_DATA_LEARNING_RATE } : {}),
    ...opts.boost,
  };
  if (opts.timeLimitMs !== undefined) options.timeLimitMs = opts.timeLimitMs;
  const kind: Parameters<typeof boost>[4] =
    task === 'regression' ? { kind: 'regression' } : { kind: 'classification', classes: classes!.length };
  const res = boost(Xt, yt, Xv, yv, kind, options);
  // The model early stopping chose: its validation figures below are on rows it never saw.
  const stopped = res.ensemble;
  // Small data, regression: the validation rows are a tenth of what there is to learn from, so once early
  // stopping has chosen the number of rounds the trees are grown again on the training and validation rows
  // together, for that many rounds scaled by the rows (the calibration rows stay out of both: the interval's
  // coverage holds). Kept only when it ran all its rounds within the time limit.
  let e = stopped;
  let refit = false;
  if (task === 'regression' && small && res.bestRound > 0) {
    const rounds = Math.min(
      options.maxRounds,
      Math.max(1, Math.round((res.bestRound * (Xt.length + nv)) / Xt.length)),
    );
    const left = options.timeLimitMs === undefined ? undefined : options.timeLimitMs - (Date.now() - t0);
    if (left === undefined || left > 0) {
      const again = boost([...Xt, ...Xv], [...yt, ...yv], [], [], kind, {
        ...options,
        maxRounds: rounds,
        ...(left === undefined ? {} : { timeLimitMs: left }),
      });
      if (again.stoppedBy === 'maxRounds') [e, refit] = [again.ensemble, true];
    }
  }
  const expected = [...e.base];
  e.trees.forEach((t, i) => (expected[i % e.outputs] += treeExpectation(t)));
  const metrics: LearnCard['metrics'] = {
    valid: {},
    baseline: { kind: 'ridge' },
    beatsBaseline: false,
  };
  let conformal: LearnCard['conformal'];
  let residuals: number[];
  if (task === 'regression') {
    const lin = ridge(
      Xt,
      yt.map((v) => [v]),
    );
    const pv = Xv.map((x) => margins(stopped, x)[0]);
    metrics.valid.rmse = rmseOf(pv, yv);
    metrics.baseline.rmse = rmseOf(
      Xv.map((x) => lin(x)[0]),
      yv,
    );
    metrics.beatsBaseline = metrics.valid.rmse < metrics.baseline.rmse;
    residuals = cIdx.map((i) => y[i] - margins(e, X[i])[0]);
    const scores = residuals.map(Math.abs);
    const q = conformalQuantile(scores, coverage);
    conformal = {
      coverage,
      quantile: q,
      calibRows: nc,
      calibCoverage: scores.filter((s) => s <= q).length / nc,
    };
  } else {
    const K = classes!.length;
    const lin = ridge(
      Xt,
      yt.map((c) => Array.from({ length: K }, (_, k) => (k === c ? 1 : 0))),
    );
    const argmax = (v: number[]): number => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);
    let ll = 0;
    let hits = 0;
    let baseHits = 0;
    residuals = [];
    Xv.forEach((x, i) => {
      const p = probs(e, margins(e, x));
      residuals.push(1 - p[yv[i]]);
      ll -= Math.log(Math.max(1e-15, p[yv[i]]));
      if (argmax(p) === yv[i]) hits++;
      if (argmax(lin(x)) === yv[i]) baseHits++;
    });
    metrics.valid.logLoss = ll / nv;
    metrics.valid.accuracy = hits / nv;
    metrics.baseline.accuracy = baseHits / nv;
    metrics.beatsBaseline = hits > baseHits;
  }
  const card: LearnCard = {
    kind: 'gbt',
    task,
    features: [...features],
    ...(classes ? { classes } : {}),
    rows: { train: tIdx.length, valid: nv, calib: nc },
    expected,
    ...(conformal ? { conformal } : {}),
    metrics,
    training: {
      rounds: res.rounds,
      bestRound: res.bestRound,
      refit,
      trees: e.trees.length,
      stoppedBy: res.stoppedBy,
      ms: Date.now() - t0,
      options,
    },
    trainedAt: new Date().toISOString(),
  };
  const onnx = ensembleToOnnx(e, d, { [CARD_KEY]: JSON.stringify(card) });
  const heldOut = task === 'regression' ? cIdx : vIdx;
  return { onnx, card, split: { train: refit ? [...tIdx, ...vIdx] : tIdx, heldOut, residuals } };
}

function probs(e: Ensemble, m: number[]): number[] {
  if (e.link === 'logistic') {
    const p = sigmoid(m[0]);
    return [1 - p, p];
  }
  return softmax(m);
}

/** Where a prediction from `predict` keeps how to work its contributions out (until it has). */
const EXPLAIN = Symbol('takt.learn.explain');

/**
 * A prediction whose `contributions` are worked out (TreeSHAP) when first read and then kept as an own
 * enumerable property. A class, so that making one costs what a plain object costs (an object literal with its
 * own accessor cost about 2.5 µs a row in V8). How to work them out is a function under a symbol key: a deep copy
 * that keeps the prototype and copies symbol keys (Node-RED's cloneMessage, lodash cloneDeep) keeps it too.
 * Until they are read, `contributions` is on the prototype only: JSON has them (toJSON); a copy onto a plain
 * object (a spread, Object.assign, structuredClone, a worker's postMessage) has none.
 */
class LazyPrediction implements Prediction {
  declare value?: number;
  declare lower?: number;
  declare upper?: number;
  declare label?: number;
  declare probabilities?: number[];
  [EXPLAIN]?: () => number[];

  constructor(explain: () => number[]) {
    this[EXPLAIN] = explain;
  }

  get contributions(): number[] {
    const explain = this[EXPLAIN];
    // A copy caught half-made (a deep copy reads the property before it copies the symbol): nothing to say yet.
    if (!explain) return [];
    const phi = explain();
    if (Object.isExtensible(this)) this.contributions = phi;
    return phi;
  }

  /** Kept as an own property from now on (what the first read also does); the row is let go. */
  set contributions(v: number[]) {
    Object.defineProperty(this, 'contributions', {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    delete this[EXPLAIN];
  }

  toJSON(): Prediction {
    return { ...this, contributions: this.contributions };
  }
}

/** TreeSHAP values of row x for output k (the trees k, k + outputs, ...). */
function explainer(e: Ensemble, x: readonly number[], k: number): () => number[] {
  return () => {
    const acc = new Float64Array(x.length);
    for (let t = k; t < e.trees.length; t += e.outputs) treeShap(e.trees[t], x, acc);
    return Array.from(acc);
  };
}

/** A trained model read back from its ONNX file; predicts in TypeScript (same trees as onnxruntime runs). */
export class Predictor {
  private constructor(
    readonly card: LearnCard,
    readonly ensemble: Ensemble,
    readonly bytes: Uint8Array,
  ) {
    this.packed = new PackedEnsemble(ensemble, card.features.length);
  }

  private readonly packed: PackedEnsemble;

  static async load(pathOrBytes: string | Uint8Array): Promise<Predictor> {
    const bytes = typeof pathOrBytes === 'string' ? await readFile(pathOrBytes) : pathOrBytes;
    return Predictor.fromBytes(new Uint8Array(bytes));
  }

  static fromBytes(bytes: Uint8Array): Predictor {
    const m = onnxToEnsemble(bytes);
    const raw = m.metadata[CARD_KEY];
    if (!raw) throw new TaktError('learn.notOnnx', `the model has no ${CARD_KEY} metadata`, 'model');
    let card: LearnCard;
    try {
      card = JSON.parse(raw) as LearnCard;
    } catch (err) {
      throw new TaktError('learn.notOnnx', `bad ${CARD_KEY} metadata: ${(err as Error).message}`, 'model');
    }
    if (card.features.length !== m.features)
      throw new TaktError(
        'learn.notOnnx',
        `card lists ${card.features.length} features, graph takes ${m.features}`,
        'model',
      );
    return new Predictor(card, m.ensemble, bytes);
  }

  /**
   * Predicts each row. Each prediction's `contributions` are worked out when first read (TreeSHAP costs several
   * hundred times the prediction itself; see LazyPrediction for copies); `contributions: false` gives an empty
   * array instead.
   */
  async predict(X: number[][], opts: { contributions?: boolean } = {}): Promise<Prediction[]> {
    return this.predictSync(X, opts);
  }

  predictSync(X: number[][], opts: { contributions?: boolean } = {}): Prediction[] {
    const d = this.card.features.length;
    checkMatrix(X, d);
    const e = this.ensemble;
    const shap = opts.contributions !== false;
    const out: Prediction[] = [];
    const K = e.outputs;
    const all = new Float64Array(X.length * K);
    this.packed.marginsAll(X, all);
    for (let r = 0; r < X.length; r++) {
      const x = X[r];
      const m = K === 1 ? [all[r]] : Array.from(all.subarray(r * K, r * K + K));
      let cls = 0;
      let pr: number[] | undefined;
      if (this.card.task !== 'regression') {
        pr = probs(e, m);
        cls = pr.reduce((b, v, i) => (v > pr![b] ? i : b), 0);
      }
      const p: Prediction = shap
        ? new LazyPrediction(explainer(e, x.slice(), e.link === 'softmax' ? cls : 0))
        : { contributions: [] };
      if (!pr) {
        p.value = m[0];
        const q = this.card.conformal?.quantile;
        if (q !== undefined && q !== null) {
          p.lower = m[0] - q;
          p.upper = m[0] + q;
        }
      } else {
        p.probabilities = pr;
        p.label = this.card.classes?.[cls] ?? cls;
      }
      out.push(p);
    }
    return out;
  }
}
