import assert from 'node:assert/strict';
import { SerialJobs } from '../../nodes/core/jobs';

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
});
