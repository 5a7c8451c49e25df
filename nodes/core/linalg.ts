/**
 * Small dense linear algebra on symmetric positive definite matrices (a few dozen rows at most): the Cholesky
 * factor, solving A·X = B, the inverse, and the quadratic form. Used by the SPC engine (Hotelling T², MEWMA)
 * and the learning engine (ridge fits, the tuner's Bayesian regression). No dependencies.
 */

/** Lower-triangular L with A = L·Lᵀ; throws when A is not (numerically) positive definite. */
export function cholesky(a: readonly (readonly number[])[]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j];
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(s > 1e-12 * Math.abs(a[i][i]))) throw new Error('matrix is not positive definite');
        l[i][i] = Math.sqrt(s);
      } else l[i][j] = s / l[j][j];
    }
  }
  return l;
}

/** Solves A·x = b with A's Cholesky factor L (forward, then back substitution). */
export function choleskySolve(l: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = l.length;
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i][k] * y[k];
    y[i] = s / l[i][i];
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k][i] * x[k];
    x[i] = s / l[i][i];
  }
  return x;
}

/** Inverse of a symmetric positive definite matrix; throws when it is not positive definite. */
export function invertSpd(a: readonly (readonly number[])[]): number[][] {
  const n = a.length;
  const l = cholesky(a);
  const cols = a.map((_, c) =>
    choleskySolve(
      l,
      a.map((__, i) => (i === c ? 1 : 0)),
    ),
  );
  return Array.from({ length: n }, (_, i) => cols.map((col) => col[i]));
}

/** xᵀ·A·x */
export function quadForm(x: ArrayLike<number>, a: readonly (readonly number[])[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    let r = 0;
    for (let j = 0; j < x.length; j++) r += a[i][j] * x[j];
    s += x[i] * r;
  }
  return s;
}
