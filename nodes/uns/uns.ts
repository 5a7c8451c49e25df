/**
 * The MQTT unified namespace writer's engine: a sample becomes a retained JSON message on its ISA-95
 * topic, and while the broker is away the last value of every topic is kept (a UNS holds last values,
 * so an older value of the same topic is superseded, not lost) and flushed in order on reconnection.
 */
import { TaktError } from '../core/errors';
import type { Quality } from '../core/sample';
import { toQuality, toTopic } from '../core/sample';
import { toEpochMs } from '../core/time';

export interface UnsMessage {
  topic: string;
  payload: string;
}

export interface UnsPayload {
  value: unknown;
  /** Source timestamp, epoch ms. */
  ts: number;
  quality: Quality;
  unit?: string;
}

/** The UNS message for one sample; throws TaktError naming a bad topic, timestamp or quality. */
export function toUnsMessage(
  s: { topic: unknown; value: unknown; ts?: unknown; quality?: unknown; unit?: unknown },
  opts: { prefix?: string; now: number },
): UnsMessage {
  const topic = toTopic(s.topic, opts.prefix ?? '');
  if (s.value === undefined) throw new TaktError('uns.noValue', `${topic}: a sample needs a value`, 'value');
  const payload: UnsPayload = {
    value: s.value,
    ts: s.ts === undefined || s.ts === null ? opts.now : toEpochMs(s.ts),
    quality: toQuality(s.quality),
    ...(typeof s.unit === 'string' && s.unit !== '' ? { unit: s.unit } : {}),
  };
  return { topic, payload: JSON.stringify(payload) };
}

/** Last value per topic while offline, in first-seen order, bounded by the number of topics. */
export class LastValueBuffer {
  private readonly max: number;
  private readonly items = new Map<string, string>();
  /** Values replaced by a newer one of the same topic while offline. */
  superseded = 0;
  /** Topics refused because the buffer was full. */
  dropped = 0;

  constructor(maxTopics = 100000) {
    this.max = maxTopics;
  }

  get size(): number {
    return this.items.size;
  }

  put(m: UnsMessage): void {
    if (this.items.has(m.topic)) {
      this.superseded++;
      this.items.set(m.topic, m.payload);
    } else if (this.items.size < this.max) this.items.set(m.topic, m.payload);
    else this.dropped++;
  }

  /** Removes and returns everything held, oldest topic first. */
  drain(): UnsMessage[] {
    const out = [...this.items].map(([topic, payload]) => ({ topic, payload }));
    this.items.clear();
    return out;
  }
}
