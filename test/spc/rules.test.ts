/**
 * One series per rule that triggers exactly that rule (Nelson set, all eight on), in sigma units around 0.
 * Q is a quiet background that triggers nothing: pairs of equal values (ties break trends and
 * alternation), sides changing every two points, and a point beyond 1 sigma every few points so that no
 * fifteen stay within 1 sigma.
 */
import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';

const Q = [0.5, 0.5, -0.5, -0.5, 1.5, 1.5, -0.5, -0.5, 0.5, 0.5, -1.5, -1.5];
const QQ = [...Q, ...Q]; // 24 points, indices 0-23, ending on -1.5, -1.5
const series = (seg: number[]) => [...QQ, ...seg, ...Q];
const run = (stats: number[], rules: spc.RuleSpec = 'nelson', nsigmas = 3) =>
  spc.rules(stats, { center: 0, sigma: 1, rules, nsigmas });
const hits = (rule: number, ...indices: number[]) => indices.map((index) => ({ rule, index }));

describe('spc.rules: Nelson rules, one series each', () => {
  it('the quiet background triggers nothing', () => {
    assert.deepEqual(run([...QQ, ...Q, ...Q]), []);
  });

  it('rule 1: a point strictly beyond 3 sigma', () => {
    assert.deepEqual(run(series([3.5])), hits(1, 24));
    // exactly on the limit is not beyond
    assert.deepEqual(run(series([3])), []);
    assert.deepEqual(run(series([-3.01])), hits(1, 24));
  });

  it('rule 2: nine in a row on one side, reported at the ninth and while the run lasts', () => {
    // 9 points above from index 24, then Q adds 0.5, 0.5 above: the run ends at 34
    assert.deepEqual(run(series([0.5, 0.5, 0.3, 0.3, 0.6, 0.6, 0.4, 0.4, 0.5])), hits(2, 32, 33, 34));
  });

  it('rule 3: six in a row strictly increasing', () => {
    // the last -1.5 of QQ (index 23) starts the rise: 23..29 is seven increasing points
    assert.deepEqual(run(series([-0.9, -0.6, -0.3, 0.1, 0.4, 0.8])), hits(3, 28, 29));
    // a tie interrupts: no six in a row
    assert.deepEqual(run(series([-0.9, -0.6, -0.6, 0.1, 0.4, 0.8])), []);
  });

  it('rule 4: fourteen in a row alternating up and down', () => {
    // index 23 (-1.5) starts the zig-zag, 14 inserted points, then Q's first 0.5 goes up once more
    const seg = [0.5, -0.5, 1.2, -0.5, 0.5, -1.2, 0.5, -0.5, 1.2, -0.5, 0.5, -1.2, 0.5, -0.5];
    assert.deepEqual(run(series(seg)), hits(4, 36, 37, 38));
  });

  it('rule 5: two of three beyond 2 sigma on the same side', () => {
    assert.deepEqual(run(series([2.5, 0.5, 2.5])), hits(5, 26));
    // on opposite sides it is not rule 5
    assert.deepEqual(run(series([2.5, 0.5, -2.5])), []);
  });

  it('rule 6: four of five beyond 1 sigma on the same side (the completing point beyond)', () => {
    assert.deepEqual(run(series([1.5, 0.5, 1.5, 1.5, 1.5])), hits(6, 28));
  });

  it('rule 7: fifteen in a row within 1 sigma (inclusive)', () => {
    const seg = [0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -1];
    // 15 inserted within (|-1| counts as within) plus Q's first four: run of 19 from index 24
    assert.deepEqual(run(series(seg)), hits(7, 38, 39, 40, 41, 42));
  });

  it('rule 8: eight in a row beyond 1 sigma with points on both sides', () => {
    // QQ's last two (-1.5, -1.5, indices 22-23) start the run of beyond-1 points
    assert.deepEqual(run(series([1.5, -1.5, 1.5, -1.5, 1.5, -1.5, 1.5, -1.5])), hits(8, 29, 30, 31));
  });
});

describe('spc.rules: rule sets, zones and input', () => {
  it('Western Electric: eight in a row on one side is reported (as Nelson rule 2), trends are not', () => {
    const eight = [0.5, 0.5, 0.3, 0.3, 0.6, 0.6, 0.4, 0.4];
    // 8 above plus Q's 0.5, 0.5: WE fires at the eighth (31) and the two after
    assert.deepEqual(run(series(eight), 'we'), hits(2, 31, 32, 33));
    assert.deepEqual(run(series([-0.9, -0.6, -0.3, 0.1, 0.4, 0.8]), 'we'), []);
  });

  it('a chosen list of rules reports only those', () => {
    assert.deepEqual(run(series([3.5, 0.5, 0.4]), [5]), []);
    assert.deepEqual(run(series([3.5, 0.5, 0.4]), [1, 5]), hits(1, 24));
    // 3.5 is also beyond 2 sigma: with 2.5 two later it completes rule 5 too
    assert.deepEqual(run(series([3.5, 0.5, 2.5]), [1, 5]), [...hits(1, 24), ...hits(5, 26)]);
  });

  it('zones scale with nsigmas / 3', () => {
    // with 2-sigma limits the zone lines are at 2/3 and 4/3: 1.5, 0.5, 1.5 is two of three beyond "2 sigma"
    const seg = [0.5, -0.5, 0.5, 1.5, 0.5, 1.5, -0.5];
    assert.deepEqual(run(seg, [5], 2), hits(5, 5));
    assert.deepEqual(run(seg, [5], 3), []);
  });

  it('each point is judged against its own zone lines where limits vary (p chart)', () => {
    // same proportion 0.3 twice: beyond the limit for n = 400, inside for n = 25
    const r = spc.chart({
      type: 'p',
      data: [20, 20, 20, 20, 120, 8, 20, 20],
      sizes: [100, 100, 100, 100, 400, 25, 100, 100],
      limits: { center: 0.2 },
    });
    assert.ok(r.points[4].violations.includes(1));
    assert.ok(!r.points[5].violations.includes(1));
  });

  it('rules 5 and 6 report only at a point that completes a full window of 3 or 5 points', () => {
    // two points beyond 2 sigma at the start: no window of three yet
    assert.deepEqual(run([2.5, 2.5], [5]), []);
    assert.deepEqual(run([2.5, 2.5, 0], [5]), []);
    // the third point completes the first window (two of three beyond, the third itself beyond)
    assert.deepEqual(run([0, 2.5, 2.5], [5]), hits(5, 2));
    assert.deepEqual(run([2.5, 2.5, 2.5], [5]), hits(5, 2));
    // four points beyond 1 sigma at the start: rule 6 waits for the fifth
    assert.deepEqual(run([1.5, 1.5, 1.5, 1.5], [6]), []);
    assert.deepEqual(run([1.5, 1.5, 1.5, 1.5, 1.5], [6]), hits(6, 4));
    // the same holds on a chart: an I-MR chart whose first two points lie beyond 2 sigma
    const r = spc.chart({ type: 'imr', data: [12.5, 12.5, 10], limits: { center: 10, sigma: 1 } });
    assert.deepEqual(
      r.points.map((p) => p.violations),
      [[], [], []],
    );
  });

  it('rule 3 follows the plotted proportion of a p chart with unequal sizes, not z', () => {
    // p rises 0.110, 0.115, ..., 0.135 while the sizes alternate 400 / 200: z goes up and down
    const sizes = [400, 200, 400, 200, 400, 200];
    const data = [44, 23, 48, 25, 52, 27];
    const r = spc.chart({ type: 'p', data, sizes, limits: { center: 0.1 }, rules: [3] });
    const z = r.points.map((p) => p.z);
    assert.ok(z[2] > z[3] && z[4] > z[5], 'z is not monotone');
    assert.deepEqual(
      r.points.map((p) => p.violations),
      [[], [], [], [], [], [3]],
    );
  });

  it('rule 3 stays silent on a flat run of plotted points whose z rises (growing sizes)', () => {
    // p = 0.12 six times, sizes 100 to 600: z rises from 0.67 to 1.63, the chart line is flat
    const sizes = [100, 200, 300, 400, 500, 600];
    const data = sizes.map((n) => 0.12 * n);
    const r = spc.chart({ type: 'p', data, sizes, limits: { center: 0.1 }, rules: [3] });
    assert.ok(
      r.points.every((p, i) => i === 0 || p.z > r.points[i - 1].z),
      'z rises',
    );
    assert.ok(r.points.every((p) => p.violations.length === 0));
    // u chart, same: a constant rate of 2.5 per unit over growing sizes
    const u = spc.chart({
      type: 'u',
      data: sizes.map((n) => n * 2.5),
      sizes,
      limits: { center: 2 },
      rules: [3],
    });
    assert.ok(u.points.every((p) => p.violations.length === 0));
  });

  it('the rule engine judges rules 3 and 4 on the statistic it is given, the zones on z', () => {
    // z rises steadily (-0.65 to 0.65, seven on each side) while the plotted statistic alternates: rule 4
    // at the fourteenth point, never rule 3
    const e = new spc.RuleEngine(spc.NELSON);
    const out: number[][] = [];
    for (let i = 0; i < 14; i++) out.push(e.push(-0.65 + i * 0.1, false, i % 2 === 0 ? 5 : 6));
    assert.deepEqual(out.slice(0, 13).flat(), []);
    assert.deepEqual(out[13], [4]);
    // z alternates while the statistic rises: rule 3 at the sixth point, no rule 4
    const e2 = new spc.RuleEngine(spc.NELSON);
    const out2: number[][] = [];
    for (let i = 0; i < 6; i++) out2.push(e2.push(i % 2 === 0 ? 0.2 : -0.2, false, i));
    assert.deepEqual(out2, [[], [], [], [], [], [3]]);
  });

  it('refuses bad input', () => {
    assert.throws(
      () => spc.rules([1, Number.NaN], { center: 0, sigma: 1 }),
      /stats\[1\]: NaN is not a finite number/,
    );
    assert.throws(() => spc.rules([1], { center: 0, sigma: 0 }), /sigma: 0 must be a positive number/);
    assert.throws(() => spc.rules([1], { center: 0, sigma: 1, rules: [9] }), /rules: 9 is not a rule number/);
  });
});
