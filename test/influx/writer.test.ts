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
  async write(body: string): Promise<void> {
    this.attempts++;
    await Promise.resolve();
    if (this.down) throw new WriteError('retry', 'ECONNREFUSED');
    if (this.failWith) throw this.failWith;
    this.bodies.push(body);
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
    await waitUntil(() => w.stats().queued === 30, 'all points queued', 5000, 2);
    assert.ok(states.includes('backoff'));
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
    await waitUntil(() => w.stats().queued === 3, 'held', 5000, 2);
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

  it('counts the points dropped when the queue is full', async () => {
    const t = new FakeTarget();
    t.down = true;
    const w = make(t, { queue: { dir, maxBytes: 30, maxAgeMs: 3600e3, policy: 'drop-newest' } });
    for (let i = 0; i < 12; i++) w.add(`m v=${i}`); // 4 batches of 17 bytes
    await waitUntil(() => w.stats().dropped.full + w.stats().queued === 12, 'settled', 5000, 2);
    assert.equal(w.stats().queued, 3);
    assert.equal(w.stats().dropped.full, 9);
  });

  it('persists buffered points on close when the server does not answer in time', async () => {
    const never: WriteTarget = {
      description: 'hangs',
      write: (_b: string, signal?: AbortSignal) =>
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
