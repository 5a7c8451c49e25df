/**
 * Worker thread, kept between solves: on each "start" one tabu search with its own seed. Sends its
 * improvements to the main thread, adopts better plans the main thread forwards from other workers at its
 * next restart, stops on "stop" or at the deadline and sends its best plan; then waits for the next start.
 * Messages of an earlier search (a "stop" that crossed its "done") are ignored.
 */
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { compile, setReference } from './model';
import { Search, type Solution } from './search';
import type { FromWorker, ToWorker, WorkerInit } from './solve';

function main(port: NonNullable<typeof parentPort>, job: number, init: WorkerInit): void {
  const model = compile(init.problem);
  if (init.initial) setReference(model, init.initial);
  const s = new Search(model, init.seed);
  s.load(init.start);
  s.best = init.start;
  let stop = false;
  let incoming: Solution | null = null;
  let lastSent = 0;
  let pending: Solution | null = null;
  const now = () => Date.now() - init.t0;
  const poll = () => {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      const msg = m.message as ToWorker;
      if (msg.job !== job) continue;
      if (msg.type === 'stop') stop = true;
      else if (msg.type === 'best' && (!incoming || msg.sol.cost < incoming.cost)) incoming = msg.sol;
    }
  };
  const send = (msg: FromWorker) => port.postMessage(msg);
  let k = 0;
  s.run({
    until: () => {
      if (++k % 8 === 0) poll();
      if (pending && Date.now() - lastSent > 100) {
        send({ type: 'best', sol: pending, at: s.bestAt });
        pending = null;
        lastSent = Date.now();
      }
      return stop || Date.now() >= init.deadline;
    },
    now,
    target: init.target,
    incoming: () => {
      poll();
      const got = incoming;
      incoming = null;
      return got;
    },
    onImprove: (sol) => {
      pending = sol;
    },
  });
  send({ type: 'done', sol: s.best as Solution, at: s.bestAt, iterations: s.iter });
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: ToWorker) => {
    if (msg.type !== 'start') return;
    try {
      main(port, msg.job, msg.init);
    } catch (err) {
      port.postMessage({
        type: 'error',
        message: err instanceof Error ? err.message : String(err),
      } satisfies FromWorker);
    }
  });
}
