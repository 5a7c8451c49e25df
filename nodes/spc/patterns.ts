/**
 * Control-chart pattern recognition (CCPR): the seeded synthetic pattern generator the network is trained
 * and tested on, the feature preparation shared by training and inference, and `OnnxPatternClassifier`,
 * which runs the shipped ONNX model with onnxruntime-node behind the `PatternClassifier` interface.
 *
 * Pattern definitions (Pham and Oztemel 1992; Guh 2005; Western Electric handbook), on a window of N
 * standardised points z = (statistic − centre)/σ, with r(t) ~ N(0, 1) and t = 0 … N − 1:
 *   normal          z = r
 *   shift ±         z = r ± s·[t ≥ t₀],   s ∈ [1, 3], onset t₀ ∈ [1, N/2] (inside the window)
 *   trend ±         z = r ± d·t,          d ∈ [0.1, 0.3] σ per sample
 *   cycle           z = r + a·sin(2πt/T + φ), a ∈ [1, 3], T ∈ [8, 16], φ ∈ [0, 2π)
 *   systematic      z = r + g·(−1)^(t+k), g ∈ [1, 3], k ∈ {0, 1}
 *   stratification  z = σ′·r,             σ′ ∈ [0.2, 0.4]
 *   mixture         z = r + m·bₜ,         m ∈ [1.5, 3], bₜ = ±1 at random (a process switching between two means)
 * Every parameter is drawn uniformly from its range for each window, so the model learns the classes and
 * not one setting of them.
 *
 * That is the standard view. A sliding window over a running chart sees more (the live view, `LiveView`):
 *   noise   AR(1) r(t) = φ·r(t−1) + √(1 − φ²)·e(t), unit variance, φ ∈ [−0.3, 0.3]
 *   limits  the window is standardised with an estimated centre and sigma: z = (x − εc)/f, εc ∈ [−0.25, 0.25],
 *           f ∈ [0.85, 1.15]
 *   onset   a shift or trend starts anywhere from N points before the window to point N − 16 inside it:
 *           z = r ± s·[t ≥ t₀] or r ± d·(t − t₀)·[t ≥ t₀]
 * A shift or trend is labelled (and generated) only once it has affected at least `MIN_AFFECTED_POINTS`
 * (16, half the window) points: a shift in the last few points cannot be told from noise.
 * The trainer draws a share of live windows and uses wider ranges (`TRAINING_PATTERN_RANGES`).
 *
 * No Node-RED import; onnxruntime-node is loaded lazily, only when a classifier is loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { TaktError } from '../core/errors';
import { openOnnxSession, readOnnx } from '../core/onnx';
import { PATTERN_CLASSES, type PatternClass, type PatternClassifier, type PatternResult } from './insight';

/** Points in the window the shipped model looks at. */
export const PATTERN_WINDOW = 32;

/** Names of the summary features appended to the window (in this order); version 1 of the layout. */
export const PATTERN_SUMMARY = [
  'mean',
  'std',
  'drift',
  'lag1',
  'lag1Detrended',
  'stepVsLine',
  'kurtosis',
  'cyclePower',
] as const;
export const PATTERN_FEATURES_VERSION = '1';

/** Length of the feature vector for a window of `window` points. */
export function featureLength(window = PATTERN_WINDOW): number {
  return window + PATTERN_SUMMARY.length;
}

/** The default model: shipped next to the compiled module (dist/nodes/spc/models/). */
export const DEFAULT_PATTERN_MODEL = join(__dirname, 'models', 'spc-patterns.onnx');

// Seeded random numbers: the shared generator (re-exported, as tests and the training script use it from here).
import { Rng } from '../core/random';
export { Rng };

// ---------------------------------------------------------------- generator

export interface PatternRanges {
  shift: [number, number];
  /** Onset of a shift as a fraction of the window: t₀ ∈ [max(1, lo·N), hi·N]. */
  shiftOnset: [number, number];
  trend: [number, number];
  cycleAmplitude: [number, number];
  cyclePeriod: [number, number];
  systematic: [number, number];
  stratification: [number, number];
  mixture: [number, number];
}

export const DEFAULT_PATTERN_RANGES: Readonly<PatternRanges> = {
  shift: [1, 3],
  shiftOnset: [0, 0.5],
  trend: [0.1, 0.3],
  cycleAmplitude: [1, 3],
  cyclePeriod: [8, 16],
  systematic: [1, 3],
  stratification: [0.2, 0.4],
  mixture: [1.5, 3],
};

/** The ranges the shipped model is trained on: the standard ones widened, so a stronger pattern is no stranger. */
export const TRAINING_PATTERN_RANGES: Readonly<PatternRanges> = {
  shift: [1, 4],
  shiftOnset: [0, 0.5],
  trend: [0.1, 0.4],
  cycleAmplitude: [1, 4],
  cyclePeriod: [6, 20],
  systematic: [1, 4],
  stratification: [0.1, 0.45],
  mixture: [1.5, 4],
};

/**
 * Points a shift or trend must have affected before a window is labelled with it (generated live windows; half
 * the window when that is shorter than 32).
 */
export const MIN_AFFECTED_POINTS = 16;

/** What a sliding window over a running chart sees beyond the standard view (see the module comment). */
export interface LiveView {
  /** Share of the windows drawn as live views; the rest are standard. */
  share: number;
  /** AR(1) coefficient of the noise (the noise keeps unit variance). */
  ar: [number, number];
  /** The window is divided by a factor in this range (sigma estimated with that error). */
  sigmaError: [number, number];
  /** Error of the estimated centre, in sigma. */
  centreError: [number, number];
  /** Share of live shifts and trends that started before the window (up to N points before). */
  before: number;
}

export const DEFAULT_LIVE_VIEW: Readonly<LiveView> = {
  share: 0.6,
  ar: [-0.3, 0.3],
  sigmaError: [0.85, 1.15],
  centreError: [-0.25, 0.25],
  before: 0.3,
};

/** How one window was made (for tests and diagnostics). */
export interface PatternSpec {
  pattern: PatternClass;
  /** Shift size, trend slope, cycle amplitude, systematic departure, stratification sigma or mixture offset. */
  magnitude: number;
  /** Shift or trend onset (first shifted point; negative: that many points before the window). */
  onset?: number;
  period?: number;
  phase?: number;
  /** Live view only: AR(1) coefficient of the noise, sigma factor and centre error of the standardisation. */
  ar?: number;
  sigmaFactor?: number;
  centreError?: number;
}

export interface GeneratedPattern {
  z: Float64Array;
  spec: PatternSpec;
}

/** Seeded generator of standardised control-chart windows of each pattern class. */
export class PatternGenerator {
  readonly window: number;
  readonly ranges: PatternRanges;
  /** Live views drawn, if any (off by default: every window is a standard view). */
  readonly live: LiveView | undefined;
  private readonly rng: Rng;

  constructor(
    seed: number,
    opts: { window?: number; ranges?: Partial<PatternRanges>; live?: boolean | Partial<LiveView> } = {},
  ) {
    if (!Number.isInteger(seed)) throw new TaktError('spc.badOption', 'seed: must be an integer', 'seed');
    const window = opts.window ?? PATTERN_WINDOW;
    if (!Number.isInteger(window) || window < 16)
      throw new TaktError('spc.badOption', 'window: needs a whole number of at least 16 points', 'window');
    this.window = window;
    this.ranges = { ...DEFAULT_PATTERN_RANGES, ...opts.ranges };
    this.live =
      opts.live === undefined || opts.live === false
        ? undefined
        : { ...DEFAULT_LIVE_VIEW, ...(opts.live === true ? {} : opts.live) };
    if (
      this.live &&
      !(this.live.share >= 0 && this.live.share <= 1 && Math.max(...this.live.ar.map(Math.abs)) < 1)
    )
      throw new TaktError('spc.badOption', 'live: share in [0, 1] and |ar| < 1 needed', 'live');
    this.rng = new Rng(seed);
  }

  /** One window of the given class. */
  sample(pattern: PatternClass): GeneratedPattern {
    const N = this.window;
    const R = this.ranges;
    const g = this.rng;
    const live = this.live !== undefined && g.next() < this.live.share ? this.live : undefined;
    const z = new Float64Array(N);
    const spec: PatternSpec = { pattern, magnitude: 0 };
    if (live) {
      const phi = g.uniform(...live.ar);
      const inn = Math.sqrt(1 - phi * phi);
      let r = g.normal();
      for (let t = 0; t < N; t++) {
        z[t] = r;
        r = phi * r + inn * g.normal();
      }
      spec.ar = phi;
    } else for (let t = 0; t < N; t++) z[t] = g.normal();
    // live onset: up to N points before the window, or inside it with at least MIN_AFFECTED_POINTS affected
    const minAffected = Math.min(MIN_AFFECTED_POINTS, Math.floor(N / 2));
    const liveOnset = () => (g.next() < (live as LiveView).before ? g.int(-N, 0) : g.int(1, N - minAffected));
    switch (pattern) {
      case 'normal':
        break;
      case 'upward-shift':
      case 'downward-shift': {
        const s = g.uniform(...R.shift) * (pattern === 'upward-shift' ? 1 : -1);
        const t0 = live
          ? liveOnset()
          : g.int(Math.max(1, Math.round(R.shiftOnset[0] * N)), Math.round(R.shiftOnset[1] * N));
        for (let t = Math.max(0, t0); t < N; t++) z[t] += s;
        spec.magnitude = s;
        spec.onset = t0;
        break;
      }
      case 'upward-trend':
      case 'downward-trend': {
        const d = g.uniform(...R.trend) * (pattern === 'upward-trend' ? 1 : -1);
        const t0 = live ? liveOnset() : 0;
        for (let t = Math.max(0, t0); t < N; t++) z[t] += d * (t - t0);
        spec.magnitude = d;
        spec.onset = t0;
        break;
      }
      case 'cycle': {
        const a = g.uniform(...R.cycleAmplitude);
        const T = g.uniform(...R.cyclePeriod);
        const phi = g.uniform(0, 2 * Math.PI);
        for (let t = 0; t < N; t++) z[t] += a * Math.sin((2 * Math.PI * t) / T + phi);
        spec.magnitude = a;
        spec.period = T;
        spec.phase = phi;
        break;
      }
      case 'systematic': {
        const d = g.uniform(...R.systematic);
        const k = g.int(0, 1);
        for (let t = 0; t < N; t++) z[t] += (t + k) % 2 === 0 ? d : -d;
        spec.magnitude = d;
        spec.phase = k;
        break;
      }
      case 'stratification': {
        const s = g.uniform(...R.stratification);
        for (let t = 0; t < N; t++) z[t] *= s;
        spec.magnitude = s;
        break;
      }
      case 'mixture': {
        const m = g.uniform(...R.mixture);
        for (let t = 0; t < N; t++) z[t] += g.next() < 0.5 ? m : -m;
        spec.magnitude = m;
        break;
      }
      default:
        throw new TaktError('spc.badOption', `pattern: unknown class "${String(pattern)}"`, 'pattern');
    }
    if (live) {
      const f = g.uniform(...live.sigmaError);
      const c = g.uniform(...live.centreError);
      for (let t = 0; t < N; t++) z[t] = (z[t] - c) / f;
      spec.sigmaFactor = f;
      spec.centreError = c;
    }
    return { z, spec };
  }

  /** `perClass` windows of every class, shuffled; labels index PATTERN_CLASSES. */
  set(perClass: number): { windows: Float64Array[]; labels: Uint8Array; specs: PatternSpec[] } {
    if (!Number.isInteger(perClass) || perClass < 1)
      throw new TaktError('spc.badOption', 'perClass: needs a whole number of at least 1', 'perClass');
    const n = perClass * PATTERN_CLASSES.length;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.rng.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const windows: Float64Array[] = new Array<Float64Array>(n);
    const labels = new Uint8Array(n);
    const specs: PatternSpec[] = new Array<PatternSpec>(n);
    for (let k = 0; k < n; k++) {
      const label = order[k] % PATTERN_CLASSES.length;
      const g = this.sample(PATTERN_CLASSES[label]);
      windows[k] = g.z;
      labels[k] = label;
      specs[k] = g.spec;
    }
    return { windows, labels, specs };
  }
}

// ---------------------------------------------------------------- features

/**
 * The network input for one window: the standardised points themselves, then eight summary statistics that
 * are hard for a small ReLU network to form from raw points (all scale-free except mean, std and drift, which
 * are in in-control sigma): mean; standard deviation; least-squares drift over the window (slope·(N−1));
 * lag-1 autocorrelation about the mean and about the fitted line; log of the residual sum of squares of the
 * best single step over that of the line (negative: a step fits better, a shift; positive: a trend);
 * kurtosis (low for two-level mixtures and cycles); and the largest share of the window's variance at one
 * frequency with a period of 6 to 20 points (cycles).
 */
export function patternFeatures(z: ArrayLike<number>, out?: Float64Array, offset = 0): Float64Array {
  const N = z.length;
  if (N < 8) throw new TaktError('spc.tooFew', `window: ${N} points, at least 8 needed`, 'window');
  const f = out ?? new Float64Array(featureLength(N));
  let sum = 0;
  for (let t = 0; t < N; t++) {
    const v = z[t];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TaktError('spc.notNumeric', `window[${t}]: ${String(v)} is not a finite number`, 'window');
    f[offset + t] = v;
    sum += v;
  }
  const m = sum / N;
  let ss = 0;
  let m4 = 0;
  let c1 = 0;
  let st = 0;
  const tm = (N - 1) / 2;
  let stt = 0;
  for (let t = 0; t < N; t++) {
    const d = z[t] - m;
    ss += d * d;
    m4 += d * d * d * d;
    if (t > 0) c1 += d * (z[t - 1] - m);
    st += (t - tm) * d;
    stt += (t - tm) * (t - tm);
  }
  const tiny = 1e-12;
  const varp = ss / N;
  const slope = st / stt;
  // residuals about the fitted line
  let rss = 0;
  let rc1 = 0;
  let prev = 0;
  for (let t = 0; t < N; t++) {
    const e = z[t] - m - slope * (t - tm);
    rss += e * e;
    if (t > 0) rc1 += e * prev;
    prev = e;
  }
  // best single step: SSE = SS − max_k k(N−k)/N · (mean after − mean before)²
  let bestGain = 0;
  let before = 0;
  for (let k = 1; k < N; k++) {
    before += z[k - 1];
    const mb = before / k;
    const ma = (sum - before) / (N - k);
    const gain = ((k * (N - k)) / N) * (ma - mb) * (ma - mb);
    if (gain > bestGain) bestGain = gain;
  }
  const stepSse = Math.max(ss - bestGain, 0);
  // periodogram share at periods 6..20 (a fine grid, the period need not divide the window)
  let power = 0;
  for (let T = 6; T <= 20; T += 0.5) {
    const w = (2 * Math.PI) / T;
    let re = 0;
    let im = 0;
    for (let t = 0; t < N; t++) {
      const d = z[t] - m;
      re += d * Math.cos(w * t);
      im += d * Math.sin(w * t);
    }
    const p = (re * re + im * im) / N;
    if (p > power) power = p;
  }
  const o = offset + N;
  f[o] = m;
  f[o + 1] = Math.sqrt(ss / (N - 1));
  f[o + 2] = slope * (N - 1);
  f[o + 3] = c1 / (ss + tiny);
  f[o + 4] = rc1 / (rss + tiny);
  f[o + 5] = Math.log((stepSse + tiny) / (rss + tiny));
  f[o + 6] = m4 / N / (varp * varp + tiny);
  f[o + 7] = power / (ss + tiny);
  return f;
}

/** Features of many windows as one row-major matrix [n, featureLength(window)]. */
export function featureMatrix(windows: readonly ArrayLike<number>[], window = PATTERN_WINDOW): Float64Array {
  const F = featureLength(window);
  const X = new Float64Array(windows.length * F);
  windows.forEach((w, i) => {
    if (w.length !== window)
      throw new TaktError(
        'spc.badWindow',
        `window ${i}: ${w.length} points, the model takes ${window}`,
        'window',
      );
    patternFeatures(w, X, i * F);
  });
  return X;
}

// ---------------------------------------------------------------- ONNX metadata

/**
 * Reads `metadata_props` from an ONNX file's bytes with the core reader (onnxruntime-node does not expose custom
 * metadata). Bytes that are not an ONNX model give `spc.modelInvalid`.
 */
export function readOnnxMetadata(buf: Uint8Array): Record<string, string> {
  return readOnnx(
    buf,
    (why) => new TaktError('spc.modelInvalid', `pattern model: not an ONNX model (${why})`, 'model'),
  ).metadata;
}

// ---------------------------------------------------------------- ONNX classifier

/** What the classifier knows about its model (from the model's metadata_props). */
export interface PatternModelInfo {
  path: string;
  classes: PatternClass[];
  window: number;
  features: number;
  input: string;
  output: string;
  metadata: Record<string, string>;
}

/**
 * Windows that may wait for the classifier (`OnnxPatternClassifier`'s default cap): about 1 MB of windows.
 * One more is refused at once (`spc.patternBusy`) and counted in `dropped`; the chart point goes on without
 * a pattern.
 */
export const MAX_QUEUED_WINDOWS = 1024;

/** Options of `OnnxPatternClassifier.load`. */
export interface PatternClassifierOptions {
  /** Windows that may wait while a run is in flight (default MAX_QUEUED_WINDOWS). */
  maxQueued?: number;
}

interface Pending {
  z: Float64Array;
  resolve: (r: PatternResult) => void;
  reject: (e: Error) => void;
}

/**
 * The neural-network pattern classifier: runs the ONNX model (feature normalisation, MLP, softmax all in the
 * graph) with onnxruntime-node. The session is created once, in `load`. `classify` is asynchronous, as
 * onnxruntime is: calls made while a run is in flight are queued and scored together in the next run (one
 * batch), and results resolve in the order the calls were made. At most `maxQueued` calls wait; one more is
 * refused at once with `spc.patternBusy` and counted in `dropped`, so a chart fed faster than the model runs
 * keeps a bounded queue.
 */
export class OnnxPatternClassifier implements PatternClassifier {
  readonly window: number;
  readonly info: PatternModelInfo;
  private session: InferenceSession | undefined;
  private readonly ort: typeof import('onnxruntime-node');
  private queue: Pending[] = [];
  private running = false;
  /** Windows that may wait for the model. */
  readonly maxQueued: number;
  private droppedCount = 0;

  private constructor(
    ort: typeof import('onnxruntime-node'),
    session: InferenceSession,
    info: PatternModelInfo,
    maxQueued: number,
  ) {
    this.ort = ort;
    this.session = session;
    this.info = info;
    this.window = info.window;
    this.maxQueued = maxQueued;
  }

  /** Calls refused because `maxQueued` windows were already waiting, since load. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Windows waiting for the next run. */
  get queued(): number {
    return this.queue.length;
  }

  /** Loads a model file (default: the shipped one); a missing or unusable file gives a TaktError. */
  static async load(
    path: string = DEFAULT_PATTERN_MODEL,
    options: PatternClassifierOptions = {},
  ): Promise<OnnxPatternClassifier> {
    const maxQueued = options.maxQueued ?? MAX_QUEUED_WINDOWS;
    if (!Number.isInteger(maxQueued) || maxQueued < 1)
      throw new TaktError(
        'spc.badOption',
        `maxQueued: expected an integer >= 1, got ${String(maxQueued)}`,
        'maxQueued',
      );
    if (!existsSync(path)) {
      throw new TaktError(
        'spc.modelMissing',
        `pattern model: no file at ${path} (the package ships it; in a checkout run the training script, npm run train:spc-patterns)`,
        'model',
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new TaktError(
        'spc.modelMissing',
        `pattern model: cannot read ${path}: ${(err as Error).message}`,
        'model',
      );
    }
    const meta = readOnnxMetadata(bytes);
    const classes = (meta['takt.classes'] ?? '').split(',').filter((s) => s !== '');
    const window = Number(meta['takt.window']);
    const features = Number(meta['takt.features']);
    const unknown = classes.filter((c) => !(PATTERN_CLASSES as readonly string[]).includes(c));
    if (
      classes.length < 2 ||
      unknown.length > 0 ||
      !Number.isInteger(window) ||
      window < 8 ||
      features !== featureLength(window) ||
      meta['takt.featuresVersion'] !== PATTERN_FEATURES_VERSION
    ) {
      throw new TaktError(
        'spc.modelInvalid',
        `pattern model ${path}: not a Takt pattern model (metadata takt.classes, takt.window, takt.features, takt.featuresVersion ${PATTERN_FEATURES_VERSION} missing or wrong${unknown.length ? `; unknown classes ${unknown.join(', ')}` : ''})`,
        'model',
      );
    }
    const { ort, session } = await openOnnxSession(
      bytes,
      (reason) => new TaktError('spc.modelInvalid', `pattern model ${path}: ${reason}`, 'model'),
    );
    const info: PatternModelInfo = {
      path,
      classes: classes as PatternClass[],
      window,
      features,
      input: session.inputNames[0],
      output: session.outputNames.includes('probabilities') ? 'probabilities' : session.outputNames[0],
      metadata: meta,
    };
    return new OnnxPatternClassifier(ort, session, info, maxQueued);
  }

  /** Class probabilities of many windows, row-major [n, classes]. */
  async probabilities(windows: readonly ArrayLike<number>[]): Promise<Float32Array> {
    const session = this.session;
    if (!session)
      throw new TaktError('spc.modelClosed', 'pattern model: the classifier was disposed', 'model');
    const { features, classes, input, output } = this.info;
    if (windows.length === 0) return new Float32Array(0);
    const X = Float32Array.from(featureMatrix(windows, this.window));
    const tensor = new this.ort.Tensor('float32', X, [windows.length, features]);
    const res = await session.run({ [input]: tensor }, [output]);
    const data = res[output].data;
    if (!(data instanceof Float32Array) || data.length !== windows.length * classes.length)
      throw new TaktError(
        'spc.modelInvalid',
        `pattern model: output ${output} has an unexpected shape`,
        'model',
      );
    return data;
  }

  /** Classifies many windows in one run. */
  async classifyBatch(windows: readonly ArrayLike<number>[]): Promise<PatternResult[]> {
    const P = await this.probabilities(windows);
    const C = this.info.classes.length;
    return windows.map((_, i) => this.result(P.subarray(i * C, (i + 1) * C)));
  }

  /** Classifies the last `window` points (a longer array is cut to its most recent points). */
  classify(z: Float64Array): Promise<PatternResult> {
    if (!(z instanceof Float64Array) && !Array.isArray(z))
      return Promise.reject(new TaktError('spc.badWindow', 'window: expected an array of numbers', 'window'));
    if (z.length < this.window)
      return Promise.reject(
        new TaktError(
          'spc.badWindow',
          `window: ${z.length} points, the model needs ${this.window}`,
          'window',
        ),
      );
    const w =
      z.length === this.window ? Float64Array.from(z) : Float64Array.from(z.slice(z.length - this.window));
    try {
      patternFeatures(w); // validate now, so one bad window cannot fail a whole batch
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.queue.length >= this.maxQueued) {
      this.droppedCount++;
      return Promise.reject(
        new TaktError(
          'spc.patternBusy',
          `pattern model: ${this.maxQueued} windows already wait for it; this one is not classified (${this.droppedCount} so far)`,
          'window',
        ),
      );
    }
    return new Promise<PatternResult>((resolve, reject) => {
      this.queue.push({ z: w, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Releases the onnxruntime session; pending calls are rejected. */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    for (const p of this.queue.splice(0))
      p.reject(new TaktError('spc.modelClosed', 'pattern model: the classifier was disposed', 'model'));
    if (s) await s.release();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 1024);
        try {
          const results = await this.classifyBatch(batch.map((p) => p.z));
          batch.forEach((p, i) => p.resolve(results[i]));
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private result(p: Float32Array): PatternResult {
    let best = 0;
    const scores: Partial<Record<PatternClass, number>> = {};
    this.info.classes.forEach((c, j) => {
      scores[c] = p[j];
      if (p[j] > p[best]) best = j;
    });
    return { pattern: this.info.classes[best], confidence: p[best], scores };
  }
}
