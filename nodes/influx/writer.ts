/**
 * InfluxWriter: logs every line-protocol line in a `WriteAheadLog` (on disk under the userDir; a message
 * is done only once its points are there), batches the lines by count and time, and sends the batches
 * through a `WriteTarget` with a few requests in flight. A batch leaves the log only when the server
 * confirmed it, so a crash at any moment loses nothing that was accepted; on the next start the points
 * the server had not confirmed are sent again (some may then be written twice, which InfluxDB stores as
 * one point per series and time; the count is in `replayed`).
 *
 * While the server is away, failed batches are retried with exponential back-off and jitter, oldest first,
 * one request at a time until it answers again. Batches are ranges of the log and keep no text of their
 * own: the body is a slice of the log record's bytes (in memory, or read back from disk once the log
 * dropped it from memory); the first `maxPending` waiting batches keep their body once read. The
 * log is bounded by bytes (drop policy) and age, and every point given up is counted. A body the server
 * refuses as malformed (400) is counted as rejected, never retried forever; 401/403 keep the data and
 * retry, since a fixed token must not lose what came in meanwhile.
 */
import { TaktError } from '../core/errors';
import { classify, type WriteError, type WriteTarget } from './transport';
import { type DropPolicy, type DropReason, WriteAheadLog } from './wal';

export interface RetryOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: the share of each delay that is random (0 none, 1 "full jitter"). */
  jitter: number;
}

export const DEFAULT_RETRY: RetryOptions = { initialMs: 1000, maxMs: 60000, factor: 2, jitter: 0.5 };

/** Delay before retry number `attempt` (0 = first): min(max, initial * factor^attempt), less up to `jitter` of it. */
export function backoffDelay(attempt: number, r: RetryOptions, random: () => number = Math.random): number {
  const base = Math.min(r.maxMs, r.initialMs * Math.pow(r.factor, Math.max(0, attempt)));
  return base * (1 - r.jitter * random());
}

export type WriterState = 'connecting' | 'connected' | 'backoff' | 'retrying' | 'closed';

export interface LogOptions {
  /** Folder of the write-ahead log; undefined keeps points in memory only (lost on a restart). */
  dir?: string;
  /** Disk (or memory) the log may use; past it the drop policy decides. */
  maxBytes: number;
  /** Points not written after this long are given up. */
  maxAgeMs: number;
  policy: DropPolicy;
  /** Segment file size (default: maxBytes / 16, between 64 kB and 16 MB). */
  segmentBytes?: number;
  /** Group commit: appends collected this long share one write and one fdatasync (default 2 ms). */
  groupMs?: number;
}

export interface WriterOptions {
  target: WriteTarget;
  queue: LogOptions;
  /** Lines per request. */
  batchSize: number;
  /** A partial batch is sent after this long. */
  flushIntervalMs: number;
  maxInFlight: number;
  /** Waiting batches that keep their body once read; the others read it again from the log. */
  maxPending: number;
  retry: RetryOptions;
  random?: () => number;
  now?: () => number;
  onState?: (state: WriterState, err?: WriteError) => void;
  /** Points that will never be written: log full or too old, or refused by the server. */
  onDrop?: (reason: DropReason, points: number, detail?: string) => void;
}

export interface WriterStats {
  state: WriterState;
  /** Points the server accepted. */
  written: number;
  writtenBatches: number;
  /** Points in the batch being filled. */
  buffered: number;
  /** Points in cut batches not yet confirmed by the server (waiting or in flight; all in the log). */
  queued: number;
  /** Size of the log. */
  queuedBytes: number;
  dropped: Record<DropReason, number>;
  retries: number;
  /** Points found unconfirmed in the log at start and sent again (some may have been written before). */
  replayed: number;
  /** Records cut short by a crash, found and cut off when the log was opened. */
  tornRecords: number;
  lastError?: string;
}

interface Item {
  /** Seq of the first point; the batch is points [from, from + points). */
  from: number;
  points: number;
  /** When it was logged (for the age limit). */
  at: number;
  /** The body (UTF-8 lines), or undefined until it is read from the log. */
  body?: Buffer;
  ctrl?: AbortController;
}

export class InfluxWriter {
  readonly options: WriterOptions;
  readonly log: WriteAheadLog;
  /** The batch being filled: points [bufFrom, bufFrom + bufCount) of the log (their text is only there). */
  private bufCount = 0;
  private bufFrom = 0;
  /** Batches waiting to be sent, in order of seq. */
  private waiting: Item[] = [];
  private waitingPoints = 0;
  private inflight = new Set<Item>();
  private inflightPoints = 0;
  private _state: WriterState = 'connecting';
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private waiters: (() => void)[] = [];
  private readonly now: () => number;
  private s = {
    written: 0,
    writtenBatches: 0,
    retries: 0,
    replayed: 0,
    lastError: undefined as string | undefined,
  };
  private drops: Record<DropReason, number> = { full: 0, age: 0, rejected: 0 };
  /** Points refused by `add` on a full log and not yet reported to onDrop. */
  private unreported = 0;

  constructor(options: WriterOptions) {
    for (const k of ['batchSize', 'flushIntervalMs', 'maxInFlight', 'maxPending'] as const) {
      if (!(Number.isInteger(options[k]) && options[k] > 0)) {
        throw new TaktError('influx.badOption', `${k}: must be a positive integer`, k);
      }
    }
    const q = options.queue;
    if (!(q.maxBytes > 0)) throw new TaktError('influx.badQueue', 'maxBytes: must be positive', 'maxBytes');
    if (!(q.maxAgeMs > 0)) throw new TaktError('influx.badQueue', 'maxAgeMs: must be positive', 'maxAgeMs');
    if (q.policy !== 'drop-oldest' && q.policy !== 'drop-newest') {
      throw new TaktError('influx.badQueue', `policy: "${String(q.policy)}" is not a drop policy`, 'policy');
    }
    this.options = options;
    this.now = options.now ?? Date.now;
    this.log = new WriteAheadLog({
      ...(q.dir ? { dir: q.dir } : {}),
      segmentBytes: q.segmentBytes ?? Math.min(16 << 20, Math.max(64 << 10, Math.floor(q.maxBytes / 16))),
      groupMs: q.groupMs ?? 2,
      // Batches cut before their lines were in a record go out as soon as the record exists.
      onLogged: () => this.pump(),
      now: this.now,
    });
    // Whatever the server had not confirmed before the last stop (or crash) goes out first.
    for (const r of this.log.pending()) {
      for (let a = r.from; a < r.to; a += options.batchSize) {
        const points = Math.min(options.batchSize, r.to - a);
        this.waiting.push({ from: a, points, at: r.at });
        this.waitingPoints += points;
        this.s.replayed += points;
      }
    }
    this.flushTimer = setInterval(() => {
      this.cut();
      this.expire();
      this.reportRefused();
    }, options.flushIntervalMs);
    this.flushTimer.unref();
    if (this.waiting.length) this.pump();
  }

  get state(): WriterState {
    return this._state;
  }

  stats(): WriterStats {
    return {
      state: this._state,
      written: this.s.written,
      writtenBatches: this.s.writtenBatches,
      buffered: this.bufCount,
      queued: this.waitingPoints + this.inflightPoints,
      queuedBytes: this.log.bytes,
      dropped: { ...this.drops },
      retries: this.s.retries,
      replayed: this.s.replayed,
      tornRecords: this.log.stats().tornRecords,
      ...(this.s.lastError !== undefined ? { lastError: this.s.lastError } : {}),
    };
  }

  private dropped(reason: DropReason, points: number, detail?: string): void {
    this.drops[reason] += points;
    this.options.onDrop?.(reason, points, detail);
  }

  private reportRefused(): void {
    if (this.unreported === 0) return;
    const n = this.unreported;
    this.unreported = 0;
    this.options.onDrop?.('full', n);
  }

  private setState(s: WriterState, err?: WriteError): void {
    if (s === this._state && !err) return;
    this._state = s;
    this.options.onState?.(s, err);
  }

  /**
   * Adds one encoded line (no newline): logged, then batched. Returns false when the log is full and
   * the line was dropped (counted). Throws once closed.
   */
  add(line: string): boolean {
    if (this.closed) throw new TaktError('influx.closed', 'the writer is closed');
    if (this.log.bytes + line.length > this.options.queue.maxBytes && !this.makeRoom(line.length)) {
      // Counted at once, reported with the next flush tick (one report, not one per point).
      this.drops.full++;
      this.unreported++;
      return false;
    }
    const seq = this.log.append(line);
    if (this.bufCount === 0) this.bufFrom = seq;
    if (++this.bufCount >= this.options.batchSize) this.cut();
    return true;
  }

  /**
   * Calls `cb` when every line added so far is on disk (at once without a log folder), or with the error
   * when the log could not be written.
   */
  durable(cb: (err?: Error) => void): void {
    this.log.whenDurable(cb);
  }

  /** drop-oldest: gives up the oldest waiting batches until the log has room; false when it has none. */
  private makeRoom(need: number): boolean {
    const max = this.options.queue.maxBytes;
    if (this.options.queue.policy === 'drop-newest') return false;
    let points = 0;
    // Only batches in closed segments free space at once; the segment being appended to is rolled.
    while (
      this.log.bytes + need > max &&
      this.waiting.length &&
      this.waiting[0].from < this.log.activeFirst
    ) {
      const v = this.waiting.shift()!;
      this.waitingPoints -= v.points;
      points += v.points;
      this.log.ack(v.from, v.from + v.points);
    }
    if (this.log.bytes + need > max) this.log.roll();
    if (points) this.dropped('full', points);
    return this.log.bytes + need <= max;
  }

  /** Gives up waiting batches logged more than maxAgeMs ago. */
  expire(): void {
    const limit = this.now() - this.options.queue.maxAgeMs;
    let points = 0;
    this.waiting = this.waiting.filter((it) => {
      if (it.at >= limit) return true;
      points += it.points;
      this.waitingPoints -= it.points;
      this.log.ack(it.from, it.from + it.points);
      return false;
    });
    if (points) this.dropped('age', points);
  }

  /** Sends the current partial batch now. */
  flush(): void {
    this.cut();
  }

  private cut(): void {
    if (this.bufCount === 0) return;
    // No text here: the body is read from the log's record (the same bytes as on disk) when it is sent.
    const item: Item = { from: this.bufFrom, points: this.bufCount, at: this.now() };
    this.bufCount = 0;
    this.waiting.push(item);
    this.waitingPoints += item.points;
    this.pump();
  }

  /** Puts a batch back at its place among the waiting ones. */
  private requeue(item: Item): void {
    let i = 0;
    while (i < this.waiting.length && this.waiting[i].from < item.from) i++;
    this.waiting.splice(i, 0, item);
    this.waitingPoints += item.points;
  }

  private pump(): void {
    if (this.closed || this._state === 'backoff') {
      this.trim();
      return;
    }
    const limit = this._state === 'retrying' ? 1 : this.options.maxInFlight;
    const logged = this.log.logged;
    while (this.inflight.size < limit && this.waiting.length) {
      // A batch whose last lines are still in the group being collected waits for the next commit.
      if (this.waiting[0].body === undefined && this.waiting[0].from + this.waiting[0].points > logged) break;
      const item = this.waiting.shift()!;
      this.waitingPoints -= item.points;
      if (item.body === undefined) {
        try {
          item.body = this.log.readBytes(item.from, item.from + item.points);
        } catch (err) {
          this.log.ack(item.from, item.from + item.points);
          this.dropped('rejected', item.points, (err as Error).message);
          continue;
        }
      }
      this.send(item);
    }
    this.trim();
    this.checkIdle();
  }

  /** Keeps the bodies of the first maxPending waiting batches; the rest read theirs from the log again. */
  private trim(): void {
    if (!this.log.persistent || this.waiting.length <= this.options.maxPending) return;
    const durable = this.log.durable;
    for (let i = this.options.maxPending; i < this.waiting.length; i++) {
      const it = this.waiting[i];
      if (it.body !== undefined && it.from + it.points <= durable) it.body = undefined;
    }
  }

  private send(item: Item): void {
    item.ctrl = new AbortController();
    this.inflight.add(item);
    this.inflightPoints += item.points;
    this.options.target.write(item.body!, item.ctrl.signal).then(
      () => this.succeeded(item),
      (err: unknown) => this.failed(item, classify(err)),
    );
  }

  private settle(item: Item): boolean {
    if (!this.inflight.delete(item)) return false; // settled by close
    this.inflightPoints -= item.points;
    return true;
  }

  private succeeded(item: Item): void {
    if (!this.settle(item)) return;
    this.log.ack(item.from, item.from + item.points);
    this.s.written += item.points;
    this.s.writtenBatches++;
    this.attempt = 0;
    this.setState('connected');
    this.pump();
  }

  private failed(item: Item, err: WriteError): void {
    if (!this.settle(item)) return;
    this.s.lastError = err.message;
    if (err.kind === 'reject') {
      this.log.ack(item.from, item.from + item.points);
      this.dropped('rejected', item.points, err.message);
      this.pump();
      return;
    }
    this.s.retries++;
    this.requeue(item);
    if (this._state === 'backoff') return;
    const delay = backoffDelay(this.attempt++, this.options.retry, this.options.random);
    this.setState('backoff', err);
    this.trim();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.expire();
      this.setState('retrying');
      this.pump();
    }, delay);
  }

  private isIdle(): boolean {
    return this.bufCount === 0 && this.waiting.length === 0 && this.inflight.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Resolves true when the server has confirmed every point added (nothing waiting or in flight), or
   * false after `timeoutMs`.
   */
  drained(timeoutMs: number): Promise<boolean> {
    this.cut();
    if (this.isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /**
   * Sends what is waiting for up to `timeoutMs` (not while backing off), then stops: whatever was not
   * confirmed stays in the log for the next start (a batch cut off mid-request may be written twice;
   * InfluxDB keeps one point per series and time, so a replay does not duplicate data).
   */
  async close(timeoutMs = 5000): Promise<WriterStats> {
    if (this.closed) return this.stats();
    clearInterval(this.flushTimer);
    this.reportRefused();
    if (this._state === 'connected' || this._state === 'connecting') await this.drained(timeoutMs);
    this.cut();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const item of [...this.inflight]) {
      this.settle(item);
      item.ctrl?.abort();
      this.requeue(item);
    }
    await this.log.close();
    this.setState('closed');
    return this.stats();
  }
}
