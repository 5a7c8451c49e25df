import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { IdleThreads, KeptWorker, listen, SerialJobs } from '../../nodes/core/jobs';
import { TaktError } from '../../nodes/core/errors';

describe('core/SerialJobs', () => {
  it('runs jobs one at a time in arrival order and reports each outcome', async () => {
    const jobs = new SerialJobs();
    const log: string[] = [];
    let running = 0;
    const job =
      (name: string, fail = false) =>
      async () => {
        running++;
        assert.equal(running, 1, 'never two at once');
        await new Promise((r) => setImmediate(r));
        log.push(name);
        running--;
        if (fail) throw new Error(`${name} failed`);
      };
    const outcomes: string[] = [];
    await new Promise<void>((resolve) => {
      jobs.run(job('a'), (err) => outcomes.push(err?.message ?? 'a ok'));
      jobs.run(job('b', true), (err) => outcomes.push(err?.message ?? 'b ok'));
      jobs.run(job('c'), (err) => {
        outcomes.push(err?.message ?? 'c ok');
        resolve();
      });
    });
    assert.deepEqual(log, ['a', 'b', 'c']);
    assert.deepEqual(outcomes, ['a ok', 'b failed', 'c ok']);
  });

  it('aborts the running job on close, waits for it, and skips jobs that come later', async () => {
    const jobs = new SerialJobs();
    let aborted = false;
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    const first = new Promise<Error | undefined>((resolve) =>
      jobs.run(
        (signal) =>
          new Promise<void>((res) => {
            started();
            signal.addEventListener('abort', () => {
              aborted = true;
              res();
            });
          }),
        resolve,
      ),
    );
    await isStarted;
    await jobs.close();
    assert.equal(aborted, true);
    assert.equal(await first, undefined);
    let ran = false;
    const later = await new Promise<Error | undefined>((resolve) =>
      jobs.run(async () => {
        ran = true;
      }, resolve),
    );
    assert.deepEqual([ran, later, jobs.closed], [false, undefined, true]);
  });

  it('keeps at most maxWaiting behind the running job, in a burst as later on, and counts the ones refused', async () => {
    for (const maxWaiting of [0, 1, 3]) {
      const jobs = new SerialJobs(
        maxWaiting,
        (j) => new TaktError('test.full', `full: ${j.maxWaiting} wait, ${j.dropped} dropped`),
      );
      let release!: () => void;
      let gate = new Promise<void>((r) => (release = r));
      const outcomes: string[] = [];
      const ran: number[] = [];
      const submit = (k: number) =>
        new Promise<void>((resolve) =>
          jobs.run(
            async () => {
              ran.push(k);
              await gate;
            },
            (err) => {
              outcomes[k] = err ? err.message : 'ok';
              resolve();
            },
          ),
        );
      // A burst while idle: the first runs next and maxWaiting wait behind it; the rest are refused at once.
      const burst = Array.from({ length: maxWaiting + 3 }, (_, k) => submit(k));
      assert.equal(jobs.dropped, 2, `maxWaiting ${maxWaiting}`);
      assert.equal(outcomes[maxWaiting + 1], `full: ${maxWaiting} wait, 1 dropped`);
      assert.equal(outcomes[maxWaiting + 2], `full: ${maxWaiting} wait, 2 dropped`);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(ran, [0], 'one at a time');
      assert.equal(jobs.size, maxWaiting);
      release();
      await Promise.all(burst);
      assert.deepEqual(
        ran,
        Array.from({ length: maxWaiting + 1 }, (_, k) => k),
        'in arrival order',
      );
      assert.ok(jobs.idle);
      // The same cap once a job has started.
      gate = new Promise<void>((r) => (release = r));
      const later = [submit(100)];
      await new Promise((r) => setImmediate(r));
      for (let k = 1; k <= maxWaiting + 1; k++) later.push(submit(100 + k));
      assert.equal(jobs.dropped, 3);
      assert.match(outcomes[100 + maxWaiting + 1], /^full/);
      release();
      await Promise.all(later);
      assert.equal(outcomes.filter((o) => o === 'ok').length, 2 * (maxWaiting + 1));
    }
  });
});

describe('core/KeptWorker', () => {
  it('runs its thread with a young generation capped at 16 MB or less, not the 192 MB Node allows a worker', async () => {
    // a kept thread lives as long as the runtime; V8 grows an uncapped young generation in steps while it works
    const { worker, release } = KeptWorker.acquire<unknown, number | undefined>(
      join(__dirname, 'kept-limits-worker.js'),
      'probe',
    );
    try {
      const mb = await worker.call({});
      assert.equal(typeof mb, 'number');
      assert.ok((mb as number) > 0 && (mb as number) <= 16, `young generation ${mb} MB`);
    } finally {
      await release();
    }
  });
});

describe('core/IdleThreads', () => {
  const script = join(__dirname, 'idle-thread-worker.js');
  const exited = (w: Worker) => new Promise<void>((resolve) => w.once('exit', () => resolve()));
  const echo = (w: Worker, m: string) =>
    new Promise<unknown>((resolve) => {
      const off = listen<unknown>(w, {
        message: (x) => {
          off();
          resolve(x);
        },
      });
      w.postMessage(m);
    });

  it('gives the kept thread to the next job, and a new one only when none is idle', async () => {
    const pool = new IdleThreads(script, 2);
    const a = pool.take();
    assert.equal(await echo(a, 'one'), 'one');
    pool.keep(a);
    pool.keep(a); // twice: still one idle thread
    assert.equal(pool.size, 1);
    const b = pool.take();
    assert.equal(b, a);
    assert.equal(await echo(b, 'two'), 'two');
    assert.equal(pool.started, 1);
    pool.keep(b);
    await pool.release();
    assert.equal(pool.size, 0);
  });

  it('does not keep a thread that has died, and drops one that dies while idle', async () => {
    const pool = new IdleThreads(script, 2);
    const a = pool.take();
    const gone = exited(a);
    a.postMessage('exit');
    await gone;
    pool.keep(a);
    assert.equal(pool.size, 0, 'a dead thread was kept');
    const b = pool.take();
    assert.notEqual(b, a);
    pool.keep(b);
    assert.equal(pool.size, 1);
    const goneB = exited(b);
    b.postMessage('exit');
    await goneB;
    assert.equal(pool.size, 0, 'a thread that died while idle is still offered');
    const c = pool.take();
    assert.equal(await echo(c, 'alive'), 'alive');
    assert.equal(pool.started, 3);
    pool.keep(c);
    await pool.release();
  });

  it('ends a thread beyond the cap, and one idle for longer than idleMs', async () => {
    const pool = new IdleThreads(script, 1, 100);
    const a = pool.take();
    const b = pool.take();
    const goneB = exited(b);
    pool.keep(a);
    pool.keep(b); // beyond the cap of one
    await goneB;
    assert.equal(pool.size, 1);
    const goneA = exited(a);
    await goneA; // after 100 ms idle
    assert.equal(pool.size, 0);
  });

  it("removes only the job's own listeners: others' on the thread stay", async () => {
    const pool = new IdleThreads(script, 1);
    const w = pool.take();
    let seen = 0;
    w.on('exit', () => seen++);
    const off = listen(w, { exit: () => undefined, error: () => undefined, message: () => undefined });
    off();
    pool.keep(w);
    await pool.release();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen, 1);
  });
});
