import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { LabelJoin } from '../../nodes/learn/join';

const code = (c: string) => (e: unknown) => e instanceof TaktError && e.code === c;

describe('learn/join: rows joined with labels that arrive later', () => {
  it('joins by part id in any order, and counts labels for no waiting part', () => {
    const j = new LabelJoin({ by: 'id', maxWaitMs: 60_000, maxRows: 100 });
    j.addRow({ x: [1, 2], ts: 1000, id: 'A' });
    j.addRow({ x: [3, 4], ts: 2000, id: 7 });
    const b = j.addLabel({ value: 9.5, id: '7', ts: 5000 });
    assert.deepEqual(b.joined, { x: [3, 4], y: 9.5, ts: 2000, id: '7' });
    const a = j.addLabel({ value: true, id: 'A' });
    assert.deepEqual(a.joined, { x: [1, 2], y: 1, ts: 1000, id: 'A' });
    assert.equal(j.addLabel({ value: 1, id: 'A' }).joined, undefined);
    assert.deepEqual(j.stats, { waiting: 0, joined: 2, expired: 0, unmatched: 1, ambiguous: 0 });
  });

  it('joins by time with the label delay, taking the row nearest to the label time minus the delay', () => {
    const j = new LabelJoin({
      by: 'time',
      windowMs: 2000,
      delayMs: 30_000,
      maxWaitMs: 600_000,
      maxRows: 100,
    });
    for (let i = 0; i < 5; i++) j.addRow({ x: [i], ts: i * 10_000 });
    const r = j.addLabel({ value: 2.5, ts: 20_000 + 30_000 + 1500 });
    assert.deepEqual(r.joined?.x, [2]);
    assert.equal(r.candidates, 1);
    // Outside every window: unmatched, and the row waits on.
    assert.equal(j.addLabel({ value: 1, ts: 15_000 + 30_000 }).joined, undefined);
    assert.deepEqual(j.stats, { waiting: 4, joined: 1, expired: 0, unmatched: 1, ambiguous: 0 });
  });

  it('counts a label whose time window holds several rows as ambiguous and joins the nearest', () => {
    const j = new LabelJoin({ by: 'time', windowMs: 25_000, maxWaitMs: 600_000, maxRows: 100 });
    for (let i = 0; i < 5; i++) j.addRow({ x: [i], ts: i * 10_000 });
    const r = j.addLabel({ value: 3, ts: 31_000 });
    assert.equal(r.candidates, 4, 'rows at 10, 20, 30 and 40 s; 0 s is 31 s away');
    assert.deepEqual(r.joined?.x, [3]);
    assert.equal(j.stats.ambiguous, 1);
  });

  it('expires rows whose label does not come within the wait, on the data clock, and counts them', () => {
    const j = new LabelJoin({ by: 'id', maxWaitMs: 10_000, maxRows: 100 });
    j.addRow({ x: [1], ts: 0, id: 'a' });
    j.addRow({ x: [2], ts: 5000, id: 'b' });
    assert.equal(j.addRow({ x: [3], ts: 12_000, id: 'c' }), 1, 'a waited 12 s');
    assert.equal(j.addLabel({ value: 1, id: 'a' }).joined, undefined, 'a is gone');
    assert.equal(j.advance(30_000), 2);
    assert.deepEqual(j.stats, { waiting: 0, joined: 0, expired: 3, unmatched: 1, ambiguous: 0 });
    // A row already too old when it comes expires at once, counted.
    assert.equal(j.addRow({ x: [4], ts: 1000, id: 'd' }), 1);
    assert.equal(j.stats.expired, 4);
  });

  it('keeps at most maxRows waiting: the oldest expires, counted', () => {
    const j = new LabelJoin({ by: 'time', windowMs: 100, maxWaitMs: 1e9, maxRows: 3 });
    let expired = 0;
    for (let i = 0; i < 10; i++) expired += j.addRow({ x: [i], ts: i * 1000 });
    assert.equal(expired, 7);
    assert.deepEqual(j.stats, { waiting: 3, joined: 0, expired: 7, unmatched: 0, ambiguous: 0 });
    assert.deepEqual(j.addLabel({ value: 0, ts: 7000 }).joined?.x, [7]);
    assert.equal(j.addLabel({ value: 0, ts: 2000 }).joined, undefined);
  });

  it('refuses non-numeric features, bad labels, rows without a part id and a part twice', () => {
    const j = new LabelJoin({ by: 'id', maxWaitMs: 1000, maxRows: 10 });
    assert.throws(() => j.addRow({ x: [1, 'x'], ts: 0, id: 'a' }), code('learn.badFeatures'));
    assert.throws(() => j.addRow({ x: [1, NaN], ts: 0, id: 'a' }), code('learn.badFeatures'));
    assert.throws(() => j.addRow({ x: [1], ts: 0 }), code('learn.noPartId'));
    assert.throws(() => j.addRow({ x: [1], ts: 0, id: {} }), code('learn.badPartId'));
    j.addRow({ x: [1], ts: 0, id: 'a' });
    assert.throws(() => j.addRow({ x: [2], ts: 1, id: 'a' }), code('learn.duplicatePart'));
    assert.throws(() => j.addLabel({ value: 'good', id: 'a' }), code('learn.badLabel'));
    assert.equal(j.stats.waiting, 1);
    const t = new LabelJoin({ by: 'time', windowMs: 10, maxWaitMs: 1000, maxRows: 10 });
    assert.throws(() => t.addLabel({ value: 1 }), code('learn.badTime'));
    assert.throws(() => new LabelJoin({ by: 'time', maxWaitMs: 1, maxRows: 1 }), code('learn.badJoin'));
    assert.throws(() => new LabelJoin({ by: 'id', maxWaitMs: 1, maxRows: 0 }), code('learn.badJoin'));
  });
});
