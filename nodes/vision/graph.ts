/**
 * The ONNX graphs of the vision models. No weights are learned by gradient and none are downloaded: the
 * feature extractor is a fixed, hand-designed multi-scale filter bank (Gaussian, first and second
 * derivatives, Laplacian and oriented Gabor filters on a three-level image pyramid), and what the model
 * learns from the line is what good patches look like at each place on the registered part: by default a
 * Gaussian per location (PaDiM-style), or a memory bank of good patches (PatchCore-style, coreset
 * subsampled), one per location or one for all.
 *
 *   image [1,C,S,S] in [0,1]
 *     -> luminance (and two opponent-colour channels for colour models), per-image contrast normalisation
 *     -> pyramid (S, S/2, S/4) -> filter bank conv -> per cell (overlapping windows on one G x G grid):
 *        mean intensity, mean minus the 5 x 5 cells around, mean and peak |response| of each zero-mean
 *        kernel (+ colour, + its band-pass) -> concat -> standardise
 *     -> patches [G*G, D] -> Gaussian: |W_loc (x - mean_loc)| (batched MatMul), or bank: squared distances
 *        to the bank (MatMul) -> min -> sqrt
 *     -> standardised per location ((d - centre) / scale, from good images) = map [1,1,G,G] -> max = score [1]
 *
 * The distance runs in the graph, so one onnxruntime call gives the map and the score.
 */
import { onnx } from 'onnx-proto';
import { TaktError } from '../core/errors';
import {
  ElemType,
  encodeModel,
  floatTensor,
  int64Tensor,
  intAttr,
  intsAttr,
  op,
  tensorInfo,
} from '../core/onnx';

export interface ExtractorSpec {
  /** Input side and channels. */
  size: number;
  channels: 1 | 3;
  /** Patch grid side (the map is grid x grid). */
  grid: number;
  /** Filter bank: 'designed' (the fixed bank) or 'random' (seeded random kernels, the baseline). */
  bank: 'designed' | 'random';
  /** Pyramid levels (1..3). */
  levels: number;
  /** Normalise each image's luminance to zero mean and unit variance before filtering. */
  contrastNorm: boolean;
  /** Seed of the random bank. */
  seed?: number;
  /** Designed bank: add the band-pass local mean (cell mean minus the 5 x 5 cells around). */
  bandPass?: boolean;
  /** Designed bank: add the peak (max-pooled) energy of every zero-mean kernel. */
  peak?: boolean;
}

const KS = 7; // kernel side
const fail = (reason: string) => new TaktError('vision.badGraph', `onnx: ${reason}`, 'model');
const info = (name: string, dims: (number | string)[]) => tensorInfo(name, ElemType.FLOAT, dims);

/** The designed filter bank: 8 kernels of KS x KS, each zero-mean except the Gaussian. */
export function designedBank(): Float32Array[] {
  const r = (KS - 1) / 2;
  const make = (f: (x: number, y: number) => number, zeroMean: boolean) => {
    const k = new Float32Array(KS * KS);
    for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) k[(y + r) * KS + (x + r)] = f(x, y);
    if (zeroMean) {
      const m = k.reduce((a, b) => a + b, 0) / k.length;
      for (let i = 0; i < k.length; i++) k[i]! -= m;
    }
    let norm = 0;
    for (const v of k) norm += zeroMean ? v * v : Math.abs(v);
    norm = zeroMean ? Math.sqrt(norm) : norm;
    for (let i = 0; i < k.length; i++) k[i]! /= norm || 1;
    return k;
  };
  const g = (x: number, y: number, s: number) => Math.exp(-(x * x + y * y) / (2 * s * s));
  const bank = [
    make((x, y) => g(x, y, 1.2), false), // smoothed intensity
    make((x, y) => -x * g(x, y, 1.2), true), // d/dx
    make((x, y) => -y * g(x, y, 1.2), true), // d/dy
    make((x, y) => (x * x + y * y - 2 * 1.6 * 1.6) * g(x, y, 1.6), true), // Laplacian of Gaussian
  ];
  for (let i = 0; i < 4; i++) {
    const th = (i * Math.PI) / 4;
    bank.push(
      make((x, y) => {
        const xr = x * Math.cos(th) + y * Math.sin(th);
        return Math.cos((2 * Math.PI * xr) / 4) * g(x, y, 1.8);
      }, true),
    );
  }
  return bank;
}

/** Seeded random kernels (unit norm, zero mean), for the random-feature baseline. */
export function randomBank(n: number, seed: number): Float32Array[] {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  return Array.from({ length: n }, () => {
    const k = new Float32Array(KS * KS);
    for (let i = 0; i < k.length; i++)
      k[i] = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    const m = k.reduce((a, b) => a + b, 0) / k.length;
    let norm = 0;
    for (let i = 0; i < k.length; i++) {
      k[i]! -= m;
      norm += k[i]! ** 2;
    }
    for (let i = 0; i < k.length; i++) k[i]! /= Math.sqrt(norm);
    return k;
  });
}

/** Number of patch features the extractor produces. */
export function featureWidth(spec: ExtractorSpec): number {
  if (spec.bank === 'random') return spec.levels * (16 + (spec.channels === 3 ? 2 : 0));
  const k = designedBank().length;
  const bp = spec.bandPass ? 1 : 0;
  const perLevel = k + bp + (spec.peak ? k - 1 : 0) + (spec.channels === 3 ? 2 + 2 * bp : 0);
  return spec.levels * perLevel;
}

interface Built {
  nodes: onnx.INodeProto[];
  inits: onnx.ITensorProto[];
  /** Name of the [G*G, D] patch feature tensor. */
  patches: string;
  width: number;
}

/** Nodes from `image` to a [G*G, D] matrix of raw patch features. */
function extractor(spec: ExtractorSpec): Built {
  const { size, channels, grid } = spec;
  const stride0 = size / grid;
  if (!Number.isInteger(stride0) || stride0 % 2 ** spec.levels !== 0)
    throw new TaktError(
      'vision.badSize',
      `size ${size} must be a multiple of grid ${grid} x ${2 ** spec.levels}`,
      'size',
    );
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const kernels = spec.bank === 'designed' ? designedBank() : randomBank(16, spec.seed ?? 1);
  const K = kernels.length;
  const w = new Float32Array(K * KS * KS);
  kernels.forEach((k, i) => w.set(k, i * KS * KS));
  inits.push(floatTensor('bank_w', [K, 1, KS, KS], w));
  if (spec.bank === 'designed')
    inits.push(
      int64Tensor('s0', [0]),
      int64Tensor('s1', [1]),
      int64Tensor('sK', [K]),
      int64Tensor('ax1', [1]),
    );
  // Luminance and (colour) opponent channels.
  const lumW = channels === 3 ? [1 / 3, 1 / 3, 1 / 3] : [1];
  inits.push(floatTensor('lum_w', [1, channels, 1, 1], lumW));
  nodes.push(op('Conv', ['image', 'lum_w'], ['lum']));
  let lum = 'lum';
  if (spec.contrastNorm) {
    inits.push(floatTensor('eps', [1], [1e-4]));
    nodes.push(op('ReduceMean', ['lum'], ['lum_mu'], [intsAttr('axes', [1, 2, 3]), intAttr('keepdims', 1)]));
    nodes.push(op('Sub', ['lum', 'lum_mu'], ['lum_c']));
    nodes.push(op('Mul', ['lum_c', 'lum_c'], ['lum_c2']));
    nodes.push(
      op('ReduceMean', ['lum_c2'], ['lum_var'], [intsAttr('axes', [1, 2, 3]), intAttr('keepdims', 1)]),
    );
    nodes.push(op('Add', ['lum_var', 'eps'], ['lum_var_e']));
    nodes.push(op('Sqrt', ['lum_var_e'], ['lum_sd']));
    nodes.push(op('Div', ['lum_c', 'lum_sd'], ['lum_n']));
    lum = 'lum_n';
  }
  let chroma: string | undefined;
  if (channels === 3) {
    inits.push(floatTensor('chroma_w', [2, 3, 1, 1], [0.5, -0.5, 0, 0.25, 0.25, -0.5]));
    nodes.push(op('Conv', ['image', 'chroma_w'], ['chroma']));
    chroma = 'chroma';
  }
  const feats: string[] = [];
  let width = 0;
  /** x minus its average over the 5 x 5 cells around (fewer at the border), on the G x G grid. */
  const bandPass = (x: string, out: string) => {
    nodes.push(
      op(
        'AveragePool',
        [x],
        [`${x}_around`],
        [
          intsAttr('kernel_shape', [5, 5]),
          intsAttr('strides', [1, 1]),
          intsAttr('pads', [2, 2, 2, 2]),
          intAttr('count_include_pad', 0),
        ],
      ),
    );
    nodes.push(op('Sub', [x, `${x}_around`], [out]));
  };
  for (let l = 0; l < spec.levels; l++) {
    const st = stride0 / 2 ** l;
    const pool = (x: string, out: string) =>
      nodes.push(
        op(
          'AveragePool',
          [x],
          [out],
          [
            intsAttr('kernel_shape', [2 * st, 2 * st]),
            intsAttr('strides', [st, st]),
            intsAttr('pads', [st / 2, st / 2, st / 2, st / 2]),
            intAttr('count_include_pad', 0),
          ],
        ),
      );
    const resp = `resp${l}`;
    nodes.push(op('Conv', [lum, 'bank_w'], [resp], [intsAttr('pads', [3, 3, 3, 3])]));
    if (spec.bank === 'designed') {
      // Per cell: the local mean of the smoothed intensity (kernel 0), the same minus its mean over the 5 x 5
      // cells around (a band-pass that a lighting gradient does not move), and the local energy |response|
      // of every other kernel, averaged over the window and at its peak (a thin or small mark that the
      // average dilutes still sets the peak). Signed derivative responses would change with the sub-patch
      // phase of every edge.
      nodes.push(op('Abs', [resp], [`abs${l}`]));
      nodes.push(op('Slice', [resp, 's0', 's1', 'ax1'], [`mean${l}`]));
      nodes.push(op('Slice', [`abs${l}`, 's1', 'sK', 'ax1'], [`en${l}`]));
      pool(`mean${l}`, `pm${l}`);
      pool(`en${l}`, `pe${l}`);
      const parts = [`pm${l}`];
      if (spec.bandPass) {
        bandPass(`pm${l}`, `bp${l}`);
        parts.push(`bp${l}`);
      }
      parts.push(`pe${l}`);
      width += K + (spec.bandPass ? 1 : 0);
      if (spec.peak) {
        nodes.push(
          op(
            'MaxPool',
            [`en${l}`],
            [`px${l}`],
            [
              intsAttr('kernel_shape', [2 * st, 2 * st]),
              intsAttr('strides', [st, st]),
              intsAttr('pads', [st / 2, st / 2, st / 2, st / 2]),
            ],
          ),
        );
        parts.push(`px${l}`);
        width += K - 1;
      }
      nodes.push(op('Concat', parts, [`f${l}`], [intAttr('axis', 1)]));
    } else {
      nodes.push(op('Relu', [resp], [`relu${l}`]));
      pool(`relu${l}`, `f${l}`);
      width += K;
    }
    feats.push(`f${l}`);
    if (chroma) {
      pool(chroma, `fc${l}`);
      feats.push(`fc${l}`);
      width += 2;
      if (spec.bank === 'designed' && spec.bandPass) {
        bandPass(`fc${l}`, `fcb${l}`);
        feats.push(`fcb${l}`);
        width += 2;
      }
    }
    if (l + 1 < spec.levels) {
      const down = (x: string, out: string) =>
        nodes.push(
          op('AveragePool', [x], [out], [intsAttr('kernel_shape', [2, 2]), intsAttr('strides', [2, 2])]),
        );
      down(lum, `lum${l + 1}`);
      lum = `lum${l + 1}`;
      if (chroma) {
        down(chroma, `chroma${l + 1}`);
        chroma = `chroma${l + 1}`;
      }
    }
  }
  nodes.push(op('Concat', feats, ['feat'], [intAttr('axis', 1)]));
  inits.push(int64Tensor('feat_shape', [width, grid * grid]));
  nodes.push(op('Reshape', ['feat', 'feat_shape'], ['feat_dp']));
  nodes.push(op('Transpose', ['feat_dp'], ['patches'], [intsAttr('perm', [1, 0])]));
  return { nodes, inits, patches: 'patches', width };
}

function encode(
  name: string,
  nodes: onnx.INodeProto[],
  initializers: onnx.ITensorProto[],
  inputs: onnx.IValueInfoProto[],
  outputs: onnx.IValueInfoProto[],
  metadata: Record<string, string>,
): Uint8Array {
  return encodeModel({ name, nodes, initializers, inputs, outputs, metadata }, fail);
}

/** The feature-only graph used during training: image -> patches [G*G, D] (raw, not standardised). */
export function extractorModel(spec: ExtractorSpec): { onnx: Uint8Array; width: number } {
  const b = extractor(spec);
  const bytes = encode(
    'takt_vision_features',
    b.nodes,
    b.inits,
    [info('image', [1, spec.channels, spec.size, spec.size])],
    [info(b.patches, [spec.grid * spec.grid, b.width])],
    {},
  );
  return { onnx: bytes, width: b.width };
}

export interface ScorerParams {
  /** Per-feature mean and 1/sd (length D). */
  mean: Float32Array;
  invSd: Float32Array;
  /** Weight of the two position features (0 = position-free; global bank only). */
  positionWeight: number;
  /** Per-location centre and scale of the nearest-neighbour distance ([G*G], from good images; 0 and 1 = none). */
  locShift: Float32Array;
  locScale: Float32Array;
  /**
   * Memory bank in standardised units. Global bank (`local` 0): row-major [M, D + 2], position columns
   * included, searched by every patch. Local bank (`local` K > 0): [G*G, K, D], the K good patches kept for
   * each location, searched only by the patch at that location.
   */
  bank: Float32Array;
  bankSize: number;
  local?: number;
  /**
   * Gaussian per location (PaDiM-style; replaces the bank when set): the mean [G*G, D] and the whitening
   * matrix W = L^-1 of the covariance L L^T, stored transposed [G*G, D, D], so that the distance is
   * |W (x - mean)| (the Mahalanobis distance).
   */
  gaussian?: { mean: Float32Array; whiteT: Float32Array };
}

/** Patch position features for grid G: column then row, in cells, centred. */
export function positions(grid: number): Float32Array {
  const p = new Float32Array(grid * grid * 2);
  for (let i = 0; i < grid * grid; i++) {
    p[2 * i] = (i % grid) - (grid - 1) / 2;
    p[2 * i + 1] = Math.floor(i / grid) - (grid - 1) / 2;
  }
  return p;
}

/** The full inspection graph: image -> map [1,1,G,G] and score [1]. */
export function scorerModel(
  spec: ExtractorSpec,
  p: ScorerParams,
  metadata: Record<string, string>,
): Uint8Array {
  const b = extractor(spec);
  const D = b.width;
  const P = spec.grid * spec.grid;
  const { nodes, inits } = b;
  inits.push(floatTensor('mu', [1, D], p.mean));
  inits.push(floatTensor('isd', [1, D], p.invSd));
  nodes.push(op('Sub', [b.patches, 'mu'], ['pc']));
  nodes.push(op('Mul', ['pc', 'isd'], ['ps']));
  inits.push(floatTensor('zero', [1], [0]));
  const K = p.local ?? 0;
  // d2 = min over the bank of |q - b|^2 = |q|^2 + min(|b|^2 - 2 q.b), along `axis` of q x bank_t.
  const nearestSquared = (axis: number) => {
    nodes.push(op('MatMul', ['q', 'bank_t'], ['qb']));
    nodes.push(op('Mul', ['qb', 'minus2'], ['qb2']));
    nodes.push(op('Add', ['qb2', 'bank_n'], ['d_part']));
    nodes.push(op('ReduceMin', ['d_part'], ['d_min'], [intsAttr('axes', [axis]), intAttr('keepdims', 1)]));
    nodes.push(op('ReduceSumSquare', ['q'], ['q_n'], [intsAttr('axes', [axis]), intAttr('keepdims', 1)]));
    nodes.push(op('Add', ['d_min', 'q_n'], ['d2']));
  };
  if (!p.gaussian) inits.push(floatTensor('minus2', [1], [-2]));
  if (p.gaussian) {
    inits.push(int64Tensor('q3_shape', [P, 1, D]));
    inits.push(floatTensor('loc_mu', [P, 1, D], p.gaussian.mean));
    inits.push(floatTensor('loc_w', [P, D, D], p.gaussian.whiteT));
    nodes.push(op('Reshape', ['ps', 'q3_shape'], ['q']));
    nodes.push(op('Sub', ['q', 'loc_mu'], ['qm']));
    nodes.push(op('MatMul', ['qm', 'loc_w'], ['qw']));
    nodes.push(op('ReduceSumSquare', ['qw'], ['d2'], [intsAttr('axes', [2]), intAttr('keepdims', 1)]));
  } else if (K > 0) {
    // Local bank: per location, [1, D] x [D, K] (a batched MatMul over the G*G locations).
    const bt = new Float32Array(P * D * K);
    const bn = new Float32Array(P * K);
    for (let l = 0; l < P; l++)
      for (let k = 0; k < K; k++) {
        let s = 0;
        const o = (l * K + k) * D;
        for (let d = 0; d < D; d++) {
          const v = p.bank[o + d]!;
          bt[l * D * K + d * K + k] = v;
          s += v * v;
        }
        bn[l * K + k] = s;
      }
    inits.push(int64Tensor('q3_shape', [P, 1, D]));
    inits.push(floatTensor('bank_t', [P, D, K], bt));
    inits.push(floatTensor('bank_n', [P, 1, K], bn));
    nodes.push(op('Reshape', ['ps', 'q3_shape'], ['q']));
    nearestSquared(2);
  } else {
    const E = D + 2;
    const pos = positions(spec.grid);
    for (let i = 0; i < pos.length; i++) pos[i]! *= p.positionWeight;
    inits.push(floatTensor('pos', [P, 2], pos));
    nodes.push(op('Concat', ['ps', 'pos'], ['q'], [intAttr('axis', 1)]));
    // Bank transposed [E, M] and its squared norms.
    const M = p.bankSize;
    const bt = new Float32Array(E * M);
    const bn = new Float32Array(M);
    for (let m = 0; m < M; m++) {
      let s = 0;
      for (let e = 0; e < E; e++) {
        const v = p.bank[m * E + e]!;
        bt[e * M + m] = v;
        s += v * v;
      }
      bn[m] = s;
    }
    inits.push(floatTensor('bank_t', [E, M], bt));
    inits.push(floatTensor('bank_n', [1, M], bn));
    nearestSquared(1);
  }
  nodes.push(op('Max', ['d2', 'zero'], ['d2p']));
  nodes.push(op('Sqrt', ['d2p'], ['dist']));
  inits.push(int64Tensor('map_shape', [1, 1, spec.grid, spec.grid]));
  nodes.push(op('Reshape', ['dist', 'map_shape'], ['map_d']));
  inits.push(floatTensor('loc_shift', [1, 1, spec.grid, spec.grid], p.locShift));
  inits.push(floatTensor('loc_scale', [1, 1, spec.grid, spec.grid], p.locScale));
  nodes.push(op('Sub', ['map_d', 'loc_shift'], ['map_c']));
  nodes.push(op('Div', ['map_c', 'loc_scale'], ['map']));
  nodes.push(op('ReduceMax', ['map'], ['score'], [intsAttr('axes', [1, 2, 3]), intAttr('keepdims', 0)]));
  return encode(
    'takt_vision_patchcore',
    nodes,
    inits,
    [info('image', [1, spec.channels, spec.size, spec.size])],
    [info('score', [1]), info('map', [1, 1, spec.grid, spec.grid])],
    metadata,
  );
}
