/**
 * InfluxDB line protocol: `measurement,tag=v field=1,other="text" 1764115200000` (precision ms).
 *
 * Escaping follows the line-protocol reference: measurement names escape commas and spaces; tag keys, tag
 * values and field keys escape commas, equals signs and spaces; string field values are double-quoted and
 * escape double quotes and backslashes. Unicode passes through as UTF-8.
 *
 * Backslashes in names differ by server: InfluxDB 2.x/3.x and VictoriaMetrics read `\\` as one backslash
 * (`backslashes: 'escape'`), InfluxDB 1.x keeps `\\` as two (`'literal'`: a lone backslash is written as
 * is). Newlines and carriage returns cannot appear in names at all: they end the line, so they are refused.
 */
import { TaktError } from '../core/errors';

export type FieldValue = number | boolean | string | bigint;

/** One point. `ts` is epoch milliseconds; without one the server uses its arrival time. */
export interface Point {
  measurement: string;
  tags?: Readonly<Record<string, string>>;
  fields: Readonly<Record<string, FieldValue>>;
  ts?: number;
}

export type BackslashMode = 'escape' | 'literal';

/** Latest epoch ms InfluxDB can store (int64 nanoseconds: 2262-04-11T23:47:16.854Z). */
export const MAX_INFLUX_MS = 9223372036854;
/** Earliest epoch ms InfluxDB can store (1677-09-21T00:12:43.146Z). */
export const MIN_INFLUX_MS = -9223372036854;

const NEWLINE = /[\r\n]/;

/** Any character that needs a look: most names have none, and then one test is all they cost. */
const ANY_SPECIAL = /[,= \\\r\n]/;

function escapeName(s: string, special: RegExp, backslashes: BackslashMode, field: string): string {
  if (!ANY_SPECIAL.test(s)) return s;
  if (NEWLINE.test(s)) {
    throw new TaktError('influx.newline', `${field}: ${JSON.stringify(s)} contains a line break`, field);
  }
  if (backslashes === 'escape') return s.replace(/\\/g, '\\\\').replace(special, '\\$&');
  if (s.endsWith('\\')) {
    throw new TaktError(
      'influx.trailingBackslash',
      `${field}: ${JSON.stringify(s)} ends with a backslash, which InfluxDB 1.x cannot read`,
      field,
    );
  }
  return s.replace(special, '\\$&');
}

const MEASUREMENT_SPECIAL = /[, ]/g;
const KEY_SPECIAL = /[,= ]/g;

export function escapeMeasurement(s: string, backslashes: BackslashMode = 'escape'): string {
  if (s === '')
    throw new TaktError('influx.emptyMeasurement', 'measurement: must not be empty', 'measurement');
  return escapeName(s, MEASUREMENT_SPECIAL, backslashes, 'measurement');
}

/** Tag keys, tag values and field keys. */
export function escapeKey(s: string, backslashes: BackslashMode = 'escape', field = 'key'): string {
  return escapeName(s, KEY_SPECIAL, backslashes, field);
}

/** A string field value with its quotes. */
export function quoteString(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

export function formatField(v: FieldValue, field = 'field'): string {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) {
        throw new TaktError('influx.notFinite', `${field}: ${v} is not a finite number`, field);
      }
      // Floats always (an integer-looking 3 stays a float, so a field never changes type between points).
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return `${v}i`;
    case 'string':
      return quoteString(v);
    default:
      throw new TaktError(
        'influx.badField',
        `${field}: ${v === null ? 'null' : typeof v} is not a number, boolean, string or bigint`,
        field,
      );
  }
}

/** Checks a timestamp (epoch ms) against InfluxDB's range. */
export function checkTs(ts: number, field = 'ts'): number {
  if (!Number.isFinite(ts) || ts < MIN_INFLUX_MS || ts > MAX_INFLUX_MS) {
    throw new TaktError(
      'influx.tsRange',
      `${field}: ${ts} is outside InfluxDB's time range (years 1677 to 2262)`,
      field,
    );
  }
  return Math.round(ts);
}

/** One line (without the newline). Throws `TaktError` naming the part at fault. */
export function encodePoint(p: Point, backslashes: BackslashMode = 'escape'): string {
  if (typeof p.measurement !== 'string' || p.measurement.trim() === '') {
    throw new TaktError('influx.emptyMeasurement', 'measurement: must not be empty', 'measurement');
  }
  let line = escapeName(p.measurement, MEASUREMENT_SPECIAL, backslashes, 'measurement');
  if (p.tags) {
    // Sorted tag keys are what the server wants (it sorts otherwise); empty values are not allowed.
    for (const k of Object.keys(p.tags).sort()) {
      const v = p.tags[k];
      if (v === undefined || v === null || v === '') continue;
      if (typeof v !== 'string') {
        throw new TaktError('influx.badTag', `tags.${k}: a tag value must be text`, `tags.${k}`);
      }
      if (k === '') throw new TaktError('influx.badTag', 'tags: a tag key must not be empty', 'tags');
      line += `,${escapeName(k, KEY_SPECIAL, backslashes, `tags.${k}`)}=${escapeName(v, KEY_SPECIAL, backslashes, `tags.${k}`)}`;
    }
  }
  let sep = ' ';
  for (const k of Object.keys(p.fields)) {
    const v = p.fields[k];
    if (v === undefined) continue;
    if (k === '') throw new TaktError('influx.badField', 'fields: a field key must not be empty', 'fields');
    line += `${sep}${escapeName(k, KEY_SPECIAL, backslashes, `fields.${k}`)}=${formatField(v, `fields.${k}`)}`;
    sep = ',';
  }
  if (sep === ' ') {
    throw new TaktError('influx.noFields', `fields: point "${p.measurement}" has no fields`, 'fields');
  }
  if (p.ts !== undefined) line += ` ${checkTs(p.ts)}`;
  return line;
}
