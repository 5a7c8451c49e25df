/**
 * Windower: sliding and tumbling windows by count or by time, over numbers (sample values, waveform
 * chunks are taken element by element) or over items such as feature rows. One window state per key
 * (e.g. per topic), each in a fixed-capacity ring buffer: memory is bounded by `maxItems` per key and
 * `maxKeys` keys.
 *
 * - count: a window holds the last `size` items and is emitted every `hop` items once full
 *   (hop = size: tumbling; hop < size: sliding; hop > size: sampled).
 * - time: windows [t, t + size) with t a multiple of `hop` (epoch-aligned); a window is emitted when an
 *   item at or after its end arrives (or on `flush`). Items in a window beyond `maxItems` drop the
 *   oldest ones, counted as `overflow`. Out-of-order items older than the open window are counted `late`.
 */
import { TaktError } from '../core/errors';

export type WindowBy = 'count' | 'time';

export interface WindowConfig {
  by?: WindowBy;
  /** Items (count) or milliseconds (time). */
  size: number;
  /** Items or milliseconds between window starts; default `size` (tumbling). */
  hop?: number;
  /** Capacity of one window in items (time windows); default 100000 (count windows: size). */
  maxItems?: number;
  /** Distinct keys kept; the least recently used is dropped beyond this. Default 1000. */
  maxKeys?: number;
}

export interface Window<T> {
  key: string;
  /** Oldest and newest item timestamps (count) or the window bounds [start, end) (time). */
  start: number;
  end: number;
  items: T[];
  ts: number[];
}

export interface WindowSnapshot<T> {
  version: 1;
  by: WindowBy;
  size: number;
  hop: number;
  keys: { key: string; items: T[]; ts: number[]; sinceEmit: number; nextStart: number | null }[];
}

export interface WindowCounts {
  items: number;
  windows: number;
  late: number;
  overflow: number;
  droppedKeys: number;
}

class Ring<T> {
  private readonly buf: (T | undefined)[];
  private readonly tsBuf: Float64Array;
  private head = 0;
  length = 0;
  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
    this.tsBuf = new Float64Array(capacity);
  }
  /** Appends; returns true when the oldest item was overwritten. */
  push(item: T, ts: number): boolean {
    const i = (this.head + this.length) % this.capacity;
    this.buf[i] = item;
    this.tsBuf[i] = ts;
    if (this.length < this.capacity) {
      this.length++;
      return false;
    }
    this.head = (this.head + 1) % this.capacity;
    return true;
  }
  tsAt(k: number): number {
    return this.tsBuf[(this.head + k) % this.capacity];
  }
  dropFirst(n: number): void {
    for (let k = 0; k < n && this.length > 0; k++) {
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.length--;
    }
  }
  /** Copies items [from, to) in order. */
  slice(from = 0, to = this.length): { items: T[]; ts: number[] } {
    const items = new Array<T>(Math.max(0, to - from));
    const ts = new Array<number>(items.length);
    for (let k = from; k < to; k++) {
      const i = (this.head + k) % this.capacity;
      items[k - from] = this.buf[i] as T;
      ts[k - from] = this.tsBuf[i];
    }
    return { items, ts };
  }
}

interface KeyState<T> {
  ring: Ring<T>;
  sinceEmit: number;
  /** Time windows: start of the oldest window not yet emitted. */
  nextStart: number;
}

export class Windower<T> {
  readonly by: WindowBy;
  readonly size: number;
  readonly hop: number;
  readonly counts: WindowCounts = { items: 0, windows: 0, late: 0, overflow: 0, droppedKeys: 0 };
  private readonly capacity: number;
  private readonly maxKeys: number;
  private readonly keys = new Map<string, KeyState<T>>();

  constructor(cfg: WindowConfig) {
    this.by = cfg.by ?? 'count';
    if (this.by !== 'count' && this.by !== 'time')
      throw new TaktError('prep.badConfig', `by: "${String(cfg.by)}" must be count or time`, 'by');
    const check = (v: number, field: string) => {
      if (!Number.isFinite(v) || v <= 0 || (this.by === 'count' && !Number.isInteger(v)))
        throw new TaktError(
          'prep.badConfig',
          `${field}: ${v} must be a positive ${this.by === 'count' ? 'integer' : 'number'}`,
          field,
        );
      return v;
    };
    this.size = check(cfg.size, 'size');
    this.hop = check(cfg.hop ?? cfg.size, 'hop');
    this.capacity = this.by === 'count' ? this.size : Math.floor(check(cfg.maxItems ?? 100000, 'maxItems'));
    this.maxKeys = check(cfg.maxKeys ?? 1000, 'maxKeys');
  }

  private state(key: string): KeyState<T> {
    let st = this.keys.get(key);
    if (st) {
      // least-recently-used order: move to the end
      this.keys.delete(key);
      this.keys.set(key, st);
      return st;
    }
    if (this.keys.size >= this.maxKeys) {
      const oldest = this.keys.keys().next().value as string;
      this.keys.delete(oldest);
      this.counts.droppedKeys++;
    }
    st = { ring: new Ring<T>(this.capacity), sinceEmit: 0, nextStart: NaN };
    this.keys.set(key, st);
    return st;
  }

  /** Adds one item; returns the windows it completes (usually none or one). */
  push(key: string, item: T, ts: number): Window<T>[] {
    const st = this.state(key);
    this.counts.items++;
    return this.by === 'count' ? this.pushCount(key, st, item, ts) : this.pushTime(key, st, item, ts);
  }

  /** Adds several items of one key (e.g. a waveform chunk) with the same timestamp. */
  pushAll(key: string, items: readonly T[], ts: number): Window<T>[] {
    const out: Window<T>[] = [];
    for (const it of items) for (const w of this.push(key, it, ts)) out.push(w);
    return out;
  }

  private pushCount(key: string, st: KeyState<T>, item: T, ts: number): Window<T>[] {
    st.ring.push(item, ts);
    st.sinceEmit++;
    if (st.ring.length < this.size || st.sinceEmit < this.hop) return [];
    // The first window comes when the ring is full; later ones every `hop` items.
    st.sinceEmit = 0;
    const { items, ts: t } = st.ring.slice();
    this.counts.windows++;
    return [{ key, start: t[0], end: t[t.length - 1], items, ts: t }];
  }

  private pushTime(key: string, st: KeyState<T>, item: T, ts: number): Window<T>[] {
    const out: Window<T>[] = [];
    if (Number.isNaN(st.nextStart)) st.nextStart = this.firstStart(ts);
    if (ts < st.nextStart) {
      this.counts.late++;
      return out;
    }
    // Emit every window that ends at or before this item.
    while (st.nextStart + this.size <= ts) {
      if (st.ring.length === 0) {
        st.nextStart = Math.max(st.nextStart, this.firstStart(ts)); // skip empty windows across a gap
        break;
      }
      const w = this.emitTime(key, st);
      if (w.items.length > 0) out.push(w);
    }
    // Out-of-order items inside the open windows are kept (the window picks by timestamp).
    if (st.ring.push(item, ts)) this.counts.overflow++;
    return out;
  }

  /** The start of the first window that contains ts: windows start at multiples of hop. */
  private firstStart(ts: number): number {
    return (Math.floor((ts - this.size) / this.hop) + 1) * this.hop;
  }

  private emitTime(key: string, st: KeyState<T>): Window<T> {
    const start = st.nextStart;
    const end = start + this.size;
    const r = st.ring;
    const picked: T[] = [];
    const ts: number[] = [];
    const all = r.slice();
    for (let k = 0; k < all.ts.length; k++) {
      if (all.ts[k] >= start && all.ts[k] < end) {
        picked.push(all.items[k]);
        ts.push(all.ts[k]);
      }
    }
    st.nextStart = start + this.hop;
    // drop items that no later window needs
    let drop = 0;
    while (drop < r.length && r.tsAt(drop) < st.nextStart) drop++;
    r.dropFirst(drop);
    if (picked.length > 0) this.counts.windows++;
    return { key, start, end, items: picked, ts };
  }

  /** Emits the open time windows that hold items (end of stream); count windows are not padded. */
  flush(): Window<T>[] {
    const out: Window<T>[] = [];
    if (this.by !== 'time') return out;
    for (const [key, st] of this.keys) {
      while (st.ring.length > 0 && !Number.isNaN(st.nextStart)) {
        const w = this.emitTime(key, st);
        if (w.items.length > 0) out.push(w);
      }
    }
    return out;
  }

  reset(): void {
    this.keys.clear();
  }

  /** The open windows' contents (JSON when the items are), to keep across a redeploy. */
  snapshot(): WindowSnapshot<T> {
    return {
      version: 1,
      by: this.by,
      size: this.size,
      hop: this.hop,
      keys: [...this.keys].map(([key, st]) => ({
        key,
        ...st.ring.slice(),
        sinceEmit: st.sinceEmit,
        nextStart: Number.isNaN(st.nextStart) ? null : st.nextStart,
      })),
    };
  }

  /** Restores a snapshot taken with the same settings; returns false (and changes nothing) otherwise. */
  restore(snap: unknown): boolean {
    const s = snap as WindowSnapshot<T>;
    if (!s || s.version !== 1 || s.by !== this.by || s.size !== this.size || s.hop !== this.hop) return false;
    if (!Array.isArray(s.keys)) return false;
    for (const k of s.keys) {
      if (!Array.isArray(k.items) || !Array.isArray(k.ts) || k.items.length !== k.ts.length) return false;
    }
    this.keys.clear();
    for (const k of s.keys.slice(-this.maxKeys)) {
      const st = this.state(k.key);
      k.items.forEach((item, i) => st.ring.push(item, k.ts[i]));
      st.sinceEmit = k.sinceEmit;
      st.nextStart = k.nextStart ?? NaN;
    }
    return true;
  }

  get keyCount(): number {
    return this.keys.size;
  }
}
