/**
 * Adaptive control of setpoints by trial and error within engineer-set bounds (takt-tune's engine; no
 * Node-RED). After every part the tuner learns how the setpoints and the observed drift (tool wear counter,
 * ambient temperature, material lot...) move the quality characteristic and the energy per part, then proposes
 * the setpoints for the next part: the quality on target first, less energy second.
 *
 * The model is a Bayesian (ridge) regression on quadratic features of the normalised setpoints, the context,
 * and setpoint-context interactions, fitted on a window of recent parts with exponential forgetting, plus an
 * EWMA of its latest residuals for the drift it does not see. Proposals minimise the expected squared
 * deviation from target, which includes the model's own uncertainty at the candidate (so the tuner stays
 * where it has evidence: cautious, "safe" exploration), plus a small energy term. The first parts probe
 * up to three steps around the start so the gains show above the noise.
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
import { invertSpd } from '../core/linalg';

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
}

export interface TunerOptions {
  setpoints: TuneSetpoint[];
  /** The target of the quality characteristic. */
  target: number;
  /** Tolerance (±) of the quality characteristic: parts within it are good (the fallback's last good setpoint). */
  tolerance: number;
  /** Names of the drift context inputs (e.g. tool wear counter, ambient temperature, lot hardness). */
  context?: string[];
  /** Weight of energy per part (relative to its mean) against quality (squared deviation in tolerances²). */
  energyWeight?: number;
  /** Parts probed around the start before the model is used (default 12 per setpoint). */
  warmup?: number;
  /** Half-life, in parts, of the weight of an observation (default 250). */
  halfLife?: number;
  /** Parts kept for learning (default 400). */
  window?: number;
  /** EWMA weight of the residual bias (default 0.1). */
  lambda?: number;
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

interface Record_ {
  s: number[];
  c: number[];
  y: number;
  e: number;
}

/** Ridge penalty of the regressions (features are O(1): normalised setpoints, standardised context). */
const RIDGE = 0.1;
/** Amplitude of the warm-up probes, in steps. */
const PROBE_STEPS = 3;

const bad = (field: string, what: string): never => {
  throw new TaktError('tune.badOption', `${field}: ${what}`, field);
};
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
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
  });
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
    warmup: Math.round(num('warmup', 4 * PROBE_STEPS * o.setpoints.length, 0, 10000)),
    halfLife: num('halfLife', 250, 1, 1e6),
    window: Math.round(num('window', 400, 10, 100000)),
    lambda: num('lambda', 0.1, 0, 1),
    caution: num('caution', 1, 0, 100),
    interactions: o.interactions === true,
  };
}

/** A⁻¹ of a symmetric positive definite A (core/linalg's Cholesky), undefined when A is not. */
function inverse(A: number[][]): number[][] | undefined {
  try {
    return invertSpd(A);
  } catch {
    return undefined;
  }
}

/** A weighted ridge fit: coefficients, posterior covariance (without σ²) and residual variance. */
interface Fit {
  beta: number[];
  cov: number[][];
  sigma2: number;
}

function ridgeFit(X: number[][], y: number[], w: number[], alpha: number): Fit | undefined {
  const p = X[0].length;
  const A = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const b = new Array<number>(p).fill(0);
  for (let t = 0; t < X.length; t++) {
    const x = X[t];
    for (let i = 0; i < p; i++) {
      const wx = w[t] * x[i];
      b[i] += wx * y[t];
      for (let j = 0; j <= i; j++) A[i][j] += wx * x[j];
    }
  }
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) A[j][i] = A[i][j];
    A[i][i] += i === 0 ? 1e-6 : alpha; // the intercept is (almost) free
  }
  const cov = inverse(A);
  if (!cov) return undefined;
  const beta = cov.map((r) => r.reduce((s, v, j) => s + v * b[j], 0));
  let rss = 0;
  let sw = 0;
  for (let t = 0; t < X.length; t++) {
    const r = y[t] - X[t].reduce((s, v, j) => s + v * beta[j], 0);
    rss += w[t] * r * r;
    sw += w[t];
  }
  const dof = Math.max(1, sw - Math.min(p, sw / 2));
  return { beta, cov, sigma2: rss / dof };
}

export class Tuner {
  readonly options: ReturnType<typeof checkTunerOptions>;
  private readonly d: number;
  private cur: number[];
  private good: number[];
  private readonly lastContext: number[];
  private readonly data: Record_[] = [];
  private learned = 0;
  private fell = 0;
  private probeIndex = 0;
  private readonly start: number[];
  /** The last fitted quality model (tolerance units from target, bias excluded), and the residual EWMA. */
  private model: ((values: readonly number[], context: readonly number[]) => number) | undefined;
  private bias = 0;

  constructor(o: TunerOptions) {
    this.options = checkTunerOptions(o);
    this.d = o.setpoints.length;
    this.cur = o.setpoints.map((s) => s.initial);
    this.good = [...this.cur];
    this.start = [...this.cur];
    this.lastContext = this.options.context.map(() => NaN);
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
    // One-step-ahead error of the model at the setpoints this part was made with and the context it was
    // proposed under (before this observation's context), into the residual EWMA.
    if (usable && this.model && o.lambda > 0) {
      const err = (y - o.target) / o.tolerance - this.model(inForce, this.context()) - this.bias;
      if (Number.isFinite(err)) this.bias += o.lambda * err;
    }
    o.context.forEach((name, k) => {
      const v = obs.context?.[name];
      if (finite(v)) this.lastContext[k] = v;
    });
    if (!usable) {
      this.fell++;
      return this.propose(this.good, 'fallback', finite(y) ? 'bad quality' : 'no quality');
    }
    const e = obs.energy;
    this.data.push({ s: inForce, c: this.context(), y, e: finite(e) ? e : NaN });
    if (this.data.length > o.window) this.data.shift();
    this.learned++;
    if (Math.abs(y - o.target) <= o.tolerance) this.good = inForce.map((v, i) => this.inside(v, i));
    if (this.learned <= o.warmup) return this.propose(this.probe(), 'probe', 'probing');
    const best = this.search();
    if (!best) return this.propose(this.cur, 'tune', 'tuning (model not ready)');
    return this.propose(best.values, 'tune', 'tuning', best.predicted);
  }

  // ---- model -----------------------------------------------------------------------------------

  private context(): number[] {
    return this.lastContext.map((v) => (Number.isFinite(v) ? v : 0));
  }

  private inside(v: number, i: number): number {
    const s = this.options.setpoints[i];
    return clamp(v, s.min, s.max);
  }

  private norm(values: readonly number[]): number[] {
    return this.options.setpoints.map((s, i) => (2 * (values[i] - s.min)) / (s.max - s.min) - 1);
  }

  /** Quadratic features of the normalised setpoints u, standardised context z and their interactions. */
  private features(u: readonly number[], z: readonly number[]): number[] {
    const f = [1, ...u];
    for (let i = 0; i < u.length; i++) for (let j = i; j < u.length; j++) f.push(u[i] * u[j]);
    for (const zk of z) {
      f.push(zk);
      if (this.options.interactions) for (const ui of u) f.push(zk * ui);
    }
    return f;
  }

  private search(): { values: number[]; predicted: TuneProposal['predicted'] } | undefined {
    const o = this.options;
    const n = this.data.length;
    const k = o.context.length;
    // Context standardised over the window (a constant input gets scale 1 and contributes nothing).
    const mu = new Array<number>(k).fill(0);
    const sd = new Array<number>(k).fill(0);
    for (const r of this.data) for (let j = 0; j < k; j++) mu[j] += r.c[j] / n;
    for (const r of this.data) for (let j = 0; j < k; j++) sd[j] += (r.c[j] - mu[j]) ** 2 / n;
    for (let j = 0; j < k; j++) sd[j] = Math.sqrt(sd[j]) || 1;
    const zOf = (c: readonly number[]) => c.map((v, j) => (v - mu[j]) / sd[j]);
    const X = this.data.map((r) => this.features(this.norm(r.s), zOf(r.c)));
    const decay = Math.LN2 / o.halfLife;
    const w = this.data.map((_, t) => Math.exp(-decay * (n - 1 - t)));
    const scale = o.tolerance;
    const fq = ridgeFit(
      X,
      this.data.map((r) => (r.y - o.target) / scale),
      w,
      RIDGE,
    );
    if (!fq) return undefined;
    // Residual bias: EWMA of the one-step-ahead prediction errors (drift the context does not explain).
    const bias = this.bias;
    const withE = this.data.map((r, t) => ({ r, t })).filter(({ r }) => Number.isFinite(r.e));
    let fe: Fit | undefined;
    let eMean = 0;
    if (o.energyWeight > 0 && withE.length >= Math.max(o.warmup, 5)) {
      eMean = withE.reduce((s, { r }) => s + r.e, 0) / withE.length;
      if (eMean !== 0)
        fe = ridgeFit(
          withE.map(({ t }) => X[t]),
          withE.map(({ r }) => r.e / Math.abs(eMean)),
          withE.map(({ t }) => w[t]),
          RIDGE,
        );
    }
    this.model = (values, c) =>
      this.features(this.norm(values), zOf(c)).reduce((s, v, j) => s + v * fq.beta[j], 0);
    const z = zOf(this.context());
    const sigma2 = Math.max(fq.sigma2, 1e-6);
    const evaluate = (values: number[]) => {
      const phi = this.features(this.norm(values), z);
      const m = phi.reduce((s, v, j) => s + v * fq.beta[j], 0) + bias;
      let v = 0;
      for (let i = 0; i < phi.length; i++) {
        let s = 0;
        for (let j = 0; j < phi.length; j++) s += fq.cov[i][j] * phi[j];
        v += phi[i] * s;
      }
      const epi = Math.max(0, v) * sigma2;
      const en = fe ? phi.reduce((s, x, j) => s + x * fe.beta[j], 0) : 0;
      const miss = m * m + o.caution * epi;
      // Safe: the next part is expected inside tolerance with about two standard deviations to spare.
      const safe = Math.abs(m) + 2 * Math.sqrt(epi + sigma2) <= 1;
      return { cost: miss + o.energyWeight * en, m, sd: Math.sqrt(epi + sigma2), en, safe };
    };
    // Candidates: a grid over the box the step limit allows, then a finer grid around the best.
    const ref = this.cur.map((v, i) => this.inside(v, i));
    const lo = ref.map((v, i) => Math.max(o.setpoints[i].min, v - o.setpoints[i].maxStep));
    const hi = ref.map((v, i) => Math.min(o.setpoints[i].max, v + o.setpoints[i].maxStep));
    const g = this.d <= 2 ? 11 : this.d === 3 ? 7 : 5;
    let best: { values: number[]; r: ReturnType<typeof evaluate> } | undefined;
    let anySafe = false;
    const consider = (values: number[]) => {
      const r = evaluate(values);
      if (!Number.isFinite(r.cost)) return;
      if (r.safe && !anySafe) {
        anySafe = true;
        best = undefined;
      }
      if (anySafe && !r.safe) return;
      if (!best || r.cost < best.r.cost) best = { values, r };
    };
    consider([...ref]);
    grid(lo, hi, g, consider);
    // Three finer grids around the best so far, each a quarter of the previous cell.
    let cell = lo.map((l, i) => (hi[i] - l) / (g - 1));
    for (let round = 0; round < 3 && best; round++) {
      const b = best.values;
      grid(
        b.map((v, i) => Math.max(lo[i], v - cell[i])),
        b.map((v, i) => Math.min(hi[i], v + cell[i])),
        9,
        consider,
      );
      cell = cell.map((c) => c / 4);
    }
    if (!best) return undefined;
    const r = best.r;

    return {
      values: best.values,
      predicted: {
        quality: o.target + r.m * scale,
        sd: r.sd * scale,
        ...(fe ? { energy: r.en * Math.abs(eMean) } : {}),
      },
    };
  }

  /**
   * Probe pattern while warming up: each setpoint follows a triangle wave of ±PROBE_STEPS steps around the
   * start, setpoint i with period 12·(i + 1) parts (one step per part for the first), so the parts cover a
   * square of setpoints large enough to show the gains above the noise. The guard keeps it in bounds.
   */
  private probe(): number[] {
    const j = ++this.probeIndex;
    return this.options.setpoints.map((s, i) => {
      const period = 4 * PROBE_STEPS * (i + 1);
      const ph = (j % period) / period; // 0..1
      const tri = ph < 0.25 ? 4 * ph : ph < 0.75 ? 2 - 4 * ph : 4 * ph - 4; // 0 → 1 → −1 → 0
      return this.start[i] + tri * PROBE_STEPS * s.maxStep;
    });
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
