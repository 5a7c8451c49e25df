/**
 * The features takt-guard counts per subject and window, and what it learns about payloads: the kind of
 * each topic's payload (number, JSON, text, binary, Sparkplug B) and the range of each numeric field.
 * No Node-RED import; nothing of a payload is kept but its kind, keys and numbers' ranges.
 */
import { codec, NAMESPACE } from '../mqtt/codec';
import type { AlertType } from './types';

/**
 * Rate features are counts per window compared with the subject's learned median (robust z); novelty
 * features count things never seen in training (new topics, new writers, malformed payloads, ...).
 */
export const FEATURES = [
  // rates
  ['pub', 'rate', 'flood'],
  ['bytes', 'rate', 'flood'],
  ['topics', 'rate', 'scan'],
  ['subs', 'rate', 'scan'],
  ['conn', 'rate', 'connection-hoarding'],
  ['open', 'rate', 'connection-hoarding'],
  ['disc', 'rate', 'connection-hoarding'],
  ['authFail', 'rate', 'brute-force'],
  ['read', 'rate', 'scan'],
  ['browse', 'rate', 'scan'],
  ['write', 'rate', 'unauthorised-write'],
  ['call', 'rate', 'unauthorised-write'],
  // novelty
  ['newTopic', 'novel', 'scan'],
  ['foreignTopic', 'novel', 'unauthorised-write'],
  ['newSub', 'novel', 'scan'],
  ['wildSub', 'novel', 'scan'],
  ['sysSub', 'novel', 'scan'],
  ['newWrite', 'novel', 'unauthorised-write'],
  ['newCall', 'novel', 'unauthorised-write'],
  ['malformed', 'novel', 'malformed'],
  ['outOfRange', 'novel', 'malformed'],
  ['spForeign', 'novel', 'replay'],
  ['spReplay', 'novel', 'replay'],
  ['spSeq', 'novel', 'replay'],
  ['longKeepalive', 'novel', 'connection-hoarding'],
  ['newClient', 'novel', 'new-client'],
] as const satisfies readonly (readonly [string, 'rate' | 'novel', AlertType])[];

export type FeatureName = (typeof FEATURES)[number][0];
export const NF = FEATURES.length;
export const FEATURE_NAMES: readonly FeatureName[] = FEATURES.map((f) => f[0]);
export const IS_RATE: readonly boolean[] = FEATURES.map((f) => f[1] === 'rate');
export const FEATURE_TYPE: readonly AlertType[] = FEATURES.map((f) => f[2]);
if (IS_RATE.some((r, i) => r && i > 0 && !IS_RATE[i - 1]))
  throw new Error('guard: rate features must come first');
export const F = Object.fromEntries(FEATURES.map((f, i) => [f[0], i])) as Record<FeatureName, number>;

/**
 * When two features are equally far over their thresholds, the more specific type wins (a malformed
 * payload from an unknown client is "malformed" before "new client").
 */
export const TYPE_PRECEDENCE: readonly AlertType[] = [
  'replay',
  'malformed',
  'brute-force',
  'unauthorised-write',
  'connection-hoarding',
  'flood',
  'scan',
  'new-client',
];

// ---------------------------------------------------------------------------------------------------
// Payloads

export type PayloadKind = 'empty' | 'number' | 'bool' | 'json' | 'text' | 'binary' | 'sparkplug';

/**
 * What a numeric field is: a measurement (`num`: floats, and every JSON or plain-text number), a whole
 * number the sender declared (`int`: Sparkplug integer datatypes, e.g. state codes and counters) or a flag
 * (`bool`).
 */
export type FieldType = 'num' | 'int' | 'bool';

/** One numeric field of a payload: its key, value and type (undefined when the payload does not say). */
export type PayloadField = [key: string, value: number, type: FieldType | undefined];

export interface PayloadShape {
  kind: PayloadKind;
  /** Numeric fields: '' for a bare number, the key (or key.sub) in JSON, the metric name or alias in Sparkplug. */
  numbers: PayloadField[];
  /** Sparkplug: the sequence number, and bdSeq when the payload carries it. */
  seq?: number;
  bdSeq?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const MAX_FIELDS = 64;

function flatten(v: unknown, prefix: string, out: PayloadField[], depth: number): void {
  if (out.length >= MAX_FIELDS) return;
  if (typeof v === 'number') out.push([prefix, v, 'num']);
  else if (typeof v === 'boolean') out.push([prefix, v ? 1 : 0, 'bool']);
  else if (v !== null && typeof v === 'object' && depth < 2 && !Array.isArray(v))
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      flatten(x, prefix ? `${prefix}.${k}` : k, out, depth + 1);
}

function toNum(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v !== null && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return undefined;
}

/** A Sparkplug datatype as a field type; undefined for a metric that does not name its datatype. */
function sparkplugType(t: unknown): FieldType | undefined {
  if (typeof t !== 'string') return undefined;
  if (t === 'Float' || t === 'Double') return 'num';
  if (t === 'Boolean') return 'bool';
  if (/^U?Int(8|16|32|64)$/.test(t) || t === 'DateTime') return 'int';
  return undefined;
}

/** The kind and numbers of a payload; `isSparkplug` for topics in the spBv1.0 namespace. */
export function inspectPayload(payload: Uint8Array, isSparkplug: boolean): PayloadShape {
  const numbers: PayloadField[] = [];
  if (payload.length === 0) return { kind: 'empty', numbers };
  if (isSparkplug) {
    let p: ReturnType<typeof codec.decodePayload>;
    try {
      p = codec.decodePayload(payload);
    } catch {
      return { kind: 'binary', numbers };
    }
    const shape: PayloadShape = { kind: 'sparkplug', numbers };
    const seq = toNum(p.seq);
    if (seq !== undefined) shape.seq = seq;
    for (const m of p.metrics ?? []) {
      const v = toNum(m.value);
      const name = m.name ?? (m.alias !== undefined ? `#${String(toNum(m.alias))}` : undefined);
      if (name === 'bdSeq' && v !== undefined) shape.bdSeq = v;
      else if (name !== undefined && v !== undefined && numbers.length < MAX_FIELDS)
        numbers.push([name, v, sparkplugType(m.type)]);
    }
    return shape;
  }
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return { kind: 'binary', numbers };
  }
  const t = text.trim();
  if (t === 'true' || t === 'false') return { kind: 'bool', numbers: [['', t === 'true' ? 1 : 0, 'bool']] };
  if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t))
    return { kind: 'number', numbers: [['', Number(t), 'num']] };
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      flatten(JSON.parse(t), '', numbers, 0);
      return { kind: 'json', numbers };
    } catch {
      return { kind: 'text', numbers };
    }
  }
  return { kind: 'text', numbers };
}

export function isSparkplugTopic(topic: string): boolean {
  return topic.startsWith(`${NAMESPACE}/`);
}

/**
 * How far outside its learned range a measurement must lie to be one its sensor cannot produce: this
 * many times the larger of the learned span and the learned magnitude, beyond either end. A process
 * excursion (a machine stopping, overheating or a bearing wearing) stays within a few times the values a
 * field had; a value an order of magnitude away is not a measurement (README "Threat detection").
 */
export const RANGE_MARGIN = 4;
/** A field's range is checked once training saw at least this many distinct values (a span to scale by). */
const MIN_DISTINCT = 3;

/** What training learned about one numeric field. */
interface FieldProfile {
  lo: number;
  hi: number;
  last: number;
  /** Still true while the value never went down (with `rises`: a counter, no upper bound). */
  monotone: boolean;
  rises: number;
  /** Up to MIN_DISTINCT distinct values seen. */
  distinct: number[];
  /** The type the field had; `mixed` once it had two (then it is not checked). */
  type: FieldType | 'mixed' | undefined;
}

/** Why a payload was judged: the field and what was learned of it (for the alert's evidence). */
export interface FieldVerdict {
  field: string;
  value: number;
  why: 'non-finite' | 'out of range' | 'type changed';
  learned: string;
}

/** What training learned about one topic's payloads. */
export class TopicProfile {
  readonly kinds = new Set<PayloadKind>();
  readonly fields = new Map<string, FieldProfile>();
  messages = 0;

  learn(shape: PayloadShape): void {
    this.messages++;
    this.kinds.add(shape.kind);
    for (const [k, v, type] of shape.numbers) {
      if (!Number.isFinite(v)) continue;
      const r = this.fields.get(k);
      if (r) {
        if (v < r.lo) r.lo = v;
        if (v > r.hi) r.hi = v;
        if (v < r.last) r.monotone = false;
        else if (v > r.last) r.rises++;
        r.last = v;
        if (r.distinct.length < MIN_DISTINCT && !r.distinct.includes(v)) r.distinct.push(v);
        if (type !== r.type) r.type = 'mixed';
      } else if (this.fields.size < MAX_FIELDS)
        this.fields.set(k, { lo: v, hi: v, last: v, monotone: true, rises: 0, distinct: [v], type });
    }
  }

  /**
   * Whether the payload is not this topic's schema: a kind the topic never carried, a JSON object with
   * none of the learned numeric fields, or a field whose declared type changed (a Sparkplug Int32 sent as
   * a Double, a flag sent as a number).
   */
  malformed(shape: PayloadShape): FieldVerdict | undefined {
    const learned = [...this.kinds].join(', ');
    if (!this.kinds.has(shape.kind)) return { field: '', value: 0, why: 'type changed', learned };
    if (shape.kind === 'json' && this.fields.size > 0 && !shape.numbers.some(([k]) => this.fields.has(k)))
      return {
        field: '',
        value: 0,
        why: 'type changed',
        learned: `fields ${[...this.fields.keys()].join(', ')}`,
      };
    for (const [k, v, type] of shape.numbers) {
      const r = this.fields.get(k);
      if (r && r.type !== 'mixed' && r.type !== undefined && type !== undefined && type !== r.type)
        return { field: k, value: v, why: 'type changed', learned: r.type };
    }
    return undefined;
  }

  /**
   * The fields that are not finite, or are measurements (`num`) that varied in training and now lie
   * beyond RANGE_MARGIN times the larger of their learned span and magnitude outside their learned range.
   * Whole numbers and flags (state codes, counters) are checked for type only; a counter (never went down
   * in training, rose at least twice) has no upper bound.
   */
  outOfRange(shape: PayloadShape): FieldVerdict[] {
    const out: FieldVerdict[] = [];
    for (const [k, v] of shape.numbers) {
      const r = this.fields.get(k);
      if (!r) continue;
      const learned = `${r.lo} to ${r.hi}`;
      if (!Number.isFinite(v)) out.push({ field: k, value: v, why: 'non-finite', learned });
      else if (r.type === 'num' && r.distinct.length >= MIN_DISTINCT) {
        const m = RANGE_MARGIN * Math.max(r.hi - r.lo, Math.abs(r.lo), Math.abs(r.hi));
        const counter = r.monotone && r.rises >= 2;
        if (v < r.lo - m || (!counter && v > r.hi + m))
          out.push({ field: k, value: v, why: 'out of range', learned });
      }
    }
    return out;
  }
}

/**
 * A client id's family: the id with its variable parts masked (runs of 8 or more hex digits with a digit
 * among them, such as random ids, then every run of digits), so a program that puts its pid or a random
 * suffix in its id (`takt-sim-Plant1-Edge1-10997`) is the same family after a restart
 * (`takt-sim-Plant#-Edge#-#`).
 */
export function clientFamily(id: string): string {
  return id.replace(/[0-9a-f]{8,}/gi, (run) => (/\d/.test(run) ? '#' : run)).replace(/\d+/g, '#');
}

/** FNV-1a over the bytes: identifies a replayed payload without keeping it. */
export function payloadHash(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) + b.length * 2 ** 32;
}

/** Robust location and scale of a rate feature's values per window. */
export interface RobustStat {
  median: number;
  /** 1.4826 MAD, at least sqrt(median) (a Poisson count's spread) and at least 1 item. */
  scale: number;
  /** The largest value (the subject's busiest training window). */
  peak: number;
}

/**
 * `unit`: the size of one counted item when the feature sums sizes (bytes: the mean message size), so
 * the Poisson floor is that of the item count: sqrt(median * unit).
 */
export function robustStat(values: ArrayLike<number>, unit = 1): RobustStat {
  const v = Array.from(values).sort((a, b) => a - b);
  if (v.length === 0) return { median: 0, scale: Math.max(1, unit), peak: 0 };
  const med = quantileSorted(v, 0.5);
  const dev = v.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  const mad = 1.4826 * quantileSorted(dev, 0.5);
  return {
    median: med,
    scale: Math.max(mad, Math.sqrt(Math.max(med, 0) * unit), unit, 1),
    peak: v[v.length - 1],
  };
}

export function quantileSorted(v: readonly number[], q: number): number {
  if (v.length === 0) return 0;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}
