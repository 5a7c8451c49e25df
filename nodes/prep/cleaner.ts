/**
 * Cleaner: per-feature cleaning of feature rows, in this order for each value:
 *   unit conversion (js-quantities) → physical range → rate-of-change limit → Hampel filter (median and
 *   MAD of a centred window of 2k + 1 values, k = `hampelWindow`, so rows wait k rows) → deadband →
 *   missing-value policy → scaling.
 * An outlier becomes a missing value and is filled by the feature's missing-value policy:
 *   none (leave null), drop (drop the row), hold (last good value), linear (interpolate between the
 *   last good value and the next one; rows wait up to `maxGapRows`), mean (training mean).
 * Scaling (min-max or z-score) uses parameters fitted on the first `fitRows` rows (rows pass unscaled
 * until then) or given; the parameters are a plain JSON object to save alongside the model.
 * Every change is counted, in total and per feature, and named in the row's `changes`.
 */
import Qty from 'js-quantities';
import { TaktError } from '../core/errors';
import { type FeatureQuality, type FeatureRow, IssueLog, isFiniteNumber, type PrepIssue } from './types';

export type MissingPolicy = 'none' | 'drop' | 'hold' | 'linear' | 'mean';
export const MISSING_POLICIES: readonly MissingPolicy[] = ['none', 'drop', 'hold', 'linear', 'mean'];
export type ScalingMethod = 'none' | 'minmax' | 'zscore';
export const SCALINGS: readonly ScalingMethod[] = ['none', 'minmax', 'zscore'];

export type ChangeKind =
  | 'converted'
  | 'range'
  | 'rate'
  | 'hampel'
  | 'deadband'
  | 'notNumeric'
  | 'hold'
  | 'linear'
  | 'mean'
  | 'unfilled';

export interface CleanFeatureSpec {
  name: string;
  missing?: MissingPolicy;
  /** Physical range (e.g. the OPC UA EURange): values outside are outliers. */
  low?: number;
  high?: number;
  /** Largest credible change per second. */
  maxRate?: number;
  /** Hampel half-width k: the window is the k values before, the value and the k after; 0: off. */
  hampelWindow?: number;
  hampelThreshold?: number;
  deadband?: number;
  /** Unit conversion, e.g. { from: 'degC', to: 'degF' }. */
  from?: string;
  to?: string;
}

export interface CleanConfig {
  /** Defaults for every feature, overridden per feature by `features`. */
  missing?: MissingPolicy;
  maxRate?: number;
  hampelWindow?: number;
  hampelThreshold?: number;
  deadband?: number;
  features?: CleanFeatureSpec[];
  /** Linear interpolation: how many rows may wait for the next good value. Default 10. */
  maxGapRows?: number;
  scaling?: ScalingMethod;
  /** Rows used to fit the scaling parameters (and the training means). Default 400. */
  fitRows?: number;
  /** Parameters saved from an earlier fit: used as they are, no fitting. */
  params?: ScalingParams;
}

/** Scaling parameters: scaled = (value - offset) / scale, per feature by name. */
export interface ScalingParams {
  method: ScalingMethod;
  names: string[];
  offset: number[];
  scale: number[];
  mean: number[];
  std: number[];
  min: number[];
  max: number[];
  rows: number;
}

export interface CleanRow extends FeatureRow {
  /** What was changed in this row, by feature. */
  changes: Record<string, ChangeKind>;
  /** True when the values are scaled. */
  scaled: boolean;
}

interface FeatureState {
  spec: Required<Omit<CleanFeatureSpec, 'from' | 'to' | 'low' | 'high' | 'maxRate'>> & {
    low: number;
    high: number;
    maxRate: number;
  };
  convert: ((v: number) => number) | undefined;
  hist: Float64Array;
  histN: number;
  histHead: number;
  lastTs: number;
  lastV: number;
  /** Last value released (after deadband), and the last good one for hold/linear. */
  outV: number;
  goodTs: number;
  goodV: number;
  // Welford statistics while fitting
  n: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  counts: Partial<Record<ChangeKind, number>>;
}

interface Staged {
  ts: number;
  names: readonly string[];
  values: number[];
  quality: FeatureQuality[];
  changes: Record<string, ChangeKind>;
  filtered?: boolean;
}

function num(v: number | undefined, field: string, min: number, dflt: number, integer = false): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
    throw new TaktError(
      'prep.badConfig',
      `${field}: ${v} must be a ${integer ? 'whole ' : ''}number >= ${min}`,
      field,
    );
  return v;
}

function pick<T extends string>(v: string | undefined, all: readonly T[], field: string, dflt: T): T {
  if (v === undefined || v === '') return dflt;
  const f = all.find((x) => x === v);
  if (!f) throw new TaktError('prep.badConfig', `${field}: "${v}" is not one of ${all.join(', ')}`, field);
  return f;
}

/**
 * A reading in degC/degF/degK/degR is an absolute temperature: js-quantities treats "degC" as a
 * temperature difference (10 degC -> 18 degF) and "tempC" as a temperature (10 tempC -> 50 tempF).
 */
function absolute(unit: string): string {
  return /^deg[CFKR]$/.test(unit.trim()) ? `temp${unit.trim().slice(3)}` : unit;
}

/** Median of the first n entries of a (scratch copy is sorted). */
function median(a: Float64Array, n: number, scratch: Float64Array): number {
  for (let i = 0; i < n; i++) scratch[i] = a[i];
  const s = scratch.subarray(0, n).sort();
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export class Cleaner {
  readonly counts: Record<string, number> = { rows: 0, rowsOut: 0, droppedRows: 0, featureChanges: 0 };
  readonly issues = new IssueLog();
  readonly scaling: ScalingMethod;
  readonly fitRows: number;
  private readonly cfg: CleanConfig;
  private readonly maxGapRows: number;
  private readonly specs = new Map<string, CleanFeatureSpec>();
  private readonly state = new Map<string, FeatureState>();
  private names: readonly string[] = [];
  private namesKey = '';
  private queue: Staged[] = [];
  private out: CleanRow[] = [];
  private params: ScalingParams | undefined;
  private paramIndex = new Map<string, number>();
  private fitted = 0;
  private newParams: ScalingParams | undefined;
  private scratch = new Float64Array(16);
  private dev = new Float64Array(16);
  private win = new Float64Array(16);
  private maxHampel = 0;

  constructor(cfg: CleanConfig = {}) {
    this.cfg = cfg;
    pick(cfg.missing, MISSING_POLICIES, 'missing', 'none');
    this.scaling = pick(cfg.scaling, SCALINGS, 'scaling', 'none');
    this.fitRows = num(cfg.fitRows, 'fitRows', 1, 400, true);
    this.maxGapRows = num(cfg.maxGapRows, 'maxGapRows', 0, 10, true);
    (cfg.features ?? []).forEach((f, i) => {
      if (!f || typeof f.name !== 'string' || f.name === '')
        throw new TaktError(
          'prep.badConfig',
          `features[${i}].name: a feature needs a name`,
          `features[${i}].name`,
        );
      this.specs.set(f.name, f);
      this.makeState(f.name, `features[${i}]`); // validates now
    });
    if (cfg.params) this.setParams(cfg.params);
  }

  private makeState(name: string, field = name): FeatureState {
    const c = this.cfg;
    const f = this.specs.get(name) ?? { name };
    const w = num(f.hampelWindow ?? c.hampelWindow, `${field}.hampelWindow`, 0, 0, true);
    let convert: ((v: number) => number) | undefined;
    if (f.from || f.to) {
      try {
        convert = Qty.swiftConverter(absolute(String(f.from)), absolute(String(f.to))) as (
          v: number,
        ) => number;
      } catch (err) {
        throw new TaktError(
          'prep.badUnit',
          `${field}: cannot convert ${f.from} to ${f.to}: ${(err as Error).message}`,
          `${field}.from`,
        );
      }
    }
    const low = f.low ?? -Infinity;
    const high = f.high ?? Infinity;
    if (low > high)
      throw new TaktError('prep.badConfig', `${field}.low: ${low} is above high ${high}`, `${field}.low`);
    if (2 * w + 1 > this.scratch.length) {
      this.scratch = new Float64Array(2 * w + 1);
      this.dev = new Float64Array(2 * w + 1);
      this.win = new Float64Array(2 * w + 1);
    }
    this.maxHampel = Math.max(this.maxHampel, w);
    return {
      spec: {
        name,
        missing: pick(f.missing ?? c.missing, MISSING_POLICIES, `${field}.missing`, 'none'),
        low,
        high,
        maxRate: num(f.maxRate ?? c.maxRate, `${field}.maxRate`, 0, Infinity),
        hampelWindow: w,
        hampelThreshold: num(f.hampelThreshold ?? c.hampelThreshold, `${field}.hampelThreshold`, 0, 3),
        deadband: num(f.deadband ?? c.deadband, `${field}.deadband`, 0, 0),
      },
      convert,
      hist: new Float64Array(w),
      histN: 0,
      histHead: 0,
      lastTs: NaN,
      lastV: NaN,
      outV: NaN,
      goodTs: NaN,
      goodV: NaN,
      n: 0,
      mean: 0,
      m2: 0,
      min: Infinity,
      max: -Infinity,
      counts: {},
    };
  }

  /** Sets the physical range of a feature, e.g. from an OPC UA EURange read later. */
  setRange(name: string, low: number, high: number): void {
    if (!(low <= high)) throw new TaktError('prep.badConfig', `range of ${name}: low must be <= high`, name);
    const st = this.state.get(name);
    this.specs.set(name, { ...(this.specs.get(name) ?? { name }), low, high });
    if (st) {
      st.spec.low = low;
      st.spec.high = high;
    }
  }

  /** Sets several ranges from `{ name: { low, high } }` (e.g. msg.euRange). */
  setRanges(ranges: unknown): void {
    if (typeof ranges !== 'object' || ranges === null || Array.isArray(ranges))
      throw new TaktError('prep.badRange', 'euRange: expected { name: { low, high } }', 'euRange');
    for (const [name, r] of Object.entries(ranges as Record<string, { low?: unknown; high?: unknown }>)) {
      const low = Number(r?.low);
      const high = Number(r?.high);
      if (!Number.isFinite(low) || !Number.isFinite(high))
        throw new TaktError(
          'prep.badRange',
          `euRange.${name}: low and high must be numbers`,
          `euRange.${name}`,
        );
      this.setRange(name, low, high);
    }
  }

  setParams(p: ScalingParams): void {
    const ok =
      p &&
      Array.isArray(p.names) &&
      (['offset', 'scale', 'mean'] as const).every(
        (k) => Array.isArray(p[k]) && p[k].length === p.names.length && p[k].every(isFiniteNumber),
      );
    if (!ok)
      throw new TaktError(
        'prep.badParams',
        'params: names, offset, scale and mean must be arrays of equal length',
        'params',
      );
    this.params = p;
    this.paramIndex = new Map(p.names.map((n, i) => [n, i]));
  }

  getParams(): ScalingParams | undefined {
    return this.params;
  }

  /** Parameters fitted since the last call (once, when fitting completes). */
  takeParams(): ScalingParams | undefined {
    const p = this.newParams;
    this.newParams = undefined;
    return p;
  }

  /** Forgets fitted parameters and fits again on the next `fitRows` rows. */
  refit(): void {
    this.params = undefined;
    this.paramIndex.clear();
    this.fitted = 0;
    for (const st of this.state.values())
      Object.assign(st, { n: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity });
  }

  private count(st: FeatureState | undefined, kind: ChangeKind | string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    if (st) st.counts[kind as ChangeKind] = (st.counts[kind as ChangeKind] ?? 0) + 1;
  }

  /** Changes counted per feature. */
  featureCounts(): Record<string, Partial<Record<ChangeKind, number>>> {
    const out: Record<string, Partial<Record<ChangeKind, number>>> = {};
    for (const [n, st] of this.state) out[n] = { ...st.counts };
    return out;
  }

  private stateOf(name: string): FeatureState {
    let st = this.state.get(name);
    if (!st) {
      st = this.makeState(name);
      this.state.set(name, st);
    }
    return st;
  }

  /** Cleans one row; finished rows are collected for `takeRows()` (linear interpolation may hold some back). */
  push(row: FeatureRow): void {
    this.counts.rows++;
    const names = Array.isArray(row.names) ? row.names : Object.keys(row.features ?? {});
    if (names !== this.names) {
      const key = names.join('\u0000');
      if (key !== this.namesKey) {
        if (this.namesKey !== '') {
          this.count(undefined, 'featureChanges');
          this.issues.add({
            code: 'featuresChanged',
            message: `feature list changed to ${names.length} features`,
            ts: row.ts,
          });
        }
        this.namesKey = key;
      }
      this.names = names;
    }
    const staged: Staged = {
      ts: row.ts,
      names,
      values: new Array<number>(names.length),
      quality: [],
      changes: {},
    };
    for (let j = 0; j < names.length; j++) {
      const name = names[j];
      const st = this.stateOf(name);
      const raw = row.features?.[name];
      let q: FeatureQuality = row.quality?.[name] ?? 'good';
      let v = NaN;
      if (raw === null || raw === undefined || q === 'missing' || q === 'bad') {
        if (q !== 'bad') q = 'missing';
      } else if (typeof raw !== 'number' || !Number.isFinite(raw)) {
        this.mark(staged, st, 'notNumeric');
        this.issues.add({
          code: 'notNumeric',
          message: `${name}: ${String(raw)} is not a finite number`,
          feature: name,
          ts: row.ts,
        });
        q = 'bad';
      } else {
        v = this.filter(staged, st, raw, row.ts);
        if (Number.isNaN(v)) q = 'bad';
      }
      staged.values[j] = v;
      staged.quality[j] = q;
    }
    this.queue.push(staged);
    this.release();
  }

  private mark(s: Staged, st: FeatureState, kind: ChangeKind): void {
    s.changes[st.spec.name] = kind;
    this.count(st, kind);
  }

  /** Unit conversion, range, rate of change: returns NaN for an outlier. */
  private filter(s: Staged, st: FeatureState, raw: number, ts: number): number {
    const sp = st.spec;
    let v = raw;
    if (st.convert) {
      v = st.convert(v);
      this.count(st, 'converted');
    }
    if (v < sp.low || v > sp.high) {
      this.mark(s, st, 'range');
      return NaN;
    }
    if (sp.maxRate !== Infinity && !Number.isNaN(st.lastV) && ts > st.lastTs) {
      if (Math.abs(v - st.lastV) / ((ts - st.lastTs) / 1000) > sp.maxRate) {
        this.mark(s, st, 'rate');
        return NaN;
      }
    }
    st.lastTs = ts;
    st.lastV = v;
    return v;
  }

  /**
   * Hampel filter and deadband for the row at the head of the queue, once. The Hampel window is centred:
   * the `k` values before (kept per feature, raw) and the `k` rows after (waiting in the queue). Only a
   * full window (2k + 1 good values) is judged, so the first and last k values of a stream pass as they are.
   */
  private filterHead(s: Staged): void {
    s.filtered = true;
    for (let j = 0; j < s.names.length; j++) {
      const st = this.stateOf(s.names[j]);
      const sp = st.spec;
      const v = s.values[j];
      const k = sp.hampelWindow;
      if (k > 0) {
        const win = this.win;
        let n = 0;
        for (let i = 0; i < st.histN; i++) if (!Number.isNaN(st.hist[i])) win[n++] = st.hist[i];
        for (let i = 1; i <= k && i < this.queue.length; i++) {
          const r = this.queue[i];
          const x = r.names[j] === sp.name ? r.values[j] : r.values[r.names.indexOf(sp.name)];
          if (x !== undefined && !Number.isNaN(x)) win[n++] = x;
        }
        if (!Number.isNaN(v)) win[n++] = v;
        // raw values go into the history, so a real level shift is accepted once it is half a window old
        st.hist[st.histHead] = v;
        st.histHead = (st.histHead + 1) % k;
        if (st.histN < k) st.histN++;
        if (!Number.isNaN(v) && n === 2 * k + 1) {
          const med = median(win, n, this.scratch);
          for (let i = 0; i < n; i++) this.dev[i] = Math.abs(win[i] - med);
          const mad = median(this.dev, n, this.scratch);
          if (Math.abs(v - med) > sp.hampelThreshold * 1.4826 * mad) {
            this.mark(s, st, 'hampel');
            s.values[j] = NaN;
            s.quality[j] = 'bad';
            continue;
          }
        }
      }
      if (Number.isNaN(v)) continue;
      if (sp.deadband > 0 && !Number.isNaN(st.outV) && Math.abs(v - st.outV) < sp.deadband) {
        this.mark(s, st, 'deadband');
        s.values[j] = st.outV;
      } else st.outV = v;
    }
  }

  /** Releases queued rows whose Hampel window is complete and whose gaps can be filled (or waited enough). */
  private release(flushing = false): void {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (!head.filtered) {
        if (!flushing && this.queue.length <= this.maxHampel) return;
        this.filterHead(head);
      }
      let wait = false;
      const nexts: (number | undefined)[] = [];
      for (let j = 0; j < head.names.length; j++) {
        if (!Number.isNaN(head.values[j])) continue;
        const st = this.stateOf(head.names[j]);
        if (st.spec.missing !== 'linear' || Number.isNaN(st.goodV)) continue;
        const k = this.queue.findIndex((r) => r.names[j] === head.names[j] && !Number.isNaN(r.values[j]));
        if (k > 0) nexts[j] = k;
        else if (!flushing && this.queue.length <= this.maxGapRows) wait = true;
      }
      if (wait) return;
      this.queue.shift();
      this.finish(head, nexts);
    }
  }

  private finish(s: Staged, nexts: (number | undefined)[]): void {
    const n = s.names.length;
    const features: Record<string, number | null> = {};
    const quality: Record<string, FeatureQuality> = {};
    const vector = new Array<number | null>(n);
    const fitting = this.scaling !== 'none' && !this.params;
    let drop = false;
    for (let j = 0; j < n; j++) {
      const name = s.names[j];
      const st = this.stateOf(name);
      let v = s.values[j];
      let q = s.quality[j];
      if (!Number.isNaN(v)) {
        st.goodTs = s.ts;
        st.goodV = v;
        if (fitting) {
          st.n++;
          const d = v - st.mean;
          st.mean += d / st.n;
          st.m2 += d * (v - st.mean);
          if (v < st.min) st.min = v;
          if (v > st.max) st.max = v;
        }
      } else {
        const policy = st.spec.missing;
        if (policy === 'drop') drop = true;
        else if (policy === 'hold' && !Number.isNaN(st.goodV)) v = st.goodV;
        else if (policy === 'mean') v = this.trainingMean(st);
        else if (policy === 'linear' && nexts[j] !== undefined) {
          const next = this.queue[(nexts[j] as number) - 1];
          const t1 = next.ts;
          const v1 = next.values[j];
          v = st.goodV + ((v1 - st.goodV) * (s.ts - st.goodTs)) / (t1 - st.goodTs);
        }
        if (!Number.isNaN(v)) {
          this.mark(s, st, policy as ChangeKind);
          q = 'uncertain';
        } else if (policy !== 'none' && policy !== 'drop') this.mark(s, st, 'unfilled');
      }
      if (!Number.isNaN(v) && this.params) {
        const i = this.paramIndex.get(name);
        if (i !== undefined) v = (v - this.params.offset[i]) / this.params.scale[i];
      }
      const out = Number.isNaN(v) ? null : v;
      features[name] = out;
      quality[name] = q;
      vector[j] = out;
    }
    if (fitting && ++this.fitted >= this.fitRows) this.fit(s.names);
    if (drop) {
      this.counts.droppedRows++;
      return;
    }
    this.counts.rowsOut++;
    this.out.push({
      ts: s.ts,
      features,
      quality,
      names: s.names,
      vector,
      changes: s.changes,
      scaled: Boolean(this.params) && !fitting,
    });
  }

  private trainingMean(st: FeatureState): number {
    const i = this.paramIndex.get(st.spec.name);
    if (this.params && i !== undefined) return this.params.mean[i];
    return st.n > 0 ? st.mean : NaN;
  }

  private fit(names: readonly string[]): void {
    const sts = names.map((n) => this.stateOf(n));
    const std = sts.map((s) => (s.n > 1 ? Math.sqrt(s.m2 / (s.n - 1)) : 0));
    const finite = (x: number, d: number) => (Number.isFinite(x) ? x : d);
    const min = sts.map((s) => finite(s.min, 0));
    const max = sts.map((s) => finite(s.max, 0));
    const mean = sts.map((s) => s.mean);
    const minmax = this.scaling === 'minmax';
    const p: ScalingParams = {
      method: this.scaling,
      names: [...names],
      offset: minmax ? min : mean,
      scale: (minmax ? max.map((x, i) => x - min[i]) : std).map((x) => (x > 0 ? x : 1)),
      mean,
      std,
      min,
      max,
      rows: this.fitted,
    };
    this.setParams(p);
    this.newParams = p;
  }

  /** Releases rows held for the Hampel window or interpolation (end of stream). */
  flush(): void {
    this.release(true);
  }

  takeRows(): CleanRow[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  takeIssues(): PrepIssue[] {
    return this.issues.take();
  }

  /** Rows waiting for interpolation. */
  get waiting(): number {
    return this.queue.length;
  }
}
