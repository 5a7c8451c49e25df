/**
 * Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for
 * tree ensembles", Algorithm 2): exact Shapley values of one tree's output, where a feature outside the
 * coalition follows both branches weighted by the training rows that went each way (the node covers).
 * Runs in O(leaves x depth²) per tree. The contributions of a row sum to its margin minus the expected margin.
 */
import type { Tree } from './trees';

/**
 * The paths of all recursion levels live in four flat buffers (feature, zero fraction, one fraction, weight):
 * a child's path is a copy of its parent's placed right after it, so nothing is allocated per node.
 */
let D = new Int32Array(0);
let Z = new Float64Array(0);
let O = new Float64Array(0);
let W = new Float64Array(0);

function ensure(size: number): void {
  if (D.length >= size) return;
  D = new Int32Array(size);
  Z = new Float64Array(size);
  O = new Float64Array(size);
  W = new Float64Array(size);
}

function depthOf(t: Tree, i = 0): number {
  return t.feature[i] < 0 ? 0 : 1 + Math.max(depthOf(t, t.left[i]), depthOf(t, t.right[i]));
}

/** Removes element i from the path at base of length len (undoing its extension). */
function unwind(base: number, len: number, i: number): void {
  const l = len - 1;
  let n = W[base + l];
  const o = O[base + i];
  const z = Z[base + i];
  for (let j = l - 1; j >= 0; j--) {
    if (o !== 0) {
      const t = W[base + j];
      W[base + j] = (n * (l + 1)) / ((j + 1) * o);
      n = t - (W[base + j] * z * (l - j)) / (l + 1);
    } else {
      W[base + j] = (W[base + j] * (l + 1)) / (z * (l - j));
    }
  }
  for (let j = i; j < l; j++) {
    D[base + j] = D[base + j + 1];
    Z[base + j] = Z[base + j + 1];
    O[base + j] = O[base + j + 1];
  }
}

/** The total weight of the path if element i were unwound (without changing the path). */
function unwoundSum(base: number, len: number, i: number): number {
  const l = len - 1;
  const o = O[base + i];
  const z = Z[base + i];
  let total = 0;
  if (o !== 0) {
    let n = W[base + l];
    for (let j = l - 1; j >= 0; j--) {
      const t = (n * (l + 1)) / ((j + 1) * o);
      total += t;
      n = W[base + j] - (t * z * (l - j)) / (l + 1);
    }
  } else {
    for (let j = l - 1; j >= 0; j--) total += (W[base + j] * (l + 1)) / (z * (l - j));
  }
  return total;
}

/** Adds one tree's SHAP values for row x to phi (length = number of features). */
export function treeShap(t: Tree, x: ArrayLike<number>, phi: Float64Array | number[]): void {
  const depth = depthOf(t) + 2;
  ensure(((depth + 1) * (depth + 2)) / 2);
  const recurse = (j: number, pBase: number, pLen: number, pz: number, po: number, pi: number): void => {
    // Copy the parent's path after it, then extend it by (pz, po, pi).
    const base = pBase + pLen;
    D.copyWithin(base, pBase, pBase + pLen);
    Z.copyWithin(base, pBase, pBase + pLen);
    O.copyWithin(base, pBase, pBase + pLen);
    W.copyWithin(base, pBase, pBase + pLen);
    const l = pLen;
    D[base + l] = pi;
    Z[base + l] = pz;
    O[base + l] = po;
    W[base + l] = l === 0 ? 1 : 0;
    for (let i = l - 1; i >= 0; i--) {
      W[base + i + 1] += (po * W[base + i] * (i + 1)) / (l + 1);
      W[base + i] = (pz * W[base + i] * (l - i)) / (l + 1);
    }
    let len = l + 1;
    const f = t.feature[j];
    if (f < 0) {
      const v = t.value[j];
      for (let i = 1; i < len; i++)
        phi[D[base + i]] += unwoundSum(base, len, i) * (O[base + i] - Z[base + i]) * v;
      return;
    }
    const goLeft = Math.fround(x[f]) <= t.threshold[j];
    const hot = goLeft ? t.left[j] : t.right[j];
    const cold = goLeft ? t.right[j] : t.left[j];
    let iz = 1;
    let io = 1;
    let k = 1;
    for (; k < len; k++) if (D[base + k] === f) break;
    if (k < len) {
      iz = Z[base + k];
      io = O[base + k];
      unwind(base, len, k);
      len--;
    }
    const rj = t.cover[j];
    recurse(hot, base, len, (iz * t.cover[hot]) / rj, io, f);
    recurse(cold, base, len, (iz * t.cover[cold]) / rj, 0, f);
  };
  recurse(0, 0, 0, 1, 1, -1);
}

/** The tree's expected output: leaf values weighted by their covers. */
export function treeExpectation(t: Tree): number {
  let s = 0;
  for (let i = 0; i < t.feature.length; i++) if (t.feature[i] < 0) s += t.cover[i] * t.value[i];
  return s / t.cover[0];
}
