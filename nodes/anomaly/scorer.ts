/**
 * Inference with onnxruntime-node for any ONNX model whose input is a float matrix of features: the session is
 * created once per file, rows are scored in batches, and `per-feature contributions` come from the model's
 * `contributions` output when it has one. Feature names, threshold and output names come from the model's
 * metadata (Takt models) or from the caller. onnxruntime is imported lazily.
 *
 * A Takt model whose card lists drifting features under `baseline` (models.ts, baseline.ts) scores them against
 * their adapting level: the model keeps that level from call to call, starting where training ended, so rows
 * must come in time order (`resetBaseline` starts over). The same holds for a card with `follow`: the other
 * sensors' levels follow slow changes while the model's own health index is under its threshold, and such a
 * model scores a batch row by row.
 */
import { readFileSync } from 'node:fs';
import type { InferenceSession } from 'onnxruntime-node';
import { TaktError } from '../core/errors';
import { openOnnxSession } from '../core/onnx';
import { rowFeatures } from '../core/sample';
import { applyBaseline, type BaselineSpec, type FollowSpec, LevelFollower } from './baseline';
import { META } from './models';
import { readOnnxHeader } from './onnx';

export type MissingPolicy = 'error' | 'impute';

export interface ScorerOptions {
  /** Feature names in input order; default from the model's metadata. */
  features?: string[];
  input?: string;
  scoreOutput?: string;
  contributionsOutput?: string;
  /** Alarm threshold on the score; default from the model's metadata. */
  threshold?: number;
  /** NaN or missing features: an error (default) or the training mean from the metadata. */
  missing?: MissingPolicy;
}

export interface ScoreResult {
  score: number;
  threshold: number;
  isAnomaly: boolean;
  /** Per-feature share of the score (empty when the model has no contributions output). */
  contributions: Record<string, number>;
  /** The feature that contributes most. */
  driver?: string;
  imputed?: string[];
}

export type FeatureRow = readonly number[] | Readonly<Record<string, unknown>>;

export class OnnxAnomalyModel {
  readonly path: string;
  readonly features: string[];
  readonly threshold: number;
  readonly input: string;
  readonly scoreOutput: string;
  readonly contributionsOutput: string | undefined;
  readonly metadata: Record<string, string>;
  readonly missing: MissingPolicy;
  private readonly means: number[] | undefined;
  private readonly baseline: BaselineSpec | undefined;
  private level: number[] = [];
  private readonly follower: LevelFollower | undefined;
  private session: InferenceSession | undefined;
  private readonly ort: typeof import('onnxruntime-node');

  private constructor(
    ort: typeof import('onnxruntime-node'),
    session: InferenceSession,
    f: Omit<
      OnnxAnomalyModel,
      'rows' | 'scoreRows' | 'score' | 'dispose' | 'resetBaseline' | 'baselineLevel'
    > & {
      means?: number[];
      baseline?: BaselineSpec;
      follow?: FollowSpec;
    },
  ) {
    this.ort = ort;
    this.session = session;
    this.path = f.path;
    this.features = f.features;
    this.threshold = f.threshold;
    this.input = f.input;
    this.scoreOutput = f.scoreOutput;
    this.contributionsOutput = f.contributionsOutput;
    this.metadata = f.metadata;
    this.missing = f.missing;
    this.means = f.means;
    this.baseline = f.baseline;
    this.follower = f.follow ? new LevelFollower(f.follow) : undefined;
    this.resetBaseline();
  }

  /** Starts the drifting features' levels (and the followed levels) over from where training ended. */
  resetBaseline(): void {
    this.level = this.baseline ? [...this.baseline.level] : [];
    this.follower?.reset();
  }

  /** The drifting features' current levels (empty when the model has none). */
  get baselineLevel(): Record<string, number> {
    const b = this.baseline;
    return b ? Object.fromEntries(b.features.map((f, k) => [f, this.level[k]])) : {};
  }

  /** Loads a model file; a file that is not ONNX, or lacks features or threshold, gives a TaktError. */
  static async load(path: string, o: ScorerOptions = {}): Promise<OnnxAnomalyModel> {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new TaktError(
        'anomaly.modelMissing',
        `model: cannot read ${path}: ${(err as Error).message}`,
        'model',
      );
    }
    const h = readOnnxHeader(bytes, `model ${path}`);
    const meta = h.metadata;
    const parse = <T>(key: string): T | undefined => {
      try {
        return meta[key] ? (JSON.parse(meta[key]) as T) : undefined;
      } catch {
        return undefined;
      }
    };
    const features = o.features?.length ? o.features : parse<string[]>(META.features);
    if (!Array.isArray(features) || features.length === 0)
      throw new TaktError(
        'anomaly.noFeatures',
        `features: model ${path} names no features; list them in the node`,
        'features',
      );
    const threshold = o.threshold ?? Number(meta[META.threshold]);
    if (!Number.isFinite(threshold))
      throw new TaktError(
        'anomaly.noThreshold',
        `threshold: model ${path} has none in its metadata; set one in the node`,
        'threshold',
      );
    const input = o.input || meta[META.input] || h.inputs[0];
    if (!h.inputs.includes(input))
      throw new TaktError(
        'anomaly.badOption',
        `input: model has no input "${input}" (has ${h.inputs.join(', ')})`,
        'input',
      );
    const scoreOutput = o.scoreOutput || meta[META.score] || h.outputs[0];
    if (!h.outputs.includes(scoreOutput))
      throw new TaktError(
        'anomaly.badOption',
        `scoreOutput: model has no output "${scoreOutput}" (has ${h.outputs.join(', ')})`,
        'scoreOutput',
      );
    const c = o.contributionsOutput || meta[META.contributions] || 'contributions';
    const { ort, session } = await openOnnxSession(
      bytes,
      (reason) => new TaktError('anomaly.notOnnx', `model ${path}: ${reason}`, 'model'),
    );
    return new OnnxAnomalyModel(ort, session, {
      path,
      features,
      threshold,
      input,
      scoreOutput,
      contributionsOutput: h.outputs.includes(c) ? c : undefined,
      metadata: meta,
      missing: o.missing ?? 'error',
      means: parse<number[]>(META.means),
      baseline: baselineOf(parse<{ baseline?: BaselineSpec }>(META.card)?.baseline, features, path),
      follow: followOf(parse<{ follow?: FollowSpec }>(META.card)?.follow, features, path),
    });
  }

  /** Turns rows (arrays in feature order, records keyed by feature name, prep rows) into a float matrix. */
  rows(rows: readonly FeatureRow[]): { X: Float32Array; imputed: string[][] } {
    const d = this.features.length;
    const X = new Float32Array(rows.length * d);
    const imputed: string[][] = [];
    rows.forEach((r, i) => {
      const miss: string[] = [];
      if (Array.isArray(r)) {
        if (r.length !== d)
          throw new TaktError(
            'anomaly.featureCount',
            `payload: ${r.length} values, the model takes ${d} (${this.features.join(', ')})`,
            'payload',
          );
      } else if (r === null || typeof r !== 'object') {
        throw new TaktError(
          'anomaly.badPayload',
          'payload: expected an array of numbers or an object of named features',
          'payload',
        );
      }
      const rec = Array.isArray(r) ? undefined : rowFeatures(r as Record<string, unknown>);
      for (let j = 0; j < d; j++) {
        const name = this.features[j];
        const v = rec ? rec[name] : (r as number[])[j];
        if (typeof v === 'number' && Number.isFinite(v)) X[i * d + j] = v;
        else miss.push(name);
      }
      if (miss.length) {
        if (this.missing !== 'impute' || !this.means || this.means.length !== d)
          throw new TaktError(
            'anomaly.missing',
            `payload: missing or not a number: ${miss.join(', ')}${this.missing === 'impute' ? ' (the model has no training means to impute from)' : ''}`,
            miss[0],
          );
        for (const name of miss) {
          const j = this.features.indexOf(name);
          X[i * d + j] = this.means[j];
        }
      }
      imputed.push(miss);
    });
    return { X, imputed };
  }

  /** Scores a float matrix (n×d): the score column and, if the model has them, the contributions. */
  async scoreRows(
    X: Float32Array,
    n: number,
  ): Promise<{ score: Float32Array; contributions?: Float32Array }> {
    const s = this.session;
    if (!s) throw new TaktError('anomaly.closed', 'model: disposed', 'model');
    const d = this.features.length;
    const outs = this.contributionsOutput ? [this.scoreOutput, this.contributionsOutput] : [this.scoreOutput];
    const res = await s.run({ [this.input]: new this.ort.Tensor('float32', X, [n, d]) }, outs);
    const score = res[this.scoreOutput].data;
    if (!(score instanceof Float32Array) || score.length !== n)
      throw new TaktError(
        'anomaly.badOutput',
        `model: output ${this.scoreOutput} is not one float per row`,
        'scoreOutput',
      );
    const c = this.contributionsOutput ? res[this.contributionsOutput].data : undefined;
    return { score, contributions: c instanceof Float32Array && c.length === n * d ? c : undefined };
  }

  /** Scores rows one by one behind the level follower (models.ts, TrainOptions.follow). */
  private async scoreFollowing(
    X: Float32Array,
    n: number,
    imputed: string[][],
  ): Promise<{ score: Float32Array; contributions?: Float32Array }> {
    const f = this.follower as LevelFollower;
    const d = this.features.length;
    const score = new Float32Array(n);
    const contributions = this.contributionsOutput ? new Float32Array(n * d) : undefined;
    const row = new Float32Array(d);
    for (let i = 0; i < n; i++) {
      row.set(X.subarray(i * d, (i + 1) * d));
      const skip = (k: number) => imputed[i].includes(this.features[f.spec.index[k]]);
      f.shift(X, i, d, row, 0, skip);
      const r = await this.scoreRows(row, 1);
      score[i] = r.score[0];
      if (contributions && r.contributions) contributions.set(r.contributions, i * d);
      f.update(X, i, d, score[i], skip);
    }
    return { score, contributions };
  }

  /** Scores a batch of rows. */
  async score(rows: readonly FeatureRow[]): Promise<ScoreResult[]> {
    if (rows.length === 0) return [];
    const { X, imputed } = this.rows(rows);
    const b = this.baseline;
    if (b)
      applyBaseline(b, X, rows.length, this.features.length, this.level, (i, k) =>
        imputed[i].includes(b.features[k]),
      );
    const d = this.features.length;
    const { score, contributions } = this.follower
      ? await this.scoreFollowing(X, rows.length, imputed)
      : await this.scoreRows(X, rows.length);
    return rows.map((_, i) => {
      const contrib: Record<string, number> = {};
      let driver: string | undefined;
      if (contributions) {
        let best = -Infinity;
        for (let j = 0; j < d; j++) {
          const v = contributions[i * d + j];
          contrib[this.features[j]] = v;
          if (v > best) {
            best = v;
            driver = this.features[j];
          }
        }
      }
      const r: ScoreResult = {
        score: score[i],
        threshold: this.threshold,
        isAnomaly: score[i] > this.threshold,
        contributions: contrib,
      };
      if (driver !== undefined) r.driver = driver;
      if (imputed[i].length) r.imputed = imputed[i];
      return r;
    });
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }
}

/** The card's baseline, its columns found by name among the model's features; a malformed one is an error. */
function baselineOf(
  b: BaselineSpec | undefined,
  features: readonly string[],
  path: string,
): BaselineSpec | undefined {
  if (b === undefined) return undefined;
  const index = Array.isArray(b.features) ? b.features.map((f) => features.indexOf(f)) : [];
  const ok =
    index.length > 0 &&
    index.every((j) => j >= 0) &&
    Array.isArray(b.level) &&
    b.level.length === index.length &&
    b.level.every(Number.isFinite) &&
    b.alpha > 0 &&
    b.alpha <= 1;
  if (!ok)
    throw new TaktError(
      'anomaly.badBaseline',
      `model: ${path} has a drifting-feature baseline that does not match its features (${features.join(', ')})`,
      'model',
    );
  return { ...b, index };
}

/** The card's follower, its columns found by name among the model's features; a malformed one is an error. */
function followOf(
  f: FollowSpec | undefined,
  features: readonly string[],
  path: string,
): FollowSpec | undefined {
  if (f === undefined) return undefined;
  const index = Array.isArray(f.features) ? f.features.map((x) => features.indexOf(x)) : [];
  const ok =
    index.every((j) => j >= 0) &&
    Array.isArray(f.mean) &&
    f.mean.length === index.length &&
    f.mean.every(Number.isFinite) &&
    f.rows >= 1 &&
    Number.isInteger(f.smoothing) &&
    f.smoothing >= 1 &&
    Number.isFinite(f.threshold) &&
    (f.gate === undefined || (f.gate > 0 && f.gate <= 1)) &&
    (f.hold === undefined || (Number.isInteger(f.hold) && f.hold >= 0)) &&
    (f.resume === undefined || (f.resume > 0 && f.resume <= 1));
  if (!ok)
    throw new TaktError(
      'anomaly.badFollow',
      `model: ${path} has a level follower that does not match its features (${features.join(', ')})`,
      'model',
    );
  return { ...f, index };
}
