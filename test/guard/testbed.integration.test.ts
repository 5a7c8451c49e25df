import assert from 'node:assert/strict';
import { runTestbed } from '../../bench/lib/guard-testbed';
import { ATTACK_CLASSES } from '../../bench/lib/guard-traffic';

// bench:guard at CI size: the loopback testbed (aedes with the tap, the simulator over OPC UA and
// Sparkplug, ten sensors, an MES client), 8 plant minutes of normal traffic at 30x, then one attack of
// each class. Loopback only, seeded, about a minute of wall time.
describe('guard on the loopback testbed (integration)', function () {
  this.timeout(240_000);

  it('detects one attack of every class, typed right, within 10 plant seconds', async () => {
    const r = await runTestbed({ factor: 30, minutes: 8, trainMinutes: 5, trials: 1, seed: 3 });
    for (const c of ATTACK_CLASSES) {
      const p = r.perClass[c];
      assert.equal(p.detected, p.trials, `${c}: ${p.detected}/${p.trials} detected`);
      assert.ok(p.medianDelayS <= 10, `${c}: delay ${p.medianDelayS} s`);
    }
    assert.equal(r.dropped, 0);
    assert.ok(r.events > 1000, `events ${r.events}`);
  });
});
