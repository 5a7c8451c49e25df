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

  it('refuses bad input', () => {
    assert.throws(
      () => spc.rules([1, Number.NaN], { center: 0, sigma: 1 }),
      /stats\[1\]: NaN is not a finite number/,
    );
    assert.throws(() => spc.rules([1], { center: 0, sigma: 0 }), /sigma: 0 must be a positive number/);
    assert.throws(() => spc.rules([1], { center: 0, sigma: 1, rules: [9] }), /rules: 9 is not a rule number/);
  });
});
