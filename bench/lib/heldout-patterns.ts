/**
 * The held-out control-chart pattern generator of bench:spc-patterns. It is written for the bench only,
 * separately from the training generator (nodes/spc/patterns.ts), with its own ranges and conventions, and
 * was fixed before any model was scored on it (it is not tuned to results):
 *
 * Ranges (magnitudes in process sigma):
 *   shift           size 1.25-3.5
 *   trend           slope 0.1-0.35 per sample, counted from the first affected point (which already moved by
 *                   one slope: d·(t − t₀ + 1), where the training generator has d·(t − t₀))
 *   cycle           amplitude 1.25-3.5, a whole period of 6-18 samples, random phase
 *   systematic      departure 1.25-3.5, alternating from a random start
 *   stratification  spread 0.1-0.45 of the process sigma
 *   mixture         offset 1.75-3.5 either side of the centre, side drawn per point
 *
 * Standard view: independent N(0, 1) noise, centre and sigma known; a shift starts at point 8-16 (8 to 16
 * points of in-control data first, so 16-24 points shifted); a trend runs from the first point.
 *
 * Live view (what a sliding window over a running chart sees):
 *   noise     AR(1) x(t) = φ·x(t−1) + e(t) with unit-variance innovations e (so the process sigma is
 *             1/√(1 − φ²), not 1), φ ∈ [−0.2, 0.3]
 *   limits    centre and sigma are estimated as a phase I would: the mean and sample standard deviation of
 *             100-250 in-control points of the same process, followed by 0-100 further points before the window;
 *             the window is standardised with those estimates
 *   onset     a shift or trend has affected k points, k uniform on 16-48: inside the window when k ≤ 32,
 *             started k − 32 points before it otherwise
 *   other classes cover the whole window, on the same noise.
 *
 * Shared convention with the training generator: a shift or trend is labelled only once it has affected at
 * least 16 points (half the window); with fewer it is not generated.
 */
import { Rng } from '../../nodes/core/random';
import type { PatternClass } from '../../nodes/spc';

/** Points a shift or trend must have affected before it is labelled (both generators). */
export const MIN_AFFECTED = 16;

export class HeldOutPatterns {
  private readonly rng: Rng;
  constructor(
    seed: number,
    readonly live: boolean,
    readonly window = 32,
  ) {
    // its own stream of the shared generator, so a seed here never replays a training seed's numbers
    this.rng = new Rng(seed, 0x51c7);
  }

  private u(lo: number, hi: number): number {
    return this.rng.uniform(lo, hi);
  }

  /** One standardised window of class `c`. */
  sample(c: PatternClass): Float64Array {
    const N = this.window;
    const g = this.rng;
    let phi = 0;
    let centre = 0;
    let sigma = 1;
    let sd = 1; // process sigma, the unit of the pattern magnitudes
    const noise = new Float64Array(N);
    if (this.live) {
      phi = this.u(-0.2, 0.3);
      sd = 1 / Math.sqrt(1 - phi * phi);
      let x = sd * g.normal(); // stationary start
      const n1 = g.int(100, 250);
      let s = 0;
      let ss = 0;
      const xs: number[] = [];
      for (let i = 0; i < n1; i++) {
        x = phi * x + g.normal();
        xs.push(x);
        s += x;
      }
      centre = s / n1;
      for (const v of xs) ss += (v - centre) ** 2;
      sigma = Math.sqrt(ss / (n1 - 1));
      const gap = g.int(0, 100);
      for (let i = 0; i < gap; i++) x = phi * x + g.normal();
      for (let t = 0; t < N; t++) {
        x = phi * x + g.normal();
        noise[t] = x;
      }
    } else {
      for (let t = 0; t < N; t++) noise[t] = g.normal();
    }
    const v = Float64Array.from(noise);
    const sign = c.startsWith('upward') ? 1 : -1;
    const onset = (): number => (this.live ? N - g.int(MIN_AFFECTED, 48) : N - g.int(MIN_AFFECTED, 24));
    switch (c) {
      case 'normal':
        break;
      case 'upward-shift':
      case 'downward-shift': {
        const s = sign * sd * this.u(1.25, 3.5);
        const t0 = onset();
        for (let t = Math.max(0, t0); t < N; t++) v[t] += s;
        break;
      }
      case 'upward-trend':
      case 'downward-trend': {
        const d = sign * sd * this.u(0.1, 0.35);
        const t0 = this.live ? onset() : 0;
        for (let t = Math.max(0, t0); t < N; t++) v[t] += d * (t - t0 + 1);
        break;
      }
      case 'cycle': {
        const a = sd * this.u(1.25, 3.5);
        const T = g.int(6, 18);
        const ph = this.u(0, 2 * Math.PI);
        for (let t = 0; t < N; t++) v[t] += a * Math.sin((2 * Math.PI * t) / T + ph);
        break;
      }
      case 'systematic': {
        const a = sd * this.u(1.25, 3.5);
        const k = g.int(0, 1);
        for (let t = 0; t < N; t++) v[t] += (t + k) % 2 === 0 ? a : -a;
        break;
      }
      case 'stratification': {
        const f = this.u(0.1, 0.45);
        for (let t = 0; t < N; t++) v[t] = f * noise[t];
        break;
      }
      case 'mixture': {
        const m = sd * this.u(1.75, 3.5);
        for (let t = 0; t < N; t++) v[t] += g.next() < 0.5 ? m : -m;
        break;
      }
    }
    for (let t = 0; t < N; t++) v[t] = (v[t] - centre) / sigma;
    return v;
  }

  /** `perClass` windows of every class in class order; labels index `classes`. */
  set(classes: readonly PatternClass[], perClass: number): { windows: Float64Array[]; labels: Uint8Array } {
    const windows: Float64Array[] = [];
    const labels = new Uint8Array(perClass * classes.length);
    classes.forEach((c, j) => {
      for (let i = 0; i < perClass; i++) {
        labels[windows.length] = j;
        windows.push(this.sample(c));
      }
    });
    return { windows, labels };
  }
}
