/**
 * energy.optimise(problem, options): validates, then solves in a worker thread (heuristic plan at
 * once, then HiGHS improving it until optimal or the time limit), and returns the EnergyPlan.
 * energy.evaluate(problem, loads): exact cost and feasibility of any plan.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import { copyable, discard, IdleThreads, listen } from '../core/jobs';
import { type CoreResult, solveCore } from './highs';
import { toLoadSlots } from './heuristic';
import { sharedPlanBuffer } from './shared-plan';
import {
  baselineSlots,
  compileProblem,
  costOf,
  evaluateModel,
  type Model,
  relativeGap,
  shiftOf,
} from './model';
import type { EnergyEvaluation, EnergyPlan, EnergyProblem, LoadSlots, OptimiseOptions } from './types';

export interface WorkerInit {
  problem: EnergyProblem;
  deadline: number;
  mipRelGap: number;
  stop: SharedArrayBuffer;
  /**
   * With a second thread: the buffer through which the local search there hands its plans to the
   * solver (solve: skip the local search and read plans; search: publish them).
   */
  plan?: SharedArrayBuffer;
}
export type ToWorker =
  { type: 'warm' } | { type: 'solve'; init: WorkerInit } | { type: 'search'; init: WorkerInit };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'plan'; slots: number[][]; cost: number; bound?: number | undefined }
  | { type: 'done'; result: CoreResult }
  | { type: 'searched' }
  | { type: 'error'; message: string; code?: string | undefined; field?: string | undefined };

export const WORKER_FILE = join(__dirname, 'worker.js');
const DEFAULT_LIMIT = 10000;

/**
 * One solver thread is kept between calls, idle and unref'd (it does not hold the process open):
 * loading HiGHS' WebAssembly costs about 0.3 s, more than a plain day-ahead solve. A thread that
 * failed, timed out or was stopped mid-solve is terminated instead of kept. The local search beside
 * it (with a peak term) is kept too once it has stopped, for up to 10 minutes without a solve.
 */
const solverThreads = new IdleThreads(WORKER_FILE, 1);
const searchThreads = new IdleThreads(WORKER_FILE, 1, 10 * 60_000);

/**
 * Starts the solver thread and loads HiGHS in it, so that the next optimise() does not wait for
 * it; resolves once loaded (or at once when a thread is already idle).
 */
export function warmUp(): Promise<void> {
  if (solverThreads.size > 0) return Promise.resolve();
  const w = solverThreads.take();
  return new Promise<void>((resolve) => {
    const done = (ready: boolean) => {
      off();
      if (ready) solverThreads.keep(w);
      else void discard(w);
      resolve();
    };
    const off = listen<FromWorker>(w, {
      message: (msg) => done(msg.type === 'ready'),
      error: () => done(false),
      exit: () => done(false),
    });
    w.postMessage({ type: 'warm' } satisfies ToWorker);
  });
}

/** The V8 limits of the idle solver thread, or null when none is idle (tests). */
export function idleSolverLimits(): ResourceLimits | null {
  return solverThreads.idleLimits();
}

/** Threads the solver and the search beside it have started since the process started (tests). */
export function solverThreadsStarted(): number {
  return solverThreads.started + searchThreads.started;
}

/** Where the local search beside the solver is, when the solve ends. */
type SearchState = 'running' | 'searched' | 'failed';
/** The local search's thread during a solve, with the solve's listeners on it. */
interface Searcher {
  w: Worker;
  off: () => void;
  state: SearchState;
}

/**
 * A search thread still stopping after its solve ended: the next optimise() waits for it (at most a second)
 * rather than start another thread beside it.
 */
let searchStopping: Promise<void> | null = null;

/**
 * Ends the local search beside the solver (its listeners of the solve already removed): keeps the thread if
 * it has stopped ('searched'), terminates it if it failed, and otherwise raises the stop flag and keeps it
 * once it says it stopped; a thread that does not answer within a second is terminated.
 */
function stopSearcher(s: Worker, flag: Int32Array, state: SearchState): void {
  if (state !== 'running') {
    if (state === 'searched') searchThreads.keep(s);
    else void discard(s);
    return;
  }
  Atomics.store(flag, 0, 1);
  const stopping: Promise<void> = new Promise<void>((resolve) => {
    const end = (keep: boolean) => {
      clearTimeout(timer);
      off();
      if (keep) searchThreads.keep(s);
      else void discard(s);
      if (searchStopping === stopping) searchStopping = null;
      resolve();
    };
    const timer = setTimeout(() => end(false), 1000);
    const off = listen<FromWorker>(s, {
      message: (msg) => {
        if (msg.type === 'searched') end(true);
        else if (msg.type === 'error') end(false);
      },
      error: () => end(false),
      exit: () => end(false),
    });
  });
  searchStopping = stopping;
}

/** Terminates the idle solver threads (tests, shutdown). */
export async function releaseSolver(): Promise<void> {
  if (searchStopping) await searchStopping;
  await Promise.all([solverThreads.release(), searchThreads.release()]);
}

export function evaluate(problem: EnergyProblem, loads: LoadSlots): EnergyEvaluation {
  return evaluateModel(compileProblem(problem), loads);
}

/** The plan for every load started at its release, and its cost. */
export function baseline(problem: EnergyProblem): { loads: LoadSlots; totalCost: number } {
  const m = compileProblem(problem);
  const loads = baselineSlots(m);
  return { loads, totalCost: evaluateModel(m, loads).totalCost };
}

function toPlan(m: Model, r: CoreResult, elapsedMs: number): EnergyPlan {
  const loads = toLoadSlots(m, r.slots);
  const cost = costOf(m, shiftOf(m, r.slots));
  const baselineCost = evaluateModel(m, baselineSlots(m)).totalCost;
  const plan: EnergyPlan = {
    loads,
    ...cost,
    optimal: r.optimal,
    gap: r.optimal ? 0 : r.gap,
    baselineCost,
    savings: baselineCost - cost.totalCost,
    source: r.source,
    elapsedMs: Math.round(elapsedMs),
  };
  if (r.bound !== undefined) plan.bound = r.bound;
  return plan;
}

/**
 * The solver's result, or the cheapest plan either thread reported when that is cheaper (the local
 * search thread's, in practice), judged against the solver's bound.
 */
function withBest(r: CoreResult, other: CoreResult | null, mipRelGap: number): CoreResult {
  if (!other || other.cost >= r.cost - 1e-9 || other.cost >= 1e5) return r;
  const gap = r.bound === undefined ? Infinity : relativeGap(other.cost, r.bound);
  return { ...other, bound: r.bound, gap, optimal: r.optimal || gap <= mipRelGap };
}

export async function optimise(problem: EnergyProblem, options: OptimiseOptions = {}): Promise<EnergyPlan> {
  const t0 = Date.now();
  const limit = options.timeLimitMs ?? DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !(limit >= 0))
    throw new TaktError(
      'energy.badTimeLimit',
      `timeLimitMs must be a number >= 0, got ${JSON.stringify(limit)}`,
    );
  const mipRelGap = options.mipRelGap ?? 1e-4;
  const m = compileProblem(problem); // bad input fails here, before any thread starts
  const deadline = t0 + limit;
  const progress = (cost: number, bound?: number) =>
    options.onProgress?.({
      best: cost,
      ...(bound !== undefined && Number.isFinite(bound) ? { bound, gap: relativeGap(cost, bound) } : {}),
      elapsedMs: Date.now() - t0,
    });

  if (options.worker === false) {
    const r = await solveCore(m, {
      deadline,
      mipRelGap,
      stopped: () => options.signal?.aborted === true,
      onPlan: (_s, c, b) => progress(c, b),
    });
    return toPlan(m, r, Date.now() - t0);
  }

  const stop = new SharedArrayBuffer(4);
  const flag = new Int32Array(stop);
  // with a peak term and a second core, the local search runs in its own thread beside HiGHS
  const threads = Math.floor(options.threads ?? Math.min(2, availableParallelism()));
  const parallel = threads >= 2 && (m.demandCharge > 0 || m.cap !== null) && m.loads.length > 1;
  copyable(problem, 'energy.badProblem', 'the problem');
  if (parallel && searchStopping) await searchStopping;
  return new Promise<EnergyPlan>((resolve, reject) => {
    const init: WorkerInit = {
      problem,
      deadline,
      mipRelGap,
      stop,
      ...(parallel ? { plan: sharedPlanBuffer(m) } : {}),
    };
    const w = solverThreads.take();
    w.postMessage({ type: 'solve', init } satisfies ToWorker);
    let last: CoreResult | null = null;
    let settled = false;
    // a plan from either thread: keep the cheapest as the fallback, show progress
    const onPlan = (msg: Extract<FromWorker, { type: 'plan' }>) => {
      if (!last || msg.cost < last.cost)
        last = { slots: msg.slots, cost: msg.cost, optimal: false, gap: Infinity, source: 'heuristic' };
      progress(msg.cost, msg.bound);
    };
    let searcher: Searcher | null = null;
    if (parallel) {
      const s = searchThreads.take();
      const x: Searcher = { w: s, off: () => undefined, state: 'running' };
      searcher = x;
      // the solver's answer stands on its own: a failed search only ends its thread
      x.off = listen<FromWorker>(s, {
        message: (msg) => {
          if (msg.type === 'searched') x.state = 'searched';
          else if (msg.type === 'error') x.state = 'failed';
          else if (!settled && msg.type === 'plan') onPlan(msg);
        },
        error: () => (x.state = 'failed'),
        exit: () => (x.state = 'failed'),
      });
      s.postMessage({ type: 'search', init: { ...init, deadline: deadline - 200 } } satisfies ToWorker);
    }
    const onAbort = () => Atomics.store(flag, 0, 1);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    // a hard stop well after the deadline, in case the solver does not reach a callback
    const guard = setTimeout(() => {
      if (!settled && last) {
        settle(false);
        resolve(toPlan(m, last, Date.now() - t0));
      }
    }, limit + 5000);
    // reuse: the thread answered and is between jobs; otherwise it is terminated
    const settle = (reuse: boolean) => {
      settled = true;
      clearTimeout(guard);
      options.signal?.removeEventListener('abort', onAbort);
      if (searcher) {
        searcher.off();
        stopSearcher(searcher.w, flag, searcher.state);
      }
      offSolver();
      if (reuse) solverThreads.keep(w);
      else void discard(w);
    };
    const onMessage = (msg: FromWorker) => {
      if (settled || msg.type === 'ready' || msg.type === 'searched') return;
      if (msg.type === 'plan') onPlan(msg);
      else if (msg.type === 'done') {
        settle(true);
        resolve(toPlan(m, withBest(msg.result, last, mipRelGap), Date.now() - t0));
      } else {
        // a TaktError is about the problem; anything else may have left the solver unusable
        settle(msg.code !== undefined);
        reject(msg.code ? new TaktError(msg.code, msg.message, msg.field) : new Error(msg.message));
      }
    };
    // the solver thread failed or exited before its answer: the best plan so far, if any
    const lost = (err: Error) => {
      if (settled) return;
      settle(false);
      if (last && last.cost < 1e5) resolve(toPlan(m, last, Date.now() - t0));
      else reject(err);
    };
    const offSolver = listen<FromWorker>(w, {
      message: onMessage,
      error: lost,
      exit: (code) => lost(new Error(`energy solver thread exited with code ${code}`)),
    });
  });
}
