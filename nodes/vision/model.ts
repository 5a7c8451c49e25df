/**
 * Training and inspection with the vision engine's own models (see graph.ts for the graph).
 *
 * Training learns from good parts only: the images are split into a fit set (patch descriptors go into
 * the memory bank) and a held-out set (about one image in five, never in the bank) whose scores set the
 * threshold at the chosen false-reject rate. Defect images are never needed and never used.
 */
import { readFile } from 'node:fs/promises';
import type { InferenceSession } from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { TaktError } from '../core/errors';
import { normalQuantile } from '../core/normal';
import { openOnnxSession, type Ort } from '../core/onnx';
import { Rng } from '../core/random';
import { extractorModel, positions, scorerModel, type ExtractorSpec } from './graph';
import { cellsBox, encodePng, prepare, type ImageInput, type Roi } from './image';
import { buildTemplate, findPose, IDENTITY, poseMap, thumbnail, warp, type Pose } from './register';
import { imageStats, statsReference, type ImageStats } from './stats';
import type { ReferenceSample } from '../models/types';

export const CARD_KEY = 'takt.vision';

/** What a vision model says about itself (stored in the ONNX metadata under `takt.vision`). */
export interface VisionCard {
  format: 'takt-vision/1';
  method: 'padim-filterbank' | 'patchcore-filterbank' | 'patchcore-random';
  /** Model input: square side and channels (1 grey, 3 RGB). */
  size: number;
  channels: 1 | 3;
  /** Side of the anomaly map. */
  grid: number;
  preprocessing: {
    roi: Roi | null;
    resize: 'stretch to size x size (bicubic)';
    scale: 'pixel / 255';
    contrastNorm: boolean;
  };
  /** Image score threshold (score > threshold means anomalous) and the false-reject rate it was set for. */
  threshold: number;
  falseRejectRate: number;
  positionWeight: number;
  /** What good patches are compared with: a Gaussian per location, a bank per location, or one bank. */
  memory?: 'gaussian' | 'local' | 'global';
  /** Patches in the bank (per location for 'local'; 0 for 'gaussian'). */
  bankSize: number;
  /** Registration template (luminance at 1/4 resolution, row-major), or null when parts are not registered. */
  registration: { side: number; template: number[] } | null;
  training: {
    images: number;
    fit: number;
    calibration: number;
    heldOut: number;
    patches: number;
    heldOutScores: { min: number; mean: number; sd: number; max: number };
    thresholdRule: string;
    seconds: number;
    stoppedEarly: boolean;
  };
  /** Brightness, contrast and focus of every training image: the reference of image drift (stats.ts). */
  imageStats?: ReferenceSample;
  createdAt: string;
}

export interface TrainOptions {
  /** Model input side (default 256; a multiple of 4 x grid). */
  size?: number;
  /** Share of good parts the threshold may reject (default 0.01). */
  falseRejectRate?: number;
  /** Wall-clock budget; the coreset stops early to meet it (default 120 s). */
  timeLimitMs?: number;
  /** Anomaly map side (default size / 8: one cell per 8 pixels). */
  grid?: number;
  /** Region of interest applied to every image (source pixels). */
  roi?: Roi;
  /**
   * What the good patches become: 'gaussian' (default for the designed bank) a Gaussian of the patch
   * features at each location of the registered part (mean and covariance, PaDiM-style; the distance is
   * Mahalanobis); 'local' a k-centre coreset of the good patches at each location (nearest neighbour);
   * 'global' one coreset searched by every patch, with position as a weak feature (the random baseline).
   */
  bank?: 'gaussian' | 'local' | 'global';
  /**
   * Cells around a location whose good patches it learns from (default 1 for 'local'; for 'gaussian' 0, or 1
   * when there are fewer than 4 fit copies per feature).
   */
  neighbourhood?: number;
  /** Memory bank size: patches kept per location (local bank, default 64) or in all (global, default 4096). */
  bankSize?: number;
  /**
   * Local bank: the fit images also enter shifted by this many pixels left, right, up and down (default 1),
   * so that a part registered a pixel off still finds its match.
   */
  jitter?: number;
  /** Designed bank: band-pass local mean and peak energies as extra features (default true). */
  bandPass?: boolean;
  peak?: boolean;
  /** Weight of patch position (in grid cells) in the nearest-neighbour distance (default 1; 0 = anywhere). */
  positionWeight?: number;
  /** 'random' builds the random-convolution baseline instead of the designed filter bank. */
  features?: 'designed' | 'random';
  /** Divide the map by the typical distance at each location, learned from calibration images (default true). */
  locationScale?: boolean;
  /** Normalise each image's luminance to zero mean, unit variance (default true for the designed bank). */
  contrastNorm?: boolean;
  /** Register every part onto a template learned from the good images before comparing (default true). */
  register?: boolean;
  /** Seed for subsampling (default 1). */
  seed?: number;
  /** Progress callback (0..1 and a word), for a node's status. */
  onProgress?: (fraction: number, stage: string) => void;
}

export interface TrainResult {
  onnx: Uint8Array;
  card: VisionCard;
}

async function run(
  session: InferenceSession,
  ort: Ort,
  tensor: Float32Array,
  shape: number[],
  outputs: string[],
) {
  const feeds = { image: new ort.Tensor('float32', tensor, shape) };
  return session.run(feeds, outputs);
}

/**
 * The threshold from held-out good scores at false-reject rate `frr`: the empirical (1 - frr) quantile
 * when the held-out set is large enough to have one (n * frr >= 1), otherwise a normal tail fit
 * (mean + z * sd); never below the largest held-out score in the latter case.
 */
export function thresholdFromGood(scores: number[], frr: number): { threshold: number; rule: string } {
  if (scores.length === 0)
    throw new TaktError('vision.tooFewImages', 'no held-out images for the threshold', 'images');
  const s = [...scores].sort((x, y) => x - y);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  if (n * frr >= 1) {
    const pos = (1 - frr) * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return {
      threshold: s[lo]! + (s[hi]! - s[lo]!) * (pos - lo),
      rule: `empirical ${(1 - frr) * 100}% quantile of ${n} held-out good scores`,
    };
  }
  const z = normalQuantile(Math.min(Math.max(1 - frr, 1e-12), 1 - 1e-12));
  return {
    threshold: Math.max(s[n - 1]!, mean + z * sd),
    rule: `normal tail mean + ${z.toFixed(2)} sd of ${n} held-out good scores (at least their maximum)`,
  };
}

/**
 * Greedy k-centre coreset (farthest-point) over `rows` (n x e), on a random projection to `proj` dims
 * when e is larger. Returns the chosen row indices; stops early when `deadline` passes.
 */
export function kCenterCoreset(
  rows: Float32Array,
  n: number,
  e: number,
  k: number,
  rng: Rng,
  proj: number,
  deadline: number,
): { idx: number[]; stoppedEarly: boolean } {
  if (k >= n) return { idx: Array.from({ length: n }, (_, i) => i), stoppedEarly: false };
  let X = rows;
  let d = e;
  if (e > proj) {
    d = proj;
    const R = new Float32Array(e * proj);
    for (let i = 0; i < R.length; i++) R[i] = rng.normal() / Math.sqrt(proj);
    X = new Float32Array(n * proj);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < proj; j++) {
        let s = 0;
        for (let t = 0; t < e; t++) s += rows[i * e + t]! * R[t * proj + j]!;
        X[i * proj + j] = s;
      }
  }
  const minD = new Float32Array(n).fill(Infinity);
  const idx: number[] = [];
  let cur = rng.int(0, n - 1);
  let stoppedEarly = false;
  for (let c = 0; c < k; c++) {
    idx.push(cur);
    const o = cur * d;
    let best = -1;
    let bestD = -1;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const oi = i * d;
      for (let t = 0; t < d; t++) {
        const z = X[oi + t]! - X[o + t]!;
        s += z * z;
      }
      const m = s < minD[i]! ? (minD[i] = s) : minD[i]!;
      if (m > bestD) {
        bestD = m;
        best = i;
      }
    }
    if (bestD <= 0) break;
    cur = best;
    if ((c & 63) === 0 && Date.now() > deadline) {
      stoppedEarly = true;
      break;
    }
  }
  return { idx, stoppedEarly };
}

/** The image moved by (dx, dy) pixels (content goes right/down), edges replicated. */
export function shiftImage(
  t: Float32Array,
  channels: number,
  size: number,
  dx: number,
  dy: number,
): Float32Array {
  const out = new Float32Array(t.length);
  const plane = size * size;
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < size; y++) {
      const sy = Math.min(Math.max(y - dy, 0), size - 1);
      for (let x = 0; x < size; x++) {
        const sx = Math.min(Math.max(x - dx, 0), size - 1);
        out[c * plane + y * size + x] = t[c * plane + sy * size + sx]!;
      }
    }
  return out;
}

/** Standardised patch features of the fit copies: row (copy * G*G + location) of `feats`, D wide. */
export interface PatchSet {
  feats: Float32Array;
  copies: number;
  grid: number;
  D: number;
}

/** How many patches a coreset keeps, its random source, and when it must stop. */
interface CoresetBudget {
  target: number;
  rng: Rng;
  deadline: number;
}

interface BankResult {
  bank: Float32Array;
  size: number;
  stoppedEarly: boolean;
}

/** Rows of every copy's patches at the cells within `reach` of (x, y) (clipped at the border). */
function neighbourRows(ps: PatchSet, x: number, y: number, reach: number): number[] {
  const { grid, copies } = ps;
  const rows: number[] = [];
  for (let yy = Math.max(0, y - reach); yy <= Math.min(grid - 1, y + reach); yy++)
    for (let xx = Math.max(0, x - reach); xx <= Math.min(grid - 1, x + reach); xx++)
      for (let c = 0; c < copies; c++) rows.push(c * grid * grid + yy * grid + xx);
  return rows;
}

/**
 * The global memory bank: every candidate patch standardised, with its position on the part (shifted
 * copies agree), subsampled to at most 32768 and then reduced by a greedy k-centre coreset.
 */
function globalBank(
  ps: PatchSet,
  copyShift: [number, number][],
  positionWeight: number,
  { target, rng, deadline }: CoresetBudget,
): BankResult {
  const { feats, grid, D } = ps;
  const P = grid * grid;
  const E = D + 2;
  const pos = positions(grid);
  const total = ps.copies * P;
  const maxCand = 32768;
  const pick: number[] = [];
  const keep = Math.min(1, maxCand / total);
  for (let i = 0; i < total; i++) if (keep >= 1 || rng.next() < keep) pick.push(i);
  const cand = new Float32Array(pick.length * E);
  pick.forEach((g, r) => {
    const c = Math.floor(g / P);
    const p = g % P;
    cand.set(feats.subarray(g * D, g * D + D), r * E);
    cand[r * E + D] = (pos[2 * p]! - copyShift[c]![0]) * positionWeight;
    cand[r * E + D + 1] = (pos[2 * p + 1]! - copyShift[c]![1]) * positionWeight;
  });
  const { idx, stoppedEarly } = kCenterCoreset(cand, pick.length, E, target, rng, 24, deadline);
  const bank = new Float32Array(idx.length * E);
  idx.forEach((r, j) => bank.set(cand.subarray(r * E, r * E + E), j * E));
  return { bank, size: idx.length, stoppedEarly };
}

/**
 * The local memory bank [G*G, K, D]: for each location, the standardised patches of every fit copy at
 * that location and the cells within `reach` of it (the registration is not exact), at most `maxCand` of
 * them drawn at random, reduced to K by a greedy k-centre coreset of their own (on a fixed random
 * projection to `proj` dims, made once for all patches). K is the target or the number of candidates if
 * fewer; when the deadline passes, the remaining locations keep random candidates.
 */
function localBank(ps: PatchSet, reach: number, { target, rng, deadline }: CoresetBudget): BankResult {
  const { feats, grid, D } = ps;
  const P = grid * grid;
  const side = 2 * reach + 1;
  const maxCand = 2048;
  const proj = Math.min(D, 16);
  const K = Math.min(target, ps.copies * side * side, maxCand);
  // Project every patch once.
  const n = ps.copies * P;
  const R = new Float32Array(D * proj);
  for (let i = 0; i < R.length; i++) R[i] = rng.normal() / Math.sqrt(proj);
  const X = new Float32Array(n * proj);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < D; d++) {
      const v = feats[i * D + d]!;
      if (v === 0) continue;
      const o = i * proj;
      for (let j = 0; j < proj; j++) X[o + j]! += v * R[d * proj + j]!;
    }
  const bank = new Float32Array(P * K * D);
  const cand = new Float32Array(maxCand * proj);
  let stoppedEarly = false;
  for (let y = 0; y < grid; y++)
    for (let x = 0; x < grid; x++) {
      const ids = neighbourRows(ps, x, y, reach);
      // A random subset when there are too many (partial Fisher-Yates).
      const m = Math.min(ids.length, maxCand);
      for (let i = 0; i < m; i++) {
        const j = rng.int(i, ids.length - 1);
        const t = ids[i]!;
        ids[i] = ids[j]!;
        ids[j] = t;
      }
      for (let i = 0; i < m; i++) cand.set(X.subarray(ids[i]! * proj, ids[i]! * proj + proj), i * proj);
      const r: { idx: number[]; stoppedEarly: boolean } = stoppedEarly
        ? { idx: Array.from({ length: Math.min(K, m) }, (_, i) => i), stoppedEarly: true }
        : kCenterCoreset(cand, m, proj, K, rng, proj, deadline);
      stoppedEarly ||= r.stoppedEarly;
      const o = (y * grid + x) * K * D;
      for (let k = 0; k < K; k++) {
        const g = ids[r.idx[k % r.idx.length]!]!;
        bank.set(feats.subarray(g * D, g * D + D), o + k * D);
      }
    }
  return { bank, size: K, stoppedEarly };
}

/**
 * A Gaussian of the standardised patch features at each location (PaDiM-style), from every fit copy at
 * that location and the cells within `reach` of it: the mean and W = L^-1 (transposed, [G*G, D, D]) where
 * L L^T = the Ledoit-Wolf shrunk covariance + eps I. Small misplacement seen in the fit copies (the jittered ones) becomes a
 * direction of the covariance, so it costs little; a mark the good parts never show costs a lot.
 */
export function localGaussian(
  ps: PatchSet,
  reach: number,
  eps: number,
): { mean: Float32Array; whiteT: Float32Array } {
  const { feats, grid, D } = ps;
  const P = grid * grid;
  const mean = new Float32Array(P * D);
  const whiteT = new Float32Array(P * D * D);
  const m = new Float64Array(D);
  const c = new Float64Array(D * D);
  const L = new Float64Array(D * D);
  const W = new Float64Array(D * D);
  for (let y = 0; y < grid; y++)
    for (let x = 0; x < grid; x++) {
      m.fill(0);
      c.fill(0);
      const rows = neighbourRows(ps, x, y, reach);
      const cnt = rows.length;
      for (const r of rows) for (let i = 0; i < D; i++) m[i]! += feats[r * D + i]!;
      for (let i = 0; i < D; i++) m[i]! /= cnt;
      for (const r of rows) {
        const o = r * D;
        for (let i = 0; i < D; i++) {
          const a = feats[o + i]! - m[i]!;
          if (a === 0) continue;
          for (let j = 0; j <= i; j++) c[i * D + j]! += a * (feats[o + j]! - m[j]!);
        }
      }
      for (let i = 0; i < D; i++)
        for (let j = 0; j <= i; j++) c[j * D + i] = c[i * D + j]! /= Math.max(1, cnt - 1);
      // Ledoit-Wolf shrinkage towards (trace / D) I: with few good images (or many features) the sample
      // covariance has directions of almost no variance that a good part would still cross.
      let tr = 0;
      for (let i = 0; i < D; i++) tr += c[i * D + i]!;
      const target = tr / D;
      let d2 = 0;
      let s2 = 0;
      for (let i = 0; i < D; i++)
        for (let j = 0; j < D; j++) {
          const v = c[i * D + j]!;
          s2 += v * v;
          d2 += (v - (i === j ? target : 0)) ** 2;
        }
      // sum_k |z_k x z_k - S|^2 = sum_k |z_k|^4 - 2 sum_k z_k' S z_k + cnt |S|^2, and
      // sum_k z_k' S z_k = (cnt - 1) |S|^2 since S = sum_k z_k z_k' / (cnt - 1).
      let z4 = 0;
      for (const r of rows) {
        let zz = 0;
        for (let i = 0; i < D; i++) zz += (feats[r * D + i]! - m[i]!) ** 2;
        z4 += zz * zz;
      }
      let b2 = z4 - 2 * (cnt - 1) * s2 + cnt * s2;
      b2 /= cnt * cnt;
      const alpha = d2 > 0 ? Math.min(b2, d2) / d2 : 1;
      for (let i = 0; i < D; i++) {
        for (let j = 0; j <= i; j++) c[i * D + j]! *= 1 - alpha;
        c[i * D + i]! += alpha * target + eps;
      }
      // Cholesky (lower) then W = L^-1 by forward substitution.
      L.fill(0);
      for (let i = 0; i < D; i++)
        for (let j = 0; j <= i; j++) {
          let s = c[i * D + j]!;
          for (let k = 0; k < j; k++) s -= L[i * D + k]! * L[j * D + k]!;
          L[i * D + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * D + j]!;
        }
      W.fill(0);
      for (let col = 0; col < D; col++)
        for (let i = col; i < D; i++) {
          let s = i === col ? 1 : 0;
          for (let k = col; k < i; k++) s -= L[i * D + k]! * W[k * D + col]!;
          W[i * D + col] = s / L[i * D + i]!;
        }
      const p = y * grid + x;
      for (let i = 0; i < D; i++) {
        mean[p * D + i] = m[i]!;
        // whiteT[p][i][j] = W[j][i]
        for (let j = 0; j < D; j++) whiteT[p * D * D + i * D + j] = W[j * D + i]!;
      }
    }
  return { mean, whiteT };
}

/**
 * Trains an anomaly model on good images (encoded bytes or raw frames) and returns the ONNX model with
 * its card. The library call runs inline (the node runs it in a worker thread).
 */
export async function train(images: ImageInput[], opts: TrainOptions = {}): Promise<TrainResult> {
  const t0 = Date.now();
  const size = opts.size ?? 256;
  const grid = opts.grid ?? Math.max(1, Math.round(size / 8));
  const frr = opts.falseRejectRate ?? 0.01;
  const timeLimitMs = opts.timeLimitMs ?? 120_000;
  const positionWeight = opts.positionWeight ?? 1;
  const features = opts.features ?? 'designed';
  const bankKind = opts.bank ?? (features === 'designed' ? 'gaussian' : 'global');
  const bankTarget = opts.bankSize ?? (bankKind === 'local' ? 64 : 4096);

  const rng = new Rng(opts.seed ?? 1, 31);
  const progress = opts.onProgress ?? (() => {});
  if (!(frr > 0 && frr < 0.5))
    throw new TaktError('vision.badOption', `falseRejectRate ${frr} must be in (0, 0.5)`, 'falseRejectRate');
  if (!Array.isArray(images) || images.length < 10)
    throw new TaktError(
      'vision.tooFewImages',
      `training needs at least 10 good images, got ${Array.isArray(images) ? images.length : 0}`,
      'images',
    );

  // Decode everything once at 3 channels; a model is grey unless some source image has colour.
  const prepared: Float32Array[] = [];
  let colour = false;
  for (let i = 0; i < images.length; i++) {
    let p;
    try {
      p = await prepare(images[i]!, { size, channels: 3, roi: opts.roi });
    } catch (err) {
      if (err instanceof TaktError)
        throw new TaktError(err.code, `training image ${i}: ${err.message}`, 'images');
      throw err;
    }
    if (p.source.channels >= 3) colour = true;
    prepared.push(p.tensor);
    if (i % 20 === 0) progress((0.2 * i) / images.length, 'decode');
  }
  const channels: 1 | 3 = colour ? 3 : 1;
  const trainingStats = statsReference(prepared.map((t) => imageStats(t, 3, size, size)));
  const plane = size * size;
  const inputs = prepared.map((t) => (channels === 3 ? t : t.slice(0, plane)));
  let template: Float32Array | null = null;
  if (opts.register !== false) {
    progress(0.15, 'register');
    const thumbs = inputs.map((t) => thumbnail(t, channels, size));
    template = buildTemplate(
      thumbs.filter((_, i) => i % 20 !== 6 && i % 20 !== 13 && i % 20 !== 19),
      size,
    );
    for (let i = 0; i < inputs.length; i++)
      inputs[i] = warp(inputs[i]!, channels, size, findPose(thumbs[i]!, template, size).pose);
  }

  const spec: ExtractorSpec = {
    size,
    channels,
    grid,
    bank: features,
    levels: features === 'designed' ? 3 : 1,
    contrastNorm: opts.contrastNorm ?? features === 'designed',
    seed: opts.seed ?? 1,
    bandPass: opts.bandPass ?? true,
    peak: opts.peak ?? true,
  };
  const ext = extractorModel(spec);
  const D = ext.width;
  const P = grid * grid;
  const { ort, session } = await openOnnxSession(
    ext.onnx,
    (r) => new TaktError('vision.badGraph', r, 'model'),
  );
  const n = inputs.length;
  const shape = [1, channels, size, size];

  // Split: about 70 % fit (patches go into the bank), 15 % calibrate the per-location scale, 15 % set the
  // threshold; the last two never enter the bank, and the threshold images are used for nothing else.
  const fit: number[] = [];
  const calib: number[] = [];
  const heldOut: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % 20;
    (r === 6 || r === 13 || r === 19 ? heldOut : r === 3 || r === 10 || r === 16 ? calib : fit).push(i);
  }
  if (calib.length === 0) calib.push(fit.pop()!);
  if (heldOut.length < 2) heldOut.push(fit.pop()!);

  // Patch features of the fit images, also with the part shifted by half a patch step (so the bank holds
  // the patches at the phases a misplaced part shows).
  const stride0 = size / grid;
  const half = stride0 / 2;
  const jitter = opts.jitter ?? 1;
  const shifts: [number, number][] =
    bankKind !== 'global'
      ? jitter > 0
        ? [
            [0, 0],
            [jitter, 0],
            [-jitter, 0],
            [0, jitter],
            [0, -jitter],
          ]
        : [[0, 0]]
      : [
          [0, 0],
          [half, 0],
          [0, half],
          [half, half],
        ];
  const nCopies = fit.length * shifts.length;
  const feats = new Float32Array(nCopies * P * D);
  const copyShift: [number, number][] = [];
  let k = 0;
  for (const i of fit)
    for (const [dx, dy] of shifts) {
      const x = dx === 0 && dy === 0 ? inputs[i]! : shiftImage(inputs[i]!, channels, size, dx, dy);
      const out = await run(session, ort, x, shape, ['patches']);
      feats.set(out.patches!.data as Float32Array, k * P * D);
      copyShift.push([dx / stride0, dy / stride0]);
      k++;
      if (k % 40 === 0) progress(0.2 + (0.3 * k) / nCopies, 'features');
    }
  await session.release();

  // Standardise with the fit set's statistics (unshifted copies).
  const mean = new Float64Array(D);
  const sq = new Float64Array(D);
  for (let c = 0; c < nCopies; c += shifts.length)
    for (let p = 0; p < P; p++) {
      const o = (c * P + p) * D;
      for (let d = 0; d < D; d++) {
        const v = feats[o + d]!;
        mean[d]! += v;
        sq[d]! += v * v;
      }
    }
  const count = fit.length * P;
  const mu = new Float32Array(D);
  const isd = new Float32Array(D);
  for (let d = 0; d < D; d++) {
    const m = mean[d]! / count;
    const v = Math.max(sq[d]! / count - m * m, 0);
    mu[d] = m;
    isd[d] = 1 / Math.max(Math.sqrt(v), 1e-6);
  }
  for (let i = 0; i < nCopies * P; i++)
    for (let d = 0; d < D; d++) feats[i * D + d] = (feats[i * D + d]! - mu[d]!) * isd[d]!;
  const ps: PatchSet = { feats, copies: nCopies, grid, D };

  const reserve = Math.min(15_000, timeLimitMs * 0.2);
  const deadline = t0 + timeLimitMs - reserve;
  progress(0.55, 'coreset');
  // A Gaussian learns from its own location only when the fit copies give at least 4 samples per feature
  // for its covariance; with fewer good images it pools the 3 x 3 cells around.
  const reach = Math.max(
    0,
    Math.round(opts.neighbourhood ?? (bankKind === 'local' || nCopies < 4 * D ? 1 : 0)),
  );
  const budget: CoresetBudget = { target: bankTarget, rng, deadline };
  const gaussian = bankKind === 'gaussian' ? localGaussian(ps, reach, 0.01) : undefined;
  const built =
    bankKind === 'gaussian'
      ? { bank: new Float32Array(0), size: 0, stoppedEarly: false }
      : bankKind === 'local'
        ? localBank(ps, reach, budget)
        : globalBank(ps, copyShift, positionWeight, budget);
  const { bank, stoppedEarly } = built;
  const total = nCopies * P;
  progress(0.8, 'calibrate');

  // Per-location standardisation: the distance of good patches has its own centre and spread at each
  // place on the part (print and edges vary more than flat surface). Both come from the calibration
  // images, pooled over the 3x3 neighbourhood (the part moves); the spread is floored at a quarter of its
  // median so that no location becomes hypersensitive.
  const params = {
    mean: mu,
    invSd: isd,
    positionWeight,
    bank,
    bankSize: built.size,
    local: bankKind === 'local' ? built.size : 0,
    gaussian,
    locShift: new Float32Array(P),
    locScale: new Float32Array(P).fill(1),
  };
  const scoreWith = async (bytes: Uint8Array, images: number[], output: 'score' | 'map') => {
    const s = await openOnnxSession(bytes, (r) => new TaktError('vision.badGraph', r, 'model'));
    const res: Float32Array[] = [];
    for (const i of images)
      res.push(
        Float32Array.from(
          (await run(s.session, s.ort, inputs[i]!, shape, [output]))[output]!.data as Float32Array,
        ),
      );
    await s.session.release();
    return res;
  };
  if (opts.locationScale !== false) {
    const maps = await scoreWith(scorerModel(spec, params, {}), calib, 'map');
    const sd = new Float32Array(P);
    for (let y = 0; y < grid; y++)
      for (let x = 0; x < grid; x++) {
        let s1 = 0;
        let s2 = 0;
        let c = 0;
        for (let yy = Math.max(0, y - 1); yy <= Math.min(grid - 1, y + 1); yy++)
          for (let xx = Math.max(0, x - 1); xx <= Math.min(grid - 1, x + 1); xx++)
            for (const mp of maps) {
              const v = mp[yy * grid + xx]!;
              s1 += v;
              s2 += v * v;
              c++;
            }
        const m = s1 / c;
        params.locShift[y * grid + x] = m;
        sd[y * grid + x] = Math.sqrt(Math.max(s2 / c - m * m, 0));
      }
    const med = [...sd].sort((a, b) => a - b)[P >> 1]!;
    for (let p = 0; p < P; p++) params.locScale[p] = Math.max(sd[p]!, med / 4, 1e-6);
  }
  progress(0.9, 'threshold');
  const scores = (await scoreWith(scorerModel(spec, params, {}), heldOut, 'score')).map((s) => s[0]!);
  const { threshold, rule } = thresholdFromGood(scores, frr);
  const sMean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const card: VisionCard = {
    format: 'takt-vision/1',
    method:
      features === 'random'
        ? 'patchcore-random'
        : bankKind === 'gaussian'
          ? 'padim-filterbank'
          : 'patchcore-filterbank',
    size,
    channels,
    grid,
    preprocessing: {
      roi: opts.roi ?? null,
      resize: 'stretch to size x size (bicubic)',
      scale: 'pixel / 255',
      contrastNorm: spec.contrastNorm,
    },
    threshold,
    falseRejectRate: frr,
    positionWeight,
    memory: bankKind,
    bankSize: built.size,
    registration: template
      ? { side: size / 4, template: Array.from(template, (v) => Math.round(v * 1e5) / 1e5) }
      : null,
    training: {
      images: n,
      fit: fit.length,
      calibration: calib.length,
      heldOut: heldOut.length,
      patches: total,
      heldOutScores: {
        min: Math.min(...scores),
        mean: sMean,
        sd: Math.sqrt(scores.reduce((a, b) => a + (b - sMean) ** 2, 0) / Math.max(1, scores.length - 1)),
        max: Math.max(...scores),
      },
      thresholdRule: rule,
      seconds: (Date.now() - t0) / 1000,
      stoppedEarly,
    },
    imageStats: trainingStats,
    createdAt: new Date().toISOString(),
  };
  const bytes = scorerModel(spec, params, { [CARD_KEY]: JSON.stringify(card) });
  progress(1, 'done');
  return { onnx: bytes, card };
}

/** One defect region on the anomaly map, in source image pixels. */
export interface Defect {
  x: number;
  y: number;
  w: number;
  h: number;
  /** Area in source pixels (map cells above the threshold times the cell area). */
  area: number;
  /** Highest map value in the region. */
  score: number;
}

export interface Inspection {
  score: number;
  threshold: number;
  anomalous: boolean;
  /** The anomaly map (grid x grid, row-major), higher = more anomalous, same units as score. */
  map: { width: number; height: number; data: Float32Array };
  defects: Defect[];
  /** Size of the image judged (source pixels: the frame defect boxes refer to). */
  image: { width: number; height: number };
  /** PNG overlay of the map on the model input (when asked for). */
  heatmap?: Uint8Array;
  warnings: string[];
  /** Brightness, contrast and focus of the model input (stats.ts). */
  stats: ImageStats;
}

export interface InspectOptions {
  /** Render a PNG heat map overlay. */
  heatmap?: boolean;
  /** Override the card's threshold. */
  threshold?: number;
  /** Largest image accepted, in pixels (default DEFAULT_MAX_PIXELS); larger ones are refused before decoding. */
  maxPixels?: number;
}

/**
 * The verdict of a score: 'ng' above the threshold by more than the relative doubt band, 'doubt' within the
 * band on either side (a person should look), 'ok' below it.
 */
export function verdict(score: number, threshold: number, band: number): 'ok' | 'ng' | 'doubt' {
  if (score > threshold * (1 + band)) return 'ng';
  if (score > threshold * (1 - band)) return 'doubt';
  return 'ok';
}

/** Connected regions (4-neighbour) of map cells above `thr`; the map is g wide and `h` (default g) high. */
export function mapRegions(
  map: Float32Array,
  g: number,
  thr: number,
  h = g,
): { cells: number[]; score: number }[] {
  const seen = new Uint8Array(g * h);
  const regions: { cells: number[]; score: number }[] = [];
  for (let s = 0; s < g * h; s++) {
    if (seen[s] || !(map[s]! > thr)) continue;
    const cells: number[] = [];
    let score = -Infinity;
    const stack = [s];
    seen[s] = 1;
    while (stack.length) {
      const c = stack.pop()!;
      cells.push(c);
      score = Math.max(score, map[c]!);
      const x = c % g;
      const y = (c - x) / g;
      for (const [nx, ny] of [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ] as const) {
        if (nx < 0 || ny < 0 || nx >= g || ny >= h) continue;
        const nc = ny * g + nx;
        if (!seen[nc] && map[nc]! > thr) {
          seen[nc] = 1;
          stack.push(nc);
        }
      }
    }
    regions.push({ cells, score });
  }
  return regions.sort((a, b) => b.score - a.score);
}

/** Reads the vision card from model bytes, with the graph's declared input shape. */
export function readVisionModel(bytes: Uint8Array): {
  card: VisionCard;
  inputShape: (number | string)[];
  outputs: string[];
} {
  let m: onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new TaktError('vision.notOnnx', `not an ONNX model (${(err as Error).message})`, 'model');
  }
  if (!m.graph || (m.graph.node ?? []).length === 0)
    throw new TaktError('vision.notOnnx', 'not an ONNX model (no graph)', 'model');
  const raw = (m.metadataProps ?? []).find((p) => p.key === CARD_KEY)?.value;
  if (!raw)
    throw new TaktError('vision.noCard', `the model has no "${CARD_KEY}" card in its metadata`, 'model');
  let card: VisionCard;
  try {
    card = JSON.parse(raw) as VisionCard;
  } catch {
    throw new TaktError('vision.noCard', `the model's "${CARD_KEY}" card is not JSON`, 'model');
  }
  const inits = new Set((m.graph.initializer ?? []).map((i) => i.name));
  const input = (m.graph.input ?? []).find((i) => !inits.has(i.name));
  const inputShape = (input?.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimParam ? d.dimParam : Number(d.dimValue ?? 0),
  );
  return { card, inputShape, outputs: (m.graph.output ?? []).map((o) => o.name ?? '') };
}

/** A model's bytes from a file path (`vision.noModel` when it cannot be read), or the bytes given. */
export async function readModelBytes(modelPathOrBytes: string | Uint8Array): Promise<Uint8Array> {
  if (modelPathOrBytes instanceof Uint8Array) return modelPathOrBytes;
  if (typeof modelPathOrBytes !== 'string')
    throw new TaktError('vision.noModel', 'model must be a file path or ONNX bytes', 'model');
  try {
    return new Uint8Array(await readFile(modelPathOrBytes));
  } catch (err) {
    throw new TaktError(
      'vision.noModel',
      `cannot read model ${modelPathOrBytes}: ${(err as Error).message}`,
      'model',
    );
  }
}

/** Scores images with a vision model. */
export class Inspector {
  private readonly template: Float32Array | null;

  private constructor(
    readonly card: VisionCard,
    private readonly ort: Ort,
    private readonly session: InferenceSession,
  ) {
    this.template = card.registration ? Float32Array.from(card.registration.template) : null;
  }

  /** Opens a model from a file path or its bytes; checks the card against the graph's input shape. */
  static async load(modelPathOrBytes: string | Uint8Array): Promise<Inspector> {
    const bytes = await readModelBytes(modelPathOrBytes);
    const { card, inputShape, outputs } = readVisionModel(bytes);
    const want = [1, card.channels, card.size, card.size];
    if (inputShape.length !== 4 || want.some((v, i) => inputShape[i] !== v))
      throw new TaktError(
        'vision.shapeMismatch',
        `model input is [${inputShape.join(',')}] but its card says [${want.join(',')}]`,
        'model',
      );
    for (const o of ['score', 'map'])
      if (!outputs.includes(o))
        throw new TaktError('vision.shapeMismatch', `model has no "${o}" output`, 'model');
    const { ort, session } = await openOnnxSession(
      bytes,
      (r) => new TaktError('vision.badModel', r, 'model'),
    );
    return new Inspector(card, ort, session);
  }

  /** Judges one image (encoded bytes or a raw frame). */
  async inspect(image: ImageInput, opts: InspectOptions = {}): Promise<Inspection> {
    const c = this.card;
    const p = await prepare(image, {
      size: c.size,
      channels: c.channels,
      roi: c.preprocessing.roi ?? undefined,
      maxPixels: opts.maxPixels,
    });
    let pose: Pose = IDENTITY;
    let tensor = p.tensor;
    if (this.template) {
      pose = findPose(thumbnail(tensor, c.channels, c.size), this.template, c.size).pose;
      tensor = warp(tensor, c.channels, c.size, pose);
    }
    const out = await run(this.session, this.ort, tensor, [1, c.channels, c.size, c.size], ['score', 'map']);
    const score = (out.score!.data as Float32Array)[0]!;
    const map = Float32Array.from(out.map!.data as Float32Array);
    const threshold = opts.threshold ?? c.threshold;
    const g = c.grid;
    // Cell corners of a region, through the pose back to the model input, then to source pixels.
    const size = { width: c.size, height: c.size };
    const toInput = (x: number, y: number) => poseMap(pose, c.size, x, y);
    const defects: Defect[] = mapRegions(map, g, threshold).map((r) => ({
      ...cellsBox(r.cells, { width: g, height: g }, size, p.roi, toInput),
      score: r.score,
    }));
    const result: Inspection = {
      score,
      threshold,
      anomalous: score > threshold,
      map: { width: g, height: g, data: map },
      defects,
      image: { width: p.source.width, height: p.source.height },
      warnings: p.warnings,
      stats: imageStats(p.tensor, c.channels, c.size, c.size),
    };
    if (opts.heatmap) result.heatmap = await heatmapPng(tensor, c.channels, c.size, map, g, threshold);
    return result;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * A PNG overlay: the model input in grey with the anomaly map in red (transparent below half the
 * threshold, full red at twice the threshold), bilinear upsampled.
 */
export async function heatmapPng(
  tensor: Float32Array,
  channels: number,
  size: number,
  map: Float32Array,
  g: number,
  threshold: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(size * size * 3);
  const plane = size * size;
  const lo = threshold * 0.5;
  const span = threshold * 1.5 || 1;
  // Bilinear taps per column, computed once; each output row first interpolates the two map rows.
  const x0s = new Int32Array(size);
  const x1s = new Int32Array(size);
  const fxs = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const gx = Math.min(Math.max(((x + 0.5) * g) / size - 0.5, 0), g - 1);
    x0s[x] = Math.floor(gx);
    x1s[x] = Math.min(x0s[x]! + 1, g - 1);
    fxs[x] = gx - x0s[x]!;
  }
  const row = new Float32Array(g);
  const kGrey = channels === 3 ? 255 / 3 : 255;
  for (let y = 0; y < size; y++) {
    const gy = Math.min(Math.max(((y + 0.5) * g) / size - 0.5, 0), g - 1);
    const y0 = Math.floor(gy);
    const y1 = Math.min(y0 + 1, g - 1);
    const fy = gy - y0;
    for (let k = 0; k < g; k++) row[k] = map[y0 * g + k]! * (1 - fy) + map[y1 * g + k]! * fy;
    for (let x = 0; x < size; x++) {
      const fx = fxs[x]!;
      const v = row[x0s[x]!]! * (1 - fx) + row[x1s[x]!]! * fx;
      const t = (v - lo) / span;
      const a = (t < 0 ? 0 : t > 1 ? 1 : t) * 0.7;
      const i = y * size + x;
      const gv =
        (channels === 3 ? tensor[i]! + tensor[plane + i]! + tensor[2 * plane + i]! : tensor[i]!) * kGrey;
      const dim = Math.round(gv * (1 - a));
      out[i * 3] = Math.round(gv * (1 - a) + 255 * a);
      out[i * 3 + 1] = dim;
      out[i * 3 + 2] = dim;
    }
  }
  return encodePng({ width: size, height: size, channels: 3, data: out }, true);
}
