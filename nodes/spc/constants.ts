/**
 * Unbiasing constants of control charts, from one provider with two modes:
 *
 *   'table' (default)  d2 and d3 as R's qcc publishes them in qcc.options(): "exp.R.unscaled" (d2, three
 *                      decimals, n = 2..25) and "se.R.unscaled" (d3, seven decimals, n = 2..50), the values
 *                      of the textbook tables; c4 from its closed form, as qcc computes it. Sizes beyond a
 *                      table (qcc stops there) take the exact value.
 *   'exact'            every constant computed for any subgroup size:
 *
 *   c4(n) = sqrt(2 / (n - 1)) · Γ(n / 2) / Γ((n - 1) / 2)                     (gamma function)
 *   d2(n) = E[W] = ∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx                                (W: range of n N(0,1))
 *   d3(n) = sd[W],  E[W²] = 2 ∫∫_{w>0} 1 − (1 − Φ(x))ⁿ − Φ(x + w)ⁿ + (Φ(x + w) − Φ(x))ⁿ dx dw
 *
 * The integrals use composite Simpson rules on a uniform grid (step 0.01 for d2, 0.02 for d3) over
 * x ∈ [−9, 9], w ∈ [0, 14], where the integrands are smooth; the results agree with the closed forms
 * for n = 2 and 3 to better than 1e-9. Values are cached per n.
 *
 * With the tables, sigma, limits and every statistic built on them (CUSUM sums, EWMA limits) agree with
 * qcc to rounding; the exact constants differ from the tables by up to 0.05% (d2(2) = 1.128379 against
 * 1.128), and so do the estimates built on them.
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

// ---------------------------------------------------------------- published tables and the provider

/** How d2 and d3 are obtained: qcc's published tables (default) or computed exactly. */
export type ConstantsMode = 'table' | 'exact';
export const CONSTANTS_MODES: readonly ConstantsMode[] = ['table', 'exact'];

/** qcc.options("exp.R.unscaled"): d2 for n = 2..25, index = n (entries 0 and 1 unused). */
export const QCC_D2: readonly number[] = [
  NaN,
  NaN,
  1.128,
  1.693,
  2.059,
  2.326,
  2.534,
  2.704,
  2.847,
  2.97,
  3.078,
  3.173,
  3.258,
  3.336,
  3.407,
  3.472,
  3.532,
  3.588,
  3.64,
  3.689,
  3.735,
  3.778,
  3.819,
  3.858,
  3.895,
  3.931,
];

/** qcc.options("se.R.unscaled"): d3 for n = 2..50, index = n (entries 0 and 1 unused). */
export const QCC_D3: readonly number[] = [
  NaN,
  NaN,
  0.8525033,
  0.8883697,
  0.8798108,
  0.8640855,
  0.8480442,
  0.8332108,
  0.8198378,
  0.8078413,
  0.7970584,
  0.787323,
  0.7784873,
  0.7704257,
  0.763033,
  0.7562217,
  0.7499188,
  0.7440627,
  0.7386021,
  0.7334929,
  0.728698,
  0.7241851,
  0.7199267,
  0.7158987,
  0.7120802,
  0.7084528,
  0.7050004,
  0.7017086,
  0.6985648,
  0.6955576,
  0.692677,
  0.6899137,
  0.6872596,
  0.6847074,
  0.6822502,
  0.6798821,
  0.6775973,
  0.675391,
  0.6732584,
  0.6711952,
  0.6691976,
  0.6672619,
  0.6653848,
  0.6635632,
  0.6617943,
  0.6600754,
  0.6584041,
  0.656778,
  0.655195,
  0.6536532,
  0.6521506,
];

/** The constants a chart uses, in one mode. */
export interface Constants {
  readonly mode: ConstantsMode;
  d2(n: number): number;
  d3(n: number): number;
  c4(n: number): number;
  /** True when n lies beyond the published tables (its d2 or d3 is then computed exactly). */
  beyondTable(n: number, which: 'd2' | 'd3'): boolean;
}

const fromTable = (table: readonly number[], exact: (n: number) => number) => (n: number) =>
  Number.isInteger(n) && n >= 2 && n < table.length ? table[n] : exact(n);

const TABLE: Constants = {
  mode: 'table',
  d2: fromTable(QCC_D2, d2),
  d3: fromTable(QCC_D3, d3),
  c4,
  beyondTable: (n, which) => n >= (which === 'd2' ? QCC_D2 : QCC_D3).length,
};
const EXACT: Constants = { mode: 'exact', d2, d3, c4, beyondTable: () => false };

/** The constants provider: qcc's published tables ('table', the default) or exact values ('exact'). */
export function constants(mode: ConstantsMode = 'table'): Constants {
  return toConstantsMode(mode) === 'exact' ? EXACT : TABLE;
}

/** Validates a constants mode (undefined = 'table'); throws a TaktError naming the field. */
export function toConstantsMode(v: unknown, field = 'constants'): ConstantsMode {
  if (v === undefined || v === null || v === '') return 'table';
  if (v === 'table' || v === 'exact') return v;
  throw new TaktError(
    'spc.badOption',
    `${field}: ${JSON.stringify(v)} is not a constants mode ("table" or "exact")`,
    field,
  );
}
