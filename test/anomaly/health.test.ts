import assert from 'node:assert/strict';
import { HealthTracker } from '../../nodes/anomaly/health';

describe('health index: time to alarm and the log scale', () => {
  const H = 3600000;

  it('names the extrapolation to the alarm level timeToAlarm, with rul as the same (deprecated) object', () => {
    // index(t) = 0.1·e^(t/10h) reaches the alarm level 1 at t = 10·ln 10 h; 5 h have passed at the last point.
    const h = new HealthTracker({ smoothing: 1, smoothedThreshold: 1, window: 60 });
    let last;
    for (let i = 0; i <= 50; i++) last = h.push(0.1 * Math.exp(i / 100) * (i % 2 ? 0.99 : 1.01), i * 0.1 * H);
    const expected = (10 * Math.log(10) - 5) * H;
    assert.ok(last?.timeToAlarm, 'an estimate');
    assert.ok(Math.abs(last.timeToAlarm.ms - expected) < 0.02 * expected);
    assert.equal(last.rul, last.timeToAlarm);
  });

  it('has no time to alarm without a trend, and zero once in alarm', () => {
    const h = new HealthTracker({ smoothing: 1, smoothedThreshold: 1 });
    let s;
    for (let i = 0; i < 40; i++) s = h.push(0.3, i * 60000);
    assert.equal(s?.timeToAlarm, undefined);
    s = h.push(5, 40 * 60000);
    assert.deepEqual(s.timeToAlarm, { ms: 0, lowerMs: 0, upperMs: 0, ratePerHour: 0 });
  });

  it('puts the health index on log2(1 + index): 0 at 0, 1 at the alarm level, about 10 at a thousand', () => {
    const at = (score: number) => new HealthTracker({ smoothing: 1, smoothedThreshold: 2 }).push(score, 0);
    assert.equal(at(0).healthIndexLog, 0);
    assert.equal(at(2).healthIndex, 1);
    assert.equal(at(2).healthIndexLog, 1);
    assert.equal(at(6).healthIndexLog, 2);
    const failing = at(2000);
    assert.equal(failing.healthIndex, 1000);
    assert.ok(Math.abs(failing.healthIndexLog - Math.log2(1001)) < 1e-12);
    assert.ok(failing.healthIndexLog < 10);
  });

  it('keeps the order of the index on the log scale', () => {
    const h = new HealthTracker({ smoothing: 1, smoothedThreshold: 1 });
    const logs = [0.1, 0.5, 1, 3, 50, 4000].map((x, i) => h.push(x, i).healthIndexLog);
    for (let i = 1; i < logs.length; i++) assert.ok(logs[i] > logs[i - 1]);
  });
});
