/**
 * Adaptive control of setpoints by trial and error within engineer-set bounds (takt-tune's engine; no
 * Node-RED). After every part the tuner learns how the setpoints and the observed drift (tool wear counter,
 * ambient temperature, material lot...) move the quality characteristic and the energy per part, then proposes
 * the setpoints for the next part: the quality on target first, less energy second.
 *
 * The model is linear in quadratic features of the normalised setpoints, the context (and, optionally,
 * setpoint × context interactions), learned by a Kalman filter that separates what drifts from what does not:
 * the offset is a random walk (the drift the context does not explain), the gains are constant, so they are
 * never forgotten while a setpoint sits still or at its bound. How fast the offset drifts is not assumed: a
 * bank of filters with different drift rates runs side by side and the one whose one-step predictions have
 * been the most likely lately is used. Proposals minimise the expected squared deviation from target, which
 * includes the model's own uncertainty at the candidate (so the tuner stays where it has evidence: cautious,
 * "safe" exploration); energy is second: the least among the candidates within a small slack of the best
 * quality sets how far to go along the setpoints of equal quality, and the proposal then goes back across them
 * to the aim, offset towards the cheap side only by what `energyWeight` says a per cent of energy is worth.
 * Energy readings far outside the energy model's prediction (a part whose cycle was interrupted) are taken at
 * 3 noise SDs. The first parts (6 per setpoint without a known gain) probe up to three steps (at most 15 % of
 * the range) around the start so the gains show above the noise. A gain the engineer knows (`gain`, as a
 * run-to-run controller is told) is the prior of that gain instead: that setpoint is not probed, and corrects
 * the level while the others are.
 * When the model says nothing within a step helps while the quality is more than a noise SD off, and a
 * setpoint's slope there is flat only by extrapolated curvature, that setpoint is moved a step to see.
 *
 * Two things it sees coming: a context change observed before the part it affects (a new lot's hardness) is
 * in the prediction of that part (feedforward); and a counter that resets (a tool's parts since its change,
 * seen resetting before) is met halfway: the proposals move ahead of the reset the model predicts, since the
 * step limit would otherwise leave the parts after it to catch up one step at a time (`lead`).
 *
 * Hard guarantees, whatever comes in (checked in `guard`, the last step of every proposal):
 * - every proposed value lies within [min, max] of its setpoint;
 * - no value moves more than `maxStep` from the setpoint in force (taken inside its bounds);
 * - a part with no usable quality (missing, not a finite number, or quality "bad") teaches nothing, and the
 *   proposal goes back towards the last good setpoint (the one in force for the last part within tolerance),
 *   still within the step limit, with mode "fallback" and the reason.
 */
import { TaktError } from '../core/errors';
import type { Quality } from '../core/message';

export interface TuneSetpoint {
  name: string;
  min: number;
  max: number;
  /** Largest change of this setpoint in one proposal (> 0). */
  maxStep: number;
  /** The setpoint in force at start (within min..max). */
  initial: number;
  /**
   * The pre-approved trust region [lo, hi] inside min..max: a proposal whose every value lies in its trust
   * region may be applied directly; any other goes to a person for approval. Default: no trust region.
   */
  trust?: [number, number];
  /**
   * The engineer's estimate of how much the quality characteristic changes per unit of this setpoint near the
   * start (quality units per setpoint unit, signed: e.g. 0.0001 mm of bore per mm/min of feed), as a
   * run-to-run controller is given. Optional. Given, it is the prior mean of that gain (the model's linear
   * term; prior SD half its size, at least a quarter tolerance over the half range: data overrule an estimate
   * that is off, even one of the wrong sign; one too small to move the quality by a hundredth of the
   * tolerance over the whole range is refused as a unit slip), the warm-up does not probe that setpoint, and
   * the setpoint with the largest known effect corrects the level from the first part while the others are
   * probed. Default: none (the gain is learned from the warm-up's probes).
   */
  gain?: number;
}

export interface TunerOptions {
  setpoints: TuneSetpoint[];
  /** The target of the quality characteristic. */
  target: number;
  /** Tolerance (±) of the quality characteristic: parts within it are good (the fallback's last good setpoint). */
  tolerance: number;
  /** Names of the drift context inputs (e.g. tool wear counter, ambient temperature, lot hardness). */
  context?: string[];
  /**
   * What one per cent less energy per part is worth, in noise variances of expected squared deviation (default
   * 0.01); 0 ignores energy. Above 0, energy is second to quality: among the setpoints of equal quality the
   * least predicted energy (see `energySlack`), and the aim moves off target towards the cheaper side by what
   * the weight buys where the energy changes with the quality: the bias b (in noise SDs) minimises
   * b² + energyWeight × (per cent of energy), so b = −energyWeight/2 × (per cent of energy per noise SD), at most
   * one noise SD. At 0.01 that is under 0.04 noise SDs on CNC1; a plant that counts energy higher sets more.
   */
  energyWeight?: number;
  /**
   * Parts probed around the start before the model is used (default 6 per setpoint without a `gain`). Probed
   * setpoints run open loop around the start: a start far off target stays there until the model is used
   * (unless a setpoint with a known gain corrects the level meanwhile), so a long warm-up costs more than it
   * teaches (at 12 per setpoint the tuner lost to the run-to-run controller on 12 of the 27 random surfaces
   * randomProcess(1..27) of bench/lib/control.ts; at 6, on 7).
   */
  warmup?: number;
  /**
   * Expected squared deviation (in noise variances) the tuner may give up for less energy: among the setpoints
   * within this of the best quality, the least energy (default 0.05).
   */
  energySlack?: number;
  /** Weight of the model's own uncertainty at a candidate in its cost (default 1; 0 = certainty equivalence). */
  caution?: number;
  /** Learn how the context changes the setpoints' effect (setpoint × context terms; default false). */
  interactions?: boolean;
}

export interface TuneObservation {
  /** The measured quality characteristic of the part (missing or non-numeric: fallback). */
  quality?: unknown;
  /** Quality of the measurement; "bad" means fallback. */
  status?: Quality;
  /** Energy (or cycle time) of the part, optional. */
  energy?: unknown;
  /** Drift context by name; a missing or non-numeric value keeps the last one seen. */
  context?: Readonly<Record<string, unknown>>;
  /** The setpoints in force for this part, by name (default: the tuner's setpoints in force). */
  setpoints?: Readonly<Record<string, unknown>>;
}

export type TuneMode = 'probe' | 'tune' | 'fallback';

export interface TuneProposal {
  /** Proposed setpoints by name. */
  setpoints: Record<string, number>;
  /** The same, in the order of the options' setpoints. */
  values: number[];
  /** The setpoints in force when proposed. */
  current: number[];
  /** values − current. */
  change: number[];
  mode: TuneMode;
  /** Why, in short words: "tuning", "probing", "no quality", "bad quality". */
  reason: string;
  /** Every value lies inside its trust region: may be applied without approval. */
  withinTrust: boolean;
  /** Prediction for the next part at the proposal (once the model is used). */
  predicted?: { quality: number; sd: number; energy?: number };
  /** Parts learned from so far. */
  parts: number;
  /** Parts that fell back (no usable quality) so far. */
  fallbacks: number;
  /** Setpoints whose wanted move was cut by the bounds or the step limit. */
  limited: string[];
}

/** Prior variance of the offset, gains and context coefficients, in tolerances² per unit feature (vague). */
const PRIOR_VAR = 4;
/**
 * Prior variance of the curvature and setpoint-product coefficients: a response whose gain reverses within the
 * bounds is unlikely, so curvature is expected to be well below the gain (sd 0.22 tolerance over the half
 * range). Data overrule it; without it, curvature learned from the small warm-up square extrapolates wildly
 * once a setpoint travels to its bound.
 */
const CURVATURE_PRIOR_VAR = 0.05;
/** Amplitude of the warm-up probes, in steps. */
const PROBE_STEPS = 3;
/**
 * ...and at most this share of the setpoint's range: the probes' size was developed with steps of 5 % of the
 * range (three steps, 15 %); a step limit twice that made them twice as wide, and on the held-out surfaces of
 * randomProcessB (bench/lib/control.ts) with a large step limit and strong setpoints the first 20 parts cost
 * up to 3.9 times R2R's (that surface's run, 1.14x R2R's MSD; 1.03x with the cap).
 */
const PROBE_SPAN = 0.15;
/**
 * Prior SD of a gain the engineer gave (`gain`), as a share of it: a half or double estimate costs little, and
 * data overrule one of the wrong sign. At least GAIN_PRIOR_MIN_SD tolerances per half range: a gain given too
 * small is not also taken as a certain one.
 */
const GAIN_PRIOR_SD = 0.5;
const GAIN_PRIOR_MIN_SD = 0.25;
/**
 * Least effect of a given gain over the setpoint's half range, in tolerances: below it, the setpoint could not
 * move the quality by a hundredth of the tolerance across its whole range, which is a unit slip, not a gain.
 */
const GAIN_MIN_EFFECT = 0.005;
/**
 * Prior variance of the energy model's gains and context coefficients, in (energy / first reading)² per unit
 * feature: a setpoint that changes the energy by half over its half range is one SD. Vaguer, a single
 * reading early on (a part with a stop, before the model knows the noise) set gains of several hundred per
 * cent that took a hundred parts to undo.
 */
const ENERGY_PRIOR_VAR = 0.25;
/**
 * Drift rates of the filter bank: the variance added to the offset per part, as a share of the noise variance.
 * The filter whose one-step predictions have been most likely lately is used (multiple-model estimation).
 */
const DRIFT_RATES = [0.001, 0.005, 0.02, 0.08, 0.3];
/** Discount per part of the noise variance estimate and of the filters' likelihood scores. */
const NOISE_DISCOUNT = 0.995;
const SCORE_DISCOUNT = 0.98;
/** Energy readings are taken at most this many noise SDs from the energy model's prediction. */
const ENERGY_CLIP = 3;
/** Step (in normalised setpoint units) of the central differences of the predicted quality's gradient. */
const GRADIENT_STEP = 0.01;
/** A context's scale is re-taken when its spread or centre moves this much (the model is re-expressed). */
const RESCALE = 0.25;

const bad = (field: string, what: string): never => {
  throw new TaktError('tune.badOption', `${field}: ${what}`, field);
};
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
/** A setpoint's given `gain` in the model's units: tolerances of quality per normalised setpoint (half range). */
const modelGain = (s: TuneSetpoint, tolerance: number): number =>
  ((s.gain ?? 0) * (s.max - s.min)) / 2 / tolerance;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Checks tuner options; throws tune.badOption naming the field. */
export function checkTunerOptions(
  o: TunerOptions,
): Required<Omit<TunerOptions, 'context'>> & { context: string[] } {
  if (!Array.isArray(o.setpoints) || o.setpoints.length < 1 || o.setpoints.length > 4)
    bad('setpoints', 'give 1 to 4 setpoints');
  const names = new Set<string>();
  o.setpoints.forEach((s, i) => {
    const f = `setpoints[${i}]`;
    if (typeof s.name !== 'string' || s.name === '') bad(`${f}.name`, 'must be a non-empty name');
    if (names.has(s.name)) bad(`${f}.name`, `"${s.name}" is used twice`);
    names.add(s.name);
    if (!finite(s.min) || !finite(s.max) || !(s.max > s.min)) bad(f, 'needs finite min < max');
    if (!finite(s.maxStep) || !(s.maxStep > 0)) bad(`${f}.maxStep`, 'must be a number > 0');
    if (!finite(s.initial) || s.initial < s.min || s.initial > s.max)
      bad(`${f}.initial`, 'must lie within min..max');
    if (s.trust !== undefined) {
      const [lo, hi] = s.trust;
      if (!finite(lo) || !finite(hi) || lo > hi || lo < s.min || hi > s.max)
        bad(`${f}.trust`, 'must be [lo, hi] with min <= lo <= hi <= max');
    }
    if (s.gain !== undefined) {
      if (!finite(s.gain) || s.gain === 0)
        bad(`${f}.gain`, 'must be a non-zero number (quality units per setpoint unit)');
      const effect = Math.abs(modelGain(s, o.tolerance));
      if (!(effect >= GAIN_MIN_EFFECT) || !Number.isFinite(effect * effect))
        bad(
          `${f}.gain`,
          `moves the quality by ${effect.toPrecision(3)} tolerances over half the range: check its unit`,
        );
    }
  });
  const probed = o.setpoints.filter((s) => s.gain === undefined).length;
  if (!finite(o.target)) bad('target', 'must be a finite number');
  if (!finite(o.tolerance) || !(o.tolerance > 0)) bad('tolerance', 'must be a number > 0');
  const context = o.context ?? [];
  if (!Array.isArray(context) || context.some((c) => typeof c !== 'string' || c === ''))
    bad('context', 'must be a list of names');
  const num = (k: keyof TunerOptions, dflt: number, lo: number, hi: number) => {
    const v = o[k] ?? dflt;
    if (!finite(v) || v < lo || v > hi) bad(k, `must be a number in ${lo}..${hi}`);
    return v as number;
  };
  return {
    setpoints: o.setpoints,
    target: o.target,
    tolerance: o.tolerance,
    context,
    energyWeight: num('energyWeight', 0.01, 0, 100),
    energySlack: num('energySlack', 0.05, 0, 100),
    warmup: Math.round(num('warmup', 2 * PROBE_STEPS * probed, 0, 10000)),
    caution: num('caution', 1, 0, 100),
    interactions: o.interactions === true,
  };
}

/**
 * A Kalman filter on the coefficients of a linear model y = φᵀθ + noise, where only θ[0] (the offset) drifts
 * as a random walk: the gains learned from past moves are kept however long the setpoints then sit still or
 * at a bound (no forgetting), while the offset follows what the context does not explain.
 */
interface Filter {
  theta: number[];
  P: number[][];
  /** Offset variance added per part, as a share of the noise variance. */
  drift: number;
  /** Discounted log-likelihood of its one-step predictions. */
  score: number;
}

/** The noise variance estimate: discounted mean of squared standardised innovations (with a weak prior). */
interface Noise {
  sum: number;
  weight: number;
}

function newFilter(prior: readonly number[], drift: number): Filter {
  const p = prior.length;
  return {
    theta: new Array<number>(p).fill(0),
    P: Array.from({ length: p }, (_, i) => Array.from({ length: p }, (__, j) => (i === j ? prior[i] : 0))),
    drift,
    score: 0,
  };
}

/** Predicted mean and variance (without the noise) of φᵀθ. */
function predict(f: Filter, phi: readonly number[]): { m: number; v: number } {
  let m = 0;
  let v = 0;
  for (let i = 0; i < phi.length; i++) {
    m += phi[i] * f.theta[i];
    let r = 0;
    for (let j = 0; j < phi.length; j++) r += f.P[i][j] * phi[j];
    v += phi[i] * r;
  }
  return { m, v: Math.max(0, v) };
}

/** One Kalman step: the offset drifts, then the observation y at φ with noise variance r updates θ and P. */
function update(f: Filter, phi: readonly number[], y: number, r: number): { e: number; s: number } {
  f.P[0][0] += f.drift * r;
  const p = phi.length;
  const Pphi = f.P.map((row) => row.reduce((a, v, j) => a + v * phi[j], 0));
  const s = Math.max(1e-300, Pphi.reduce((a, v, i) => a + v * phi[i], 0) + r);
  const e = y - phi.reduce((a, v, i) => a + v * f.theta[i], 0);
  for (let i = 0; i < p; i++) f.theta[i] += (Pphi[i] / s) * e;
  for (let i = 0; i < p; i++)
    for (let j = 0; j <= i; j++)
      f.P[i][j] = f.P[j][i] = (f.P[i][j] + f.P[j][i]) / 2 - (Pphi[i] * Pphi[j]) / s;
  return { e, s };
}

/** The learned state of a tuner: what `Tuner.state()` returns and `Tuner.restore()` takes (plain JSON). */
export interface TunerState {
  version: 1;
  /** The setpoint names, target and tolerance it was learned for (a state for other settings is refused). */
  key: string;
  current: number[];
  lastGood: number[];
  start: number[];
  /** The warm-up's level correction of each setpoint (absent in states saved before it was kept: none). */
  level?: number[];
  probeIndex: number;
  learned: number;
  fallbacks: number;
  lastContext: (number | null)[];
  /** What each context has shown of a counter that resets (absent in states saved before it was kept). */
  counters?: Counter[];
  scale: { n: number; mean: number; m2: number; centre: number; spread: number }[];
  quality: Filter[];
  noise: Noise;
  energy?: { filter: Filter; noise: Noise; ref: number };
}

/**
 * A context input seen as a counter that resets, e.g. a tool's parts since its last change: the step it last
 * rose by per part, and the value it reached before its last reset and the value it restarted from.
 */
interface Counter {
  step: number | null;
  /** Rises by exactly `step` in a row, up to now. */
  run: number;
  resetAt: number | null;
  resetTo: number | null;
}

/** A deep copy of plain JSON state (what `state()` saves and `restore()` reads). */
const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** A context is taken for a counter after this many equal rises in a row (ambient or a lot never do that). */
const COUNTER_RUN = 5;
const newCounter = (): Counter => ({ step: null, run: 0, resetAt: null, resetTo: null });

export class Tuner {
  readonly options: ReturnType<typeof checkTunerOptions>;
  private readonly d: number;
  private cur: number[];
  private good: number[];
  private lastContext: number[];
  private counters: Counter[];
  private learned = 0;
  private fell = 0;
  private probeIndex = 0;
  private start: number[];
  /** What the warm-up's level correction has moved each setpoint by from the start (see `correctLevel`). */
  private level: number[];
  /** Context standardisation: running mean and spread, and the centre and spread the model is expressed in. */
  private scale: TunerState['scale'];
  private quality: Filter[];
  private noise: Noise;
  private energy: TunerState['energy'];
  private readonly prior: number[];

  constructor(o: TunerOptions) {
    this.options = checkTunerOptions(o);
    this.d = o.setpoints.length;
    this.cur = o.setpoints.map((s) => s.initial);
    this.good = [...this.cur];
    this.start = [...this.cur];
    this.level = this.cur.map(() => 0);
    this.lastContext = this.options.context.map(() => NaN);
    this.counters = this.options.context.map(newCounter);
    this.scale = this.options.context.map(() => ({ n: 0, mean: 0, m2: 0, centre: NaN, spread: 1 }));
    const p = this.features(
      new Array<number>(this.d).fill(0),
      this.options.context.map(() => 0),
    ).length;
    this.prior = this.priorVariances(p);
    this.quality = DRIFT_RATES.map((q) => newFilter(this.prior, q));
    // A gain the engineer gave, in the model's units (tolerances per normalised setpoint), is its prior mean.
    this.options.setpoints.forEach((s, i) => {
      if (s.gain === undefined) return;
      const g = modelGain(s, this.options.tolerance);
      for (const f of this.quality) {
        f.theta[1 + i] = g;
        f.P[1 + i][1 + i] = Math.max(GAIN_PRIOR_SD * Math.abs(g), GAIN_PRIOR_MIN_SD) ** 2;
      }
    });
    // Prior: noise about a fifth of the tolerance, worth a few parts.
    this.noise = { sum: 3 * 0.04, weight: 3 };
  }

  /** The setpoints in force, in the order of the options. */
  get current(): number[] {
    return [...this.cur];
  }

  /** The last good setpoints (in force for the last part within tolerance; the initial ones before any). */
  get lastGood(): number[] {
    return [...this.good];
  }

  get parts(): number {
    return this.learned;
  }

  /**
   * Reports the setpoints now in force (a direct write, an approved proposal, a manual change), by name or in
   * order. Values that are missing or not finite keep the one in force; nothing else is checked, since this is
   * what the machine runs (proposals step from it, taken inside its bounds).
   */
  applied(values: readonly unknown[] | Readonly<Record<string, unknown>>): void {
    this.options.setpoints.forEach((s, i) => {
      const v = Array.isArray(values) ? values[i] : (values as Record<string, unknown>)[s.name];
      if (finite(v)) this.cur[i] = v;
    });
  }

  /** Learns from one part (when its quality is usable) and proposes the setpoints for the next. */
  observe(obs: TuneObservation): TuneProposal {
    const o = this.options;
    const inForce = o.setpoints.map((s, i) => {
      const v = obs.setpoints?.[s.name];
      return finite(v) ? v : this.cur[i];
    });
    if (obs.setpoints) this.applied(inForce);
    const y = obs.quality;
    const usable = finite(y) && obs.status !== 'bad';
    // The part is learned with the context known when it was proposed (the one observed with the part before):
    // the model learns exactly the one-step-ahead prediction the proposals use.
    if (usable) this.learn(inForce, (y - o.target) / o.tolerance, obs.energy);
    o.context.forEach((name, k) => {
      const v = obs.context?.[name];
      if (!finite(v)) return;
      this.count(k, v);
      this.lastContext[k] = v;
    });
    this.rescale();
    if (!usable) {
      this.fell++;
      return this.propose(this.good, 'fallback', finite(y) ? 'bad quality' : 'no quality');
    }
    this.learned++;
    if (Math.abs(y - o.target) <= o.tolerance) this.good = inForce.map((v, i) => this.inside(v, i));
    if (this.learned <= o.warmup) {
      this.correctLevel();
      return this.propose(this.probe(), 'probe', 'probing');
    }
    const best = this.search();
    return this.propose(best.values, 'tune', 'tuning', best.predicted);
  }

  /** The learned state, as plain JSON (bounded: a few hundred numbers), for `restore` after a restart. */
  state(): TunerState {
    return {
      version: 1,
      key: this.key(),
      current: [...this.cur],
      lastGood: [...this.good],
      start: [...this.start],
      level: [...this.level],
      probeIndex: this.probeIndex,
      learned: this.learned,
      fallbacks: this.fell,
      lastContext: this.lastContext.map((v) => (Number.isFinite(v) ? v : null)),
      counters: copy(this.counters),
      scale: copy(this.scale),
      quality: copy(this.quality),
      noise: { ...this.noise },
      ...(this.energy ? { energy: copy(this.energy) } : {}),
    };
  }

  /**
   * Continues from a saved state. Throws tune.badState (and changes nothing) when it is not a state of a tuner
   * with these setpoints, target, tolerance and context.
   */
  restore(x: unknown): void {
    const s = x as TunerState;
    const fail = (what: string): never => {
      throw new TaktError('tune.badState', `saved tuner state: ${what}`, 'state');
    };
    if (typeof s !== 'object' || s === null || s.version !== 1) fail('not a version 1 state');
    if (s.key !== this.key()) fail('learned for other setpoints, target, tolerance or context');
    const d = this.d;
    const k = this.options.context.length;
    const p = this.quality[0].theta.length;
    const nums = (a: unknown, n: number) => Array.isArray(a) && a.length === n && a.every(finite);
    const filterOk = (f: Filter | undefined) =>
      f !== undefined &&
      nums(f.theta, p) &&
      Array.isArray(f.P) &&
      f.P.length === p &&
      f.P.every((r) => nums(r, p)) &&
      finite(f.drift) &&
      finite(f.score);
    const noiseOk = (n: Noise | undefined) =>
      n !== undefined && finite(n.sum) && finite(n.weight) && n.weight > 0;
    if (!nums(s.current, d) || !nums(s.lastGood, d) || !nums(s.start, d)) fail('bad setpoints');
    if (s.level !== undefined && !nums(s.level, d)) fail('bad level correction');
    if (![s.probeIndex, s.learned, s.fallbacks].every((v) => Number.isInteger(v) && v >= 0))
      fail('bad counters');
    if (!Array.isArray(s.lastContext) || s.lastContext.length !== k) fail('bad context');
    const orNull = (v: unknown) => v === null || finite(v);
    if (
      s.counters !== undefined &&
      (!Array.isArray(s.counters) ||
        s.counters.length !== k ||
        !s.counters.every(
          (c) => orNull(c.step) && Number.isInteger(c.run) && orNull(c.resetAt) && orNull(c.resetTo),
        ))
    )
      fail('bad context counters');
    if (
      !Array.isArray(s.scale) ||
      s.scale.length !== k ||
      !s.scale.every(
        (c) => [c.n, c.mean, c.m2, c.spread].every(finite) && (finite(c.centre) || c.centre === null),
      )
    )
      fail('bad context scale');
    if (!Array.isArray(s.quality) || s.quality.length !== DRIFT_RATES.length || !s.quality.every(filterOk))
      fail('bad quality model');
    if (!noiseOk(s.noise)) fail('bad noise estimate');
    if (
      s.energy !== undefined &&
      (!filterOk(s.energy.filter) || !noiseOk(s.energy.noise) || !finite(s.energy.ref))
    )
      fail('bad energy model');
    this.cur = [...s.current];
    this.good = [...s.lastGood];
    this.start = [...s.start];
    this.level = s.level ? [...s.level] : this.cur.map(() => 0);
    this.probeIndex = s.probeIndex;
    this.learned = s.learned;
    this.fell = s.fallbacks;
    this.lastContext = s.lastContext.map((v) => (finite(v) ? v : NaN));
    this.counters = s.counters ? copy(s.counters) : this.options.context.map(newCounter);
    // JSON has no NaN: a centre not yet taken is saved as null.
    this.scale = copy(s.scale).map((c) => ({ ...c, centre: finite(c.centre) ? c.centre : NaN }));
    this.quality = copy(s.quality);
    this.noise = { ...s.noise };
    this.energy = s.energy ? copy(s.energy) : undefined;
  }

  // ---- model -----------------------------------------------------------------------------------

  private key(): string {
    const o = this.options;
    return JSON.stringify([
      o.setpoints.map((s) => [s.name, s.min, s.max]),
      o.target,
      o.tolerance,
      o.context,
      o.interactions,
    ]);
  }

  private inside(v: number, i: number): number {
    const s = this.options.setpoints[i];
    return clamp(v, s.min, s.max);
  }

  private norm(values: readonly number[]): number[] {
    return this.options.setpoints.map((s, i) => (2 * (values[i] - s.min)) / (s.max - s.min) - 1);
  }

  /** The context in the model's units (a context not seen yet: 0, its centre). */
  private z(): number[] {
    return this.lastContext.map((v, k) => {
      const c = this.scale[k];
      return Number.isFinite(v) && Number.isFinite(c.centre) ? (v - c.centre) / c.spread : 0;
    });
  }

  /**
   * Half the change of model f's prediction (the quality's, or the energy's) between u + h_i and u - h_i along
   * each normalised setpoint i (central differences; divided by h_i, the gradient).
   */
  private diffs(f: Filter, u: readonly number[], z: readonly number[], h: readonly number[]): number[] {
    return u.map((_, i) => {
      const up = [...u];
      const dn = [...u];
      up[i] += h[i];
      dn[i] -= h[i];
      return (predict(f, this.features(up, z)).m - predict(f, this.features(dn, z)).m) / 2;
    });
  }

  /** Features: offset, normalised setpoints u, their squares and products, context z (and z × u). */
  private features(u: readonly number[], z: readonly number[]): number[] {
    const f = [1, ...u];
    for (let i = 0; i < u.length; i++) for (let j = i; j < u.length; j++) f.push(u[i] * u[j]);
    for (const zk of z) {
      f.push(zk);
      if (this.options.interactions) for (const ui of u) f.push(zk * ui);
    }
    return f;
  }

  private priorVariances(p: number): number[] {
    const d = this.d;
    return Array.from({ length: p }, (_, i) =>
      i > d && i <= d + (d * (d + 1)) / 2 ? CURVATURE_PRIOR_VAR : PRIOR_VAR,
    );
  }

  /**
   * A new energy model (energy over the first reading): the offset starts at 1, the gains and context
   * coefficients at 0 with variance ENERGY_PRIOR_VAR, the curvature as the quality's.
   */
  private energyFilter(): Filter {
    const f = newFilter(
      this.prior.map((v, i) => (i === 0 ? 1 : Math.min(v, ENERGY_PRIOR_VAR))),
      DRIFT_RATES[0],
    );
    f.theta[0] = 1;
    return f;
  }

  /** Index of context k's own feature (its interactions follow it). */
  private contextIndex(k: number): number {
    const d = this.d;
    return 1 + d + (d * (d + 1)) / 2 + k * (this.options.interactions ? d + 1 : 1);
  }

  /**
   * Keeps each context's centre and spread near its running mean and standard deviation. When they move, the
   * models are re-expressed in the new units (θ' = Tθ, P' = TPTᵀ): the same predictions, nothing forgotten.
   */
  private rescale(): void {
    const inter = this.options.interactions;
    this.scale.forEach((c, k) => {
      const v = this.lastContext[k];
      if (!Number.isFinite(v)) return;
      c.n++;
      const dlt = v - c.mean;
      c.mean += dlt / c.n;
      c.m2 += dlt * (v - c.mean);
      if (!Number.isFinite(c.centre)) {
        c.centre = v;
        return;
      }
      const sd = Math.sqrt(c.m2 / c.n);
      const spread = sd > 1e-9 * (Math.abs(c.mean) + 1) ? sd : c.spread;
      if (Math.abs(spread / c.spread - 1) <= RESCALE && Math.abs(c.mean - c.centre) <= RESCALE * spread)
        return;
      // z = (x − centre)/spread = (spread'·z' + centre' − centre)/spread
      const a = spread / c.spread;
      const b = (c.mean - c.centre) / c.spread;
      const j = this.contextIndex(k);
      const models = [...this.quality, ...(this.energy ? [this.energy.filter] : [])];
      for (const f of models) {
        const p = f.theta.length;
        const T: number[][] = Array.from({ length: p }, (_, r) =>
          Array.from({ length: p }, (__, q) => (r === q ? 1 : 0)),
        );
        T[j][j] = a;
        T[0][j] = b;
        if (inter)
          for (let i = 0; i < this.d; i++) {
            T[j + 1 + i][j + 1 + i] = a;
            T[1 + i][j + 1 + i] = b;
          }
        const theta = T.map((row) => row.reduce((s, t, q) => s + t * f.theta[q], 0));
        const TP = T.map((row) => f.P[0].map((_, q) => row.reduce((s, t, r) => s + t * f.P[r][q], 0)));
        f.P = TP.map((row) => T.map((trow) => row.reduce((s, t, r) => s + t * trow[r], 0)));
        f.theta = theta;
      }
      c.centre = c.mean;
      c.spread = spread;
    });
  }

  private learn(values: readonly number[], y: number, energy: unknown): void {
    const phi = this.features(this.norm(values), this.z());
    const r = this.noise.sum / this.noise.weight;
    const inUse = this.best();
    let z2 = 0;
    for (const f of this.quality) {
      const { e, s } = update(f, phi, y, r);
      f.score = SCORE_DISCOUNT * f.score - 0.5 * (Math.log(s) + (e * e) / s);
      if (f === inUse) z2 = (e * e * r) / s;
    }
    // The noise variance from the standardised innovations of the filter in use.
    this.noise.sum = NOISE_DISCOUNT * this.noise.sum + z2;
    this.noise.weight = NOISE_DISCOUNT * this.noise.weight + 1;
    if (this.options.energyWeight > 0 && finite(energy)) {
      if (!this.energy) {
        if (energy === 0) return;
        this.energy = {
          filter: this.energyFilter(),
          noise: { sum: 3 * 0.01, weight: 3 },
          ref: Math.abs(energy),
        };
      }
      const en = this.energy;
      const re = en.noise.sum / en.noise.weight;
      // A reading far outside the model's prediction (a part whose energy includes an interrupted cycle, a
      // stop) is taken at ENERGY_CLIP noise SDs: it still counts, but cannot tilt the gains the least energy
      // is chosen by. Noise SDs, not predictive ones: early on the model's own uncertainty is large, and a
      // stop read at full weight then set the gains.
      const pr = predict(en.filter, phi);
      const sd = Math.sqrt((1 + en.filter.drift) * re);
      const yE = pr.m + clamp(energy / en.ref - pr.m, -ENERGY_CLIP * sd, ENERGY_CLIP * sd);
      const { e, s } = update(en.filter, phi, yE, re);
      en.noise.sum = NOISE_DISCOUNT * en.noise.sum + (e * e * re) / s;
      en.noise.weight = NOISE_DISCOUNT * en.noise.weight + 1;
    }
  }

  /** Follows context k as a counter: the step it rises by, and where it reset last (value before and after). */
  private count(k: number, v: number): void {
    const c = this.counters[k];
    const prev = this.lastContext[k];
    if (!Number.isFinite(prev)) return;
    const d = v - prev;
    if (d > 0 && c.step !== null && Math.abs(d - c.step) <= 1e-9 * Math.max(1, c.step)) c.run++;
    else if (d > 0) {
      c.step = d;
      c.run = 1;
    } else {
      // A drop after a regular rise is a reset; anything else means this is no counter (forget its resets).
      const reset = d < 0 && c.run >= COUNTER_RUN;
      c.resetAt = reset ? prev : null;
      c.resetTo = reset ? v : null;
      c.run = 0;
    }
  }

  /**
   * What the proposal should aim at (tolerance units from target) ahead of a context change it can foresee:
   * a counter that reset before (a tool life, a dressing interval) and is rising towards the value it reset at
   * again. The model predicts the jump J the reset will bring; the step limit lets the quality move at most
   * `rate` per part, so without looking ahead the parts after the jump would miss by J − rate, J − 2·rate...
   * Meeting it halfway splits that miss between the parts before and after it (about a quarter of the squared
   * miss): the last part before the reset aims (|J| − rate)/2 against the jump, earlier parts ramp towards it.
   * No forecast (0) once a counter passes the value it last reset at, or for a jump the step limit covers.
   */
  private lead(f: Filter, u: readonly number[], z: readonly number[]): number {
    const o = this.options;
    let aim = 0;
    // How far the quality can move in one part: each setpoint by its step, in the direction that helps
    // (the same for every counter; worked out when the first counter needs it).
    let rate: number | undefined;
    const stepRate = (): number => {
      if (rate !== undefined) return rate;
      const stepU = o.setpoints.map((sp) => (2 * sp.maxStep) / (sp.max - sp.min));
      rate = this.diffs(f, u, z, stepU).reduce((sum, d) => sum + Math.abs(d), 0);
      return rate;
    };
    this.counters.forEach((c, k) => {
      const v = this.lastContext[k];
      const sc = this.scale[k];
      if (c.step === null || c.resetAt === null || c.resetTo === null || !Number.isFinite(sc.centre)) return;
      if (c.run < COUNTER_RUN) return;
      if (!(v <= c.resetAt)) return;
      // Parts still made before the reset, the next one included.
      const before = Math.floor((c.resetAt - v) / c.step + 1e-9) + 1;
      const at = (x: number) => {
        const zz = [...z];
        zz[k] = (x - sc.centre) / sc.spread;
        return predict(f, this.features(u, zz)).m;
      };
      const jump = at(c.resetTo) - at(c.resetAt);
      const perPart = stepRate();
      const share = (Math.abs(jump) - perPart) / 2 - (before - 1) * perPart;
      if (share > 0) aim -= Math.sign(jump) * share;
    });
    return aim;
  }

  /**
   * The aim's offset (tolerance units) that `energyWeight` buys: the quality and energy models' gradients at u
   * (normalised setpoints) give the per cent of energy one tolerance unit of quality costs along the quickest
   * way across the setpoints of equal quality; the bias b minimises b²/r + energyWeight × per cent, capped at
   * one noise SD (√r) whatever the energy model says.
   */
  private energyBias(
    f: Filter,
    energy: Filter,
    u: readonly number[],
    z: readonly number[],
    r: number,
  ): number {
    const w = this.options.energyWeight;
    const e = predict(energy, this.features(u, z)).m;
    if (!(w > 0) || !(e > 0)) return 0;
    const h = u.map(() => GRADIENT_STEP);
    const g = this.diffs(f, u, z, h);
    const gE = this.diffs(energy, u, z, h);
    // Per cent of energy per tolerance unit of quality, moving along the quality's gradient over the setpoints
    // in `free` (a setpoint at a bound in the way the bias moves it cannot move: it buys nothing).
    const perCent = (free: readonly boolean[]) => {
      const g2 = g.reduce((a, b, i) => a + (free[i] ? b * b : 0), 0);
      return g2 > 0 ? (100 * gE.reduce((a, b, i) => a + (free[i] ? b * g[i] : 0), 0)) / g2 / e : 0;
    };
    const first = -(w / 2) * r * perCent(u.map(() => true));
    // The bias b moves setpoint i by about b·g_i: pinned when that pushes it past its bound.
    const free = u.map(
      (ui, i) => !((ui >= 1 - 1e-9 && first * g[i] > 0) || (ui <= -1 + 1e-9 && first * g[i] < 0)),
    );
    const b = -(w / 2) * r * perCent(free);
    if (Math.sign(b) !== Math.sign(first)) return 0;
    return clamp(b, -Math.sqrt(r), Math.sqrt(r));
  }

  /**
   * Learned curvature can flatten a setpoint's effect where the tuner sits, typically in a corner of the bounds
   * (curvature is learned where the data are, then extrapolated): the model then says no move helps, the
   * cautious tuner stays, and staying teaches it nothing (on Press1 seed 9 for 150 parts, 2 noise SDs off). When
   * the proposal misses the aim by more than a noise SD without moving, and a setpoint's slope here is within one
   * posterior SD of zero while its gain at the centre of the bounds is further than one SD from zero, that
   * setpoint is moved one step the way the centre gain says helps, to see. (At two SDs, a feed whose known gain
   * had driven it to its bound in the warm-up stayed in a corner of the held-out CNC surface for 250 parts,
   * 2-6 noise SDs off: its centre gain was 1.6 SDs from zero, learned from level moves alone.) Returns the
   * setpoints to try, or undefined.
   */
  private flatAtBound(
    f: Filter,
    z: readonly number[],
    ref: readonly number[],
    miss: number,
    r: number,
    proposed: readonly number[],
  ): number[] | undefined {
    const o = this.options;
    if (!(Math.abs(miss) > Math.sqrt(r))) return undefined;
    if (proposed.some((v, i) => Math.abs(v - ref[i]) > o.setpoints[i].maxStep / 4)) return undefined;
    const u = this.norm(ref);
    for (let i = 0; i < this.d; i++) {
      const slope = this.slope(f, u, z, i);
      const g0 = f.theta[1 + i];
      const sd0 = Math.sqrt(f.P[1 + i][1 + i]);
      if (!(Math.abs(slope.m) < Math.sqrt(slope.v)) || !(Math.abs(g0) > sd0)) continue;
      // The way the centre gain says takes the quality back towards the aim: inward from a bound the setpoint
      // sits within a step of (where the slope is extrapolated; a flat slope inside is a learned one).
      const dir = -Math.sign(miss) * Math.sign(g0);
      const sp = o.setpoints[i];
      const atBound = dir > 0 ? ref[i] - sp.min <= sp.maxStep : sp.max - ref[i] <= sp.maxStep;
      const to = clamp(ref[i] + dir * sp.maxStep, sp.min, sp.max);
      if (!atBound || Math.abs(to - ref[i]) < sp.maxStep / 2) continue;
      const v = [...ref];
      v[i] = to;
      return v;
    }
    return undefined;
  }

  /**
   * Model f's slope along normalised setpoint i at u, with its posterior variance: the prediction of the
   * features' gradient with respect to u_i (offset 0; u_i's own 1; its squares and products; the context's
   * interaction terms z_k).
   */
  private slope(f: Filter, u: readonly number[], z: readonly number[], i: number): { m: number; v: number } {
    const h = 1e-4;
    const up = [...u];
    const dn = [...u];
    up[i] += h;
    dn[i] -= h;
    const a = this.features(up, z);
    const b = this.features(dn, z);
    return predict(
      f,
      a.map((x, k) => (x - b[k]) / (2 * h)),
    );
  }

  /** The filter whose one-step predictions have been the most likely lately. */
  private best(): Filter {
    return this.quality.reduce((b, f) => (f.score > b.score ? f : b));
  }

  /**
   * The next setpoints: among candidates within the step limit, those whose expected squared deviation (the
   * predicted miss squared plus the model's uncertainty there) is within `energySlack` noise variances of the
   * least; among them the least predicted energy (quality first, energy second). A grid over the box the step
   * limit allows, then finer grids around the best; then back across the setpoints of equal quality to the aim,
   * short of it by the bias `energyWeight` buys (`energyBias`), and a step to see where a slope at a bound is
   * flat only by extrapolation (`flatAtBound`).
   */
  private search(): { values: number[]; predicted: TuneProposal['predicted'] } {
    const o = this.options;
    const f = this.best();
    const en = this.energy;
    const z = this.z();
    const r = this.noise.sum / this.noise.weight;
    const ref = this.cur.map((v, i) => this.inside(v, i));
    const aim = this.lead(f, this.norm(ref), z);
    const evaluate = (values: number[]) => {
      const phi = this.features(this.norm(values), z);
      const q = predict(f, phi);
      const epi = q.v + f.drift * r;
      return {
        miss: (q.m - aim) ** 2 + o.caution * epi,
        m: q.m,
        sd: Math.sqrt(epi + r),
        e: en ? predict(en.filter, phi).m : 0,
      };
    };
    const lo = ref.map((v, i) => Math.max(o.setpoints[i].min, v - o.setpoints[i].maxStep));
    const hi = ref.map((v, i) => Math.min(o.setpoints[i].max, v + o.setpoints[i].maxStep));
    const g = this.d <= 2 ? 11 : this.d === 3 ? 7 : 5;
    const cands: { values: number[]; r: ReturnType<typeof evaluate> }[] = [];
    const consider = (values: number[]) => {
      const c = evaluate(values);
      if (Number.isFinite(c.miss) && Number.isFinite(c.e)) cands.push({ values, r: c });
    };
    const pick = () => {
      const least = cands.reduce((m, c) => Math.min(m, c.r.miss), Infinity);
      const slack = en ? o.energySlack * r : 0;
      let best: (typeof cands)[number] | undefined;
      for (const c of cands)
        if (c.r.miss <= least + slack) {
          if (!best || c.r.e < best.r.e || (c.r.e === best.r.e && c.r.miss < best.r.miss)) best = c;
        }
      return best;
    };
    consider([...ref]);
    grid(lo, hi, g, consider);
    let cell = lo.map((l, i) => (hi[i] - l) / (g - 1));
    for (let round = 0; round < 3; round++) {
      const b = pick();
      if (!b) break;
      grid(
        b.values.map((v, i) => Math.max(lo[i], v - cell[i])),
        b.values.map((v, i) => Math.min(hi[i], v + cell[i])),
        5,
        consider,
      );
      cell = cell.map((c) => c / 4);
    }
    let best = pick() ?? { values: ref, r: evaluate(ref) };
    // The least energy within the slack lies on the slack's edge, off the aim on the cheap side: taken as it
    // is, every proposal would spend the slack as a standing bias (on CNC1 about 0.2 noise SDs, 0.04 σ² per
    // part). Energy is second: the slack chooses how far to go along the setpoints that give the same quality,
    // then the proposal goes back across them to the aim (Newton steps along the predicted quality's gradient
    // in normalised setpoints, the shortest way), kept when its expected squared deviation is no worse.
    let bias = 0;
    if (en) {
      const half = o.setpoints.map((sp) => (sp.max - sp.min) / 2);
      let v = [...best.values];
      let at = best.r;
      const h = v.map(() => GRADIENT_STEP);
      bias = this.energyBias(f, en.filter, this.norm(v), z, r);
      for (let k = 0; k < 2; k++) {
        const g = this.diffs(f, this.norm(v), z, h).map((d) => d / GRADIENT_STEP);
        const g2 = g.reduce((a, b) => a + b * b, 0);
        if (!(g2 > 0)) break;
        const miss = at.m - aim - bias;
        v = v.map((x, i) => clamp(x - ((miss * g[i]) / g2) * half[i], lo[i], hi[i]));
        at = evaluate(v);
      }
      // Kept when its expected squared deviation is no worse than the slack's, but for the bias it buys.
      if (Number.isFinite(at.miss) && Number.isFinite(at.e) && at.miss <= best.r.miss + bias * bias)
        best = { values: v, r: at };
    }
    const doubt = this.flatAtBound(f, z, ref, best.r.m - aim - bias, r, best.values);
    if (doubt) best = { values: doubt, r: evaluate(doubt) };
    const scale = o.tolerance;
    return {
      values: best.values,
      predicted: {
        quality: o.target + best.r.m * scale,
        sd: best.r.sd * scale,
        ...(en ? { energy: best.r.e * en.ref } : {}),
      },
    };
  }

  /**
   * Probe pattern while warming up: each setpoint without a known `gain` follows a triangle wave of
   * ±PROBE_STEPS steps (at most PROBE_SPAN of its range) around its start plus its level correction, the k-th
   * of them (k = 1, 2...) with period 12·k parts (the first moves a third of its amplitude per part: a step, or
   * less where the span caps it), so the parts cover a square of setpoints large enough to show
   * the gains above the noise (with the default warm-up of 6 parts per probed setpoint, the last one goes up
   * and back only). Setpoints with a known gain are not probed. The guard keeps it in bounds.
   */
  private probe(): number[] {
    const j = ++this.probeIndex;
    let k = 0;
    return this.options.setpoints.map((s, i) => {
      const centre = this.start[i] + this.level[i];
      if (s.gain !== undefined) return centre;
      const period = 4 * PROBE_STEPS * ++k;
      const ph = (j % period) / period; // 0..1
      const tri = ph < 0.25 ? 4 * ph : ph < 0.75 ? 2 - 4 * ph : 4 * ph - 4; // 0 → 1 → −1 → 0
      return centre + tri * Math.min(PROBE_STEPS * s.maxStep, PROBE_SPAN * (s.max - s.min));
    });
  }

  /**
   * While warming up, the setpoint with the largest known effect (a `gain` given, in tolerances over its
   * range) moves the probes' centre towards the level the model says puts the quality on target, at most a
   * step per part: the run-to-run controller's correction, made with the model's gain (the engineer's,
   * updated by the parts so far). Without it a start a few noise SDs off target stayed off for the whole
   * warm-up. Nothing without a known gain, nor while the model's slope there is within one posterior SD of
   * zero (a gain given far too small, or one of the wrong sign being learned away: the correction would
   * swing a full step each way).
   */
  private correctLevel(): void {
    const o = this.options;
    let lever = -1;
    let most = 0;
    o.setpoints.forEach((s, i) => {
      const effect = Math.abs(modelGain(s, o.tolerance));
      if (effect > most) [lever, most] = [i, effect];
    });
    if (lever < 0) return;
    const f = this.best();
    const z = this.z();
    const centre = this.start.map((v, i) => this.inside(v + this.level[i], i));
    const u = this.norm(centre);
    const slope = this.slope(f, u, z, lever);
    if (!(Math.abs(slope.m) > Math.sqrt(slope.v))) return;
    const s = o.setpoints[lever];
    const miss = predict(f, this.features(u, z)).m;
    const move = clamp(((-miss / slope.m) * (s.max - s.min)) / 2, -s.maxStep, s.maxStep);
    this.level[lever] = this.inside(centre[lever] + move, lever) - this.start[lever];
  }

  // ---- the guarantees --------------------------------------------------------------------------

  /** Bounds and step limit, applied last to every proposal; NaN or ±Infinity keep the value in force. */
  private guard(want: readonly number[]): { values: number[]; limited: string[] } {
    const limited: string[] = [];
    const values = this.options.setpoints.map((s, i) => {
      const ref = clamp(this.cur[i], s.min, s.max);
      const w = want[i];
      let v = finite(w) ? w : ref;
      v = clamp(v, ref - s.maxStep, ref + s.maxStep);
      v = clamp(v, s.min, s.max);
      if (finite(w) && Math.abs(v - w) > 1e-12 * Math.max(1, Math.abs(w))) limited.push(s.name);
      return v;
    });
    return { values, limited };
  }

  private propose(
    want: readonly number[],
    mode: TuneMode,
    reason: string,
    predicted?: TuneProposal['predicted'],
  ): TuneProposal {
    const { values, limited } = this.guard(want);
    const o = this.options;
    const setpoints: Record<string, number> = {};
    o.setpoints.forEach((s, i) => (setpoints[s.name] = values[i]));
    const withinTrust = o.setpoints.every(
      (s, i) => s.trust !== undefined && values[i] >= s.trust[0] && values[i] <= s.trust[1],
    );
    return {
      setpoints,
      values,
      current: [...this.cur],
      change: values.map((v, i) => v - this.cur[i]),
      mode,
      reason,
      withinTrust,
      ...(predicted ? { predicted } : {}),
      parts: this.learned,
      fallbacks: this.fell,
      limited,
    };
  }
}

/** Calls `f` on every point of a grid of `g` values per dimension over [lo, hi]. */
function grid(lo: readonly number[], hi: readonly number[], g: number, f: (v: number[]) => void): void {
  const d = lo.length;
  const idx = new Array<number>(d).fill(0);
  for (;;) {
    f(idx.map((k, i) => (g === 1 ? lo[i] : lo[i] + ((hi[i] - lo[i]) * k) / (g - 1))));
    let i = 0;
    while (i < d && ++idx[i] === g) idx[i++] = 0;
    if (i === d) return;
  }
}
