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

export interface PayloadShape {
  kind: PayloadKind;
  /** Numeric fields: '' for a bare number, the key (or key.sub) in JSON, the metric name or alias in Sparkplug. */
  numbers: [string, number][];
  /** Sparkplug: the sequence number, and bdSeq when the payload carries it. */
  seq?: number;
  bdSeq?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const MAX_FIELDS = 64;

function flatten(v: unknown, prefix: string, out: [string, number][], depth: number): void {
  if (out.length >= MAX_FIELDS) return;
  if (typeof v === 'number') out.push([prefix, v]);
  else if (typeof v === 'boolean') out.push([prefix, v ? 1 : 0]);
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

/** The kind and numbers of a payload; `isSparkplug` for topics in the spBv1.0 namespace. */
export function inspectPayload(payload: Uint8Array, isSparkplug: boolean): PayloadShape {
  const numbers: [string, number][] = [];
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
      else if (name !== undefined && v !== undefined && numbers.length < MAX_FIELDS) numbers.push([name, v]);
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
  if (t === 'true' || t === 'false') return { kind: 'bool', numbers: [['', t === 'true' ? 1 : 0]] };
  if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t))
    return { kind: 'number', numbers: [['', Number(t)]] };
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

/** What training learned about one topic's payloads. */
export class TopicProfile {
  readonly kinds = new Set<PayloadKind>();
  /** Per numeric field: [min, max, last value, 1 while it never went down (a counter), rises]. */
  readonly ranges = new Map<string, [number, number, number, number, number]>();
  messages = 0;

  learn(shape: PayloadShape): void {
    this.messages++;
    this.kinds.add(shape.kind);
    for (const [k, v] of shape.numbers) {
      if (!Number.isFinite(v)) continue;
      const r = this.ranges.get(k);
      if (r) {
        if (v < r[0]) r[0] = v;
        if (v > r[1]) r[1] = v;
        if (v < r[2]) r[3] = 0;
        else if (v > r[2]) r[4]++;
        r[2] = v;
      } else if (this.ranges.size < MAX_FIELDS) this.ranges.set(k, [v, v, v, 1, 0]);
    }
  }

  /** Whether the payload's kind is one this topic never carried. */
  malformed(shape: PayloadShape): boolean {
    if (!this.kinds.has(shape.kind)) return true;
    // A JSON object that carries none of the learned numeric fields is not the topic's schema.
    if (shape.kind === 'json' && this.ranges.size > 0)
      return !shape.numbers.some(([k]) => this.ranges.has(k));
    return false;
  }

  /**
   * How many numeric fields fall outside their learned range widened by twice the range on each side
   * and by half the magnitude (plant values drift), or are not finite. A counter (never went down in
   * training, rose at least twice) has no upper bound.
   */
  outOfRange(shape: PayloadShape): number {
    let n = 0;
    for (const [k, v] of shape.numbers) {
      const r = this.ranges.get(k);
      if (!r) continue;
      if (!Number.isFinite(v)) {
        n++;
        continue;
      }
      const span = r[1] - r[0];
      const tol = Math.max(2 * span, 0.5 * Math.max(Math.abs(r[0]), Math.abs(r[1])), 1e-9);
      const counter = r[3] === 1 && r[4] >= 2;
      if (v < r[0] - tol || (!counter && v > r[1] + tol)) n++;
    }
    return n;
  }
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
}

/**
 * `unit`: the size of one counted item when the feature sums sizes (bytes: the mean message size), so
 * the Poisson floor is that of the item count: sqrt(median * unit).
 */
export function robustStat(values: ArrayLike<number>, unit = 1): RobustStat {
  const v = Array.from(values).sort((a, b) => a - b);
  if (v.length === 0) return { median: 0, scale: Math.max(1, unit) };
  const med = quantileSorted(v, 0.5);
  const dev = v.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  const mad = 1.4826 * quantileSorted(dev, 0.5);
  return { median: med, scale: Math.max(mad, Math.sqrt(Math.max(med, 0) * unit), unit, 1) };
}

export function quantileSorted(v: readonly number[], q: number): number {
  if (v.length === 0) return 0;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}
