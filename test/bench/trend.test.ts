import assert from 'node:assert/strict';
import { linearTrend, saturatingFit } from '../../bench/lib/trend';

describe('soak bench: least-squares trend', () => {
  it('recovers slope and intercept of an exact line, with zero error', () => {
    const t = linearTrend([0, 1, 2, 3], [1, 3, 5, 7]);
    assert.equal(t.slope, 2);
    assert.equal(t.intercept, 1);
    assert.equal(t.residualSd, 0);
    assert.equal(t.slopeSe, 0);
  });

  it('gives the textbook standard error and residual SD', () => {
    // y = 0, 2, 1, 3 over x = 0..3: slope 0.8, intercept 0.3, SSE 1.8, sd = sqrt(1.8 / 2), se = sd / sqrt(5).
    const t = linearTrend([0, 1, 2, 3], [0, 2, 1, 3]);
    assert.ok(Math.abs(t.slope - 0.8) < 1e-12);
    assert.ok(Math.abs(t.intercept - 0.3) < 1e-12);
    assert.ok(Math.abs(t.residualSd - Math.sqrt(0.9)) < 1e-12);
    assert.ok(Math.abs(t.slopeSe - Math.sqrt(0.9 / 5)) < 1e-12);
  });

  it('has no slope for a flat series and copes with too few points', () => {
    assert.equal(linearTrend([0, 1, 2], [5, 5, 5]).slope, 0);
    assert.deepEqual(linearTrend([], []), { n: 0, slope: 0, intercept: 0, slopeSe: 0, residualSd: 0 });
    assert.equal(linearTrend([1, 1], [2, 4]).slope, 0);
  });

  it('fits a curve that levels off, and calls a straight line unbounded', () => {
    // y = 13 − 4·exp(−x/35) from x = 15 to 120 (a JIT warm-up's shape, minutes and MB): τ 35, asymptote 13.
    const xs = Array.from({ length: 211 }, (_, i) => 15 + i / 2);
    const s = saturatingFit(
      xs,
      xs.map((x) => 13 - 4 * Math.exp(-x / 35)),
      2,
      2000,
    );
    assert.ok(Math.abs(s.tau - 35) / 35 < 0.02, `tau ${s.tau}`);
    assert.ok(Math.abs(s.asymptote - 13) < 0.01, `asymptote ${s.asymptote}`);
    assert.ok(Math.abs(s.left - 4 * Math.exp(-120 / 35)) < 0.01, `left ${s.left}`);
    assert.equal(s.unbounded, false);
    const line = saturatingFit(
      xs,
      xs.map((x) => 100 + 0.2 * x),
      2,
      2000,
    );
    assert.equal(line.unbounded, true);
  });
});
