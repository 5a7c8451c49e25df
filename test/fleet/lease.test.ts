/** The lease table's decisions, fed with heartbeats, claims and the time by hand. */
import assert from 'node:assert/strict';
import { type BoxInfo, DEFAULT_TIMING, LeaseTable, leaseNames } from '../../nodes/fleet/lease';

const box = (name: string, session = `${name}-s1`, leases = ['sched']): BoxInfo => ({
  box: name,
  role: 'line',
  session,
  leases,
  at: 0,
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const empty = Buffer.alloc(0);

/** A table for `me` that has seen the heartbeats of `others` (and its own) at time t. */
function table(me: BoxInfo, others: BoxInfo[], t = 0): LeaseTable {
  const tab = new LeaseTable(me, DEFAULT_TIMING);
  // Subscribed long enough ago to have seen the retained state.
  tab.subscribed(t - DEFAULT_TIMING.settleMs);
  for (const b of [me, ...others]) tab.onBox(b.box, json(b), t);
  return tab;
}

describe('fleet lease table', () => {
  it('lets the first box by name claim a vacant lease at once and the next one a stagger later', () => {
    const a = box('a');
    const b = box('b');
    const ta = table(a, [b]);
    const tb = table(b, [a]);
    assert.deepEqual(ta.toClaim(0), ['sched']);
    assert.deepEqual(tb.toClaim(0), []);
    assert.deepEqual(tb.toClaim(DEFAULT_TIMING.staggerMs - 1), []);
    // a's claim arrives at 10 ms: b no longer claims.
    tb.onClaim('sched', json(ta.claim(0)), 10);
    assert.deepEqual(tb.toClaim(DEFAULT_TIMING.staggerMs), []);
    assert.equal(tb.view(20, true).leases[0].holder, 'a');
  });

  it('claims nothing until it has seen the retained state for the settle time (a box just started)', () => {
    const b = box('b');
    const tb = new LeaseTable(b, DEFAULT_TIMING);
    assert.deepEqual(tb.toClaim(0), [], 'not subscribed yet');
    tb.subscribed(100);
    tb.onBox('b', json(b), 110);
    assert.deepEqual(tb.toClaim(100 + DEFAULT_TIMING.settleMs - 1), [], 'the retained claim may still come');
    assert.deepEqual(tb.toClaim(100 + DEFAULT_TIMING.settleMs), ['sched']);
    tb.subscribed(undefined); // connection lost
    assert.deepEqual(tb.toClaim(5000), []);
  });

  it('acts as the holder only once its claim has stood for the settle time, and only while connected', () => {
    const a = box('a');
    const ta = table(a, []);
    ta.toClaim(0);
    ta.onClaim('sched', json(ta.claim(0)), 5);
    assert.equal(ta.holds('sched', 5 + DEFAULT_TIMING.settleMs - 1, true), false);
    assert.equal(ta.holds('sched', 5 + DEFAULT_TIMING.settleMs, true), true);
    assert.equal(ta.holds('sched', 5 + DEFAULT_TIMING.settleMs, false), false);
    assert.deepEqual(ta.toClaim(2000), [], 'a valid claim is not made again');
  });

  it('gives the lease to the last claim when two boxes claim at once (both see one order)', () => {
    const a = box('a');
    const b = box('b');
    const ta = table(a, [b]);
    const tb = table(b, [a]);
    const ca = json(ta.claim(0));
    const cb = json(tb.claim(1));
    for (const t of [ta, tb]) {
      t.onClaim('sched', ca, 2);
      t.onClaim('sched', cb, 3);
    }
    const later = 3 + DEFAULT_TIMING.settleMs;
    assert.equal(ta.holds('sched', later, true), false);
    assert.equal(tb.holds('sched', later, true), true);
  });

  it('frees the lease when the holder’s will clears its heartbeat, and the next box claims at once', () => {
    const a = box('a');
    const b = box('b');
    const tb = table(b, [a]);
    tb.onClaim('sched', json({ box: 'a', session: 'a-s1', at: 0 }), 0);
    assert.deepEqual(tb.toClaim(100), []);
    tb.onBox('a', empty, 5000); // the will
    assert.equal(tb.view(5000, true).leases[0].holder, null);
    assert.deepEqual(tb.toClaim(5000), ['sched'], 'b is now first among the alive boxes');
  });

  it('counts a box silent for longer than the time to live as dead (a will that never came)', () => {
    const a = box('a');
    const b = box('b');
    const tb = table(b, [a]);
    tb.onClaim('sched', json({ box: 'a', session: 'a-s1', at: 0 }), 0);
    tb.onBox('b', json(b), DEFAULT_TIMING.ttlMs + 1); // b's own heartbeat goes on
    assert.equal(tb.view(DEFAULT_TIMING.ttlMs, true).leases[0].holder, 'a');
    assert.equal(tb.view(DEFAULT_TIMING.ttlMs + 1, true).leases[0].holder, null);
    assert.equal(tb.view(DEFAULT_TIMING.ttlMs + 1, true).boxes.find((x) => x.box === 'a')?.alive, false);
  });

  it('voids the claim of an earlier session of a restarted box', () => {
    const a2 = box('a', 'a-s2');
    const ta = table(a2, []);
    ta.onClaim('sched', json({ box: 'a', session: 'a-s1', at: 0 }), 0);
    assert.equal(ta.view(10, true).leases[0].holder, null);
    assert.deepEqual(ta.toClaim(10), ['sched']);
  });

  it('reads lease lists and refuses names that are not one topic level', () => {
    assert.deepEqual(leaseNames(' area-scheduler, energy retraining,energy '), [
      'area-scheduler',
      'energy',
      'retraining',
    ]);
    assert.throws(
      () => leaseNames('a/b'),
      (e: Error & { code?: string }) => e.code === 'fleet.badLease',
    );
    assert.throws(() => leaseNames('a+'), /one topic level/);
  });
});
