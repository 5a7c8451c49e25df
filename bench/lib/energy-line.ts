/**
 * Exact least-energy setpoints of the simulator's process response on a two-setpoint surface, for
 * bench:learn-energy: the least energy that gives a quality (`lineOptimum`), and the choice of an oracle that
 * knows the process and the part's disturbance and trades squared deviation against energy (`oracleChoice`).
 */
import { energyFactor, type ProcessContext, type ProcessSpec, qualityShift } from '../../nodes/sim/process';

const GRID = 2000;
/** The oracle's grid of normalised setpoints per axis, refined twice around each λ's best point. */
const ORACLE_GRID = 41;

/** Setpoint values from normalised u ∈ [−1, 1]. */
const values = (spec: ProcessSpec, u: readonly number[]) =>
  spec.setpoints.map((s, i) => s.min + ((u[i] + 1) / 2) * (s.max - s.min));

/**
 * The least energy factor among the setpoints whose expected quality shift is `want`, or undefined when no
 * setpoints within the bounds give it. Two setpoints: the shift is quadratic in u1 for a given u2 (the response
 * is quadratic in the setpoints, its drift effects linear in them), so three values give its coefficients and
 * the u1 that gives `want` is a root; u2 on a grid of GRID + 1 values, then a ternary search around the best.
 */
export function lineOptimum(spec: ProcessSpec, c: ProcessContext, want: number): number | undefined {
  if (spec.setpoints.length !== 2) throw new Error('lineOptimum: two setpoints only');
  const shift = (u1: number, u2: number) => qualityShift(spec, values(spec, [u1, u2]), c) - want;
  const energyAt = (u2: number): number => {
    const [fm, f0, fp] = [shift(-1, u2), shift(0, u2), shift(1, u2)];
    const a = (fp + fm) / 2 - f0;
    const b = (fp - fm) / 2;
    const roots: number[] = [];
    if (Math.abs(a) < 1e-14) {
      if (b !== 0) roots.push(-f0 / b);
    } else {
      const disc = b * b - 4 * a * f0;
      if (disc >= 0) roots.push((-b + Math.sqrt(disc)) / (2 * a), (-b - Math.sqrt(disc)) / (2 * a));
    }
    let best = Infinity;
    for (const u1 of roots)
      if (u1 >= -1 && u1 <= 1) best = Math.min(best, energyFactor(spec, values(spec, [u1, u2])));
    return best;
  };
  let bi = -1;
  let bv = Infinity;
  for (let i = 0; i <= GRID; i++) {
    const v = energyAt(-1 + (2 * i) / GRID);
    if (v < bv) [bv, bi] = [v, i];
  }
  if (bi < 0) return undefined;
  let lo = Math.max(-1, -1 + (2 * (bi - 1)) / GRID);
  let hi = Math.min(1, -1 + (2 * (bi + 1)) / GRID);
  for (let k = 0; k < 40; k++) {
    const m1 = lo + (hi - lo) / 3;
    const m2 = hi - (hi - lo) / 3;
    if (energyAt(m1) < energyAt(m2)) hi = m2;
    else lo = m1;
  }
  return Math.min(bv, energyAt((lo + hi) / 2));
}

/**
 * The oracle's choice for one part, for each λ: the squared expected deviation (noise variances) and the energy
 * factor of the setpoints minimising (shift + disturbance)²/σ² + λ·100·(energy factor − 1). A grid of
 * ORACLE_GRID² normalised setpoints, then two 11 x 11 grids around each λ's best point (a fifth of the cell, then
 * a twenty-fifth).
 */
export function oracleChoice(
  spec: ProcessSpec,
  c: ProcessContext,
  disturbance: number,
  sigma: number,
  lambdas: readonly number[],
): { dev2: number; energy: number }[] {
  const at = (u1: number, u2: number) => {
    const v = values(spec, [u1, u2]);
    return { d: (qualityShift(spec, v, c) + disturbance) / sigma, e: energyFactor(spec, v) };
  };
  const grid: { u: [number, number]; d: number; e: number }[] = [];
  for (let i = 0; i < ORACLE_GRID; i++)
    for (let j = 0; j < ORACLE_GRID; j++) {
      const u: [number, number] = [-1 + (2 * i) / (ORACLE_GRID - 1), -1 + (2 * j) / (ORACLE_GRID - 1)];
      grid.push({ u, ...at(u[0], u[1]) });
    }
  return lambdas.map((l) => {
    const cost = (p: { d: number; e: number }) => p.d * p.d + l * 100 * (p.e - 1);
    let best = grid.reduce((b, p) => (cost(p) < cost(b) ? p : b));
    let cell = 2 / (ORACLE_GRID - 1);
    for (let round = 0; round < 2; round++) {
      const centre = best.u;
      for (let i = -5; i <= 5; i++)
        for (let j = -5; j <= 5; j++) {
          const u: [number, number] = [
            Math.min(1, Math.max(-1, centre[0] + (i * cell) / 5)),
            Math.min(1, Math.max(-1, centre[1] + (j * cell) / 5)),
          ];
          const p = { u, ...at(u[0], u[1]) };
          if (cost(p) < cost(best)) best = p;
        }
      cell /= 5;
    }
    return { dev2: best.d * best.d, energy: best.e };
  });
}
