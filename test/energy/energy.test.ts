import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';
import { heuristic, iteratedSearch, toLoadSlots } from '../../nodes/energy/heuristic';
import { buildLp } from '../../nodes/energy/lp';
import { compileProblem } from '../../nodes/energy/model';
import {
  evaluate,
  idleSolverLimits,
  optimise,
  releaseSolver,
  solverThreadsStarted,
  warmUp,
} from '../../nodes/energy/optimise';
import { SharedPlan, sharedPlanBuffer } from '../../nodes/energy/shared-plan';
import type { EnergyProblem, ShiftableLoad } from '../../nodes/energy/types';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

/** Cost written out independently of the engine, straight from the formula. */
function costByHand(p: EnergyProblem, plan: Record<string, number[]>): number | null {
  const T = p.prices.length;
  const h = p.slotMinutes / 60;
  const net = Array.from({ length: T }, (_, t) => (p.baseLoadKw?.[t] ?? 0) - (p.renewableKw?.[t] ?? 0));
  for (const l of p.loads) for (const t of plan[l.id]) net[t] += l.powerKw;
  let cost = 0;
  let peak = 0;
  for (let t = 0; t < T; t++) {
    const imp = Math.max(0, net[t]);
    if (p.peakLimitKw !== null && p.peakLimitKw !== undefined && imp > p.peakLimitKw + 1e-9) return null;
    peak = Math.max(peak, imp);
    cost += h * (p.prices[t] * imp - (p.exportPrice ?? 0) * Math.max(0, -net[t]));
  }
  return cost + (p.demandChargePerKw ?? 0) * peak;
}

/** Every plan of a small problem: contiguous runs or subsets of the window, precedence checked. */
function bruteForce(p: EnergyProblem): number | null {
  const T = p.prices.length;
  const options = p.loads.map((l) => {
    const lo = l.release ?? 0;
    const hi = l.deadline ?? T;
    const out: number[][] = [];
    if (!l.preemptive) {
      for (let s = lo; s + l.durationSlots <= hi; s++)
        out.push(Array.from({ length: l.durationSlots }, (_, i) => s + i));
    } else {
      for (let mask = 0; mask < 1 << (hi - lo); mask++) {
        const set: number[] = [];
        for (let i = 0; i < hi - lo; i++) if (mask & (1 << i)) set.push(lo + i);
        if (set.length === l.durationSlots) out.push(set);
      }
    }
    return out;
  });
  let best: number | null = null;
  const plan: Record<string, number[]> = {};
  const rec = (j: number) => {
    if (j === p.loads.length) {
      for (const l of p.loads)
        for (const a of l.after ?? []) if (Math.min(...plan[l.id]) <= Math.max(...plan[a])) return;
      const c = costByHand(p, plan);
      if (c !== null && (best === null || c < best)) best = c;
      return;
    }
    for (const o of options[j]) {
      plan[p.loads[j].id] = o;
      rec(j + 1);
    }
  };
  rec(0);
  return best;
}

describe('energy.optimise: hand-checkable optima', () => {
  it('one load, two price levels: runs in the cheap slots', async () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [0.3, 0.3, 0.1, 0.1, 0.3, 0.3],
      loads: [{ id: 'oven', powerKw: 10, durationSlots: 2 }],
    };
    const plan = await optimise(p, { timeLimitMs: 5000 });
    assert.deepEqual(plan.loads.oven, [2, 3]);
    close(plan.totalCost, 2); // 10 kW * 2 h * 0.1
    close(plan.baselineCost, 6); // started at 0: 10 kW * 2 h * 0.3
    close(plan.savings, 4);
    assert.equal(plan.optimal, true);
    assert.equal(plan.gap, 0);
    assert.deepEqual(plan.importKw, [0, 0, 10, 10, 0, 0]);
  });

  it('preemption: a preemptive load takes the cheap slots apart, a contiguous one cannot', async () => {
    const base = { slotMinutes: 30, prices: [1, 5, 1, 5, 1] };
    const pre = await optimise(
      { ...base, loads: [{ id: 'p', powerKw: 4, durationSlots: 3, preemptive: true }] },
      { worker: false },
    );
    assert.deepEqual(pre.loads.p, [0, 2, 4]);
    close(pre.totalCost, 6); // 3 slots * 0.5 h * 4 kW * 1
    const con = await optimise(
      { ...base, loads: [{ id: 'c', powerKw: 4, durationSlots: 3 }] },
      { worker: false },
    );
    close(con.totalCost, 14); // [0..2] or [2..4]: 0.5 * 4 * (1 + 5 + 1)
  });

  it('precedence: the second load waits for the first to finish', async () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [9, 1, 1, 9, 9, 1, 9],
      loads: [
        { id: 'washer', powerKw: 1, durationSlots: 2 },
        { id: 'oven', powerKw: 1, durationSlots: 2, after: ['washer'], deadline: 7 },
      ],
    };
    const plan = await optimise(p, { worker: false });
    // washer [1,2] costs 2; oven must start at 3 or later: [4,5] costs 10, [5,6] costs 10
    close(plan.totalCost, 12);
    assert.deepEqual(plan.loads.washer, [1, 2]);
    assert.ok(plan.loads.oven[0] >= 3);
    assert.equal(evaluate(p, plan.loads).feasible, true);
  });

  it('export: a load soaks up surplus solar when exporting pays less than importing', async () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [0.2, 0.2, 0.2, 0.2],
      exportPrice: 0.05,
      renewableKw: [0, 10, 0, 0],
      loads: [{ id: 'pump', powerKw: 10, durationSlots: 1 }],
    };
    const plan = await optimise(p, { worker: false });
    assert.deepEqual(plan.loads.pump, [1]);
    close(plan.totalCost, 0);
    close(plan.baselineCost, 2 - 0.5); // slot 0: import 10 * 0.2, export 10 * 0.05 in slot 1
    // when export pays more than import costs, sell the solar and buy for the load
    const high = await optimise({ ...p, exportPrice: 0.3 }, { worker: false });
    close(high.totalCost, 2 - 3);
    assert.notDeepEqual(high.loads.pump, [1]);
  });

  it('demand charge: two loads spread out to halve the peak', async () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [0.1, 0.1, 0.5],
      demandChargePerKw: 1,
      loads: [
        { id: 'a', powerKw: 10, durationSlots: 1 },
        { id: 'b', powerKw: 10, durationSlots: 1 },
      ],
    };
    const plan = await optimise(p, { worker: false });
    close(plan.totalCost, 12); // energy 2 + peak 10
    close(plan.peakKw, 10);
    close(plan.demandCost, 10);
    close(plan.baselineCost, 22); // both at 0: energy 2 + peak 20
  });

  it('identical loads (symmetry breaking) with a demand charge share the cheap slots', async () => {
    const same = { powerKw: 10, durationSlots: 2 };
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9],
      demandChargePerKw: 2,
      loads: [
        { id: 'a', ...same },
        { id: 'b', ...same },
        { id: 'c', ...same },
      ],
    };
    const plan = await optimise(p, { worker: false });
    // three 2-slot runs fit side by side in the six cheap slots: energy 6 x 10 x 0.1, peak 10
    close(plan.totalCost, 6 + 20);
    const used = [...plan.loads.a, ...plan.loads.b, ...plan.loads.c].sort((x, y) => x - y);
    assert.deepEqual(used, [0, 1, 2, 3, 4, 5]);
  });

  it('peak cap: the second load moves to a dearer slot', async () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [0.1, 0.5, 0.5],
      peakLimitKw: 10,
      loads: [
        { id: 'a', powerKw: 10, durationSlots: 1 },
        { id: 'b', powerKw: 10, durationSlots: 1 },
      ],
    };
    const plan = await optimise(p, { worker: false });
    close(plan.totalCost, 6);
    assert.ok(plan.importKw.every((v) => v <= 10 + 1e-9));
  });

  it('negative prices: no fake buy-and-sell in the same slot', async () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [-0.1, 0.2, 0.2],
      exportPrice: 0,
      renewableKw: [5, 0, 0],
      loads: [{ id: 'l', powerKw: 10, durationSlots: 1, release: 1 }],
    };
    const plan = await optimise(p, { worker: false });
    // slot 0 exports 5 kW for nothing; the load imports 10 kW at 0.2 in slot 1 or 2
    close(plan.totalCost, 2);
    assert.equal(plan.importKw[0], 0);
    assert.equal(plan.exportKw[0], 5);
    // a load in the negative-price slot is paid to run
    const free = await optimise(
      { ...p, loads: [{ id: 'l', powerKw: 10, durationSlots: 1 }] },
      { worker: false },
    );
    assert.deepEqual(free.loads.l, [0]);
    close(free.totalCost, -0.5);
  });

  /**
   * Small random instances checked against brute force; `chains` forces a preemptive predecessor,
   * `charge` a demand charge on every instance (the path with the peak cutoff and the capped
   * energy-only sub-problem).
   */
  async function matchesBruteForce(seed: number, chains: boolean, charge = false): Promise<number> {
    const rng = new Rng(seed);
    let checked = 0;
    for (let k = 0; k < 14; k++) {
      const T = 7;
      const prices = Array.from({ length: T }, () => Math.round(rng.uniform(-0.05, 0.4) * 100) / 100);
      const loads: ShiftableLoad[] = [];
      const n = rng.int(2, 3);
      for (let j = 0; j < n; j++) {
        const dur = rng.int(1, 3);
        const release = rng.int(0, 2);
        const l: ShiftableLoad = {
          id: `L${j}`,
          powerKw: rng.int(2, 12),
          durationSlots: dur,
          release,
          deadline: Math.min(T, release + dur + rng.int(1, 4)),
          preemptive: (chains && j === 0) || rng.next() < 0.4,
        };
        if (j > 0 && (chains ? j === 1 : rng.next() < 0.3)) {
          l.after = [`L${j - 1}`];
          l.release = 0;
          l.deadline = T;
        }
        if (chains && j === 0) l.deadline = T - 1;
        loads.push(l);
      }
      const p: EnergyProblem = {
        slotMinutes: 15,
        prices,
        baseLoadKw: Array.from({ length: T }, () => rng.int(0, 6)),
        renewableKw: Array.from({ length: T }, () => rng.int(0, 8)),
        exportPrice: rng.next() < 0.5 ? 0.05 : 0,
        demandChargePerKw: charge ? rng.uniform(0.5, 3) : rng.next() < 0.5 ? rng.uniform(0.1, 1) : 0,
        peakLimitKw: rng.next() < 0.5 ? rng.int(10, 20) : null,
        loads,
      };
      const best = bruteForce(p);
      if (best === null) {
        await assert.rejects(optimise(p, { worker: false, mipRelGap: 1e-9 }), TaktError);
        continue;
      }
      // a tight gap: the exact optimum, to compare with brute force
      const plan = await optimise(p, { worker: false, mipRelGap: 1e-9 });
      close(plan.totalCost, best, 1e-6);
      const again = costByHand(p, plan.loads);
      assert.notEqual(again, null);
      close(again as number, plan.totalCost);
      assert.equal(evaluate(p, plan.loads).feasible, true);
      assert.equal(plan.optimal, true);
      // the solver's bound must be a true lower bound (an over-tight model would show here)
      assert.ok(plan.bound !== undefined && plan.bound <= best + 1e-6, `bound ${plan.bound} above ${best}`);
      checked++;
    }
    return checked;
  }

  it('matches brute force on small random instances (cap, charge, export, precedence, preemption)', async function () {
    const checked = await matchesBruteForce(8, false);
    assert.ok(checked >= 8, `only ${checked} feasible instances`);
  });

  it('matches brute force when a preemptive load must finish before another starts', async function () {
    const checked = await matchesBruteForce(21, true);
    assert.ok(checked >= 8, `only ${checked} feasible instances`);
  });

  it('matches brute force with a demand charge on every instance (peak cutoff from the incumbent)', async function () {
    const checked = await matchesBruteForce(33, false, true);
    assert.ok(checked >= 8, `only ${checked} feasible instances`);
  });
});

describe('energy LP text', () => {
  const p: EnergyProblem = {
    slotMinutes: 60,
    prices: [0.3, 0.1, 0.2],
    demandChargePerKw: 0.5,
    loads: [{ id: 'a', powerKw: 4, durationSlots: 2 }],
  };
  it('the relaxation leaves out the binaries; a peak cutoff bounds the peak variable', () => {
    const m = compileProblem(p);
    const full = buildLp(m).text;
    assert.match(full, /\nBinaries\n/);
    assert.match(full, /\n peak >= 4\n/);
    assert.doesNotMatch(buildLp(m, { relax: true }).text, /Binaries/);
    assert.match(buildLp(m, { peakUb: 6.5 }).text, /\n 4 <= peak <= 6.5\n/);
    // a cutoff below the valid lower bound is lifted to it rather than making the model infeasible
    assert.match(buildLp(m, { peakUb: 3 }).text, /\n 4 <= peak <= 4\n/);
  });
});

describe('energy solver threads', () => {
  const p: EnergyProblem = {
    slotMinutes: 60,
    prices: [0.3, 0.1, 0.2, 0.1, 0.4, 0.1, 0.2],
    baseLoadKw: [2, 4, 1, 3, 0, 5, 2],
    renewableKw: [0, 1, 6, 8, 5, 0, 0],
    exportPrice: 0.05,
    demandChargePerKw: 0.8,
    peakLimitKw: 16,
    loads: [
      { id: 'a', powerKw: 6, durationSlots: 2 },
      { id: 'b', powerKw: 5, durationSlots: 2, preemptive: true, after: ['a'] },
      { id: 'c', powerKw: 7, durationSlots: 1 },
      { id: 'd', powerKw: 4, durationSlots: 3 },
    ],
  };
  after(() => releaseSolver());

  it('alone and with the local search in a second thread, both reach the brute-force optimum', async () => {
    const best = bruteForce(p) as number;
    await warmUp();
    for (const threads of [1, 2]) {
      const plan = await optimise(p, { threads, mipRelGap: 1e-9, timeLimitMs: 5000 });
      close(plan.totalCost, best, 1e-6);
      assert.equal(evaluate(p, plan.loads).feasible, true);
      assert.equal(plan.optimal, true, `threads ${threads}`);
    }
  });

  it('solves again and again on the same two threads (solver and search), starting no new ones', async () => {
    await releaseSolver();
    const best = bruteForce(p) as number;
    const before = solverThreadsStarted();
    for (let k = 0; k < 4; k++) {
      const plan = await optimise(p, { threads: 2, mipRelGap: 1e-9, timeLimitMs: 5000 });
      close(plan.totalCost, best, 1e-6);
      await new Promise((r) => setTimeout(r, 50)); // the search thread says it stopped
    }
    assert.equal(solverThreadsStarted() - before, 2);
  });

  it('back to back, waits for the search thread still stopping instead of starting another', async function () {
    this.timeout(600000);
    // 48 slots, 8 loads and a demand charge: HiGHS proves the optimum while the search beside it still runs
    const T = 48;
    const prices = Array.from(
      { length: T },
      (_, t) => 0.1 + 0.2 * Math.abs(Math.sin(t / 7)) + (0.05 * ((t * 37) % 11)) / 11,
    );
    const big: EnergyProblem = {
      slotMinutes: 15,
      prices,
      baseLoadKw: prices.map((_, t) => 20 + (t % 7)),
      renewableKw: prices.map((_, t) => 30 * Math.max(0, Math.sin((t - 24) / 15))),
      exportPrice: 0.04,
      demandChargePerKw: 0.5,
      loads: Array.from({ length: 8 }, (_, j) => ({
        id: `l${j}`,
        powerKw: 5 + 3 * (j % 5),
        durationSlots: 2 + (j % 6),
        release: j,
        deadline: T - j,
        preemptive: j % 3 === 0,
      })),
    };
    await releaseSolver();
    const before = solverThreadsStarted();
    let optimal = 0;
    for (let k = 0; k < 4; k++) {
      // a limit far beyond what HiGHS needs here (2-9 s on a loaded machine): the search beside it is still
      // running when the solver settles
      const plan = await optimise(big, { threads: 2, mipRelGap: 1e-9, timeLimitMs: 120000 });
      assert.equal(evaluate(big, plan.loads).feasible, true);
      if (plan.optimal) optimal++;
    }
    assert.equal(optimal, 4, 'HiGHS proves the optimum before the time limit');
    assert.equal(solverThreadsStarted() - before, 2);
  });

  it('refuses a problem that cannot be copied to its thread, and keeps its threads', async () => {
    await optimise(p, { threads: 2, timeLimitMs: 2000 });
    const before = solverThreadsStarted();
    const bad = { ...p, note: () => 'not data' } as unknown as EnergyProblem;
    await assert.rejects(
      optimise(bad, { threads: 2, timeLimitMs: 2000 }),
      /energy\.badProblem|cannot be copied/,
    );
    await optimise(p, { threads: 2, timeLimitMs: 2000 });
    assert.equal(solverThreadsStarted() - before, 0);
  });

  it('keeps its solver thread with a young generation capped at 16 MB or less (Node allows a worker 192 MB)', async () => {
    await releaseSolver();
    await warmUp();
    const young = () => idleSolverLimits()?.maxYoungGenerationSizeMb ?? NaN;
    assert.ok(young() > 0 && young() <= 16, `after warm-up: ${young()} MB`);
    await optimise(p, { threads: 1, timeLimitMs: 2000 });
    assert.ok(young() > 0 && young() <= 16, `after a solve: ${young()} MB`);
  });

  it('a shared plan is taken once, whole, after each publish', () => {
    const m = compileProblem(p);
    const buf = sharedPlanBuffer(m);
    const writer = new SharedPlan(m, buf);
    const reader = new SharedPlan(m, buf);
    assert.equal(reader.take(), null);
    writer.publish([[0, 1], [2, 4], [5], [3, 4, 5]], 12.5);
    assert.deepEqual(reader.take(), { slots: [[0, 1], [2, 4], [5], [3, 4, 5]], cost: 12.5 });
    assert.equal(reader.take(), null);
    writer.publish([[1, 2], [3, 5], [0], [4, 5, 6]], 11);
    assert.equal(reader.take()?.cost, 11);
  });
});

describe('energy heuristic (warm start)', () => {
  it('greedy + local search and the iterated search give feasible plans, never below the optimum', () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [0.3, 0.1, 0.2, 0.1, 0.4, 0.1, 0.2],
      baseLoadKw: [2, 4, 1, 3, 0, 5, 2],
      demandChargePerKw: 0.3,
      peakLimitKw: 14,
      loads: [
        { id: 'a', powerKw: 6, durationSlots: 2 },
        { id: 'b', powerKw: 5, durationSlots: 2, preemptive: true, after: ['a'] },
        { id: 'c', powerKw: 7, durationSlots: 1, after: ['b'] },
        { id: 'd', powerKw: 4, durationSlots: 3 },
      ],
    };
    const best = bruteForce(p) as number;
    const m = compileProblem(p);
    const h = heuristic(m, 1000);
    const hPlan = toLoadSlots(m, h.slots);
    assert.equal(evaluate(p, hPlan).feasible, true);
    close(costByHand(p, hPlan) as number, h.cost);
    assert.ok(h.cost >= best - 1e-9);
    const i = iteratedSearch(m, h, 1000, 3);
    const iPlan = toLoadSlots(m, i.slots);
    assert.equal(evaluate(p, iPlan).feasible, true);
    assert.ok(i.cost <= h.cost + 1e-9 && i.cost >= best - 1e-9);
    // two-load moves start where one-load moves stop: never worse, still feasible
    const pair = heuristic(m, 1000, undefined, true);
    assert.equal(evaluate(p, toLoadSlots(m, pair.slots)).feasible, true);
    assert.ok(pair.cost <= h.cost + 1e-9 && pair.cost >= best - 1e-9);
    const ip = iteratedSearch(m, pair, 500, 3, undefined, undefined, true);
    assert.equal(evaluate(p, toLoadSlots(m, ip.slots)).feasible, true);
    assert.ok(ip.cost <= pair.cost + 1e-9 && ip.cost >= best - 1e-9);
  });
});

describe('energy: bad input', () => {
  const ok: EnergyProblem = {
    slotMinutes: 15,
    prices: [1, 2, 3, 4],
    loads: [{ id: 'a', powerKw: 1, durationSlots: 2 }],
  };
  const fails = (p: EnergyProblem, code: string, text: RegExp) =>
    assert.throws(
      () => evaluate(p, {}),
      (e: unknown) => e instanceof TaktError && e.code === code && text.test(e.message),
    );

  it('arrays of different lengths', () =>
    fails({ ...ok, baseLoadKw: [1, 2] }, 'energy.lengthMismatch', /baseLoadKw has 2 slots/));
  it('NaN names the slot', () => fails({ ...ok, prices: [1, NaN, 3, 4] }, 'energy.badNumber', /slot 1/));
  it('a load that cannot fit its window names the load', () =>
    fails(
      { ...ok, loads: [{ id: 'oven1', powerKw: 1, durationSlots: 3, release: 2 }] },
      'energy.cannotFit',
      /oven1/,
    ));
  it('precedence cycles name the loads', () =>
    fails(
      {
        ...ok,
        loads: [
          { id: 'a', powerKw: 1, durationSlots: 1, after: ['b'] },
          { id: 'b', powerKw: 1, durationSlots: 1, after: ['a'] },
        ],
      },
      'energy.cycle',
      /a -> b -> a|b -> a -> b/,
    ));
  it('unknown predecessor', () =>
    fails(
      { ...ok, loads: [{ id: 'a', powerKw: 1, durationSlots: 1, after: ['zz'] }] },
      'energy.unknownLoad',
      /"zz"/,
    ));
  it('a chain too long for the horizon names a load', () =>
    fails(
      {
        ...ok,
        loads: [
          { id: 'a', powerKw: 1, durationSlots: 3 },
          { id: 'b', powerKw: 1, durationSlots: 2, after: ['a'] },
        ],
      },
      'energy.cannotFit',
      /"[ab]"/,
    ));
  it('a cap below the base load names the slot', () =>
    fails({ ...ok, baseLoadKw: [1, 1, 9, 1], peakLimitKw: 5 }, 'energy.capInfeasible', /slot 2/));

  it('a cap the loads cannot meet is reported as infeasible', async () => {
    const p: EnergyProblem = {
      slotMinutes: 60,
      prices: [1, 1],
      peakLimitKw: 10,
      loads: [
        { id: 'a', powerKw: 8, durationSlots: 2 },
        { id: 'b', powerKw: 8, durationSlots: 1 },
      ],
    };
    await assert.rejects(
      optimise(p, { timeLimitMs: 5000 }),
      (e: unknown) => e instanceof TaktError && /peak cap 10/.test(e.message),
    );
  });

  it('a bad time limit is refused', async () => {
    await assert.rejects(
      optimise(ok, { timeLimitMs: -1 }),
      (e: unknown) => e instanceof TaktError && e.code === 'energy.badTimeLimit',
    );
  });
});

describe('energy.evaluate', () => {
  const p: EnergyProblem = {
    slotMinutes: 60,
    prices: [1, 2, 3, 4],
    peakLimitKw: 5,
    loads: [
      { id: 'a', powerKw: 3, durationSlots: 2, deadline: 3 },
      { id: 'b', powerKw: 3, durationSlots: 1, after: ['a'] },
    ],
  };
  it('costs a feasible plan', () => {
    const e = evaluate(p, { a: [0, 1], b: [2] });
    assert.equal(e.feasible, true);
    close(e.totalCost, 3 * 1 + 3 * 2 + 3 * 3);
    close(e.peakKw, 3);
  });
  it('lists every broken rule', () => {
    const e = evaluate(p, { a: [0, 2], b: [1] });
    assert.equal(e.feasible, false);
    assert.ok(e.violations.some((v) => /"a" is not preemptive/.test(v)));
    assert.ok(e.violations.some((v) => /"b" starts in slot 1 before "a"/.test(v)));
    const over = evaluate(p, { a: [1, 2], b: [2] });
    assert.ok(over.violations.some((v) => /slot 2: import 6 kW exceeds the peak cap/.test(v)));
    assert.ok(over.violations.some((v) => /"b" starts in slot 2 before "a"/.test(v)));
    const missing = evaluate(p, { a: [0, 1] });
    assert.ok(missing.violations.some((v) => /"b" is missing/.test(v)));
    const outside = evaluate(p, { a: [2, 3], b: [0] });
    assert.ok(outside.violations.some((v) => /"a" runs outside its window/.test(v)));
  });
});
