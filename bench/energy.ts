/**
 * bench:energy: seeded random day-ahead (96 x 15 min) and week (672 slots) instances with TOU prices,
 * solar-shaped renewables and a daily base-load shape. Each instance is solved by energy.optimise
 * within the time limit and, when `cbc` (COIN-OR CBC) is on PATH, by CBC on the same LP text with its
 * own time limit; both plans are checked and costed by energy.evaluate.
 *
 * Flags: --day N (4) --week N (1) --seed S (1) --time-ms (10000) --week-time-ms (30000) --cbc-sec (60)
 *        --no-cbc
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaktError } from '../nodes/core/errors';
import { Rng } from '../nodes/core/random';
import { buildLp, slotsFromValues } from '../nodes/energy/lp';
import { compileProblem } from '../nodes/energy/model';
import { evaluate, optimise, warmUp } from '../nodes/energy/optimise';
import type { EnergyPlan, EnergyProblem, LoadSlots, ShiftableLoad } from '../nodes/energy/types';
import { finalLine, numberFlag, parseFlags, printTable } from './lib/cli';

type Kind = 'plain' | 'charge' | 'cap' | 'charge+cap';
const KINDS: Kind[] = ['plain', 'charge+cap', 'charge', 'cap'];

export function instance(seed: number, days: number, nLoads: number, kind: Kind): EnergyProblem {
  const rng = new Rng(seed);
  const T = 96 * days;
  const prices: number[] = [];
  const base: number[] = [];
  const ren: number[] = [];
  const solarKw = rng.uniform(60, 200);
  for (let t = 0; t < T; t++) {
    const day = Math.floor(t / 96);
    const hour = (t % 96) / 4;
    const weekend = days > 1 && day % 7 >= 5;
    let price = hour < 7 || hour >= 22 ? 0.1 : hour >= 17 && hour < 21 ? 0.32 : 0.18;
    if (weekend) price = Math.min(price, 0.14);
    prices.push(Math.round((price + rng.uniform(-0.01, 0.01)) * 10000) / 10000);
    const shift = hour >= 6 && hour < 22 && !weekend ? 1 : 0.45;
    base.push(Math.round((80 * shift + 20 + rng.uniform(-5, 5)) * 10) / 10);
    const sun = hour > 6 && hour < 20 ? Math.sin((Math.PI * (hour - 6)) / 14) : 0;
    const cloud = 0.6 + 0.4 * rng.next();
    ren.push(Math.round(solarKw * sun * cloud * 10) / 10);
  }
  const loads: ShiftableLoad[] = [];
  for (let j = 0; j < nLoads; j++) {
    const dur = rng.int(1, 12);
    const release = rng.int(0, T - dur - 8);
    const span = Math.min(T - release, dur + rng.int(8, days > 1 ? 200 : 60));
    const l: ShiftableLoad = {
      id: `L${j}`,
      powerKw: Math.round(rng.uniform(5, 60)),
      durationSlots: dur,
      release,
      deadline: release + span,
      preemptive: rng.next() < 0.3,
    };
    loads.push(l);
  }
  // precedence chains: a few loads follow an earlier one, with their window widened to fit
  for (let j = 1; j < nLoads; j++) {
    if (rng.next() < 0.2) {
      const k = j - 1;
      const p = loads[k];
      const l = loads[j];
      l.after = [p.id];
      l.release = Math.min(l.release ?? 0, (p.release ?? 0) + p.durationSlots);
      l.deadline = Math.min(
        T,
        Math.max(l.deadline ?? T, (p.release ?? 0) + p.durationSlots + l.durationSlots + 16),
      );
      if ((p.deadline ?? T) > T - l.durationSlots) p.deadline = T - l.durationSlots;
      if ((p.deadline ?? T) - (p.release ?? 0) < p.durationSlots)
        p.release = (p.deadline ?? T) - p.durationSlots;
    }
  }
  const p: EnergyProblem = {
    slotMinutes: 15,
    prices,
    baseLoadKw: base,
    renewableKw: ren,
    exportPrice: 0.04,
    loads,
  };
  // a chain the windows cannot hold: drop that load's precedence (deterministic, so seeds stay stable)
  for (let tries = 0; tries < nLoads; tries++) {
    try {
      compileProblem(p);
      break;
    } catch (err) {
      const bad = loads.find((l) => err instanceof TaktError && l.id === err.field);
      if (!bad) throw err;
      delete bad.after;
      for (const l of loads) if (l.after?.includes(bad.id)) delete l.after;
    }
  }
  if (kind === 'charge' || kind === 'charge+cap') p.demandChargePerKw = days > 1 ? 3 : 0.5;
  if (kind === 'cap' || kind === 'charge+cap') {
    // a tight cap: the highest base-minus-solar plus a share of the biggest load powers
    const net = base.map((b, t) => b - ren[t]);
    const top = [...loads].map((l) => l.powerKw).sort((a, b) => b - a);
    p.peakLimitKw = Math.round(Math.max(...net) + top[0] + 0.5 * (top[1] ?? 0));
  }
  return p;
}

interface Cbc {
  cost: number | null;
  status: string;
  ms: number;
}

function hasCbc(): boolean {
  return spawnSync('cbc', ['-quit'], { stdio: 'ignore' }).error === undefined;
}

function runCbc(p: EnergyProblem, sec: number): Cbc {
  const m = compileProblem(p);
  const dir = mkdtempSync(join(tmpdir(), 'takt-energy-'));
  try {
    writeFileSync(join(dir, 'model.lp'), buildLp(m).text);
    const t0 = Date.now();
    execFileSync('cbc', ['model.lp', 'sec', String(sec), 'threads', '1', 'solve', 'solu', 'out.txt'], {
      cwd: dir,
      stdio: 'ignore',
      timeout: (sec + 120) * 1000,
    });
    const ms = Date.now() - t0;
    const text = readFileSync(join(dir, 'out.txt'), 'utf8');
    const lines = text.split('\n');
    const status = lines[0].trim().split(/\s+-\s+/)[0];
    const vals = new Map<string, number>();
    for (const line of lines.slice(1)) {
      const f = line
        .trim()
        .replace(/^\*\*\s*/, '')
        .split(/\s+/);
      if (f.length >= 3) vals.set(f[1], Number(f[2]));
    }
    const slots = slotsFromValues(m, (n) => vals.get(n));
    const plan: LoadSlots = {};
    m.loads.forEach((l, j) => (plan[l.id] = slots[j]));
    const e = evaluate(p, plan);
    return { cost: e.feasible ? e.totalCost : null, status, ms };
  } catch (err) {
    return {
      cost: null,
      status: `error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      ms: 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const flags = parseFlags();
  const nDay = numberFlag(flags, 'day', 4);
  const nWeek = numberFlag(flags, 'week', 1);
  const seed = numberFlag(flags, 'seed', 1);
  const dayMs = numberFlag(flags, 'time-ms', 10000);
  const weekMs = numberFlag(flags, 'week-time-ms', 30000);
  const cbcSec = numberFlag(flags, 'cbc-sec', 60);
  const cbc = flags['no-cbc'] ? false : hasCbc();
  if (!cbc)
    console.log(
      'reference unavailable: COIN-OR CBC (`cbc`) not on PATH; reporting plans against the baseline only',
    );
  console.log('note: 2 shared cores; time-limited results (gap, vs CBC) are pessimistic under load');
  // as in a running node, the solver thread is started and HiGHS loaded before the first problem
  const w0 = Date.now();
  await warmUp();
  console.log(`solver thread warm in ${Date.now() - w0} ms (paid once per process, not per plan)`);
  const header = [
    'instance',
    'slots',
    'loads',
    'kind',
    'baseline',
    'cost',
    'savings%',
    'gap%',
    'ms',
    'firstPlanMs',
    'firstCost',
    'ok',
    'cbc',
    'cbcStatus',
    'vsCbc%',
  ];
  const rows: (string | number)[][] = [header];
  printTable([header]);
  const results: {
    savingsPct: number;
    gapPct: number;
    optimal: boolean;
    vsCbc: number | null;
    week: boolean;
    firstMs: number;
    firstVsFinalPct: number;
    ms: number;
    feasible: boolean;
  }[] = [];
  const jobs: { name: string; p: EnergyProblem; kind: Kind; limit: number; week: boolean }[] = [];
  for (let i = 0; i < nDay; i++) {
    const kind = KINDS[i % KINDS.length];
    jobs.push({
      name: `day-${seed}-${i}`,
      p: instance(seed * 1000 + i, 1, 40 - 4 * (i % 3), kind),
      kind,
      limit: dayMs,
      week: false,
    });
  }
  for (let i = 0; i < nWeek; i++) {
    const kind = KINDS[(i + 1) % KINDS.length];
    jobs.push({
      name: `week-${seed}-${i}`,
      p: instance(seed * 1000 + 500 + i, 7, 20, kind),
      kind,
      limit: weekMs,
      week: true,
    });
  }
  const noPlan: { name: string; code: string; cbcFound: boolean }[] = [];
  for (const job of jobs) {
    let firstMs = -1;
    let firstCost = Number.NaN;
    const t0 = Date.now();
    let plan: EnergyPlan;
    try {
      plan = await optimise(job.p, {
        timeLimitMs: job.limit,
        onProgress: (q) => {
          if (firstMs < 0) {
            firstMs = Date.now() - t0;
            firstCost = q.best;
          }
        },
      });
    } catch (err) {
      // a tight random cap can leave no plan (or none findable in the limit): say so, ask CBC too
      if (!(err instanceof TaktError)) throw err;
      const ref = cbc ? runCbc(job.p, cbcSec) : null;
      noPlan.push({ name: job.name, code: err.code, cbcFound: ref !== null && ref.cost !== null });
      const row = [job.name, job.p.prices.length, job.p.loads.length, job.kind, 'n/a', `none (${err.code})`];
      row.push(
        'n/a',
        'n/a',
        Date.now() - t0,
        firstMs,
        firstCost,
        'n/a',
        ref?.cost ?? 'n/a',
        ref?.status ?? 'n/a',
        'n/a',
      );
      rows.push(row);
      printTable([header, row].slice(1));
      continue;
    }
    const check = evaluate(job.p, plan.loads);
    const savingsPct = (100 * plan.savings) / Math.abs(plan.baselineCost || 1);
    const ref = cbc ? runCbc(job.p, cbcSec) : null;
    const vsCbc =
      ref && ref.cost !== null ? (100 * (plan.totalCost - ref.cost)) / Math.abs(ref.cost || 1) : null;
    const row = [
      job.name,
      job.p.prices.length,
      job.p.loads.length,
      job.kind,
      plan.baselineCost,
      plan.totalCost,
      savingsPct,
      Number.isFinite(plan.gap) ? 100 * plan.gap : 'n/a',
      plan.elapsedMs,
      firstMs,
      firstCost,
      check.feasible ? 'yes' : 'NO',
      ref?.cost ?? 'n/a',
      ref?.status ?? 'n/a',
      vsCbc ?? 'n/a',
    ];
    rows.push(row);
    printTable([header, row].slice(1));
    results.push({
      savingsPct,
      gapPct: 100 * plan.gap,
      optimal: plan.optimal,
      vsCbc,
      week: job.week,
      firstMs,
      firstVsFinalPct: (100 * (firstCost - plan.totalCost)) / Math.abs(plan.totalCost || 1),
      ms: plan.elapsedMs,
      feasible: check.feasible,
    });
  }
  console.log('');
  printTable(rows);
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
  const r4 = (v: number | null) => (v === null ? null : Math.round(v * 10000) / 10000);
  const vs = results.map((r) => r.vsCbc).filter((v): v is number => v !== null);
  finalLine({
    bench: 'energy',
    instances: results.length,
    dayInstances: nDay,
    weekInstances: nWeek,
    meanSavingsPct: r4(mean(results.map((r) => r.savingsPct))),
    meanGapPct: r4(mean(results.map((r) => r.gapPct).filter((g) => Number.isFinite(g)))),
    provenOptimal: results.filter((r) => r.optimal).length,
    allFeasible: results.every((r) => r.feasible),
    noPlan: noPlan.length,
    noPlanButCbcFoundOne: noPlan.filter((x) => x.cbcFound).length,
    reference: cbc ? 'cbc' : 'unavailable',
    cbcSec: cbc ? cbcSec : null,
    meanGapToCbcPct: r4(mean(vs)),
    maxGapToCbcPct: vs.length ? r4(Math.max(...vs)) : null,
    withinCbcPlus01Pct: vs.filter((v) => v <= 0.1 + 1e-9).length,
    maxWeekFirstPlanMs: r4(Math.max(-1, ...results.filter((r) => r.week).map((r) => r.firstMs))),
    maxWeekFirstPlanAboveFinalPct: r4(
      Math.max(
        -1,
        ...results.filter((r) => r.week && Number.isFinite(r.firstVsFinalPct)).map((r) => r.firstVsFinalPct),
      ),
    ),
    timeLimitMs: dayMs,
    weekTimeLimitMs: weekMs,
    seed,
  });
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
