/**
 * Loaded into the Node-RED process by `npm run soak` (node --require dist/bench/soak-probe.js): every
 * TAKT_SOAK_INTERVAL_MS it sends the parent, over the IPC channel, the process's memory (after a full
 * collection when node runs with --expose-gc, so the heap figure is what is still referenced) and the
 * event-loop delay since the last sample, the bytes used in each V8 heap space and V8's code statistics (so
 * compiled code can be told from data), plus the delay histogram since the parent's "mark" (the start
 * of the second half). The forced collection itself is kept out of the delay histograms.
 * On the parent's "snapshot" message ({ type: 'snapshot', file }) it writes a V8 heap snapshot to that file after
 * a full collection and answers { type: 'snapshot', file, ms } (the soak's --heap-snapshots; the snapshot stops
 * the event loop for seconds, so that sample's delay is left out of the histograms as the collection is).
 * Worker threads: their V8 heaps are not in `process.memoryUsage()` (only in RSS), so the probe wraps
 * `worker_threads.Worker` before the runtime loads and adds to each sample the live threads and the sum of
 * their heaps (`Worker.getHeapStatistics()`, a thread that does not answer within a second is counted apart).
 * Without an IPC channel it does nothing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapCodeStatistics, getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import workerThreads from 'node:worker_threads';
import { within } from '../nodes/core/time';

export interface LoopStats {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export interface ProbeSnapshot {
  type: 'snapshot';
  file: string;
  /** Time the collection and the snapshot took. */
  ms: number;
}

export interface ProbeSample {
  type: 'sample';
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Delay (ms) over the last interval, and since the mark (or the start). */
  loop: LoopStats;
  loopSinceMark: LoopStats;
  gc: boolean;
  /** Bytes used in each V8 heap space (v8.getHeapSpaceStatistics(): old_space, code_space, trusted_space...). */
  spaces: Record<string, number>;
  /** v8.getHeapCodeStatistics(): machine code and bytecode with their metadata, script sources outside the heap. */
  code: { codeAndMetadata: number; bytecodeAndMetadata: number; externalScriptSource: number };
  /**
   * Worker threads: started since the runtime started, alive at the sample, the sum of the live ones' V8 heaps
   * (total and used), how many did not answer, and the starts by script (its folder and file name, e.g.
   * `schedule/worker.js`).
   */
  workers?: {
    started: number;
    threads: number;
    heapTotal: number;
    heapUsed: number;
    unanswered: number;
    byScript?: Record<string, number>;
  };
}

/** Every worker thread the runtime starts, while it runs (the probe is loaded first, with --require). */
const live = new Set<workerThreads.Worker>();
let started = 0;
const byScript: Record<string, number> = {};
const scriptName = (file: unknown): string =>
  typeof file === 'string'
    ? file.split(/[\\/]/).slice(-2).join('/')
    : file instanceof URL
      ? file.pathname
      : 'eval';

async function workerHeaps(): Promise<NonNullable<ProbeSample['workers']>> {
  const out = {
    started,
    threads: live.size,
    heapTotal: 0,
    heapUsed: 0,
    unanswered: 0,
    byScript: { ...byScript },
  };
  await Promise.all(
    [...live].map(async (w) => {
      const h = await within(
        w.getHeapStatistics().catch(() => null),
        1000,
      );
      if (!h) out.unanswered++;
      else {
        out.heapTotal += h.total_heap_size;
        out.heapUsed += h.used_heap_size;
      }
    }),
  );
  return out;
}

const ms = (ns: number) => Number((ns / 1e6).toFixed(3));
const stats = (h: ReturnType<typeof monitorEventLoopDelay>): LoopStats =>
  h.count === 0
    ? { p50: 0, p99: 0, max: 0, mean: 0 }
    : { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) };

if (typeof process.send === 'function') {
  const Base = workerThreads.Worker;
  workerThreads.Worker = class extends Base {
    constructor(...args: ConstructorParameters<typeof Base>) {
      super(...args);
      started++;
      const name = scriptName(args[0]);
      byScript[name] = (byScript[name] ?? 0) + 1;
      live.add(this);
      this.once('exit', () => live.delete(this));
    }
  };
  const interval = Number(process.env.TAKT_SOAK_INTERVAL_MS) || 30000;
  const gc = (globalThis as { gc?: () => void }).gc;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  // A second monitor that is only reset at the mark: the delay over the whole second half.
  const sinceMark = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  sinceMark.enable();
  const timer = setInterval(() => {
    delay.disable();
    sinceMark.disable();
    const loop = stats(delay);
    if (gc) gc();
    const m = process.memoryUsage();
    const codeStats = getHeapCodeStatistics();
    const sample: ProbeSample = {
      type: 'sample',
      t: Date.now(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      loop,
      loopSinceMark: stats(sinceMark),
      gc: Boolean(gc),
      spaces: Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, x.space_used_size])),
      code: {
        codeAndMetadata: codeStats.code_and_metadata_size,
        bytecodeAndMetadata: codeStats.bytecode_and_metadata_size,
        externalScriptSource: codeStats.external_script_source_size,
      },
    };
    void workerHeaps().then((workers) => process.send?.({ ...sample, workers }));
    delay.reset();
    delay.enable();
    sinceMark.enable();
  }, interval);
  timer.unref();
  process.on('message', (m: { type?: string; file?: string }) => {
    if (m?.type === 'mark') sinceMark.reset();
    if (m?.type === 'snapshot' && typeof m.file === 'string') {
      delay.disable();
      sinceMark.disable();
      const t = Date.now();
      if (gc) gc();
      const file = writeHeapSnapshot(m.file);
      const reply: ProbeSnapshot = { type: 'snapshot', file, ms: Date.now() - t };
      process.send?.(reply);
      delay.enable();
      sinceMark.enable();
    }
  });
  // The soak's parent went away: stop as on a service stop, so no runtime is left behind.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
