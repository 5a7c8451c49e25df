/**
 * Unbiasing constants of control charts, computed exactly for any subgroup size rather than read from
 * a three-decimal table (qcc and most textbooks round d2 and d3 to three decimals):
 *
 *   c4(n) = sqrt(2 / (n - 1)) · Γ(n / 2) / Γ((n - 1) / 2)                     (gamma function)
 *   d2(n) = E[W] = ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx                                (W: range of n N(0,1))
 *   d3(n) = sd[W],  E[W²] = 2 ∫∫_{w>0} 1 − (1 − Φ(x))ⁿ − Φ(x + w)ⁿ + (Φ(x + w) − Φ(x))ⁿ dx dw
 *
 * The integrals use composite Simpson rules on a uniform grid (step 0.01 for d2, 0.02 for d3) over
 * x ∈ [−9, 9], w ∈ [0, 14], where the integrands are smooth; the results agree with the closed forms
 * for n = 2 and 3 to better than 1e-9. Values are cached per n.
 */
import { TaktError } from '../core/errors';
import { lnGamma, normalCdf } from './numeric';

const MAX_N = 100000;

function checkSize(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 2 || n > MAX_N) {
    throw new TaktError(
      'spc.badSize',
      `${what}: subgroup size must be an integer from 2 to ${MAX_N}, got ${n}`,
    );
  }
}

const c4Cache = new Map<number, number>();
const d2Cache = new Map<number, number>();
const d3Cache = new Map<number, number>();

/** c4(n): E[s] = c4 σ for a sample of n normal observations. */
export function c4(n: number): number {
  let v = c4Cache.get(n);
  if (v === undefined) {
    checkSize(n, 'c4');
    v = Math.sqrt(2 / (n - 1)) * Math.exp(lnGamma(n / 2) - lnGamma((n - 1) / 2));
    c4Cache.set(n, v);
  }
  return v;
}

const L = 9;
let grid: { h: number; cdf: Float64Array } | undefined;
/** Φ on a uniform grid from −L to L + 14 (so that x + w stays on the grid). */
function cdfGrid(): { h: number; cdf: Float64Array } {
  if (!grid) {
    const h = 0.01;
    const count = Math.round((2 * L + 14) / h) + 1;
    const cdf = new Float64Array(count);
    for (let i = 0; i < count; i++) cdf[i] = normalCdf(-L + i * h);
    grid = { h, cdf };
  }
  return grid;
}

const simpson = (i: number, last: number) => (i === 0 || i === last ? 1 : i % 2 === 1 ? 4 : 2);

/** d2(n): E[R] = d2 σ for the range R of n normal observations. */
export function d2(n: number): number {
  let v = d2Cache.get(n);
  if (v === undefined) {
    checkSize(n, 'd2');
    const { h, cdf } = cdfGrid();
    const last = Math.round((2 * L) / h); // even
    let s = 0;
    for (let i = 0; i <= last; i++) {
      const f = cdf[i];
      s += simpson(i, last) * (1 - Math.pow(f, n) - Math.pow(1 - f, n));
    }
    v = (s * h) / 3;
    d2Cache.set(n, v);
  }
  return v;
}

/** d3(n): sd(R) = d3 σ for the range R of n normal observations. */
export function d3(n: number): number {
  let v = d3Cache.get(n);
  if (v === undefined) {
    checkSize(n, 'd3');
    const { cdf, h: h0 } = cdfGrid();
    const step = 2; // grid step 0.02
    const h = h0 * step;
    const lastX = Math.round((2 * L) / h);
    const lastW = Math.round(14 / h);
    let total = 0;
    for (let j = 0; j <= lastW; j++) {
      let inner = 0;
      for (let i = 0; i <= lastX; i++) {
        const fx = cdf[i * step];
        const fy = cdf[(i + j) * step];
        const g = 1 - Math.pow(1 - fx, n) - Math.pow(fy, n) + Math.pow(fy - fx, n);
        inner += simpson(i, lastX) * g;
      }
      total += simpson(j, lastW) * inner;
    }
    const ew2 = (2 * total * h * h) / 9;
    const m = d2(n);
    v = Math.sqrt(ew2 - m * m);
    d3Cache.set(n, v);
  }
  return v;
}
