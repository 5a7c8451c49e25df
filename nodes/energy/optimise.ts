/**
 * energy.optimise(problem, options): validates, then solves in a worker thread (heuristic plan at
 * once, then HiGHS improving it until optimal or the time limit), and returns the EnergyPlan.
 * energy.evaluate(problem, loads): exact cost and feasibility of any plan.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import { type CoreResult, solveCore } from './highs';
import { toLoadSlots } from './heuristic';
import { baselineSlots, compileProblem, costOf, evaluateModel, type Model } from './model';
import type { EnergyEvaluation, EnergyPlan, EnergyProblem, LoadSlots, OptimiseOptions } from './types';

export interface WorkerInit {
  problem: EnergyProblem;
  deadline: number;
  mipRelGap: number;
  stop: SharedArrayBuffer;
}
export type FromWorker =
  | { type: 'plan'; slots: number[][]; cost: number; bound?: number | undefined }
  | { type: 'done'; result: CoreResult }
  | { type: 'error'; message: string; code?: string | undefined; field?: string | undefined };

export const WORKER_FILE = join(__dirname, 'worker.js');
const DEFAULT_LIMIT = 10000;

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
  const shift = new Float64Array(m.T);
  m.loads.forEach((l, j) => r.slots[j].forEach((t) => (shift[t] += l.power)));
  const cost = costOf(m, shift);
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
      ...(bound !== undefined && Number.isFinite(bound)
        ? { bound, gap: Math.max(0, (cost - bound) / Math.max(1e-9, Math.abs(cost))) }
        : {}),
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
  return new Promise<EnergyPlan>((resolve, reject) => {
    const init: WorkerInit = { problem, deadline, mipRelGap, stop };
    const w = new Worker(WORKER_FILE, { workerData: init });
    let last: CoreResult | null = null;
    let settled = false;
    const onAbort = () => Atomics.store(flag, 0, 1);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    // a hard stop well after the deadline, in case the solver does not reach a callback
    const guard = setTimeout(() => {
      if (!settled && last) {
        settle();
        resolve(toPlan(m, last, Date.now() - t0));
      }
    }, limit + 5000);
    const settle = () => {
      settled = true;
      clearTimeout(guard);
      options.signal?.removeEventListener('abort', onAbort);
      void w.terminate();
    };
    w.on('message', (msg: FromWorker) => {
      if (settled) return;
      if (msg.type === 'plan') {
        if (!last || msg.cost < last.cost)
          last = { slots: msg.slots, cost: msg.cost, optimal: false, gap: Infinity, source: 'heuristic' };
        progress(msg.cost, msg.bound);
      } else if (msg.type === 'done') {
        settle();
        resolve(toPlan(m, msg.result, Date.now() - t0));
      } else {
        settle();
        reject(msg.code ? new TaktError(msg.code, msg.message, msg.field) : new Error(msg.message));
      }
    });
    w.on('error', (err) => {
      if (settled) return;
      settle();
      if (last && last.cost < 1e5) resolve(toPlan(m, last, Date.now() - t0));
      else reject(err);
    });
    w.on('exit', (code) => {
      if (settled) return;
      settle();
      if (last && last.cost < 1e5) resolve(toPlan(m, last, Date.now() - t0));
      else reject(new Error(`energy solver thread exited with code ${code}`));
    });
  });
}
