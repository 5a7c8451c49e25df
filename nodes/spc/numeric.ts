/**
 * Numerical building blocks of the SPC engine: an accurate normal distribution, the regularised
 * incomplete gamma and beta functions, and the quantiles built on them (chi-square, F, beta).
 *
 * simple-statistics supplies `gammaln` (Lanczos, about 1e-15) and a starting value for the normal
 * quantile (`probit`); its `errorFunction` is a 1e-7 approximation and its `cumulativeStdNormalProbability`
 * a two-decimal table, which is not enough for unbiasing constants quoted to 1e-9, so the normal CDF here is
 * computed from the erf series and the erfc continued fraction (about 1e-15 absolute).
 */
import { gammaln, probit } from 'simple-statistics';

const SQRT2 = Math.SQRT2;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const EPS = 1e-16;

/** erfc(x) for x >= 0. Series (all terms positive) below 3, Lentz continued fraction above. */
function erfcPos(x: number): number {
  if (x < 3) {
    // erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_{n>=0} 2^n x^(2n+1) / (1*3*...*(2n+1))
    let term = x;
    let sum = x;
    const x2 = 2 * x * x;
    for (let n = 1; n < 200; n++) {
      term *= x2 / (2 * n + 1);
      sum += term;
      if (term < sum * EPS) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Standard normal cumulative distribution function Φ(z). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const x = Math.abs(z) / SQRT2;
  const tail = 0.5 * erfcPos(x);
  return z < 0 ? tail : 1 - tail;
}

/** Upper tail 1 - Φ(z), accurate far into the tail. */
export function normalSf(z: number): number {
  return normalCdf(-z);
}

/** Standard normal density φ(z). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / SQRT2PI;
}

/** Standard normal quantile Φ⁻¹(p): simple-statistics' probit refined by Newton steps on the accurate CDF. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  let x = probit(p);
  if (!Number.isFinite(x)) x = p < 0.5 ? -8 : 8;
  for (let i = 0; i < 8; i++) {
    const dx = (normalCdf(x) - p) / normalPdf(x);
    x -= dx;
    if (Math.abs(dx) < 1e-15 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

export const lnGamma = (x: number): number => gammaln(x);

/** Regularised lower incomplete gamma P(a, x). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
  }
  // continued fraction for Q(a, x)
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return 1 - Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function betaInc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Inverts a continuous increasing CDF on [lo, hi] by bisection (robust, 1e-14 relative). */
function invert(cdf: (x: number) => number, p: number, lo: number, hi: number): number {
  while (cdf(hi) < p) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
    if (hi - lo <= 1e-14 * Math.max(1, Math.abs(mid))) break;
  }
  return 0.5 * (lo + hi);
}

export const chiSquareCdf = (x: number, df: number): number => gammaP(df / 2, x / 2);
export const chiSquareQuantile = (p: number, df: number): number =>
  invert((x) => chiSquareCdf(x, df), p, 0, Math.max(1, df * 4));

export const betaQuantile = (p: number, a: number, b: number): number =>
  invert((x) => betaInc(x, a, b), p, 0, 1);

export const fCdf = (x: number, d1: number, d2: number): number =>
  x <= 0 ? 0 : betaInc((d1 * x) / (d1 * x + d2), d1 / 2, d2 / 2);
export const fQuantile = (p: number, d1: number, d2: number): number =>
  invert((x) => fCdf(x, d1, d2), p, 0, 10);

/** Mean and unbiased standard deviation in one pass (Welford). */
export function meanSd(xs: ArrayLike<number>): { mean: number; sd: number } {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < xs.length; i++) {
    const d = xs[i] - mean;
    mean += d / (i + 1);
    m2 += d * (xs[i] - mean);
  }
  return { mean, sd: xs.length > 1 ? Math.sqrt(m2 / (xs.length - 1)) : NaN };
}
