/**
 * InfluxWriter: batches line-protocol lines by count and time, sends them through a `WriteTarget` with a
 * few requests in flight, and on failure keeps them in a store-and-forward `BatchQueue` (on disk under the
 * userDir), retrying with exponential back-off and jitter. The queue is replayed oldest first, one request
 * at a time until the server answers again. A body the server refuses as malformed (400) is counted as
 * rejected and reported, never retried forever; 401/403 keep the data and retry, since a fixed token must
 * not lose what came in meanwhile. `close()` flushes within a time limit and persists what is left.
 */
import { TaktError } from '../core/errors';
import { BatchQueue, type DropReason, type QueueOptions, type QueuedBatch } from './queue';
import { classify, type WriteError, type WriteTarget } from './transport';

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

export interface WriterOptions {
  target: WriteTarget;
  queue: Omit<QueueOptions, 'onDrop' | 'now'>;
  /** Lines per request. */
  batchSize: number;
  /** A partial batch is sent after this long. */
  flushIntervalMs: number;
  maxInFlight: number;
  /** Batches held in memory while requests are busy; more go to the queue. */
  maxPending: number;
  retry: RetryOptions;
  random?: () => number;
  now?: () => number;
  onState?: (state: WriterState, err?: WriteError) => void;
  /** Points that will never be written: queue full or too old, or refused by the server. */
  onDrop?: (reason: DropReason, points: number, detail?: string) => void;
}

export interface WriterStats {
  state: WriterState;
  /** Points the server accepted. */
  written: number;
  writtenBatches: number;
  /** Points waiting in memory (current batch and batches ready to send). */
  buffered: number;
  /** Points in the store-and-forward queue. */
  queued: number;
  queuedBytes: number;
  dropped: Record<DropReason, number>;
  retries: number;
  lastError?: string;
}

interface Item {
  seq: number;
  body: string;
  points: number;
  batch?: QueuedBatch;
  ctrl?: AbortController;
}

export class InfluxWriter {
  readonly options: WriterOptions;
  readonly queue: BatchQueue;
  private buf: string[] = [];
  private pending: Item[] = [];
  private pendingPoints = 0;
  private inflight = new Set<Item>();
  private _state: WriterState = 'connecting';
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private waiters: (() => void)[] = [];
  private s = { written: 0, writtenBatches: 0, retries: 0, lastError: undefined as string | undefined };
  private drops: Record<DropReason, number> = { full: 0, age: 0, rejected: 0 };

  constructor(options: WriterOptions) {
    for (const k of ['batchSize', 'flushIntervalMs', 'maxInFlight', 'maxPending'] as const) {
      if (!(Number.isInteger(options[k]) && options[k] > 0)) {
        throw new TaktError('influx.badOption', `${k}: must be a positive integer`, k);
      }
    }
    this.options = options;
    this.queue = new BatchQueue({
      ...options.queue,
      ...(options.now ? { now: options.now } : {}),
      onDrop: (reason, points) => this.dropped(reason, points),
    });
    this.flushTimer = setInterval(() => this.cut(), options.flushIntervalMs);
    this.flushTimer.unref();
    if (this.queue.length) this.pump();
  }

  get state(): WriterState {
    return this._state;
  }

  stats(): WriterStats {
    return {
      state: this._state,
      written: this.s.written,
      writtenBatches: this.s.writtenBatches,
      buffered: this.buf.length + this.pendingPoints,
      queued: this.queue.points,
      queuedBytes: this.queue.bytes,
      dropped: { ...this.drops },
      retries: this.s.retries,
      ...(this.s.lastError !== undefined ? { lastError: this.s.lastError } : {}),
    };
  }

  private dropped(reason: DropReason, points: number, detail?: string): void {
    this.drops[reason] += points;
    this.options.onDrop?.(reason, points, detail);
  }

  private setState(s: WriterState, err?: WriteError): void {
    if (s === this._state && !err) return;
    this._state = s;
    this.options.onState?.(s, err);
  }

  /** Adds one encoded line (no newline). Throws once closed. */
  add(line: string): void {
    if (this.closed) throw new TaktError('influx.closed', 'the writer is closed');
    this.buf.push(line);
    if (this.buf.length >= this.options.batchSize) this.cut();
  }

  /** Sends the current partial batch now. */
  flush(): void {
    this.cut();
  }

  private cut(): void {
    if (this.buf.length === 0) return;
    const item: Item = { seq: this.queue.allocate(), body: this.buf.join('\n'), points: this.buf.length };
    this.buf = [];
    const holding = this._state === 'backoff' || this._state === 'retrying';
    if (holding || this.pending.length >= this.options.maxPending)
      this.queue.push(item.body, item.points, item.seq);
    else {
      this.pending.push(item);
      this.pendingPoints += item.points;
    }
    this.pump();
  }

  private pump(): void {
    if (this.closed || this._state === 'backoff') return;
    const limit = this._state === 'retrying' ? 1 : this.options.maxInFlight;
    while (this.inflight.size < limit) {
      const d = this.queue.take();
      if (d) {
        this.send({ seq: d.batch.seq, body: d.body, points: d.batch.points, batch: d.batch });
        continue;
      }
      const m = this.pending.shift();
      if (!m) break;
      this.pendingPoints -= m.points;
      this.send(m);
    }
    this.checkIdle();
  }

  private send(item: Item): void {
    item.ctrl = new AbortController();
    this.inflight.add(item);
    this.options.target.write(item.body, item.ctrl.signal).then(
      () => this.succeeded(item),
      (err: unknown) => this.failed(item, classify(err)),
    );
  }

  private succeeded(item: Item): void {
    if (!this.inflight.delete(item)) return; // settled by close
    if (item.batch) this.queue.ack(item.batch);
    this.s.written += item.points;
    this.s.writtenBatches++;
    this.attempt = 0;
    this.setState('connected');
    this.pump();
  }

  private failed(item: Item, err: WriteError): void {
    if (!this.inflight.delete(item)) return;
    this.s.lastError = err.message;
    if (err.kind === 'reject') {
      if (item.batch) this.queue.ack(item.batch);
      this.dropped('rejected', item.points, err.message);
      this.pump();
      return;
    }
    this.s.retries++;
    if (item.batch) this.queue.release(item.batch);
    else this.queue.push(item.body, item.points, item.seq);
    if (this._state === 'backoff') return;
    // Spill what waits in memory, so a crash during the outage loses nothing that was handed over.
    for (const p of this.pending) this.queue.push(p.body, p.points, p.seq);
    this.pending = [];
    this.pendingPoints = 0;
    const delay = backoffDelay(this.attempt++, this.options.retry, this.options.random);
    this.setState('backoff', err);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.setState('retrying');
      this.pump();
    }, delay);
  }

  private isIdle(): boolean {
    return this.buf.length === 0 && this.pending.length === 0 && this.inflight.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Resolves when nothing is in memory or in flight (the queue may still hold batches while the server is
   * away), or after `timeoutMs`; true when idle.
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
   * Sends what is buffered for up to `timeoutMs` (not while backing off), then stops: whatever was not
   * confirmed is in the queue for the next start (a batch cut off mid-request may be written twice; InfluxDB
   * keeps one point per series and time, so a replay does not duplicate data).
   */
  async close(timeoutMs = 5000): Promise<WriterStats> {
    if (this.closed) return this.stats();
    clearInterval(this.flushTimer);
    if (this._state === 'connected' || this._state === 'connecting') await this.drained(timeoutMs);
    this.cut();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const p of this.pending) this.queue.push(p.body, p.points, p.seq);
    this.pending = [];
    this.pendingPoints = 0;
    for (const item of [...this.inflight]) {
      this.inflight.delete(item);
      if (item.batch) this.queue.release(item.batch);
      else this.queue.push(item.body, item.points, item.seq);
      item.ctrl?.abort();
    }
    this.setState('closed');
    return this.stats();
  }
}
