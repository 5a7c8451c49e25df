/** Shared types of the data-preparation engines (align, window, clean). No Node-RED import. */
import type { Quality } from '../core/sample';

export type FeatureQuality = Quality | 'missing';

/**
 * One feature row: the value and quality of every feature at one time step, plus the same values as an
 * array in a fixed feature order (`names`) for models. A value is `null` when its quality is `missing`
 * or `bad`.
 */
export interface FeatureRow {
  ts: number;
  features: Record<string, number | null>;
  quality: Record<string, FeatureQuality>;
  /** Feature order of `vector`; the same array object until the feature list changes. */
  names: readonly string[];
  vector: (number | null)[];
}

/** Something an engine counted instead of failing on: reported on status and the diagnostics output. */
export interface PrepIssue {
  code: string;
  message: string;
  topic?: string;
  feature?: string;
  ts?: number;
}

/** A bounded list of issues: the first `max` since the last `take()` are kept, all are counted. */
export class IssueLog {
  private list: PrepIssue[] = [];
  dropped = 0;
  constructor(private readonly max = 100) {}

  add(issue: PrepIssue): void {
    if (this.list.length < this.max) this.list.push(issue);
    else this.dropped++;
  }

  take(): PrepIssue[] {
    const out = this.list;
    this.list = [];
    this.dropped = 0;
    return out;
  }

  get full(): boolean {
    return this.list.length >= this.max;
  }

  get size(): number {
    return this.list.length;
  }
}

export function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** True for an object shaped like a feature row (ts number, features object). */
export function isFeatureRow(p: unknown): p is FeatureRow {
  const r = p as FeatureRow;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.ts === 'number' &&
    typeof r.features === 'object' &&
    r.features !== null
  );
}
