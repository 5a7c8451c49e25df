import assert from 'node:assert/strict';
import { runTestbed } from '../../bench/lib/guard-testbed';
import { ATTACK_CLASSES } from '../../bench/lib/guard-traffic';

// bench:guard at CI size: the loopback testbed (aedes with the tap, the simulator over OPC UA and
// Sparkplug, ten sensors, an MES client), 8 plant minutes of normal traffic at 30x with machine faults
// (two while the guard learns, four others after), then one attack of each class. Loopback only,
// seeded, about a minute of wall time.
describe('guard on the loopback testbed (integration)', function () {
  this.timeout(240_000);

  it('detects one attack of every class, typed right, and keeps the false-alarm budget', async () => {
    const r = await runTestbed({ factor: 30, minutes: 8, trainMinutes: 5, trials: 1, seed: 3 });
    for (const c of ATTACK_CLASSES) {
      const p = r.perClass[c];
      assert.equal(p.detected, p.trials, `${c}: ${p.detected}/${p.trials} detected`);
      assert.ok(p.medianDelayS <= 10, `${c}: delay ${p.medianDelayS} s`);
    }
    // the budget: at most 1 % of normal windows flagged, at most one false alert per plant hour (in this
    // short run: none), on a normal period whose faults differ from the learned ones
    assert.ok(r.faultsScored > r.faultsTrain);
    assert.ok(r.fpWindows <= 0.01, `fpWindows ${r.fpWindows}`);
    assert.ok(
      r.falseAlertsPerHour <= 1,
      `${r.falseAlerts} false alerts: ${JSON.stringify(r.falseAlertSamples.map((a) => [a.type, a.client, a.evidence[0]]))}`,
    );
    assert.equal(r.dropped, 0);
    assert.ok(r.events > 1000, `events ${r.events}`);
  });
});
