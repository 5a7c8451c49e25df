/**
 * Vibration features of one waveform (acceleration samples at a known sampling rate), as one flat record of
 * numbers ready for an anomaly model, plus the ISO 10816/20816 severity zone.
 *
 *   time domain   rms, peak, peakToPeak, crestFactor, kurtosis (3 for Gaussian noise, 1.5 for a sine),
 *                 skewness, shapeFactor, impulseFactor, clearanceFactor (all on the waveform as given)
 *   spectrum      Hann-windowed FFT (fft.js), averaged over 50 %-overlapping segments of `fftSize`;
 *                 dom1Hz..dom3Hz / dom1Amp.. (largest peaks, amplitude in input units), band_<lo>_<hi>
 *                 (mean-square energy in each band, input units²)
 *   velocity      velocityRmsMmS: the acceleration spectrum integrated (divided by 2πf) over 10-1000 Hz,
 *                 ISO 10816 zone A-D for the machine class
 *   envelope      band-pass around the structural resonance and Hilbert transform in one FFT, then the
 *                 spectrum of the envelope; bearing defect frequencies (from ../core/bearing) with the
 *                 envelope amplitude at 1x, 2x, 3x of each and the 1x amplitude over the spectrum's median.
 *
 * No Node-RED import; bad input throws TaktError naming the field.
 */
import FFT from 'fft.js';
import { TaktError } from '../core/errors';
import { bearingFrequencies } from '../core/bearing';

export type IsoZone = 'A' | 'B' | 'C' | 'D';
/** ISO 10816-1 machine classes: I small machines, II medium, III large rigid, IV large soft foundations. */
export type MachineClass = 'I' | 'II' | 'III' | 'IV';

/** Zone boundaries A/B, B/C, C/D in mm/s RMS (ISO 10816-1 Annex B). */
export const ISO_ZONE_LIMITS: Record<MachineClass, readonly [number, number, number]> = {
  I: [0.71, 1.8, 4.5],
  II: [1.12, 2.8, 7.1],
  III: [1.8, 4.5, 11.2],
  IV: [2.8, 7.1, 18],
};

export interface BearingSpec {
  balls: number;
  /** Rolling-element diameter and pitch diameter, in the same unit (mm). */
  ballDiameter: number;
  pitchDiameter: number;
  contactAngleDeg: number;
}

export interface FeatureOptions {
  sampleRateHz: number;
  /** Shaft speed, needed for the bearing frequencies. */
  rpm?: number;
  bearing?: BearingSpec;
  /** Bands [lo, hi] Hz whose energy is reported. */
  bands?: [number, number][];
  machineClass?: MachineClass;
  /** FFT size (power of two); default the largest power of two <= the waveform length, at most 8192. */
  fftSize?: number;
  /** Unit of the samples: standard gravities (default) or m/s². */
  unit?: 'g' | 'm/s2';
  /** Envelope band-pass [lo, hi] Hz around the structural resonance; default [fs/8, 0.4·fs]. */
  envelopeBand?: [number, number];
  /** Velocity band of ISO 10816, default [10, 1000] Hz. */
  velocityBand?: [number, number];
  /** Number of dominant peaks reported, default 3. */
  peaks?: number;
}

export interface VibrationFeatures {
  [name: string]: number | IsoZone;
  rms: number;
  peak: number;
  peakToPeak: number;
  crestFactor: number;
  kurtosis: number;
  skewness: number;
  shapeFactor: number;
  impulseFactor: number;
  clearanceFactor: number;
  velocityRmsMmS: number;
  zone: IsoZone;
}

/** The numeric part of a feature record (drops `zone`), e.g. to feed a model. */
export function numericFeatures(f: VibrationFeatures): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(f)) if (typeof v === 'number') out[k] = v;
  return out;
}

const G = 9.80665;

function bad(field: string, message: string, code = 'vibration.badInput'): never {
  throw new TaktError(code, `${field}: ${message}`, field);
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

/** Hann window of length n (periodic form). */
export function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/**
 * FFT plans (fft.js builds its twiddle and bit-reversal tables in the constructor) and Hann windows with
 * their power sum, made once per size and kept: a waveform a second per machine at a high time factor would
 * otherwise rebuild them on every message. Sizes are powers of two, and only those up to KEEP_SIZE are kept
 * (at most 16 of each, about 3 MB in all); a larger one is made for its call.
 */
const KEEP_SIZE = 1 << 16;
const plans = new Map<number, FFT>();
const windows = new Map<number, { w: Float64Array; s2: number }>();

function plan(n: number): FFT {
  let f = plans.get(n);
  if (!f) {
    f = new FFT(n);
    if (n <= KEEP_SIZE) plans.set(n, f);
  }
  return f;
}

function hannOf(n: number): { w: Float64Array; s2: number } {
  let h = windows.get(n);
  if (!h) {
    const w = hann(n);
    let s2 = 0;
    for (let i = 0; i < n; i++) s2 += w[i] * w[i];
    h = { w, s2 };
    if (n <= KEEP_SIZE) windows.set(n, h);
  }
  return h;
}

/** A one-sided spectrum: `power[k]` is the mean-square content of bin k (input units²), at k·df Hz. */
export interface Spectrum {
  df: number;
  power: Float64Array;
}

/**
 * Welch-averaged one-sided power spectrum with a Hann window, scaled so that the bins of a sine of amplitude
 * A sum to A²/2 (the mean square), whatever the leakage.
 */
export function powerSpectrum(x: ArrayLike<number>, sampleRateHz: number, fftSize: number): Spectrum {
  if (!isPow2(fftSize)) bad('fftSize', `${fftSize} is not a power of two`);
  if (x.length < fftSize)
    bad(
      'samples',
      `waveform of ${x.length} samples is shorter than the FFT size ${fftSize}`,
      'vibration.tooShort',
    );
  const n = fftSize;
  const { w, s2 } = hannOf(n);
  const fft = plan(n);
  const buf = new Float64Array(n);
  const out = fft.createComplexArray() as number[];
  const power = new Float64Array(n / 2 + 1);
  const hop = n / 2;
  let segs = 0;
  for (let start = 0; start + n <= x.length; start += hop) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[start + i];
    mean /= n;
    for (let i = 0; i < n; i++) buf[i] = (x[start + i] - mean) * w[i];
    fft.realTransform(out, buf);
    for (let k = 0; k <= n / 2; k++) {
      const re = out[2 * k];
      const im = out[2 * k + 1];
      const m = (re * re + im * im) / (n * s2);
      power[k] += k === 0 || k === n / 2 ? m : 2 * m;
    }
    segs++;
  }
  for (let k = 0; k < power.length; k++) power[k] /= segs;
  return { df: sampleRateHz / n, power };
}

/** Mean square in [lo, hi] Hz. */
export function bandPower(s: Spectrum, lo: number, hi: number): number {
  let e = 0;
  const k0 = Math.max(0, Math.ceil(lo / s.df));
  const k1 = Math.min(s.power.length - 1, Math.floor(hi / s.df));
  for (let k = k0; k <= k1; k++) e += s.power[k];
  return e;
}

/** The `count` largest local maxima of the spectrum: frequency (parabolic interpolation) and amplitude. */
export function dominantPeaks(s: Spectrum, count: number): { hz: number; amp: number }[] {
  const p = s.power;
  const peaks: { k: number; v: number }[] = [];
  for (let k = 1; k < p.length - 1; k++) if (p[k] > p[k - 1] && p[k] >= p[k + 1]) peaks.push({ k, v: p[k] });
  peaks.sort((a, b) => b.v - a.v);
  return peaks.slice(0, count).map(({ k }) => {
    const a = Math.log(p[k - 1] + 1e-300);
    const b = Math.log(p[k] + 1e-300);
    const c = Math.log(p[k + 1] + 1e-300);
    const den = a - 2 * b + c;
    const d = den < 0 ? (0.5 * (a - c)) / den : 0;
    // A Hann-windowed sine spreads over about three bins: sum them for the amplitude.
    const ms = p[k - 1] + p[k] + p[k + 1];
    return { hz: (k + Math.max(-0.5, Math.min(0.5, d))) * s.df, amp: Math.sqrt(2 * ms) };
  });
}

/**
 * The envelope of `x` band-passed to [lo, hi] Hz: one FFT, bins outside the band and negative frequencies
 * zeroed, positive ones doubled (band-pass and Hilbert transform together), inverse FFT, modulus.
 */
export function envelope(x: ArrayLike<number>, sampleRateHz: number, lo: number, hi: number): Float64Array {
  let n = 2;
  while (n < x.length) n *= 2;
  const fft = plan(n);
  const inp = fft.createComplexArray() as number[];
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  for (let i = 0; i < x.length; i++) inp[2 * i] = x[i] - mean;
  const spec = fft.createComplexArray() as number[];
  fft.transform(spec, inp);
  const df = sampleRateHz / n;
  for (let k = 0; k < n; k++) {
    const f = k * df;
    const keep = k > 0 && k < n / 2 && f >= lo && f <= hi;
    spec[2 * k] = keep ? 2 * spec[2 * k] : 0;
    spec[2 * k + 1] = keep ? 2 * spec[2 * k + 1] : 0;
  }
  const z = fft.createComplexArray() as number[];
  fft.inverseTransform(z, spec);
  const env = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) env[i] = Math.hypot(z[2 * i], z[2 * i + 1]);
  return env;
}

function amplitudeNear(s: Spectrum, hz: number, tolBins = 2): number {
  const k = Math.round(hz / s.df);
  let best = 0;
  for (let j = Math.max(1, k - tolBins); j <= Math.min(s.power.length - 2, k + tolBins); j++) {
    // amplitude of a windowed line: the three bins around it
    const ms = s.power[j - 1] + s.power[j] + s.power[j + 1];
    best = Math.max(best, Math.sqrt(2 * ms));
  }
  return best;
}

function median(a: Float64Array): number {
  const s = Float64Array.from(a).sort();
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}

/** ISO 10816 zone of a velocity RMS (mm/s) for a machine class. */
export function isoZone(velocityRmsMmS: number, machineClass: MachineClass = 'II'): IsoZone {
  const lim = ISO_ZONE_LIMITS[machineClass];
  if (!lim) bad('machineClass', `"${String(machineClass)}" is not one of I, II, III, IV`);
  if (velocityRmsMmS < lim[0]) return 'A';
  if (velocityRmsMmS < lim[1]) return 'B';
  if (velocityRmsMmS < lim[2]) return 'C';
  return 'D';
}

/** Throws `vibration.notFinite` (or `badInput`) unless every sample is a finite number. */
export function checkSamples(samples: ArrayLike<number>): void {
  if (samples === null || typeof samples !== 'object' || typeof samples.length !== 'number')
    bad('samples', 'expected an array of numbers');
  for (let i = 0; i < samples.length; i++)
    if (typeof samples[i] !== 'number' || !Number.isFinite(samples[i]))
      bad('samples', `sample ${i} is not a finite number (${String(samples[i])})`, 'vibration.notFinite');
}

function positive(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    bad(field, `must be a positive number, got ${String(v)}`);
  return v;
}

/** The time-domain statistics of a waveform. */
export function timeFeatures(x: ArrayLike<number>) {
  const n = x.length;
  let sum = 0;
  let sq = 0;
  let absSum = 0;
  let sqrtAbs = 0;
  let max = -Infinity;
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    sum += v;
    sq += v * v;
    absSum += Math.abs(v);
    sqrtAbs += Math.sqrt(Math.abs(v));
    if (v > max) max = v;
    if (v < min) min = v;
  }
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const rms = Math.sqrt(sq / n);
  const peak = Math.max(Math.abs(max), Math.abs(min));
  const meanAbs = absSum / n;
  const sra = (sqrtAbs / n) ** 2;
  const div = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    mean,
    rms,
    peak,
    peakToPeak: max - min,
    crestFactor: div(peak, rms),
    kurtosis: m2 > 0 ? m4 / (m2 * m2) : 0,
    skewness: m2 > 0 ? m3 / m2 ** 1.5 : 0,
    shapeFactor: div(rms, meanAbs),
    impulseFactor: div(peak, meanAbs),
    clearanceFactor: div(peak, sra),
  };
}

/** All features of one waveform (see the module comment for the names). */
export function features(samples: ArrayLike<number>, opts: FeatureOptions): VibrationFeatures {
  if (!opts || typeof opts !== 'object') bad('options', 'expected { sampleRateHz, ... }');
  checkSamples(samples);
  const fs = positive(opts.sampleRateHz, 'sampleRateHz');
  const n = samples.length;
  let fftSize = opts.fftSize;
  if (fftSize === undefined) {
    fftSize = 2;
    while (fftSize * 2 <= Math.min(n, 8192)) fftSize *= 2;
  }
  if (!isPow2(fftSize)) bad('fftSize', `${fftSize} is not a power of two`);
  if (n < fftSize || n < 16)
    bad('samples', `waveform of ${n} samples is shorter than the FFT size ${fftSize}`, 'vibration.tooShort');
  const toMs2 = opts.unit === 'm/s2' ? 1 : G;
  const t = timeFeatures(samples);
  const spec = powerSpectrum(samples, fs, fftSize);

  const out: VibrationFeatures = {
    rms: t.rms,
    peak: t.peak,
    peakToPeak: t.peakToPeak,
    crestFactor: t.crestFactor,
    kurtosis: t.kurtosis,
    skewness: t.skewness,
    shapeFactor: t.shapeFactor,
    impulseFactor: t.impulseFactor,
    clearanceFactor: t.clearanceFactor,
    velocityRmsMmS: 0,
    zone: 'A',
  };
  const peaks = dominantPeaks(spec, opts.peaks ?? 3);
  for (let i = 0; i < (opts.peaks ?? 3); i++) {
    out[`dom${i + 1}Hz`] = peaks[i]?.hz ?? 0;
    out[`dom${i + 1}Amp`] = peaks[i]?.amp ?? 0;
  }
  for (const [i, b] of (opts.bands ?? []).entries()) {
    if (!Array.isArray(b) || b.length !== 2 || !(b[0] >= 0) || !(b[1] > b[0]))
      bad(`bands[${i}]`, `expected [lo, hi] with 0 <= lo < hi, got ${JSON.stringify(b)}`);
    out[`band_${b[0]}_${b[1]}`] = bandPower(spec, b[0], b[1]);
  }

  // Velocity: each bin's acceleration (m/s²) over 2πf, in mm/s.
  const [vlo, vhi] = opts.velocityBand ?? [10, 1000];
  let v2 = 0;
  for (
    let k = Math.max(1, Math.ceil(vlo / spec.df));
    k <= Math.min(spec.power.length - 1, vhi / spec.df);
    k++
  ) {
    const f = k * spec.df;
    v2 += (spec.power[k] * (toMs2 * 1000) ** 2) / (2 * Math.PI * f) ** 2;
  }
  out.velocityRmsMmS = Math.sqrt(v2);
  out.zone = isoZone(out.velocityRmsMmS, opts.machineClass ?? 'II');

  if (opts.bearing !== undefined || opts.rpm !== undefined) {
    const b = opts.bearing;
    if (!b || typeof b !== 'object')
      bad('bearing', 'bearing frequencies need { balls, ballDiameter, pitchDiameter, contactAngleDeg }');
    const rpm = positive(opts.rpm, 'rpm');
    const balls = positive(b.balls, 'bearing.balls');
    const d = positive(b.ballDiameter, 'bearing.ballDiameter');
    const D = positive(b.pitchDiameter, 'bearing.pitchDiameter');
    if (d >= D) bad('bearing.ballDiameter', 'must be smaller than bearing.pitchDiameter');
    const angle = b.contactAngleDeg ?? 0;
    if (typeof angle !== 'number' || !Number.isFinite(angle))
      bad('bearing.contactAngleDeg', 'must be a number');
    const bf = bearingFrequencies(
      { balls, ballDiameterMm: d, pitchDiameterMm: D, contactAngleDeg: angle },
      rpm,
    );
    const [elo, ehi] = opts.envelopeBand ?? [fs / 8, 0.4 * fs];
    if (!(elo >= 0 && ehi > elo && ehi <= fs / 2))
      bad('envelopeBand', `expected 0 <= lo < hi <= ${fs / 2} Hz`);
    const env = envelope(samples, fs, elo, ehi);
    const es = powerSpectrum(env, fs, fftSize);
    const floor = Math.sqrt(2 * 3 * median(es.power)) || 1e-12;
    out.shaftHz = bf.shaftHz;
    out.envelopeRms = timeFeatures(env).rms;
    for (const key of ['bpfo', 'bpfi', 'bsf', 'ftf'] as const) {
      const hz = bf[key];
      out[`${key}Hz`] = hz;
      for (let h = 1; h <= 3; h++) out[`${key}Amp${h}`] = h * hz < fs / 2 ? amplitudeNear(es, h * hz) : 0;
      out[`${key}Ratio`] = (out[`${key}Amp1`] as number) / floor;
    }
  }
  return out;
}
