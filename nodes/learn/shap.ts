/**
 * Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for
 * tree ensembles", Algorithm 2): exact Shapley values of one tree's output, where a feature outside the
 * coalition follows both branches weighted by the training rows that went each way (the node covers).
 * Runs in O(leaves x depth²) per tree. The contributions of a row sum to its margin minus the expected margin.
 */
import type { Tree } from './trees';

interface PathElem {
  d: number;
  z: number;
  o: number;
  w: number;
}

function extend(m: PathElem[], pz: number, po: number, pi: number): void {
  const l = m.length;
  m.push({ d: pi, z: pz, o: po, w: l === 0 ? 1 : 0 });
  for (let i = l - 1; i >= 0; i--) {
    m[i + 1].w += (po * m[i].w * (i + 1)) / (l + 1);
    m[i].w = (pz * m[i].w * (l - i)) / (l + 1);
  }
}

function unwind(m: PathElem[], i: number): void {
  const l = m.length - 1;
  let n = m[l].w;
  const { o, z } = m[i];
  for (let j = l - 1; j >= 0; j--) {
    if (o !== 0) {
      const t = m[j].w;
      m[j].w = (n * (l + 1)) / ((j + 1) * o);
      n = t - (m[j].w * z * (l - j)) / (l + 1);
    } else {
      m[j].w = (m[j].w * (l + 1)) / (z * (l - j));
    }
  }
  for (let j = i; j < l; j++) {
    m[j].d = m[j + 1].d;
    m[j].z = m[j + 1].z;
    m[j].o = m[j + 1].o;
  }
  m.pop();
}

function unwoundSum(m: PathElem[], i: number): number {
  const l = m.length - 1;
  const { o, z } = m[i];
  let total = 0;
  if (o !== 0) {
    let n = m[l].w;
    for (let j = l - 1; j >= 0; j--) {
      const t = (n * (l + 1)) / ((j + 1) * o);
      total += t;
      n = m[j].w - (t * z * (l - j)) / (l + 1);
    }
  } else {
    for (let j = l - 1; j >= 0; j--) total += (m[j].w * (l + 1)) / (z * (l - j));
  }
  return total;
}

/** Adds one tree's SHAP values for row x to phi (length = number of features). */
export function treeShap(t: Tree, x: ArrayLike<number>, phi: Float64Array | number[]): void {
  const recurse = (j: number, parent: PathElem[], pz: number, po: number, pi: number): void => {
    const m = parent.map((e) => ({ ...e }));
    extend(m, pz, po, pi);
    const f = t.feature[j];
    if (f < 0) {
      for (let i = 1; i < m.length; i++) {
        const w = unwoundSum(m, i);
        phi[m[i].d] += w * (m[i].o - m[i].z) * t.value[j];
      }
      return;
    }
    const goLeft = Math.fround(x[f]) <= t.threshold[j];
    const hot = goLeft ? t.left[j] : t.right[j];
    const cold = goLeft ? t.right[j] : t.left[j];
    let iz = 1;
    let io = 1;
    let k = 1;
    for (; k < m.length; k++) if (m[k].d === f) break;
    if (k < m.length) {
      iz = m[k].z;
      io = m[k].o;
      unwind(m, k);
    }
    const rj = t.cover[j];
    recurse(hot, m, (iz * t.cover[hot]) / rj, io, f);
    recurse(cold, m, (iz * t.cover[cold]) / rj, 0, f);
  };
  recurse(0, [], 1, 1, -1);
}

/** The tree's expected output: leaf values weighted by their covers. */
export function treeExpectation(t: Tree): number {
  let s = 0;
  for (let i = 0; i < t.feature.length; i++) if (t.feature[i] < 0) s += t.cover[i] * t.value[i];
  return s / t.cover[0];
}
