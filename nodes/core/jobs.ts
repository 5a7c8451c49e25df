/**
 * Work off the event loop, bounded. `SerialJobs`: one long job at a time for a node (a solver, an
 * optimiser): messages wait their turn in arrival order, each job gets an AbortSignal, and closing the node
 * aborts the running job and resolves when the queue has drained. `startWorkerJob`: one job in a worker
 * thread of its own (training). `KeptWorker`: a worker thread kept between many short calls (vibration
 * features), shared by the nodes that use the same script. `IdleThreads`: threads kept idle between longer
 * jobs that drive a thread themselves (schedule searches, the energy solver). Used by node adaptors; no Node-RED import.
 */
import { parentPort, type ResourceLimits, Worker } from 'node:worker_threads';
import { TaktError } from './errors';

/**
 * The V8 limits of a thread kept for the life of the runtime (a `KeptWorker`, the energy solver). Node gives
 * every worker thread a young generation of up to 192 MB, and V8 grows it in steps while a busy thread
 * allocates, so the kept vibration thread's heap (which `process.memoryUsage()` does not show: RSS only) rose
 * from 23 to 71 MB over 12,000 calls of 10 windows and RSS from 119 to 165 MB; capped at 8 MB it stayed at
 * 16 MB, at the same speed (`npm run bench:leak-native`, suspect `vibration`). The old generation is left as it is.
 */
export const KEPT_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8 };

/** Messages that may wait behind the running job (SerialJobs' default cap). */
export const MAX_WAITING_JOBS = 100;

export class SerialJobs {
  private queue: Promise<void> = Promise.resolve();
  private active: AbortController | null = null;
  private closedFlag = false;
  /** Jobs taken and not finished: the one running (or whose turn has come) and those behind it. */
  private pending = 0;
  private refused = 0;

  /**
   * `maxWaiting`: jobs that may wait behind the running one (0: one at a time, none waiting); one more fails
   * at once (the queue never grows). `busy` makes the error it fails with (default `core.busy`); the job is
   * already counted in `dropped` when it is called.
   */
  constructor(
    readonly maxWaiting = MAX_WAITING_JOBS,
    private readonly busy: (jobs: SerialJobs) => Error = (jobs) =>
      new TaktError(
        'core.busy',
        `busy: ${jobs.maxWaiting} messages are already waiting for the one being worked on; this one is dropped`,
      ),
  ) {}

  /** Jobs waiting behind the one running (or whose turn has come). */
  get size(): number {
    return Math.max(0, this.pending - 1);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Messages refused because `maxWaiting` were already waiting, since creation. */
  get dropped(): number {
    return this.refused;
  }

  /** True when no job runs and none waits (a message handled at once stays in arrival order). */
  get idle(): boolean {
    return this.pending === 0;
  }

  /**
   * Runs `job` after the jobs before it, then calls `done` (with the error when the job threw). The first job
   * of an idle queue runs next whether or not its turn has come yet (a promise tick), so a burst takes
   * `maxWaiting` + 1 jobs. Jobs that come after `close()` are not run: `done()` is called at their turn.
   */
  run(job: (signal: AbortSignal) => Promise<void>, done: (err?: Error) => void): void {
    if (this.pending > this.maxWaiting) {
      this.refused++;
      done(this.busy(this));
      return;
    }
    this.pending++;
    this.queue = this.queue.then(async () => {
      let failed: Error | undefined;
      if (!this.closedFlag) {
        const ctl = new AbortController();
        this.active = ctl;
        try {
          await job(ctl.signal);
        } catch (err) {
          failed = err as Error;
        } finally {
          this.active = null;
        }
      }
      // Counted out before `done`, so a message that `done` lets in finds the place free.
      this.pending--;
      done(failed);
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

/** A job's listeners on a worker thread (see `listen`). */
export interface ThreadListeners<M> {
  message?: (msg: M) => void;
  error?: (err: Error) => void;
  exit?: (code: number) => void;
}

/**
 * Adds a job's listeners to a worker thread; the function returned removes exactly those. (Not every listener
 * of an event: a Worker listens to itself to run its message port, and others may listen for its exit.)
 */
export function listen<M>(w: Worker, on: ThreadListeners<M>): () => void {
  if (on.message) w.on('message', on.message);
  if (on.error) w.on('error', on.error);
  if (on.exit) w.on('exit', on.exit);
  return () => {
    if (on.message) w.off('message', on.message);
    if (on.error) w.off('error', on.error);
    if (on.exit) w.off('exit', on.exit);
  };
}

/**
 * Checks that `value` can be posted to a worker thread (structured clone: no functions, symbols...), so that a
 * job fails with `code` before it takes a thread rather than halfway through handing it out.
 */
export function copyable(value: unknown, code: string, what: string): void {
  try {
    structuredClone(value);
  } catch (err) {
    throw new TaktError(code, `${what} cannot be copied to a worker thread: ${(err as Error).message}`);
  }
}

/** Ends a thread a job gave up on; an error while it ends is of no interest to anyone. */
export function discard(w: Worker): Promise<number> {
  w.on('error', () => undefined);
  return w.terminate();
}

/** A worker thread that has exited or is exiting (Node sets its threadId to -1 then). */
const dead = (w: Worker): boolean => w.threadId === -1;

/** An idle thread, with the pool's own listeners on it and its idle timer. */
interface IdleEntry {
  w: Worker;
  off: () => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** Takes the pool's listeners and timer off an idle thread. */
function forget(e: IdleEntry): void {
  e.off();
  if (e.timer) clearTimeout(e.timer);
}

/**
 * Worker threads of one script kept idle between jobs, so that a job that needs a thread of its own for a
 * while (a schedule search, the energy solver) does not start one each time: a start costs about 30 ms and,
 * when jobs come back to back, threads still being torn down pile up in RSS (5,500 line-plan solves in a row:
 * RSS 77 -> 163 MB and rising with a thread per solve, 91 -> 109 MB and flat on a kept thread). Once they are
 * gone, starts leave no measurable native memory behind (`npm run bench:leak-native`: `schedule-cold`), while an
 * idle thread holds its heap (about 20 MB for a search): hence `idleMs`. `take()` gives an idle thread (ref'd
 * again) or starts one with `KEPT_THREAD_LIMITS`; `keep(w)` takes it back once its job ended cleanly and its
 * user removed its own listeners: unref'd (an idle thread does not hold the process open), and terminated
 * instead when `max` threads are already idle, when it has died, or after `idleMs` without a job (an idle
 * thread keeps its last job's heap). A thread that failed or was stopped mid-job must be terminated by its
 * user, not kept. An idle thread that dies is dropped.
 */
export class IdleThreads {
  private readonly idle: IdleEntry[] = [];
  private startedCount = 0;

  /** `idleMs`: how long a thread may wait for a job before it is ended (default: for ever). */
  constructor(
    readonly script: string,
    readonly max: number,
    readonly idleMs?: number,
  ) {}

  /** An idle thread, or a new one. */
  take(): Worker {
    for (let e = this.idle.pop(); e; e = this.idle.pop()) {
      forget(e);
      if (dead(e.w)) continue;
      e.w.ref();
      return e.w;
    }
    this.startedCount++;
    return new Worker(this.script, { resourceLimits: KEPT_THREAD_LIMITS });
  }

  /** Takes back a thread whose job ended cleanly (its user's listeners already removed). */
  keep(w: Worker): void {
    if (this.idle.some((e) => e.w === w)) return; // kept already
    if (dead(w) || this.idle.length >= this.max) {
      void discard(w);
      return;
    }
    w.unref();
    const entry: IdleEntry = { w, off: () => undefined };
    const drop = () => {
      const i = this.idle.indexOf(entry);
      if (i >= 0) this.idle.splice(i, 1);
      forget(entry);
    };
    entry.off = listen(w, { error: drop, exit: drop });
    if (this.idleMs !== undefined) {
      entry.timer = setTimeout(() => {
        drop();
        void discard(w);
      }, this.idleMs);
      entry.timer.unref();
    }
    this.idle.push(entry);
  }

  /** Threads idle now. */
  get size(): number {
    return this.idle.length;
  }

  /** Threads this pool has started (tests, benchmarks). */
  get started(): number {
    return this.startedCount;
  }

  /** The V8 limits of an idle thread, or null when none is idle (tests). */
  idleLimits(): ResourceLimits | null {
    const e = this.idle.at(-1);
    return e ? { ...e.w.resourceLimits } : null;
  }

  /** Terminates the idle threads (tests, shutdown). */
  async release(): Promise<void> {
    const all = this.idle.splice(0);
    all.forEach(forget);
    await Promise.all(all.map((e) => discard(e.w)));
  }
}

/** A call to a kept worker, and its answer. */
interface KeptCall {
  id: number;
  request: unknown;
}
type KeptReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; message: string; code: string; field?: string };

/**
 * A worker thread kept alive between calls: for work too short to start a thread for (a few ms to a few
 * hundred) but too long for the event loop. Calls go to one thread and are answered in order; the thread is
 * started on the first call, does not keep the process alive while idle, and is started again on the next
 * call if it died (the calls it held fail with `<scope>.workerFailed`). Nodes share one per script:
 * `KeptWorker.acquire` counts the users, and the last `release` ends the thread. The script answers with
 * `serveKeptWorker`.
 */
export class KeptWorker<Req, Res> {
  private static readonly shared = new Map<string, { worker: KeptWorker<never, unknown>; users: number }>();
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();
  private closedFlag = false;

  constructor(
    readonly script: string,
    readonly scope: string,
  ) {}

  /** The kept worker of `script`, shared with the other users of the same script; `release` when done. */
  static acquire<Req, Res>(
    script: string,
    scope: string,
  ): { worker: KeptWorker<Req, Res>; release: () => Promise<void> } {
    let entry = KeptWorker.shared.get(script);
    if (!entry) {
      entry = { worker: new KeptWorker<never, unknown>(script, scope), users: 0 };
      KeptWorker.shared.set(script, entry);
    }
    entry.users++;
    const held = entry;
    let released = false;
    return {
      worker: held.worker as unknown as KeptWorker<Req, Res>,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.users > 0) return;
        if (KeptWorker.shared.get(script) === held) KeptWorker.shared.delete(script);
        await held.worker.close();
      },
    };
  }

  /** Calls waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Runs `request` in the worker; `transfer` lists buffers handed over instead of copied. */
  call(request: Req, transfer: ArrayBuffer[] = []): Promise<Res> {
    if (this.closedFlag)
      return Promise.reject(new TaktError(`${this.scope}.cancelled`, `${this.scope}: worker closed`));
    let w: Worker;
    try {
      w = this.start();
    } catch (err) {
      return Promise.reject(
        new TaktError(
          `${this.scope}.workerFailed`,
          `${this.scope}: worker thread failed: ${(err as Error).message}`,
        ),
      );
    }
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) w.ref();
      w.postMessage({ id, request } satisfies KeptCall, transfer);
    });
  }

  /** Ends the thread; calls still waiting fail with `<scope>.cancelled`. */
  async close(): Promise<void> {
    this.closedFlag = true;
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new TaktError(`${this.scope}.cancelled`, `${this.scope}: worker closed`));
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script, { resourceLimits: KEPT_THREAD_LIMITS });
    w.unref();
    w.on('message', (m: KeptReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.ok) p.resolve(m.result as Res);
      else p.reject(new TaktError(m.code, m.message, m.field));
    });
    const died = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.failAll(new TaktError(`${this.scope}.workerFailed`, `${this.scope}: worker thread ${why}`));
    };
    w.on('error', (err) => died(`failed: ${err.message}`));
    w.on('exit', (code) => died(`exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) p.reject(err);
  }
}

/**
 * The worker side of a `KeptWorker`: answers every call with `handle(request)`, or with the error it threw
 * (its TaktError code and field kept; `<scope>.internal` for anything else).
 */
export function serveKeptWorker<Req, Res>(
  scope: string,
  handle: (request: Req) => { result: Res; transfer?: ArrayBuffer[] },
): void {
  const port = parentPort;
  if (!port) throw new Error('serveKeptWorker: not in a worker thread');
  port.on('message', (m: KeptCall) => {
    try {
      const { result, transfer } = handle(m.request as Req);
      port.postMessage({ id: m.id, ok: true, result } satisfies KeptReply, transfer ?? []);
    } catch (err) {
      const e = err as Error & { code?: unknown; field?: unknown };
      port.postMessage({
        id: m.id,
        ok: false,
        message: e.message ?? String(err),
        code: typeof e.code === 'string' ? e.code : `${scope}.internal`,
        ...(typeof e.field === 'string' ? { field: e.field } : {}),
      } satisfies KeptReply);
    }
  });
}
