/**
 * Validation and normalisation of an EnergyProblem into a compact model (arrays filled in, windows
 * narrowed by precedence), plus exact cost evaluation of any plan. Bad input throws a TaktError that
 * names the load or slot.
 */
import { TaktError } from '../core/errors';
import type { EnergyCost, EnergyEvaluation, EnergyProblem, LoadSlots } from './types';

export interface Load {
  id: string;
  power: number;
  dur: number;
  release: number;
  deadline: number;
  preemptive: boolean;
  /** Indices of predecessors. */
  after: number[];
  /** Earliest start and latest end after precedence propagation. */
  es: number;
  lf: number;
}

export interface Model {
  T: number;
  hours: number;
  prices: number[];
  base: number[];
  ren: number[];
  exportPrice: number;
  cap: number | null;
  demandCharge: number;
  loads: Load[];
  /** Loads in an order where predecessors come first. */
  topo: number[];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function series(p: EnergyProblem, key: 'baseLoadKw' | 'renewableKw', T: number): number[] {
  const a = p[key];
  if (a === undefined || a === null) return new Array<number>(T).fill(0);
  if (!Array.isArray(a)) throw new TaktError('energy.badSeries', `${key} must be an array of numbers`, key);
  if (a.length !== T)
    throw new TaktError(
      'energy.lengthMismatch',
      `${key} has ${a.length} slots but prices has ${T}: arrays must have the same length`,
      key,
    );
  a.forEach((v, t) => {
    if (!finite(v))
      throw new TaktError('energy.badNumber', `${key}[${t}] (slot ${t}) is not a finite number`, key);
  });
  return a.slice();
}

/** Checks a problem and returns its model; throws TaktError naming the field, load or slot. */
export function compileProblem(p: EnergyProblem): Model {
  if (!p || typeof p !== 'object') throw new TaktError('energy.badProblem', 'the problem must be an object');
  if (!finite(p.slotMinutes) || p.slotMinutes <= 0)
    throw new TaktError('energy.badSlot', 'slotMinutes must be a number > 0', 'slotMinutes');
  if (!Array.isArray(p.prices) || p.prices.length === 0)
    throw new TaktError('energy.badPrices', 'prices must be a non-empty array', 'prices');
  const T = p.prices.length;
  p.prices.forEach((v, t) => {
    if (!finite(v))
      throw new TaktError('energy.badNumber', `prices[${t}] (slot ${t}) is not a finite number`, 'prices');
  });
  const base = series(p, 'baseLoadKw', T);
  const ren = series(p, 'renewableKw', T);
  const exportPrice = p.exportPrice ?? 0;
  if (!finite(exportPrice))
    throw new TaktError('energy.badNumber', 'exportPrice is not a finite number', 'exportPrice');
  const demandCharge = p.demandChargePerKw ?? 0;
  if (!finite(demandCharge) || demandCharge < 0)
    throw new TaktError(
      'energy.badNumber',
      'demandChargePerKw must be a finite number >= 0',
      'demandChargePerKw',
    );
  const cap = p.peakLimitKw ?? null;
  if (cap !== null && (!finite(cap) || cap < 0))
    throw new TaktError(
      'energy.badNumber',
      'peakLimitKw must be null or a finite number >= 0',
      'peakLimitKw',
    );
  if (!Array.isArray(p.loads)) throw new TaktError('energy.badLoads', 'loads must be an array', 'loads');

  const index = new Map<string, number>();
  const loads: Load[] = p.loads.map((l, j) => {
    const where = `loads[${j}]`;
    if (!l || typeof l.id !== 'string' || l.id === '')
      throw new TaktError('energy.badLoad', `${where} needs a non-empty string id`, where);
    const id = l.id;
    if (index.has(id)) throw new TaktError('energy.duplicateLoad', `load "${id}" appears twice`, id);
    index.set(id, j);
    if (!finite(l.powerKw) || l.powerKw < 0)
      throw new TaktError('energy.badLoad', `load "${id}": powerKw must be a finite number >= 0`, id);
    const dur = l.durationSlots;
    if (!Number.isInteger(dur) || dur < 1)
      throw new TaktError('energy.badLoad', `load "${id}": durationSlots must be an integer >= 1`, id);
    const release = l.release ?? 0;
    const deadline = l.deadline ?? T;
    if (!Number.isInteger(release) || release < 0)
      throw new TaktError('energy.badLoad', `load "${id}": release must be an integer slot >= 0`, id);
    if (!Number.isInteger(deadline) || deadline > T)
      throw new TaktError('energy.badLoad', `load "${id}": deadline must be an integer slot <= ${T}`, id);
    if (deadline - release < dur)
      throw new TaktError(
        'energy.cannotFit',
        `load "${id}" cannot fit its window: ${dur} slots in [${release}, ${deadline})`,
        id,
      );
    if (l.after !== undefined && !Array.isArray(l.after))
      throw new TaktError('energy.badLoad', `load "${id}": after must be an array of load ids`, id);
    return {
      id,
      power: l.powerKw,
      dur,
      release,
      deadline,
      preemptive: l.preemptive === true,
      after: [],
      es: release,
      lf: deadline,
    };
  });
  p.loads.forEach((l, j) => {
    for (const a of l.after ?? []) {
      const k = index.get(a);
      if (k === undefined)
        throw new TaktError(
          'energy.unknownLoad',
          `load "${l.id}" comes after unknown load "${String(a)}"`,
          l.id,
        );
      if (k === j) throw new TaktError('energy.cycle', `load "${l.id}" cannot come after itself`, l.id);
      if (!loads[j].after.includes(k)) loads[j].after.push(k);
    }
  });
  // topological order (DFS, reporting a load on a cycle)
  const state = new Uint8Array(loads.length);
  const topo: number[] = [];
  const visit = (j: number, path: number[]) => {
    if (state[j] === 2) return;
    if (state[j] === 1) {
      const cyc = path.slice(path.indexOf(j)).map((k) => loads[k].id);
      throw new TaktError(
        'energy.cycle',
        `precedence cycle: ${[...cyc, loads[j].id].join(' -> ')}`,
        loads[j].id,
      );
    }
    state[j] = 1;
    for (const k of loads[j].after) visit(k, [...path, j]);
    state[j] = 2;
    topo.push(j);
  };
  for (let j = 0; j < loads.length; j++) visit(j, []);
  // windows narrowed by precedence
  for (const j of topo)
    for (const k of loads[j].after) loads[j].es = Math.max(loads[j].es, loads[k].es + loads[k].dur);
  for (let i = topo.length - 1; i >= 0; i--) {
    const j = topo[i];
    for (const k of loads[j].after) loads[k].lf = Math.min(loads[k].lf, loads[j].lf - loads[j].dur);
  }
  for (const l of loads)
    if (l.lf - l.es < l.dur)
      throw new TaktError(
        'energy.cannotFit',
        `load "${l.id}" cannot fit its window once its predecessors and successors are placed (earliest start ${l.es}, latest end ${l.lf})`,
        l.id,
      );
  if (cap !== null)
    for (let t = 0; t < T; t++)
      if (base[t] - ren[t] > cap + 1e-9)
        throw new TaktError(
          'energy.capInfeasible',
          `peak cap ${cap} kW is infeasible in slot ${t}: base load minus renewables is already ${base[t] - ren[t]} kW`,
          'peakLimitKw',
        );
  return {
    T,
    hours: p.slotMinutes / 60,
    prices: p.prices.slice(),
    base,
    ren,
    exportPrice,
    cap,
    demandCharge,
    loads,
    topo,
  };
}

/** Cost of a per-slot load profile (kW of shiftable load per slot). */
/** Shiftable power per slot for a plan given as slots per load (in model order). */
export function shiftOf(m: Model, slots: number[][]): Float64Array {
  const shift = new Float64Array(m.T);
  m.loads.forEach((l, j) => slots[j].forEach((t) => (shift[t] += l.power)));
  return shift;
}

/** Relative gap between a plan's cost and a lower bound (0 when the bound meets the cost). */
export function relativeGap(cost: number, bound: number): number {
  return Math.max(0, (cost - bound) / Math.max(1e-9, Math.abs(cost)));
}

export function costOf(m: Model, shift: ArrayLike<number>): EnergyCost {
  const importKw: number[] = [];
  const exportKw: number[] = [];
  let energy = 0;
  let peak = 0;
  for (let t = 0; t < m.T; t++) {
    const net = m.base[t] + shift[t] - m.ren[t];
    const imp = net > 0 ? net : 0;
    const exp = net < 0 ? -net : 0;
    importKw.push(imp);
    exportKw.push(exp);
    energy += m.hours * (m.prices[t] * imp - m.exportPrice * exp);
    if (imp > peak) peak = imp;
  }
  const demandCost = m.demandCharge * peak;
  return { importKw, exportKw, energyCost: energy, demandCost, totalCost: energy + demandCost, peakKw: peak };
}

/** Every load started at its release (preemptive ones in their first slots). */
export function baselineSlots(m: Model): LoadSlots {
  const out: LoadSlots = {};
  for (const l of m.loads) out[l.id] = Array.from({ length: l.dur }, (_, i) => l.release + i);
  return out;
}

/** Recomputes cost and checks the rules for any plan (the problem itself must be valid). */
export function evaluateModel(m: Model, plan: LoadSlots): EnergyEvaluation {
  const violations: string[] = [];
  const shift = new Float64Array(m.T);
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const l of m.loads) {
    const slots = plan[l.id];
    if (!Array.isArray(slots)) {
      violations.push(`load "${l.id}" is missing from the plan`);
      continue;
    }
    const s = [...slots].sort((a, b) => a - b);
    let ok = true;
    for (let i = 0; i < s.length; i++) {
      const t = s[i];
      if (!Number.isInteger(t) || t < 0 || t >= m.T) {
        violations.push(`load "${l.id}": slot ${String(t)} is not a slot of the horizon`);
        ok = false;
      } else if (i > 0 && s[i - 1] === t) {
        violations.push(`load "${l.id}": slot ${t} is listed twice`);
        ok = false;
      }
    }
    if (!ok) continue;
    if (s.length !== l.dur) violations.push(`load "${l.id}" runs ${s.length} slots but needs ${l.dur}`);
    if (s.length && (s[0] < l.release || s[s.length - 1] >= l.deadline))
      violations.push(`load "${l.id}" runs outside its window [${l.release}, ${l.deadline})`);
    if (!l.preemptive && s.length && s[s.length - 1] - s[0] !== s.length - 1)
      violations.push(`load "${l.id}" is not preemptive but its slots are not contiguous`);
    for (const t of s) shift[t] += l.power;
    if (s.length) {
      first.set(l.id, s[0]);
      last.set(l.id, s[s.length - 1]);
    }
  }
  for (const l of m.loads)
    for (const k of l.after) {
      const p = m.loads[k];
      const f = first.get(l.id);
      const e = last.get(p.id);
      if (f !== undefined && e !== undefined && f <= e)
        violations.push(
          `load "${l.id}" starts in slot ${f} before "${p.id}" finishes (its last slot is ${e})`,
        );
    }
  const cost = costOf(m, shift);
  if (m.cap !== null)
    cost.importKw.forEach((v, t) => {
      if (v > (m.cap as number) + 1e-6)
        violations.push(`slot ${t}: import ${v} kW exceeds the peak cap ${m.cap} kW`);
    });
  return { ...cost, feasible: violations.length === 0, violations };
}
