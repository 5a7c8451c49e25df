/**
 * A seeded generator of synthetic inspection images: three product kinds seen by a fixed camera, with the
 * nuisance that is part of "normal" on a real line (lighting level and gradient, sensor noise, the part
 * shifted by a few pixels and turned by a few degrees) and surface defects (scratches, dents or holes,
 * stains, missing features). Pure TypeScript, no image library: it returns raw frames
 * `{ width, height, channels, data }` (core/raster.ts encodes them as PNG). The plant simulator's camera
 * draws with it; the vision tests and bench import it from here (tests and benches may import the
 * simulator, analytics never do: docs/ARCHITECTURE.md).
 *
 * Every part is drawn in its own coordinates (u, v) and sampled through the inverse of its pose, so
 * rotation and translation are exact; defects live on the part and move with it.
 */
import { Rng } from '../core/random';
import type { RawImage } from '../core/raster';

export type { RawImage } from '../core/raster';

export const PRODUCT_KINDS = ['washer', 'label', 'casting'] as const;
export type ProductKind = (typeof PRODUCT_KINDS)[number];

export const DEFECT_KINDS = ['scratch', 'dent', 'stain', 'missing'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

export interface SynthPart extends RawImage {
  kind: ProductKind;
  /** Ground truth: the defect drawn on the part and its box in image pixels, or null for a good part. */
  defect: { kind: DefectKind; x: number; y: number; w: number; h: number } | null;
}

export interface PartOptions {
  /** Image side in pixels (default 256). */
  size?: number;
  /** The defect to draw, or null/undefined for a good part. */
  defect?: DefectKind | null;
  /** Defect strength in (0, 1] (default: drawn at random between 0.5 and 1). */
  severity?: number;
}

/** One defect as drawn in part coordinates (pixels of a 256 canvas centred on the part). */
interface Mark {
  kind: DefectKind;
  /** Albedo change at part point (u, v): added to every channel (or to a colour for stains). */
  at(u: number, v: number): number;
  /** Extent in part coordinates. */
  u0: number;
  v0: number;
  u1: number;
  v1: number;
  /** Which feature a 'missing' defect removes (product-specific index). */
  missing?: number;
  /** Stain colour (multiplicative, per channel) for colour products. */
  tint?: [number, number, number];
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const smooth = (e0: number, e1: number, x: number) => {
  const t = clamp01((x - e0) / (e1 - e0));
  return t * t * (3 - 2 * t);
};

/** Hash-based value noise on an integer lattice, smooth interpolation; `seed` picks the field. */
function valueNoise(seed: number) {
  const h = (ix: number, iy: number) => {
    let n = Math.imul(ix, 374761393) ^ Math.imul(iy, 668265263) ^ Math.imul(seed, 1442695041);
    n = Math.imul(n ^ (n >>> 13), 1274126177);
    return ((n ^ (n >>> 16)) >>> 0) / 4294967296;
  };
  return (x: number, y: number) => {
    const ix = Math.floor(x);
    const iy = Math.floor(y);
    const fx = x - ix;
    const fy = y - iy;
    const sx = fx * fx * (3 - 2 * fx);
    const sy = fy * fy * (3 - 2 * fy);
    const a = h(ix, iy);
    const b = h(ix + 1, iy);
    const c = h(ix, iy + 1);
    const d = h(ix + 1, iy + 1);
    return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
  };
}

/** Distance from point p to segment a-b. */
function segDist(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = clamp01(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy || 1));
  const qx = ax + t * dx - px;
  const qy = ay + t * dy - py;
  return Math.sqrt(qx * qx + qy * qy);
}

/** Where a defect may go on each product (part coordinates), so it lands on the part. */
function defectSite(kind: ProductKind, rng: Rng): [number, number] {
  if (kind === 'washer') {
    const r = rng.uniform(52, 88);
    const a = rng.uniform(0, 2 * Math.PI);
    return [r * Math.cos(a), r * Math.sin(a)];
  }
  if (kind === 'label') return [rng.uniform(-75, 75), rng.uniform(-45, 45)];
  return [rng.uniform(-90, 90), rng.uniform(-90, 90)];
}

function makeMark(kind: ProductKind, defect: DefectKind, severity: number, rng: Rng): Mark {
  const [cu, cv] = defectSite(kind, rng);
  const sign = rng.next() < 0.5 ? -1 : 1;
  switch (defect) {
    case 'scratch': {
      // A thin straight or slightly bent line, brighter or darker than the surface.
      const len = rng.uniform(25, 70) * (0.6 + 0.4 * severity);
      const a = rng.uniform(0, Math.PI);
      const ax = cu - (len / 2) * Math.cos(a);
      const ay = cv - (len / 2) * Math.sin(a);
      const bx = cu + (len / 2) * Math.cos(a);
      const by = cv + (len / 2) * Math.sin(a);
      const width = rng.uniform(0.7, 1.6);
      const depth = sign * rng.uniform(0.12, 0.3) * severity;
      return {
        kind: defect,
        at: (u, v) => depth * (1 - smooth(width * 0.5, width * 0.5 + 1, segDist(u, v, ax, ay, bx, by))),
        u0: Math.min(ax, bx) - 3,
        v0: Math.min(ay, by) - 3,
        u1: Math.max(ax, bx) + 3,
        v1: Math.max(ay, by) + 3,
      };
    }
    case 'dent': {
      // A small crater or hole: dark core with a lit rim on one side (light comes from one direction).
      const r = rng.uniform(3, 8) * (0.6 + 0.4 * severity);
      const la = rng.uniform(0, 2 * Math.PI);
      const depth = rng.uniform(0.2, 0.45) * severity;
      return {
        kind: defect,
        at: (u, v) => {
          const du = u - cu;
          const dv = v - cv;
          const d = Math.sqrt(du * du + dv * dv);
          if (d > r + 2) return 0;
          const core = 1 - smooth(r * 0.6, r, d);
          const rim = Math.exp(-((d - r) ** 2) / 2) * ((du * Math.cos(la) + dv * Math.sin(la)) / (d || 1));
          return -depth * core + 0.5 * depth * rim;
        },
        u0: cu - r - 3,
        v0: cv - r - 3,
        u1: cu + r + 3,
        v1: cv + r + 3,
      };
    }
    case 'stain': {
      // A diffuse irregular blot (oil, coolant, coffee), darker and on colour parts tinted.
      const r = rng.uniform(8, 20) * (0.6 + 0.4 * severity);
      const depth = rng.uniform(0.08, 0.2) * severity;
      const wob = valueNoise(rng.int(1, 1e9));
      const off = rng.uniform(0, 100);
      return {
        kind: defect,
        at: (u, v) => {
          const du = u - cu;
          const dv = v - cv;
          const d = Math.sqrt(du * du + dv * dv);
          if (d > 2 * r) return 0;
          const rr = r * (0.75 + 0.5 * wob(off + Math.atan2(dv, du) * 1.5, off));
          return -depth * (1 - smooth(rr * 0.5, rr * 1.1, d));
        },
        u0: cu - 1.6 * r,
        v0: cv - 1.6 * r,
        u1: cu + 1.6 * r,
        v1: cv + 1.6 * r,
        tint: [1, 0.85, 0.6],
      };
    }
    case 'missing': {
      // Filled in by the product renderer (a hole not drilled, a print line or logo not printed).
      return { kind: defect, at: () => 0, u0: 0, v0: 0, u1: 0, v1: 0, missing: rng.int(0, 3) };
    }
  }
}

/** Product albedo at part point (u, v): returns [r, g, b] in 0..1 (grey products return r = g = b). */
type Albedo = (u: number, v: number, out: Float64Array) => void;

interface ProductDraw {
  channels: 1 | 3;
  albedo: Albedo;
  /** Box of the missing feature in part coordinates (for ground truth), if a feature is removed. */
  missingBox?: [number, number, number, number];
}

function washer(missing: number | undefined, rng: Rng): ProductDraw {
  const holes = [0, 1, 2, 3].map((i) => [68 * Math.cos((i * Math.PI) / 2), 68 * Math.sin((i * Math.PI) / 2)]);
  const marks = rng.uniform(2.8, 3.2); // turning-mark pitch varies a little from part to part
  const belt = valueNoise(rng.int(1, 1e9));
  let missingBox: [number, number, number, number] | undefined;
  const keep = holes.map((_, i) => i !== missing);
  if (missing !== undefined) {
    const [hx, hy] = holes[missing]!;
    missingBox = [hx - 10, hy - 10, hx + 10, hy + 10];
  }
  return {
    channels: 1,
    missingBox,
    albedo: (u, v, out) => {
      const rho = Math.sqrt(u * u + v * v);
      const phi = Math.atan2(v, u);
      let g = 0.18 + 0.05 * belt(u / 6 + 50, v / 6 + 50);
      const onPart = smooth(96, 94, rho) * smooth(38, 40, rho);
      // Key notch on the inner edge at angle 0.
      const notch = 1 - smooth(5, 6.5, Math.sqrt((u - 40) ** 2 + v * v));
      let metal = 0.62 + 0.04 * Math.sin((2 * Math.PI * rho) / marks) + 0.08 * Math.cos(2 * phi - 0.6);
      metal += 0.12 * (Math.exp(-((rho - 94.5) ** 2) / 2) + Math.exp(-((rho - 39.5) ** 2) / 2)); // chamfers
      let holeMask = 0;
      for (let i = 0; i < 4; i++) {
        if (!keep[i]) continue;
        const [hx, hy] = holes[i]!;
        const d = Math.sqrt((u - hx) ** 2 + (v - hy) ** 2);
        holeMask = Math.max(holeMask, 1 - smooth(6.5, 8, d));
        metal += 0.1 * Math.exp(-((d - 8) ** 2) / 1.5);
      }
      const part = onPart * (1 - notch) * (1 - holeMask);
      g = g * (1 - part) + metal * part;
      out[0] = out[1] = out[2] = g;
    },
  };
}

function label(missing: number | undefined, rng: Rng): ProductDraw {
  // Fixed artwork (the same print on every label): text lines as runs of glyph blocks, a barcode, a logo.
  const art = new Rng(424242);
  const lines = [0, 1, 2].map((i) => {
    const glyphs: [number, number][] = [];
    let x = -30;
    const end = 80 - i * 22;
    while (x < end) {
      const w = art.uniform(3, 7);
      glyphs.push([x, x + w]);
      x += w + (art.next() < 0.2 ? 6 : 1.8);
    }
    return { v: -30 + i * 16, glyphs };
  });
  const bars: [number, number][] = [];
  for (let x = -70; x < 70;) {
    const w = art.int(1, 3) * 1.2;
    bars.push([x, x + w]);
    x += w + art.int(1, 3) * 1.2;
  }
  const card = valueNoise(rng.int(1, 1e9));
  const boxes: [number, number, number, number][] = [
    [-80, -45, -44, -10], // logo
    [-32, -34, 82, -22], // text line 1
    [-32, -18, 60, -6], // text line 2
    [-72, 14, 72, 42], // barcode
  ];
  return {
    channels: 3,
    missingBox: missing !== undefined ? boxes[missing] : undefined,
    albedo: (u, v, out) => {
      const n = card(u / 4 + 20, v / 4 + 20);
      let r = 0.55 + 0.08 * n;
      let g = 0.42 + 0.07 * n;
      let b = 0.28 + 0.05 * n;
      const onLabel = smooth(91, 89, Math.abs(u)) * smooth(56, 54, Math.abs(v));
      if (onLabel > 0) {
        let lr = 0.93;
        let lg = 0.93;
        let lb = 0.9;
        // Logo: red disc with a white ring.
        const dl = Math.sqrt((u + 62) ** 2 + (v + 28) ** 2);
        if (missing !== 0 && dl < 16) {
          const disc = 1 - smooth(14, 15.5, dl);
          const ring = Math.exp(-((dl - 8) ** 2) / 2);
          lr = lr * (1 - disc) + disc * (0.8 + 0.15 * ring);
          lg = lg * (1 - disc) + disc * (0.12 + 0.8 * ring);
          lb = lb * (1 - disc) + disc * (0.15 + 0.75 * ring);
        }
        let ink = 0;
        for (let i = 0; i < 3; i++) {
          const line = lines[i]!;
          if (missing === i + 1 || Math.abs(v - line.v) > 5) continue;
          const inRow = smooth(4.5, 3.5, Math.abs(v - line.v));
          for (const [a, c] of line.glyphs)
            if (u > a - 1 && u < c + 1)
              ink = Math.max(ink, inRow * smooth(a - 0.6, a + 0.6, u) * smooth(c + 0.6, c - 0.6, u));
        }
        if (missing !== 3 && v > 16 && v < 40)
          for (const [a, c] of bars)
            if (u > a - 1 && u < c + 1)
              ink = Math.max(ink, smooth(a - 0.5, a + 0.5, u) * smooth(c + 0.5, c - 0.5, u));
        lr = lr * (1 - ink) + 0.1 * ink;
        lg = lg * (1 - ink) + 0.1 * ink;
        lb = lb * (1 - ink) + 0.14 * ink;
        r = r * (1 - onLabel) + lr * onLabel;
        g = g * (1 - onLabel) + lg * onLabel;
        b = b * (1 - onLabel) + lb * onLabel;
      }
      out[0] = r;
      out[1] = g;
      out[2] = b;
    },
  };
}

function casting(missing: number | undefined, rng: Rng): ProductDraw {
  // Sand-cast texture that differs on every part, with a machined boss and a drilled hole in the middle.
  const tex = valueNoise(rng.int(1, 1e9));
  const ox = rng.uniform(0, 1000);
  const oy = rng.uniform(0, 1000);
  return {
    channels: 1,
    missingBox: missing !== undefined ? [-14, -14, 14, 14] : undefined,
    albedo: (u, v, out) => {
      const x = u + ox;
      const y = v + oy;
      let g =
        0.45 +
        0.12 * (tex(x / 2.5, y / 2.5) - 0.5) +
        0.1 * (tex(x / 7, y / 7) - 0.5) +
        0.08 * (tex(x / 18, y / 18) - 0.5);
      const rho = Math.sqrt(u * u + v * v);
      const boss = smooth(46, 44, rho);
      const machined = 0.7 + 0.03 * Math.sin(rho * 2.2) + 0.04 * (tex(x / 1.2, y / 1.2) - 0.5);
      g = g * (1 - boss) + machined * boss + 0.15 * Math.exp(-((rho - 45) ** 2) / 3);
      if (missing === undefined) {
        const hole = 1 - smooth(11, 12.5, rho);
        g = g * (1 - hole) + 0.08 * hole + 0.1 * Math.exp(-((rho - 12.5) ** 2) / 1.5);
      }
      out[0] = out[1] = out[2] = g;
    },
  };
}

/**
 * Draws one part. `seed` fixes everything about it (pose, lighting, noise, defect placement), so the same
 * seed gives the same bytes.
 */
export function renderPart(kind: ProductKind, seed: number, opts: PartOptions = {}): SynthPart {
  const size = opts.size ?? 256;
  const rng = new Rng(seed, 7);
  const severity = opts.severity ?? rng.uniform(0.5, 1);
  const mark = opts.defect ? makeMark(kind, opts.defect, severity, rng) : undefined;
  const draw =
    kind === 'washer'
      ? washer(mark?.missing, rng)
      : kind === 'label'
        ? label(mark?.missing, rng)
        : casting(mark?.missing, rng);
  // Pose: a few pixels of misplacement and a few degrees of rotation.
  const theta = (rng.uniform(-5, 5) * Math.PI) / 180;
  const tx = rng.uniform(-7, 7);
  const ty = rng.uniform(-7, 7);
  // Lighting: overall gain, a gradient across the field, an offset; sensor noise.
  const gain = rng.uniform(0.82, 1.18);
  const gx = rng.uniform(-0.12, 0.12);
  const gy = rng.uniform(-0.12, 0.12);
  const offset = rng.uniform(-0.04, 0.04);
  const noise = rng.uniform(0.008, 0.02);
  const scale = 256 / size;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const ch = draw.channels;
  const data = new Uint8Array(size * size * ch);
  const px = new Float64Array(3);
  const tint = mark?.tint ?? [1, 1, 1];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Image pixel -> canvas (256) -> part coordinates through the inverse pose.
      const cx = (x + 0.5) * scale - 128 - tx;
      const cy = (y + 0.5) * scale - 128 - ty;
      const u = cos * cx + sin * cy;
      const v = -sin * cx + cos * cy;
      draw.albedo(u, v, px);
      if (mark && mark.kind !== 'missing' && u >= mark.u0 && u <= mark.u1 && v >= mark.v0 && v <= mark.v1) {
        const d = mark.at(u, v);
        for (let c = 0; c < 3; c++) {
          if (mark.kind === 'stain' && ch === 3) px[c] = px[c]! * (1 + d * 2.5 * (1 - tint[c]!) + d);
          // A mark that would saturate shows the other way (a bright scratch on white paper is a scuff).
          else px[c] = px[c]! + d > 0.97 ? px[c]! - Math.abs(d) : px[c]! + d;
        }
      }
      const light = gain * (1 + gx * (x / size - 0.5) * 2 + gy * (y / size - 0.5) * 2);
      for (let c = 0; c < ch; c++) {
        const val = px[c]! * light + offset + noise * rng.normal();
        data[(y * size + x) * ch + c] = Math.round(clamp01(val) * 255);
      }
    }
  }
  let defect: SynthPart['defect'] = null;
  if (mark) {
    const box = mark.kind === 'missing' ? draw.missingBox! : [mark.u0, mark.v0, mark.u1, mark.v1];
    // Box corners to image pixels through the forward pose.
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [u, v] of [
      [box[0]!, box[1]!],
      [box[2]!, box[1]!],
      [box[0]!, box[3]!],
      [box[2]!, box[3]!],
    ] as const) {
      xs.push((cos * u - sin * v + 128 + tx) / scale);
      ys.push((sin * u + cos * v + 128 + ty) / scale);
    }
    const x0 = Math.max(0, Math.floor(Math.min(...xs)));
    const y0 = Math.max(0, Math.floor(Math.min(...ys)));
    defect = {
      kind: mark.kind,
      x: x0,
      y: y0,
      w: Math.min(size, Math.ceil(Math.max(...xs))) - x0,
      h: Math.min(size, Math.ceil(Math.max(...ys))) - y0,
    };
  }
  return { kind, width: size, height: size, channels: ch, data, defect };
}

export interface ProductSet {
  kind: ProductKind;
  train: SynthPart[];
  testGood: SynthPart[];
  testBad: SynthPart[];
}

/**
 * A data set for one product: good parts to train on, and a test split of good parts and parts with each
 * defect kind in turn. Different `seed`s give disjoint parts.
 */
export function productSet(
  kind: ProductKind,
  seed: number,
  counts: { train?: number; testGood?: number; testBad?: number; size?: number } = {},
): ProductSet {
  const base = (seed * 1_000_003 + PRODUCT_KINDS.indexOf(kind) * 100_003) >>> 0;
  const size = counts.size ?? 256;
  const train = Array.from({ length: counts.train ?? 200 }, (_, i) => renderPart(kind, base + i, { size }));
  const testGood = Array.from({ length: counts.testGood ?? 100 }, (_, i) =>
    renderPart(kind, base + 50_000 + i, { size }),
  );
  const testBad = Array.from({ length: counts.testBad ?? 100 }, (_, i) =>
    renderPart(kind, base + 80_000 + i, { size, defect: DEFECT_KINDS[i % DEFECT_KINDS.length]! }),
  );
  return { kind, train, testGood, testBad };
}
