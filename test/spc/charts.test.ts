/**
 * Charts against published values: qcc 3.0's vignette "A quick tour of qcc" (its printed summaries of the
 * pistonrings, orangejuice, circuit, pcmanufact, viscosity and boiler examples) and Montgomery's
 * Introduction to Statistical Quality Control (CUSUM example 9.1, EWMA example 9.2).
 * By default the engine takes d2 and d3 from qcc's published tables, as qcc does, so every printed value
 * must agree to its last printed digit; computed values are compared to 1e-9 relative or better.
 */
import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';
import { gauss, lcg } from './random';
import { BOILER, CIRCUIT_X, ORANGEJUICE_D, PCMANUFACT_X, PISTONRINGS, VISCOSITY } from './data';

/** Half a unit of the last printed digit of a number printed with `sig` significant digits. */
const half = (printed: number, sig: number) =>
  0.5 * Math.pow(10, Math.floor(Math.log10(Math.abs(printed))) - sig + 1);

function rel(actual: number, expected: number, tol: number, what: string) {
  const d = Math.abs(actual - expected);
  assert.ok(
    d <= tol * Math.abs(expected),
    `${what}: ${actual} vs ${expected} (rel ${d / Math.abs(expected)})`,
  );
}
/** A value qcc prints with `sig` significant digits: equal up to the printed rounding. */
function printed(actual: number, value: number, sig: number, what: string) {
  const tol = half(value, sig) + 1e-12 * Math.abs(value);
  assert.ok(Math.abs(actual - value) <= tol, `${what}: ${actual} vs printed ${value} (tol ${tol})`);
}

const flat = (g: number[][]) => g.flat();
const plainMean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('spc.chart: X-bar R and S (qcc pistonrings)', () => {
  const phase1 = PISTONRINGS.slice(0, 25);
  const phase2 = PISTONRINGS.slice(25);

  it('X-bar R: centre, sigma (UWAVE-R) and limits of the first 25 subgroups', () => {
    const r = spc.chart({ type: 'xbar-r', data: phase1 });
    rel(r.center, plainMean(flat(phase1)), 1e-12, 'centre is the grand mean');
    printed(r.center, 74.00118, 7, 'centre');
    assert.equal(r.estimator, 'UWAVE-R');
    printed(r.sigma, 0.009785039, 7, 'sigma');
    const p = r.points[0];
    printed(p.lcl, 73.98805, 7, 'LCL');
    printed(p.ucl, 74.0143, 7, 'UCL'); // qcc prints 74.0143 (74.01430)
    r.points.forEach((pt, i) => rel(pt.stat, plainMean(phase1[i]), 1e-12, `mean of subgroup ${i + 1}`));
    assert.ok(r.points.every((pt) => pt.phase === 1 && pt.violations.length === 0));
  });

  it('R chart: centre 0.02276, UCL 0.04812533, LCL 0', () => {
    const r = spc.chart({ type: 'xbar-r', data: phase1 });
    assert.ok(r.secondary);
    assert.equal(r.secondary.kind, 'R');
    rel(r.secondary.center, 0.02276, 1e-9, 'R centre');
    printed(r.secondary.points[0].ucl, 0.04812533, 7, 'R UCL');
    assert.equal(r.secondary.points[0].lcl, 0);
  });

  it('phase II: 15 new subgroups judged against the frozen limits; 37-39 beyond the UCL', () => {
    const r = spc.chart({ type: 'xbar-r', data: phase1, newData: phase2 });
    const p2 = r.points.filter((p) => p.phase === 2);
    assert.equal(p2.length, 15);
    assert.deepEqual(
      p2.map((p) => p.index),
      Array.from({ length: 15 }, (_, i) => 25 + i),
    );
    printed(plainMean(p2.map((p) => p.stat)), 74.00765, 7, 'mean of new statistics');
    // limits stay those of phase I
    assert.ok(p2.every((p) => p.ucl === r.points[0].ucl));
    const beyond = r.points.filter((p) => p.violations.includes(1)).map((p) => p.index + 1);
    assert.deepEqual(beyond, [37, 38, 39]);
  });

  it('X-bar S: sigma (UWAVE-SD), S chart centre and UCL', () => {
    const r = spc.chart({ type: 'xbar-s', data: phase1 });
    assert.equal(r.estimator, 'UWAVE-SD');
    // c4 is exact in qcc too: tighter agreement
    rel(r.sigma, 0.009829977, 1e-6, 'sigma');
    assert.equal(r.secondary?.kind, 'S');
    rel(r.secondary!.center, 0.009240037, 1e-6, 'S centre');
    rel(r.secondary!.points[0].ucl, 0.01930242, 1e-6, 'S UCL');
  });

  it('unequal subgroup sizes get per-point limits (qcc diameter2: 12 values removed)', () => {
    const out = new Set([9, 10, 30, 35, 45, 64, 65, 74, 75, 85, 99, 100]); // 1-based observation numbers
    const obs = flat(PISTONRINGS);
    const groups: number[][] = PISTONRINGS.map(() => []);
    obs.forEach((v, i) => {
      if (!out.has(i + 1)) groups[Math.floor(i / 5)].push(v);
    });
    const r = spc.chart({ type: 'xbar-r', data: groups.slice(0, 25) });
    printed(r.center, 74.00075, 7, 'centre');
    printed(r.sigma, 0.009856701, 7, 'sigma');
    const n5 = r.points.find((p) => p.size === 5)!;
    const n3 = r.points.find((p) => p.size === 3)!;
    printed(n5.lcl, 73.98753, 7, 'LCL n=5');
    printed(n5.ucl, 74.01398, 7, 'UCL n=5');
    printed(n3.lcl, 73.98368, 7, 'LCL n=3');
    printed(n3.ucl, 74.01782, 7, 'UCL n=3');
    assert.deepEqual(
      [3, 4, 5].map((n) => r.points.filter((p) => p.size === n).length),
      [4, 4, 17],
    );
    rel(r.secondary!.center, 0.02230088, 1e-6, 'R centre (size-weighted)');
    printed(r.secondary!.points.find((p) => p.size === 5)!.ucl, 0.04785198, 7, 'R UCL n=5');
    printed(r.secondary!.points.find((p) => p.size === 3)!.ucl, 0.04857007, 7, 'R UCL n=3');
  });

  it('switches to the pooled standard deviation (RMSDF) when a subgroup is larger than 25', () => {
    const big = [Array.from({ length: 30 }, (_, i) => (i % 7) - 3), [1, 2, 3, 4], [0, 2, -1, 1]];
    const r = spc.chart({ type: 'xbar-r', data: big });
    assert.equal(r.estimator, 'RMSDF');
    const ss = big.reduce((a, g) => {
      const m = plainMean(g);
      return a + g.reduce((b, v) => b + (v - m) ** 2, 0);
    }, 0);
    const df = big.reduce((a, g) => a + g.length - 1, 0);
    rel(r.sigma, Math.sqrt(ss / df) / spc.c4(df + 1), 1e-12, 'pooled sigma / c4(df + 1)');
  });
});

describe('spc.chart: attribute charts (qcc orangejuice, circuit, pcmanufact)', () => {
  const trialD = ORANGEJUICE_D.slice(0, 30);

  it('p chart: centre, sigma and limits', () => {
    const r = spc.chart({ type: 'p', data: trialD, sizes: 50 });
    rel(r.center, 0.2313333, 1e-6, 'p-bar');
    rel(r.sigma, 0.421685, 1e-6, 'sigma');
    rel(r.points[0].lcl, 0.05242755, 1e-6, 'LCL');
    rel(r.points[0].ucl, 0.4102391, 1e-6, 'UCL');
    assert.deepEqual(
      r.points.filter((p) => p.violations.includes(1)).map((p) => p.index + 1),
      [15, 23],
    );
  });

  it('p chart, one round of iteration: samples 15 and 23 dropped, limits as qcc re-estimates them, then phase II', () => {
    const r = spc.chart({
      type: 'p',
      data: trialD,
      sizes: 50,
      iterate: 1,
      newData: ORANGEJUICE_D.slice(30),
      newSizes: 50,
    });
    assert.deepEqual(r.excluded, [14, 22]);
    rel(r.center, 0.215, 1e-9, 'p-bar without 15 and 23');
    rel(r.points[0].lcl, 0.04070284, 1e-6, 'LCL');
    rel(r.points[0].ucl, 0.3892972, 1e-6, 'UCL');
    assert.equal(r.points.filter((p) => p.phase === 2).length, 24);
    rel(
      plainMean(r.points.filter((p) => p.phase === 2).map((p) => p.stat)),
      0.1108333,
      1e-6,
      'phase II mean',
    );
    assert.equal(r.points[14].excluded, true);
  });

  it('p chart iterated to stability also drops sample 21 (p = 0.40, above the revised UCL 0.3893)', () => {
    const r = spc.chart({ type: 'p', data: trialD, sizes: 50, iterate: true });
    assert.deepEqual(r.excluded, [14, 20, 22]);
    assert.ok(r.points.filter((p) => !p.excluded).every((p) => !p.violations.includes(1)));
  });

  it('np chart: centre 11.56667, sigma 2.981763, limits 2.621377 and 20.51196', () => {
    const r = spc.chart({ type: 'np', data: trialD, sizes: 50 });
    rel(r.center, 11.56667, 1e-6, 'centre');
    rel(r.sigma, 2.981763, 1e-6, 'sigma');
    rel(r.points[0].lcl, 2.621377, 1e-6, 'LCL');
    rel(r.points[0].ucl, 20.51196, 1e-6, 'UCL');
  });

  it('c chart: circuit boards, then without samples 6 and 20 by iteration', () => {
    const trial = CIRCUIT_X.slice(0, 26);
    const r = spc.chart({ type: 'c', data: trial });
    rel(r.center, 19.84615, 1e-6, 'c-bar');
    rel(r.sigma, 4.454902, 1e-6, 'sigma');
    rel(r.points[0].lcl, 6.481447, 1e-6, 'LCL');
    rel(r.points[0].ucl, 33.21086, 1e-6, 'UCL');
    const it2 = spc.chart({ type: 'c', data: trial, iterate: true, newData: CIRCUIT_X.slice(26) });
    assert.deepEqual(it2.excluded, [5, 19]);
    rel(it2.center, 19.66667, 1e-6, 'c-bar');
    rel(it2.points[0].lcl, 6.362532, 1e-6, 'LCL');
    rel(it2.points[0].ucl, 32.9708, 1e-6, 'UCL');
  });

  it('u chart: defects per unit (circuit per 100 boards, pcmanufact per 5 computers)', () => {
    const keep = CIRCUIT_X.slice(0, 26).filter((_, i) => i !== 5 && i !== 19);
    const r = spc.chart({ type: 'u', data: keep, sizes: 100 });
    rel(r.center, 0.1966667, 1e-6, 'u-bar');
    rel(r.sigma, 0.4434712, 1e-6, 'sigma');
    rel(r.points[0].lcl, 0.06362532, 1e-6, 'LCL');
    rel(r.points[0].ucl, 0.329708, 1e-6, 'UCL');
    const pc = spc.chart({ type: 'u', data: PCMANUFACT_X, sizes: 5 });
    rel(pc.center, 1.93, 1e-9, 'u-bar');
    rel(pc.sigma, 1.389244, 1e-6, 'sigma');
    rel(pc.points[0].lcl, 0.06613305, 1e-6, 'LCL');
    rel(pc.points[0].ucl, 3.793867, 1e-6, 'UCL');
  });

  it('variable sample sizes give per-point limits, the lower one clipped at 0', () => {
    const sizes = [50, 50, 100, 100, 25, 25];
    const r = spc.chart({ type: 'p', data: [10, 12, 20, 22, 4, 6], sizes });
    const pbar = 74 / 350;
    rel(r.center, pbar, 1e-12, 'pooled p-bar');
    r.points.forEach((p, i) => {
      const se = Math.sqrt((pbar * (1 - pbar)) / sizes[i]);
      rel(p.ucl, pbar + 3 * se, 1e-12, `UCL ${i}`);
      assert.equal(p.lcl, Math.max(0, pbar - 3 * se));
    });
    assert.equal(r.points[4].lcl, 0);
    assert.ok(r.points[0].lcl > 0);
  });
});

describe('spc.chart: individuals, EWMA and CUSUM', () => {
  it('I-MR: viscosity (qcc xbar.one): centre, sigma = MR-bar/d2(2), limits', () => {
    const r = spc.chart({ type: 'imr', data: VISCOSITY });
    rel(r.center, 33.52333, 1e-6, 'centre');
    assert.equal(r.estimator, 'MR');
    printed(r.sigma, 0.4261651, 7, 'sigma');
    printed(r.points[0].lcl, 32.24484, 7, 'LCL');
    printed(r.points[0].ucl, 34.80183, 7, 'UCL');
    assert.equal(r.secondary?.kind, 'MR');
    assert.equal(r.secondary?.points.length, VISCOSITY.length - 1);
    assert.equal(r.secondary?.points[0].stat, Math.abs(VISCOSITY[1] - VISCOSITY[0]));
  });

  it('EWMA on subgroups (qcc pistonrings, lambda 0.2): time-varying limits, z0 = centre', () => {
    const r = spc.chart({ type: 'ewma', data: PISTONRINGS.slice(0, 25) });
    printed(r.points[0].lcl, 73.99855, 7, 'LCL 1');
    printed(r.points[0].ucl, 74.0038, 7, 'UCL 1');
    printed(r.points[24].lcl, 73.9968, 7, 'LCL 25');
    printed(r.points[24].ucl, 74.00555, 7, 'UCL 25');
    const center = plainMean(flat(PISTONRINGS.slice(0, 25)));
    rel(r.points[0].stat, 0.2 * plainMean(PISTONRINGS[0]) + 0.8 * center, 1e-12, 'z1');
    const r2 = spc.chart({
      type: 'ewma',
      data: PISTONRINGS.slice(0, 25),
      nsigmas: 2.7,
      newData: PISTONRINGS.slice(25),
    });
    printed(r2.points[0].lcl, 73.99881, 7, 'LCL 1');
    printed(r2.points[1].ucl, 74.0042, 7, 'UCL 2');
    printed(r2.points[39].lcl, 73.99724, 7, 'LCL 40');
    printed(r2.points[39].ucl, 74.00511, 7, 'UCL 40');
  });

  it('EWMA on individuals (qcc viscosity, nsigmas 2.7)', () => {
    const r = spc.chart({ type: 'ewma', data: VISCOSITY, nsigmas: 2.7 });
    printed(r.points[0].lcl, 33.2932, 7, 'LCL 1');
    printed(r.points[1].ucl, 33.81804, 7, 'UCL 2');
    printed(r.points[14].lcl, 33.14002, 7, 'LCL 15');
    printed(r.points[14].ucl, 33.90664, 7, 'UCL 15');
  });

  // Montgomery, Introduction to SQC, example 9.1 (table 9.1): mu0 = 10, sigma = 1, the mean shifts to 11 after 20.
  const MONTGOMERY_9_1 = [
    9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08, 9.37,
    10.62, 10.31, 8.52, 10.84, 10.9, 9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31, 10.52,
  ];

  it('tabular CUSUM (Montgomery table 9.2): C+ = 5.28 at sample 29, first beyond h = 5, N+ = 7', () => {
    const r = spc.chart({ type: 'cusum', data: MONTGOMERY_9_1, limits: { center: 10, sigma: 1 } });
    const p29 = r.points[28];
    assert.equal(Math.round(p29.upper! * 100) / 100, 5.28);
    assert.equal(p29.stat, p29.upper);
    assert.deepEqual(
      r.points.filter((p) => p.violations.includes(1)).map((p) => p.index + 1),
      [29, 30],
    );
    assert.ok(r.points.every((p) => p.upper! >= 0 && p.lower! <= 0 && p.lcl === -5 && p.ucl === 5));
    // N+ = 7 consecutive positive sums before the signal: the shift began after sample 22
    const run = r.points
      .slice(0, 29)
      .reverse()
      .findIndex((p) => p.upper === 0);
    assert.equal(run, 7);
  });

  it('CUSUM head start (fast initial response) starts both sums at the head start', () => {
    const r = spc.chart({
      type: 'cusum',
      data: [10, 10, 10],
      limits: { center: 10, sigma: 1 },
      headStart: 2.5,
    });
    assert.equal(r.points[0].upper, 2);
    assert.equal(r.points[0].lower, -2);
    assert.throws(() => spc.chart({ type: 'cusum', data: [1, 2], headStart: 5 }), /headStart/);
  });

  it('EWMA (Montgomery example 9.2, lambda 0.1, L 2.7): z1 = 9.945, UCL1 = 10.27, signal at 29', () => {
    const r = spc.chart({
      type: 'ewma',
      data: MONTGOMERY_9_1,
      lambda: 0.1,
      nsigmas: 2.7,
      limits: { center: 10, sigma: 1 },
    });
    rel(r.points[0].stat, 9.945, 1e-12, 'z1');
    assert.equal(Math.round(r.points[0].ucl * 100) / 100, 10.27);
    assert.equal(r.points.findIndex((p) => p.violations.includes(1)) + 1, 29);
  });
});

describe('spc.chart: multivariate', () => {
  it('Hotelling T2 for individual vectors (qcc boiler, confidence 0.999)', () => {
    const r = spc.chart({ type: 't2', data: BOILER, confidence: 0.999 });
    printed(r.points[0].ucl, 17.41705, 7, 'UCL');
    [525.0, 513.56, 538.92, 521.68, 503.8, 512.44, 478.72, 477.24].forEach((v, j) =>
      rel(r.means![j], v, 1e-12, `mean ${j}`),
    );
    rel(r.covariance![0][0], 54, 1e-12, 'cov t1 t1');
    rel(r.covariance![0][1], 0.9583333, 1e-6, 'cov t1 t2');
    const stats = r.points.map((p) => p.stat);
    rel(Math.min(...stats), 1.316342, 1e-6, 'min T2');
    rel(Math.max(...stats), 17.575293, 1e-6, 'max T2');
    rel(plainMean(stats), 7.68, 1e-9, 'mean T2 = p(m-1)/m');
  });

  it('T2 alarms carry per-variable contributions: T2 minus T2 without that variable', () => {
    const data = BOILER.slice(0, 24);
    const odd = [...BOILER[24]];
    odd[5] += 12;
    const r = spc.chart({ type: 't2', data, newData: [odd] });
    const p = r.points[24];
    assert.deepEqual(p.violations, [1]);
    assert.ok(p.contributions);
    // independent check: re-fit T2 on the 7 other variables with the submatrix
    const j = 5;
    const drop = (v: number[]) => v.filter((_, i) => i !== j);
    const sub = spc.chart({ type: 't2', data: data.map(drop), newData: [drop(odd)] });
    rel(p.contributions[j], p.stat - sub.points[24].stat, 1e-9, 'contribution of t6');
    const biggest = p.contributions.indexOf(Math.max(...p.contributions));
    assert.equal(biggest, 5);
  });

  it('MEWMA with lambda = 1 is the T2 chart with known parameters', () => {
    const { means, covariance } = spc.meanCov(BOILER);
    const m = spc.chart({ type: 'mewma', data: BOILER, lambda: 1, limits: { center: 0, means, covariance } });
    const t = spc.chart({ type: 't2', data: BOILER, limits: { center: 0, means, covariance } });
    m.points.forEach((p, i) => rel(p.stat, t.points[i].stat, 1e-9, `point ${i}`));
  });

  it('MEWMA signals a small sustained shift that the T2 chart misses', () => {
    // deterministic in-control vectors, then a 0.8 sigma shift in both variables
    const rnd = lcg(7);
    const base = Array.from({ length: 60 }, () => {
      const a = gauss(rnd);
      return [a, 0.6 * a + 0.8 * gauss(rnd)];
    });
    const shifted = Array.from({ length: 30 }, () => {
      const a = gauss(rnd) + 0.8;
      return [a, 0.6 * (a - 0.8) + 0.8 * gauss(rnd) + 0.8];
    });
    const known = {
      center: 0,
      means: [0, 0],
      covariance: [
        [1, 0.6],
        [0.6, 1],
      ],
    };
    const m = spc.chart({ type: 'mewma', data: base, newData: shifted, lambda: 0.1, limits: known });
    const t = spc.chart({ type: 't2', data: base, newData: shifted, limits: known });
    const firstM = m.points.findIndex((p) => p.phase === 2 && p.violations.includes(1));
    const firstT = t.points.findIndex((p) => p.phase === 2 && p.violations.includes(1));
    assert.ok(firstM >= 60, 'MEWMA signals in phase II');
    assert.ok(firstT === -1 || firstT > firstM, `T2 first signal ${firstT} vs MEWMA ${firstM}`);
  });
});

describe('spc.chart: bad input', () => {
  const cases: [string, Parameters<typeof spc.chart>[0], RegExp, string][] = [
    [
      'a non-numeric value',
      { type: 'imr', data: [1, 'x' as unknown as number, 3] },
      /data\[1\]: "x" is not a number/,
      'spc.notNumeric',
    ],
    ['NaN', { type: 'imr', data: [1, NaN, 3] }, /data\[1\]: NaN is not a finite number/, 'spc.notFinite'],
    [
      'an empty subgroup',
      { type: 'xbar-r', data: [[1, 2], []] },
      /data\[1\]: the subgroup is empty/,
      'spc.emptySubgroup',
    ],
    [
      'a subgroup of 1 on X-bar R',
      { type: 'xbar-r', data: [[1, 2], [3]] },
      /data\[1\]: a subgroup of size 1 cannot be charted on an X-bar R chart/,
      'spc.subgroupTooSmall',
    ],
    [
      'p greater than 1',
      { type: 'p', data: [3, 60], sizes: 50 },
      /data\[1\]: 60 defectives in 50 units is a proportion p = 1.2 greater than 1/,
      'spc.pAboveOne',
    ],
    [
      'no sizes for a p chart',
      { type: 'p', data: [3, 6] },
      /sizes: sample sizes are required/,
      'spc.noSizes',
    ],
    [
      'an unknown chart type',
      { type: 'xbar' as 'imr', data: [1, 2] },
      /type: "xbar" is not a chart type/,
      'spc.badType',
    ],
    [
      'sizes of the wrong length',
      { type: 'u', data: [1, 2], sizes: [5] },
      /sizes: 1 sizes for 2 samples/,
      'spc.badSizes',
    ],
    ['no variation', { type: 'imr', data: [5, 5, 5, 5] }, /no variation/, 'spc.noVariation'],
    [
      'unknown rules',
      { type: 'imr', data: [1, 2, 3], rules: 'acme' as 'we' },
      /rules: expected "nelson", "we"/,
      'spc.badRules',
    ],
  ];
  for (const [what, opts, message, code] of cases) {
    it(`refuses ${what} with a TaktError naming the problem`, () => {
      assert.throws(
        () => spc.chart(opts),
        (err: Error & { code?: string }) => {
          assert.equal(err.name, 'TaktError');
          assert.equal(err.code, code);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});

describe('spc.ChartStream: the frozen limits applied one sample at a time', () => {
  it('gives the same points as the batch chart for phase II', () => {
    for (const type of ['xbar-r', 'ewma', 'cusum'] as const) {
      const batch = spc.chart({ type, data: PISTONRINGS.slice(0, 25), newData: PISTONRINGS.slice(25) });
      const stream = new spc.ChartStream(batch.params);
      PISTONRINGS.slice(0, 25).forEach((g) => stream.push(g, undefined, 1));
      const got = PISTONRINGS.slice(25).map((g) => stream.push(g).point);
      assert.deepEqual(got, batch.points.slice(25), type);
    }
  });

  it('snapshot() and restore() continue exactly where the stream was', () => {
    const batch = spc.chart({ type: 'ewma', data: VISCOSITY });
    const a = new spc.ChartStream(batch.params);
    VISCOSITY.slice(0, 7).forEach((x) => a.push(x));
    const b = spc.ChartStream.restore(JSON.parse(JSON.stringify(a.snapshot())));
    for (const x of VISCOSITY.slice(7)) assert.deepEqual(b.push(x), a.push(x));
    a.reset();
    assert.equal(a.count, 0);
  });

  it('leaves its state untouched on bad input and takes the next good sample', () => {
    const batch = spc.chart({ type: 'cusum', data: VISCOSITY });
    const a = new spc.ChartStream(batch.params);
    const b = new spc.ChartStream(batch.params);
    a.push(33.1);
    b.push(33.1);
    assert.throws(() => a.push(Number.NaN), { code: 'spc.notFinite' });
    assert.throws(() => a.push('abc'), { code: 'spc.notNumeric' });
    assert.deepEqual(a.push(34.2), b.push(34.2));
  });
});

describe('spc.chart: X-bar S with unequal subgroups', () => {
  it('gives each S point the limits sigma·sqrt(1 − c4(n)²) around the size-weighted mean s', () => {
    const groups = [
      [10, 12, 11, 13],
      [9, 11, 10],
      [12, 10, 11, 10, 12, 13],
      [11, 10, 12],
      [10, 13, 12, 11],
    ];
    const r = spc.chart({ type: 'xbar-s', data: groups });
    const sds = groups.map((g) => {
      const m = plainMean(g);
      return Math.sqrt(g.reduce((a, v) => a + (v - m) ** 2, 0) / (g.length - 1));
    });
    const sizes = groups.map((g) => g.length);
    const sigma = plainMean(sds.map((s, i) => s / spc.c4(sizes[i])));
    rel(r.sigma, sigma, 1e-12, 'UWAVE-SD');
    const sbar = sds.reduce((a, s, i) => a + s * sizes[i], 0) / sizes.reduce((a, n) => a + n, 0);
    rel(r.secondary!.center, sbar, 1e-12, 'S centre');
    r.secondary!.points.forEach((p, i) => {
      rel(p.ucl, sbar + 3 * sigma * Math.sqrt(1 - spc.c4(sizes[i]) ** 2), 1e-12, `S UCL ${i}`);
      rel(r.points[i].ucl - r.center, (3 * sigma) / Math.sqrt(sizes[i]), 1e-9, `X-bar UCL ${i}`);
    });
  });
});

describe("spc.chart: d2 and d3 from qcc's published tables (default) or computed exactly", () => {
  // qcc.options("exp.R.unscaled") and ("se.R.unscaled"), typed from qcc's source for the sizes used here
  const D2: Record<number, number> = { 2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 7: 2.704 };
  const D3: Record<number, number> = { 2: 0.8525033, 5: 0.8640855, 7: 0.8332108, 30: 0.692677 };
  const u = lcg(26);
  const groupsOf = (n: number, count: number) =>
    Array.from({ length: count }, () => Array.from({ length: n }, () => 10 + gauss(u)));
  const rangeOf = (g: number[]) => Math.max(...g) - Math.min(...g);
  const movingRanges = (x: number[]) => x.slice(1).map((v, i) => Math.abs(v - x[i]));

  it('X-bar R with subgroups of 7: sigma = R-bar / 2.704 and R limits R-bar ± 3 · 0.8332108 · sigma', () => {
    const groups = groupsOf(7, 20);
    const rbar = plainMean(groups.map(rangeOf));
    const r = spc.chart({ type: 'xbar-r', data: groups });
    const sigma = rbar / D2[7];
    rel(r.sigma, sigma, 1e-12, 'sigma');
    rel(r.points[0].ucl, r.center + (3 * sigma) / Math.sqrt(7), 1e-12, 'X-bar UCL');
    const R = r.secondary!.points[0];
    rel(R.lcl, rbar - 3 * D3[7] * sigma, 1e-12, 'R LCL');
    rel(R.ucl, rbar + 3 * D3[7] * sigma, 1e-12, 'R UCL');
    assert.ok(R.lcl > 0);
    assert.equal(r.params.constants, 'table');
    // the exact constants move the R chart's lower limit by more than 0.1%
    const x = spc.chart({ type: 'xbar-r', data: groups, constants: 'exact' });
    assert.equal(x.params.constants, 'exact');
    const sx = rbar / spc.d2(7);
    rel(x.sigma, sx, 1e-12, 'exact sigma');
    rel(x.secondary!.points[0].lcl, rbar - 3 * spc.d3(7) * sx, 1e-12, 'exact R LCL');
    assert.ok(Math.abs(x.secondary!.points[0].lcl / R.lcl - 1) > 1e-3);
  });

  it('X-bar R with subgroups of 3, 4 and 5: sigma = mean of R / d2(n) from the table', () => {
    const groups = [...groupsOf(3, 4), ...groupsOf(4, 4), ...groupsOf(5, 6)];
    const r = spc.chart({ type: 'xbar-r', data: groups });
    rel(r.sigma, plainMean(groups.map((g) => rangeOf(g) / D2[g.length])), 1e-12, 'UWAVE-R');
  });

  it('I-MR: sigma = MR-bar / 1.128, MR limit MR-bar + 3 · 0.8525033 · sigma (exact: / 2/sqrt(pi))', () => {
    const mrbar = plainMean(movingRanges(VISCOSITY));
    const r = spc.chart({ type: 'imr', data: VISCOSITY });
    rel(r.sigma, mrbar / D2[2], 1e-12, 'sigma');
    rel(r.secondary!.points[0].ucl, mrbar + 3 * D3[2] * (mrbar / D2[2]), 1e-12, 'MR UCL');
    const x = spc.chart({ type: 'imr', data: VISCOSITY, constants: 'exact' });
    rel(x.sigma, mrbar / (2 / Math.sqrt(Math.PI)), 1e-12, 'exact sigma');
    // a stream built from saved limits keeps their constants
    const s = new spc.ChartStream(x.params);
    s.push(VISCOSITY[0]);
    rel(s.push(VISCOSITY[1]).secondary!.ucl, x.secondary!.points[0].ucl, 1e-15, 'stream MR UCL');
  });

  it('CUSUM on individuals: both sums agree to 1e-9 with a hand calculation from sigma = MR-bar / 1.128', () => {
    const sigma = plainMean(movingRanges(VISCOSITY)) / D2[2];
    const center = plainMean(VISCOSITY);
    const r = spc.chart({ type: 'cusum', data: VISCOSITY });
    rel(r.sigma, sigma, 1e-12, 'sigma');
    let pos = 0;
    let neg = 0;
    VISCOSITY.forEach((x, i) => {
      const z = (x - center) / sigma;
      pos = Math.max(0, pos + z - 0.5);
      neg = Math.max(0, neg - z - 0.5);
      const p = r.points[i];
      if (pos === 0) assert.equal(p.upper, 0);
      else rel(p.upper!, pos, 1e-9, `C+ ${i}`);
      if (neg === 0) assert.equal(p.lower, 0);
      else rel(p.lower!, -neg, 1e-9, `C- ${i}`);
    });
    assert.ok(r.points.some((p) => p.upper! > 0.5) && r.points.some((p) => p.lower! < -0.5));
  });

  it('EWMA on individuals and on subgroups: limits from sigma = MR-bar / 1.128 or R-bar / 2.326', () => {
    const w = (lambda: number, t: number) =>
      Math.sqrt((lambda / (2 - lambda)) * (1 - (1 - lambda) ** (2 * t)));
    const sigma = plainMean(movingRanges(VISCOSITY)) / D2[2];
    const r = spc.chart({ type: 'ewma', data: VISCOSITY, nsigmas: 2.7 });
    r.points.forEach((p, i) => rel(p.ucl, r.center + 2.7 * sigma * w(0.2, i + 1), 1e-12, `UCL ${i + 1}`));
    const phase1 = PISTONRINGS.slice(0, 25);
    const sg = plainMean(phase1.map(rangeOf)) / D2[5];
    const g = spc.chart({ type: 'ewma', data: phase1 });
    rel(g.points[24].lcl, g.center - (3 * sg * w(0.2, 25)) / Math.sqrt(5), 1e-12, 'LCL 25');
  });

  it("beyond qcc's tables (d3 to n = 50) the exact value is used, with a warning", () => {
    const n30 = spc.chart({ type: 'xbar-r', data: groupsOf(30, 3) });
    assert.equal(n30.estimator, 'RMSDF');
    assert.equal(n30.warnings, undefined);
    const r30 = n30.secondary!.points[0];
    rel(r30.ucl, n30.secondary!.center + 3 * D3[30] * n30.sigma, 1e-12, 'R UCL n = 30 (table)');
    const n60 = spc.chart({ type: 'xbar-r', data: groupsOf(60, 3) });
    const r60 = n60.secondary!.points[0];
    rel(r60.ucl, n60.secondary!.center + 3 * spc.d3(60) * n60.sigma, 1e-12, 'R UCL n = 60 (exact)');
    assert.match(n60.warnings!.join(' '), /beyond qcc's tables/);
    assert.equal(
      spc.chart({ type: 'xbar-r', data: groupsOf(60, 3), constants: 'exact' }).warnings,
      undefined,
    );
  });

  it('refuses an unknown constants mode', () => {
    assert.throws(() => spc.chart({ type: 'imr', data: [1, 2, 3], constants: 'rounded' as 'table' }), {
      code: 'spc.badOption',
      message: /constants: "rounded" is not a constants mode/,
    });
  });
});
