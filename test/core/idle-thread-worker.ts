/** A thread for the IdleThreads tests (jobs.test.ts): echoes every message; "exit" ends the thread. */
import { parentPort } from 'node:worker_threads';

const port = parentPort;
port?.on('message', (m: unknown) => {
  if (m === 'exit') process.exit(0);
  port.postMessage(m);
});
