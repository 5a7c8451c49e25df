/**
 * SpcMonitor: the streaming SPC engine behind the takt-spc node, with no Node-RED in it. It groups incoming
 * values into samples, collects phase I, freezes the limits (optionally iterating, checking autocorrelation
 * and capability), then judges every later sample in constant time, raising alarms with a readable text, a
 * change-point estimate and, when enabled, a run-to-run adjustment proposal. Bad input throws a TaktError
 * before any state changes, so the next good sample is processed as if the bad one never came.
 */
import { TaktError } from '../core/errors';
import { ianaZone, type Zone as PlantZone } from '../core/zone';
import { capability, type CapabilityResult, type CapabilitySpec } from './capability';
import { chart, ChartStream, type Sample, toNumber } from './charts';
import { type ConstantsMode, toConstantsMode } from './constants';
import type { ChartKind } from './kinds/common';
import { chartKind, isChartType } from './kinds/registry';
import {
  Ar1Filter,
  type Ar1Model,
  autocorrelation,
  type Autocorrelation,
  changePoint,
  type ChangePoint,
  EwmaR2R,
  type R2ROptions,
  type PatternClass,
  type PatternResult,
  type R2RProposal,
  recommendChart,
  type Recommendation,
} from './insight';
import { RULE_TEXT, type RuleSet, ruleSet, type RuleSpec } from './rules';
import type { ChartParams, ChartPoint, ChartType } from './types';

export type Grouping = 'payload' | 'count' | 'time' | 'field';
export const GROUPINGS: readonly Grouping[] = ['payload', 'count', 'time', 'field'];

export interface MonitorConfig {
  type: ChartType;
  /** Phase-I samples (subgroups or observations) before the limits freeze. */
  phaseOne: number;
  rules?: RuleSpec;
  nsigmas?: number;
  lambda?: number;
  decisionInterval?: number;
  shift?: number;
  headStart?: number;
  /** Drop out-of-control phase-I samples and re-estimate until stable. */
  iterate?: boolean;
  /** How values become samples: as sent, n values per subgroup, per time window, or per field value. */
  grouping?: Grouping;
  subgroupSize?: number;
  windowMs?: number;
  /** Default sample size for p, np, u when the message has none. */
  sampleSize?: number;
  /** I-MR: if phase I is autocorrelated, chart AR(1) residuals instead of raw values. */
  autocorrelation?: boolean;
  spec?: CapabilitySpec;
  /** Run-to-run adjustment proposals (target defaults to the chart centre). */
  r2r?: Omit<R2ROptions, 'target'> & { target?: number };
  /** d2 and d3 from qcc's published tables ('table', the default) or computed exactly. */
  constants?: ConstantsMode;
  /**
   * IANA time zone of the plant ("Europe/Berlin") in which alarm texts give the time, following daylight
   * saving; absent or empty: the runtime's local time.
   */
  timeZone?: string;
}

export interface SpcSampleIn {
  value: unknown;
  size?: number;
  ts: number;
  /** Grouping by field: the field's value. */
  key?: string;
}

export interface Alarm {
  rule: number;
  ruleSet: 'nelson' | 'we' | 'custom';
  chart: 'primary' | 'R' | 'S' | 'MR';
  index: number;
  ts: number;
  side: 'above' | 'below' | null;
  text: string;
  changePoint?: ChangePoint;
}

export interface FrozenInfo {
  center: number;
  sigma: number;
  estimator: string;
  lcl: number;
  ucl: number;
  samples: number;
  excluded: number[];
  residuals: boolean;
  autocorrelation?: Autocorrelation;
  recommendation?: Recommendation;
  capability?: CapabilityResult;
  warnings: string[];
}

export type Zone = 'C' | 'B' | 'A' | 'beyond';

export interface SpcEvent {
  type: ChartType;
  /** 1 while collecting phase I (no limits yet), 2 once limits are frozen. */
  phase: 1 | 2;
  index: number;
  ts: number;
  stat: number;
  size: number;
  center?: number;
  lcl?: number;
  ucl?: number;
  z?: number;
  zone?: Zone;
  side?: 'above' | 'below' | null;
  violations: number[];
  secondary?: ChartPoint;
  upper?: number;
  lower?: number;
  contributions?: number[];
  collecting?: { n: number; of: number };
  /** Present on the sample that froze the limits. */
  frozen?: FrozenInfo;
  alarms: Alarm[];
  r2r?: R2RProposal;
  /** Pattern of the recent window, when a pattern classifier is attached (phase II, window full). */
  pattern?: { class: PatternClass; confidence: number };
}

/** What persists across restarts: the frozen limits and how they were made. */
export interface MonitorState {
  version: 1;
  signature: string;
  params: ChartParams;
  ar1?: Ar1Model;
  frozen: FrozenInfo;
  frozenAt: number;
}

interface Raw {
  value: number | number[];
  size?: number;
  ts: number;
  /** The validated sample, when it was parsed on arrival. */
  parsed?: Sample;
}

/** The last HISTORY points (index, value, centre, standard error) in fixed typed arrays: O(1) per point. */
class History {
  private readonly index = new Float64Array(HISTORY_SIZE);
  private readonly x = new Float64Array(HISTORY_SIZE);
  private readonly center = new Float64Array(HISTORY_SIZE);
  private readonly se = new Float64Array(HISTORY_SIZE);
  private head = 0;
  length = 0;

  push(index: number, x: number, center: number, se: number): void {
    const k = this.head;
    this.index[k] = index;
    this.x[k] = x;
    this.center[k] = center;
    this.se[k] = se;
    this.head = (k + 1) % HISTORY_SIZE;
    if (this.length < HISTORY_SIZE) this.length++;
  }

  /** The last m points, oldest first. */
  last(m = this.length): { index: number[]; x: number[]; center: number[]; se: number[] } {
    const n = Math.min(m, this.length);
    const out = { index: [] as number[], x: [] as number[], center: [] as number[], se: [] as number[] };
    for (let j = n; j >= 1; j--) {
      const k = (this.head - j + HISTORY_SIZE) % HISTORY_SIZE;
      out.index.push(this.index[k]);
      out.x.push(this.x[k]);
      out.center.push(this.center[k]);
      out.se.push(this.se[k]);
    }
    return out;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }
}

const HISTORY_SIZE = 200;
const RAW_KEEP = 64;
/**
 * Values one time or field group may hold: a group that reaches it closes as a subgroup there (counted in
 * `splitGroups`), so a batch key that never changes or a long time window at a high rate cannot grow it.
 */
export const MAX_GROUP_VALUES = 10000;

/** A short identity of the settings that shape the limits; persisted limits are reused only if it matches. */
export function signature(c: MonitorConfig): string {
  return JSON.stringify([
    c.type,
    c.phaseOne,
    c.nsigmas ?? 3,
    c.lambda ?? 0.2,
    c.decisionInterval ?? 5,
    c.shift ?? 1,
    c.headStart ?? 0,
    c.iterate ?? false,
    c.grouping ?? 'payload',
    c.subgroupSize ?? 0,
    c.windowMs ?? 0,
    c.autocorrelation ?? false,
    // only a non-default mode is added, so that limits saved before the option existed still restore
    ...(c.constants === 'exact' ? ['exact'] : []),
  ]);
}

const WE_NUMBER: Record<number, number> = { 1: 1, 5: 2, 6: 3, 2: 4 };
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** hh:mm of ts in `zone` (core/zone.ts), or on the runtime's local clock when there is none. */
function hhmm(ts: number, zone?: PlantZone): string {
  const d = new Date(zone ? zone.toLocal(ts) : ts);
  const [h, m] = zone ? [d.getUTCHours(), d.getUTCMinutes()] : [d.getHours(), d.getMinutes()];
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

const fmt = (v: number) => Number(v.toPrecision(6)).toString();

/**
 * Adds a classifier's verdict on the recent window to an event: `ev.pattern`, and, unless the window looks
 * normal, its name in every alarm text (e.g. "…, pattern: upward shift (97%)"). Returns the event.
 */
export function withPattern(ev: SpcEvent, r: PatternResult): SpcEvent {
  ev.pattern = { class: r.pattern, confidence: r.confidence };
  if (r.pattern !== 'normal') {
    const tag = `, pattern: ${r.pattern.replace('-', ' ')} (${Math.round(100 * r.confidence)}%)`;
    for (const a of ev.alarms) a.text += tag;
  }
  return ev;
}

/**
 * The readable text of an alarm (English; engines do no i18n), its time of day in `zone` (default: the
 * runtime's local time).
 */
export function describeAlarm(
  a: Omit<Alarm, 'text'>,
  p: { stat: number; lcl: number; ucl: number },
  runLength: number,
  type: ChartType,
  zone?: PlantZone,
): string {
  const head =
    a.ruleSet === 'we' && WE_NUMBER[a.rule] !== undefined
      ? `Western Electric ${WE_NUMBER[a.rule]}`
      : `Nelson ${a.rule}`;
  const where = a.chart === 'primary' ? '' : `${a.chart} chart, `;
  const side = a.side === 'above' ? 'above' : 'below';
  let what: string;
  switch (a.rule) {
    case 1:
      if (isChartType(type) && chartKind(type).traits.cumulative)
        what = `cumulative sum ${a.side === 'above' ? 'upper' : 'lower'} beyond the decision interval`;
      else
        what = `point ${fmt(p.stat)} ${a.side === 'above' ? `above the upper control limit ${fmt(p.ucl)}` : `below the lower control limit ${fmt(p.lcl)}`}`;
      break;
    case 2:
      what = `${WORDS[runLength] ?? runLength} points ${side} centre`;
      break;
    case 3:
      what = `six points in a row ${a.side === 'above' ? 'increasing' : 'decreasing'}`;
      break;
    case 5:
      what = `two of three points beyond 2 sigma ${side} centre`;
      break;
    case 6:
      what = `four of five points beyond 1 sigma ${side} centre`;
      break;
    default:
      what = RULE_TEXT[a.rule];
  }
  let text = `${where}${head}: ${what} at ${hhmm(a.ts, zone)}`;
  if (a.chart !== 'primary' && a.rule === 1)
    text += a.side === 'above' ? ' (variation increased)' : ' (variation decreased)';
  if (a.changePoint) {
    const s = a.changePoint.shift;
    text += `, shift of ${s >= 0 ? '+' : ''}${s.toFixed(1)} sigma began about sample ${a.changePoint.index}`;
  }
  return text;
}

export class SpcMonitor {
  readonly config: Required<Pick<MonitorConfig, 'type' | 'phaseOne' | 'grouping'>> & MonitorConfig;
  private stream?: ChartStream;
  private ar1?: Ar1Filter;
  private r2r?: EwmaR2R;
  private info?: FrozenInfo;
  private frozenAt = 0;
  private collected: Raw[] = [];
  /** Recent raw samples, for re-estimation. */
  private raw: Raw[] = [];
  private readonly hist = new History();
  private group: number[] = [];
  private groupStart = 0;
  private groupKey: string | undefined;
  private splits = 0;
  private index = 0;
  private rs?: RuleSet;
  /** The chart kind: what the monitor reads instead of testing chart names. */
  private readonly kind: ChartKind;
  /** The plant's zone for alarm texts; undefined: the runtime's local time. */
  private readonly plantZone: PlantZone | undefined;

  constructor(config: MonitorConfig) {
    if (!isChartType(config.type)) {
      throw new TaktError('spc.badType', `type: ${JSON.stringify(config.type)} is not a chart type`, 'type');
    }
    const kind = chartKind(config.type);
    const phaseOne = toNumber(config.phaseOne, 'phaseOne');
    const min = kind.traits.minPhaseOne;
    if (!Number.isInteger(phaseOne) || phaseOne < min) {
      throw new TaktError(
        'spc.badOption',
        `phaseOne: needs a whole number of samples, at least ${min}`,
        'phaseOne',
      );
    }
    ruleSet(config.rules);
    toConstantsMode(config.constants);
    const grouping = config.grouping ?? 'payload';
    if (!GROUPINGS.includes(grouping))
      throw new TaktError('spc.badOption', `grouping: unknown "${grouping}"`, 'grouping');
    if (grouping !== 'payload' && !kind.traits.grouping) {
      throw new TaktError(
        'spc.badOption',
        `grouping: a ${config.type} chart takes one sample per message`,
        'grouping',
      );
    }
    if (grouping === 'count') {
      const n = config.subgroupSize ?? 0;
      if (!Number.isInteger(n) || n < Math.max(1, kind.traits.minSubgroup)) {
        throw new TaktError(
          'spc.badSize',
          `subgroupSize: ${n} is not a valid subgroup size for ${config.type}`,
          'subgroupSize',
        );
      }
    }
    if (grouping === 'time' && !((config.windowMs ?? 0) > 0)) {
      throw new TaktError('spc.badOption', 'windowMs: a time window must be positive', 'windowMs');
    }
    if (
      config.spec?.lsl !== undefined &&
      config.spec.usl !== undefined &&
      !(config.spec.lsl < config.spec.usl)
    ) {
      throw new TaktError(
        'spc.specReversed',
        `spec: lsl ${config.spec.lsl} must be below usl ${config.spec.usl}`,
        'lsl',
      );
    }
    const timeZone = config.timeZone?.trim();
    this.plantZone = timeZone ? ianaZone(timeZone) : undefined;
    this.config = { ...config, phaseOne, grouping };
    this.kind = kind;
  }

  get state(): 'collecting' | 'monitoring' {
    return this.stream ? 'monitoring' : 'collecting';
  }

  /** Time or field groups closed early because they reached MAX_GROUP_VALUES, since creation. */
  get splitGroups(): number {
    return this.splits;
  }

  get collectedCount(): number {
    return this.collected.length;
  }

  get frozen(): FrozenInfo | undefined {
    return this.info;
  }

  /** The persisted form of the frozen limits, or undefined while collecting. */
  saveState(): MonitorState | undefined {
    if (!this.stream || !this.info) return undefined;
    return {
      version: 1,
      signature: signature(this.config),
      params: this.stream.params,
      ...(this.ar1 ? { ar1: this.ar1.model } : {}),
      frozen: this.info,
      frozenAt: this.frozenAt,
    };
  }

  /** Restores frozen limits saved earlier; false (and no change) when they belong to other settings. */
  loadState(s: MonitorState | undefined): boolean {
    if (!s || s.version !== 1 || s.signature !== signature(this.config) || !s.params) return false;
    this.freezeWith(s.params, s.frozen, s.ar1);
    this.frozenAt = s.frozenAt;
    return true;
  }

  /** Back to phase I: drops the limits and everything collected. */
  reset(): void {
    this.stream = undefined;
    this.ar1 = undefined;
    this.r2r = undefined;
    this.info = undefined;
    this.collected = [];
    this.hist.clear();
    this.group = [];
    this.groupKey = undefined;
    this.index = 0;
  }

  /** Re-estimates the limits from the most recent phase-I-length run of samples. */
  reestimate(ts: number): FrozenInfo {
    const n = this.config.phaseOne;
    if (this.raw.length < n) {
      throw new TaktError(
        'spc.tooFew',
        `re-estimate: ${this.raw.length} recent samples, ${n} needed`,
        'action',
      );
    }
    return this.freeze(this.raw.slice(-n), ts);
  }

  /** Applies a new setpoint to the run-to-run controller (after an approved adjustment). */
  acceptSetpoint(setpoint: number): void {
    if (!this.r2r)
      throw new TaktError(
        'spc.noR2R',
        'setpoint: run-to-run adjustment is not enabled or limits are not frozen',
        'setpoint',
      );
    this.r2r.accept(setpoint);
  }

  /** The z values of the most recent points (for a pattern classifier). */
  recentZ(n: number): Float64Array {
    const h = this.hist.last(n);
    return Float64Array.from(h.x.map((x, i) => (x - h.center[i]) / h.se[i]));
  }

  /**
   * The standardised recent window for a pattern classifier: the last `n` z values (fewer if fewer points
   * have been judged since the limits froze), or undefined in phase I and for T² and MEWMA charts.
   */
  patternWindow(n: number): Float64Array | undefined {
    if (!this.stream || this.hist.length === 0) return undefined;
    return this.recentZ(n);
  }

  /**
   * Takes one message's value. Returns the event of the sample it completes, or undefined while a subgroup
   * is still filling. A time or field group closes when the first value of the next group arrives; an X-bar
   * group that closes with a single value is dropped (a range needs two).
   */
  push(input: SpcSampleIn): SpcEvent | undefined {
    const c = this.config;
    const ts = input.ts;
    // Validate first: nothing changes on bad input.
    let raw: Raw | undefined;
    if (c.grouping === 'payload') {
      const size = input.size ?? c.sampleSize;
      const first = this.collected[0]?.value;
      const dim = this.stream?.params.means?.length ?? (Array.isArray(first) ? first.length : undefined);
      const parsed = this.kind.parse(
        input.value,
        size,
        'payload',
        this.kind.traits.input === 'vector' ? dim : undefined,
      );
      raw = { value: input.value as number | number[], ts, parsed };
      if (size !== undefined) raw.size = size;
    } else {
      const values = Array.isArray(input.value) ? input.value : [input.value];
      if (values.length === 0)
        throw new TaktError('spc.emptySubgroup', 'payload: the array is empty', 'payload');
      const nums = values.map((v, i) =>
        toNumber(v, Array.isArray(input.value) ? `payload[${i}]` : 'payload'),
      );
      if (c.grouping === 'count') {
        this.group.push(...nums);
        const n = c.subgroupSize as number;
        if (this.group.length >= n) {
          raw = { value: this.group.slice(0, n), ts };
          this.group = this.group.slice(n);
        }
      } else {
        const closes =
          this.group.length > 0 &&
          (c.grouping === 'time'
            ? ts >= this.groupStart + (c.windowMs as number)
            : input.key !== this.groupKey);
        if (closes) {
          const g = this.group;
          if (g.length < this.kind.traits.minSubgroup) {
            // a window with too few values for a subgroup (X-bar: a range needs two): drop it, start over
            this.group = [];
          } else raw = { value: g, ts };
        }
        if (closes || this.group.length === 0) {
          this.group = [];
          this.groupStart = ts;
          this.groupKey = input.key;
        }
        this.group.push(...nums);
        if (!raw && this.group.length >= MAX_GROUP_VALUES) {
          // the cap: the group closes here; the next values of the same key or window start another
          raw = { value: this.group, ts };
          this.group = [];
          this.splits++;
        }
      }
    }
    if (!raw) return undefined;
    return this.sample(raw);
  }

  /** Flushes a partly filled time or field group (e.g. at the end of a batch). */
  flush(ts: number): SpcEvent | undefined {
    if (this.group.length === 0) return undefined;
    const g = this.group;
    this.group = [];
    if (g.length < this.kind.traits.minSubgroup) return undefined;
    return this.sample({ value: g, ts });
  }

  private sample(raw: Raw): SpcEvent {
    this.raw.push(raw);
    // amortised O(1): trim to the last phase-I length once the buffer doubles
    if (this.raw.length > 2 * Math.max(this.config.phaseOne, RAW_KEEP))
      this.raw = this.raw.slice(-this.config.phaseOne);
    if (!this.stream) {
      this.collected.push(raw);
      const index = this.index++;
      const s = this.kind.parse(raw.value, raw.size, 'payload');
      const ev: SpcEvent = {
        type: this.config.type,
        phase: 1,
        index,
        ts: raw.ts,
        stat: s.value,
        size: s.size,
        violations: [],
        alarms: [],
        collecting: { n: this.collected.length, of: this.config.phaseOne },
      };
      if (this.collected.length >= this.config.phaseOne) {
        try {
          ev.frozen = this.freeze(this.collected, raw.ts);
        } catch (err) {
          // the sample that would complete phase I makes it unusable: take it back, stay collecting
          this.collected.pop();
          this.raw.pop();
          this.index--;
          throw err;
        }
      }
      return ev;
    }
    return this.judge(raw);
  }

  private freeze(samples: Raw[], ts: number): FrozenInfo {
    const c = this.config;
    const values = samples.map((r) => r.value);
    const sizes = samples.map((r) => r.size ?? c.sampleSize ?? 1);
    const common = {
      nsigmas: c.nsigmas,
      lambda: c.lambda,
      decisionInterval: c.decisionInterval,
      shift: c.shift,
      headStart: c.headStart,
      rules: c.rules,
      iterate: c.iterate,
      constants: c.constants,
    };
    const clean = Object.fromEntries(Object.entries(common).filter(([, v]) => v !== undefined));
    const warnings: string[] = [];
    let model: Ar1Model | undefined;
    let ac: Autocorrelation | undefined;
    let data = values as number[] | number[][];
    const traits = this.kind.traits;
    if (traits.autocorrelation && values.length >= 10) {
      ac = autocorrelation(values as number[]);
      if (ac.autocorrelated && c.autocorrelation) {
        const m = values as number[];
        const mu = m.reduce((a, b) => a + b, 0) / m.length;
        const f = new Ar1Filter({ phi: ac.r1, mean: mu, sigmaE: NaN });
        data = m.map((x) => f.push(x)).filter((e): e is number => e !== undefined);
        model = { phi: ac.r1, mean: mu, sigmaE: NaN };
        warnings.push(
          `lag-1 autocorrelation ${ac.r1.toFixed(2)}: charting AR(1) residuals (phi ${ac.r1.toFixed(3)}) instead of raw values`,
        );
      } else if (ac.autocorrelated) {
        warnings.push(
          `lag-1 autocorrelation ${ac.r1.toFixed(2)} (p = ${ac.p.toPrecision(2)}): limits on raw values will raise false alarms; enable the AR(1) residual chart`,
        );
      }
    }
    const needsSizes = traits.sizes !== 'none';
    const result = chart({ type: c.type, data, ...(needsSizes ? { sizes } : {}), ...clean });
    if (result.warnings) warnings.push(...result.warnings);
    let recommendation: Recommendation | undefined;
    try {
      recommendation = recommendChart(
        values as number[] | number[][],
        traits.sizes === 'required' ? sizes : undefined,
      );
      const same = chartKind(recommendation.type).traits.sameData === traits.sameData;
      if (!same && !traits.beyondLimitsOnly) {
        warnings.push(`a ${recommendation.type} chart may suit these data better: ${recommendation.reason}`);
      }
    } catch {
      recommendation = undefined;
    }
    let cap: CapabilityResult | undefined;
    if (c.spec && (c.spec.lsl !== undefined || c.spec.usl !== undefined) && traits.capability) {
      try {
        cap = capability(values as number[] | number[][], c.spec, { constants: c.constants });
        warnings.push(...cap.warnings);
      } catch (err) {
        warnings.push(`capability not computed: ${(err as Error).message}`);
      }
    }
    const p0 = result.points[0];
    const info: FrozenInfo = {
      center: result.center,
      sigma: result.sigma,
      estimator: result.estimator,
      lcl: p0.lcl,
      ucl: p0.ucl,
      samples: result.params.samples,
      excluded: result.excluded ?? [],
      residuals: model !== undefined,
      ...(ac ? { autocorrelation: ac } : {}),
      ...(recommendation ? { recommendation } : {}),
      ...(cap ? { capability: cap } : {}),
      warnings,
    };
    this.freezeWith(result.params, info, model);
    this.frozenAt = ts;
    this.collected = [];
    return info;
  }

  private freezeWith(params: ChartParams, info: FrozenInfo, ar1?: Ar1Model): void {
    this.stream = new ChartStream(params);
    this.rs = ruleSet(params.rules);
    this.ar1 = ar1 ? new Ar1Filter(ar1) : undefined;
    this.info = info;
    this.hist.clear();
    const c = this.config;
    if (c.r2r && this.kind.traits.runToRun) {
      this.r2r = new EwmaR2R({
        ...c.r2r,
        target: c.r2r.target ?? params.center,
        deadband: c.r2r.deadband ?? params.sigma,
      });
    } else this.r2r = undefined;
  }

  private judge(raw: Raw): SpcEvent {
    const c = this.config;
    const stream = this.stream as ChartStream;
    const P = stream.params;
    let value: number | number[] = raw.value;
    if (this.ar1) {
      const e = this.ar1.push(value as number);
      if (e === undefined) {
        const index = this.index++;
        return {
          type: c.type,
          phase: 2,
          index,
          ts: raw.ts,
          stat: value as number,
          size: 1,
          violations: [],
          alarms: [],
        };
      }
      value = e;
    }
    const { point, secondary } =
      raw.parsed && !this.ar1
        ? stream.pushSample(raw.parsed, 2)
        : stream.push(value, raw.size ?? c.sampleSize, 2);
    raw.parsed = undefined; // keep only the raw value for re-estimation
    const index = this.index++;
    const k = P.nsigmas / 3;
    const traits = this.kind.traits;
    const se = this.kind.standardError(P, point.size);
    const x = point.value ?? point.stat;
    // cumulative sums are plotted around 0: the history keeps the sample values around the process centre
    const histCenter = traits.cumulative ? P.center : point.center;
    if (traits.input !== 'vector') {
      this.hist.push(index, x, histCenter, se > 0 ? se : 1);
    }
    const az = Math.abs(point.z);
    const zone: Zone =
      point.stat > point.ucl || point.stat < point.lcl ? 'beyond' : az > 2 * k ? 'A' : az > k ? 'B' : 'C';
    const side = point.z > 0 ? 'above' : point.z < 0 ? 'below' : null;
    const ev: SpcEvent = {
      type: c.type,
      phase: 2,
      index,
      ts: raw.ts,
      stat: point.stat,
      size: point.size,
      center: point.center,
      lcl: point.lcl,
      ucl: point.ucl,
      z: point.z,
      zone,
      side,
      violations: point.violations,
      alarms: [],
    };
    if (secondary) ev.secondary = secondary;
    if (point.upper !== undefined) ev.upper = point.upper;
    if (point.lower !== undefined) ev.lower = point.lower;
    if (point.contributions) ev.contributions = point.contributions;
    const rs = this.rs as RuleSet;
    const setName = traits.beyondLimitsOnly ? 'custom' : rs.name;
    const unit = traits.measured ? P.sigma : undefined;
    let cp: ChangePoint | null | undefined;
    for (const rule of point.violations) {
      let aSide: 'above' | 'below' | null = side;
      if (traits.cumulative) aSide = (point.upper ?? 0) > P.decisionInterval! ? 'above' : 'below';
      if (rule === 3) aSide = this.trendSide();
      if (rule === 4 || rule === 7 || rule === 8) aSide = null;
      const a: Omit<Alarm, 'text'> = {
        rule,
        ruleSet: setName,
        chart: 'primary',
        index,
        ts: raw.ts,
        side: aSide,
      };
      let told = false;
      if ((rule === 1 || rule === 2 || rule === 5 || rule === 6) && this.hist.length >= 2) {
        // one change-point estimate per point, shared by its alarms; the text gives it once
        if (cp === undefined) {
          const h = this.hist.last();
          cp = changePoint(h.x, {
            center: h.center[0],
            sigma: h.se,
            ...(unit ? { unit } : {}),
            offset: h.index[0],
          });
        } else told = true;
        if (cp) a.changePoint = cp;
      }
      const text = describeAlarm(
        told ? { ...a, changePoint: undefined } : a,
        point,
        rs.runLength,
        P.type,
        this.plantZone,
      );
      ev.alarms.push({ ...a, text });
    }
    if (secondary && traits.secondary) {
      const kind = traits.secondary.kind;
      for (const rule of secondary.violations) {
        const a: Omit<Alarm, 'text'> = {
          rule,
          ruleSet: setName,
          chart: kind,
          index,
          ts: raw.ts,
          side: secondary.z > 0 ? 'above' : 'below',
        };
        ev.alarms.push({ ...a, text: describeAlarm(a, secondary, rs.runLength, P.type, this.plantZone) });
      }
    }
    if (this.r2r) {
      const proposal = this.r2r.observe(x);
      if (proposal) ev.r2r = proposal;
    }
    return ev;
  }

  private trendSide(): 'above' | 'below' {
    const h = this.hist.last(2).x;
    return h.length === 2 && h[1] < h[0] ? 'below' : 'above';
  }
}
