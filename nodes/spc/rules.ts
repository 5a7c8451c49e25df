/**
 * Run rules (Western Electric and Nelson), evaluated point by point in constant time.
 *
 * With z = (statistic − centre) / σ of the plotted statistic and k = nsigmas / 3 (zones scale with the
 * limits), the rules are, numbered as Nelson numbers them:
 *   1  beyond the control limits (|z| > 3k, strictly)
 *   2  nine in a row strictly on one side of the centre (Western Electric: eight)
 *   3  six in a row strictly increasing or strictly decreasing
 *   4  fourteen in a row alternating up and down
 *   5  two of three beyond 2k on the same side (the completing point itself beyond)
 *   6  four of five beyond 1k on the same side (the completing point itself beyond)
 *   7  fifteen in a row within 1k (inclusive)
 *   8  eight in a row beyond 1k with points on both sides
 * Rules 3 and 4 look at the plotted statistic itself (up or down on the chart, as qcc and a person reading
 * the chart judge them), not at z: where the limits vary with the sample size (p, u, X̄ with unequal
 * subgroups) the two can move in opposite directions. The zone rules use z.
 * A rule is reported at every point that completes a full window (rule 5 from the third point of the
 * chart, rule 6 from the fifth), so a run above the centre reports rule 2 at its ninth point and at every
 * later point while it lasts.
 */
import { TaktError } from '../core/errors';

export type RuleSetName = 'nelson' | 'we';
export type RuleSpec = RuleSetName | number[];

/** A resolved rule set: which Nelson rules and the length of the one-side run (9, or 8 for WE). */
export interface RuleSet {
  rules: readonly number[];
  runLength: number;
  name: 'nelson' | 'we' | 'custom';
}

export const NELSON: RuleSet = { rules: [1, 2, 3, 4, 5, 6, 7, 8], runLength: 9, name: 'nelson' };
export const WESTERN_ELECTRIC: RuleSet = { rules: [1, 2, 5, 6], runLength: 8, name: 'we' };
export const BEYOND_LIMITS_ONLY: RuleSet = { rules: [1], runLength: 9, name: 'custom' };

/** Short names of the rules, used in alarm texts. */
export const RULE_TEXT: Record<number, string> = {
  1: 'beyond the control limits',
  2: 'points in a row on one side of the centre',
  3: 'six points in a row steadily increasing or decreasing',
  4: 'fourteen points in a row alternating up and down',
  5: 'two of three points beyond 2 sigma on one side',
  6: 'four of five points beyond 1 sigma on one side',
  7: 'fifteen points in a row within 1 sigma of the centre',
  8: 'eight points in a row beyond 1 sigma on both sides',
};

/** Turns "nelson", "we" or a list of Nelson rule numbers into a rule set; throws on anything else. */
export function ruleSet(spec: RuleSpec | undefined, field = 'rules'): RuleSet {
  if (spec === undefined || spec === 'nelson') return NELSON;
  if (spec === 'we') return WESTERN_ELECTRIC;
  if (Array.isArray(spec)) {
    const rules = [...new Set(spec)].sort((a, b) => a - b);
    for (const r of rules) {
      if (!Number.isInteger(r) || r < 1 || r > 8) {
        throw new TaktError('spc.badRules', `${field}: ${String(r)} is not a rule number (1 to 8)`, field);
      }
    }
    return { rules, runLength: 9, name: 'custom' };
  }
  throw new TaktError(
    'spc.badRules',
    `${field}: expected "nelson", "we" or an array of rule numbers, got ${JSON.stringify(spec)}`,
    field,
  );
}

export interface RuleEngineState {
  n: number;
  prevZ: number;
  /** The previous plotted statistic (rules 3 and 4); absent in states saved before it existed. */
  prevStat?: number;
  prevDiff: number;
  sideRun: number;
  trendRun: number;
  altRun: number;
  innerRun: number;
  outerRun: number;
  lastAbove1: number;
  lastBelow1: number;
  recent: number[];
}

/**
 * Streaming rule evaluation: `push(z, beyond)` returns the rules completed at this point. Keeps only run
 * counters and the last five z values, so each point costs O(1).
 */
export class RuleEngine {
  readonly set: RuleSet;
  readonly k: number;
  private readonly on: boolean[];
  private s: RuleEngineState;

  constructor(set: RuleSet, nsigmas = 3) {
    this.set = set;
    this.k = nsigmas / 3;
    this.on = Array.from({ length: 9 }, (_, i) => set.rules.includes(i));
    this.s = RuleEngine.initial();
  }

  private static initial(): RuleEngineState {
    return {
      n: 0,
      prevZ: NaN,
      prevStat: NaN,
      prevDiff: 0,
      sideRun: 0,
      trendRun: 0,
      altRun: 0,
      innerRun: 0,
      outerRun: 0,
      lastAbove1: -Infinity,
      lastBelow1: -Infinity,
      recent: [],
    };
  }

  reset(): void {
    this.s = RuleEngine.initial();
  }

  snapshot(): RuleEngineState {
    return { ...this.s, recent: [...this.s.recent] };
  }

  restore(state: RuleEngineState): void {
    this.s = { ...state, recent: [...state.recent] };
  }

  /**
   * One point: `z` in sigma units of the plotted statistic, `beyond` true when the point is strictly
   * outside its own control limits (rule 1 is judged on the limits, which may be clipped), `stat` the
   * plotted statistic whose ups and downs rules 3 and 4 follow (default z, the same when the limits are
   * constant).
   */
  push(z: number, beyond: boolean, stat: number = z): number[] {
    const s = this.s;
    const k = this.k;
    const on = this.on;
    const out: number[] = [];
    const i = s.n++;

    if (on[1] && beyond) out.push(1);

    // rule 2: same side run (z = 0 breaks it)
    const side = z > 0 ? 1 : z < 0 ? -1 : 0;
    const prevSide = s.prevZ > 0 ? 1 : s.prevZ < 0 ? -1 : 0;
    s.sideRun = side === 0 ? 0 : side === prevSide ? s.sideRun + 1 : 1;
    if (on[2] && s.sideRun >= this.set.runLength) out.push(2);

    // rules 3 and 4 on successive differences of the plotted statistic
    const prev = s.prevStat ?? NaN;
    const diff = i === 0 ? 0 : stat > prev ? 1 : stat < prev ? -1 : 0;
    if (diff === 0) {
      s.trendRun = 1;
      s.altRun = 1;
    } else {
      s.trendRun = diff === s.prevDiff ? s.trendRun + 1 : 2;
      s.altRun = s.prevDiff !== 0 && diff === -s.prevDiff ? s.altRun + 1 : 2;
    }
    if (i === 0) {
      s.trendRun = 1;
      s.altRun = 1;
    }
    s.prevDiff = diff;
    if (on[3] && s.trendRun >= 6) out.push(3);
    if (on[4] && s.altRun >= 14) out.push(4);

    // rules 5 and 6 on full windows of the last 3 and 5 points
    s.recent.push(z);
    if (s.recent.length > 5) s.recent.shift();
    const r = s.recent;
    if (on[5] && Math.abs(z) > 2 * k && r.length >= 3) {
      const sign = Math.sign(z);
      let c = 0;
      for (let j = Math.max(0, r.length - 3); j < r.length; j++) if (sign * r[j] > 2 * k) c++;
      if (c >= 2) out.push(5);
    }
    if (on[6] && Math.abs(z) > k && r.length >= 5) {
      const sign = Math.sign(z);
      let c = 0;
      for (let j = Math.max(0, r.length - 5); j < r.length; j++) if (sign * r[j] > k) c++;
      if (c >= 4) out.push(6);
    }

    // rule 7: within 1k inclusive
    s.innerRun = Math.abs(z) <= k ? s.innerRun + 1 : 0;
    if (on[7] && s.innerRun >= 15) out.push(7);

    // rule 8: beyond 1k, both sides within the last eight
    if (z > k) s.lastAbove1 = i;
    if (z < -k) s.lastBelow1 = i;
    s.outerRun = Math.abs(z) > k ? s.outerRun + 1 : 0;
    if (on[8] && s.outerRun >= 8 && s.lastAbove1 > i - 8 && s.lastBelow1 > i - 8) out.push(8);

    s.prevZ = z;
    s.prevStat = stat;
    return out;
  }
}

export interface RuleHit {
  rule: number;
  index: number;
}

/**
 * Evaluates run rules on a series with one centre and one sigma (of the plotted statistic).
 * Returns every (rule, index) completed, ordered by index then rule.
 */
export function rules(
  stats: readonly number[],
  opts: { center: number; sigma: number; rules?: RuleSpec; nsigmas?: number },
): RuleHit[] {
  if (!Array.isArray(stats))
    throw new TaktError('spc.badData', 'stats: expected an array of numbers', 'stats');
  const { center, sigma } = opts;
  const nsigmas = opts.nsigmas ?? 3;
  if (typeof center !== 'number' || !Number.isFinite(center)) {
    throw new TaktError('spc.badLimits', `center: ${String(center)} is not a finite number`, 'center');
  }
  if (typeof sigma !== 'number' || !(sigma > 0) || !Number.isFinite(sigma)) {
    throw new TaktError('spc.badLimits', `sigma: ${String(sigma)} must be a positive number`, 'sigma');
  }
  if (!(nsigmas > 0) || !Number.isFinite(nsigmas)) {
    throw new TaktError('spc.badNsigmas', `nsigmas: ${String(nsigmas)} must be a positive number`, 'nsigmas');
  }
  stats.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new TaktError(
        'spc.notNumeric',
        `stats[${i}]: ${String(v)} is not a finite number`,
        `stats[${i}]`,
      );
    }
  });
  const engine = new RuleEngine(ruleSet(opts.rules), nsigmas);
  const ucl = center + nsigmas * sigma;
  const lcl = center - nsigmas * sigma;
  const out: RuleHit[] = [];
  stats.forEach((v, index) => {
    for (const rule of engine.push((v - center) / sigma, v > ucl || v < lcl, v)) out.push({ rule, index });
  });
  return out;
}
