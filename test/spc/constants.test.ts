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

describe("spc/constants: qcc's published tables and the provider", () => {
  it('the tables are qcc.options("exp.R.unscaled") for n = 2..25 and ("se.R.unscaled") for n = 2..50', () => {
    assert.equal(spc.QCC_D2.length, 26);
    assert.equal(spc.QCC_D3.length, 51);
    // end points and a few textbook values, as printed in qcc's source
    assert.deepEqual(
      [2, 5, 10, 25].map((n) => spc.QCC_D2[n]),
      [1.128, 2.326, 3.078, 3.931],
    );
    assert.deepEqual(
      [2, 5, 25, 50].map((n) => spc.QCC_D3[n]),
      [0.8525033, 0.8640855, 0.7084528, 0.6521506],
    );
  });

  it('every table entry is close to its exact value (d2 rounded to 3 decimals, d3 within 2e-5): no typo', () => {
    for (let n = 2; n <= 25; n++) close(spc.QCC_D2[n], spc.d2(n), 5e-4 + 1e-9, `d2(${n})`);
    // qcc's seven-decimal d3 entries differ from the integral by up to 1.2e-5 (n = 26)
    for (let n = 2; n <= 50; n++) close(spc.QCC_D3[n], spc.d3(n), 2e-5, `d3(${n})`);
    // and d2 rises, d3 falls from n = 3 on, as the range distribution does
    for (let n = 3; n <= 25; n++) assert.ok(spc.QCC_D2[n] > spc.QCC_D2[n - 1]);
    for (let n = 4; n <= 50; n++) assert.ok(spc.QCC_D3[n] < spc.QCC_D3[n - 1]);
  });

  it("'table' (the default) reads the tables and falls back to the exact value beyond them", () => {
    const t = spc.constants();
    assert.equal(t.mode, 'table');
    assert.equal(t.d2(2), 1.128);
    assert.equal(t.d3(7), 0.8332108);
    assert.equal(t.d2(26), spc.d2(26));
    assert.equal(t.d3(51), spc.d3(51));
    assert.equal(t.c4(5), spc.c4(5));
    assert.deepEqual(
      [t.beyondTable(25, 'd2'), t.beyondTable(26, 'd2'), t.beyondTable(50, 'd3'), t.beyondTable(51, 'd3')],
      [false, true, false, true],
    );
  });

  it("'exact' computes every constant", () => {
    const x = spc.constants('exact');
    assert.equal(x.d2(2), spc.d2(2));
    assert.equal(x.d3(7), spc.d3(7));
    assert.equal(x.beyondTable(100, 'd3'), false);
    assert.throws(() => spc.constants('rounded' as 'table'), { code: 'spc.badOption' });
    assert.equal(spc.toConstantsMode(undefined), 'table');
    assert.equal(spc.toConstantsMode('exact'), 'exact');
  });
});
