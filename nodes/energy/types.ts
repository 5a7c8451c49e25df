/**
 * The energy contracts (issue 8): EnergyProblem in, EnergyPlan out. Slots are indices 0..T-1 of
 * `prices`; a load's window is [release, deadline) with the deadline exclusive.
 */

export interface ShiftableLoad {
  id: string;
  powerKw: number;
  durationSlots: number;
  /** First slot the load may run in (default 0). */
  release?: number;
  /** Exclusive end of the window (default T). */
  deadline?: number;
  /** true: any distinct slots in the window; false (default): one contiguous run. */
  preemptive?: boolean;
  /** Loads that must finish before this one starts. */
  after?: string[];
}

export interface EnergyProblem {
  slotMinutes: number;
  prices: number[];
  baseLoadKw?: number[];
  renewableKw?: number[];
  exportPrice?: number;
  peakLimitKw?: number | null;
  demandChargePerKw?: number;
  loads: ShiftableLoad[];
}

/** Slots each load runs in, by load id. */
export type LoadSlots = Record<string, number[]>;

export interface EnergyCost {
  importKw: number[];
  exportKw: number[];
  energyCost: number;
  demandCost: number;
  totalCost: number;
  peakKw: number;
}

export interface EnergyEvaluation extends EnergyCost {
  feasible: boolean;
  /** One plain sentence per broken rule, naming the load or slot. */
  violations: string[];
}

export interface EnergyPlan extends EnergyCost {
  loads: LoadSlots;
  /** true when the solver proved the plan optimal (within the relative gap asked for). */
  optimal: boolean;
  /** Relative gap between the plan's cost and the solver's lower bound (0 when proven). */
  gap: number;
  /** The lower bound on the total cost, when the solver gave one. */
  bound?: number;
  baselineCost: number;
  savings: number;
  /** Where the plan came from: the MILP solver or the heuristic alone. */
  source: 'milp' | 'heuristic';
  elapsedMs: number;
}

export interface OptimiseProgress {
  /** Cost of the best plan so far. */
  best: number;
  /** Solver bound, when known. */
  bound?: number;
  gap?: number;
  elapsedMs: number;
}

export interface OptimiseOptions {
  /** Wall-clock budget; the solver is asked for less because HiGHS overshoots. Default 10000. */
  timeLimitMs?: number;
  /** Relative MIP gap at which the solver stops and calls the plan optimal (default 1e-4, HiGHS' own default). */
  mipRelGap?: number;
  signal?: AbortSignal;
  onProgress?: (p: OptimiseProgress) => void;
  /**
   * Threads to use (default: 2 when the machine has two cores or more). With 2 and a demand charge
   * or a peak cap, a local search runs in a second thread beside the solver.
   */
  threads?: number;
  /** Solve in a worker thread (default true); false runs in this thread and blocks it. */
  worker?: boolean;
}
