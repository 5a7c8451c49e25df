/**
 * Serves a registry's champion: loads and verifies the version `champion.json` points at, hot-swaps when the
 * pointer changes (a change made in this process at once, one made by another process or by hand within
 * `pollMs`), and tells subscribers. A version that fails verification is reported and the one being served
 * stays. Challenger versions for shadow scoring are opened (verified) on demand and cached. No Node-RED import.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { errorMessage } from '../core/errors';
import type { ModelRegistry } from './registry';
import type { VersionCard } from './types';
import type { ServedModel } from './verify';

export interface Served {
  version: number;
  card: VersionCard;
  path: string;
  /** The feature model scored with, or a checked vision version (card.domain 'vision'). */
  model: ServedModel;
}

export type ServerEvent =
  | { type: 'champion'; version: number; previous: number | undefined; card: VersionCard; path: string }
  | { type: 'error'; version: number | undefined; error: Error };

export type ServerListener = (e: ServerEvent) => void;

/**
 * Versions other than the champion kept open (challengers for shadow scoring, former champions for messages
 * still in flight). One more closes the least recently used (counted in `evicted`); opening it again loads it
 * again. Each is an onnxruntime session, so a registry retrained and promoted for months cannot pile them up.
 */
export const MAX_OPEN_VERSIONS = 8;

export class ChampionServer {
  readonly registry: ModelRegistry;
  private served: Served | undefined;
  private readonly listeners = new Set<ServerListener>();
  private readonly cache = new Map<string, Promise<ServedModel>>();
  private tail: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private watcher: ((cur: { mtimeMs: number }, prev: { mtimeMs: number }) => void) | undefined;
  private lastError: Error | undefined;
  private disposed = false;
  private evictions = 0;

  constructor(registry: ModelRegistry) {
    this.registry = registry;
  }

  get current(): Served | undefined {
    return this.served;
  }

  /** Versions kept open besides the champion (at most MAX_OPEN_VERSIONS). */
  get openVersions(): number {
    return this.cache.size;
  }

  /** Versions closed because MAX_OPEN_VERSIONS others were open, since start. */
  get evicted(): number {
    return this.evictions;
  }

  /** Closes the least recently used versions beyond MAX_OPEN_VERSIONS. */
  private trim(): void {
    while (this.cache.size > MAX_OPEN_VERSIONS) {
      const [key, oldest] = this.cache.entries().next().value as [string, Promise<ServedModel>];
      this.cache.delete(key);
      this.evictions++;
      void oldest.then((m) => m.dispose()).catch(() => undefined);
    }
  }

  /** The last load error while nothing newer has loaded. */
  get error(): Error | undefined {
    return this.lastError;
  }

  /** Subscribes; a subscriber that comes after the champion has loaded hears about it at once. */
  on(fn: ServerListener): () => void {
    this.listeners.add(fn);
    const s = this.served;
    if (s) fn({ type: 'champion', version: s.version, previous: undefined, card: s.card, path: s.path });
    else if (this.lastError) fn({ type: 'error', version: undefined, error: this.lastError });
    return () => this.listeners.delete(fn);
  }

  private emit(e: ServerEvent): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(e);
      } catch {
        // a subscriber's failure is its own
      }
    }
  }

  /** Loads the champion and follows the pointer from now on. */
  start(pollMs = 2000): Promise<void> {
    this.unsubscribe = this.registry.onChange(() => void this.refresh());
    if (pollMs > 0) {
      this.watcher = (cur, prev) => {
        if (cur.mtimeMs !== prev.mtimeMs) void this.refresh();
      };
      watchFile(this.registry.pointerFile, { interval: pollMs }, this.watcher);
    }
    return this.refresh();
  }

  /** Reads the pointer and swaps models when it names another version; never rejects. */
  refresh(): Promise<void> {
    const job = this.tail.then(async () => {
      if (this.disposed) return;
      let version: number | undefined;
      try {
        version = this.registry.champion()?.version;
        if (version === undefined || version === this.served?.version) return;
        const { card, model } = await this.registry.load(version);
        if (this.disposed) {
          await model.dispose();
          return;
        }
        const old = this.served;
        this.served = { version, card, path: this.registry.path(version), model };
        this.lastError = undefined;
        this.emit({
          type: 'champion',
          version,
          previous: old?.version,
          card,
          path: this.registry.path(version),
        });
        // The old champion stays open for shadow scoring and for messages still in flight.
        if (old) {
          const key = `${old.version}:${old.card.sha256}`;
          if (this.cache.has(key)) await old.model.dispose();
          else {
            this.cache.set(key, Promise.resolve(old.model));
            this.trim();
          }
        }
      } catch (err) {
        const e = err instanceof Error ? err : new Error(errorMessage(err));
        this.lastError = e;
        this.emit({ type: 'error', version, error: e });
      }
    });
    this.tail = job;
    return job;
  }

  /** A verified model of any version (the champion's own instance for the champion), cached. */
  open(version: number): Promise<ServedModel> {
    const s = this.served;
    if (s && s.version === version) return Promise.resolve(s.model);
    let card: VersionCard;
    try {
      card = this.registry.card(version);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const key = `${version}:${card.sha256}`;
    const p = this.cache.get(key);
    if (p) {
      // most recently used last: the first entry is the one trim closes
      this.cache.delete(key);
      this.cache.set(key, p);
      return p;
    }
    const loading = this.registry.load(version).then((r) => r.model);
    this.cache.set(key, loading);
    loading.catch(() => {
      if (this.cache.get(key) === loading) this.cache.delete(key);
    });
    this.trim();
    return loading;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.unsubscribe?.();
    if (this.watcher) unwatchFile(this.registry.pointerFile, this.watcher);
    this.watcher = undefined;
    this.listeners.clear();
    await this.tail;
    const models = await Promise.allSettled([...this.cache.values()]);
    this.cache.clear();
    for (const m of models) if (m.status === 'fulfilled') await m.value.dispose();
    await this.served?.model.dispose();
    this.served = undefined;
  }
}
