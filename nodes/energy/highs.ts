/**
 * Runs the MILP in HiGHS (WebAssembly) in the calling thread: heuristic plan first (warm start and
 * fallback), then the solver with a wall-clock deadline enforced through the MIP interrupt callback.
 * Blocks its thread: optimise() calls it from a worker.
 */
import highsLoader from 'highs';
import { TaktError } from '../core/errors';
import { type HeuristicResult, heuristic, iteratedSearch, penalised, roundRelaxation } from './heuristic';
import { buildLp, slotsFromValues, variableValues } from './lp';
import { costOf, type Model, relativeGap, shiftOf } from './model';
import type { SharedPlan } from './shared-plan';

type Highs = Awaited<ReturnType<typeof highsLoader>>;
let loaded: Promise<Highs> | null = null;
export function loadHighs(): Promise<Highs> {
  if (!loaded) loaded = highsLoader();
  return loaded;
}
/** Forget the module (after a wasm abort the instance cannot be reused). */
export function resetHighs(): void {
  loaded = null;
}

export interface CoreResult {
  slots: number[][];
  cost: number;
  optimal: boolean;
  gap: number;
  bound?: number;
  source: 'milp' | 'heuristic';
}

export interface CoreHooks {
  deadline: number;
  mipRelGap: number;
  stopped: () => boolean;
  onPlan?: (slots: number[][], cost: number, bound?: number) => void;
  /** The local search runs in another thread (optimise() with threads >= 2): skip it here. */
  searchElsewhere?: boolean;
  /** Plans that thread publishes, handed to the solver while it runs. */
  shared?: SharedPlan;
}

/** One HiGHS run of an LP text: status, bound and the plan read back (null when none). */
interface RunResult {
  infeasible: boolean;
  optimal: boolean;
  bound: number;
  objective: number;
  slots: number[][] | null;
  /** Column values by name (absent names read 0), when the run left a solution. */
  value: ((name: string) => number) | null;
}

interface RunOptions {
  timeLimitS: number;
  mipRelGap: number;
  warm?: number[][] | undefined;
  peakLb?: number;
  stopped: () => boolean;
  deadline: number;
  /** Improving solutions of this model (only meaningful when it is the full problem). */
  onImproving?: ((slots: number[][], bound: number) => void) | undefined;
  /** A plan found elsewhere to hand to the solver at its next user-solution checkpoint, or null. */
  offer?: (() => number[][] | null) | undefined;
}

function run(highs: Highs, m: Model, text: string, o: RunOptions): RunResult {
  return highs.withModel({ format: 'lp', data: text }, (model) => {
    model.options.set({
      output_flag: false,
      mip_rel_gap: o.mipRelGap,
      time_limit: Math.max(0.05, o.timeLimitS),
    });
    const n = model.getLp().numCols;
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(model.getColName(i));
    const byName = (values: ArrayLike<number>) => {
      const map = new Map<string, number>();
      names.forEach((nm, i) => map.set(nm, values[i]));
      return map;
    };
    const read = (values: ArrayLike<number>) => {
      const map = byName(values);
      return slotsFromValues(m, (nm) => map.get(nm));
    };
    if (o.warm) {
      const v = variableValues(m, o.warm, o.peakLb ?? 0);
      model.setSolution({ colValue: Float64Array.from(names, (nm) => v.get(nm) ?? 0) });
    }
    const cb = highs.constants.callbackType;
    model.run({
      [cb.mipInterrupt](event) {
        if (o.stopped() || Date.now() >= o.deadline) event.interrupt();
      },
      [cb.mipImprovingSolution](event) {
        const sol = event.data.mip_solution;
        if (sol && o.onImproving) o.onImproving(read(sol), event.data.mip_dual_bound ?? -Infinity);
      },
      [cb.mipUserSolution](event) {
        const plan = o.offer?.();
        if (!plan) return;
        const v = variableValues(m, plan, o.peakLb ?? 0);
        event.setSolution(Float64Array.from(names, (nm) => v.get(nm) ?? 0));
      },
    });
    const status = model.getModelStatus();
    const st = highs.constants.modelStatus;
    if (status === st.infeasible)
      return {
        infeasible: true,
        optimal: false,
        bound: Infinity,
        objective: Infinity,
        slots: null,
        value: null,
      };
    let slots: number[][] | null = null;
    let value: RunResult['value'] = null;
    try {
      const sol = model.getSolution();
      if (sol.colValue && sol.colValue.length === n) {
        const map = byName(sol.colValue);
        slots = slotsFromValues(m, (nm) => map.get(nm));
        value = (nm) => map.get(nm) ?? 0;
      }
    } catch {
      slots = null;
    }
    return {
      infeasible: false,
      optimal: status === st.optimal,
      bound: Number(model.info.get('mip_dual_bound')),
      objective: Number(model.info.get('objective_function_value')),
      slots,
      value,
    };
  });
}

/** Iterated local search with two-load moves from `start` (or from the greedy plan when absent). */
export function searchPeak(
  m: Model,
  start: HeuristicResult | null,
  budgetMs: number,
  onImprove: (r: HeuristicResult) => void,
  stopped: () => boolean,
): HeuristicResult {
  const t0 = Date.now();
  const from = start ?? heuristic(m, Math.min(500, budgetMs / 4), undefined, true);
  if (!start && from.cost < 1e5) onImprove(from);
  return iteratedSearch(
    m,
    from,
    Math.max(1, budgetMs - (Date.now() - t0)),
    1,
    (r) => {
      if (r.cost < 1e5) onImprove(r);
    },
    stopped,
    true,
  );
}

const complete = (m: Model, slots: number[][] | null): slots is number[][] =>
  slots !== null && slots.every((s, j) => s.length === m.loads[j].dur);

export async function solveCore(m: Model, hooks: CoreHooks): Promise<CoreResult> {
  const total = Math.max(0, hooks.deadline - Date.now());
  const peakTerm = m.demandCharge > 0 || m.cap !== null;
  const h = heuristic(m, Math.min(500, total * 0.1));
  if (h.cost < 1e5) hooks.onPlan?.(h.slots, h.cost);
  let best: CoreResult = { slots: h.slots, cost: h.cost, optimal: false, gap: Infinity, source: 'heuristic' };
  if (m.loads.length === 0) return { ...best, optimal: true, gap: 0 };
  if (hooks.stopped() || Date.now() >= hooks.deadline - 50) return finish(best, h.cost < 1e5, m);

  const highs = await loadHighs();
  const left = () => (hooks.deadline - Date.now()) / 1000;
  const solverTime = () => left() - Math.min(1, 0.1 * left());
  // adopts a cheaper plan and reports it; a plan that comes with a solver bound is reported anyway,
  // for the bound
  const consider = (slots: number[][] | null, source: CoreResult['source'], bound?: number) => {
    if (!complete(m, slots)) return;
    const cost = penalised(m, shiftOf(m, slots));
    const better = cost < best.cost - 1e-9;
    if (better) best = { ...best, slots, cost, source };
    if (cost < 1e5 && (better || bound !== undefined)) hooks.onPlan?.(slots, cost, bound);
  };

  // the best plan the local-search thread has published so far, if any
  const takeShared = () => {
    const p = hooks.shared?.take();
    if (p) consider(p.slots, 'heuristic');
  };

  // LP rounding: the relaxation of the whole model, rounded and polished by local search, is often
  // a far better warm start than the greedy (plain day, seed 1: 489.5 against 499.7, optimum 489.0),
  // and the solver proves optimality as soon as its bound meets a good incumbent.
  const relaxed = run(highs, m, buildLp(m, { relax: true }).text, {
    timeLimitS: Math.max(0.05, 0.1 * solverTime()),
    mipRelGap: hooks.mipRelGap,
    stopped: hooks.stopped,
    deadline: hooks.deadline,
  });
  const rounded = relaxed.value ? roundRelaxation(m, relaxed.value) : null;
  if (rounded) consider(heuristic(m, Math.min(300, 0.05 * total), rounded, peakTerm).slots, 'heuristic');

  if (peakTerm && !hooks.searchElsewhere && !hooks.stopped()) {
    // A peak term (charge or cap) makes loads compete for the room under the peak, where HiGHS
    // finds improving plans slowly and the iterated local search with two-load moves often does
    // better. With a second core it runs beside the solver (searchPeak); here it takes a share.
    const ils = searchPeak(
      m,
      { slots: best.slots, cost: best.cost },
      Math.min(4000, 0.3 * total),
      (r) => hooks.onPlan?.(r.slots, r.cost),
      hooks.stopped,
    );
    consider(ils.slots, 'heuristic');
  }
  if (hooks.stopped() || left() < 0.1) return finish(best, best.cost < 1e5, m);

  // Demand charge: every plan cheaper than the incumbent has peak <= (incumbent - energy bound) /
  // charge, with the energy bound from the LP relaxation of the energy-only problem. That cutoff,
  // an upper bound on the peak variable far below any cap a user sets, is what lets the solver
  // prove week-long instances (seed-1 week: proven in seconds instead of stalling at the root; as a
  // cap on every slot's import instead it was 5x slower, measured). Before it, the energy-only
  // problem capped at the incumbent's own peak ("the best energy plan for this peak") is solved: a
  // better incumbent, and so a tighter cutoff, cheaply.
  let peakCut: number | null = null;
  let energyLb = -Infinity;
  const energyOnly: Model = { ...m, demandCharge: 0 };
  if (m.demandCharge > 0 && best.cost < 1e5) {
    const relax = run(highs, energyOnly, buildLp(energyOnly, { relax: true }).text, {
      timeLimitS: Math.max(0.05, 0.2 * solverTime()),
      mipRelGap: hooks.mipRelGap,
      stopped: hooks.stopped,
      deadline: hooks.deadline,
    });
    if (!relax.infeasible && relax.optimal && Number.isFinite(relax.objective)) energyLb = relax.objective;
    if (Number.isFinite(energyLb) && !hooks.stopped() && left() > 0.2) {
      takeShared();
      const peak = costOf(m, shiftOf(m, best.slots)).peakKw;
      const atPeak: Model = { ...energyOnly, cap: peak + 1e-7 };
      const sub = run(highs, atPeak, buildLp(atPeak).text, {
        timeLimitS: Math.max(0.05, 0.3 * solverTime()),
        mipRelGap: hooks.mipRelGap,
        warm: best.slots,
        stopped: hooks.stopped,
        deadline: hooks.deadline,
      });
      consider(sub.slots, 'milp');
    }
  }
  takeShared();
  if (Number.isFinite(energyLb)) {
    const slack = 1e-6 * Math.max(1, Math.abs(best.cost));
    const cut = (best.cost - energyLb + slack) / m.demandCharge;
    if (m.cap === null || cut < m.cap) peakCut = cut;
  }
  if (hooks.stopped() || left() < 0.1) return finish(best, best.cost < 1e5, m);

  const lp = buildLp(m, peakCut === null ? {} : { peakUb: peakCut });
  const result = run(highs, m, lp.text, {
    timeLimitS: solverTime(),
    mipRelGap: hooks.mipRelGap,
    warm: best.cost < 1e5 ? best.slots : undefined,
    peakLb: lp.peakLb,
    stopped: hooks.stopped,
    deadline: hooks.deadline,
    onImproving: (slots, bound) => consider(slots, 'milp', bound),
    offer: () => {
      const p = hooks.shared?.take();
      if (!p || p.cost >= best.cost - 1e-9) return null;
      consider(p.slots, 'heuristic');
      return p.slots;
    },
  });
  if (result.infeasible) {
    // with the peak cutoff, "infeasible" means nothing beats the incumbent: it is optimal
    if (peakCut !== null) return finish({ ...best, optimal: true, gap: 0, bound: best.cost }, true, m);
    throw new TaktError(
      'energy.infeasible',
      m.cap !== null
        ? `no plan keeps import under the peak cap ${m.cap} kW while fitting every load in its window`
        : 'no plan fits every load in its window and precedence',
      m.cap !== null ? 'peakLimitKw' : 'loads',
    );
  }
  consider(result.slots, 'milp');
  if (best.source === 'milp' && Date.now() < hooks.deadline) {
    // polish the solver's plan: one-load moves with the exact cost
    const pol = heuristic(m, Math.min(300, hooks.deadline - Date.now()), best.slots);
    if (pol.cost < best.cost - 1e-9) best = { ...best, slots: pol.slots, cost: pol.cost };
  }
  // the bound of the cut model holds for the original too: a plan outside it costs at least the
  // incumbent the cutoff was taken from
  const bound = Number.isFinite(result.bound) ? Math.min(result.bound, best.cost) : undefined;
  const gap = bound === undefined ? Infinity : relativeGap(best.cost, bound);
  best = { ...best, gap, optimal: result.optimal || gap <= hooks.mipRelGap };
  if (bound !== undefined) best.bound = bound;
  if (best.optimal && best.gap > hooks.mipRelGap) best.gap = 0;
  return finish(best, best.cost < 1e5, m);
}

function finish(r: CoreResult, feasible: boolean, m: Model): CoreResult {
  if (!feasible)
    throw new TaktError(
      'energy.noPlan',
      m.cap !== null
        ? `no plan under the peak cap ${m.cap} kW was found in the time limit (the cap may be infeasible)`
        : 'no feasible plan was found in the time limit',
      m.cap !== null ? 'peakLimitKw' : 'loads',
    );
  return r;
}
