/**
 * Image statistics and their drift: brightness, contrast and focus of every image a model judges, compared
 * with the images it was trained on, so that a dirty lens, a camera out of focus or new lighting is reported
 * before it floods the line with false rejects. No Node-RED import.
 *
 *   brightness  mean luminance (grey levels 0..255) of the model input
 *   contrast    standard deviation of that luminance
 *   focus       variance of the 4-neighbour Laplacian of the luminance (a sharp image has strong edges;
 *               blur, fog or dirt on the lens lowers it)
 *
 * The comparison is the model lifecycle's drift test (models/drift.ts: two-sample KS with a Bonferroni
 * bound and PSI over a sliding window against a reference sample), so a report has the shape `takt-drift`
 * sends as msg.drift. The reference is the training images' statistics, kept in the model card
 * (`imageStats`), or, for a model without one, the first images judged.
 */
import { TaktError } from '../core/errors';
import { DriftMonitor, type DriftReport } from '../models/drift';
import type { ReferenceSample } from '../models/types';

export const IMAGE_STATS = ['brightness', 'contrast', 'focus'] as const;
export type ImageStatName = (typeof IMAGE_STATS)[number];
export type ImageStats = Record<ImageStatName, number>;

/** Statistics of a CHW tensor in [0, 1] (1 grey or 3 RGB channels), `width` x `height`. */
export function imageStats(
  tensor: Float32Array,
  channels: number,
  width: number,
  height: number,
): ImageStats {
  const n = width * height;
  if (tensor.length < n * channels || n === 0)
    throw new TaktError(
      'vision.badImage',
      `image stats: ${tensor.length} values for ${width}x${height}`,
      'payload',
    );
  const L = new Float32Array(n);
  if (channels >= 3)
    for (let i = 0; i < n; i++)
      L[i] = 255 * (0.299 * tensor[i]! + 0.587 * tensor[n + i]! + 0.114 * tensor[2 * n + i]!);
  else for (let i = 0; i < n; i++) L[i] = 255 * tensor[i]!;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    s += L[i]!;
    s2 += L[i]! * L[i]!;
  }
  const mean = s / n;
  let l1 = 0;
  let l2 = 0;
  let m = 0;
  for (let y = 1; y < height - 1; y++)
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const lap = L[i - 1]! + L[i + 1]! + L[i - width]! + L[i + width]! - 4 * L[i]!;
      l1 += lap;
      l2 += lap * lap;
      m++;
    }
  const lm = m ? l1 / m : 0;
  return {
    brightness: mean,
    contrast: Math.sqrt(Math.max(s2 / n - mean * mean, 0)),
    focus: m ? Math.max(l2 / m - lm * lm, 0) : 0,
  };
}

/** A drift reference (the model card's `imageStats`) from the statistics of the training images. */
export function statsReference(stats: readonly ImageStats[]): ReferenceSample {
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { features: [...IMAGE_STATS], columns: IMAGE_STATS.map((k) => stats.map((s) => round(s[k]))) };
}

/** What a moved statistic probably means, in plain words for the operator. */
function cause(name: string, live: number, ref: number): string {
  const lower = live < ref;
  if (name === 'brightness')
    return `images ${lower ? 'darker' : 'brighter'} than in training (${live.toFixed(0)} vs ${ref.toFixed(0)}): lighting changed?`;
  if (name === 'contrast')
    return `contrast ${lower ? 'lower' : 'higher'} than in training (${live.toFixed(1)} vs ${ref.toFixed(1)}): lighting or exposure changed?`;
  return lower
    ? `images blurrier than in training (focus ${live.toFixed(0)} vs ${ref.toFixed(0)}): dirty lens or focus?`
    : `images sharper or noisier than in training (focus ${live.toFixed(0)} vs ${ref.toFixed(0)}): gain, noise or focus changed?`;
}

export interface ImageDriftReport extends DriftReport {
  /** Plain words per moved statistic, e.g. "images blurrier than in training (...): dirty lens or focus?". */
  warnings: string[];
  /** Where the reference came from. */
  basis: 'training' | 'first images';
}

export interface ImageDriftOptions {
  /** Images in the sliding window (default 50). */
  window?: number;
  /** Images between two reports once the window is full (default 10). */
  step?: number;
  /** Family-wise false-report rate on an unchanged stream (default 0.01). */
  alpha?: number;
  /** PSI at or above which a statistic counts as moved (default 0.2). */
  psiThreshold?: number;
  /** Images taken as the reference when there is no training reference (default 100, at least 30). */
  warmup?: number;
}

/** Follows the image statistics of one camera against a reference. */
export class ImageDrift {
  private monitor: DriftMonitor | undefined;
  private readonly first: ImageStats[] = [];
  private last: ImageDriftReport | undefined;
  readonly basis: 'training' | 'first images';
  private readonly warmup: number;

  constructor(
    reference: ReferenceSample | undefined,
    private readonly options: ImageDriftOptions = {},
  ) {
    this.warmup = options.warmup ?? 100;
    if (!(Number.isInteger(this.warmup) && this.warmup >= 30))
      throw new TaktError('vision.badOption', `warmup: ${this.warmup} must be an integer >= 30`, 'warmup');
    const usable = reference && reference.columns.every((c) => c.length >= 30);
    this.basis = usable ? 'training' : 'first images';
    if (usable) this.monitor = this.make(reference);
  }

  private make(reference: ReferenceSample): DriftMonitor {
    const o = this.options;
    const window = o.window ?? 50;
    return new DriftMonitor(reference, {
      window,
      minSamples: Math.min(30, window),
      step: o.step ?? 10,
      ...(o.alpha !== undefined ? { alpha: o.alpha } : {}),
      ...(o.psiThreshold !== undefined ? { psiThreshold: o.psiThreshold } : {}),
    });
  }

  /** Images still to be seen before the first image taken as reference is complete (0 once it is). */
  get warmingUp(): number {
    return this.monitor ? 0 : this.warmup - this.first.length;
  }

  /** The latest report (undefined before the first). */
  get report(): ImageDriftReport | undefined {
    return this.last;
  }

  /** Takes one image's statistics; returns a report when one is due. */
  push(stats: ImageStats): ImageDriftReport | undefined {
    if (!this.monitor) {
      this.first.push(stats);
      if (this.first.length >= this.warmup) this.monitor = this.make(statsReference(this.first));
      return undefined;
    }
    const r = this.monitor.push(stats);
    if (!r) return undefined;
    const warnings = r.features
      .filter((f) => f.moved)
      .sort((a, b) => b.psi - a.psi)
      .map((f) => cause(f.feature, f.liveMean, f.referenceMean));
    this.last = {
      ...r,
      retrain: false,
      recommendation: r.drift
        ? `check the camera before retraining: ${warnings.join('; ')}`
        : 'none: images look like the training images',
      warnings,
      basis: this.basis,
    };
    return this.last;
  }
}
