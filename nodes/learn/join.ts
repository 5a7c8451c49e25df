/**
 * Joining feature rows with labels that arrive later (takt-predict-train's engine; no Node-RED): a measured
 * diameter or a good/scrap verdict comes from the end of the line long after the part's process row. Rows
 * wait in a bounded buffer until their label comes, joined by part id or by time:
 *
 * - by id: a label joins the waiting row with the same part id;
 * - by time: a label measured at `ts` joins the waiting row made at `ts − delayMs`, within ± `windowMs`. When
 *   several waiting rows lie inside the window, the window is too wide for the line's rhythm and the label may
 *   be joined to the wrong part: the nearest row is taken and the label is counted (and reported) ambiguous.
 *
 * Nothing is dropped silently: a row whose label does not come within `maxWaitMs` (on the data's own clock,
 * the newest timestamp seen) expires, and so does the oldest row when the buffer is full; both are counted
 * where they happen. A label that finds no row is counted unmatched. Rows with a feature that is not a finite
 * number, and labels that are not numbers or booleans, are refused (learn.badFeatures, learn.badLabel).
 */
import { TaktError } from '../core/errors';

export type JoinBy = 'id' | 'time';

export interface LabelJoinOptions {
  by: JoinBy;
  /** By time: how far (ms, ±) a row may lie from the label's time minus the delay. */
  windowMs?: number;
  /** By time: how long after its row a part's label is measured (ms, default 0). */
  delayMs?: number;
  /** How long a row waits for its label (ms, on the data clock) before it expires. */
  maxWaitMs: number;
  /** Rows held at most; when full, the oldest expires to make room. */
  maxRows: number;
}

export interface JoinStats {
  /** Rows waiting for their label now. */
  waiting: number;
  /** Rows joined with a label. */
  joined: number;
  /** Rows whose label never came (waited too long, or pushed out of a full buffer). */
  expired: number;
  /** Labels that found no waiting row. */
  unmatched: number;
  /** Labels joined by time while more than one row lay in the window. */
  ambiguous: number;
}

export interface JoinedRow {
  x: number[];
  y: number;
  ts: number;
  id?: string;
}

export interface LabelOutcome {
  /** The row and its label, when a row was found. */
  joined?: JoinedRow;
  /** Waiting rows the label could belong to (by time: inside the window; by id: 0 or 1). */
  candidates: number;
}

interface Pending {
  x: number[];
  ts: number;
  id?: string;
}

const bad = (field: string, what: string): never => {
  throw new TaktError('learn.badJoin', `${field}: ${what}`, field);
};

/** A part id as text: a non-empty string or a finite number; undefined when missing. */
export function partId(v: unknown, field = 'partId'): string | undefined {
  if (v === undefined || v === null) return undefined;
  if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v))) return String(v);
  throw new TaktError('learn.badPartId', `${field}: ${JSON.stringify(v)} is not a part id`, field);
}

/** A label as a number: a finite number, or a boolean verdict (true = 1). */
export function labelValue(v: unknown, field = 'label'): number {
  const n = typeof v === 'boolean' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new TaktError('learn.badLabel', `${field}: ${String(v)} is not a number or a boolean`, field);
  return n;
}

export class LabelJoin {
  readonly options: Readonly<Required<LabelJoinOptions>>;
  private rows: Pending[] = [];
  private readonly byId = new Map<string, Pending>();
  private clock = -Infinity;
  private readonly counts = { joined: 0, expired: 0, unmatched: 0, ambiguous: 0 };

  constructor(o: LabelJoinOptions) {
    if (o.by !== 'id' && o.by !== 'time') bad('by', 'must be "id" or "time"');
    const windowMs = o.windowMs ?? 0;
    const delayMs = o.delayMs ?? 0;
    if (o.by === 'time' && !(Number.isFinite(windowMs) && windowMs > 0))
      bad('windowMs', 'must be a number > 0 to join by time');
    if (!Number.isFinite(delayMs)) bad('delayMs', 'must be a finite number');
    if (!(o.maxWaitMs > 0)) bad('maxWaitMs', 'must be a number > 0');
    if (!(Number.isInteger(o.maxRows) && o.maxRows >= 1)) bad('maxRows', 'must be an integer >= 1');
    this.options = { by: o.by, windowMs, delayMs, maxWaitMs: o.maxWaitMs, maxRows: o.maxRows };
  }

  get stats(): JoinStats {
    return { waiting: this.rows.length, ...this.counts };
  }

  /**
   * A row waiting for its label: features as finite numbers, its time (epoch ms) and, to join by id, its part
   * id. Returns how many rows expired (this one included when it is already too old to wait).
   */
  addRow(row: { x: readonly unknown[]; ts: number; id?: unknown }): number {
    const badX = row.x.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (badX >= 0)
      throw new TaktError(
        'learn.badFeatures',
        `feature ${badX}: ${String(row.x[badX])} is not a number; rows need numeric features`,
        'features',
      );
    if (!Number.isFinite(row.ts)) throw new TaktError('learn.badTime', 'ts: the row has no time', 'ts');
    const id = partId(row.id);
    if (this.options.by === 'id') {
      if (id === undefined)
        throw new TaktError('learn.noPartId', 'partId: joining by part id needs one on every row', 'partId');
      if (this.byId.has(id))
        throw new TaktError(
          'learn.duplicatePart',
          `partId: part "${id}" is already waiting for its label`,
          id,
        );
    }
    const p: Pending = { x: row.x as number[], ts: row.ts, ...(id !== undefined ? { id } : {}) };
    // Kept in time order (rows usually come in order; a late one is put in place).
    let k = this.rows.length;
    while (k > 0 && this.rows[k - 1].ts > p.ts) k--;
    this.rows.splice(k, 0, p);
    if (id !== undefined && this.options.by === 'id') this.byId.set(id, p);
    let expired = this.advance(row.ts);
    while (this.rows.length > this.options.maxRows) {
      this.remove(0);
      this.counts.expired++;
      expired++;
    }
    return expired;
  }

  /**
   * A label: its value (number or boolean), and its part id (by id) or the time it was measured (by time).
   * Returns the joined row, if any, and how many waiting rows it could have belonged to.
   */
  addLabel(label: { value: unknown; ts?: number; id?: unknown }): LabelOutcome {
    const y = labelValue(label.value);
    let at = -1;
    let candidates = 0;
    if (this.options.by === 'id') {
      const id = partId(label.id);
      if (id === undefined)
        throw new TaktError(
          'learn.noPartId',
          'partId: joining by part id needs one on every label',
          'partId',
        );
      const p = this.byId.get(id);
      if (p) {
        at = this.rows.indexOf(p);
        candidates = 1;
      }
    } else {
      const ts = label.ts;
      if (ts === undefined || !Number.isFinite(ts))
        throw new TaktError('learn.badTime', 'ts: joining by time needs the label time', 'ts');
      const { windowMs, delayMs } = this.options;
      const made = ts - delayMs;
      let best = Infinity;
      this.rows.forEach((r, i) => {
        const d = Math.abs(r.ts - made);
        if (d > windowMs) return;
        candidates++;
        if (d < best) {
          best = d;
          at = i;
        }
      });
      if (candidates > 1) this.counts.ambiguous++;
    }
    const p = at >= 0 ? this.remove(at) : undefined;
    if (p) this.counts.joined++;
    else this.counts.unmatched++;
    // The label's time moves the data clock only after its own row is taken out.
    if (label.ts !== undefined && Number.isFinite(label.ts)) this.advance(label.ts);
    if (!p) return { candidates };
    return { joined: { x: p.x, y, ts: p.ts, ...(p.id !== undefined ? { id: p.id } : {}) }, candidates };
  }

  /** Moves the data clock to `now` (epoch ms) if later; rows older than maxWaitMs expire. Returns how many. */
  advance(now: number): number {
    if (now > this.clock) this.clock = now;
    let n = 0;
    while (this.rows.length > 0 && this.rows[0].ts < this.clock - this.options.maxWaitMs) {
      this.remove(0);
      n++;
    }
    this.counts.expired += n;
    return n;
  }

  /** Drops every waiting row (not counted as expired: the caller asked). Returns how many. */
  clear(): number {
    const n = this.rows.length;
    this.rows = [];
    this.byId.clear();
    return n;
  }

  private remove(i: number): Pending {
    const [p] = this.rows.splice(i, 1);
    if (p.id !== undefined && this.byId.get(p.id) === p) this.byId.delete(p.id);
    return p;
  }
}
