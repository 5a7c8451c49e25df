import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchQueue, type DropReason, type QueueOptions } from '../../nodes/influx/queue';

describe('influx store-and-forward queue', () => {
  let dir: string;
  let clock: number;
  let drops: [DropReason, number, number][];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'takt-influx-q-'));
    clock = 1000;
    drops = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (over: Partial<QueueOptions> = {}) =>
    new BatchQueue({
      dir,
      maxBytes: 100,
      maxAgeMs: 10000,
      policy: 'drop-oldest',
      now: () => clock,
      onDrop: (r, p, b) => drops.push([r, p, b]),
      ...over,
    });

  const drain = (q: BatchQueue) => {
    const out: string[] = [];
    for (let d = q.take(); d; d = q.take()) {
      out.push(d.body);
      q.ack(d.batch);
    }
    return out;
  };

  it('hands batches back oldest first and survives a reopen', () => {
    const q = open();
    q.push('a 1', 1);
    q.push('b 1\nb 2', 2);
    q.push('c 1', 1);
    assert.equal(q.points, 4);
    assert.equal(q.bytes, 3 + 7 + 3);
    const again = open();
    assert.equal(again.length, 3);
    assert.equal(again.points, 4);
    assert.deepEqual(drain(again), ['a 1', 'b 1\nb 2', 'c 1']);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('keeps a released batch at the head and continues numbering after a reopen', () => {
    const q = open();
    q.push('a', 1);
    q.push('b', 1);
    const first = q.take();
    assert.equal(first?.body, 'a');
    q.release(first!.batch);
    const again = open();
    again.push('c', 1);
    assert.deepEqual(drain(again), ['a', 'b', 'c']);
  });

  it('drop-oldest makes room by deleting the oldest batches and reports them', () => {
    const q = open({ maxBytes: 10 });
    q.push('aaaa', 4);
    q.push('bbbb', 4);
    assert.equal(q.push('cccc', 4), true);
    assert.deepEqual(drops, [['full', 4, 1]]);
    assert.deepEqual(drain(q), ['bbbb', 'cccc']);
  });

  it('drop-newest refuses the new batch and reports it', () => {
    const q = open({ maxBytes: 10, policy: 'drop-newest' });
    q.push('aaaa', 4);
    q.push('bbbb', 4);
    assert.equal(q.push('cccc', 3), false);
    assert.deepEqual(drops, [['full', 3, 1]]);
    assert.deepEqual(drain(q), ['aaaa', 'bbbb']);
  });

  it('never drops a batch that is being sent', () => {
    const q = open({ maxBytes: 8 });
    q.push('aaaa', 1);
    const inFlight = q.take();
    q.push('bbbb', 1);
    assert.equal(q.push('cccc', 1), true);
    assert.deepEqual(drops, [['full', 1, 1]]);
    q.ack(inFlight!.batch);
    assert.deepEqual(drain(q), ['cccc']);
  });

  it('drops batches older than the age limit, also those found at a reopen', () => {
    const q = open();
    q.push('old', 5);
    clock += 6000;
    q.push('mid', 1);
    clock += 5000;
    q.expire();
    assert.deepEqual(drops, [['age', 5, 1]]);
    clock += 5001;
    const again = open();
    again.expire();
    assert.deepEqual(drops, [
      ['age', 5, 1],
      ['age', 1, 1],
    ]);
    assert.equal(again.length, 0);
  });

  it('ignores foreign files and removes temp files left by a crash', () => {
    writeFileSync(join(dir, 'notes.txt'), 'x');
    writeFileSync(join(dir, '000000000001-5-1.lp.123.tmp'), 'half');
    const q = open();
    assert.equal(q.length, 0);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
  });

  it('works in memory without a folder', () => {
    const q = open({ dir: undefined });
    q.push('x', 1);
    q.push('y', 1);
    assert.deepEqual(drain(q), ['x', 'y']);
  });
});
