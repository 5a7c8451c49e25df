/**
 * MessageEncoder: message -> line-protocol lines, as takt-influx-out does per message. Plain samples (one
 * value on a topic) take a fast path: the escaped series key (measurement and tags) is kept per topic, so a
 * sample costs a value check, a timestamp check and one string join. Everything else (batches, explicit
 * points, analytics results) goes through `messageToPoints` and `encodePoint`. Both give the same lines.
 */
import { toQuality, toValue } from '../core/sample';
import { toEpochMs } from '../core/time';
import {
  type BackslashMode,
  checkTs,
  encodePoint,
  escapeKey,
  escapeMeasurement,
  formatField,
} from './line-protocol';
import { type MessageIn, messageToPoints, type TopicMapping, topicToSeries, type WriteWhat } from './mapping';
import { toTopic } from '../core/sample';

const MAX_CACHED = 10000;

export class MessageEncoder {
  private cache = new Map<string, string>();
  private readonly fieldKey: string;

  constructor(
    readonly mapping: TopicMapping,
    readonly backslashes: BackslashMode,
    readonly what: WriteWhat = 'both',
    readonly prefix = '',
  ) {
    this.fieldKey = escapeKey(mapping.field, backslashes, 'field');
  }

  private seriesKey(topic: string, measurement: string | undefined, quality: string): string {
    // The topic alone is the key in the common case (no override, quality not a tag).
    const key =
      measurement === undefined && this.mapping.qualityAs !== 'tag'
        ? topic
        : `${topic}\u0000${measurement ?? ''}\u0000${quality}`;
    let k = this.cache.get(key);
    if (k !== undefined) return k;
    const m = measurement !== undefined ? { ...this.mapping, measurement } : this.mapping;
    const s = topicToSeries(toTopic(topic), m);
    const tags: Record<string, string> = s.tags;
    if (this.mapping.qualityAs === 'tag') tags.quality = quality;
    k = escapeMeasurement(s.measurement, this.backslashes);
    for (const t of Object.keys(tags).sort()) {
      const v = tags[t];
      if (v === '') continue;
      k += `,${escapeKey(t, this.backslashes, `tags.${t}`)}=${escapeKey(v, this.backslashes, `tags.${t}`)}`;
    }
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, k);
    return k;
  }

  /** The lines for one message; throws `TaktError` naming the field at fault (then nothing is returned). */
  encode(msg: MessageIn, now: number): string[] {
    const out: string[] = [];
    this.encodeTo(msg, now, (l) => out.push(l));
    return out;
  }

  /**
   * Hands each line of one message to `add`, all or none: a bad message throws before the first line.
   * `results` (analytics results by key) overrides `msg.results`.
   */
  encodeTo(msg: MessageIn, now: number, add: (line: string) => void, results = msg.results): void {
    const v = msg.payload;
    const simple =
      this.what !== 'analytics' &&
      typeof msg.topic === 'string' &&
      (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') &&
      (!results || Object.values(results).every((r) => r === undefined || r === null));
    if (!simple) {
      const points = messageToPoints(
        { ...msg, ...(results ? { results } : {}) },
        this.mapping,
        now,
        this.what,
        this.prefix,
      );
      const lines = points.map((p) => encodePoint(p, this.backslashes));
      for (const l of lines) add(l);
      return;
    }
    const quality = toQuality(msg.quality);
    const fixed =
      msg.measurement === undefined || msg.measurement === null ? undefined : String(msg.measurement);
    const series = this.seriesKey(msg.topic as string, fixed, quality);
    const value = formatField(
      toValue(v, this.mapping.valueType, 'payload') as number | boolean | string,
      'payload',
    );
    const ts = checkTs(msg.ts === undefined || msg.ts === null ? now : toEpochMs(msg.ts), 'ts');
    const q = this.mapping.qualityAs === 'field' ? `,quality="${quality}"` : '';
    add(`${series} ${this.fieldKey}=${value}${q} ${ts}`);
  }
}
