/**
 * Shadow and feedback metrics per model version. Each scored row is remembered under a key (a message id or
 * timestamp) with every version's decision; operator feedback on a key (a confirmed fault or a false alarm)
 * then counts, for every version that scored it, a true positive / false negative (fault) or a false positive
 * / true negative (false alarm). Agreement is counted for each non-champion version against the champion.
 *
 *   precision       = TP / (TP + FP)
 *   recall          = TP / (TP + FN)
 *   falseAlarmRate  = FP / rows scored (false alarms per scored row: operators usually label alarms only)
 *   alarmRate       = alarms / rows scored
 *   agreement       = rows where the version agreed with the champion / rows both scored
 *
 * No Node-RED import.
 */
import { TaktError } from '../core/errors';

export type Label = 'fault' | 'falseAlarm';

export interface Decision {
  version: number;
  score: number;
  isAnomaly: boolean;
}

export interface VersionCounts {
  version: number;
  rows: number;
  alarms: number;
  compared: number;
  agreements: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface VersionMetrics extends VersionCounts {
  alarmRate: number;
  agreement: number | null;
  precision: number | null;
  recall: number | null;
  falseAlarmRate: number;
}

interface Entry {
  decisions: Decision[];
  label?: Label;
  row?: number[];
}

export interface ShadowSnapshot {
  counts: VersionCounts[];
}

/** Turns the words an operator or a dashboard may send into a label. */
export function toLabel(v: unknown): Label {
  const s =
    typeof v === 'string'
      ? v
          .trim()
          .toLowerCase()
          .replace(/[\s_-]/g, '')
      : '';
  if (['fault', 'confirmed', 'confirmedfault', 'true', 'tp'].includes(s)) return 'fault';
  if (['falsealarm', 'false', 'normal', 'fp', 'nofault'].includes(s)) return 'falseAlarm';
  throw new TaktError(
    'models.badLabel',
    `label: ${JSON.stringify(v)} is not "fault" (confirmed fault) or "falseAlarm"`,
    'label',
  );
}

export class ShadowBook {
  private readonly counts = new Map<number, VersionCounts>();
  private readonly entries = new Map<string, Entry>();
  private readonly keep: number;

  /** `keep`: how many recent keys are remembered for feedback. */
  constructor(keep = 10000) {
    this.keep = keep;
  }

  private c(version: number): VersionCounts {
    let c = this.counts.get(version);
    if (!c) {
      c = { version, rows: 0, alarms: 0, compared: 0, agreements: 0, tp: 0, fp: 0, fn: 0, tn: 0 };
      this.counts.set(version, c);
    }
    return c;
  }

  /** Records the decisions on one row; the champion's comes first. */
  record(key: string, decisions: Decision[], row?: number[]): void {
    if (decisions.length === 0) return;
    const champ = decisions[0];
    for (const d of decisions) {
      const c = this.c(d.version);
      c.rows++;
      if (d.isAnomaly) c.alarms++;
      if (d !== champ) {
        c.compared++;
        if (d.isAnomaly === champ.isAnomaly) c.agreements++;
      }
    }
    this.entries.delete(key);
    const e: Entry = { decisions };
    if (row) e.row = row;
    this.entries.set(key, e);
    while (this.entries.size > this.keep) {
      const first = this.entries.keys().next().value as string;
      this.entries.delete(first);
    }
  }

  private apply(e: Entry, label: Label, sign: 1 | -1): void {
    for (const d of e.decisions) {
      const c = this.c(d.version);
      if (label === 'fault') {
        if (d.isAnomaly) c.tp += sign;
        else c.fn += sign;
      } else if (d.isAnomaly) c.fp += sign;
      else c.tn += sign;
    }
  }

  /**
   * Applies feedback to a remembered key; a second label for the same key replaces the first.
   * Returns the decisions and the row that was scored.
   */
  feedback(key: string, label: Label): { decisions: Decision[]; row?: number[]; previous?: Label } {
    const e = this.entries.get(key);
    if (!e)
      throw new TaktError(
        'models.unknownKey',
        `key: no scored row "${key}" among the last ${this.keep} (feedback needs the key of a scored message)`,
        'key',
      );
    const previous = e.label;
    if (previous) this.apply(e, previous, -1);
    this.apply(e, label, 1);
    e.label = label;
    const out: { decisions: Decision[]; row?: number[]; previous?: Label } = { decisions: e.decisions };
    if (e.row) out.row = e.row;
    if (previous) out.previous = previous;
    return out;
  }

  metrics(): VersionMetrics[] {
    return [...this.counts.values()]
      .sort((a, b) => a.version - b.version)
      .map((c) => ({
        ...c,
        alarmRate: c.rows ? c.alarms / c.rows : 0,
        agreement: c.compared ? c.agreements / c.compared : null,
        precision: c.tp + c.fp ? c.tp / (c.tp + c.fp) : null,
        recall: c.tp + c.fn ? c.tp / (c.tp + c.fn) : null,
        falseAlarmRate: c.rows ? c.fp / c.rows : 0,
      }));
  }

  snapshot(): ShadowSnapshot {
    return { counts: [...this.counts.values()].map((c) => ({ ...c })) };
  }

  restore(s: ShadowSnapshot | undefined): void {
    this.counts.clear();
    for (const c of s?.counts ?? []) this.counts.set(c.version, { ...c });
  }

  reset(): void {
    this.counts.clear();
    this.entries.clear();
  }
}
