/**
 * Caps added by the audit of what each node keeps (README "Caps: what each node keeps and where the limit is
 * set"): each test feeds more than the cap and checks what is kept and what is counted.
 */
import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';
import { MAX_GROUP_VALUES } from '../../nodes/spc/monitor';

const T0 = Date.UTC(2026, 0, 5, 6);

describe('caps found by the audit', () => {
  it('SPC: a field group whose key never changes closes at MAX_GROUP_VALUES values, counted', () => {
    const m = new spc.SpcMonitor({ type: 'xbar-s', phaseOne: 5, grouping: 'field' });
    const chunk = Array.from({ length: 4000 }, (_, i) => 10 + (i % 7) * 0.1);
    const sizes: (number | null)[] = [];
    for (let k = 0; k < 7; k++) sizes.push(m.push({ value: chunk, ts: T0 + k, key: 'lot-1' })?.size ?? null);
    // 4000, 8000, 12000 >= cap: closes; then again at the 6th message
    assert.deepEqual(sizes, [null, null, 12000, null, null, 12000, null]);
    assert.equal(m.splitGroups, 2);
    assert.ok(MAX_GROUP_VALUES <= 12000);
  });

  it('SPC: a time group at a high rate closes at the cap too, and a new key still closes a group as before', () => {
    const m = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 5, grouping: 'time', windowMs: 3600000 });
    let closed = 0;
    for (let i = 0; i < 2.5 * MAX_GROUP_VALUES; i++) if (m.push({ value: 5 + (i % 3), ts: T0 + i })) closed++;
    assert.equal(closed, 2);
    assert.equal(m.splitGroups, 2);
    const f = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 5, grouping: 'field' });
    const ev = [1, 2, 3, 4].map((v, i) => f.push({ value: v, ts: T0, key: i < 2 ? 'A' : 'B' }));
    assert.deepEqual(
      ev.map((e) => e?.size ?? null),
      [null, null, 2, null],
    );
    assert.equal(f.splitGroups, 0);
  });
});
