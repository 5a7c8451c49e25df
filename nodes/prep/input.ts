/**
 * Reading samples off messages for the prep nodes, fast enough for 10,000 samples/s: a single sample
 * (msg.topic, msg.payload, msg.ts, msg.quality) or a batch (msg.payload = [{ topic, value, ts, quality }]).
 * Nothing here throws on a bad sample: unreadable timestamps become NaN and unreadable qualities 'bad',
 * so the engines count them. Also parsers for the editor's text fields. No Node-RED import.
 */
import { TaktError } from '../core/errors';
import { type Quality, toQuality } from '../core/sample';
import { toEpochMs } from '../core/time';
import { AGGREGATIONS, type Aggregation, type AlignSample, type FeatureSpec } from './aligner';

export function readTs(ts: unknown, now: number): number {
  if (ts === undefined || ts === null) return now;
  if (typeof ts === 'number')
    return ts >= 1e11 ? Math.round(ts) : Number.isFinite(ts) && ts >= 0 ? Math.round(ts * 1000) : NaN;
  try {
    return toEpochMs(ts);
  } catch {
    return NaN;
  }
}

export function readQuality(q: unknown): Quality {
  if (q === undefined || q === null || q === 'good') return 'good';
  if (q === 'bad' || q === 'uncertain') return q;
  try {
    return toQuality(q);
  } catch {
    return 'bad';
  }
}

interface SampleMsg {
  topic?: unknown;
  payload?: unknown;
  ts?: unknown;
  quality?: unknown;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** True for a batch of samples: an array whose first element is an object with a value. */
export function looksLikeBatch(p: unknown): p is unknown[] {
  return Array.isArray(p) && p.length > 0 && isRecord(p[0]) && 'value' in p[0];
}

/** Calls `each` for every sample on the message (batch or single). */
export function forEachSample(msg: SampleMsg, now: number, each: (s: AlignSample) => void): number {
  const p = msg.payload;
  if (looksLikeBatch(p)) {
    const dflt = msg.topic === undefined || msg.topic === null ? '' : String(msg.topic);
    for (const item of p) {
      if (!isRecord(item)) {
        each({ topic: dflt, value: item, ts: NaN, quality: 'good' });
        continue;
      }
      const t = item.topic;
      each({
        topic: typeof t === 'string' ? t : t === undefined || t === null ? dflt : String(t),
        value: item.value,
        ts: readTs(item.ts, now),
        quality: readQuality(item.quality),
      });
    }
    return p.length;
  }
  each({
    topic: typeof msg.topic === 'string' ? msg.topic : String(msg.topic ?? ''),
    value: p,
    ts: readTs(msg.ts, now),
    quality: readQuality(msg.quality),
  });
  return 1;
}

/** A number from a config field; '' or undefined gives `dflt`. */
export function configNumber(v: unknown, field: string, dflt: number | undefined): number | undefined {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new TaktError('prep.badConfig', `${field}: "${String(v)}" is not a number`, field);
  return n;
}

/**
 * The align node's feature list: one feature per line, `topic[, name[, aggregation[, maxAgeMs]]]`;
 * blank lines and lines starting with # are skipped.
 */
export function parseFeatureLines(text: string | undefined): FeatureSpec[] {
  const out: FeatureSpec[] = [];
  (text ?? '').split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const [topic, name, agg, age] = l.split(',').map((x) => x.trim());
    const spec: FeatureSpec = { topic };
    if (name) spec.name = name;
    if (agg) {
      const a = AGGREGATIONS.find((x) => x === agg);
      if (!a)
        throw new TaktError(
          'prep.badConfig',
          `features line ${i + 1}: "${agg}" is not an aggregation`,
          'features',
        );
      spec.agg = a as Aggregation;
    }
    if (age) spec.maxAgeMs = configNumber(age, `features line ${i + 1}`, undefined);
    out.push(spec);
  });
  return out;
}

/** A JSON array from a config text field ('' gives []). */
export function parseJsonList<T>(text: string | undefined, field: string): T[] {
  if (!text || text.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new TaktError('prep.badConfig', `${field}: not valid JSON`, field);
  }
  if (!Array.isArray(v)) throw new TaktError('prep.badConfig', `${field}: must be a JSON array`, field);
  return v as T[];
}
