/**
 * A fast plan without the solver: greedy placement in precedence order, then local search that
 * re-places one load at a time at its best position given all the others (exact cost including the
 * demand charge, with a penalty for cap violations). Used as the MILP warm start and as the answer
 * when the time limit is too short for the solver.
 */
import { Rng } from '../core/random';
import type { Model } from './model';
import type { LoadSlots } from './types';

const PENALTY = 1e6;
/** Iterated local search: how much worse than the best a plan may be for the walk to go on from it. */
const ACCEPT = 0.001;

/** Exact cost of a shift profile plus a penalty per kW over the cap. */
export function penalised(m: Model, shift: Float64Array): number {
  let energy = 0;
  let peak = 0;
  let over = 0;
  for (let t = 0; t < m.T; t++) {
    const net = m.base[t] + shift[t] - m.ren[t];
    if (net > 0) {
      energy += m.prices[t] * net;
      if (net > peak) peak = net;
      if (m.cap !== null && net > m.cap) over += net - m.cap;
    } else energy += m.exportPrice * net;
  }
  return m.hours * energy + m.demandCharge * peak + PENALTY * over;
}

export interface HeuristicResult {
  slots: number[][];
  cost: number;
}

/** Greedy start (or `init`) followed by one-load re-placement local search within the budget. */
export function heuristic(m: Model, budgetMs = 500, init?: number[][], pairs = false): HeuristicResult {
  const t0 = Date.now();
  const n = m.loads.length;
  const shift = new Float64Array(m.T);
  const slots: number[][] = m.loads.map(() => []);
  const succ: number[][] = m.loads.map(() => []);
  m.loads.forEach((l, j) => l.after.forEach((k) => succ[k].push(j)));
  const placed = new Uint8Array(n);

  const apply = (j: number, sign: number) => {
    for (const t of slots[j]) shift[t] += sign * m.loads[j].power;
  };
  const bounds = (j: number): [number, number] => {
    const l = m.loads[j];
    let lo = l.es;
    let hi = l.lf;
    for (const k of l.after) if (placed[k]) lo = Math.max(lo, slots[k][slots[k].length - 1] + 1);
    for (const s of succ[j]) if (placed[s]) hi = Math.min(hi, slots[s][0]);
    return [lo, hi];
  };
  // best placement of load j (removed from shift) in [lo, hi)
  const place = (j: number) => {
    const l = m.loads[j];
    const [lo, hi] = bounds(j);
    if (!l.preemptive) {
      let best = Infinity;
      let bestS = lo;
      for (let s = lo; s + l.dur <= hi; s++) {
        for (let t = s; t < s + l.dur; t++) shift[t] += l.power;
        const c = penalised(m, shift);
        for (let t = s; t < s + l.dur; t++) shift[t] -= l.power;
        if (c < best - 1e-12) {
          best = c;
          bestS = s;
        }
      }
      slots[j] = Array.from({ length: l.dur }, (_, i) => bestS + i);
    } else {
      const chosen: number[] = [];
      const used = new Uint8Array(m.T);
      for (let i = 0; i < l.dur; i++) {
        let best = Infinity;
        let bestT = -1;
        for (let t = lo; t < hi; t++) {
          if (used[t]) continue;
          shift[t] += l.power;
          const c = penalised(m, shift);
          shift[t] -= l.power;
          if (c < best - 1e-12) {
            best = c;
            bestT = t;
          }
        }
        if (bestT < 0) bestT = lo + i; // window too narrow: cannot happen after validation
        used[bestT] = 1;
        shift[bestT] += l.power;
        chosen.push(bestT);
      }
      for (const t of chosen) shift[t] -= l.power;
      slots[j] = chosen.sort((a, b) => a - b);
    }
    apply(j, 1);
    placed[j] = 1;
  };

  // greedy: precedence order, biggest energy first among ready loads
  const order = [...m.topo];
  const ready = (j: number) => m.loads[j].after.every((k) => placed[k]);
  if (init) {
    init.forEach((sl, j) => {
      slots[j] = sl.slice();
      apply(j, 1);
      placed[j] = 1;
    });
    order.length = 0;
  }
  while (order.length) {
    let pick = -1;
    for (let i = 0; i < order.length; i++) {
      const j = order[i];
      if (!ready(j)) continue;
      const e = m.loads[j].power * m.loads[j].dur;
      if (pick < 0 || e > m.loads[order[pick]].power * m.loads[order[pick]].dur) pick = i;
    }
    const j = order.splice(pick, 1)[0];
    // successors are not placed yet: keep room for them via lf
    place(j);
  }
  let cost = penalised(m, shift);
  // local search: re-place each load given the others until no improvement or out of time
  for (let pass = 0; pass < 50 && Date.now() - t0 < budgetMs; pass++) {
    let improved = false;
    for (let j = 0; j < n && Date.now() - t0 < budgetMs; j++) {
      const old = slots[j];
      apply(j, -1);
      placed[j] = 0;
      place(j);
      const c = penalised(m, shift);
      if (c < cost - 1e-9) {
        cost = c;
        improved = true;
      } else if (c > cost + 1e-9) {
        apply(j, -1);
        slots[j] = old;
        apply(j, 1);
      }
    }
    if (!improved && pairs && Date.now() - t0 < budgetMs) improved = pairPass();
    if (!improved) break;
  }
  return { slots, cost: penalised(m, shift) };

  // two-load moves: take both out, put them back one after the other (either order), each at its
  // best place; this is what lets two loads trade places under a peak or a cap
  function pairPass(): boolean {
    let any = false;
    for (let j = 0; j < n && Date.now() - t0 < budgetMs; j++)
      for (let k = j + 1; k < n; k++) {
        if (m.loads[j].after.includes(k) || m.loads[k].after.includes(j)) continue;
        const oj = slots[j];
        const ok = slots[k];
        let done = false;
        for (const [a, b] of [
          [j, k],
          [k, j],
        ]) {
          apply(j, -1);
          apply(k, -1);
          placed[j] = 0;
          placed[k] = 0;
          place(a);
          place(b);
          const c = penalised(m, shift);
          if (c < cost - 1e-9) {
            cost = c;
            done = true;
            break;
          }
          apply(j, -1);
          apply(k, -1);
          slots[j] = oj;
          slots[k] = ok;
          apply(j, 1);
          apply(k, 1);
          placed[j] = 1;
          placed[k] = 1;
        }
        if (done) any = true;
      }
    return any;
  }
}

/**
 * Iterated local search from a plan: move a few random loads to random positions inside their
 * precedence bounds and re-run the local search. The walk goes on from the result when it is
 * cheaper than the current plan or within ACCEPT of the best (threshold acceptance: plain descent
 * stalls in the first deep valley of peak-bound instances, measured on fresh day instances, seeds
 * 1-4: up to 0.6% better plans in the same time). Deterministic for a seed; stops at the budget.
 */
export function iteratedSearch(
  m: Model,
  start: HeuristicResult,
  budgetMs: number,
  seed = 1,
  onImprove?: (r: HeuristicResult) => void,
  stopped: () => boolean = () => false,
  pairs = false,
): HeuristicResult {
  const t0 = Date.now();
  let idle = 0;
  const rng = new Rng(seed);
  let best = start;
  let cur = start;
  const n = m.loads.length;
  if (n === 0) return best;
  const succ: number[][] = m.loads.map(() => []);
  m.loads.forEach((l, j) => l.after.forEach((k) => succ[k].push(j)));
  // stops at the budget, on request, or after a long run of kicks without a better best
  while (Date.now() - t0 < budgetMs && !stopped() && idle < 100 + 50 * n) {
    idle++;
    const slots = cur.slots.map((x) => x.slice());
    const kicks = rng.int(1, Math.min(3, n));
    for (let k = 0; k < kicks; k++) {
      const j = rng.int(0, n - 1);
      const l = m.loads[j];
      let lo = l.es;
      let hi = l.lf;
      for (const p of l.after) lo = Math.max(lo, slots[p][slots[p].length - 1] + 1);
      for (const q of succ[j]) hi = Math.min(hi, slots[q][0]);
      if (hi - lo < l.dur) continue;
      if (!l.preemptive) {
        const st = rng.int(lo, hi - l.dur);
        slots[j] = Array.from({ length: l.dur }, (_, i) => st + i);
      } else {
        const pool = Array.from({ length: hi - lo }, (_, i) => lo + i);
        for (let i = pool.length - 1; i > 0; i--) {
          const r = rng.int(0, i);
          [pool[i], pool[r]] = [pool[r], pool[i]];
        }
        slots[j] = pool.slice(0, l.dur).sort((a, b) => a - b);
      }
    }
    const r = heuristic(m, Math.max(1, budgetMs - (Date.now() - t0)), slots, pairs);
    if (r.cost < best.cost - 1e-9) {
      best = r;
      cur = r;
      idle = 0;
      onImprove?.(r);
    } else if (r.cost < cur.cost - 1e-9 || r.cost <= best.cost + ACCEPT * Math.abs(best.cost)) cur = r;
  }
  return best;
}

/**
 * Rounds an LP-relaxation solution to a plan: in precedence order, each contiguous load starts where
 * its start variable is largest, each preemptive load takes its `dur` largest slots, both after
 * their predecessors end. Returns null when a load no longer fits (the caller keeps its plan).
 */
export function roundRelaxation(m: Model, value: (name: string) => number): number[][] | null {
  const slots: number[][] = m.loads.map(() => []);
  for (const j of m.topo) {
    const l = m.loads[j];
    let lo = l.es;
    for (const k of l.after) lo = Math.max(lo, slots[k][slots[k].length - 1] + 1);
    if (lo + l.dur > l.lf) return null;
    if (!l.preemptive) {
      let best = -Infinity;
      let start = lo;
      for (let st = lo; st + l.dur <= l.lf; st++) {
        const w = value(`s${j}_${st}`);
        if (w > best + 1e-9) {
          best = w;
          start = st;
        }
      }
      slots[j] = Array.from({ length: l.dur }, (_, i) => start + i);
    } else {
      const ranked: [number, number][] = [];
      for (let t = lo; t < l.lf; t++) ranked.push([value(`x${j}_${t}`), t]);
      ranked.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      slots[j] = ranked
        .slice(0, l.dur)
        .map((r) => r[1])
        .sort((a, b) => a - b);
    }
  }
  return slots;
}

export function toLoadSlots(m: Model, slots: number[][]): LoadSlots {
  const out: LoadSlots = {};
  m.loads.forEach((l, j) => (out[l.id] = slots[j].slice()));
  return out;
}
