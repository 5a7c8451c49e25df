import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} differs from ${expected} by more than ${tol}`,
  );

describe('spc/constants: unbiasing constants computed exactly', () => {
  it('c4 equals its gamma-function closed form for small n', () => {
    // c4(2) = sqrt(2/pi), c4(3) = sqrt(pi)/2, c4(4) = 2*sqrt(2/(3*pi))
    close(spc.c4(2), Math.sqrt(2 / Math.PI), 1e-13, 'c4(2)');
    close(spc.c4(3), Math.sqrt(Math.PI) / 2, 1e-13, 'c4(3)');
    close(spc.c4(4), 2 * Math.sqrt(2 / (3 * Math.PI)), 1e-13, 'c4(4)');
  });

  it('d2 and d3 equal the closed forms for n = 2 and n = 3', () => {
    // range of two standard normals: |N(0, 2)|, mean 2/sqrt(pi), variance 2 - 4/pi; d2(3) = 3/sqrt(pi)
    close(spc.d2(2), 2 / Math.sqrt(Math.PI), 1e-10, 'd2(2)');
    close(spc.d3(2), Math.sqrt(2 - 4 / Math.PI), 1e-9, 'd3(2)');
    close(spc.d2(3), 3 / Math.sqrt(Math.PI), 1e-10, 'd2(3)');
  });

  it('matches the published tables (Montgomery appendix VI, ASTM STP 15D) to their 3-4 decimals', () => {
    const table: [number, number, number, number][] = [
      // n, d2, d3, c4
      [4, 2.059, 0.88, 0.9213],
      [5, 2.326, 0.864, 0.94],
      [6, 2.534, 0.848, 0.9515],
      [10, 3.078, 0.797, 0.9727],
      [15, 3.472, 0.756, 0.9823],
      [20, 3.735, 0.729, 0.9869],
      [25, 3.931, 0.708, 0.9896],
    ];
    for (const [n, d2, d3, c4] of table) {
      close(spc.d2(n), d2, 5e-4, `d2(${n})`);
      close(spc.d3(n), d3, 5e-4, `d3(${n})`);
      close(spc.c4(n), c4, 5e-5, `c4(${n})`);
    }
  });

  it('works for any subgroup size and refuses sizes below 2', () => {
    assert.ok(spc.d2(60) > spc.d2(50));
    assert.throws(() => spc.d2(1), { code: 'spc.badSize' });
    assert.throws(() => spc.c4(2.5), /subgroup size must be an integer/);
  });
});
