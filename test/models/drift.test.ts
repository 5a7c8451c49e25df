import assert from 'node:assert/strict';
import { Rng } from '../../nodes/core/random';
import { DriftMonitor, kolmogorovQ, ksTwoSample, psi, quantileEdges } from '../../nodes/models/drift';
import type { ReferenceSample } from '../../nodes/models/types';

const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} is not within ${tol} of ${b}`);

function reference(rng: Rng, n = 1000): ReferenceSample {
  const cols = [[], [], []] as number[][];
  for (let i = 0; i < n; i++) {
    cols[0].push(rng.normal());
    cols[1].push(5 + 2 * rng.normal());
    cols[2].push(rng.exponential(1));
  }
  return { features: ['a', 'b', 'c'], columns: cols };
}

function liveRow(rng: Rng, shiftB = 0): number[] {
  return [rng.normal(), 5 + 2 * rng.normal() + 2 * shiftB, rng.exponential(1)];
}

describe('models: drift statistics', () => {
  it('Kolmogorov survival function matches the table (both series)', () => {
    close(kolmogorovQ(0.5), 0.9639, 1e-4, 'Q(0.5)');
    close(kolmogorovQ(1.0), 0.27, 1e-4, 'Q(1.0)');
    close(kolmogorovQ(1.2238), 0.1, 2e-4, 'Q(1.2238)');
    close(kolmogorovQ(1.3581), 0.05, 2e-4, 'Q(1.3581)');
    close(kolmogorovQ(1.6276), 0.01, 1e-4, 'Q(1.6276)');
    // continuous where the two series meet
    close(kolmogorovQ(1.18 - 1e-7), kolmogorovQ(1.18 + 1e-7), 1e-6, 'at 1.18');
    assert.equal(kolmogorovQ(0), 1);
  });

  it('two-sample KS statistic with and without ties', () => {
    assert.equal(ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]).d, 0.5);
    assert.equal(ksTwoSample([1, 2, 3, 4], [1, 2, 3, 4]).d, 0);
    assert.equal(ksTwoSample([1, 2, 3, 4], [1, 2, 3, 4]).p, 1);
    assert.equal(ksTwoSample([1, 1, 1, 2], [1, 2, 2, 2]).d, 0.5);
    assert.equal(ksTwoSample([1, 2], [3, 4]).d, 1);
  });

  it('PSI over reference quantile bins with an epsilon for empty bins', () => {
    const ref = Float64Array.from({ length: 100 }, (_, i) => i);
    const edges = quantileEdges(ref, 4);
    assert.deepEqual(edges, [25, 50, 75]);
    assert.equal(psi(ref, ref, edges), 0);
    const live = Float64Array.from({ length: 50 }, (_, i) => i / 2);
    close(psi(ref, live, edges, 1e-4), 6.9054080651788805, 1e-9, 'PSI');
    // ties in the reference collapse edges
    assert.deepEqual(quantileEdges(Float64Array.from([1, 1, 1, 1, 1, 1, 2, 3]), 4), [1, 2]);
  });
});

describe('models: DriftMonitor', () => {
  it('reports the feature that moved on a shifted stream, and recommends a retrain', () => {
    const rng = new Rng(11);
    const mon = new DriftMonitor(reference(rng));
    let report;
    for (let i = 0; i < 200; i++) report = mon.push(liveRow(rng, 1)) ?? report;
    assert.ok(report, 'a report once the window is full');
    assert.equal(report.drift, true);
    assert.deepEqual(report.moved, ['b']);
    assert.equal(report.retrain, true);
    const b = report.features.find((f) => f.feature === 'b');
    assert.ok(b && b.psi > 0.2 && b.pValue < 0.01 / 3);
    assert.match(report.recommendation, /^retrain: b moved/);
  });

  it('includes the anomaly score when the reference has scores', () => {
    const rng = new Rng(12);
    const ref = reference(rng);
    ref.score = Array.from({ length: 1000 }, () => rng.exponential(1));
    const mon = new DriftMonitor(ref, { window: 100 });
    let report;
    for (let i = 0; i < 100; i++) report = mon.push(liveRow(rng), 3 + rng.exponential(1)) ?? report;
    assert.ok(report);
    assert.deepEqual(report.moved, ['score']);
    assert.equal(report.alphaPerSeries, 0.01 / 4);
  });

  it('stays quiet on unshifted streams: false reports at most the stated 1 % (measured over 400 windows)', () => {
    const rng = new Rng(13);
    const mon = new DriftMonitor(reference(rng));
    let reports = 0;
    let drift = 0;
    for (let w = 0; w < 400; w++) {
      mon.reset();
      for (let i = 0; i < 199; i++) assert.equal(mon.push(liveRow(rng)), undefined);
      const r = mon.push(liveRow(rng));
      assert.ok(r);
      reports++;
      if (r.drift) drift++;
    }
    assert.equal(reports, 400);
    // Stated: alpha = 1 % family-wise. Assert with margin: at most half of it.
    assert.ok(drift / reports <= 0.005, `${drift} false reports in ${reports} windows`);
  });

  it('the KS p-value is calibrated: about alpha of unshifted windows are significant', () => {
    const rng = new Rng(14);
    const ref = reference(rng);
    const mon = new DriftMonitor(ref, { alpha: 0.15, psiThreshold: 1e-12 });
    let tests = 0;
    let significant = 0;
    for (let w = 0; w < 400; w++) {
      mon.reset();
      for (let i = 0; i < 200; i++) mon.push(liveRow(rng));
      for (const f of mon.check().features) {
        tests++;
        if (f.pValue < 0.05) significant++;
      }
    }
    const rate = significant / tests;
    assert.ok(rate > 0.025 && rate < 0.075, `KS rejection rate ${rate} at alpha 0.05`);
  });

  it('refuses a window with too few samples, a short reference and a bad row', () => {
    const rng = new Rng(15);
    const mon = new DriftMonitor(reference(rng));
    for (let i = 0; i < 20; i++) mon.push(liveRow(rng));
    assert.throws(() => mon.check(), { code: 'models.tooFewSamples', message: /20 rows, .* at least 50/ });
    assert.throws(() => mon.push([1, 2]), {
      code: 'models.missing',
      message: /2 values, the reference has 3/,
    });
    assert.throws(() => mon.push({ a: 1, b: 2 }), { code: 'models.missing', message: /c is missing/ });
    assert.throws(() => new DriftMonitor({ features: ['a'], columns: [[1, 2, 3]] }), {
      code: 'models.tooFewSamples',
    });
    assert.throws(() => new DriftMonitor(reference(rng), { window: 100, minSamples: 200 }), {
      code: 'models.badOption',
    });
  });
});
