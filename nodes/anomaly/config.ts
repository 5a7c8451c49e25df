/** The anomaly nodes' configuration (type-only Node-RED import): model paths under the userDir, lists. */
import { isAbsolute, join } from 'node:path';
import type { NodeDef } from 'node-red';
import { configReader } from '../core/adaptor';
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
  /** After a model is trained: collect the next window ('collect', default) or stop collecting ('stop'). */
  after?: 'collect' | 'stop';
}

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
  const cfg = configReader(def, { code: 'anomaly.badConfig' });
  const o: LiveOptions = {};
  const f = list(def.features);
  if (f.length) o.features = f;
  const t = cfg.optionalNumber('threshold');
  if (t !== undefined) o.threshold = t;
  if (def.scoreOutput) o.scoreOutput = def.scoreOutput;
  o.missing = def.missing === 'impute' ? 'impute' : 'error';
  const s = cfg.optionalNumber('smoothing', { integer: true, min: 1 });
  if (s !== undefined) o.smoothing = s;
  return o;
}

export function toTrainOptions(
  def: TrainNodeDef,
): Omit<TrainOptions, 'onProgress'> & { rows: number; stopAfter: boolean } {
  const kind = (def.kind || 'pca') as ModelKind;
  if (!MODEL_KINDS.includes(kind))
    throw new TaktError(
      'anomaly.badConfig',
      `kind: "${kind}" is not one of ${MODEL_KINDS.join(', ')}`,
      'kind',
    );
  const cfg = configReader(def, { code: 'anomaly.badConfig' });
  const rows = cfg.number('rows', { default: 400, integer: true, min: 10 });
  const stopAfter = cfg.choice('after', ['collect', 'stop'], 'collect') === 'stop';
  const o: Omit<TrainOptions, 'onProgress'> & { rows: number; stopAfter: boolean } = {
    kind,
    rows,
    stopAfter,
  };
  const q = cfg.optionalNumber('thresholdQuantile');
  if (q !== undefined) o.thresholdQuantile = q;
  const f = cfg.optionalNumber('thresholdFactor');
  if (f !== undefined) o.thresholdFactor = f;
  const s = cfg.optionalNumber('smoothing');
  if (s !== undefined) o.smoothing = s;
  return o;
}
