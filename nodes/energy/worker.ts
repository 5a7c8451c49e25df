/** Worker thread: one solve of an energy problem; posts plans as they improve, then the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { TaktError } from '../core/errors';
import { solveCore } from './highs';
import { compileProblem } from './model';
import type { FromWorker, WorkerInit } from './optimise';

async function main(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  const flag = new Int32Array(init.stop);
  const m = compileProblem(init.problem);
  const r = await solveCore(m, {
    deadline: init.deadline,
    mipRelGap: init.mipRelGap,
    stopped: () => Atomics.load(flag, 0) !== 0,
    onPlan: (slots, cost, bound) =>
      port.postMessage({ type: 'plan', slots, cost, bound } satisfies FromWorker),
  });
  port.postMessage({ type: 'done', result: r } satisfies FromWorker);
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as WorkerInit).catch((err: unknown) => {
    port.postMessage({
      type: 'error',
      message: err instanceof Error ? err.message : String(err),
      code: err instanceof TaktError ? err.code : undefined,
      field: err instanceof TaktError ? err.field : undefined,
    } satisfies FromWorker);
  });
}
