/**
 * The scheduling contract (issue 12): a SchedulingProblem in, a Schedule out. Times are integers in
 * the user's unit (minutes, seconds, ...); the engine never assumes a unit.
 */

export interface TimeWindow {
  start: number;
  end: number;
  reason?: string;
}

export interface Machine {
  id: string;
  /** Half-open windows [start, end) in which the machine runs nothing. */
  unavailable?: TimeWindow[];
}

export interface MaterialSupply {
  at: number;
  qty: number;
}

export interface Material {
  id: string;
  /** Deliveries: `qty` more becomes available at `at`. */
  available: MaterialSupply[];
}

export interface Alternative {
  machine: string;
  duration: number;
}

export interface Operation {
  alternatives: Alternative[];
  setupFamily?: string;
  consumes?: { material: string; qty: number }[];
}

export interface Job {
  id: string;
  release?: number;
  due?: number;
  /** Higher runs earlier in the constructive start and in ties; default 1. */
  priority?: number;
  /** Weight of this job's tardiness in the objective; default 1. */
  weight?: number;
  operations: Operation[];
}

export interface SetupRule {
  from: string;
  to: string;
  time: number;
}

export interface ScheduledOperation {
  job: string;
  op: number;
  machine: string;
  start: number;
  end: number;
}

export interface Objective {
  makespan?: number;
  weightedTardiness?: number;
  /**
   * Weight per time unit that an operation's start moves away from the previous plan (used when
   * solving with `SolveOptions.initial`, as live rescheduling does); default 0.
   */
  stability?: number;
}

export interface SchedulingProblem {
  machines: Machine[];
  materials?: Material[];
  jobs: Job[];
  /** Sequence-dependent setup times per machine id. */
  setup?: Record<string, SetupRule[]>;
  /** Nothing that is not frozen starts before `now`. */
  now?: number;
  /** Operations already started or done: they stay exactly as given. */
  frozen?: ScheduledOperation[];
  objective?: Objective;
  timeLimitMs?: number;
}

export type ScheduleStatus = 'optimal' | 'feasible';

export interface Schedule {
  operations: ScheduledOperation[];
  makespan: number;
  weightedTardiness: number;
  lateJobs: number;
  /** A lower bound on the objective value (for the default objective: on the makespan). */
  lowerBound: number;
  status: ScheduleStatus;
  elapsedMs: number;
  /** Objective value: makespan weight x makespan + tardiness weight x weighted tardiness. */
  objectiveValue?: number;
  /** Milliseconds from the start of the solve to the first time the returned plan was found. */
  timeToBestMs?: number;
  /** Tabu-search iterations over all workers. */
  iterations?: number;
}

export interface SolveProgress {
  /** Best objective value so far. */
  best: number;
  lowerBound: number;
  elapsedMs: number;
  /** Fraction of the time limit used, 0..1. */
  fraction: number;
}

export interface SolveOptions {
  timeLimitMs?: number;
  /** Worker threads; default: one per core, 0 solves in the calling thread. */
  workers?: number;
  /** Seed of the random generator (default fixed, so runs are repeatable on one thread). */
  seed?: number;
  /** Aborting ends the search at once with the best plan so far. */
  signal?: AbortSignal;
  /** A previous plan to start from (live rescheduling): keeps machines and order where still valid. */
  initial?: ScheduledOperation[];
  /** Called with the best objective value whenever it improves (throttled by the engine). */
  onProgress?: (p: SolveProgress) => void;
  /** Stop as soon as the objective reaches this value (default: the lower bound). */
  target?: number;
}

/** One broken rule in a schedule, as `validate` reports it. */
export interface Violation {
  code:
    | 'missing'
    | 'duplicate'
    | 'unknown'
    | 'machine'
    | 'duration'
    | 'release'
    | 'now'
    | 'precedence'
    | 'overlap'
    | 'setup'
    | 'unavailable'
    | 'material'
    | 'frozen'
    | 'kpi';
  message: string;
  job?: string;
  op?: number;
  machine?: string;
}
