/**
 * One long job at a time for a node (a solver, an optimiser): messages wait their turn in arrival order,
 * each job gets an AbortSignal, and closing the node aborts the running job and resolves when the queue
 * has drained. Used by node adaptors; no Node-RED import.
 */
import { Worker } from 'node:worker_threads';
import { TaktError } from './errors';

/** Messages that may wait behind the running job (SerialJobs' default cap). */
export const MAX_WAITING_JOBS = 100;

export class SerialJobs {
  private queue: Promise<void> = Promise.resolve();
  private active: AbortController | null = null;
  private closedFlag = false;
  private waiting = 0;

  /** `maxWaiting`: jobs that may wait behind the running one; one more fails at once (the queue never grows). */
  constructor(readonly maxWaiting = MAX_WAITING_JOBS) {}

  /** Jobs waiting for their turn (not the running one). */
  get size(): number {
    return this.waiting;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Runs `job` after the jobs before it, then calls `done` (with the error when the job threw). Jobs that
   * come after `close()` are not run: `done()` is called at once.
   */
  run(job: (signal: AbortSignal) => Promise<void>, done: (err?: Error) => void): void {
    if (this.waiting >= this.maxWaiting) {
      done(
        new TaktError(
          'core.busy',
          `busy: ${this.maxWaiting} messages are already waiting for the one being worked on; this one is dropped`,
        ),
      );
      return;
    }
    this.waiting++;
    this.queue = this.queue.then(async () => {
      this.waiting--;
      if (this.closedFlag) return done();
      const ctl = new AbortController();
      this.active = ctl;
      try {
        await job(ctl.signal);
        done();
      } catch (err) {
        done(err as Error);
      } finally {
        this.active = null;
      }
    });
  }

  /** Aborts the running job; resolves once every queued job has finished. */
  close(): Promise<void> {
    this.closedFlag = true;
    this.active?.abort();
    return this.queue;
  }
}

/** What a training worker posts back: progress, its result (the fields of R), or an error to rethrow. */
export type WorkerReply<R extends object> =
  | { type: 'progress'; fraction: number; text: string }
  | ({ type: 'done' } & R)
  | { type: 'error'; message: string; code: string; field?: string };

/** A running worker job: its result, and a way to stop it. */
export interface WorkerJob<R> {
  promise: Promise<R>;
  cancel(): void;
}

/**
 * Runs `script` (a compiled worker file) in a worker thread with `workerData`, passes its progress on and
 * resolves with its result. `cancel()` terminates it (`<scope>.cancelled`); a worker that exits without a
 * result fails with `<scope>.trainFailed`; an error the worker posts is rethrown as that TaktError.
 */
export function startWorkerJob<R extends object>(
  script: string,
  workerData: unknown,
  scope: string,
  onProgress?: (fraction: number, text: string) => void,
): WorkerJob<R> {
  const worker = new Worker(script, { workerData });
  let settled = false;
  let cancel = (): void => undefined;
  const promise = new Promise<R>((resolve, reject) => {
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    cancel = () =>
      finish(() => reject(new TaktError(`${scope}.cancelled`, 'training: cancelled', 'training')));
    worker.on('message', (m: WorkerReply<R>) => {
      if (m.type === 'progress') onProgress?.(m.fraction, m.text);
      else if (m.type === 'done') {
        const result: Partial<WorkerReply<R>> = { ...m };
        delete result.type;
        finish(() => resolve(result as R));
      } else finish(() => reject(new TaktError(m.code, m.message, m.field)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) =>
      finish(() =>
        reject(
          new TaktError(`${scope}.trainFailed`, `training: worker exited with code ${code}`, 'training'),
        ),
      ),
    );
  });
  return { promise, cancel: () => cancel() };
}
