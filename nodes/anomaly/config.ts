/** The anomaly nodes' configuration (type-only Node-RED import): model paths under the userDir, lists. */
import { isAbsolute, join } from 'node:path';
import type { NodeDef } from 'node-red';
import { TaktError } from '../core/errors';
import type { LiveOptions } from './live';
import { MODEL_KINDS, type ModelKind, type TrainOptions } from './models';

export interface AnomalyNodeDef extends NodeDef {
  model?: string;
  /** A takt-model config node: serve its champion instead of a file. */
  modelRef?: string;
  features?: string;
  threshold?: string | number;
  scoreOutput?: string;
  missing?: string;
  smoothing?: string | number;
  watch?: boolean;
}

export interface TrainNodeDef extends NodeDef {
  kind?: string;
  features?: string;
  rows?: string | number;
  csv?: string;
  modelName?: string;
  thresholdQuantile?: string | number;
  thresholdFactor?: string | number;
  smoothing?: string | number;
}

const num = (v: unknown): number | undefined =>
  v === '' || v === undefined || v === null ? undefined : Number(v);
export const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** The folder trained models go to: <userDir>/takt/models. */
export function modelsDir(userDir: string): string {
  return join(userDir, 'takt', 'models');
}

/** A model path as configured: absolute, or relative to <userDir>/takt/models. */
export function resolveModel(userDir: string, p: string): string {
  return isAbsolute(p) ? p : join(modelsDir(userDir), p);
}

export function toLiveOptions(def: AnomalyNodeDef): LiveOptions {
  const o: LiveOptions = {};
  const f = list(def.features);
  if (f.length) o.features = f;
  const t = num(def.threshold);
  if (t !== undefined) {
    if (!Number.isFinite(t))
      throw new TaktError('anomaly.badConfig', 'threshold: must be a number', 'threshold');
    o.threshold = t;
  }
  if (def.scoreOutput) o.scoreOutput = def.scoreOutput;
  o.missing = def.missing === 'impute' ? 'impute' : 'error';
  const s = num(def.smoothing);
  if (s !== undefined) {
    if (!(Number.isInteger(s) && s >= 1))
      throw new TaktError('anomaly.badConfig', 'smoothing: must be an integer >= 1', 'smoothing');
    o.smoothing = s;
  }
  return o;
}

export function toTrainOptions(def: TrainNodeDef): Omit<TrainOptions, 'onProgress'> & { rows: number } {
  const kind = (def.kind || 'pca') as ModelKind;
  if (!MODEL_KINDS.includes(kind))
    throw new TaktError(
      'anomaly.badConfig',
      `kind: "${kind}" is not one of ${MODEL_KINDS.join(', ')}`,
      'kind',
    );
  const rows = num(def.rows) ?? 400;
  if (!(Number.isInteger(rows) && rows >= 10))
    throw new TaktError('anomaly.badConfig', 'rows: must be an integer >= 10', 'rows');
  const o: Omit<TrainOptions, 'onProgress'> & { rows: number } = { kind, rows };
  const q = num(def.thresholdQuantile);
  if (q !== undefined) o.thresholdQuantile = q;
  const f = num(def.thresholdFactor);
  if (f !== undefined) o.thresholdFactor = f;
  const s = num(def.smoothing);
  if (s !== undefined) o.smoothing = s;
  return o;
}
