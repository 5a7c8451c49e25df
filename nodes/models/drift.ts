/**
 * Drift: live feature (and score) distributions over a sliding window against the training reference.
 *
 *   PSI   population stability index over `bins` quantile bins of the reference (edges at its k/bins
 *         quantiles), Σ (live − ref) · ln(live / ref) with shares floored at `epsilon` for empty bins.
 *   KS    two-sample Kolmogorov-Smirnov statistic D = sup |F_live − F_ref| with its asymptotic p-value from
 *         the Kolmogorov distribution, λ = (√nₑ + 0.12 + 0.11/√nₑ)·D, nₑ = n·m/(n+m) (Stephens' correction).
 *
 * A feature has moved when its KS p-value is below alpha / (number of compared series) (Bonferroni, so the
 * chance of any false report on an unchanged stream stays at or below alpha) AND its PSI is at least the PSI
 * threshold (so a statistically clear but tiny shift is not reported). No Node-RED import.
 */
import { TaktError } from '../core/errors';
import type { ReferenceSample } from './types';

export interface DriftOptions {
  /** Rows in the sliding window (default 200). */
  window?: number;
  /** Fewest rows a check accepts (default 50). */
  minSamples?: number;
  /** Rows between two automatic reports once the window is full (default window / 4). */
  step?: number;
  /** PSI at or above which a distribution counts as shifted (default 0.2). */
  psiThreshold?: number;
  /** Family-wise false-report rate on an unchanged stream (default 0.01). */
  alpha?: number;
  /** PSI bins (default 10). */
  bins?: number;
  /** Floor of bin shares (default 1e-4). */
  epsilon?: number;
}

export interface SeriesDrift {
  feature: string;
  n: number;
  psi: number;
  ks: number;
  pValue: number;
  moved: boolean;
  liveMean: number;
  referenceMean: number;
}

export interface DriftReport {
  drift: boolean;
  /** The features (and `score`) that moved, largest PSI first. */
  moved: string[];
  features: SeriesDrift[];
  window: number;
  reference: number;
  psiThreshold: number;
  alpha: number;
  /** alpha / compared series (Bonferroni). */
  alphaPerSeries: number;
  retrain: boolean;
  recommendation: string;
  version?: number;
}

export const DRIFT_DEFAULTS = {
  window: 200,
  minSamples: 50,
  psiThreshold: 0.2,
  alpha: 0.01,
  bins: 10,
  epsilon: 1e-4,
} as const;

/** Bin edges at the reference's k/bins quantiles (duplicates from ties dropped). */
export function quantileEdges(refSorted: ArrayLike<number>, bins: number): number[] {
  const n = refSorted.length;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = refSorted[Math.min(n - 1, Math.floor((k * n) / bins))];
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return edges;
}

/** Shares of sorted values in the bins (−∞, e₁), [e₁, e₂), …, [e_last, ∞). */
function shares(sorted: ArrayLike<number>, edges: readonly number[]): number[] {
  const n = sorted.length;
  const out: number[] = [];
  let prev = 0;
  for (const e of edges) {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < e) lo = mid + 1;
      else hi = mid;
    }
    out.push((lo - prev) / n);
    prev = lo;
  }
  out.push((n - prev) / n);
  return out;
}

/** PSI of a live sample against a reference, both sorted ascending. */
export function psi(
  refSorted: ArrayLike<number>,
  liveSorted: ArrayLike<number>,
  edges: readonly number[],
  epsilon: number = DRIFT_DEFAULTS.epsilon,
): number {
  const r = shares(refSorted, edges);
  const l = shares(liveSorted, edges);
  let s = 0;
  for (let i = 0; i < r.length; i++) {
    const a = Math.max(r[i], epsilon);
    const b = Math.max(l[i], epsilon);
    s += (b - a) * Math.log(b / a);
  }
  return s;
}

/** Survival function of the Kolmogorov distribution, P(K > λ). */
export function kolmogorovQ(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    // P(K ≤ λ) = √(2π)/λ · Σ exp(−(2j−1)²π²/(8λ²)), fast for small λ.
    const f = -(Math.PI * Math.PI) / (8 * lambda * lambda);
    let s = 0;
    for (let j = 1; j <= 6; j++) s += Math.exp(f * (2 * j - 1) ** 2);
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * s));
  }
  // P(K > λ) = 2 Σ (−1)^(j−1) exp(−2 j² λ²), fast for large λ.
  let s = 0;
  for (let j = 1; j <= 8; j++) s += (j % 2 === 1 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
  return Math.min(1, Math.max(0, 2 * s));
}

/** Two-sample KS statistic and asymptotic p-value; both inputs sorted ascending. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): { d: number; p: number } {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { d: 0, p: 1 };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = Math.min(a[i], b[j]);
    while (i < n && a[i] <= x) i++;
    while (j < m && b[j] <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = Math.sqrt((n * m) / (n + m));
  return { d, p: kolmogorovQ((ne + 0.12 + 0.11 / ne) * d) };
}

/** One series of the reference, ready to compare: sorted values, PSI edges, mean. */
interface RefSeries {
  name: string;
  sorted: Float64Array;
  edges: number[];
  mean: number;
}

/** A fixed-size ring of the latest values. */
class Ring {
  readonly buf: Float64Array;
  size = 0;
  private next = 0;
  constructor(n: number) {
    this.buf = new Float64Array(n);
  }
  push(v: number): void {
    this.buf[this.next] = v;
    this.next = (this.next + 1) % this.buf.length;
    if (this.size < this.buf.length) this.size++;
  }
  sorted(): Float64Array {
    return (this.size === this.buf.length ? this.buf.slice() : this.buf.slice(0, this.size)).sort();
  }
  clear(): void {
    this.size = 0;
    this.next = 0;
  }
}

export type DriftRow = readonly unknown[] | Readonly<Record<string, unknown>>;

/** Sliding-window drift monitor of one model's features (and score) against its training reference. */
export class DriftMonitor {
  readonly features: string[];
  readonly options: Required<DriftOptions>;
  readonly version: number | undefined;
  private readonly ref: RefSeries[];
  private readonly scoreRef: RefSeries | undefined;
  private readonly rings: Ring[];
  private readonly scoreRing: Ring;
  private sinceReport = 0;

  constructor(reference: ReferenceSample, options: DriftOptions = {}, version?: number) {
    const window = options.window ?? DRIFT_DEFAULTS.window;
    const minSamples = options.minSamples ?? Math.min(DRIFT_DEFAULTS.minSamples, window);
    const o: Required<DriftOptions> = {
      window,
      minSamples,
      step: options.step ?? Math.max(1, Math.floor(window / 4)),
      psiThreshold: options.psiThreshold ?? DRIFT_DEFAULTS.psiThreshold,
      alpha: options.alpha ?? DRIFT_DEFAULTS.alpha,
      bins: options.bins ?? DRIFT_DEFAULTS.bins,
      epsilon: options.epsilon ?? DRIFT_DEFAULTS.epsilon,
    };
    const bad = (field: string, what: string) => {
      throw new TaktError('models.badOption', `${field}: ${what}`, field);
    };
    if (!(Number.isInteger(o.window) && o.window >= 10)) bad('window', 'must be an integer >= 10');
    if (!(Number.isInteger(o.minSamples) && o.minSamples >= 10 && o.minSamples <= o.window))
      bad('minSamples', `must be an integer from 10 to the window (${o.window})`);
    if (!(Number.isInteger(o.step) && o.step >= 1)) bad('step', 'must be an integer >= 1');
    if (!(o.psiThreshold > 0)) bad('psiThreshold', 'must be positive');
    if (!(o.alpha > 0 && o.alpha < 1)) bad('alpha', 'must be between 0 and 1');
    if (!(Number.isInteger(o.bins) && o.bins >= 2 && o.bins <= 100))
      bad('bins', 'must be an integer from 2 to 100');
    if (!(o.epsilon > 0 && o.epsilon < 0.1)) bad('epsilon', 'must be between 0 and 0.1');
    this.options = o;
    this.version = version;
    const f = reference.features;
    if (
      !Array.isArray(f) ||
      f.length === 0 ||
      !Array.isArray(reference.columns) ||
      reference.columns.length !== f.length
    )
      throw new TaktError(
        'models.noReference',
        'reference: needs features and one column per feature',
        'reference',
      );
    const series = (name: string, values: readonly number[]): RefSeries => {
      if (values.length < 30)
        throw new TaktError(
          'models.tooFewSamples',
          `reference: ${values.length} values of ${name}, a drift reference needs at least 30`,
          'reference',
        );
      const sorted = Float64Array.from(values).sort();
      return {
        name,
        sorted,
        edges: quantileEdges(sorted, o.bins),
        mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
      };
    };
    this.features = [...f];
    this.ref = f.map((name, j) => series(name, reference.columns[j]));
    this.scoreRef = reference.score?.length
      ? series(reference.scoreName ?? 'score', reference.score)
      : undefined;
    this.rings = f.map(() => new Ring(o.window));
    this.scoreRing = new Ring(o.window);
  }

  /** Rows in the window. */
  get size(): number {
    return this.rings[0].size;
  }

  /** Takes one row (an array in feature order or a record by name) and, optionally, its anomaly score. */
  push(row: DriftRow, score?: number): DriftReport | undefined {
    const d = this.features.length;
    const vals = new Array<number>(d);
    for (let j = 0; j < d; j++) {
      const v = Array.isArray(row) ? row[j] : (row as Record<string, unknown>)[this.features[j]];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new TaktError(
          'models.missing',
          Array.isArray(row) && row.length !== d
            ? `payload: ${row.length} values, the reference has ${d} features (${this.features.join(', ')})`
            : `payload: ${this.features[j]} is missing or not a number`,
          this.features[j],
        );
      vals[j] = v;
    }
    vals.forEach((v, j) => this.rings[j].push(v));
    if (this.scoreRef && typeof score === 'number' && Number.isFinite(score)) this.scoreRing.push(score);
    this.sinceReport++;
    if (this.size >= this.options.window && this.sinceReport >= this.options.step) return this.check();
    return undefined;
  }

  /** The name of the reference's second series ('score' or 'residual'), when it has one. */
  get scoreName(): string | undefined {
    return this.scoreRef?.name;
  }

  /**
   * Takes one value of the reference's second series alone (a quality model's residual, known only once the
   * part's label arrives, long after its feature row).
   */
  pushScore(value: number): DriftReport | undefined {
    if (!this.scoreRef)
      throw new TaktError(
        'models.noReference',
        'reference: the model was registered without held-out residuals or scores to compare with',
        'reference',
      );
    if (!Number.isFinite(value))
      throw new TaktError('models.missing', `${this.scoreRef.name}: ${value} is not a number`, 'residual');
    this.scoreRing.push(value);
    this.sinceReport++;
    if (this.scoreRing.size >= this.options.window && this.sinceReport >= this.options.step)
      return this.check();
    return undefined;
  }

  /**
   * A report on the window now: the features once `minSamples` rows are in, the second series once
   * `minSamples` of its values are; `models.tooFewSamples` when neither has enough.
   */
  check(): DriftReport {
    const o = this.options;
    const scored = this.scoreRef !== undefined && this.scoreRing.size >= o.minSamples;
    if (this.size < o.minSamples && !scored)
      throw new TaktError(
        'models.tooFewSamples',
        `window: ${this.size} rows, a drift check needs at least ${o.minSamples}`,
        'window',
      );
    this.sinceReport = 0;
    const pairs: [RefSeries, Ring][] =
      this.size >= o.minSamples ? this.ref.map((r, j) => [r, this.rings[j]]) : [];
    if (this.scoreRef && scored) pairs.push([this.scoreRef, this.scoreRing]);
    const perSeries = o.alpha / pairs.length;
    const features = pairs.map(([r, ring]): SeriesDrift => {
      const live = ring.sorted();
      const ks = ksTwoSample(live, r.sorted);
      const p = psi(r.sorted, live, r.edges, o.epsilon);
      return {
        feature: r.name,
        n: live.length,
        psi: p,
        ks: ks.d,
        pValue: ks.p,
        moved: ks.p < perSeries && p >= o.psiThreshold,
        liveMean: live.reduce((a, b) => a + b, 0) / live.length,
        referenceMean: r.mean,
      };
    });
    const moved = features
      .filter((f) => f.moved)
      .sort((a, b) => b.psi - a.psi)
      .map((f) => f.feature);
    const report: DriftReport = {
      drift: moved.length > 0,
      moved,
      features,
      window: this.size,
      reference: this.ref[0].sorted.length,
      psiThreshold: o.psiThreshold,
      alpha: o.alpha,
      alphaPerSeries: perSeries,
      retrain: moved.length > 0,
      recommendation: moved.length
        ? `retrain: ${moved.join(', ')} moved away from the training data; check first that no fault is developing (a model retrained on faulty rows learns the fault as normal)`
        : 'none: live data matches the training reference',
    };
    if (this.version !== undefined) report.version = this.version;
    return report;
  }

  reset(): void {
    for (const r of this.rings) r.clear();
    this.scoreRing.clear();
    this.sinceReport = 0;
  }
}
