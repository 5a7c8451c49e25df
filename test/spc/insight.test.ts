import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';
import { gauss, lcg } from './random';

// Montgomery, Introduction to SQC, example 9.1: mu0 = 10, sigma = 1; the tabular CUSUM signals at 29 with
// N+ = 7, i.e. the shift began after sample 22 (0-based index 22 is the first shifted sample).
const M91 = [
  9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08, 9.37, 10.62,
  10.31, 8.52, 10.84, 10.9, 9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31, 10.52,
];

function ar1Series(phi: number, n: number, seed: number): number[] {
  const u = lcg(seed);
  const x: number[] = [];
  let prev = 0;
  for (let i = 0; i < n; i++) {
    prev = phi * prev + gauss(u);
    x.push(50 + prev);
  }
  return x;
}

describe('spc.changePoint: maximum-likelihood start of a step change', () => {
  it('dates the shift of Montgomery example 9.1 where the CUSUM does (after sample 22)', () => {
    const cp = spc.changePoint(M91.slice(0, 29), { center: 10, sigma: 1 });
    assert.ok(cp);
    assert.equal(cp.index, 22);
    assert.equal(cp.samples, 7);
    // the size is the mean of samples 23-29 minus 10, in sigma
    const level = M91.slice(22, 29).reduce((a, b) => a + b, 0) / 7;
    assert.ok(Math.abs(cp.shift - (level - 10)) < 1e-12);
  });

  it('finds a clean step and reports its size in the unit given (process sigma for X-bar)', () => {
    const u = lcg(3);
    const xbar = Array.from(
      { length: 60 },
      (_, i) => 5 + (i >= 40 ? 0.5 : 0) + (0.2 / Math.sqrt(5)) * 0.3 * gauss(u),
    );
    const cp = spc.changePoint(xbar, { center: 5, sigma: 0.2 / Math.sqrt(5), unit: 0.2, offset: 100 });
    assert.ok(cp);
    assert.equal(cp.index, 140);
    assert.ok(Math.abs(cp.shift - 2.5) < 0.1, String(cp.shift));
  });
});

describe('spc.autocorrelation and the AR(1) residual chart', () => {
  it('lag-1 autocorrelation of 1..10 is 0.7 (57.75 / 82.5)', () => {
    const ac = spc.autocorrelation([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(Math.abs(ac.r1 - 0.7) < 1e-12);
    assert.ok(Math.abs(ac.z - 0.7 * Math.sqrt(10)) < 1e-12);
  });

  it('flags an AR(1) process with phi 0.8 and not white noise', () => {
    const ar = spc.autocorrelation(ar1Series(0.8, 200, 11));
    assert.equal(ar.autocorrelated, true);
    assert.ok(Math.abs(ar.r1 - 0.8) < 0.1, String(ar.r1));
    const white = spc.autocorrelation(ar1Series(0, 200, 12));
    assert.equal(white.autocorrelated, false);
  });

  it('charts AR(1) residuals instead of raising false alarms on autocorrelated data', () => {
    const x = ar1Series(0.8, 300, 5);
    const raw = spc.chart({ type: 'imr', data: x });
    const res = spc.ar1ResidualChart(x);
    const alarms = (r: spc.ChartResult) => r.points.filter((p) => p.violations.length > 0).length;
    assert.ok(Math.abs(res.model.phi - 0.8) < 0.1);
    assert.equal(res.residuals.length, 299);
    assert.ok(
      alarms(raw) > 5 * Math.max(1, alarms(res.chart)),
      `raw ${alarms(raw)} vs residuals ${alarms(res.chart)}`,
    );
  });
});

describe('spc.recommendChart', () => {
  it('recommends by data shape', () => {
    assert.equal(
      spc.recommendChart([
        [1, 2, 3, 4, 5],
        [2, 3, 4, 5, 6],
      ]).type,
      'xbar-r',
    );
    assert.equal(
      spc.recommendChart([
        Array.from({ length: 12 }, (_, i) => i),
        Array.from({ length: 12 }, (_, i) => i * 2),
      ]).type,
      'xbar-s',
    );
    assert.equal(spc.recommendChart([3, 5, 2, 4], 50).type, 'np');
    assert.equal(spc.recommendChart([3, 5, 2, 4], [50, 60, 50, 40]).type, 'p');
    assert.equal(spc.recommendChart([30, 50, 20, 40], [5, 5, 5, 5]).type, 'u');
    assert.equal(spc.recommendChart([3, 5, 2, 4, 6, 1]).type, 'c');
  });

  it('recommends the residual chart for autocorrelated individuals', () => {
    const r = spc.recommendChart(ar1Series(0.8, 100, 9));
    assert.equal(r.type, 'imr');
    assert.equal(r.residuals, true);
    assert.match(r.reason, /autocorrelation/);
    assert.equal(spc.recommendChart(ar1Series(0, 100, 10).map((v) => v + 0.123)).residuals, false);
  });
});

describe('spc.EwmaR2R: run-to-run adjustment proposals', () => {
  it('re-centres a drifting process when its proposals are applied, and only proposes', () => {
    const u = lcg(21);
    const target = 100;
    const run = (closed: boolean) => {
      const c = new spc.EwmaR2R({ target, gain: 2, lambda: 0.3 });
      let dev = 0;
      let proposals = 0;
      for (let t = 0; t < 200; t++) {
        const drift = 0.05 * t; // the process drifts upward 0.05 per run
        const y = target + drift + 2 * c.setpoint + 0.3 * gauss(u);
        dev += Math.abs(y - target);
        const p = c.observe(y);
        if (p) {
          proposals++;
          assert.ok(Math.abs(p.setpoint - (p.current + p.offset)) < 1e-12);
          if (closed) c.accept(p.setpoint);
        }
      }
      return { mean: dev / 200, proposals, setpoint: c.setpoint };
    };
    const open = run(false);
    const closed = run(true);
    assert.equal(open.setpoint, 0, 'nothing changes until a proposal is accepted');
    assert.ok(open.proposals > 0);
    assert.ok(closed.mean < open.mean / 5, `closed ${closed.mean} vs open ${open.mean}`);
    assert.ok(closed.setpoint < -4, 'the setpoint moved against the drift (gain 2, drift 10 by the end)');
  });

  it('respects the deadband and the largest step', () => {
    const c = new spc.EwmaR2R({ target: 0, lambda: 1, deadband: 0.5, maxStep: 0.2 });
    assert.equal(c.observe(0.4), undefined);
    const p = c.observe(3);
    assert.ok(p);
    assert.equal(p.offset, -0.2);
    assert.throws(() => new spc.EwmaR2R({ target: 0, gain: 0 }), /gain: the process gain cannot be 0/);
  });
});
