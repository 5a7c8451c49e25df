/**
 * The message contract (docs/ARCHITECTURE.md "Reading a message") and the ONE reader every adaptor uses
 * for it. No Node-RED import.
 *
 * Sample: one value of one tag at one time with a quality:
 *
 *   msg.topic = "enterprise/site/area/line/cell/tag"  (ISA-95 path)
 *   msg.payload = 12.7                               (number | boolean | string | number[])
 *   msg.ts = 1764115200000                           (source timestamp, see below)
 *   msg.quality = "good" | "uncertain" | "bad"       (missing = good; see `toQuality`)
 *
 * Batch: `msg.payload = [{ topic, value, ts, quality }, ...]`. An array is a batch when its FIRST element is
 * a record with a `value`; then EVERY element is checked (`readSamples`), and an element that is not a
 * sample is a bad element. An element without a topic takes msg.topic; without a quality it is good (the
 * message's own quality does not reach into a batch).
 *
 * Prep row: `msg.payload = { ts, features: { name: number }, quality, names?, vector? }` (`readRows`).
 *
 * Timestamps (`readTimestamp`, one rule for every node): missing gives the arrival time; a number is epoch
 * ms, except that a magnitude below 1e11 is epoch SECONDS (1e11 ms is March 1973, 1e11 s the year 5138, so
 * the two ranges cannot be confused for plant data); numeric text is read as that number; ISO 8601 /
 * RFC 3339 text must carry a zone (Z or an offset); a Date is taken as is. Anything else is an error
 * (`time.badTimestamp`, `time.noZone`).
 *
 * A bad element of a batch is either refused (the whole message, naming the first bad element, after all
 * were checked) or marked (kept with `error` set and the unreadable part NaN / "bad"), as the node chooses
 * with `onBad`.
 *
 * Commands: `msg.action`, checked against the node's own list (`commandReader`); the old spellings a node
 * accepted before (`msg.reset`, `msg.payload.action`, ...) still work and log a deprecation warning once.
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

/** A plain object (not null, an array or a byte buffer): the one guard for message fields. */
export function isRecord(x: unknown): x is Record<string, unknown> {
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

// ---------------------------------------------------------------------------------------------------------
// The message reader: samples, batches, prep rows and commands, read the same way in every node.

/** What a node does with a bad element of a batch: refuse the whole message, or keep it marked. */
export type OnBad = 'refuse' | 'mark';

/**
 * A source timestamp as epoch ms by the one rule of this module (see the module comment): missing gives
 * `now`; epoch ms, epoch seconds below 1e11, numeric text, zoned ISO 8601 text or a Date otherwise.
 */
export function readTimestamp(ts: unknown, now: number, field = 'ts'): number {
  return ts === undefined || ts === null ? now : toEpochMs(ts, field);
}

/** Reads a sample's value; throws a `TaktError` naming `field` when the value does not fit the node. */
export type ValueReader<V> = (value: unknown, field: string) => V;

/** The value as it came (the default): the node's engine judges it. */
export const anyValue: ValueReader<unknown> = (v) => v;

/** A finite number; numeric text is NOT accepted (`message.notNumber`). */
export const numberValue: ValueReader<number> = (v, field) => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new TaktError('message.notNumber', `${field}: expected a finite number, got ${describe(v)}`, field);
};

/** A sample value by the sample contract's coercion rules (`toValue`). */
export const coercedValue =
  (coerce: Coercion = 'auto'): ValueReader<SampleValue> =>
  (v, field) =>
    toValue(v, coerce, field);

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? typeof v : s.length > 40 ? `${s.slice(0, 39)}…` : s;
  } catch {
    return typeof v;
  }
}

/** One sample as read off a message. `error` is set only on a bad element kept by `onBad: 'mark'`. */
export interface MessageSample<V = unknown> {
  topic: string;
  value: V;
  /** Epoch ms; NaN on a marked element whose timestamp could not be read. */
  ts: number;
  quality: Quality;
  error?: TaktError;
}

export interface ReadSamplesOptions<V> {
  /** Arrival time, used when a sample has no timestamp (epoch ms). */
  now: number;
  /** Value check; default `anyValue`. */
  value?: ValueReader<V>;
  /** 'refuse' (default): a bad element refuses the message; 'mark': it is kept with `error` set. */
  onBad?: OnBad;
  /** 'text' (default): the topic as text ('' if none); 'path': an ISA-95 path checked by `toTopic`. */
  topic?: 'text' | 'path';
  /** Put in front of every topic ('path' topics only). */
  topicPrefix?: string;
  /** false: an array payload is always one value, never a batch (default true). */
  batch?: boolean;
  /**
   * How errors name the parts of a single (non-batch) sample: by default the msg properties ("ts",
   * "payload"); with a field, as parts of it ("payload" gives "payload.ts", "payload.value").
   */
  field?: string;
}

/** The parts of a message the sample reader looks at. */
export interface SampleMessage {
  topic?: unknown;
  payload?: unknown;
  ts?: unknown;
  quality?: unknown;
}

/** True for an array payload meant as a batch: its first element is a record with a value. */
export function looksLikeBatch(p: unknown): p is unknown[] {
  return Array.isArray(p) && p.length > 0 && isSampleLike(p[0]);
}

function asTaktError(err: unknown, field: string): TaktError {
  return err instanceof TaktError ? err : new TaktError('message.bad', `${field}: ${String(err)}`, field);
}

/**
 * Every sample on a message: the message itself, or each element of a batch (all checked). With
 * `onBad: 'refuse'` the first bad element is thrown once every element was read; with 'mark' nothing
 * throws and bad elements carry `error` (unreadable ts NaN, unreadable quality 'bad', unreadable value as
 * it came).
 */
export function readSamples<V = unknown>(
  msg: SampleMessage,
  opts: ReadSamplesOptions<V>,
): MessageSample<V>[] {
  const p = msg.payload;
  if (opts.batch !== false && looksLikeBatch(p)) {
    const out = new Array<MessageSample<V>>(p.length);
    let first: TaktError | undefined;
    for (let i = 0; i < p.length; i++) {
      const item = p[i];
      const field = `payload[${i}]`;
      const s = isSampleLike(item)
        ? readOne(item.topic ?? msg.topic, item.value, item.ts, item.quality, opts, field)
        : notASample<V>(item, msg.topic, field);
      if (s.error) first ??= s.error;
      out[i] = s;
    }
    if (first && opts.onBad !== 'mark') throw first;
    return out;
  }
  const s = readOne(msg.topic, p, msg.ts, msg.quality, opts, opts.field ?? '');
  if (s.error && opts.onBad !== 'mark') throw s.error;
  return [s];
}

/** The one sample of a message that is not a batch (a batch is refused: `message.batch`). */
export function readSample<V = unknown>(msg: SampleMessage, opts: ReadSamplesOptions<V>): MessageSample<V> {
  if (opts.batch !== false && looksLikeBatch(msg.payload))
    throw new TaktError(
      'message.batch',
      'payload: this node takes one sample per message, not a batch',
      'payload',
    );
  return readSamples(msg, opts)[0];
}

function notASample<V>(item: unknown, topic: unknown, field: string): MessageSample<V> {
  return {
    topic: topic === undefined || topic === null ? '' : String(topic),
    value: item as V,
    ts: NaN,
    quality: 'bad',
    error: new TaktError('message.badBatch', `${field}: a batch element needs a value`, field),
  };
}

function readOne<V>(
  topic: unknown,
  value: unknown,
  ts: unknown,
  quality: unknown,
  opts: ReadSamplesOptions<V>,
  at: string,
): MessageSample<V> {
  // Single samples name the msg property (msg.ts); batch elements their place (payload[3].ts).
  const name = (f: string) => (at === '' ? f : `${at}.${f}`);
  let error: TaktError | undefined;
  let t: string;
  if (opts.topic === 'path') {
    try {
      t = toTopic(topic, opts.topicPrefix, name('topic'));
    } catch (err) {
      error = asTaktError(err, name('topic'));
      t = topic === undefined || topic === null ? '' : String(topic);
    }
  } else t = topic === undefined || topic === null ? '' : typeof topic === 'string' ? topic : String(topic);
  let v: V;
  try {
    v = opts.value ? opts.value(value, name(at === '' ? 'payload' : 'value')) : (value as V);
  } catch (err) {
    error ??= asTaktError(err, name('value'));
    v = value as V;
  }
  let ms: number;
  try {
    ms = readTimestamp(ts, opts.now, name('ts'));
  } catch (err) {
    error ??= asTaktError(err, name('ts'));
    ms = NaN;
  }
  let q: Quality;
  if (quality === undefined || quality === null || quality === 'good') q = 'good';
  else
    try {
      q = toQuality(quality, name('quality'));
    } catch (err) {
      error ??= asTaktError(err, name('quality'));
      q = 'bad';
    }
  const s: MessageSample<V> = { topic: t, value: v, ts: ms, quality: q };
  if (error) s.error = error;
  return s;
}

/** A feature row as read off a message: named features (a record) or values in feature order (an array). */
export interface MessageRow {
  /** Epoch ms of the row (a prep row's `ts`), or `now` when the row has none; NaN when marked bad. */
  ts: number;
  features: Readonly<Record<string, unknown>> | readonly unknown[];
  quality: Quality;
  error?: TaktError;
}

export interface ReadRowsOptions {
  now: number;
  onBad?: OnBad;
}

/**
 * The feature rows of a payload, and whether it was a batch: a prep row (`{ ts, features, quality,
 * names, vector }`), a record of named features, an array in feature order, or an array of any of these
 * (a batch, told by its first element being an object or array). Every row is checked; a row that is none
 * of these is `message.badRow`. A prep row's ts and quality are read by this module's rules; the msg's
 * own `ts`/`quality` apply to a single row that has none.
 */
export function readRows(msg: SampleMessage, opts: ReadRowsOptions): { rows: MessageRow[]; batch: boolean } {
  const p = msg.payload;
  const isPrep = (x: unknown): x is Record<string, unknown> =>
    isRecord(x) && isRecord(x.features) && ('vector' in x || 'ts' in x || 'quality' in x);
  const one = (x: unknown, field: string, ts: unknown, quality: unknown): MessageRow => {
    const prep = isPrep(x);
    const features = prep ? (x.features as Record<string, unknown>) : x;
    let error: TaktError | undefined;
    let ms = NaN;
    let q: Quality = 'bad';
    if (!Array.isArray(features) && !isRecord(features))
      error = new TaktError(
        'message.badRow',
        `${field}: expected a record of named features, an array in feature order, or a prep row`,
        field,
      );
    try {
      ms = readTimestamp(prep && x.ts !== undefined ? x.ts : ts, opts.now, prep ? `${field}.ts` : 'ts');
    } catch (err) {
      error ??= asTaktError(err, `${field}.ts`);
    }
    try {
      q = toQuality(
        prep && x.quality !== undefined ? x.quality : quality,
        prep ? `${field}.quality` : 'quality',
      );
    } catch (err) {
      error ??= asTaktError(err, `${field}.quality`);
    }
    const row: MessageRow = { ts: ms, features: (features ?? {}) as MessageRow['features'], quality: q };
    if (error) row.error = error;
    return row;
  };
  let rows: MessageRow[];
  let batch = false;
  const isBatchOfRows = Array.isArray(p) && p.length > 0 && typeof p[0] === 'object' && p[0] !== null;
  if (isBatchOfRows) {
    batch = true;
    rows = (p as unknown[]).map((r, i) => one(r, `payload[${i}]`, undefined, undefined));
  } else rows = [one(p, 'payload', msg.ts, msg.quality)];
  if (opts.onBad !== 'mark') {
    const bad = rows.find((r) => r.error);
    if (bad?.error) throw bad.error;
  }
  return { rows, batch };
}

/**
 * The quality of a whole feature row whose `quality` is a record per feature, as takt-align writes it
 * (`{ name: "good" | "uncertain" | "bad" | "missing" }`): "bad" when no feature is usable (every one bad
 * or missing: nothing left to judge), "uncertain" when some are not good, "good" when all are. A feature's
 * own bad or missing value is already null in the row, so the row is still usable while one feature is.
 * Undefined when an entry is not a quality (the row reader then names it).
 */
export function featureRowQuality(q: Readonly<Record<string, unknown>>): Quality | undefined {
  let usable = 0;
  let notGood = 0;
  let n = 0;
  for (const v of Object.values(q)) {
    n++;
    if (v === 'missing') {
      notGood++;
      continue;
    }
    let f: Quality;
    try {
      f = toQuality(v);
    } catch {
      return undefined;
    }
    if (f !== 'bad') usable++;
    if (f !== 'good') notGood++;
  }
  return n > 0 && usable === 0 ? 'bad' : notGood > 0 ? 'uncertain' : 'good';
}

/** A feature row read off a message, with the payload element it came from (`source`). */
export interface MessageFeatureRow extends MessageRow {
  source: unknown;
}

/**
 * `readRows` for the rows the prep nodes send: a prep row's quality may be a record per feature
 * (`featureRowQuality` gives the row's quality); everything else is read exactly as `readRows` reads it.
 * Each row keeps the payload element it came from as `source` (e.g. a full FeatureRow for takt-clean).
 */
export function readFeatureRows(
  msg: SampleMessage,
  opts: ReadRowsOptions,
): { rows: MessageFeatureRow[]; batch: boolean } {
  const p = msg.payload;
  const summarise = (x: unknown): unknown => {
    if (!isRecord(x) || !isRecord(x.features) || !isRecord(x.quality)) return x;
    const q = featureRowQuality(x.quality);
    return q === undefined ? x : { ...x, quality: q };
  };
  const many = Array.isArray(p) && p.length > 0 && typeof p[0] === 'object' && p[0] !== null;
  const read = readRows({ ...msg, payload: many ? (p as unknown[]).map(summarise) : summarise(p) }, opts);
  const rows = read.rows.map((r, i) => ({ ...r, source: many ? (p as unknown[])[i] : p }));
  return { rows, batch: read.batch };
}

/**
 * One row as numbers in `names` order: an array row must have exactly that many values
 * (`message.featureCount`), a record row every name as a finite number (`message.missingFeature`, naming
 * the first missing feature; the message lists all of them).
 */
export function rowVector(
  features: MessageRow['features'],
  names: readonly string[],
  field = 'payload',
): number[] {
  const d = names.length;
  if (Array.isArray(features)) {
    if (features.length !== d)
      throw new TaktError(
        'message.featureCount',
        `${field}: ${features.length} values, expected ${d} (${names.join(', ')})`,
        field,
      );
  }
  const out = new Array<number>(d);
  const missing: string[] = [];
  for (let j = 0; j < d; j++) {
    const v = Array.isArray(features) ? features[j] : (features as Record<string, unknown>)[names[j]];
    if (typeof v === 'number' && Number.isFinite(v)) out[j] = v;
    else missing.push(names[j]);
  }
  if (missing.length)
    throw new TaktError(
      'message.missingFeature',
      `${field}: missing or not a number: ${missing.join(', ')}`,
      missing[0],
    );
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Commands

/** How a node takes commands: its actions, and the old spellings it accepted before `msg.action`. */
export interface CommandSpec<A extends string> {
  /** The actions this node knows, spelled as `msg.action` carries them. */
  actions: readonly A[];
  /** Old spelling: `msg.<flag>` truthy meant this action (e.g. `{ reset: 'reset' }` for msg.reset). */
  flags?: Readonly<Record<string, A>>;
  /** Old spelling: the action in `msg.payload.action`. */
  payloadAction?: boolean;
  /** Code of the error for an unknown action, when a node keeps its own; default "message.badAction". */
  code?: string;
}

/** Reads the command of a message (undefined when it carries none); see `commandReader`. */
export type CommandReader<A extends string> = (msg: Readonly<Record<string, unknown>>) => A | undefined;

/**
 * A command reader for one node. `msg.action` wins; it must be one of `spec.actions`
 * (`message.badAction`, field "action"). Old spellings (`spec.flags`, `spec.payloadAction`) are still
 * read, and the first use of each calls `warn` once (per reader, i.e. per node) with a deprecation note.
 */
export function commandReader<A extends string>(
  spec: CommandSpec<A>,
  warn: (text: string) => void,
): CommandReader<A> {
  const warned = new Set<string>();
  const deprecated = (old: string) => {
    if (warned.has(old)) return;
    warned.add(old);
    warn(`${old} is deprecated: send msg.action instead (one of ${spec.actions.join(', ')})`);
  };
  const check = (a: unknown, field: string): A => {
    const found = spec.actions.find((x) => x === a);
    if (found === undefined)
      throw new TaktError(
        spec.code ?? 'message.badAction',
        `${field}: ${describe(a)} is not one of ${spec.actions.join(', ')}`,
        field,
      );
    return found;
  };
  const flags = Object.entries(spec.flags ?? {}) as [string, A][];
  return (msg) => {
    if (msg.action !== undefined && msg.action !== null) return check(msg.action, 'action');
    if (spec.payloadAction) {
      const p = msg.payload;
      if (isRecord(p) && p.action !== undefined && p.action !== null) {
        deprecated('msg.payload.action');
        return check(p.action, 'payload.action');
      }
    }
    for (const [flag, action] of flags)
      if (msg[flag]) {
        deprecated(`msg.${flag}`);
        return action;
      }
    return undefined;
  };
}
