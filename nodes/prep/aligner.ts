/**
 * Aligner: joins samples of many tags into one feature row per time step.
 *
 * Time: rows follow the samples' own timestamps. In fixed-period mode the time axis is cut into buckets
 * [k*P, (k+1)*P) (epoch-aligned) and the row of a bucket carries ts = (k+1)*P, the bucket's end. A bucket
 * closes when the watermark (newest sample ts minus the allowed lateness) passes its end; samples older
 * than the oldest open bucket are late and counted. When data stops for longer than a period plus the
 * lateness (wall time), `tick(now)` moves an estimated data clock (newest ts + wall time since it came) so
 * rows keep coming out, showing `missing` once values exceed their maximum age. In trigger mode a row closes when a sample of the trigger topic
 * arrives, covering the samples since the previous trigger (arrival order; older samples are late).
 *
 * Memory per feature is fixed: one accumulator per open bucket (ceil(lateness / period) + 2 buckets);
 * the time-weighted mean also keeps the samples of its open buckets.
 */
import { TaktError } from '../core/errors';
import type { Quality } from '../core/sample';
import { featureNames, nextFeatureName } from './names';
import { type FeatureQuality, type FeatureRow, IssueLog, type PrepIssue } from './types';

export type Aggregation = 'last' | 'mean' | 'min' | 'max' | 'count' | 'twa';
export const AGGREGATIONS: readonly Aggregation[] = ['last', 'mean', 'min', 'max', 'count', 'twa'];

/** Features discovery may add (AlignConfig.maxFeatures' default). */
export const MAX_FEATURES = 1000;
/** Topics remembered as left out in discovery mode; the memory starts again when full (it is only a cache). */
export const MAX_IGNORED_TOPICS = 10000;

export interface FeatureSpec {
  topic: string;
  /** Default: the trailing topic segments that make the name unique. */
  name?: string;
  agg?: Aggregation;
  maxAgeMs?: number;
}

export interface AlignConfig {
  /** Row period in ms (fixed-period mode). Default 1000. */
  periodMs?: number;
  /** Emit a row when a sample of this topic arrives instead of on a fixed period. */
  triggerTopic?: string;
  /** Fixed feature list; empty or absent: every numeric topic seen becomes a feature. */
  features?: FeatureSpec[];
  /** Only topics matching this regular expression are discovered (discovery mode). */
  include?: string;
  /**
   * Discovery mode: features at most (default MAX_FEATURES); samples of a further new topic are rejected as
   * unknown topics (counted), so a stream of ever new topics cannot widen the rows without end.
   */
  maxFeatures?: number;
  /** Default aggregation. Default 'last'. */
  agg?: Aggregation;
  /** A value older than this at the row's time counts as missing. Default 10 periods (trigger: 60 s). */
  maxAgeMs?: number;
  /** How late (behind the newest sample) a sample may arrive and still count. Default 0. */
  latenessMs?: number;
  /** A ts further than this ahead of the newest sample and of the wall clock is "future". Default 60 s. */
  maxJumpMs?: number;
  /** Wall-clock tolerance for future timestamps. Default 60 s. */
  futureMs?: number;
  /** A ts older than this before the wall clock is "stale" (far past); 0 turns the check off. Default 7 days. */
  maxPastMs?: number;
  /** Longest run of empty rows emitted across a gap in the data (the rest are skipped, counted). */
  maxEmptyRows?: number;
}

/** What `snapshot()` keeps across a redeploy (JSON). */
export interface AlignSnapshot {
  version: 1;
  features: { topic: string; name: string; heldTs: number | null; heldV: number | null; heldQ: Quality }[];
}

/** A sample as the aligner takes it: the value is checked here (numeric features). */
export interface AlignSample {
  topic: string;
  value: unknown;
  /** Epoch ms; NaN for an unreadable timestamp (counted). */
  ts: number;
  quality: Quality;
}

export interface AlignCounts {
  received: number;
  /** Good or uncertain samples folded into emitted rows. */
  used: number;
  pending: number;
  late: number;
  badQuality: number;
  notNumeric: number;
  nan: number;
  badTs: number;
  future: number;
  stale: number;
  unknownTopic: number;
  /** Discovery mode: samples of topics left out on purpose (not matching `include`, or text values). */
  filtered: number;
  featureChanges: number;
  /** Jumps of the data clock accepted because samples of several topics agreed on them. */
  clockJumps: number;
  rows: number;
  skippedRows: number;
}

interface Feature {
  name: string;
  topic: string;
  agg: Aggregation;
  maxAgeMs: number;
  // one accumulator per open bucket slot
  n: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  gLastTs: Float64Array;
  gLastV: Float64Array;
  uncertN: Float64Array;
  badN: Float64Array;
  aLastTs: Float64Array;
  /** 0 good, 1 uncertain, 2 bad: quality of the newest sample (any quality) in the slot. */
  aLastQ: Float64Array;
  twaTs: number[][] | undefined;
  twaV: number[][] | undefined;
  // value held from closed buckets
  heldTs: number;
  heldV: number;
  heldQ: number;
}

const Q_NAME: Quality[] = ['good', 'uncertain', 'bad'];

function positive(v: number | undefined, dflt: number, field: string, allowZero = false): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new TaktError(
      'prep.badConfig',
      `${field}: ${v} must be a ${allowZero ? 'non-negative' : 'positive'} number`,
      field,
    );
  }
  return v;
}

function checkAgg(a: string | undefined, field: string): Aggregation | undefined {
  if (a === undefined || a === '') return undefined;
  const found = AGGREGATIONS.find((x) => x === a);
  if (!found)
    throw new TaktError('prep.badConfig', `${field}: "${a}" is not one of ${AGGREGATIONS.join(', ')}`, field);
  return found;
}

export class Aligner {
  readonly periodMs: number;
  readonly triggerTopic: string | undefined;
  readonly latenessMs: number;
  readonly counts: AlignCounts = {
    received: 0,
    used: 0,
    pending: 0,
    late: 0,
    badQuality: 0,
    notNumeric: 0,
    nan: 0,
    badTs: 0,
    future: 0,
    stale: 0,
    unknownTopic: 0,
    filtered: 0,
    featureChanges: 0,
    clockJumps: 0,
    rows: 0,
    skippedRows: 0,
  };
  readonly issues = new IssueLog();

  private readonly agg: Aggregation;
  private readonly maxAgeMs: number;
  private readonly maxJumpMs: number;
  private readonly futureMs: number;
  private readonly maxPastMs: number;
  private readonly maxEmptyRows: number;
  private readonly include: RegExp | undefined;
  private readonly maxFeatures: number;
  private readonly slots: number;
  private discover: boolean;
  private byTopic = new Map<string, Feature>();
  private order: Feature[] = [];
  private names: string[] = [];
  private ignored = new Set<string>();
  /** Lowest bucket not yet emitted (period mode); start of the open bucket (trigger mode). */
  private nextK = NaN;
  private maxTs = -Infinity;
  private wallAtMax = 0;
  /** A jump of the data clock seen in rejected "future" samples: their newest ts and their topics. */
  private jumpTs = NaN;
  private jumpTopics = new Set<string>();
  private jumpCount = 0;
  private out: FeatureRow[] = [];
  private restored = false;

  constructor(cfg: AlignConfig = {}) {
    this.periodMs = positive(cfg.periodMs, 1000, 'periodMs');
    this.triggerTopic = cfg.triggerTopic ? cfg.triggerTopic : undefined;
    this.latenessMs = positive(cfg.latenessMs, 0, 'latenessMs', true);
    this.agg = checkAgg(cfg.agg, 'agg') ?? 'last';
    this.maxAgeMs = positive(cfg.maxAgeMs, this.triggerTopic ? 60000 : 10 * this.periodMs, 'maxAgeMs');
    this.maxJumpMs = positive(cfg.maxJumpMs, 60000, 'maxJumpMs');
    this.futureMs = positive(cfg.futureMs, 60000, 'futureMs', true);
    this.maxPastMs = positive(cfg.maxPastMs, 7 * 86400000, 'maxPastMs', true);
    this.maxEmptyRows = positive(cfg.maxEmptyRows, 3600, 'maxEmptyRows', true);
    try {
      this.include = cfg.include ? new RegExp(cfg.include) : undefined;
    } catch {
      throw new TaktError(
        'prep.badConfig',
        `include: "${cfg.include}" is not a regular expression`,
        'include',
      );
    }
    this.maxFeatures = positive(cfg.maxFeatures, MAX_FEATURES, 'maxFeatures');
    this.slots = this.triggerTopic ? 1 : Math.ceil(this.latenessMs / this.periodMs) + 2;
    this.discover = !cfg.features || cfg.features.length === 0;
    if (!this.discover) this.setFeatures(cfg.features as FeatureSpec[], true);
  }

  /** Feature names in row order. */
  get featureNames(): readonly string[] {
    return this.names;
  }

  /**
   * Replaces the feature list (e.g. from a control message). Kept features keep their state; the change
   * is counted. Names default to the unique trailing topic segments.
   */
  setFeatures(specs: readonly FeatureSpec[], initial = false): void {
    specs.forEach((s, i) => {
      if (typeof s?.topic !== 'string' || s.topic === '')
        throw new TaktError(
          'prep.badConfig',
          `features[${i}].topic: a feature needs a topic`,
          `features[${i}].topic`,
        );
      checkAgg(s.agg, `features[${i}].agg`);
      if (s.maxAgeMs !== undefined) positive(s.maxAgeMs, 0, `features[${i}].maxAgeMs`);
    });
    const auto = featureNames(specs.map((s) => s.topic));
    const names = specs.map((s, i) => (s.name ? s.name : auto[i]));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined)
      throw new TaktError('prep.badConfig', `features: the name "${dup}" is used twice`, 'features');
    const old = this.byTopic;
    this.byTopic = new Map();
    this.order = specs.map((s, i) => {
      const f = old.get(s.topic) ?? this.newFeature(s.topic, names[i]);
      f.name = names[i];
      f.agg = s.agg ?? this.agg;
      f.maxAgeMs = s.maxAgeMs ?? this.maxAgeMs;
      this.byTopic.set(s.topic, f);
      return f;
    });
    this.names = this.order.map((f) => f.name);
    this.discover = specs.length === 0;
    for (const [topic, f] of old) {
      if (this.byTopic.has(topic)) continue;
      // samples waiting in open buckets of a dropped feature now belong to an unknown topic
      const n = f.n.reduce((a, x) => a + x, 0);
      this.counts.pending -= n;
      this.counts.unknownTopic += n;
    }
    if (!initial) {
      this.counts.featureChanges++;
      this.issues.add({
        code: 'featuresChanged',
        message: `feature list changed to ${this.names.length} features`,
      });
    }
  }

  private newFeature(topic: string, name: string): Feature {
    const S = this.slots;
    const f: Feature = {
      name,
      topic,
      agg: this.agg,
      maxAgeMs: this.maxAgeMs,
      n: new Float64Array(S),
      sum: new Float64Array(S),
      min: new Float64Array(S).fill(Infinity),
      max: new Float64Array(S).fill(-Infinity),
      gLastTs: new Float64Array(S).fill(-Infinity),
      gLastV: new Float64Array(S),
      uncertN: new Float64Array(S),
      badN: new Float64Array(S),
      aLastTs: new Float64Array(S).fill(-Infinity),
      aLastQ: new Float64Array(S),
      twaTs: undefined,
      twaV: undefined,
      heldTs: -Infinity,
      heldV: NaN,
      heldQ: 2,
    };
    return f;
  }

  private ignore(topic: string): void {
    if (this.ignored.size >= MAX_IGNORED_TOPICS) this.ignored.clear();
    this.ignored.add(topic);
  }

  private discoverTopic(topic: string): Feature | 'full' | undefined {
    if (this.ignored.has(topic)) return undefined;
    if ((this.include && !this.include.test(topic)) || topic === this.triggerTopic) {
      this.ignore(topic);
      return undefined;
    }
    if (this.order.length >= this.maxFeatures) return 'full';
    const f = this.newFeature(topic, '');
    this.byTopic.set(topic, f);
    this.order.push(f);
    if (this.counts.rows === 0 && !this.restored) {
      // Before the first row names may still be chosen together, so they are as short as possible.
      const names = featureNames(this.order.map((x) => x.topic));
      this.order.forEach((x, i) => (x.name = names[i]));
    } else {
      f.name = nextFeatureName(
        topic,
        new Set(this.names),
        this.order.filter((x) => x !== f).map((x) => x.topic),
      );
      this.counts.featureChanges++;
      this.issues.add({
        code: 'featureAdded',
        message: `new feature "${f.name}" from ${topic}`,
        topic,
        feature: f.name,
      });
    }
    this.names = this.order.map((x) => x.name);
    return f;
  }

  /** Counts a rejected sample; the issue text is only built while the issue list has room. */
  private reject(kind: keyof AlignCounts, s: AlignSample, message: () => string): void {
    this.counts[kind]++;
    if (this.issues.full) this.issues.dropped++;
    else this.issues.add({ code: kind, message: message(), topic: s.topic, ts: s.ts });
  }

  /**
   * Whether a sample too far ahead of both the wall clock and the newest sample shows that the data clock
   * itself jumped (a simulator or a replay running faster than real time, after a pause): it does once
   * samples of two topics (or three of a lone topic) agree on the new time within `maxJumpMs`. One
   * device with a wild timestamp never has that agreement, so its samples stay rejected.
   */
  private clockJumped(s: AlignSample): boolean {
    if (!(Math.abs(s.ts - this.jumpTs) <= this.maxJumpMs)) {
      this.jumpTs = s.ts;
      this.jumpTopics = new Set([s.topic]);
      this.jumpCount = 1;
      return false;
    }
    this.jumpTs = Math.max(this.jumpTs, s.ts);
    this.jumpTopics.add(s.topic);
    this.jumpCount++;
    const agreed = this.order.length > 1 ? this.jumpTopics.size >= 2 : this.jumpCount >= 3;
    if (!agreed) return false;
    this.jumpTs = NaN;
    this.jumpTopics = new Set();
    this.jumpCount = 0;
    this.counts.clockJumps++;
    return true;
  }

  /** Takes one sample; rows that it completes are collected for `takeRows()`. */
  push(s: AlignSample, now: number): void {
    const c = this.counts;
    c.received++;
    const ts = s.ts;
    if (!Number.isFinite(ts)) return this.reject('badTs', s, () => `${s.topic}: unreadable timestamp`);
    if (ts > now + this.futureMs && !(ts <= this.maxTs + this.maxJumpMs) && !this.clockJumped(s)) {
      return this.reject('future', s, () => `${s.topic}: ts ${new Date(ts).toISOString()} is in the future`);
    }
    if (this.maxPastMs > 0 && ts < now - this.maxPastMs) {
      return this.reject(
        'stale',
        s,
        () => `${s.topic}: ts ${new Date(ts).toISOString()} is too far in the past`,
      );
    }
    const trigger = this.triggerTopic !== undefined && s.topic === this.triggerTopic;
    let f = trigger ? undefined : this.byTopic.get(s.topic);
    let v = NaN;
    const q = s.quality === 'good' ? 0 : s.quality === 'uncertain' ? 1 : 2;
    if (!trigger && q !== 2) {
      const raw = s.value;
      if (typeof raw === 'number') v = raw;
      else if (typeof raw === 'boolean') v = raw ? 1 : 0;
      else {
        if (!f && this.discover) {
          this.ignore(s.topic);
          c.filtered++;
          return;
        }
        if (!f) return this.reject('unknownTopic', s, () => `${s.topic}: not a configured feature`);
        return this.reject(
          'notNumeric',
          s,
          () => `${s.topic}: value ${JSON.stringify(raw)?.slice(0, 40)} is not numeric`,
        );
      }
      if (!Number.isFinite(v))
        return this.reject('nan', s, () => `${s.topic}: value ${v} is not a finite number`);
    }
    if (!trigger && !f) {
      if (this.discover) {
        const d = this.discoverTopic(s.topic);
        if (d === 'full')
          return this.reject(
            'unknownTopic',
            s,
            () => `${s.topic}: not added, the rows already have ${this.maxFeatures} features (maxFeatures)`,
          );
        if (!d) {
          c.filtered++;
          return;
        }
        f = d;
      } else return this.reject('unknownTopic', s, () => `${s.topic}: not a configured feature`);
    }
    if (this.triggerTopic !== undefined) return this.pushTriggered(s, f, v, q, trigger, now);

    if (ts > this.maxTs) {
      this.maxTs = ts;
      this.wallAtMax = now;
      if (Number.isNaN(this.nextK)) this.nextK = Math.floor(ts / this.periodMs);
      this.closeUpTo(ts - this.latenessMs);
    }
    const k = Math.floor(ts / this.periodMs);
    if (k < this.nextK)
      return this.reject('late', s, () => `${s.topic}: ts ${new Date(ts).toISOString()} arrived too late`);
    if (q === 2) c.badQuality++;
    else c.pending++;
    this.add(f as Feature, k % this.slots, ts, v, q);
  }

  private pushTriggered(
    s: AlignSample,
    f: Feature | undefined,
    v: number,
    q: number,
    trigger: boolean,
    now: number,
  ) {
    if (Number.isNaN(this.nextK)) this.nextK = s.ts;
    if (s.ts < this.nextK) return this.reject('late', s, () => `${s.topic}: ts before the last trigger`);
    if (s.ts > this.maxTs) {
      this.maxTs = s.ts;
      this.wallAtMax = now;
    }
    if (trigger) {
      this.closeSlot(0, this.nextK, s.ts);
      this.nextK = s.ts;
      return;
    }
    if (q === 2) this.counts.badQuality++;
    else this.counts.pending++;
    this.add(f as Feature, 0, s.ts, v, q);
  }

  private add(f: Feature, i: number, ts: number, v: number, q: number): void {
    if (ts >= f.aLastTs[i]) {
      f.aLastTs[i] = ts;
      f.aLastQ[i] = q;
    }
    if (f.agg === 'twa') {
      f.twaTs ??= Array.from({ length: this.slots }, () => []);
      f.twaV ??= Array.from({ length: this.slots }, () => []);
      f.twaTs[i].push(ts);
      f.twaV[i].push(q === 2 ? NaN : v);
    }
    if (q === 2) {
      f.badN[i]++;
      return;
    }
    f.n[i]++;
    f.sum[i] += v;
    if (v < f.min[i]) f.min[i] = v;
    if (v > f.max[i]) f.max[i] = v;
    if (q === 1) f.uncertN[i]++;
    if (ts >= f.gLastTs[i]) {
      f.gLastTs[i] = ts;
      f.gLastV[i] = v;
    }
  }

  /** Closes every bucket that ends at or before `watermark`. */
  private closeUpTo(watermark: number): void {
    const P = this.periodMs;
    const end = Math.floor(watermark / P); // buckets k < end have (k+1)*P <= watermark
    if (!(end > this.nextK)) return;
    let k = this.nextK;
    const withData = Math.min(end, k + this.slots);
    for (; k < withData; k++) this.closeSlot(k % this.slots, k * P, (k + 1) * P);
    if (end - k > this.maxEmptyRows) {
      const skip = end - k - this.maxEmptyRows;
      this.counts.skippedRows += skip;
      this.issues.add({
        code: 'skippedRows',
        message: `gap in the data: ${skip} empty rows skipped`,
        ts: k * P,
      });
      k += skip;
    }
    for (; k < end; k++) this.closeSlot(k % this.slots, k * P, (k + 1) * P);
    this.nextK = end;
  }

  private closeSlot(i: number, start: number, end: number): void {
    const features: Record<string, number | null> = {};
    const quality: Record<string, FeatureQuality> = {};
    const vector = new Array<number | null>(this.order.length);
    const c = this.counts;
    for (let j = 0; j < this.order.length; j++) {
      const f = this.order[j];
      const n = f.n[i];
      let v = NaN;
      let q: FeatureQuality = 'missing';
      const heldOk = f.heldQ !== 2 && end - f.heldTs <= f.maxAgeMs;
      if (f.agg === 'twa') {
        v = this.twa(f, i, start, end);
        if (!Number.isNaN(v)) q = f.uncertN[i] > 0 || (n === 0 && f.heldQ === 1) ? 'uncertain' : 'good';
      } else if (n > 0) {
        const a = f.agg;
        v =
          a === 'last'
            ? f.gLastV[i]
            : a === 'mean'
              ? f.sum[i] / n
              : a === 'min'
                ? f.min[i]
                : a === 'max'
                  ? f.max[i]
                  : n;
        q = f.uncertN[i] > 0 ? 'uncertain' : 'good';
      } else if (f.agg === 'count') {
        v = 0;
        q = 'good';
      } else if (f.badN[i] === 0 && heldOk) {
        v = f.heldV;
        q = Q_NAME[f.heldQ];
      }
      if (
        Number.isNaN(v) &&
        q === 'missing' &&
        (f.badN[i] > 0 || (f.heldQ === 2 && end - f.heldTs <= f.maxAgeMs))
      )
        q = 'bad';
      if (f.aLastTs[i] > f.heldTs) {
        f.heldTs = f.aLastTs[i];
        f.heldQ = f.aLastQ[i];
        f.heldV = f.aLastQ[i] === 2 ? NaN : f.gLastV[i];
      }
      c.used += n;
      c.pending -= n;
      const out = Number.isNaN(v) ? null : v;
      features[f.name] = out;
      quality[f.name] = q;
      vector[j] = out;
      f.n[i] = 0;
      f.sum[i] = 0;
      f.min[i] = Infinity;
      f.max[i] = -Infinity;
      f.gLastTs[i] = -Infinity;
      f.uncertN[i] = 0;
      f.badN[i] = 0;
      f.aLastTs[i] = -Infinity;
      if (f.twaTs && f.twaV) {
        f.twaTs[i].length = 0;
        f.twaV[i].length = 0;
      }
    }
    c.rows++;
    this.out.push({ ts: end, features, quality, names: this.names, vector });
  }

  /** Time-weighted mean over [start, end): each value holds until the next sample or its maximum age. */
  private twa(f: Feature, i: number, start: number, end: number): number {
    const tsA = (f.twaTs as number[][])[i];
    const vA = (f.twaV as number[][])[i];
    let idx = tsA.map((_, k) => k);
    for (let k = 1; k < tsA.length; k++) {
      if (tsA[k] < tsA[k - 1]) {
        idx = idx.sort((a, b) => tsA[a] - tsA[b]);
        break;
      }
    }
    let area = 0;
    let dur = 0;
    let curV = f.heldQ !== 2 ? f.heldV : NaN;
    let curT = start;
    let limit = f.heldTs + f.maxAgeMs;
    const segment = (to: number) => {
      const e = Math.min(to, limit);
      if (!Number.isNaN(curV) && e > curT) {
        area += curV * (e - curT);
        dur += e - curT;
      }
    };
    for (const k of idx) {
      segment(tsA[k]);
      curV = vA[k];
      curT = tsA[k];
      limit = tsA[k] + f.maxAgeMs;
    }
    segment(end);
    return dur > 0 ? area / dur : NaN;
  }

  /**
   * Wall-clock flush (period mode): when no new data has come for a period plus the lateness, the
   * estimated data clock (newest ts + wall time since it came) moves on, so rows come out (with `missing`
   * values once they exceed their maximum age).
   */
  tick(now: number): void {
    if (this.triggerTopic !== undefined || Number.isNaN(this.nextK)) return;
    // Only once the data has been quiet for a period plus the lateness (wall time): while it flows, its own
    // timestamps decide, and a pause between two messages must not make the next out-of-order sample late.
    const idle = now - this.wallAtMax;
    if (idle < this.periodMs + this.latenessMs) return;
    const clock = this.maxTs + idle;
    this.closeUpTo(clock - this.latenessMs);
  }

  /** Closes every open bucket (end of a stream, tests, benches). */
  flush(): void {
    if (Number.isNaN(this.nextK)) return;
    if (this.triggerTopic !== undefined) return;
    this.closeUpTo((Math.floor(this.maxTs / this.periodMs) + 1) * this.periodMs);
  }

  /** The rows completed since the last call, oldest first. */
  takeRows(): FeatureRow[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  /**
   * What must survive a redeploy: the feature order (models depend on it, and discovery order is arrival
   * order) and the last value of each feature. Open buckets are not kept.
   */
  snapshot(): AlignSnapshot {
    return {
      version: 1,
      features: this.order.map((f) => ({
        topic: f.topic,
        name: f.name,
        heldTs: Number.isFinite(f.heldTs) ? f.heldTs : null,
        heldV: Number.isFinite(f.heldV) ? f.heldV : null,
        heldQ: Q_NAME[f.heldQ],
      })),
    };
  }

  /**
   * Restores a snapshot: in discovery mode the saved features come back in their order (new topics are
   * appended as usual); with a configured list only the last values of configured topics are taken.
   * Returns false (and changes nothing) for a snapshot it does not understand.
   */
  restore(snap: unknown): boolean {
    const s = snap as AlignSnapshot;
    if (!s || s.version !== 1 || !Array.isArray(s.features)) return false;
    if (!s.features.every((f) => typeof f?.topic === 'string' && typeof f.name === 'string')) return false;
    if (this.discover && this.order.length === 0) {
      for (const saved of s.features) {
        const f = this.newFeature(saved.topic, saved.name);
        this.byTopic.set(saved.topic, f);
        this.order.push(f);
      }
      this.names = this.order.map((x) => x.name);
      this.restored = true;
    }
    for (const saved of s.features) {
      const f = this.byTopic.get(saved.topic);
      if (!f || saved.heldTs === null) continue;
      f.heldTs = saved.heldTs;
      f.heldV = saved.heldV ?? NaN;
      f.heldQ = saved.heldQ === 'good' ? 0 : saved.heldQ === 'uncertain' ? 1 : 2;
    }
    return true;
  }

  takeIssues(): PrepIssue[] {
    return this.issues.take();
  }

  /** Samples counted one way or another (used, late or rejected) over samples received. */
  accountedRatio(): number {
    const c = this.counts;
    const acc =
      c.used +
      c.late +
      c.badQuality +
      c.notNumeric +
      c.nan +
      c.badTs +
      c.future +
      c.stale +
      c.unknownTopic +
      c.filtered;
    return c.received === 0 ? 1 : acc / c.received;
  }
}
