/** Small dense linear algebra and statistics for the anomaly models (row-major Float64Array matrices). */

/**
 * Eigen-decomposition of a symmetric d×d matrix by cyclic Jacobi rotations. Returns the eigenvalues in
 * descending order and the matching eigenvectors as the columns of a d×d matrix.
 */
export function symmetricEigen(A0: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(A0);
  const V = new Float64Array(d * d);
  for (let i = 0; i < d; i++) V[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < d; p++) {
      diag += A[p * d + p] ** 2;
      for (let q = p + 1; q < d; q++) off += A[p * d + q] ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * d + q] - A[p * d + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = A[k * d + p];
          const akq = A[k * d + q];
          A[k * d + p] = c * akp - s * akq;
          A[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = A[p * d + k];
          const aqk = A[q * d + k];
          A[p * d + k] = c * apk - s * aqk;
          A[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = V[k * d + p];
          const vkq = V[k * d + q];
          V[k * d + p] = c * vkp - s * vkq;
          V[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => A[b * d + b] - A[a * d + a]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, dst) => {
    values[dst] = A[src * d + src];
    for (let k = 0; k < d; k++) vectors[k * d + dst] = V[k * d + src];
  });
  return { values, vectors };
}

/** Quantile (linear interpolation) of a sample; q in [0, 1]. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(xs).sort();
  if (s.length === 0) return Number.NaN;
  const pos = Math.min(1, Math.max(0, q)) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Trailing moving mean of `w` points (shorter at the start). */
export function movingMean(xs: ArrayLike<number>, w: number): Float64Array {
  const out = new Float64Array(xs.length);
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i];
    if (i >= w) s -= xs[i - w];
    out[i] = s / Math.min(i + 1, w);
  }
  return out;
}

/**
 * Share of column `j`'s variance (X n×d, row-major) that lies between consecutive blocks of `block` rows (the
 * last block may be shorter): the one-way ANOVA η² = Σ_b n_b (mean_b − mean)² / Σ_i (x_i − mean)². About
 * 1/block for white noise, near 1 for a feature that drifts slowly over the window; 0 for a constant.
 */
export function slowShare(X: ArrayLike<number>, n: number, d: number, j: number, block: number): number {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += X[i * d + j] / n;
  let total = 0;
  for (let i = 0; i < n; i++) total += (X[i * d + j] - mean) ** 2;
  if (!(total > 0)) return 0;
  let between = 0;
  for (let b0 = 0; b0 < n; b0 += block) {
    const b1 = Math.min(n, b0 + block);
    let m = 0;
    for (let i = b0; i < b1; i++) m += X[i * d + j];
    m /= b1 - b0;
    between += (b1 - b0) * (m - mean) ** 2;
  }
  return between / total;
}

export interface Trend {
  /** Mann-Kendall statistic of the block medians, standardised (about N(0, 1) without a trend). */
  z: number;
  /** Theil-Sen slope of the block medians, per row. */
  slope: number;
  /**
   * Robust spread of the rows around their block's median (1.4826 · MAD); for a coarsely quantised feature whose
   * MAD is 0, the root mean square of those deviations.
   */
  noise: number;
}

const median = (xs: number[]): number => quantile(xs, 0.5);

/**
 * Robust monotone trend of column `j` (X n×d, row-major) over blocks of `block` rows (a last block shorter than
 * half a block joins the previous one): Mann-Kendall on the block medians, so that noise correlated within a
 * block does not count as evidence, and the Theil-Sen slope (median of pairwise slopes) of the same medians
 * against the blocks' centre rows. Needs at least 4 blocks (else z = 0, slope 0).
 */
export function trendTest(X: ArrayLike<number>, n: number, d: number, j: number, block: number): Trend {
  const bounds: [number, number][] = [];
  for (let b0 = 0; b0 < n; b0 += block) bounds.push([b0, Math.min(n, b0 + block)]);
  if (bounds.length > 1 && bounds[bounds.length - 1][1] - bounds[bounds.length - 1][0] < block / 2) {
    const last = bounds.pop() as [number, number];
    bounds[bounds.length - 1][1] = last[1];
  }
  const meds: number[] = [];
  const centres: number[] = [];
  const dev: number[] = [];
  for (const [b0, b1] of bounds) {
    const xs: number[] = [];
    for (let i = b0; i < b1; i++) xs.push(X[i * d + j]);
    const m = median(xs);
    meds.push(m);
    centres.push((b0 + b1 - 1) / 2);
    for (const x of xs) dev.push(Math.abs(x - m));
  }
  const mad = 1.4826 * median(dev);
  const noise = mad > 0 ? mad : Math.sqrt(dev.reduce((a, x) => a + x * x, 0) / Math.max(1, dev.length));
  const B = meds.length;
  if (B < 4) return { z: 0, slope: 0, noise };
  let S = 0;
  const slopes: number[] = [];
  for (let a = 0; a < B; a++)
    for (let b = a + 1; b < B; b++) {
      S += Math.sign(meds[b] - meds[a]);
      slopes.push((meds[b] - meds[a]) / (centres[b] - centres[a]));
    }
  const v = (B * (B - 1) * (2 * B + 5)) / 18;
  const z = S === 0 ? 0 : (S - Math.sign(S)) / Math.sqrt(v);
  return { z, slope: median(slopes), noise };
}
