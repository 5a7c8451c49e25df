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

  constructor(registry: ModelRegistry) {
    this.registry = registry;
  }

  get current(): Served | undefined {
    return this.served;
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
          else this.cache.set(key, Promise.resolve(old.model));
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
    let p = this.cache.get(key);
    if (!p) {
      p = this.registry.load(version).then((r) => r.model);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
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
