/**
 * bench:learn-energy — where each controller's energy per part goes on a two-setpoint surface (CNC1 by default),
 * measured against the exact least-energy setpoints of the simulator's process response:
 * - alongLine: the energy at the setpoints in force over the least energy that gives the same expected quality
 *   (how well the controller places itself along the setpoints of equal quality; 1 = perfectly);
 * - offTarget: the least energy at the quality it actually runs at over the least energy on target (below 1: it
 *   saves energy by running off target on the cheap side);
 * - the product, the energy over the on-target optimum.
 * Each part's "line" is solved exactly (for every value of the second setpoint on a fine grid the first one that
 * gives the quality, then a ternary search), unlike the simulator's `optimum()`, which accepts a miss of a
 * tenth of a noise SD and so finds setpoints slightly off target on the cheap side. Parts whose target the
 * bounds cannot reach are left out (counted). The seeds and drift paths of bench:learn's control runs (its first
 * 9 seeds by default; bench:learn runs 27).
 *
 *   npm run bench:learn-energy -- [--control-seeds 9] [--parts 1000] [--energy-weight 0.01]
 */
import { finalLine, median, numberFlag, parseFlags, printTable } from './lib/cli';
import { controlRun, type Controller, tunerFlags } from './lib/control';
import {
  DEFAULT_PROCESSES,
  energyFactor,
  type ProcessContext,
  type ProcessSpec,
  qualityShift,
} from '../nodes/sim/process';

const flags = parseFlags();
const PARTS = numberFlag(flags, 'parts', 1000);
const SEEDS = Array.from({ length: numberFlag(flags, 'control-seeds', 9) }, (_, i) => i + 1);
/** takt-tune's options in the control runs (`--energy-weight`; the engine's defaults when not given). */
const TUNER = tunerFlags(flags);
const SPEC = DEFAULT_PROCESSES.CNC1;
const GRID = 2000;

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

interface Split {
  alongLine: number;
  offTarget: number;
  vsOptimum: number;
  energy: number;
  msd: number;
  noiseVar: number;
  unreachable: number;
}

function split(controller: Controller, seed: number): Split {
  let [e, line, opt, unreachable] = [0, 0, 0, 0];
  const run = controlRun(controller, {
    seed,
    parts: PARTS,
    tuner: TUNER,
    next: (_, t) => {
      const here = energyFactor(SPEC, t.setpoints);
      const level = qualityShift(SPEC, t.setpoints, t.context);
      const atLevel = lineOptimum(SPEC, t.context, level);
      const onTarget = lineOptimum(SPEC, t.context, -t.disturbance);
      if (atLevel === undefined || onTarget === undefined) {
        unreachable++;
        return;
      }
      e += here;
      line += Math.min(here, atLevel);
      opt += onTarget;
    },
  });
  return {
    alongLine: e / line,
    offTarget: line / opt,
    vsOptimum: e / opt,
    energy: run.energy,
    msd: run.msd,
    noiseVar: run.noiseVar,
    unreachable,
  };
}

function main(): void {
  const rows: (string | number)[][] = [
    [
      'seed',
      'controller',
      'MSD/σ²',
      'along line',
      'off target',
      'vs on-target optimum',
      'parts out of reach',
    ],
  ];
  const per: { tune: Split; r2r: Split }[] = [];
  for (const seed of SEEDS) {
    const r = { tune: split('tune', seed), r2r: split('r2r', seed) };
    per.push(r);
    for (const [name, s] of Object.entries(r))
      rows.push([seed, name, s.msd / s.noiseVar, s.alongLine, s.offTarget, s.vsOptimum, s.unreachable]);
  }
  console.log(
    `energy per part on CNC1 against the exact least-energy setpoints, ${PARTS} parts, seeds ${SEEDS.join(', ')}`,
  );
  printTable(rows);
  const m = (f: (x: { tune: Split; r2r: Split }) => number) => median(per.map(f));
  finalLine({
    bench: 'learn-energy',
    surface: 'CNC1',
    seeds: SEEDS.length,
    energyWeight: TUNER.energyWeight ?? null,
    tuneAlongLine: m((x) => x.tune.alongLine),
    tuneOffTarget: m((x) => x.tune.offTarget),
    tuneVsOptimum: m((x) => x.tune.vsOptimum),
    r2rAlongLine: m((x) => x.r2r.alongLine),
    r2rOffTarget: m((x) => x.r2r.offTarget),
    r2rVsOptimum: m((x) => x.r2r.vsOptimum),
    /** The on-target optimum's energy over R2R's (both on the parts in reach): what holding the target costs. */
    optimumVsR2R: m((x) => 1 / x.r2r.vsOptimum),
    energyVsR2R: m((x) => x.tune.energy / x.r2r.energy),
    msdVsR2R: m((x) => x.tune.msd / x.r2r.msd),
  });
}

if (require.main === module) main();
