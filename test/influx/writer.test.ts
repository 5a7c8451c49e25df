/**
 * InfluxWriter with a scripted in-process target (the real servers are in the integration tests): batching,
 * back-off, store-and-forward, order of replay, rejection, close.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backoffDelay, InfluxWriter, type WriterOptions } from '../../nodes/influx/writer';
import { type WriteTarget, WriteError } from '../../nodes/influx/transport';
import { waitUntil } from '../helpers/net';

/** A target that records accepted bodies and fails while `down` (or with `failWith`). */
class FakeTarget implements WriteTarget {
  description = 'fake';
  bodies: string[] = [];
  attempts = 0;
  down = false;
  failWith: WriteError | undefined;
  async write(body: Buffer): Promise<void> {
    this.attempts++;
    await Promise.resolve();
    if (this.down) throw new WriteError('retry', 'ECONNREFUSED');
    if (this.failWith) throw this.failWith;
    this.bodies.push(body.toString('utf8'));
  }
  get lines(): string[] {
    return this.bodies.flatMap((b) => b.split('\n'));
  }
}

describe('influx writer', () => {
  let dir: string;
  const writers: InfluxWriter[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'takt-influx-w-'))));
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.close(10);
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (target: WriteTarget, over: Partial<WriterOptions> = {}) => {
    const w = new InfluxWriter({
      target,
      queue: { dir, maxBytes: 1e6, maxAgeMs: 3600e3, policy: 'drop-oldest' },
      batchSize: 3,
      flushIntervalMs: 60000,
      maxInFlight: 2,
      maxPending: 4,
      retry: { initialMs: 5, maxMs: 20, factor: 2, jitter: 0.5 },
      ...over,
    });
    writers.push(w);
    return w;
  };

  it('computes exponential back-off with jitter inside its bounds', () => {
    const r = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
    assert.equal(
      backoffDelay(0, r, () => 0),
      100,
    );
    assert.equal(
      backoffDelay(3, r, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(4, r, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(2, r, () => 1),
      200,
    );
    assert.equal(
      backoffDelay(2, { ...r, jitter: 1 }, () => 0.5),
      200,
    );
  });

  it('sends full batches at once and a partial batch on flush', async () => {
    const t = new FakeTarget();
    const w = make(t);
    for (let i = 0; i < 7; i++) w.add(`m v=${i} ${i}`);
    await waitUntil(() => t.bodies.length === 2, 'two full batches', 5000, 2);
    assert.equal(t.bodies[0], 'm v=0 0\nm v=1 1\nm v=2 2');
    assert.equal(w.stats().buffered, 1);
    w.flush();
    assert.equal(await w.drained(5000), true);
    assert.equal(t.bodies[2], 'm v=6 6');
    assert.equal(w.stats().written, 7);
    assert.equal(w.state, 'connected');
  });

  it('queues on disk while the server is down and replays in order when it is back', async () => {
    const t = new FakeTarget();
    t.down = true;
    const states: string[] = [];
    const w = make(t, { onState: (s) => states.push(s) });
    for (let i = 0; i < 30; i++) w.add(`m v=${i} ${i}`);
    // Batches go out once their lines are in a log record (the next group commit); the first attempt fails.
    await waitUntil(() => states.includes('backoff'), 'backing off', 5000, 2);
    assert.equal(w.stats().queued, 30);
    t.down = false;
    await waitUntil(() => w.stats().written === 30, 'replay', 5000, 2);
    assert.deepEqual(
      t.lines,
      Array.from({ length: 30 }, (_, i) => `m v=${i} ${i}`),
    );
    assert.equal(w.stats().queued, 0);
    assert.ok(w.stats().retries > 0);
  });

  it('keeps the queue across a restart of the writer and sends it on the next start', async () => {
    const t = new FakeTarget();
    t.down = true;
    const w = make(t);
    for (let i = 0; i < 5; i++) w.add(`m v=${i}`);
    const closing = await w.close(50);
    assert.equal(closing.queued, 5);
    const t2 = new FakeTarget();
    const w2 = make(t2);
    assert.equal(w2.stats().queued, 5);
    await waitUntil(() => w2.stats().written === 5, 'replay after restart', 5000, 2);
    assert.deepEqual(t2.lines, ['m v=0', 'm v=1', 'm v=2', 'm v=3', 'm v=4']);
  });

  it('holds data on 401 and writes it once the token is fixed', async () => {
    const t = new FakeTarget();
    t.failWith = new WriteError('auth', 'HTTP 401: unauthorized', 401);
    const errs: string[] = [];
    const w = make(t, { onState: (_s, e) => e && errs.push(e.message) });
    for (let i = 0; i < 3; i++) w.add(`m v=${i}`);
    await waitUntil(() => errs.length > 0, 'the first attempt', 5000, 2);
    assert.equal(w.stats().queued, 3);
    assert.match(errs[0], /401/);
    assert.equal(w.stats().dropped.rejected, 0);
    t.failWith = undefined;
    await waitUntil(() => w.stats().written === 3, 'written after fix', 5000, 2);
  });

  it('counts and reports a batch the server refuses as malformed, and goes on', async () => {
    const t = new FakeTarget();
    const drops: [string, number, string | undefined][] = [];
    const w = make(t, { onDrop: (r, n, d) => drops.push([r, n, d]) });
    t.failWith = new WriteError('reject', 'HTTP 400: unable to parse', 400);
    for (let i = 0; i < 3; i++) w.add(`bad ${i}`);
    await waitUntil(() => drops.length === 1, 'rejection', 5000, 2);
    assert.deepEqual(drops[0], ['rejected', 3, 'HTTP 400: unable to parse']);
    t.failWith = undefined;
    for (let i = 0; i < 3; i++) w.add(`m v=${i}`);
    await waitUntil(() => w.stats().written === 3, 'next batch', 5000, 2);
    assert.equal(w.stats().dropped.rejected, 3);
  });

  it('drop-newest: counts the points refused when the log is full', async () => {
    const t = new FakeTarget();
    t.down = true;
    const reports: [string, number][] = [];
    const w = make(t, {
      queue: { dir, maxBytes: 100, maxAgeMs: 3600e3, policy: 'drop-newest' },
      onDrop: (r, n) => reports.push([r, n]),
    });
    // Each 5-character line takes 6 bytes of the log: 16 fit under 100 bytes.
    let taken = 0;
    for (let i = 0; i < 30; i++) if (w.add(`m v=${i % 10}`)) taken++;
    assert.equal(taken, 16);
    const s = w.stats();
    assert.equal(s.dropped.full, 14);
    assert.equal(s.queued + s.buffered, 16);
    t.down = false;
    w.flush();
    await waitUntil(() => w.stats().written === 16, 'the points taken', 5000, 2);
    await w.close(100);
    assert.deepEqual(reports, [['full', 14]], 'one report for the refused points');
  });

  it('drop-oldest: gives up the oldest batches to make room and keeps the newest', async () => {
    const t = new FakeTarget();
    t.down = true;
    const w = make(t, {
      queue: { dir, maxBytes: 400, maxAgeMs: 3600e3, policy: 'drop-oldest', segmentBytes: 64 },
    });
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 9; i++) w.add(`m v=${round * 9 + i}`);
      await new Promise<void>((r) => w.durable(() => r()));
    }
    const s = w.stats();
    assert.ok(s.dropped.full > 0, 'something was dropped');
    assert.equal(s.queued + s.buffered + s.dropped.full, 90);
    assert.ok(s.queuedBytes <= 400 + 100, `log size ${s.queuedBytes}`);
    t.down = false;
    await waitUntil(() => w.stats().queued === 0, 'the rest written', 5000, 2);
    assert.equal(w.stats().written, 90 - s.dropped.full);
    assert.equal(t.lines.at(-1), 'm v=89');
    assert.ok(!t.lines.includes('m v=0'));
  });

  it('calls back once the points are on disk, and a new writer sends what was not confirmed after a crash', async () => {
    // Confirms the first two batches, then never answers (a crash follows).
    let answered = 0;
    const first: WriteTarget = {
      description: 'then hangs',
      write: () => (answered++ < 2 ? Promise.resolve() : new Promise<void>(() => undefined)),
    };
    const w = make(first);
    for (let i = 0; i < 10; i++) w.add(`m v=${i}`);
    w.flush();
    await new Promise<void>((r) => w.durable(() => r()));
    await waitUntil(() => w.stats().written === 6, 'two batches confirmed', 5000, 2);
    // No close: the process is gone. A new writer on the same folder:
    const t2 = new FakeTarget();
    const w2 = make(t2);
    assert.equal(w2.stats().replayed, 4);
    await waitUntil(() => w2.stats().written === 4, 'replay after the crash', 5000, 2);
    assert.deepEqual(t2.lines, ['m v=6', 'm v=7', 'm v=8', 'm v=9']);
  });

  it('reads batches back from the log when more wait than are kept in memory', async () => {
    const t = new FakeTarget();
    t.down = true;
    const w = make(t, { maxPending: 2 });
    for (let i = 0; i < 60; i++) w.add(`m v=${i}`);
    await new Promise<void>((r) => w.durable(() => r()));
    await waitUntil(() => w.state === 'backoff', 'back-off', 5000, 2);
    t.down = false;
    await waitUntil(() => w.stats().written === 60, 'all written', 5000, 2);
    assert.deepEqual(
      t.lines,
      Array.from({ length: 60 }, (_, i) => `m v=${i}`),
    );
  });

  it('persists buffered points on close when the server does not answer in time', async () => {
    const never: WriteTarget = {
      description: 'hangs',
      write: (_b: Buffer, signal?: AbortSignal) =>
        new Promise((_r, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    const w = make(never);
    for (let i = 0; i < 4; i++) w.add(`m v=${i}`);
    const s = await w.close(20);
    assert.equal(s.queued, 4);
    assert.equal(s.state, 'closed');
    assert.throws(() => w.add('m v=9'));
  });
});
