/**
 * The sample contract (docs/ARCHITECTURE.md, "Message contracts"): what readers emit and what analytics
 * and writers take. One sample is a value of one tag at one time with a quality:
 *
 *   msg.topic = "enterprise/site/area/line/cell/tag"  (ISA-95 path)
 *   msg.payload = 12.7                               (number | boolean | string | number[])
 *   msg.ts = 1764115200000                           (source timestamp, epoch ms)
 *   msg.quality = "good" | "uncertain" | "bad"
 *
 * A batch is `msg.payload = [{ topic, value, ts, quality }, ...]`.
 */
import { TaktError } from './errors';
import { toEpochMs } from './time';

export type Quality = 'good' | 'uncertain' | 'bad';
export const QUALITIES: readonly Quality[] = ['good', 'uncertain', 'bad'];
export type SampleValue = number | boolean | string | number[];

export interface Sample {
  topic: string;
  value: SampleValue;
  ts: number;
  quality: Quality;
}

/** How text values are turned into sample values. */
export type Coercion = 'auto' | 'number' | 'none';
export const COERCIONS: readonly Coercion[] = ['auto', 'number', 'none'];

export interface SampleOptions {
  /** ISA-95 path put in front of the topic, e.g. "acme/plant1/press-shop". */
  topicPrefix?: string;
  /** "auto": numeric text to number, "true"/"false" to boolean; "number": must be numeric; "none": as is. */
  coerce?: Coercion;
  /** Timestamp used when the input has none (epoch ms); normally the arrival time. */
  now: number;
}

/** One sample's raw parts, as found on a message or in a batch element. */
export interface RawSample {
  topic?: unknown;
  value: unknown;
  ts?: unknown;
  quality?: unknown;
}

/** OPC UA StatusCode severity (the top two bits): 00 good, 01 uncertain, 10 and 11 bad. */
export function qualityFromStatusCode(code: number): Quality {
  const severity = (code >>> 30) & 0b11;
  return severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
}

/**
 * Quality from a quality word (any case: good/uncertain/bad, also OPC UA names such as "GoodClamped",
 * "UncertainLastUsableValue", "BadNotConnected"), a boolean (true = good) or an OPC UA StatusCode number.
 * Missing means good.
 */
export function toQuality(value: unknown, field = 'quality'): Quality {
  if (value === undefined || value === null) return 'good';
  if (typeof value === 'boolean') return value ? 'good' : 'bad';
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) {
    return qualityFromStatusCode(value);
  }
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    for (const q of QUALITIES) if (s.startsWith(q)) return q;
  }
  throw new TaktError(
    'sample.badQuality',
    `${field}: ${JSON.stringify(value)} is not a quality (good, uncertain, bad or an OPC UA StatusCode)`,
    field,
  );
}

/** Checks an ISA-95 style topic path: non-empty segments separated by "/", no MQTT wildcards. */
export function toTopic(topic: unknown, prefix = '', field = 'topic'): string {
  const own = topic === undefined || topic === null ? '' : String(topic).trim();
  const path = [prefix.trim(), own].filter((p) => p !== '').join('/');
  if (path === '')
    throw new TaktError('sample.noTopic', `${field}: a sample needs a topic (tag path)`, field);
  const segments = path.split('/');
  if (segments.some((s) => s.trim() === '')) {
    throw new TaktError('sample.badTopic', `${field}: "${path}" has an empty path segment`, field);
  }
  if (/[+#]/.test(path)) {
    throw new TaktError('sample.badTopic', `${field}: "${path}" contains an MQTT wildcard (+ or #)`, field);
  }
  return path;
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A sample value from anything a message may carry; see `Coercion`. */
export function toValue(value: unknown, coerce: Coercion = 'auto', field = 'value'): SampleValue {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new TaktError('sample.notFinite', `${field}: ${value} is not a finite number`, field);
    }
    return value;
  }
  if (coerce !== 'number' && typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const s = value.trim();
    if (coerce !== 'none' && NUMERIC.test(s)) return Number(s);
    if (coerce === 'auto' && /^(true|false)$/i.test(s)) return s.toLowerCase() === 'true';
    if (coerce !== 'number') return value;
    throw new TaktError('sample.notNumeric', `${field}: "${value}" is not a number`, field);
  }
  if (coerce === 'number' && typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const arr = Array.from(value as ArrayLike<unknown>);
    const out = new Array<number>(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new TaktError('sample.badArray', `${field}[${i}]: ${String(v)} is not a finite number`, field);
      }
      out[i] = v;
    }
    return out;
  }
  throw new TaktError(
    'sample.badValue',
    `${field}: expected a number, boolean, string or number array, got ${value === null ? 'null' : typeof value}`,
    field,
  );
}

/** Builds one validated sample; throws `TaktError` naming the field at fault. */
export function toSample(raw: RawSample, opts: SampleOptions, field = 'payload'): Sample {
  return {
    topic: toTopic(raw.topic, opts.topicPrefix, `${field}.topic`),
    value: toValue(raw.value, opts.coerce, `${field}.value`),
    ts: raw.ts === undefined || raw.ts === null ? opts.now : toEpochMs(raw.ts, `${field}.ts`),
    quality: toQuality(raw.quality, `${field}.quality`),
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

/** True for an object that carries its own value, i.e. `{ value, ts?, quality?, topic? }`. */
export function isSampleLike(x: unknown): x is RawSample {
  return isRecord(x) && 'value' in x;
}

/**
 * Reads a batch: an array whose every element is `{ value, topic?, ts?, quality? }`. Elements without a
 * topic take `defaultTopic`. All elements are checked before any is returned, so a bad batch is refused
 * whole and names the first bad element.
 */
export function toBatch(items: readonly unknown[], defaultTopic: unknown, opts: SampleOptions): Sample[] {
  return items.map((item, i) => {
    if (!isSampleLike(item)) {
      throw new TaktError('sample.badBatch', `payload[${i}]: a batch element needs a value`, `payload[${i}]`);
    }
    return toSample({ ...item, topic: item.topic ?? defaultTopic }, opts, `payload[${i}]`);
  });
}

/** True when the array is a batch of samples rather than a numeric array value (e.g. a waveform). */
export function isBatch(x: unknown): x is unknown[] {
  return Array.isArray(x) && x.length > 0 && x.every(isSampleLike);
}

/**
 * The named values of a feature row: a row of the prep nodes (`{ ts, features: { name: value }, quality,
 * names, vector }`) gives its `features`; any other record is taken as the features themselves.
 */
export function rowFeatures(r: Record<string, unknown>): Record<string, unknown> {
  const f = r.features;
  return f !== null && typeof f === 'object' && !Array.isArray(f) && Array.isArray(r.vector)
    ? (f as Record<string, unknown>)
    : r;
}
