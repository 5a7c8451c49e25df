import assert from 'node:assert/strict';
import { linearTrend } from '../../bench/lib/trend';

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
});
