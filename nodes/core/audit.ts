/**
 * An append-only audit log with a hash chain: each line is one JSON record whose `hash` is the SHA-256 of
 * the previous record's hash and this record's content, so editing, removing or reordering any earlier
 * line breaks the chain at that line. `verifyAuditLog` checks a whole file.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TaktError } from './errors';
import { sha256 } from './hash';

export const GENESIS = '0'.repeat(64);

export interface AuditRecord<E = unknown> {
  seq: number;
  /** Epoch ms. */
  ts: number;
  entry: E;
  prevHash: string;
  hash: string;
}

/** Canonical JSON (sorted keys at every level) so a record hashes the same whatever its key order. */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

export function recordHash(prevHash: string, seq: number, ts: number, entry: unknown): string {
  return sha256(`${prevHash}\n${canonical({ seq, ts, entry })}`);
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** 1-based line of the first broken record. */
  brokenAt?: number;
  reason?: string;
  lastHash: string;
}

/** Checks every record of an audit log: parse, sequence, link to the previous hash, own hash. */
export function verifyAuditText(text: string): VerifyResult {
  let prev = GENESIS;
  let n = 0;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    const fail = (reason: string): VerifyResult => ({
      ok: false,
      records: n,
      brokenAt: i + 1,
      reason,
      lastHash: prev,
    });
    let r: AuditRecord;
    try {
      r = JSON.parse(line) as AuditRecord;
    } catch {
      return fail('not JSON');
    }
    if (r.seq !== n + 1) return fail(`sequence ${r.seq} where ${n + 1} was expected`);
    if (r.prevHash !== prev) return fail('does not link to the previous record');
    if (recordHash(r.prevHash, r.seq, r.ts, r.entry) !== r.hash)
      return fail('content does not match its hash');
    prev = r.hash;
    n++;
  }
  return { ok: true, records: n, lastHash: prev };
}

export function verifyAuditLog(file: string): VerifyResult {
  return verifyAuditText(existsSync(file) ? readFileSync(file, 'utf8') : '');
}

/** Appends records to a file, each flushed to disk before `append` returns. */
export class AuditLog<E = unknown> {
  readonly file: string;
  private seq: number;
  private lastHash: string;

  /** Opens (or creates) a log; refuses one whose chain is already broken. */
  constructor(file: string) {
    this.file = file;
    const v = verifyAuditLog(file);
    if (!v.ok) {
      throw new TaktError(
        'audit.broken',
        `audit log ${file} is broken at line ${v.brokenAt}: ${v.reason}`,
        'file',
      );
    }
    this.seq = v.records;
    this.lastHash = v.lastHash;
  }

  append(entry: E, ts = Date.now()): AuditRecord<E> {
    const seq = this.seq + 1;
    const hash = recordHash(this.lastHash, seq, ts, entry);
    const record: AuditRecord<E> = { seq, ts, entry, prevHash: this.lastHash, hash };
    mkdirSync(dirname(this.file), { recursive: true });
    const fd = openSync(this.file, 'a');
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.seq = seq;
    this.lastHash = hash;
    return record;
  }
}
