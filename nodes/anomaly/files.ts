/**
 * Files of the anomaly feature: a trained model is written as `<dir>/<name>.onnx` plus `<name>.json` (the model
 * card: features, data range, threshold, training metrics), both atomically; training data may come from a CSV
 * (comma or semicolon separated, a header row, non-numeric columns such as timestamps ignored).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TaktError } from '../core/errors';
import { writeFileAtomic } from '../core/state';
import { type ModelCard, modelToOnnx, type TrainedModel } from './models';

export interface SavedModel {
  model: string;
  card: string;
}

/** Writes the model and its card; returns both paths. */
export function saveModel(t: TrainedModel, dir: string, name: string): SavedModel {
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw new TaktError(
      'anomaly.badOption',
      `name: "${name}" must be a plain file name (letters, digits, . _ -)`,
      'name',
    );
  const model = join(dir, `${name}.onnx`);
  const card = join(dir, `${name}.json`);
  writeFileAtomic(model, modelToOnnx(t));
  writeFileAtomic(
    card,
    JSON.stringify({ ...t.card, file: `${name}.onnx` } satisfies ModelCard & { file: string }, null, 2),
  );
  return { model, card };
}

/**
 * Reads numeric columns of a CSV: `columns` picks and orders them (default every column whose first data row is
 * numeric). Rows with a missing or non-numeric value in a chosen column give a TaktError naming row and column.
 */
export function parseCsv(
  file: string,
  columns?: string[],
): { features: string[]; X: Float64Array; n: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TaktError('anomaly.csv', `csv: cannot read ${file}: ${(err as Error).message}`, 'csv');
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new TaktError('anomaly.csv', `csv: ${file} has no data rows`, 'csv');
  const sep = lines[0].includes(';') ? ';' : ',';
  const head = lines[0].split(sep).map((s) => s.trim());
  const first = lines[1].split(sep);
  const pick = columns?.length
    ? columns.map((c) => {
        const i = head.indexOf(c);
        if (i < 0) throw new TaktError('anomaly.csv', `csv: no column "${c}" in ${file}`, c);
        return i;
      })
    : head
        .map((_, i) => i)
        .filter((i) => first[i] !== undefined && first[i].trim() !== '' && Number.isFinite(Number(first[i])));
  const n = lines.length - 1;
  const d = pick.length;
  const X = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const c = lines[r + 1].split(sep);
    pick.forEach((i, j) => {
      const v = Number(c[i]);
      if (c[i] === undefined || c[i].trim() === '' || !Number.isFinite(v))
        throw new TaktError(
          'anomaly.csv',
          `csv: row ${r + 2}, column ${head[i]}: "${c[i] ?? ''}" is not a number`,
          head[i],
        );
      X[r * d + j] = v;
    });
  }
  return { features: pick.map((i) => head[i]), X, n };
}
