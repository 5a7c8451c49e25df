/**
 * From Takt messages to points: samples (topic path -> measurement + tags, value -> field, ts -> time),
 * explicit `{ measurement, tags, fields, ts }` objects, and analytics results (msg.spc, msg.anomaly,
 * msg.oee, ...) flattened into numeric, boolean and text fields.
 */
import { TaktError } from '../core/errors';
import {
  type Coercion,
  isBatch,
  type Quality,
  type Sample,
  toBatch,
  toSample,
  toValue,
} from '../core/sample';
import { toEpochMs } from '../core/time';
import { checkTs, type FieldValue, type Point } from './line-protocol';
import { isRecord } from '../core/message';

/** Where quality goes: a tag, a string field, or nowhere. */
export type QualityAs = 'tag' | 'field' | 'none';

export interface TopicMapping {
  /**
   * Names for the topic's segments, e.g. `['enterprise','site','area','line','cell','measurement']`.
   * The segment under `measurement` becomes the measurement; `-` skips a segment; every other name is a tag.
   * A longer topic joins its extra trailing segments into the last level; a shorter one fills the levels
   * from the start and always gives its last segment to the last level.
   */
  levels: readonly string[];
  /** A fixed measurement instead of (or when the levels have no) `measurement` segment. */
  measurement?: string;
  /** Field name for a sample's value (arrays get `<field>_0`, `<field>_1`, ...). Default "value". */
  field: string;
  /** "number" refuses non-numeric values (booleans become 1/0); "auto" keeps booleans and text. */
  valueType: Coercion;
  qualityAs: QualityAs;
  /** Tags put on every point (a point's own tags win). */
  extraTags?: Readonly<Record<string, string>>;
}

export const DEFAULT_LEVELS = ['enterprise', 'site', 'area', 'line', 'cell', 'measurement'] as const;

export function defaultMapping(over: Partial<TopicMapping> = {}): TopicMapping {
  return { levels: DEFAULT_LEVELS, field: 'value', valueType: 'auto', qualityAs: 'none', ...over };
}

/** Parses "box=line1-box, site=plant1" into tags put on every point (empty text: none). */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    const k = eq > 0 ? part.slice(0, eq).trim() : '';
    const v = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (!k || !v || /[\n\r]/.test(part)) {
      throw new TaktError('influx.badTags', `tags: "${part}" must look like name=value`, 'tags');
    }
    tags[k] = v;
  }
  return tags;
}

/** Parses "enterprise/site/area/line/cell/measurement" into level names. */
export function parseLevels(text: string): string[] {
  const levels = text
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (levels.length === 0) throw new TaktError('influx.badLevels', 'levels: no level names', 'levels');
  const named = levels.filter((l) => l !== '-');
  if (new Set(named).size !== named.length) {
    throw new TaktError('influx.badLevels', `levels: "${text}" repeats a name`, 'levels');
  }
  return levels;
}

/** Measurement and tags for a topic path. */
export function topicToSeries(
  topic: string,
  m: TopicMapping,
): { measurement: string; tags: Record<string, string> } {
  const segs = topic.split('/');
  const L = m.levels;
  const values = new Array<string | undefined>(L.length);
  if (segs.length >= L.length) {
    for (let i = 0; i < L.length - 1; i++) values[i] = segs[i];
    values[L.length - 1] = segs.slice(L.length - 1).join('/');
  } else {
    for (let i = 0; i < segs.length - 1; i++) values[i] = segs[i];
    values[L.length - 1] = segs[segs.length - 1];
  }
  const tags: Record<string, string> = { ...(m.extraTags ?? {}) };
  let measurement = m.measurement ?? '';
  for (let i = 0; i < L.length; i++) {
    const v = values[i];
    if (v === undefined || L[i] === '-') continue;
    if (L[i] === 'measurement') {
      if (!m.measurement) measurement = v;
    } else tags[L[i]] = v;
  }
  if (measurement.trim() === '') {
    throw new TaktError('influx.emptyMeasurement', `topic: "${topic}" gives no measurement`, 'topic');
  }
  return { measurement, tags };
}

function valueFields(value: unknown, m: TopicMapping, field: string): Record<string, FieldValue> {
  const v = toValue(value, m.valueType, field);
  if (Array.isArray(v)) {
    const out: Record<string, FieldValue> = {};
    v.forEach((x, i) => (out[`${m.field}_${i}`] = x));
    return out;
  }
  return { [m.field]: v };
}

function withQuality(p: Point, q: Quality, m: TopicMapping): Point {
  if (m.qualityAs === 'tag') return { ...p, tags: { ...p.tags, quality: q } };
  if (m.qualityAs === 'field') return { ...p, fields: { ...p.fields, quality: q } };
  return p;
}

export function sampleToPoint(s: Sample, m: TopicMapping, field = 'payload'): Point {
  const { measurement, tags } = topicToSeries(s.topic, m);
  const p: Point = { measurement, tags, fields: valueFields(s.value, m, field), ts: checkTs(s.ts, 'ts') };
  return withQuality(p, s.quality, m);
}

/** True for `{ measurement, fields }` (an explicit point). */
export function isExplicitPoint(x: unknown): x is Record<string, unknown> {
  return isRecord(x) && 'measurement' in x && 'fields' in x;
}

function toFieldValue(v: unknown, field: string): FieldValue {
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new TaktError('influx.notFinite', `${field}: ${v} is not a finite number`, field);
    }
    return v;
  }
  if (typeof v === 'string') return v;
  throw new TaktError(
    'influx.badField',
    `${field}: ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v} cannot be a field value`,
    field,
  );
}

/** An explicit point from a message; `tags` and `fields` must be flat records. */
export function explicitToPoint(
  x: Record<string, unknown>,
  now: number,
  m?: TopicMapping,
  field = 'payload',
): Point {
  const measurement = x.measurement;
  if (typeof measurement !== 'string' || measurement.trim() === '') {
    throw new TaktError(
      'influx.emptyMeasurement',
      `${field}.measurement: must be non-empty text`,
      `${field}.measurement`,
    );
  }
  const tags: Record<string, string> = { ...(m?.extraTags ?? {}) };
  if (x.tags !== undefined) {
    if (!isRecord(x.tags))
      throw new TaktError('influx.badTag', `${field}.tags: must be an object`, `${field}.tags`);
    for (const [k, v] of Object.entries(x.tags)) {
      if (v === undefined || v === null) continue;
      if (typeof v === 'object') {
        throw new TaktError('influx.badTag', `${field}.tags.${k}: must be text`, `${field}.tags.${k}`);
      }
      tags[k] = String(v);
    }
  }
  if (!isRecord(x.fields)) {
    throw new TaktError('influx.noFields', `${field}.fields: must be an object`, `${field}.fields`);
  }
  const fields: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(x.fields)) {
    if (v === undefined || v === null) continue;
    fields[k] = toFieldValue(v, `${field}.fields.${k}`);
  }
  if (Object.keys(fields).length === 0) {
    throw new TaktError('influx.noFields', `${field}.fields: no field values`, `${field}.fields`);
  }
  const ts = x.ts === undefined || x.ts === null ? now : toEpochMs(x.ts, `${field}.ts`);
  return { measurement, tags, fields, ts: checkTs(ts, `${field}.ts`) };
}

/**
 * Flattens an analytics result into fields: numbers, booleans and text at the top level and one level
 * down (`contributions.x` -> `contributions_x`); arrays of numbers give `<key>_count` and, for short
 * arrays of integers (SPC rule numbers), a text list. Deeper objects are left out.
 */
export function flattenResult(result: Record<string, unknown>): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  const put = (k: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (typeof v === 'boolean' || typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) {
      out[`${k}_count`] = v.length;
      if (v.length > 0 && v.length <= 16 && v.every((e) => Number.isInteger(e))) out[k] = v.join(',');
    }
  };
  for (const [k, v] of Object.entries(result)) {
    if (k === 'ts' || k === 'index') continue;
    if (isRecord(v)) {
      for (const [k2, v2] of Object.entries(v)) if (!isRecord(v2)) put(`${k}_${k2}`, v2);
    } else put(k, v);
  }
  return out;
}

/**
 * An analytics result (msg.spc, msg.anomaly, msg.oee, ...) as a point: measurement `<prefix><kind>`,
 * tags from the message topic (when there is one) plus `source` = the topic's measurement, fields flattened.
 */
export function analyticsToPoint(
  kind: string,
  result: unknown,
  topic: string | undefined,
  ts: number,
  m: TopicMapping,
  prefix = '',
): Point {
  if (!isRecord(result)) {
    throw new TaktError('influx.badResult', `${kind}: an analytics result must be an object`, kind);
  }
  let tags: Record<string, string> = { ...(m.extraTags ?? {}) };
  if (topic) {
    const s = topicToSeries(topic, m);
    tags = { ...s.tags, source: s.measurement };
  }
  const fields = flattenResult(result);
  if (Object.keys(fields).length === 0) {
    throw new TaktError(
      'influx.noFields',
      `${kind}: the result has no numeric, boolean or text values`,
      kind,
    );
  }
  const own = typeof result.ts === 'number' ? result.ts : ts;
  return { measurement: `${prefix}${kind}`, tags, fields, ts: checkTs(own, `${kind}.ts`) };
}

/** What a message carries, as the out node reads it. */
export interface MessageIn {
  topic?: unknown;
  payload?: unknown;
  ts?: unknown;
  quality?: unknown;
  /** Overrides the measurement of samples. */
  measurement?: unknown;
  /** Analytics results present on the message, by key (spc, anomaly, oee, ...). */
  results?: Readonly<Record<string, unknown>>;
}

export type WriteWhat = 'both' | 'samples' | 'analytics';

/**
 * Every point one message gives: explicit points (`payload` = `{ measurement, fields, ... }` or an array
 * of them), a sample batch, or one sample; plus one point per analytics result. All are built before any
 * is returned, so a bad message is refused whole with the field at fault named.
 */
export function messageToPoints(
  msg: MessageIn,
  m: TopicMapping,
  now: number,
  what: WriteWhat = 'both',
  prefix = '',
): Point[] {
  const out: Point[] = [];
  const p = msg.payload;
  const fixed =
    msg.measurement === undefined || msg.measurement === null ? undefined : String(msg.measurement);
  const mm = fixed !== undefined ? { ...m, measurement: fixed } : m;
  if (what !== 'analytics' && p !== undefined && p !== null) {
    if (isExplicitPoint(p)) out.push(explicitToPoint(p, now, m));
    else if (Array.isArray(p) && p.length > 0 && p.every(isExplicitPoint)) {
      p.forEach((x, i) => out.push(explicitToPoint(x, now, m, `payload[${i}]`)));
    } else if (isBatch(p)) {
      for (const s of toBatch(p, msg.topic, { now })) out.push(sampleToPoint(s, mm));
    } else {
      const s = toSample(
        { topic: msg.topic, value: p, ts: msg.ts, quality: msg.quality },
        { now, coerce: 'none' },
      );
      out.push(sampleToPoint(s, mm));
    }
  }
  if (what !== 'samples' && msg.results) {
    const topic =
      msg.topic === undefined || msg.topic === null || msg.topic === '' ? undefined : String(msg.topic);
    const ts = msg.ts === undefined || msg.ts === null ? now : toEpochMs(msg.ts);
    for (const [kind, r] of Object.entries(msg.results)) {
      if (r !== undefined && r !== null) out.push(analyticsToPoint(kind, r, topic, ts, m, prefix));
    }
  }
  if (out.length === 0) {
    throw new TaktError('influx.nothing', 'payload: the message has nothing to write', 'payload');
  }
  return out;
}
