/**
 * Solver thread: loads HiGHS once and then solves energy problems one at a time, posting plans as
 * they improve and then the result. optimise() keeps one idle thread between calls.
 */
import { parentPort } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import { loadHighs, searchPeak, solveCore } from './highs';
import { compileProblem } from './model';
import { SharedPlan } from './shared-plan';
import type { FromWorker, ToWorker, WorkerInit } from './optimise';

async function solve(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  const flag = new Int32Array(init.stop);
  const m = compileProblem(init.problem);
  const r = await solveCore(m, {
    deadline: init.deadline,
    mipRelGap: init.mipRelGap,
    searchElsewhere: init.plan !== undefined,
    ...(init.plan ? { shared: new SharedPlan(m, init.plan) } : {}),
    stopped: () => Atomics.load(flag, 0) !== 0,
    onPlan: (slots, cost, bound) =>
      port.postMessage({ type: 'plan', slots, cost, bound } satisfies FromWorker),
  });
  port.postMessage({ type: 'done', result: r } satisfies FromWorker);
}

/**
 * Loads HiGHS and solves a small problem: V8 compiles WebAssembly with a quick baseline compiler
 * first and optimises what runs hot, so a first real solve in a cold thread is slower.
 */
async function warm(): Promise<void> {
  await loadHighs();
  const T = 48;
  const prices = Array.from({ length: T }, (_, t) => (t % 24 < 7 ? 0.1 : t % 24 < 17 ? 0.2 : 0.3));
  const sun = (t: number) => Math.max(0, Math.sin((Math.PI * ((t % 24) - 6)) / 12));
  const m = compileProblem({
    slotMinutes: 60,
    prices,
    baseLoadKw: prices.map((_, t) => 20 + (t % 5)),
    renewableKw: prices.map((_, t) => 30 * sun(t)),
    exportPrice: 0.04,
    demandChargePerKw: 0.5,
    loads: Array.from({ length: 8 }, (_, j) => ({
      id: `w${j}`,
      powerKw: 5 + 3 * j,
      durationSlots: 1 + (j % 4),
      release: 2 * j,
      deadline: T - j,
      preemptive: j % 3 === 0,
    })),
  });
  await solveCore(m, { deadline: Date.now() + 1000, mipRelGap: 1e-4, stopped: () => false });
}

/** The local search beside the solver: posts each better plan until the deadline or the stop flag. */
function search(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  const flag = new Int32Array(init.stop);
  const m = compileProblem(init.problem);
  const shared = init.plan ? new SharedPlan(m, init.plan) : null;
  searchPeak(
    m,
    null,
    init.deadline - Date.now(),
    (r) => {
      shared?.publish(r.slots, r.cost);
      port.postMessage({ type: 'plan', slots: r.slots, cost: r.cost } satisfies FromWorker);
    },
    () => Atomics.load(flag, 0) !== 0,
  );
}

if (parentPort) {
  const port = parentPort;
  const fail = (err: unknown) =>
    port.postMessage({
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
      code: err instanceof TaktError ? err.code : undefined,
      field: err instanceof TaktError ? err.field : undefined,
    } satisfies FromWorker);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'warm')
      warm().then(() => port.postMessage({ type: 'ready' } satisfies FromWorker), fail);
    else if (msg.type === 'search') {
      try {
        search(port, msg.init);
        port.postMessage({ type: 'searched' } satisfies FromWorker);
      } catch (err) {
        fail(err);
      }
    } else solve(port, msg.init).catch(fail);
  });
}
