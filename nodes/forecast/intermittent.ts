/**
 * Intermittent demand: Croston (1972), the Syntetos-Boylan approximation (SBA, 2005) and
 * Teunter-Syntetos-Babai (TSB, 2011). Croston and SBA smooth the non-zero demand sizes and the
 * intervals between them, updating only in periods with demand; TSB smooths the size when demand
 * occurs and the probability of demand every period. Initial states follow R's forecast::croston:
 * the first demand size and the first interval (counted from the start of the series).
 */
import { TaktError } from '../core/errors';

export type IntermittentMethod = 'croston' | 'sba' | 'tsb';

export interface IntermittentFit {
  method: IntermittentMethod;
  alpha: number;
  beta?: number;
  /** Flat forecast per period. */
  forecast: number;
  /** One-step-ahead in-sample forecasts (NaN before the first demand). */
  fitted: number[];
  size: number;
  /** Mean interval (Croston/SBA) or demand probability (TSB). */
  interval?: number;
  probability?: number;
}

export function croston(
  y: readonly number[],
  method: 'croston' | 'sba' = 'croston',
  alpha = 0.1,
): IntermittentFit {
  if (!(alpha > 0 && alpha <= 1))
    throw new TaktError('forecast.badAlpha', 'alpha: must be in (0, 1]', 'alpha');
  const factor = method === 'sba' ? 1 - alpha / 2 : 1;
  let z = NaN;
  let p = NaN;
  let q = 0;
  const fitted: number[] = [];
  for (const v of y) {
    fitted.push(Number.isNaN(z) ? NaN : (factor * z) / p);
    q++;
    if (v > 0) {
      if (Number.isNaN(z)) {
        z = v;
        p = q;
      } else {
        z += alpha * (v - z);
        p += alpha * (q - p);
      }
      q = 0;
    }
  }
  const forecast = Number.isNaN(z) ? 0 : (factor * z) / p;
  return {
    method,
    alpha,
    forecast,
    fitted,
    size: Number.isNaN(z) ? 0 : z,
    interval: Number.isNaN(p) ? Infinity : p,
  };
}

export function tsb(y: readonly number[], alpha = 0.1, beta = 0.1): IntermittentFit {
  if (!(alpha > 0 && alpha <= 1))
    throw new TaktError('forecast.badAlpha', 'alpha: must be in (0, 1]', 'alpha');
  if (!(beta > 0 && beta <= 1)) throw new TaktError('forecast.badBeta', 'beta: must be in (0, 1]', 'beta');
  const nz = y.filter((v) => v > 0);
  // initial size: the first demand; initial probability: the share of periods with demand
  let z = nz.length ? nz[0] : 0;
  let p = y.length ? nz.length / y.length : 0;
  const fitted: number[] = [];
  for (const v of y) {
    fitted.push(p * z);
    if (v > 0) {
      p += beta * (1 - p);
      z += alpha * (v - z);
    } else p += beta * (0 - p);
  }
  return { method: 'tsb', alpha, beta, forecast: p * z, fitted, size: z, probability: p };
}

/** Average inter-demand interval (ADI) and squared coefficient of variation of the sizes (CV²). */
export function demandClass(y: readonly number[]): { adi: number; cv2: number; zeros: number } {
  const nz = y.filter((v) => v > 0);
  const zeros = 1 - nz.length / Math.max(1, y.length);
  if (!nz.length) return { adi: Infinity, cv2: 0, zeros };
  const mu = nz.reduce((a, b) => a + b, 0) / nz.length;
  const v = nz.reduce((a, b) => a + (b - mu) ** 2, 0) / nz.length;
  return { adi: y.length / nz.length, cv2: v / (mu * mu), zeros };
}
