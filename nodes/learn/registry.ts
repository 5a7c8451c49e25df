/**
 * Quality models in a model registry (takt-model, docs/ARCHITECTURE.md "Import rules"): the model lifecycle
 * (models/) builds on this folder, so this side only states what it needs from a registry's champion server,
 * `QualityFeed`, and models/server.ts's ChampionServer provides it. Here: the registration a trained model
 * makes (card section, drift reference, labelled held-out rows), and following the registry's current version
 * (verified against the card's SHA-256, refused when the card is not a quality model). No Node-RED import.
 */
import { readFile } from 'node:fs/promises';
import { TaktError } from '../core/errors';
import { sha256 } from '../core/hash';
import { type FitSplit, type LearnCard, Predictor } from './model';

export type QualityDomain = 'quality-regression' | 'quality-classification';

export const qualityDomain = (task: LearnCard['task']): QualityDomain =>
  task === 'classification' ? 'quality-classification' : 'quality-regression';

/**
 * What a registry card's model is (models/types.ts MODEL_DOMAINS): cards written before the field existed
 * are anomaly models. Here rather than in models/ so that both folders read cards one way (models/ builds
 * on this folder).
 */
export const domainOf = (card: { domain?: string | undefined }): string => card.domain ?? 'anomaly';

export const isQualityDomain = (d: string | undefined): d is QualityDomain =>
  d === 'quality-regression' || d === 'quality-classification';

/** A registry card as far as a quality node reads it (models/types.ts VersionCard). */
export interface ServedCard {
  name: string;
  version: number;
  sha256: string;
  domain?: string;
  features: string[];
  quality?: { task: LearnCard['task']; target: string };
}

/** What the registry takes to register a quality model (a part of models/registry.ts RegisterInput). */
export interface QualityRegistration {
  onnx: Uint8Array;
  domain: QualityDomain;
  kind: string;
  features: string[];
  quality: {
    task: LearnCard['task'];
    target: string;
    conformal?: NonNullable<LearnCard['conformal']>;
    classes?: number[];
  };
  training: { rows: number; from?: string; to?: string };
  metrics: Record<string, number>;
  normalisation: { mean: number[]; sd: number[] };
  /** Rows the model was trained on: the drift reference of its inputs (the registry keeps a sample). */
  reference: number[][];
  /** Held-out rows with their labels and the model's errors on them. */
  holdout: number[][];
  holdoutLabels: number[];
  residuals: number[];
  parent?: number;
  note?: string;
}

export interface Actor {
  who: string;
  why: string;
}

/** A registry's champion server as a quality node sees it. */
export interface QualityFeed {
  readonly current: { version: number; card: ServedCard; path: string } | undefined;
  readonly error: Error | undefined;
  on(fn: (e: QualityEvent) => void): () => void;
  readonly registry: {
    readonly name: string;
    register(
      input: QualityRegistration,
      actor: Actor,
    ): Promise<{ card: { version: number }; champion: boolean }>;
    /** The current version (the champion pointer), read from disk. */
    champion(): { version: number } | undefined;
    card(version: number): ServedCard;
    /** The version's ONNX file. */
    path(version: number): string;
  };
}

export type QualityEvent =
  { type: 'champion'; version: number; card: ServedCard; path: string } | { type: 'error'; error: Error };

/** The learn card's metrics as flat numbers (the registry card's `metrics`). */
export function flatMetrics(card: LearnCard): Record<string, number> {
  const m = card.metrics;
  const out: Record<string, number> = { beatsBaseline: m.beatsBaseline ? 1 : 0 };
  for (const [k, v] of Object.entries(m.valid)) if (typeof v === 'number') out[`valid.${k}`] = v;
  for (const [k, v] of Object.entries(m.baseline)) if (typeof v === 'number') out[`baseline.${k}`] = v;
  if (card.conformal) out['conformal.calibCoverage'] = card.conformal.calibCoverage;
  return out;
}

/** Per-column mean and sample standard deviation of the first `d` columns of `rows`. */
export function meanSd(rows: readonly number[][], d: number): { mean: number[]; sd: number[] } {
  const n = rows.length;
  const mean = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / n;
  for (const r of rows) for (let j = 0; j < d; j++) sd[j] += (r[j] - mean[j]) ** 2 / Math.max(1, n - 1);
  return { mean, sd: sd.map(Math.sqrt) };
}

/**
 * The registration of a model `fit` trained on rows X with labels y (times: the rows' source times, epoch
 * ms, for the card's training range).
 */
export function qualityRegistration(
  fitted: { onnx: Uint8Array; card: LearnCard; split: FitSplit },
  X: readonly number[][],
  y: readonly number[],
  o: { target: string; times?: readonly number[]; parent?: number; note?: string },
): QualityRegistration {
  const { card, split } = fitted;
  const trainRows = split.train.map((i) => [...X[i]]);
  const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  const training: QualityRegistration['training'] = { rows: X.length };
  if (o.times?.length) {
    const from = iso(Math.min(...o.times));
    const to = iso(Math.max(...o.times));
    if (from) training.from = from;
    if (to) training.to = to;
  }
  const r: QualityRegistration = {
    onnx: fitted.onnx,
    domain: qualityDomain(card.task),
    kind: card.kind,
    features: [...card.features],
    quality: {
      task: card.task,
      target: o.target,
      ...(card.conformal ? { conformal: card.conformal } : {}),
      ...(card.classes ? { classes: card.classes } : {}),
    },
    training,
    metrics: flatMetrics(card),
    normalisation: meanSd(trainRows, card.features.length),
    reference: trainRows,
    holdout: split.heldOut.map((i) => [...X[i]]),
    holdoutLabels: split.heldOut.map((i) => y[i]),
    residuals: [...split.residuals],
  };
  if (o.parent !== undefined) r.parent = o.parent;
  if (o.note) r.note = o.note;
  return r;
}

/**
 * Opens a registry version for prediction: the card must be a quality model (`learn.notQuality` names what
 * it is instead), the file must hash to the card's SHA-256, and the model's own card must agree with the
 * registry card on task and features.
 */
export async function openServed(card: ServedCard, path: string): Promise<Predictor> {
  const where = `${card.name} v${card.version}`;
  const domain = domainOf(card);
  if (!isQualityDomain(domain))
    throw new TaktError(
      'learn.notQuality',
      `${where} is a${/^[aeiou]/.test(domain) ? 'n' : ''} ${domain} model, not a quality model: choose the takt-model node that takt-predict-train registers to`,
      'modelRef',
    );
  const bytes = new Uint8Array(await readFile(path));
  if (sha256(bytes) !== card.sha256)
    throw new TaktError(
      'learn.hashMismatch',
      `${where}: the file does not hash to the card's SHA-256 (changed or corrupt)`,
      'model',
    );
  const p = Predictor.fromBytes(bytes);
  if (
    qualityDomain(p.card.task) !== domain ||
    p.card.features.join('\u0000') !== card.features.join('\u0000')
  )
    throw new TaktError(
      'learn.notQuality',
      `${where}: the model predicts ${p.card.task} from ${p.card.features.join(', ')}, the card says ${domain} from ${card.features.join(', ')}`,
      'model',
    );
  return p;
}

/** Loads each current version the feed announces; a failed load leaves the model the caller had. */
export function followQuality(
  feed: QualityFeed,
  cb: {
    loading(version: number): void;
    ready(p: Predictor, version: number, card: ServedCard): void;
    failed(err: Error): void;
  },
): () => void {
  return feed.on((e) => {
    if (e.type === 'error') return cb.failed(e.error);
    cb.loading(e.version);
    openServed(e.card, e.path).then(
      (p) => cb.ready(p, e.version, e.card),
      (err: unknown) => cb.failed(err as Error),
    );
  });
}

/**
 * The error of a prediction against its measured label: measured minus predicted (regression), or one minus
 * the probability given to the measured class (classification; a class the model does not know counts 1).
 */
export function residualOf(
  card: LearnCard,
  p: { value?: number; probabilities?: number[] },
  label: number,
): number {
  if (card.task === 'regression') return label - (p.value ?? NaN);
  const k = card.classes?.indexOf(label) ?? -1;
  return 1 - (k >= 0 ? (p.probabilities?.[k] ?? 0) : 0);
}

/** A quality model on held-out labelled rows: RMSE (regression) or accuracy (classification). */
export interface QualityEvaluation {
  version: number;
  rows: number;
  rmse?: number;
  accuracy?: number;
}

/** RMSE (regression) or accuracy (classification) of a model on labelled rows. */
export async function evaluateQuality(
  p: Predictor,
  version: number,
  rows: readonly number[][],
  labels: readonly number[],
): Promise<QualityEvaluation> {
  const out = await p.predict(rows as number[][], { contributions: false });
  const e: QualityEvaluation = { version, rows: rows.length };
  if (p.card.task === 'regression')
    e.rmse = Math.sqrt(out.reduce((a, r, i) => a + (labels[i] - (r.value ?? NaN)) ** 2, 0) / rows.length);
  else e.accuracy = out.filter((r, i) => r.label === labels[i]).length / rows.length;
  return e;
}

/**
 * Which trained models takt-predict-train registers: `every` one (a new version per training window), only one
 * that is `better` than the registry's current version on its own held-out rows, or only the `first` (while
 * the registry has no version).
 */
export const REGISTER_WHEN = ['every', 'better', 'first'] as const;
export type RegisterWhen = (typeof REGISTER_WHEN)[number];

/** Whether a trained model is registered, and why; with the comparison when one was made. */
export interface RegisterDecision {
  registered: boolean;
  why: string;
  /** The new model (version 0: not registered yet) and the current version on the new model's held-out rows. */
  compared?: { model: QualityEvaluation; current: QualityEvaluation };
}

/**
 * Decides whether `fitted` (trained on rows X with labels y) is registered (`REGISTER_WHEN`). `better`
 * compares on the new model's held-out rows (the calibration rows of a regression, the validation rows of a
 * classification; the rows the registry keeps with the version): a lower RMSE, or a higher accuracy, than the
 * current version's. A model that cannot be compared (no current version, another task, features the rows do
 * not hold, a version that does not open as a quality model) is registered, saying why.
 */
export async function registerDecision(
  registry: QualityFeed['registry'],
  fitted: { onnx: Uint8Array; card: LearnCard; split: FitSplit },
  X: readonly number[][],
  y: readonly number[],
  when: RegisterWhen,
): Promise<RegisterDecision> {
  if (when === 'every') return { registered: true, why: 'every model is registered' };
  const cur = registry.champion()?.version;
  if (cur === undefined) return { registered: true, why: `${registry.name} has no version yet` };
  if (when === 'first')
    return {
      registered: false,
      why: `${registry.name} already has a version (v${cur}): only the first is registered`,
    };
  const card = registry.card(cur);
  const names = fitted.card.features;
  const at = card.features.map((f) => names.indexOf(f));
  if (card.quality?.task !== fitted.card.task || at.some((j) => j < 0))
    return {
      registered: true,
      why: `not compared: v${cur} predicts ${card.quality?.task ?? domainOf(card)} from ${card.features.join(', ')}`,
    };
  let current: Predictor;
  try {
    current = await openServed(card, registry.path(cur));
  } catch (err) {
    return { registered: true, why: `not compared: ${(err as Error).message}` };
  }
  const held = fitted.split.heldOut;
  const labels = held.map((i) => y[i]);
  const model = await evaluateQuality(
    Predictor.fromBytes(fitted.onnx),
    0,
    held.map((i) => [...X[i]]),
    labels,
  );
  const old = await evaluateQuality(
    current,
    cur,
    held.map((i) => at.map((j) => X[i][j])),
    labels,
  );
  const compared = { model, current: old };
  const beats =
    model.rmse !== undefined && old.rmse !== undefined
      ? model.rmse < old.rmse
      : model.accuracy !== undefined && old.accuracy !== undefined && model.accuracy > old.accuracy;
  const figure = (e: QualityEvaluation) =>
    e.rmse !== undefined
      ? `RMSE ${e.rmse.toPrecision(4)}`
      : `accuracy ${(100 * (e.accuracy ?? 0)).toFixed(1)} %`;
  return {
    registered: beats,
    why: `${figure(model)} against v${cur}'s ${figure(old)} on ${held.length} held-out rows`,
    compared,
  };
}
