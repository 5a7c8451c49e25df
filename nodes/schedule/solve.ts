/**
 * solve(problem, options): constructive start, then tabu search in worker threads (one per core by
 * default) sharing the best plan, anytime: the time limit is honoured and an AbortSignal ends the
 * search at once with the best plan so far.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import { copyable, discard, IdleThreads, listen } from '../core/jobs';
import { lowerBound } from './bound';
import { compile, type Model, setReference } from './model';
import { Search, type Solution } from './search';
import type { Schedule, ScheduledOperation, SchedulingProblem, SolveOptions } from './types';

/** What the main thread sends a worker, and what workers send back. */
export interface WorkerInit {
  problem: SchedulingProblem;
  seed: number;
  deadline: number;
  /** Epoch ms of the start of the solve (times to best are measured from it). */
  t0: number;
  target: number;
  start: Solution;
  /** The previous plan, for the stability term. */
  initial?: ScheduledOperation[];
}
/** Every message carries its search's number: a kept thread ignores what was meant for an earlier one. */
export type ToWorker =
  | { type: 'start'; job: number; init: WorkerInit }
  | { type: 'stop'; job: number }
  | { type: 'best'; job: number; sol: Solution };
export type FromWorker =
  | { type: 'best'; sol: Solution; at: number }
  | { type: 'done'; sol: Solution; at: number; iterations: number }
  | { type: 'error'; message: string };

const DEFAULT_LIMIT = 10000;

/** The starting plan: the best of a few dispatch rules and, when given, the previous plan. */
export function startingPlan(
  model: Model,
  initial: ScheduledOperation[] | undefined,
  seed: number,
): Solution {
  const s = new Search(model, seed);
  const tries: Solution[] = [s.construct('mwkr'), s.construct('spt'), s.construct('random')];
  if (initial) {
    const warm = fromOperations(model, initial);
    if (warm) {
      s.load(warm);
      tries.push(s.snapshot());
    }
  }
  tries.sort((a, b) => a.cost - b.cost);
  return tries[0];
}

/** A previous plan mapped onto the model: same machines where still allowed, order by old start. */
export function fromOperations(
  model: Model,
  ops: ScheduledOperation[],
): { alt: Int32Array; seq: Int32Array } | null {
  const at = new Map<string, ScheduledOperation>();
  for (const o of ops) at.set(`${o.job}\u0000${o.op}`, o);
  const alt = new Int32Array(model.n);
  const when = new Float64Array(model.n);
  for (let i = 0; i < model.n; i++) {
    const o = at.get(`${model.jobIds[model.job[i]]}\u0000${model.opIndex[i]}`);
    when[i] = o ? o.start : Infinity;
    if (o)
      for (let k = model.altStart[i]; k < model.altStart[i + 1]; k++)
        if (model.machineIds[model.altMach[k]] === o.machine) {
          alt[i] = k - model.altStart[i];
          break;
        }
  }
  // order by old start, new operations last; keep job order (ties and unknowns by job position)
  const idx = Array.from({ length: model.n }, (_, i) => i);
  const key = new Float64Array(model.n);
  for (let i = 0; i < model.n; i++)
    key[i] = Math.max(when[i], model.jp[i] >= 0 ? key[model.jp[i]] : -Infinity);
  idx.sort((a, b) => key[a] - key[b] || (model.job[a] === model.job[b] ? a - b : 0) || a - b);
  return { alt, seq: Int32Array.from(idx) };
}

/** Turns a plan into the Schedule contract (frozen operations included). */
export function toSchedule(
  model: Model,
  sol: Solution,
  lb: number,
  extra: { elapsedMs: number; timeToBestMs?: number; iterations?: number },
): Schedule {
  const s = new Search(model, 1);
  s.load(sol);
  const ops: ScheduledOperation[] = model.frozen.map((f) => ({
    job: f.job,
    op: f.op,
    machine: f.machine,
    start: f.start,
    end: f.end,
  }));
  for (let i = 0; i < model.n; i++)
    ops.push({
      job: model.jobIds[model.job[i]],
      op: model.opIndex[i],
      machine: model.machineIds[s.mach[i]],
      start: s.head[i],
      end: s.head[i] + s.dur[i],
    });
  const jobPos = new Map(model.jobIds.map((id, k) => [id, k]));
  ops.sort((a, b) => (jobPos.get(a.job) as number) - (jobPos.get(b.job) as number) || a.op - b.op);
  const end = new Map<string, number>();
  for (const o of ops) end.set(o.job, Math.max(end.get(o.job) ?? -Infinity, o.end));
  let wt = 0;
  let late = 0;
  model.jobIds.forEach((id, j) => {
    const c = end.get(id) ?? 0;
    if (c > model.due[j]) {
      wt += (c - model.due[j]) * model.weight[j];
      late++;
    }
  });
  const makespan = ops.reduce((a, o) => Math.max(a, o.end), 0);
  const value = s.cost; // the search's own cost: makespan, tardiness and stability terms
  const out: Schedule = {
    operations: ops,
    makespan,
    weightedTardiness: wt,
    lateJobs: late,
    lowerBound: lb,
    status: value <= lb ? 'optimal' : 'feasible',
    elapsedMs: Math.round(extra.elapsedMs),
    objectiveValue: value,
  };
  if (extra.timeToBestMs !== undefined) out.timeToBestMs = Math.round(extra.timeToBestMs);
  if (extra.iterations !== undefined) out.iterations = extra.iterations;
  return out;
}

/** The compiled worker script, next to this file in dist/. */
export const WORKER_FILE = join(__dirname, 'worker.js');

/**
 * The search threads, kept idle between solves (up to one per core, each for up to 10 minutes without a
 * solve): the line plan is solved again on every order and breakdown, often in bursts, and a thread per solve
 * costs a start each time (see `IdleThreads`); a quiet plant gets its memory back. A thread that failed, or
 * has not said 'done' when the solve ends, is terminated.
 */
const SEARCH_IDLE_MS = 10 * 60_000;
const searchThreads = new IdleThreads(WORKER_FILE, availableParallelism(), SEARCH_IDLE_MS);
let nextJob = 1;

/** Threads the search has started since the process started (tests). */
export function searchThreadsStarted(): number {
  return searchThreads.started;
}

/** Terminates the idle search threads (tests, shutdown). */
export function releaseSearchThreads(): Promise<void> {
  return searchThreads.release();
}

/** Solves a scheduling problem; resolves with the best plan found within the time limit. */
export async function solve(problem: SchedulingProblem, options: SolveOptions = {}): Promise<Schedule> {
  const t0 = performance.now();
  const t0Epoch = Date.now();
  const limit = options.timeLimitMs ?? problem.timeLimitMs ?? DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !(limit >= 0))
    throw new TaktError(
      'schedule.badTimeLimit',
      `timeLimitMs must be a number >= 0, got ${JSON.stringify(limit)}`,
    );
  const model = compile(problem);
  if (options.initial) setReference(model, options.initial);
  const bounds = lowerBound(model);
  const target = options.target ?? bounds.objective;
  const seed = options.seed ?? 12345;
  let best = startingPlan(model, options.initial, seed);
  let bestAt = performance.now() - t0;
  let iterations = 0;
  const deadline = Date.now() + Math.max(0, limit - (performance.now() - t0));
  const progress = () =>
    options.onProgress?.({
      best: best.cost,
      lowerBound: bounds.objective,
      elapsedMs: performance.now() - t0,
      fraction: Math.min(1, (performance.now() - t0) / Math.max(1, limit)),
    });
  const finish = () =>
    toSchedule(model, best, bounds.objective, {
      elapsedMs: performance.now() - t0,
      timeToBestMs: bestAt,
      iterations,
    });

  if (best.cost <= target || model.n === 0 || options.signal?.aborted || Date.now() >= deadline)
    return finish();
  const workers = Math.max(0, Math.floor(options.workers ?? availableParallelism()));

  if (workers === 0) {
    // In this thread, in slices, so that the signal and other events get through.
    const s = new Search(model, seed);
    s.load(best);
    s.best = best;
    while (Date.now() < deadline && !options.signal?.aborted && best.cost > target) {
      const sliceEnd = Math.min(deadline, Date.now() + 25);
      const why = s.run({ until: () => Date.now() >= sliceEnd, now: () => performance.now() - t0, target });
      if (s.best && s.best.cost < best.cost) {
        best = s.best;
        bestAt = s.bestAt;
        progress();
      }
      if (why === 'exhausted') break;
      await new Promise((r) => setImmediate(r));
    }
    iterations = s.iter;
    return finish();
  }

  copyable({ problem, initial: options.initial, best }, 'schedule.badProblem', 'the problem');
  return new Promise<Schedule>((resolve, reject) => {
    const job = nextJob++;
    const offs = new Map<Worker, () => void>(); // the search's threads, each with its listeners of this search
    const said = new Set<Worker>(); // threads that sent 'done': free to keep
    let running = workers;
    let failed: Error | null = null;
    let finished = 0;
    let lastProgress = 0;
    const stopAll = () => {
      for (const w of offs.keys()) w.postMessage({ type: 'stop', job } satisfies ToWorker);
    };
    const onAbort = () => stopAll();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(stopAll, Math.max(0, deadline - Date.now()) + 50);
    const take = (sol: Solution, at: number, from: Worker) => {
      if (sol.cost < best.cost) {
        best = sol;
        bestAt = at;
        for (const w of offs.keys())
          if (w !== from) w.postMessage({ type: 'best', job, sol } satisfies ToWorker);
        if (best.cost <= target) stopAll();
        if (performance.now() - lastProgress > 200) {
          lastProgress = performance.now();
          progress();
        }
      }
    };
    for (let k = 0; k < workers; k++) {
      const init: WorkerInit = {
        problem,
        seed: seed + 7919 * (k + 1),
        deadline,
        t0: t0Epoch,
        target,
        start: best,
      };
      if (options.initial) init.initial = options.initial;
      const w = searchThreads.take();
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        if (--running === 0) {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          for (const [x, off] of offs) {
            off();
            if (said.has(x)) searchThreads.keep(x);
            else void discard(x);
          }
          // a worker that cannot start (e.g. worker.js missing) must not pass for a finished search
          if (failed && finished === 0) reject(failed);
          else resolve(finish());
        }
      };
      offs.set(
        w,
        listen<FromWorker>(w, {
          message: (msg) => {
            if (ended) return;
            if (msg.type === 'best') take(msg.sol, msg.at, w);
            else if (msg.type === 'done') {
              take(msg.sol, msg.at, w);
              iterations += msg.iterations;
              finished++;
              said.add(w);
              end();
            } else {
              failed = new Error(msg.message);
              end();
            }
          },
          // a thread that dies, even after its 'done', is not kept
          error: (err) => {
            said.delete(w);
            failed = err;
            end();
          },
          // a thread that exits before its 'done' (one that died just after its last search, handed out
          // before its exit was seen) searched nothing: that is a failure, not a finished search
          exit: (code) => {
            said.delete(w);
            if (!ended) failed ??= new Error(`schedule search thread exited with code ${code}`);
            end();
          },
        }),
      );
      try {
        w.postMessage({ type: 'start', job, init } satisfies ToWorker);
      } catch (err) {
        // (copyable() above makes this unlikely) the thread never started a search: it is kept as it was
        said.add(w);
        failed = err instanceof Error ? err : new Error(String(err));
        end();
      }
    }
  });
}
