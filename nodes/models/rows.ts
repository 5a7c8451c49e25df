/**
 * Feature rows as messages carry them: a record of named features, an array in feature order, an array of
 * either (a batch), or a takt-align row ({ features: { name: value }, names, vector }). No Node-RED import.
 */
import { TaktError } from '../core/errors';
import { rowFeatures } from '../core/sample';

export type Row = readonly unknown[] | Readonly<Record<string, unknown>>;

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** A prep row carries its values under `features`. */
const unwrap = (x: unknown): unknown => (isRecord(x) ? rowFeatures(x) : x);

/** The rows in a payload, and whether it was a batch. */
export function rowsOf(payload: unknown, field = 'payload'): { rows: Row[]; batch: boolean } {
  const p = unwrap(payload);
  if (Array.isArray(p) && p.length > 0 && typeof p[0] === 'object' && p[0] !== null)
    return {
      rows: p.map((r, i) => {
        const u = unwrap(r);
        if (!Array.isArray(u) && !isRecord(u))
          throw new TaktError(
            'models.badPayload',
            `${field}[${i}]: expected a feature record or array`,
            field,
          );
        return u as Row;
      }),
      batch: true,
    };
  if (Array.isArray(p) || isRecord(p)) return { rows: [p as Row], batch: false };
  throw new TaktError(
    'models.badPayload',
    `${field}: expected a record of named features, an array in feature order, or an array of them`,
    field,
  );
}

/** One row as numbers in `features` order; a missing or non-numeric feature is a TaktError naming it. */
export function toVector(row: Row, features: readonly string[], field = 'payload'): number[] {
  const d = features.length;
  if (Array.isArray(row) && row.length !== d)
    throw new TaktError(
      'models.featureCount',
      `${field}: ${row.length} values, the model takes ${d} (${features.join(', ')})`,
      field,
    );
  return features.map((f, j) => {
    const v = Array.isArray(row) ? row[j] : (row as Record<string, unknown>)[f];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TaktError('models.missing', `${field}: ${f} is missing or not a number`, f);
    return v;
  });
}
