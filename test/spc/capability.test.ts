/**
 * Capability against qcc 3.0's vignette (process.capability on the pistonrings X-bar chart, 25 subgroups)
 * and Anderson-Darling A² against scipy.stats.anderson on the same 125 values.
 */
import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';
import { PISTONRINGS } from './data';

const phase1 = PISTONRINGS.slice(0, 25);
/**
 * Printed to `decimals` decimals by qcc; with qcc's d2 table (the default) only the printed rounding
 * remains.
 */
const near = (actual: number | null, printed: number, what: string, decimals = 4) => {
  assert.ok(actual !== null, `${what} is null`);
  const tol = 0.5 * 10 ** -decimals + 1e-12 * Math.abs(printed);
  assert.ok(Math.abs(actual - printed) <= tol, `${what}: ${actual} vs ${printed}`);
};

describe('spc.capability', () => {
  it('spec 73.95-74.05: Cp 1.7033, Cpk 1.6632 [1.4481, 1.8783], Cpm 1.691 (qcc)', () => {
    const c = spc.capability(phase1, { lsl: 73.95, usl: 74.05 });
    near(c.cp, 1.7033, 'Cp');
    near(c.cpl, 1.7433, 'Cp_l');
    near(c.cpu, 1.6632, 'Cp_u');
    near(c.cpk, 1.6632, 'Cpk');
    near(c.cpkCi95[0], 1.4481, 'Cpk 2.5%');
    near(c.cpkCi95[1], 1.8783, 'Cpk 97.5%');
    near(c.cpm, 1.691, 'Cpm', 3); // qcc's summary prints Cpm 1.691
    assert.equal(c.n, 125);
    assert.ok(c.ppmTotal < 1, 'practically nothing out of spec');
    assert.ok(c.stable);
  });

  it('target 74.02 lowers Cpm to 0.7856 (qcc)', () => {
    const c = spc.capability(phase1, { lsl: 73.95, usl: 74.05, target: 74.02 });
    near(c.cpm, 0.7856, 'Cpm');
    near(c.cp, 1.7033, 'Cp unchanged');
  });

  it('spec 73.99-74.01: Cp 0.3407, Cpk 0.3006 [0.2312, 0.37], 13% below and 18% above (qcc)', () => {
    const c = spc.capability(phase1, { lsl: 73.99, usl: 74.01 });
    near(c.cp, 0.3407, 'Cp');
    near(c.cpk, 0.3006, 'Cpk');
    near(c.cpkCi95[0], 0.2312, 'Cpk 2.5%');
    near(c.cpkCi95[1], 0.37, 'Cpk 97.5%');
    // qcc prints the expected fractions 0.13 and 0.18 (two significant digits)
    assert.equal(Math.round(c.ppmBelow / 1e4), 13);
    assert.equal(Math.round(c.ppmAbove / 1e4), 18);
    assert.equal(c.ppmTotal, c.ppmBelow + c.ppmAbove);
  });

  it('overall sigma is the standard deviation of all 125 values; Pp and Ppk use it', () => {
    const all = phase1.flat();
    const m = all.reduce((a, b) => a + b, 0) / all.length;
    const s = Math.sqrt(all.reduce((a, v) => a + (v - m) ** 2, 0) / (all.length - 1));
    const c = spc.capability(phase1, { lsl: 73.95, usl: 74.05 });
    assert.ok(Math.abs(c.sigmaOverall - s) < 1e-15);
    assert.ok(Math.abs(c.pp! - 0.1 / (6 * s)) < 1e-12);
    assert.ok(Math.abs(c.ppk - Math.min(74.05 - m, m - 73.95) / (3 * s)) < 1e-9);
  });

  it("Anderson-Darling: A2 = 0.19102 as scipy computes it, p from the D'Agostino-Stephens formula", () => {
    const c = spc.capability(phase1, { lsl: 73.95, usl: 74.05 });
    assert.ok(Math.abs(c.andersonDarling.a2 - 0.19101938332570967) < 1e-9);
    // A* = A2 (1 + 0.75/125 + 2.25/125²) = 0.19219 < 0.2: p = 1 - exp(-13.436 + 101.14 A* - 223.73 A*²) = 0.896
    assert.ok(Math.abs(c.andersonDarling.p - 0.896) < 0.001, String(c.andersonDarling.p));
    // a clearly skewed sample: scipy A2 = 1.82326, p < 0.05
    const ad = spc.andersonDarling([1, 1, 1, 1, 2, 2, 3, 5, 8, 13, 21, 34, 55, 89]);
    assert.ok(Math.abs(ad.a2 - 1.8232600191832322) < 1e-9);
    assert.ok(ad.p < 0.001);
  });

  it('warns when capability is asked of a process that is not in control', () => {
    const unstable = PISTONRINGS.slice(20, 40); // contains the shifted samples 37-39
    const c = spc.capability(unstable, { lsl: 73.95, usl: 74.05 });
    assert.equal(c.stable, false);
    assert.match(c.warnings.join(' '), /not in statistical control/);
  });

  it('one-sided specs and individuals (sigma = MR-bar / 1.128, or / d2(2) exactly on request)', () => {
    const x = [10.2, 9.8, 10.1, 10.4, 9.9, 10.0, 10.3, 9.7, 10.1, 10.0];
    const c = spc.capability(x, { usl: 11 });
    assert.equal(c.cp, null);
    assert.equal(c.cpl, null);
    const mr = x.slice(1).reduce((a, v, i) => a + Math.abs(v - x[i]), 0) / 9;
    const sw = mr / 1.128; // qcc's exp.R.unscaled[2]
    assert.ok(Math.abs(c.sigmaWithin - sw) < 1e-12, `${c.sigmaWithin} vs ${sw}`);
    assert.ok(Math.abs(c.cpk - (11 - 10.05) / (3 * sw)) < 1e-9);
    const exact = spc.capability(x, { usl: 11 }, { constants: 'exact' });
    assert.ok(Math.abs(exact.sigmaWithin - mr / (2 / Math.sqrt(Math.PI))) < 1e-12);
  });

  it('refuses reversed spec limits and a missing spec', () => {
    assert.throws(() => spc.capability(phase1, { lsl: 74.05, usl: 73.95 }), {
      code: 'spc.specReversed',
      message: /lsl 74.05 must be below usl 73.95/,
    });
    assert.throws(() => spc.capability(phase1, {}), /give at least one of lsl and usl/);
  });
});
