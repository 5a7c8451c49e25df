/**
 * Runs the MILP in HiGHS (WebAssembly) in the calling thread: heuristic plan first (warm start and
 * fallback), then the solver with a wall-clock deadline enforced through the MIP interrupt callback.
 * Blocks its thread: optimise() calls it from a worker.
 */
import highsLoader from 'highs';
import { TaktError } from '../core/errors';
import { heuristic, iteratedSearch, penalised } from './heuristic';
import { buildLp, slotsFromValues, variableValues } from './lp';
import type { Model } from './model';

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

/** Horizon from which the iterated local search runs before the solver. */
const ILS_MIN_SLOTS = 288;

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
}

const shiftOf = (m: Model, slots: number[][]) => {
  const s = new Float64Array(m.T);
  m.loads.forEach((l, j) => slots[j].forEach((t) => (s[t] += l.power)));
  return s;
};

export async function solveCore(m: Model, hooks: CoreHooks): Promise<CoreResult> {
  const total = Math.max(0, hooks.deadline - Date.now());
  let h = heuristic(m, Math.min(500, total * 0.1));
  if (h.cost < 1e5) hooks.onPlan?.(h.slots, h.cost);
  if ((m.demandCharge > 0 || m.cap !== null) && m.T >= ILS_MIN_SLOTS) {
    // long horizons with a peak term: HiGHS spends its time at the root node, so improve the warm
    // start first (on day-ahead instances the solver does better with that time, measured)
    const better = iteratedSearch(
      m,
      h,
      Math.min(4000, total * 0.15),
      1,
      (r) => {
        if (r.cost < 1e5) hooks.onPlan?.(r.slots, r.cost);
      },
      hooks.stopped,
    );
    h = better;
  }
  const hFeasible = h.cost < 1e5;
  let best: CoreResult = { slots: h.slots, cost: h.cost, optimal: false, gap: Infinity, source: 'heuristic' };
  if (m.loads.length === 0) return { ...best, optimal: true, gap: 0 };
  if (hooks.stopped() || Date.now() >= hooks.deadline - 50) return finish(best, hFeasible, m);

  const highs = await loadHighs();
  const lp = buildLp(m);
  const remainingS = (hooks.deadline - Date.now()) / 1000;
  const result = highs.withModel({ format: 'lp', data: lp.text }, (model) => {
    model.options.set({
      output_flag: false,
      mip_rel_gap: hooks.mipRelGap,
      time_limit: Math.max(0.05, remainingS - Math.min(1, 0.1 * remainingS)),
    });
    const n = model.getLp().numCols;
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(model.getColName(i));
    if (hFeasible) {
      const v = variableValues(m, h.slots, lp.peakLb);
      model.setSolution({ colValue: Float64Array.from(names, (nm) => v.get(nm) ?? 0) });
    }
    const cb = highs.constants.callbackType;
    model.run({
      [cb.mipInterrupt](event) {
        if (hooks.stopped() || Date.now() >= hooks.deadline) event.interrupt();
      },
      [cb.mipImprovingSolution](event) {
        const sol = event.data.mip_solution;
        if (!sol || !hooks.onPlan) return;
        const map = new Map<string, number>();
        names.forEach((nm, i) => map.set(nm, sol[i]));
        const slots = slotsFromValues(m, (nm) => map.get(nm));
        hooks.onPlan(slots, penalised(m, shiftOf(m, slots)), event.data.mip_dual_bound);
      },
    });
    const status = model.getModelStatus();
    const st = highs.constants.modelStatus;
    if (status === st.infeasible) return { infeasible: true as const };
    const bound = Number(model.info.get('mip_dual_bound'));
    let slots: number[][] | null = null;
    try {
      const sol = model.getSolution();
      if (sol.colValue && sol.colValue.length === n) {
        const map = new Map<string, number>();
        names.forEach((nm, i) => map.set(nm, sol.colValue[i]));
        slots = slotsFromValues(m, (nm) => map.get(nm));
      }
    } catch {
      slots = null;
    }
    return { infeasible: false as const, slots, bound, optimal: status === st.optimal };
  });
  if (result.infeasible) {
    throw new TaktError(
      'energy.infeasible',
      m.cap !== null
        ? `no plan keeps import under the peak cap ${m.cap} kW while fitting every load in its window`
        : 'no plan fits every load in its window and precedence',
      m.cap !== null ? 'peakLimitKw' : 'loads',
    );
  }
  if (result.slots && result.slots.every((s, j) => s.length === m.loads[j].dur)) {
    const cost = penalised(m, shiftOf(m, result.slots));
    if (cost < best.cost - 1e-9 || best.cost >= 1e5)
      best = { ...best, slots: result.slots, cost, source: 'milp' };
  }
  if (best.source === 'milp' && Date.now() < hooks.deadline) {
    // polish the solver's plan: one-load moves with the exact cost
    const pol = heuristic(m, Math.min(300, hooks.deadline - Date.now()), best.slots);
    if (pol.cost < best.cost - 1e-9) best = { ...best, slots: pol.slots, cost: pol.cost };
  }
  const bound = Number.isFinite(result.bound) ? result.bound : undefined;
  const gap =
    bound === undefined ? Infinity : Math.max(0, (best.cost - bound) / Math.max(1e-9, Math.abs(best.cost)));
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
