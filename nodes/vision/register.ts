/**
 * Part registration: a misplaced part (shifted by some pixels, turned by a few degrees) is brought back onto
 * a template learned from the good training images before its patches are compared, so that the
 * nearest-neighbour search compares each place on the part with the same place on good parts.
 *
 * Search: zero-mean normalised cross-correlation of the luminance at 1/4 resolution over rotations and
 * shifts (coarse grid, then a finer step around the best), inside a central window so that the image
 * border does not vote. Pure TypeScript, a few milliseconds per 256 x 256 image.
 */

/** A rigid pose: source point = R(angle) (p - c) + c + (dx, dy), in model-input pixels. */
export interface Pose {
  angle: number;
  dx: number;
  dy: number;
}

export const IDENTITY: Pose = { angle: 0, dx: 0, dy: 0 };

/** Factor of the search resolution. */
const F = 4;

/** Luminance of a CHW tensor averaged over F x F blocks: (size / F)^2 values. */
export function thumbnail(t: Float32Array, channels: number, size: number): Float32Array {
  const s = size / F;
  const out = new Float32Array(s * s);
  const plane = size * size;
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < size; y++) {
      const row = Math.floor(y / F) * s;
      for (let x = 0; x < size; x++) out[row + Math.floor(x / F)]! += t[c * plane + y * size + x]!;
    }
  const k = 1 / (channels * F * F);
  for (let i = 0; i < out.length; i++) out[i]! *= k;
  return out;
}

function sample(img: Float32Array, s: number, x: number, y: number): number {
  const xc = Math.min(Math.max(x, 0), s - 1.001);
  const yc = Math.min(Math.max(y, 0), s - 1.001);
  const x0 = Math.floor(xc);
  const y0 = Math.floor(yc);
  const fx = xc - x0;
  const fy = yc - y0;
  const i = y0 * s + x0;
  return (
    (img[i]! * (1 - fx) + img[i + 1]! * fx) * (1 - fy) + (img[i + s]! * (1 - fx) + img[i + s + 1]! * fx) * fy
  );
}

/** NCC of the thumbnail seen through `pose` (thumbnail units) against the template, over the central window. */
function ncc(
  img: Float32Array,
  tpl: Float32Array,
  s: number,
  angle: number,
  dx: number,
  dy: number,
  step = 1,
): number {
  const c = (s - 1) / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const m = Math.round(s / 8);
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  let n = 0;
  for (let y = m; y < s - m; y += step)
    for (let x = m; x < s - m; x += step) {
      const px = cos * (x - c) - sin * (y - c) + c + dx;
      const py = sin * (x - c) + cos * (y - c) + c + dy;
      const a = sample(img, s, px, py);
      const b = tpl[y * s + x]!;
      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
      n++;
    }
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  return cov / Math.sqrt(Math.max(va * vb, 1e-12));
}

/**
 * The pose that best maps the image's thumbnail onto the template (both from `thumbnail`), searching
 * rotations up to `maxAngleDeg` and shifts up to `maxShift` model pixels.
 */
export function findPose(
  thumb: Float32Array,
  tpl: Float32Array,
  size: number,
  maxAngleDeg = 8,
  maxShift = 16,
): { pose: Pose; ncc: number } {
  const s = size / F;
  const rad = Math.PI / 180;
  const shiftT = Math.ceil(maxShift / F);
  let best = { a: 0, x: 0, y: 0, v: -Infinity };
  // Coarse search: the thumbnail turned once per angle, then every whole-pixel shift e read off it by
  // index (rot(p + e) = thumb(R (p + e - c) + c), the pose with shift R e), on every second pixel of the
  // central window.
  const m = Math.round(s / 8);
  let sb = 0;
  let sbb = 0;
  let n = 0;
  for (let y = m; y < s - m; y += 2)
    for (let x = m; x < s - m; x += 2) {
      const b = tpl[y * s + x]!;
      sb += b;
      sbb += b * b;
      n++;
    }
  const vb = sbb - (sb * sb) / n;
  const reach = Math.min(shiftT, m);
  for (let a = -maxAngleDeg; a <= maxAngleDeg + 1e-9; a += 2) {
    const rot = warp(thumb, 1, s, { angle: a * rad, dx: 0, dy: 0 });
    for (let ey = -reach; ey <= reach; ey++)
      for (let ex = -reach; ex <= reach; ex++) {
        let sa = 0;
        let saa = 0;
        let sab = 0;
        for (let y = m; y < s - m; y += 2) {
          const ro = (y + ey) * s + ex;
          const to = y * s;
          for (let x = m; x < s - m; x += 2) {
            const va = rot[ro + x]!;
            sa += va;
            saa += va * va;
            sab += va * tpl[to + x]!;
          }
        }
        const va = saa - (sa * sa) / n;
        const v = (sab - (sa * sb) / n) / Math.sqrt(Math.max(va * vb, 1e-12));
        if (v > best.v) {
          const cos = Math.cos(a * rad);
          const sin = Math.sin(a * rad);
          best = { a, x: cos * ex - sin * ey, y: sin * ex + cos * ey, v };
        }
      }
  }
  best.v = ncc(thumb, tpl, s, best.a * rad, best.x, best.y);
  // Refine: half the angle step and quarter-pixel shifts around the best, twice.
  for (const [da, dp] of [
    [1, 0.5],
    [0.5, 0.25],
  ] as const) {
    const c = best;
    for (const a of [c.a - da, c.a, c.a + da])
      for (const y of [c.y - dp, c.y, c.y + dp])
        for (const x of [c.x - dp, c.x, c.x + dp]) {
          const v = ncc(thumb, tpl, s, a * rad, x, y);
          if (v > best.v) best = { a, x, y, v };
        }
  }
  return { pose: { angle: best.a * rad, dx: best.x * F, dy: best.y * F }, ncc: best.v };
}

/** The CHW tensor resampled through `pose` (bilinear, edges clamped). */
export function warp(t: Float32Array, channels: number, size: number, pose: Pose): Float32Array {
  if (pose.angle === 0 && pose.dx === 0 && pose.dy === 0) return t;
  const out = new Float32Array(t.length);
  const plane = size * size;
  const c = (size - 1) / 2;
  const cos = Math.cos(pose.angle);
  const sin = Math.sin(pose.angle);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const px = Math.min(Math.max(cos * (x - c) - sin * (y - c) + c + pose.dx, 0), size - 1.001);
      const py = Math.min(Math.max(sin * (x - c) + cos * (y - c) + c + pose.dy, 0), size - 1.001);
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const fx = px - x0;
      const fy = py - y0;
      const i = y0 * size + x0;
      for (let ch = 0; ch < channels; ch++) {
        const o = ch * plane;
        out[o + y * size + x] =
          (t[o + i]! * (1 - fx) + t[o + i + 1]! * fx) * (1 - fy) +
          (t[o + i + size]! * (1 - fx) + t[o + i + size + 1]! * fx) * fy;
      }
    }
  return out;
}

/** A point of the registered image in the unregistered model input. */
export function poseMap(pose: Pose, size: number, x: number, y: number): [number, number] {
  const c = (size - 1) / 2;
  const cos = Math.cos(pose.angle);
  const sin = Math.sin(pose.angle);
  return [cos * (x - c) - sin * (y - c) + c + pose.dx, sin * (x - c) + cos * (y - c) + c + pose.dy];
}

/**
 * A template from training thumbnails: align all to the first, average, then align all to that average
 * and average again.
 */
export function buildTemplate(thumbs: Float32Array[], size: number): Float32Array {
  let tpl = thumbs[0]!;
  const s = size / F;
  thumbs = thumbs.slice(0, 30);
  for (let pass = 0; pass < 2; pass++) {
    const acc = new Float32Array(s * s);
    for (const t of thumbs) {
      const { pose } = findPose(t, tpl, size);
      const w = warp(t, 1, s, { angle: pose.angle, dx: pose.dx / F, dy: pose.dy / F });
      for (let i = 0; i < acc.length; i++) acc[i]! += w[i]! / thumbs.length;
    }
    tpl = acc;
  }
  return tpl;
}
