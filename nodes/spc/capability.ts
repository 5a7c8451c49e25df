/**
 * Process capability with qcc's conventions (processCapability): within sigma from the chart (X̄-R for
 * subgroups, MR for individuals), overall sigma = sample standard deviation of all observations, centre =
 * grand mean; Cpk confidence interval after Bissell (1990); expected fraction out of spec from the normal
 * distribution with the within sigma; Anderson-Darling normality test with the D'Agostino-Stephens
 * small-sample adjustment and p-value. Warns when the chart shows the process is not in control.
 */
import { TaktError } from '../core/errors';
import { chart, toNumber } from './charts';
import type { ConstantsMode } from './constants';
import { normalCdf, normalQuantile } from './numeric';

export interface CapabilitySpec {
  lsl?: number;
  usl?: number;
  target?: number;
}

export interface CapabilityResult {
  cp: number | null;
  cpk: number;
  cpm: number | null;
  pp: number | null;
  ppk: number;
  cpl: number | null;
  cpu: number | null;
  center: number;
  target: number | null;
  sigmaWithin: number;
  sigmaOverall: number;
  n: number;
  cpkCi95: [number, number];
  /** Expected parts per million below LSL, above USL, and in total (normal model, within sigma). */
  ppmBelow: number;
  ppmAbove: number;
  ppmTotal: number;
  andersonDarling: { a2: number; a2Adjusted: number; p: number };
  /** False when the control chart of the data shows points beyond the limits or run-rule signals. */
  stable: boolean;
  warnings: string[];
}

/** Anderson-Darling test of normality with estimated mean and sd (D'Agostino and Stephens 1986). */
export function andersonDarling(x: readonly number[]): { a2: number; a2Adjusted: number; p: number } {
  const n = x.length;
  if (n < 8)
    throw new TaktError(
      'spc.tooFew',
      `data: the Anderson-Darling test needs at least 8 values, got ${n}`,
      'data',
    );
  const sorted = [...x].sort((a, b) => a - b);
  let m = 0;
  for (const v of sorted) m += v / n;
  let ss = 0;
  for (const v of sorted) ss += (v - m) * (v - m);
  const s = Math.sqrt(ss / (n - 1));
  if (!(s > 0))
    throw new TaktError('spc.constant', 'data: all values are equal, normality cannot be tested', 'data');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const lo = normalCdf((sorted[i] - m) / s);
    const hi = normalCdf((sorted[n - 1 - i] - m) / s);
    sum += (2 * i + 1) * (Math.log(lo) + Math.log(1 - hi));
  }
  const a2 = -n - sum / n;
  const aa = a2 * (1 + 0.75 / n + 2.25 / (n * n));
  let p: number;
  if (aa < 0.2) p = 1 - Math.exp(-13.436 + 101.14 * aa - 223.73 * aa * aa);
  else if (aa < 0.34) p = 1 - Math.exp(-8.318 + 42.796 * aa - 59.938 * aa * aa);
  else if (aa < 0.6) p = Math.exp(0.9177 - 4.279 * aa - 1.38 * aa * aa);
  else p = Math.exp(1.2937 - 5.709 * aa + 0.0186 * aa * aa);
  return { a2, a2Adjusted: aa, p: Math.min(1, Math.max(0, p)) };
}

/**
 * Capability indices of observations (number[]) or subgroups (number[][]) against spec limits. The within
 * sigma takes d2 from qcc's tables unless `options.constants` is 'exact'.
 */
export function capability(
  data: number[] | number[][],
  spec: CapabilitySpec,
  options: { constants?: ConstantsMode } = {},
): CapabilityResult {
  if (typeof spec !== 'object' || spec === null) {
    throw new TaktError('spc.badSpec', 'spec: expected { lsl, usl, target? }', 'spec');
  }
  const lsl = spec.lsl === undefined || spec.lsl === null ? undefined : toNumber(spec.lsl, 'lsl');
  const usl = spec.usl === undefined || spec.usl === null ? undefined : toNumber(spec.usl, 'usl');
  if (lsl === undefined && usl === undefined) {
    throw new TaktError('spc.badSpec', 'spec: give at least one of lsl and usl', 'spec');
  }
  if (lsl !== undefined && usl !== undefined && !(lsl < usl)) {
    throw new TaktError(
      'spc.specReversed',
      `spec: lsl ${lsl} must be below usl ${usl} (limits reversed?)`,
      'lsl',
    );
  }
  if (!Array.isArray(data) || data.length === 0) {
    throw new TaktError('spc.noData', 'data: expected observations or subgroups', 'data');
  }
  const grouped = Array.isArray(data[0]);
  const k = options.constants === undefined ? {} : { constants: options.constants };
  const c = grouped
    ? chart({ type: 'xbar-r', data: data as number[][], ...k })
    : chart({ type: 'imr', data: data as number[], ...k });
  const all = grouped ? (data as number[][]).flat() : (data as number[]);
  const n = all.length;
  const center = c.center;
  const sw = c.sigma;
  // overall sigma: the sample standard deviation of every observation (qcc: sd(x))
  let m = 0;
  for (const v of all) m += v / n;
  let ss = 0;
  for (const v of all) ss += (v - m) * (v - m);
  const so = Math.sqrt(ss / (n - 1));
  const target =
    spec.target !== undefined
      ? toNumber(spec.target, 'target')
      : lsl !== undefined && usl !== undefined
        ? (lsl + usl) / 2
        : null;
  if (target !== null && ((lsl !== undefined && target < lsl) || (usl !== undefined && target > usl))) {
    throw new TaktError('spc.badSpec', `target: ${target} is outside the specification limits`, 'target');
  }
  const two = lsl !== undefined && usl !== undefined;
  const cp = two ? (usl - lsl) / (6 * sw) : null;
  const cpu = usl !== undefined ? (usl - center) / (3 * sw) : null;
  const cpl = lsl !== undefined ? (center - lsl) / (3 * sw) : null;
  const cpk = Math.min(cpu ?? Infinity, cpl ?? Infinity);
  const pp = two ? (usl - lsl) / (6 * so) : null;
  const ppk = Math.min(
    usl !== undefined ? (usl - center) / (3 * so) : Infinity,
    lsl !== undefined ? (center - lsl) / (3 * so) : Infinity,
  );
  const cpm = cp !== null && target !== null ? cp / Math.sqrt(1 + ((center - target) / sw) ** 2) : null;
  const z = normalQuantile(0.975);
  const half = z * Math.sqrt(1 / (9 * n) + (cpk * cpk) / (2 * (n - 1)));
  const ppmBelow = lsl !== undefined ? normalCdf((lsl - center) / sw) * 1e6 : 0;
  const ppmAbove = usl !== undefined ? normalCdf((center - usl) / sw) * 1e6 : 0;
  const ad = andersonDarling(all);
  const unstable =
    c.points.some((p) => p.violations.length > 0) ||
    (c.secondary?.points.some((p) => p.violations.length > 0) ?? false);
  const warnings: string[] = [];
  if (unstable) {
    warnings.push(
      'the process is not in statistical control (the chart signals): capability indices do not predict its future output',
    );
  }
  if (ad.p < 0.05)
    warnings.push(
      `the data do not look normal (Anderson-Darling p = ${ad.p.toPrecision(2)}): ppm estimates may be wrong`,
    );
  return {
    cp,
    cpk,
    cpm,
    pp,
    ppk,
    cpl,
    cpu,
    center,
    target,
    sigmaWithin: sw,
    sigmaOverall: so,
    n,
    cpkCi95: [cpk - half, cpk + half],
    ppmBelow,
    ppmAbove,
    ppmTotal: ppmBelow + ppmAbove,
    andersonDarling: ad,
    stable: !unstable,
    warnings,
  };
}
