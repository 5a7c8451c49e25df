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
 * The oracle: on R2R's drift path, a controller that knows the process and each part's disturbance, with no step
 * limit, sets each part's setpoints to minimise the expected squared deviation (in noise variances) plus λ times
 * the per cent of energy, for each λ of ORACLE_LAMBDAS: its MSD (noise included) and energy factor against R2R's.
 * It is the best any controller could do for that trade, and says whether a pair of targets (MSD and energy
 * against R2R's) can be met at all.
 *
 *   npm run bench:learn-energy -- [--control-seeds 9] [--parts 1000] [--energy-weight 0.01]
 */
import { finalLine, median, numberFlag, parseFlags, printTable } from './lib/cli';
import { controlRun, type Controller, tunerFlags } from './lib/control';
import { DEFAULT_PLANT } from '../nodes/sim/model';
import { lineOptimum, oracleChoice } from './lib/energy-line';
import { DEFAULT_PROCESSES, energyFactor, qualityShift } from '../nodes/sim/process';

const flags = parseFlags();
const PARTS = numberFlag(flags, 'parts', 1000);
const SEEDS = Array.from({ length: numberFlag(flags, 'control-seeds', 9) }, (_, i) => i + 1);
/** takt-tune's options in the control runs (`--energy-weight`; the engine's defaults when not given). */
const TUNER = tunerFlags(flags);
const SPEC = DEFAULT_PROCESSES.CNC1;
/** CNC1's measurement noise SD (the simulator's plant). */
const SIGMA = DEFAULT_PLANT.lines.flatMap((l) => l.machines).find((m) => m.id === 'CNC1')!.quality.sigma;
/** The oracle's prices of a per cent of energy, in noise variances of squared deviation. */
const ORACLE_LAMBDAS = [0.01, 0.05, 0.08, 0.12];

interface Split {
  alongLine: number;
  offTarget: number;
  vsOptimum: number;
  energy: number;
  msd: number;
  noiseVar: number;
  unreachable: number;
  /** R2R only: the oracle's MSD and energy factor over R2R's, per λ (all parts). */
  oracle?: { msd: number; energy: number }[];
}

function split(controller: Controller, seed: number): Split {
  let [e, line, opt, unreachable] = [0, 0, 0, 0];
  const or = ORACLE_LAMBDAS.map(() => ({ dev2: 0, energy: 0 }));
  let [allParts, allEnergy] = [0, 0];
  const run = controlRun(controller, {
    seed,
    parts: PARTS,
    tuner: TUNER,
    next: (_, t) => {
      const here = energyFactor(SPEC, t.setpoints);
      if (controller === 'r2r') {
        allParts++;
        allEnergy += here;
        oracleChoice(SPEC, t.context, t.disturbance, SIGMA, ORACLE_LAMBDAS).forEach((x, k) => {
          or[k].dev2 += x.dev2;
          or[k].energy += x.energy;
        });
      }
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
    ...(controller === 'r2r'
      ? {
          oracle: or.map((x) => ({
            msd: (run.noiseVar * (1 + x.dev2 / allParts)) / run.msd,
            energy: x.energy / allEnergy,
          })),
        }
      : {}),
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
  const oracle = ORACLE_LAMBDAS.map((lambda, k) => ({
    lambda,
    msdVsR2R: m((x) => x.r2r.oracle![k].msd),
    energyVsR2R: m((x) => x.r2r.oracle![k].energy),
  }));
  console.log(
    "\nthe oracle (knows the process and each part's disturbance, no step limit), on R2R's drift paths (medians)",
  );
  printTable([
    ['λ (noise variances per % energy)', 'MSD / R2R', 'energy factor / R2R'],
    ...oracle.map((o) => [o.lambda, o.msdVsR2R, o.energyVsR2R]),
  ]);
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
    oracle,
  });
}

if (require.main === module) main();
