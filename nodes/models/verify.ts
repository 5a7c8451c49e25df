/**
 * Checking a version before it serves: the file's SHA-256 against the card, the ONNX header (the reader of
 * ../anomaly/onnx.ts) and the input signature (feature count and names) against the card, then a test run.
 * Every failure is a TaktError that names the version and what is wrong.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TaktError } from '../core/errors';
import { openOnnxSession } from '../core/onnx';
import { META } from '../anomaly/models';
import { readOnnxHeader } from '../anomaly/onnx';
import { OnnxAnomalyModel } from '../anomaly/scorer';
import type { VersionCard } from './types';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

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
