/**
 * Checking a version before it serves: the file's SHA-256 against the card, the ONNX header (the reader of
 * ../anomaly/onnx.ts) and the input signature (feature count and names) against the card, then a test run.
 * Every failure is a TaktError that names the version and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { TaktError } from '../core/errors';
import { sha256 } from '../core/hash';
import { openOnnxSession, readOnnx } from '../core/onnx';
import { META } from '../anomaly/models';
import { readOnnxHeader } from '../anomaly/onnx';
import { domainOf, isQualityDomain } from '../learn/registry';
import { OnnxAnomalyModel } from '../anomaly/scorer';
import type { ModelDomain, VersionCard } from './types';
import { MODEL_DOMAINS } from './types';

/** What an ONNX file declares: its input, the input's width (when fixed), features and threshold from metadata. */
export interface OnnxSignature {
  input: string;
  width?: number;
  features?: string[];
  threshold?: number;
  kind?: string;
  metadata: Record<string, string>;
}

/** Reads the signature of ONNX bytes; bytes that are not a model give `models.corrupt`. */
export async function readSignature(
  bytes: Uint8Array,
  where: string,
  input?: string,
): Promise<OnnxSignature> {
  let h: ReturnType<typeof readOnnxHeader>;
  try {
    h = readOnnxHeader(bytes, where);
  } catch (err) {
    throw new TaktError('models.corrupt', (err as Error).message, 'model');
  }
  const meta = h.metadata;
  const name = input || meta[META.input] || h.inputs[0];
  if (!name || !h.inputs.includes(name))
    throw new TaktError(
      'models.signature',
      `${where}: has no input "${name ?? ''}" (inputs: ${h.inputs.join(', ') || 'none'})`,
      'input',
    );
  const { session } = await openOnnxSession(
    bytes,
    (reason) => new TaktError('models.corrupt', `${where}: ${reason}`, 'model'),
  );
  let width: number | undefined;
  try {
    const m = session.inputMetadata.find((x) => x.name === name);
    if (m && m.isTensor) {
      const last = m.shape.at(-1);
      if (m.shape.length !== 2)
        throw new TaktError(
          'models.signature',
          `${where}: input "${name}" has ${m.shape.length} dimensions, a feature matrix [N, features] has 2`,
          'input',
        );
      if (typeof last === 'number' && last > 0) width = last;
    }
  } finally {
    await session.release();
  }
  let features: string[] | undefined;
  try {
    const f = meta[META.features] ? (JSON.parse(meta[META.features]) as unknown) : undefined;
    if (Array.isArray(f) && f.every((x) => typeof x === 'string')) features = f as string[];
  } catch {
    features = undefined;
  }
  const t = Number(meta[META.threshold]);
  const sig: OnnxSignature = { input: name, metadata: meta };
  if (width !== undefined) sig.width = width;
  if (features) sig.features = features;
  if (meta[META.threshold] !== undefined && Number.isFinite(t)) sig.threshold = t;
  if (meta[META.kind]) sig.kind = meta[META.kind];
  return sig;
}

/** What an image model's file declares: its one input [1, C, H, W] and its metadata. */
export interface ImageSignature {
  input: string;
  channels: number;
  height?: number;
  width?: number;
  metadata: Record<string, string>;
}

/** Reads the image input of a vision model; anything else is `models.signature` (or `models.corrupt`). */
export function readImageSignature(bytes: Uint8Array, where: string): ImageSignature {
  let m: ReturnType<typeof readOnnx>;
  try {
    m = readOnnx(
      bytes,
      (r) => new TaktError('models.corrupt', `${where}: not an ONNX model (${r})`, 'model'),
    );
  } catch (err) {
    if (err instanceof TaktError) throw err;
    throw new TaktError('models.corrupt', `${where}: ${(err as Error).message}`, 'model');
  }
  const input = m.inputs.length === 1 ? m.inputs[0]! : undefined;
  const dims = input?.shape ?? [];
  const c = dims[1];
  if (!input || dims.length !== 4 || (c !== 1 && c !== 3))
    throw new TaktError(
      'models.signature',
      `${where}: an image model takes one input [1, 1|3, H, W]; this one takes ${m.inputs.map((i) => `${i.name} [${(i.shape ?? []).join(',')}]`).join(', ') || 'nothing'}`,
      'input',
    );
  const sig: ImageSignature = { input: input.name, channels: c, metadata: m.metadata };
  if (typeof dims[2] === 'number') sig.height = dims[2];
  if (typeof dims[3] === 'number') sig.width = dims[3];
  return sig;
}

/**
 * A version checked (hash, input, onnxruntime opens it) but not kept open, because the node of its domain
 * opens it: takt-vision an image model, takt-predict a quality model.
 */
export interface CheckedVersion {
  readonly domain: Exclude<ModelDomain, 'anomaly'>;
  readonly path: string;
  readonly metadata: Record<string, string>;
  dispose(): Promise<void>;
}

/** A checked vision version (takt-vision opens it). */
export type VisionVersion = CheckedVersion & { readonly domain: 'vision' };

/** A served model: an anomaly model the registry scores with, or a checked version another node opens. */
export type ServedModel = OnnxAnomalyModel | CheckedVersion;

export const isCheckedVersion = (m: ServedModel): m is CheckedVersion =>
  typeof (m as Partial<CheckedVersion>).domain === 'string';

export const isVisionVersion = (m: ServedModel): m is VisionVersion =>
  (m as Partial<CheckedVersion>).domain === 'vision';

/** What a card says the model is; a card without `domain` was written for an anomaly model. */
/** The node that opens a checked version of each domain, for error messages. */
const OPENED_BY: Record<Exclude<ModelDomain, 'anomaly'>, string> = {
  vision: 'takt-vision scores images with it',
  'quality-regression': 'takt-predict predicts with it',
  'quality-classification': 'takt-predict predicts with it',
};

/**
 * The anomaly model to score rows with; any other kind is refused (`models.visionModel` for an image model,
 * `models.qualityModel` for a quality model), naming the node that uses it.
 */
export function tabular(m: ServedModel, where: string): OnnxAnomalyModel {
  if (isCheckedVersion(m))
    throw new TaktError(
      m.domain === 'vision' ? 'models.visionModel' : 'models.qualityModel',
      `${where} is a ${m.domain} model, not an anomaly scorer: ${OPENED_BY[m.domain]}`,
      'model',
    );
  return m;
}

/**
 * Checks a card for what its kind needs; `models.unknownDomain` for a kind this registry does not know,
 * `models.badCard` naming the missing part otherwise. Cards from before `domain` existed are anomaly cards.
 */
export function checkCard(card: VersionCard, version: number, where: string): void {
  const domain = domainOf(card);
  if (!(MODEL_DOMAINS as readonly string[]).includes(domain))
    throw new TaktError(
      'models.unknownDomain',
      `${where}: the card says the model is "${domain}", not one of ${MODEL_DOMAINS.join(', ')}`,
      'card',
    );
  const lacks: string[] = [];
  if (card.version !== version) lacks.push('version');
  if (typeof card.sha256 !== 'string') lacks.push('sha256');
  if (!Array.isArray(card.features) || (domain !== 'vision' && card.features.length === 0))
    lacks.push('features');
  if ((domain === 'anomaly' || domain === 'vision') && !Number.isFinite(card.threshold))
    lacks.push('threshold');
  if (isQualityDomain(domain)) {
    const q = card.quality;
    const task = domain === 'quality-regression' ? 'regression' : 'classification';
    if (typeof q !== 'object' || q === null) lacks.push('quality (target, task)');
    else {
      if (typeof q.target !== 'string' || q.target === '') lacks.push('quality.target');
      if (q.task !== task) lacks.push(`quality.task "${task}"`);
      if (
        task === 'regression' &&
        (typeof q.conformal !== 'object' ||
          q.conformal === null ||
          !(q.conformal.coverage > 0 && q.conformal.coverage < 1))
      )
        lacks.push('quality.conformal (interval coverage)');
      if (task === 'classification' && !(Array.isArray(q.classes) && q.classes.length >= 2))
        lacks.push('quality.classes');
    }
  }
  if (lacks.length)
    throw new TaktError(
      'models.badCard',
      `${where}: the card of a ${domain} model lacks ${lacks.join(', ')}`,
      'card',
    );
}

function readVersion(path: string, card: VersionCard): Uint8Array {
  const where = `${card.name} v${card.version}`;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new TaktError(
      'models.missingFile',
      `${where}: cannot read ${path}: ${(err as Error).message}`,
      'model',
    );
  }
  const got = sha256(bytes);
  if (got !== card.sha256)
    throw new TaktError(
      'models.hashMismatch',
      `${where}: ${card.file} has SHA-256 ${got.slice(0, 12)}…, the card says ${String(card.sha256).slice(0, 12)}… (file changed or corrupt)`,
      'model',
    );
  return bytes;
}

/** Verifies a registered vision version: hash, image input against the card, and that onnxruntime opens it. */
export async function verifyVision(path: string, card: VersionCard): Promise<VisionVersion> {
  const where = `${card.name} v${card.version}`;
  const bytes = readVersion(path, card);
  const sig = readImageSignature(bytes, where);
  const want = card.image;
  if (
    want &&
    (want.channels !== sig.channels ||
      (want.height !== undefined && sig.height !== want.height) ||
      (want.width !== undefined && sig.width !== want.width))
  )
    throw new TaktError(
      'models.signature',
      `${where}: the model takes [1,${sig.channels},${sig.height ?? '?'},${sig.width ?? '?'}], the card says [1,${want.channels},${want.height ?? '?'},${want.width ?? '?'}]`,
      'input',
    );
  const { session } = await openOnnxSession(
    bytes,
    (reason) => new TaktError('models.corrupt', `${where}: ${reason}`, 'model'),
  );
  await session.release();
  return { domain: 'vision', path, metadata: sig.metadata, dispose: () => Promise.resolve() };
}

/**
 * Verifies a registered quality version: hash, a feature-matrix input as wide as the card's features, and one
 * test row (training means, or zeros) that onnxruntime runs to finite outputs.
 */
export async function verifyQuality(path: string, card: VersionCard): Promise<CheckedVersion> {
  const where = `${card.name} v${card.version}`;
  const domain = domainOf(card);
  if (!isQualityDomain(domain))
    throw new TaktError('models.badCard', `${where}: is a ${domain} model, not a quality model`, 'card');
  const bytes = readVersion(path, card);
  const sig = await readSignature(bytes, where, card.input);
  checkSignature(sig, card.features, where);
  const { ort, session } = await openOnnxSession(
    bytes,
    (reason) => new TaktError('models.corrupt', `${where}: ${reason}`, 'model'),
  );
  const d = card.features.length;
  try {
    const row = Float32Array.from({ length: d }, (_, j) => card.normalisation?.mean[j] ?? 0);
    const out = await session.run({ [sig.input]: new ort.Tensor('float32', row, [1, d]) });
    for (const [name, t] of Object.entries(out)) {
      const data = t.data as ArrayLike<number | bigint>;
      for (let i = 0; i < data.length; i++)
        if (typeof data[i] === 'number' && !Number.isFinite(data[i]))
          throw new Error(`output ${name} is not finite`);
    }
  } catch (err) {
    throw new TaktError(
      'models.signature',
      `${where}: a row of ${d} features does not run: ${(err as Error).message}`,
      'features',
    );
  } finally {
    await session.release();
  }
  return { domain, path, metadata: sig.metadata, dispose: () => Promise.resolve() };
}

/** Refuses a signature that does not take the card's features. */
export function checkSignature(sig: OnnxSignature, features: readonly string[], where: string): void {
  const d = features.length;
  if (sig.width !== undefined && sig.width !== d)
    throw new TaktError(
      'models.signature',
      `${where}: the model takes ${sig.width} features, the card lists ${d} (${features.join(', ')})`,
      'features',
    );
  if (sig.features && sig.features.join('\u0000') !== features.join('\u0000'))
    throw new TaktError(
      'models.signature',
      `${where}: the model was trained on ${sig.features.join(', ')}, the card lists ${features.join(', ')}`,
      'features',
    );
}

/**
 * Verifies a registered version and opens it for scoring: hash, header, signature, and one test row of
 * training means (or zeros) that must give a finite score.
 */
export async function openVerified(path: string, card: VersionCard): Promise<OnnxAnomalyModel> {
  const where = `${card.name} v${card.version}`;
  const bytes = readVersion(path, card);
  const sig = await readSignature(bytes, where, card.input);
  checkSignature(sig, card.features, where);
  let model: OnnxAnomalyModel;
  try {
    model = await OnnxAnomalyModel.load(path, {
      features: card.features,
      threshold: card.threshold,
      input: sig.input,
    });
  } catch (err) {
    throw new TaktError('models.corrupt', `${where}: ${(err as Error).message}`, 'model');
  }
  const d = card.features.length;
  const row = Float32Array.from({ length: d }, (_, j) => card.normalisation?.mean[j] ?? 0);
  try {
    const r = await model.scoreRows(row, 1);
    if (!Number.isFinite(r.score[0])) throw new Error('the test row scores NaN');
  } catch (err) {
    await model.dispose();
    throw new TaktError(
      'models.signature',
      `${where}: a row of ${d} features does not run: ${(err as Error).message}`,
      'features',
    );
  }
  return model;
}
