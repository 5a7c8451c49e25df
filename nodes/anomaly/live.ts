/**
 * A live anomaly scorer for one model file: loads it once, scores messages in arrival order (several rows of one
 * message in one batch), tracks the health index and remaining useful life, and reloads the file when it
 * changes. A failed load leaves the last good model in place. No Node-RED import.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { TaktError } from '../core/errors';
import { HealthTracker, type HealthState } from './health';
import { META } from './models';
import { type FeatureRow, OnnxAnomalyModel, type ScoreResult, type ScorerOptions } from './scorer';

export interface LiveOptions extends ScorerOptions {
  /** Health index moving mean (rows); default from the model's metadata, else 1. */
  smoothing?: number;
  /** Points of the degradation fit behind the RUL estimate. */
  rulWindow?: number;
  /** Health index taken as failure, for healthPercent and the failure prediction (HealthOptions.failureIndex). */
  failureIndex?: number;
}

export type LiveResult = ScoreResult & Omit<HealthState, 'alarm'> & { alarm: boolean; model: string };

export class LiveAnomaly {
  readonly options: LiveOptions;
  path: string;
  private model: OnnxAnomalyModel | undefined;
  private health: HealthTracker | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private watching: string | undefined;

  constructor(path: string, options: LiveOptions = {}) {
    this.path = path;
    this.options = options;
  }

  get loaded(): OnnxAnomalyModel | undefined {
    return this.model;
  }

  /** Loads (or reloads) a model file; on failure the previous model stays and the error is thrown. */
  load(path = this.path): Promise<OnnxAnomalyModel> {
    const job = this.tail.then(async () => {
      const m = await OnnxAnomalyModel.load(path, this.options);
      const meta = m.metadata;
      const smoothing = this.options.smoothing ?? (Number(meta[META.smoothing]) || 1);
      const st = Number(meta[META.smoothedThreshold]);
      const smoothedThreshold = this.options.threshold ?? (st > 0 ? st : m.threshold);
      const health = new HealthTracker({
        smoothing,
        smoothedThreshold: smoothedThreshold > 0 ? smoothedThreshold : 1e-12,
        window: this.options.rulWindow,
        failureIndex: this.options.failureIndex,
      });
      const old = this.model;
      this.model = m;
      this.health = health;
      const moved = path !== this.path;
      this.path = path;
      if (moved && this.watching) this.watch(this.onChange);
      await old?.dispose();
      return m;
    });
    this.tail = job.catch(() => undefined);
    return job;
  }

  /** Scores one payload (a row, a record, or an array of them) at time `ts`, in call order. */
  score(payload: unknown, ts: number): Promise<LiveResult | LiveResult[]> {
    const job = this.tail.then(async () => {
      const m = this.model;
      const h = this.health;
      if (!m || !h) throw new TaktError('anomaly.noModel', `model: no model loaded (${this.path})`, 'model');
      const batch = Array.isArray(payload) && payload.length > 0 && typeof payload[0] === 'object';
      const rows = (batch ? payload : [payload]) as FeatureRow[];
      const res = await m.score(rows);
      const out = res.map((r) => {
        const s = h.push(r.score, ts);
        return { ...r, ...s, alarm: s.alarm, model: m.path };
      });
      return batch ? out : out[0];
    });
    this.tail = job.catch(() => undefined);
    return job;
  }

  resetHealth(): void {
    this.health?.reset();
  }

  private onChange: (err?: Error) => void = () => undefined;

  /** Reloads when the file changes (polling every `intervalMs`); `onReload` gets the outcome. */
  watch(onReload: (err?: Error) => void, intervalMs = 2000): void {
    this.unwatch();
    this.onChange = onReload;
    const path = this.path;
    this.watching = path;
    watchFile(path, { interval: intervalMs }, (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs || cur.size === 0) return;
      this.load(path).then(
        () => onReload(),
        (err: unknown) => onReload(err as Error),
      );
    });
  }

  unwatch(): void {
    if (this.watching) unwatchFile(this.watching);
    this.watching = undefined;
  }

  async dispose(): Promise<void> {
    this.unwatch();
    await this.tail;
    await this.model?.dispose();
    this.model = undefined;
  }
}
