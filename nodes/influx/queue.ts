/**
 * Store-and-forward queue of write batches (line-protocol bodies). On disk, each batch is one file
 * `<seq>-<enqueuedAt>-<points>.lp` in its folder, written atomically, so the queue survives a restart
 * (or a crash) and is replayed oldest first. Without a folder it keeps the batches in memory.
 *
 * Bounded by total bytes and by age. When a new batch does not fit, the drop policy decides:
 * "drop-oldest" deletes the oldest batches, "drop-newest" refuses the new one. Batches older than
 * `maxAgeMs` are dropped on every push and `expire()`. Every drop is reported to `onDrop` with its
 * reason and point count: nothing leaves the queue unnoticed.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TaktError } from '../core/errors';
import { writeFileAtomic } from '../core/state';

export type DropPolicy = 'drop-oldest' | 'drop-newest';
export const DROP_POLICIES: readonly DropPolicy[] = ['drop-oldest', 'drop-newest'];
export type DropReason = 'full' | 'age' | 'rejected';

export interface QueueOptions {
  /** Folder for the batch files; undefined keeps them in memory (lost on restart). */
  dir?: string;
  maxBytes: number;
  maxAgeMs: number;
  policy: DropPolicy;
  now?: () => number;
  onDrop?: (reason: DropReason, points: number, batches: number) => void;
}

export interface QueuedBatch {
  readonly seq: number;
  readonly enqueuedAt: number;
  readonly points: number;
  readonly bytes: number;
}

interface Entry extends QueuedBatch {
  body?: string;
  taken: boolean;
}

const NAME = /^(\d{12})-(\d+)-(\d+)\.lp$/;

export class BatchQueue {
  readonly options: QueueOptions;
  private entries: Entry[] = [];
  private nextSeq = 1;
  private _bytes = 0;
  private _points = 0;
  private readonly now: () => number;

  constructor(options: QueueOptions) {
    if (!(options.maxBytes > 0))
      throw new TaktError('influx.badQueue', 'maxBytes: must be positive', 'maxBytes');
    if (!(options.maxAgeMs > 0))
      throw new TaktError('influx.badQueue', 'maxAgeMs: must be positive', 'maxAgeMs');
    if (!DROP_POLICIES.includes(options.policy)) {
      throw new TaktError(
        'influx.badQueue',
        `policy: "${String(options.policy)}" is not a drop policy`,
        'policy',
      );
    }
    this.options = options;
    this.now = options.now ?? Date.now;
    if (options.dir) this.load(options.dir);
  }

  private load(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) {
      const m = NAME.exec(name);
      if (!m) {
        if (name.endsWith('.tmp')) rmSync(join(dir, name), { force: true }); // a write cut short by a crash
        continue;
      }
      const bytes = statSync(join(dir, name)).size;
      this.entries.push({
        seq: Number(m[1]),
        enqueuedAt: Number(m[2]),
        points: Number(m[3]),
        bytes,
        taken: false,
      });
    }
    this.entries.sort((a, b) => a.seq - b.seq);
    for (const e of this.entries) {
      this._bytes += e.bytes;
      this._points += e.points;
    }
    if (this.entries.length) this.nextSeq = this.entries[this.entries.length - 1].seq + 1;
  }

  /** Batches waiting (including those being sent). */
  get length(): number {
    return this.entries.length;
  }
  get bytes(): number {
    return this._bytes;
  }
  get points(): number {
    return this._points;
  }
  /** Batches waiting and not being sent. */
  get available(): number {
    let n = 0;
    for (const e of this.entries) if (!e.taken) n++;
    return n;
  }

  private file(e: QueuedBatch): string {
    return join(this.options.dir ?? '', `${String(e.seq).padStart(12, '0')}-${e.enqueuedAt}-${e.points}.lp`);
  }

  private delete(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this._bytes -= e.bytes;
    this._points -= e.points;
    if (this.options.dir) rmSync(this.file(e), { force: true });
  }

  /** Drops batches older than maxAgeMs (not those being sent). */
  expire(): void {
    const limit = this.now() - this.options.maxAgeMs;
    let points = 0;
    let batches = 0;
    for (const e of [...this.entries]) {
      if (e.enqueuedAt >= limit) break;
      if (e.taken) continue;
      this.delete(e);
      points += e.points;
      batches++;
    }
    if (batches) this.options.onDrop?.('age', points, batches);
  }

  /**
   * A sequence number for a batch that is not queued yet (e.g. being sent), so that if it comes back it
   * takes its place in order among batches queued after it.
   */
  allocate(): number {
    return this.nextSeq++;
  }

  /**
   * Adds a batch, in order of `seq` (default: a new number, i.e. last). Returns false when the batch was
   * refused (drop-newest on a full queue).
   */
  push(body: string, points: number, seq?: number): boolean {
    this.expire();
    const bytes = Buffer.byteLength(body);
    const max = this.options.maxBytes;
    if (this._bytes + bytes > max) {
      if (this.options.policy === 'drop-newest' || bytes > max) {
        this.options.onDrop?.('full', points, 1);
        return false;
      }
      let dropped = 0;
      let batches = 0;
      for (const e of [...this.entries]) {
        if (this._bytes + bytes <= max) break;
        if (e.taken) continue;
        this.delete(e);
        dropped += e.points;
        batches++;
      }
      if (batches) this.options.onDrop?.('full', dropped, batches);
      if (this._bytes + bytes > max) {
        this.options.onDrop?.('full', points, 1);
        return false;
      }
    }
    const e: Entry = { seq: seq ?? this.nextSeq++, enqueuedAt: this.now(), points, bytes, taken: false };
    if (e.seq >= this.nextSeq) this.nextSeq = e.seq + 1;
    if (this.options.dir) writeFileAtomic(this.file(e), body);
    else e.body = body;
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1].seq > e.seq) i--;
    this.entries.splice(i, 0, e);
    this._bytes += bytes;
    this._points += points;
    return true;
  }

  /** The oldest batch not being sent, marked as being sent, with its body; undefined when none. */
  take(): { batch: QueuedBatch; body: string } | undefined {
    const e = this.entries.find((x) => !x.taken);
    if (!e) return undefined;
    e.taken = true;
    const body = e.body ?? readFileSync(this.file(e), 'utf8');
    return { batch: e, body };
  }

  /** The batch was written: remove it. */
  ack(b: QueuedBatch): void {
    const e = this.entries.find((x) => x.seq === b.seq);
    if (e) this.delete(e);
  }

  /** The batch was not written: it stays at its place for the next attempt. */
  release(b: QueuedBatch): void {
    const e = this.entries.find((x) => x.seq === b.seq);
    if (e) e.taken = false;
  }
}
