import assert from 'node:assert/strict';
import { lineOptimum, oracleChoice } from '../../bench/lib/energy-line';
import { DEFAULT_PROCESSES, type ProcessSpec } from '../../nodes/sim/process';

/**
 * Quality shift 0.02·u1 − 0.01·u2, energy 1 + 0.1·(u1 + u2) + 0.1·(u1² + u2²), no drift. On the line of shift 0,
 * u2 = 2·u1 and the energy is 1 + 0.3·u1 + 0.5·u1²: least 0.955 at u1 = −0.3, u2 = −0.6. The least energy of
 * all, 0.95 at u1 = u2 = −0.5, has shift −0.005.
 */
const LINEAR: ProcessSpec = {
  ...DEFAULT_PROCESSES.CNC1,
  linear: [0.02, -0.01],
  quadratic: [
    [0, 0],
    [0, 0],
  ],
  drift: { wear: 0, ambient: 0, lot: 0, cold: 0 },
  energyLinear: [0.1, 0.1],
  energyQuadratic: [
    [0.1, 0],
    [0, 0.1],
  ],
};
const CALM = { wear: 0, ambient: 0, lot: 0, cold: 0 };

describe('bench/lib/energy-line: exact least-energy setpoints', () => {
  it('finds the least energy along the setpoints of one quality (a textbook Lagrange case)', () => {
    assert.ok(Math.abs(lineOptimum(LINEAR, CALM, 0)! - 0.955) < 1e-9);
    // Shift 0.01: u2 = 2·u1 − 1, energy 1 − 0.1·u1 + 0.5·u1², least at u1 = 0.1: 0.995.
    assert.ok(Math.abs(lineOptimum(LINEAR, CALM, 0.01)! - 0.995) < 1e-9);
    assert.equal(lineOptimum(LINEAR, CALM, 0.05), undefined, 'out of reach');
  });

  it("the oracle holds the target at the line's least energy when energy is cheap, trades it as it is dear", () => {
    const sigma = 0.005;
    const lambdas = [1e-6, 0.01, 0.05, 0.2, 1];
    const picks = oracleChoice(LINEAR, CALM, 0, sigma, lambdas);
    assert.ok(picks[0].dev2 < 1e-4, `dev² ${picks[0].dev2}`);
    assert.ok(Math.abs(picks[0].energy - 0.955) < 1e-4, `energy ${picks[0].energy}`);
    for (let k = 1; k < lambdas.length; k++) {
      assert.ok(picks[k].energy <= picks[k - 1].energy + 1e-12, 'less energy at a higher price');
      assert.ok(picks[k].dev2 >= picks[k - 1].dev2 - 1e-12, 'more deviation');
    }
    // No pick beats the line: its energy is at least the least energy at the quality it runs at.
    for (const p of picks) {
      const shift = Math.sqrt(p.dev2) * sigma;
      const line = Math.min(
        lineOptimum(LINEAR, CALM, shift) ?? Infinity,
        lineOptimum(LINEAR, CALM, -shift) ?? Infinity,
      );
      assert.ok(p.energy >= line - 1e-6, `energy ${p.energy} below the line's ${line}`);
    }
    // In noise SDs d (shift 0.005·d) the line's least energy is 0.955 + 0.01·d + 0.005·d², so the oracle
    // minimises d² + 100·λ·(0.01·d + 0.005·d²): d = −λ / (2 + λ).
    lambdas.forEach((l, k) => {
      const d = -l / (2 + l);
      assert.ok(
        Math.abs(Math.sqrt(picks[k].dev2) - Math.abs(d)) < 0.005,
        `λ ${l}: d ${Math.sqrt(picks[k].dev2)} vs ${d}`,
      );
      assert.ok(
        Math.abs(picks[k].energy - (0.955 + 0.01 * d + 0.005 * d * d)) < 2e-5,
        `λ ${l}: ${picks[k].energy}`,
      );
    });
  });
});
