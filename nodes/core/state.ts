/**
 * Persistent state for nodes whose state must survive a restart (SPC phase-I limits, queues, model
 * versions): JSON files under the runtime's userDir, written atomically (temp file, fsync, rename), so a
 * crash mid-write leaves the previous version intact.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { TaktError } from './errors';

/** Writes `data` to `file` atomically, creating folders as needed. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** A JSON document on disk: `load()` returns undefined when there is none yet. */
export class JsonStore<T> {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  load(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TaktError('state.corrupt', `${this.file} is not valid JSON`, this.file);
    }
  }

  save(value: T): void {
    writeFileAtomic(this.file, JSON.stringify(value));
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}

/**
 * The file for one node's state: `<userDir>/takt/<kind>/<nodeId>.json`. Node ids contain only
 * hex digits and dots in Node-RED; anything else is replaced so the name stays a plain file name.
 */
export function nodeStateFile(userDir: string, kind: string, nodeId: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(userDir, 'takt', safe(kind), `${safe(nodeId)}.json`);
}
