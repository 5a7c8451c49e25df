/**
 * One long job at a time for a node (a solver, an optimiser): messages wait their turn in arrival order,
 * each job gets an AbortSignal, and closing the node aborts the running job and resolves when the queue
 * has drained. Used by node adaptors; no Node-RED import.
 */
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
