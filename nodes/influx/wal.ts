/**
 * Write-ahead log of line-protocol points for takt-influx-out: every point the node takes is appended to
 * segment files on disk before its message is done, so it survives a crash, a power cut or an OOM kill,
 * not only a clean restart, and stays there until the server confirmed it.
 *
 * - Points are numbered (`seq`) in the order they are appended. Appends are collected for `groupMs` and
 *   written as one record with one fdatasync (group commit); `whenDurable` callbacks run after it.
 * - A record: u32 payload length, u32 CRC-32 (of the rest of the header and the payload), f64 first seq,
 *   u32 point count, f64 time logged, then the lines joined by "\n". A record cut short by a crash (or
 *   with a bad checksum) ends its segment: the file is truncated there when the log is opened.
 * - Lines are encoded into a staging buffer in runs of up to 256 as they are appended (one UTF-8 write per
 *   run; each line's end from the string lengths when the run is ASCII, else line by line), and a group's
 *   staged bytes become its records. A record's bytes are kept in memory (up
 *   to `cacheBytes`) with where each line ends, so `readBytes` hands out batch bodies as slices of them and
 *   reads a record back from disk only once it was dropped from memory.
 * - Segment files `<first seq, 16 digits>.wal` are rolled at `segmentBytes`; a new run starts a new one.
 * - `ack(from, to)` marks points confirmed (or given up) in an append-only `acks` file; a segment is deleted
 *   once every point in it is confirmed. Losing the tail of `acks` only means a few points are sent twice.
 * - Opening the log lists the points not yet confirmed (`pending()`), which the writer sends again.
 *
 * Without a folder the log keeps nothing (points live only in the writer's memory) but still counts bytes,
 * so the size limit works the same. Batch files of the former queue (`<seq>-<time>-<points>.lp`) found in
 * the folder are taken into the log once.
 */
import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writev,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFileAtomic } from '../core/state';
import { TaktError } from '../core/errors';

export type DropPolicy = 'drop-oldest' | 'drop-newest';
export const DROP_POLICIES: readonly DropPolicy[] = ['drop-oldest', 'drop-newest'];
/** Why points were given up: log full, too old, or refused by the server. */
export type DropReason = 'full' | 'age' | 'rejected';

export interface WalOptions {
  /** Folder for the segment files; undefined keeps nothing on disk. */
  dir?: string;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /** Appends are collected this long before one write and one fdatasync. */
  groupMs: number;
  /**
   * Bytes of records kept in memory after they are written, so batches are read from there and not from
   * disk (default 64 MB; without a folder every record not yet confirmed is kept).
   */
  cacheBytes?: number;
  /** Called once the lines appended so far are in records (each commit), before they are on disk. */
  onLogged?: () => void;
  now?: () => number;
}

/** Points `[from, to)` not yet confirmed, logged at `at` (ms). */
export interface PendingRange {
  from: number;
  to: number;
  at: number;
}

export interface WalStats {
  /** Bytes of the segment files (and of the group not yet written). */
  bytes: number;
  segments: number;
  /** Records cut short or corrupt found (and truncated) when the log was opened. */
  tornRecords: number;
  /** Points up to this seq (exclusive) are on disk. */
  durable: number;
}

/** A record's payload in memory and where each of its lines ends in it. */
interface Mem {
  buf: Buffer;
  ends: ArrayLike<number>;
}

/** Lines of the group being collected, already encoded: points `[first, first + ends.length)`. */
interface Part extends Mem {
  first: number;
}

interface Rec {
  first: number;
  count: number;
  at: number;
  /** Payload offset in the segment file. */
  offset: number;
  len: number;
  /** The payload, while it is kept in memory. */
  mem?: Mem;
  /** False when its write failed: then it lives only in memory (never evicted). */
  onDisk: boolean;
}

interface Segment {
  file: string;
  first: number;
  bytes: number;
  recs: Rec[];
  readFd?: number;
}

const HEADER = 28;
/** A group larger than this is written as several records, so reading a batch back reads little more. */
const RECORD_BYTES = 1 << 20;
/** First size of the staging buffer; it doubles up to RECORD_BYTES as groups need. */
const STAGE_BYTES = 16 << 10;
/**
 * Lines collected before they are encoded into the staging buffer in one call: one Buffer.write per line
 * was the largest part of the log's cost per point (bench:influx-write profile).
 */
const PENDING_LINES = 256;
const ACK = 20;
const SEG = /^(\d{16})\.wal$/;
const LEGACY = /^(\d{12})-(\d+)-(\d+)\.lp$/;
const ACKS = 'acks';
const pad = (n: number) => String(n).padStart(16, '0');
const NEWLINE = Buffer.from('\n');

/** Sorted, disjoint, non-adjacent half-open intervals of confirmed seqs. */
class Spans {
  from: number[] = [];
  to: number[] = [];

  get length(): number {
    return this.from.length;
  }

  /** Index of the first span with to >= x. */
  private lower(x: number): number {
    let lo = 0;
    let hi = this.to.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.to[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  }

  add(a: number, b: number): void {
    if (!(b > a)) return;
    const i = this.lower(a);
    let j = i;
    while (j < this.from.length && this.from[j] <= b) {
      a = Math.min(a, this.from[j]);
      b = Math.max(b, this.to[j]);
      j++;
    }
    this.from.splice(i, j - i, a);
    this.to.splice(i, j - i, b);
  }

  covers(a: number, b: number): boolean {
    if (!(b > a)) return true;
    const i = this.lower(a + 1);
    return i < this.from.length && this.from[i] <= a && this.to[i] >= b;
  }

  /** The parts of [a, b) not covered. */
  gaps(a: number, b: number): [number, number][] {
    const out: [number, number][] = [];
    let x = a;
    for (let i = this.lower(a + 1); i < this.from.length && x < b; i++) {
      if (this.from[i] > x) out.push([x, Math.min(b, this.from[i])]);
      x = Math.max(x, this.to[i]);
    }
    if (x < b) out.push([x, b]);
    return out;
  }

  /** Forgets spans that end at or before `x`, keeping the last one (it carries the highest seq). */
  dropBefore(x: number): void {
    let n = 0;
    while (n < this.from.length - 1 && this.to[n] <= x) n++;
    if (n) {
      this.from.splice(0, n);
      this.to.splice(0, n);
    }
  }

  get last(): number {
    return this.to.length ? this.to[this.to.length - 1] : 0;
  }
}

function ackRecord(from: number, to: number): Buffer {
  const b = Buffer.allocUnsafe(ACK);
  b.writeDoubleLE(from, 0);
  b.writeDoubleLE(to, 8);
  b.writeUInt32LE(crc32(b.subarray(0, 16)), 16);
  return b;
}

export class WriteAheadLog {
  readonly options: WalOptions;
  private readonly now: () => number;
  private readonly dir: string | undefined;
  private segments: Segment[] = [];
  /** The segment being appended to (last of `segments`), with its write descriptor. */
  private active: Segment | undefined;
  private writeFd: number | undefined;
  private rollNext = false;
  private confirmed = new Spans();
  private ackFd: number | undefined;
  private ackRecords = 0;
  private nextSeq = 0;
  private durableSeq = 0;
  private _bytes = 0;
  private torn = 0;
  /** The group being collected: parts already cut, then the lines staged in `stage` after them. */
  private parts: Part[] = [];
  private groupCount = 0;
  private groupFirst = 0;
  private groupBytes = 0;
  private stage = Buffer.allocUnsafe(0);
  private stageUsed = 0;
  private stageFirst = 0;
  private stageEnds = new Uint32Array(0);
  private stageCount = 0;
  /** Lines appended but not yet encoded into `stage` (at most PENDING_LINES; encoded together). */
  private pendingLines: string[] = [];
  private pendingChars = 0;
  private pendingFirst = 0;
  /** Callbacks for the group being collected, and for the group being written. */
  private groupCbs: ((err?: Error) => void)[] = [];
  private writingCbs: ((err?: Error) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private closing: Promise<void> | undefined;
  private closed = false;
  private failure: Error | undefined;
  private idle: (() => void)[] = [];
  /** Records whose payload is in memory, oldest first, and their bytes. */
  private memRecs: Rec[] = [];
  private memHead = 0;
  private memBytes = 0;

  constructor(options: WalOptions) {
    if (!(options.segmentBytes > 0))
      throw new TaktError('influx.badLog', 'segmentBytes: must be positive', 'segmentBytes');
    if (!(options.groupMs >= 0))
      throw new TaktError('influx.badLog', 'groupMs: must not be negative', 'groupMs');
    this.options = options;
    this.now = options.now ?? Date.now;
    this.dir = options.dir;
    if (this.dir) this.open(this.dir);
    this.groupFirst = this.nextSeq;
    this.durableSeq = this.nextSeq;
  }

  /** True when points are kept on disk. */
  get persistent(): boolean {
    return this.dir !== undefined;
  }

  /** Bytes on disk plus the group waiting to be written. */
  get bytes(): number {
    return this._bytes + this.groupBytes;
  }

  /** Seq of the first point of the segment being appended to (Infinity when none). */
  get activeFirst(): number {
    return this.active ? this.active.first : this.groupFirst;
  }

  stats(): WalStats {
    return {
      bytes: this.bytes,
      segments: this.segments.length,
      tornRecords: this.torn,
      durable: this.durableSeq,
    };
  }

  // ---- opening ----

  private open(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir).sort();
    this.readAcks(join(dir, ACKS));
    for (const name of names) {
      if (SEG.test(name)) this.loadSegment(join(dir, name), Number(SEG.exec(name)![1]));
      else if (name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
    }
    const lastRec = this.segments.at(-1)?.recs.at(-1);
    // After a torn record, an ack may name seqs beyond the last record: never hand those out again.
    this.nextSeq = Math.max(lastRec ? lastRec.first + lastRec.count : 0, this.confirmed.last);
    const legacy = names.filter((n) => LEGACY.test(n));
    if (legacy.length) this.importLegacy(dir, legacy);
    this.ackFd = openSync(join(dir, ACKS), 'a');
    this.sweep(); // segments confirmed in full before a crash could delete them
  }

  private readAcks(file: string): void {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch {
      return;
    }
    let off = 0;
    for (; off + ACK <= buf.length; off += ACK) {
      if (crc32(buf.subarray(off, off + 16)) !== buf.readUInt32LE(off + 16)) break;
      this.confirmed.add(buf.readDoubleLE(off), buf.readDoubleLE(off + 8));
      this.ackRecords++;
    }
    if (off < buf.length) {
      // Rewrite without the torn tail, so later appends are readable.
      writeFileAtomic(file, buf.subarray(0, off));
    }
  }

  private loadSegment(file: string, first: number): void {
    const buf = readFileSync(file);
    const seg: Segment = { file, first, bytes: 0, recs: [] };
    let off = 0;
    while (off + HEADER <= buf.length) {
      const len = buf.readUInt32LE(off);
      if (off + HEADER + len > buf.length) break;
      let c = crc32(buf.subarray(off + 8, off + HEADER));
      c = crc32(buf.subarray(off + HEADER, off + HEADER + len), c);
      if (c !== buf.readUInt32LE(off + 4)) break;
      seg.recs.push({
        first: buf.readDoubleLE(off + 8),
        count: buf.readUInt32LE(off + 16),
        at: buf.readDoubleLE(off + 20),
        offset: off + HEADER,
        len,
        onDisk: true,
      });
      off += HEADER + len;
    }
    if (off < buf.length) {
      this.torn++;
      const fd = openSync(file, 'r+');
      try {
        ftruncateSync(fd, off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    if (seg.recs.length === 0) {
      rmSync(file, { force: true });
      return;
    }
    seg.bytes = off;
    this._bytes += off;
    this.segments.push(seg);
  }

  /** Batch files of the former store-and-forward queue: logged as records, then removed. */
  private importLegacy(dir: string, names: string[]): void {
    for (const name of names) {
      const at = Number(LEGACY.exec(name)![2]);
      const body = readFileSync(join(dir, name), 'utf8');
      const lines = body.split('\n').filter((l) => l.length > 0);
      if (lines.length) {
        for (const line of lines) this.stageLine(line, this.nextSeq++);
        this.cutStage();
        for (const part of this.parts) {
          const { parts } = this.prepare(part, at);
          writeSync(this.writeFd!, parts[0]);
          writeSync(this.writeFd!, parts[1]);
        }
        this.parts = [];
        fsyncSync(this.writeFd!);
      }
      rmSync(join(dir, name), { force: true });
    }
  }

  /** Points found in the log that were never confirmed, oldest first (adjacent ranges merged). */
  pending(): PendingRange[] {
    const out: PendingRange[] = [];
    for (const seg of this.segments) {
      for (const r of seg.recs) {
        for (const [a, b] of this.confirmed.gaps(r.first, r.first + r.count)) {
          const last = out.at(-1);
          if (last && last.to === a) last.to = b;
          else out.push({ from: a, to: b, at: r.at });
        }
      }
    }
    return out;
  }

  // ---- appending ----

  /** Appends one line (no newline in it) and returns its seq. */
  append(line: string): number {
    if (this.closed) throw new TaktError('influx.closed', 'the log is closed');
    // Counted as one byte per character (exact for ASCII; corrected when the lines are encoded).
    this.groupBytes += line.length + 1;
    if (this.pendingLines.length === 0) this.pendingFirst = this.nextSeq;
    this.pendingLines.push(line);
    this.pendingChars += line.length + 1;
    if (this.pendingLines.length >= PENDING_LINES) this.stagePending();
    this.groupCount++;
    if (this.timer === undefined && !this.writing) this.schedule();
    return this.nextSeq++;
  }

  /**
   * Encodes the collected lines into the staging buffer with one write: when every byte came out as one
   * character (pure ASCII, which line protocol nearly always is), each line's end follows from the string
   * lengths; otherwise the lines are encoded again one by one (UTF-8 lengths).
   */
  private stagePending(): void {
    const lines = this.pendingLines;
    const count = lines.length;
    if (count === 0) return;
    const chars = this.pendingChars;
    const first = this.pendingFirst;
    this.pendingLines = [];
    this.pendingChars = 0;
    // Past a record's worth, or very long lines: line by line (stageLine cuts the records).
    if (count === 1 || this.stageUsed + chars > RECORD_BYTES || chars * 3 > RECORD_BYTES) {
      let bytes = 0;
      for (let k = 0; k < count; k++) bytes += this.stageLine(lines[k], first + k);
      this.groupBytes += bytes - chars;
      return;
    }
    const text = lines.join('\n');
    // Room for the text at 3 bytes per character, so the write is never cut short: then `n` equals the
    // character count only when every character took one byte.
    if (this.stageUsed + chars * 3 > this.stage.length) this.makeStageRoom(chars * 3);
    const n = this.stage.write(text, this.stageUsed);
    if (n !== chars - 1) {
      // Some line is not ASCII: encode them one at a time over what was just written.
      let bytes = 0;
      for (let k = 0; k < count; k++) bytes += this.stageLine(lines[k], first + k);
      this.groupBytes += bytes - chars;
      return;
    }
    if (this.stageCount === 0) this.stageFirst = first;
    if (this.stageCount + count > this.stageEnds.length) {
      const ends = new Uint32Array(Math.max(1024, 2 * (this.stageCount + count)));
      ends.set(this.stageEnds.subarray(0, this.stageCount));
      this.stageEnds = ends;
    }
    let end = this.stageUsed;
    for (let k = 0; k < count; k++) {
      end += lines[k].length;
      this.stageEnds[this.stageCount++] = end;
      end++; // the newline (the last one is written below)
    }
    this.stageUsed += n;
    this.stage[this.stageUsed++] = 10;
    if (this.stageUsed >= RECORD_BYTES) this.cutStage();
  }

  /** Encodes one line (and its newline) into the staging buffer. Returns the bytes it took. */
  private stageLine(line: string, seq: number): number {
    const most = line.length * 3 + 1; // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (this.stageUsed + most > this.stage.length) this.makeStageRoom(most);
    if (this.stageCount === 0) this.stageFirst = seq;
    const n = this.stage.write(line, this.stageUsed);
    this.stageUsed += n;
    if (this.stageCount === this.stageEnds.length) {
      const ends = new Uint32Array(Math.max(1024, this.stageCount * 2));
      ends.set(this.stageEnds);
      this.stageEnds = ends;
    }
    this.stageEnds[this.stageCount++] = this.stageUsed;
    this.stage[this.stageUsed++] = 10;
    // A part (a record) ends once it reaches RECORD_BYTES, or before a line that might take it past that.
    if (this.stageUsed >= RECORD_BYTES) this.cutStage();
    return n + 1;
  }

  /** Room for `most` more bytes: cuts the staged lines off past RECORD_BYTES, grows the buffer as needed. */
  private makeStageRoom(most: number): void {
    if (this.stageUsed + most > RECORD_BYTES) this.cutStage();
    const need = this.stageUsed + most;
    if (need <= this.stage.length) return;
    let size = Math.max(STAGE_BYTES, this.stage.length);
    while (size < need) size *= 2;
    const grown = Buffer.allocUnsafe(Math.max(need, Math.min(size, RECORD_BYTES)));
    this.stage.copy(grown, 0, 0, this.stageUsed);
    this.stage = grown;
  }

  /**
   * Moves the staged lines into a part of their own (exact size: the staging buffer is used again). Its
   * payload has no newline after the last line.
   */
  private cutStage(): void {
    if (this.stageCount === 0) return;
    const buf = Buffer.allocUnsafeSlow(this.stageUsed - 1);
    this.stage.copy(buf, 0, 0, this.stageUsed - 1);
    this.parts.push({ first: this.stageFirst, buf, ends: this.stageEnds.slice(0, this.stageCount) });
    this.stageUsed = 0;
    this.stageCount = 0;
    // A staging buffer grown for one very long line is not kept.
    if (this.stage.length > RECORD_BYTES) this.stage = Buffer.allocUnsafe(RECORD_BYTES);
  }

  /**
   * Calls `cb` once every point appended so far is on disk (at once without a folder), or with the error
   * when writing failed.
   */
  whenDurable(cb: (err?: Error) => void): void {
    if (!this.dir) cb();
    else if (this.groupCount) this.groupCbs.push(cb);
    else if (this.writing) this.writingCbs.push(cb);
    else cb();
  }

  /** Points below this seq are on disk. */
  get durable(): number {
    return this.durableSeq;
  }

  /** Points below this seq are in records (readable), on disk or being written. */
  get logged(): number {
    return this.groupFirst;
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.commit(), this.options.groupMs);
  }

  /** Makes the next commit start a new segment. */
  roll(): void {
    this.rollNext = true;
  }

  /** The record for a part in the active segment (a new one when due): header and payload. */
  private prepare(part: Part, at: number, mayRoll = true): { seg: Segment; parts: [Buffer, Buffer] } {
    // The lines were encoded once, as they were appended: the same bytes are the record on disk and,
    // kept in memory, the bodies of the batches sent (see readBytes).
    const { first, buf: payload, ends } = part;
    const head = Buffer.allocUnsafe(HEADER);
    head.writeUInt32LE(payload.length, 0);
    head.writeDoubleLE(first, 8);
    head.writeUInt32LE(ends.length, 16);
    head.writeDoubleLE(at, 20);
    head.writeUInt32LE(crc32(payload, crc32(head.subarray(8))), 4);
    if (!this.active || (mayRoll && (this.rollNext || this.active.bytes >= this.options.segmentBytes)))
      this.startSegment(first);
    const seg = this.active!;
    const rec: Rec = {
      first,
      count: ends.length,
      at,
      offset: seg.bytes + HEADER,
      len: payload.length,
      onDisk: true,
    };
    seg.recs.push(rec);
    this.keep(rec, { buf: payload, ends });
    seg.bytes += HEADER + payload.length;
    this._bytes += HEADER + payload.length;
    return { seg, parts: [head, payload] };
  }

  private startSegment(first: number): void {
    this.rollNext = false;
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
    const seg: Segment = {
      file: this.dir ? join(this.dir, `${pad(first)}.wal`) : '',
      first,
      bytes: 0,
      recs: [],
    };
    if (this.dir) {
      this.writeFd = openSync(seg.file, 'w');
      // The new file's name must be on disk too, or a power cut could lose the whole segment.
      const d = openSync(this.dir, 'r');
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    }
    this.active = seg;
    this.segments.push(seg);
    this.sweep();
  }

  private commit(): void {
    this.timer = undefined;
    if (this.writing || this.groupCount === 0) {
      this.settleIdle();
      return;
    }
    this.stagePending();
    this.cutStage();
    const group = this.parts;
    const end = this.nextSeq;
    this.parts = [];
    this.groupCount = 0;
    this.groupBytes = 0;
    this.groupFirst = this.nextSeq;
    if (!this.dir) {
      for (const part of group) this.prepare(part, this.now());
      this.durableSeq = end;
      this.sweep();
      this.options.onLogged?.();
      this.settleIdle();
      return;
    }
    const at = this.now();
    const parts: Buffer[] = [];
    let seg: Segment | undefined;
    let records = 0;
    try {
      // Records of at most about RECORD_BYTES, all in one segment (a roll happens only before the first).
      for (const part of group) {
        const p = this.prepare(part, at, records === 0);
        seg = p.seg;
        parts.push(...p.parts);
        records++;
      }
    } catch (err) {
      this.writingCbs = this.groupCbs;
      this.groupCbs = [];
      this.finish(end, err as Error);
      return;
    }
    const fd = this.writeFd!;
    this.writing = true;
    this.writingCbs = this.groupCbs;
    this.groupCbs = [];
    const target = seg!;
    writev(fd, parts, (err) => {
      if (err) return this.writeFailed(target, records, fd, end, err);
      fdatasync(fd, (err2) => (err2 ? this.writeFailed(target, records, fd, end, err2) : this.finish(end)));
    });
    this.options.onLogged?.();
  }

  private writeFailed(seg: Segment, records: number, fd: number, end: number, err: Error): void {
    // Cut the records off the file, so it ends on a whole record; their points stay readable from memory.
    const gone = seg.recs.slice(seg.recs.length - records);
    if (gone.length) {
      const start = gone[0].offset - HEADER;
      for (const r of gone) r.onDisk = false;
      this._bytes -= seg.bytes - start;
      seg.bytes = start;
      try {
        ftruncateSync(fd, seg.bytes);
      } catch {
        /* the next open truncates it */
      }
    }
    this.finish(end, err);
  }

  private finish(end: number, err?: Error): void {
    this.writing = false;
    this.failure = err;
    this.durableSeq = end;
    const cbs = this.writingCbs;
    this.writingCbs = [];
    const e =
      err && new TaktError('influx.logWrite', `the write-ahead log could not be written: ${err.message}`);
    for (const cb of cbs) cb(e);
    this.sweep();
    // Appends that came during the write go out at once: they have waited at least as long as the write.
    if (this.groupCount && this.timer === undefined) this.commit();
    else this.settleIdle();
  }

  /** The last write error (kept until the next success). */
  get lastError(): Error | undefined {
    return this.failure;
  }

  private settleIdle(): void {
    if (this.writing || this.groupCount) return;
    const w = this.idle;
    this.idle = [];
    for (const f of w) f();
  }

  // ---- reading ----

  /** The lines of points `[from, to)`, joined by "\n". Throws when some are not in the log. */
  read(from: number, to: number): string {
    return this.readBytes(from, to).toString('utf8');
  }

  /**
   * The lines of points `[from, to)`, joined by "\n", as UTF-8: a slice of the record's bytes kept in
   * memory when the points are in one record (no copy), else read back from disk. Throws when some are not
   * in the log.
   */
  readBytes(from: number, to: number): Buffer {
    const out: Buffer[] = [];
    let x = from;
    for (const seg of this.segments) {
      if (x >= to) break;
      const recs = seg.recs;
      if (!recs.length || recs[recs.length - 1].first + recs[recs.length - 1].count <= x) continue;
      let lo = 0;
      let hi = recs.length - 1;
      while (lo < hi) {
        const m = (lo + hi + 1) >> 1;
        if (recs[m].first <= x) lo = m;
        else hi = m - 1;
      }
      for (let i = lo; i < recs.length && x < to; i++) {
        const r = recs[i];
        if (r.first > x) throw this.missing(x);
        if (r.first + r.count <= x) continue;
        const mem = r.mem ?? this.load(seg, r);
        const a = x - r.first;
        const b = Math.min(r.count, to - r.first);
        if (out.length) out.push(NEWLINE);
        out.push(mem.buf.subarray(a === 0 ? 0 : mem.ends[a - 1] + 1, mem.ends[b - 1]));
        x = r.first + b;
      }
    }
    if (x < to) throw this.missing(x);
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  private missing(seq: number): TaktError {
    return new TaktError('influx.logMissing', `point ${seq} is not in the write-ahead log`);
  }

  /** Reads a record's payload back from disk into memory. */
  private load(seg: Segment, r: Rec): Mem {
    if (!this.dir || !r.onDisk) throw this.missing(r.first);
    seg.readFd ??= openSync(seg.file, 'r');
    const b = Buffer.allocUnsafe(r.len);
    let got = 0;
    while (got < r.len) {
      const n = readSync(seg.readFd, b, got, r.len - got, r.offset + got);
      if (n === 0) throw this.missing(r.first);
      got += n;
    }
    const ends = new Uint32Array(r.count);
    let p = -1;
    for (let k = 0; k < r.count; k++) {
      const nl = b.indexOf(10, p + 1);
      p = nl < 0 ? b.length : nl;
      ends[k] = p;
    }
    const mem = { buf: b, ends };
    this.keep(r, mem);
    return mem;
  }

  /** Keeps a record's payload in memory; the oldest kept ones are dropped past `cacheBytes` (read from disk again). */
  private keep(r: Rec, mem: Mem): void {
    r.mem = mem;
    this.memRecs.push(r);
    this.memBytes += mem.buf.length;
    if (!this.dir) return;
    const max = this.options.cacheBytes ?? 64 << 20;
    while (this.memBytes > max && this.memHead < this.memRecs.length - 1) {
      const old = this.memRecs[this.memHead];
      if (!old.onDisk) break;
      this.forget();
    }
  }

  /** Drops the oldest record kept in memory. */
  private forget(): void {
    const old = this.memRecs[this.memHead++];
    if (old.mem) this.memBytes -= old.mem.buf.length;
    old.mem = undefined;
    if (this.memHead > 1024 && this.memHead * 2 > this.memRecs.length) {
      this.memRecs = this.memRecs.slice(this.memHead);
      this.memHead = 0;
    }
  }

  /** Drops the payloads of the oldest kept records once all their points are confirmed. */
  private forgetConfirmed(): void {
    while (this.memHead < this.memRecs.length) {
      const r = this.memRecs[this.memHead];
      if (r.mem && !this.confirmed.covers(r.first, r.first + r.count)) break;
      this.forget();
    }
  }

  // ---- confirming ----

  /** Points `[from, to)` need no more sending (written, or given up and counted by the caller). */
  ack(from: number, to: number): void {
    if (!(to > from)) return;
    this.confirmed.add(from, to);
    this.forgetConfirmed();
    if (this.ackFd !== undefined) {
      writeSync(this.ackFd, ackRecord(from, to));
      this.ackRecords++;
    }
    this.sweep();
  }

  private covered(seg: Segment): boolean {
    for (const r of seg.recs) if (!this.confirmed.covers(r.first, r.first + r.count)) return false;
    return true;
  }

  /** Deletes the closed segments whose points are all confirmed; keeps the acks file small. */
  private sweep(): void {
    let changed = false;
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i];
      if (seg === this.active || !this.covered(seg)) continue;
      this.removeSegment(seg);
      this.segments.splice(i--, 1);
      changed = true;
    }
    if (changed) this.compactAcks();
  }

  private removeSegment(seg: Segment): void {
    for (const r of seg.recs) {
      if (r.mem) this.memBytes -= r.mem.buf.length;
      r.mem = undefined;
    }
    if (seg.readFd !== undefined) closeSync(seg.readFd);
    seg.readFd = undefined;
    if (seg.file) rmSync(seg.file, { force: true });
    this._bytes -= seg.bytes;
  }

  private compactAcks(): void {
    const oldest = this.segments.length ? this.segments[0].first : this.groupFirst;
    this.confirmed.dropBefore(oldest);
    if (!this.dir || this.ackFd === undefined || this.ackRecords < 2 * this.confirmed.length + 256) return;
    const file = join(this.dir, ACKS);
    const parts: Buffer[] = [];
    for (let i = 0; i < this.confirmed.length; i++)
      parts.push(ackRecord(this.confirmed.from[i], this.confirmed.to[i]));
    closeSync(this.ackFd);
    writeFileAtomic(file, Buffer.concat(parts));
    this.ackFd = openSync(file, 'a');
    this.ackRecords = parts.length;
  }

  // ---- closing ----

  /** Writes what is collected now (no waiting for the group time). */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.writing && this.groupCount) this.commit();
    if (!this.writing && this.groupCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Writes the last group and closes the files; a last segment whose points are all confirmed is
   * deleted. The log cannot be appended to afterwards.
   */
  close(): Promise<void> {
    this.closing ??= this.flush().then(() => {
      this.closed = true;
      if (this.writeFd !== undefined) closeSync(this.writeFd);
      this.writeFd = undefined;
      this.active = undefined;
      this.sweep();
      for (const seg of this.segments) {
        if (seg.readFd !== undefined) closeSync(seg.readFd);
        seg.readFd = undefined;
      }
      if (this.ackFd !== undefined) closeSync(this.ackFd);
      this.ackFd = undefined;
    });
    return this.closing;
  }
}
