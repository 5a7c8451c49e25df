/**
 * The chart-kind registry: every built-in chart type has a kind whose traits reproduce what the engine and
 * the editor used to list by name, an unknown type is refused everywhere, and a kind written in one module
 * outside the engine (./i-chart.ts) runs through the batch chart, the stream and the monitor.
 */
import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';
import { I_CHART, registerIChart } from './i-chart';
import { gauss, lcg } from './random';

const T0 = Date.UTC(2026, 10, 26, 10, 0);

/** The built-in types whose traits satisfy `pick`, in registry order. */
const having = (pick: (t: spc.ChartTraits) => boolean): string[] =>
  spc.CHART_TYPES.filter((type) => pick(spc.chartKind(type).traits));

function errCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('spc chart kinds: the registry', () => {
  it('has one kind per built-in chart type, in CHART_TYPES order', () => {
    assert.deepEqual(spc.chartTypes().slice(0, spc.CHART_TYPES.length), [...spc.CHART_TYPES]);
    for (const type of spc.CHART_TYPES) assert.equal(spc.chartKind(type).type, type);
    assert.deepEqual(
      [...new Set(spc.CHART_TYPES.map((t) => spc.chartKind(t).traits.family))],
      ['subgroup', 'individuals', 'attributes', 'time-weighted', 'multivariate'],
    );
  });

  it('traits give the same chart lists the monitor, the batch chart and the editor kept by name', () => {
    // judged on rule 1 only: the statistic carries over (or is multivariate)
    assert.deepEqual(
      having((t) => t.beyondLimitsOnly),
      ['ewma', 'cusum', 't2', 'mewma'],
    );
    // measured variables: no variation is an error, change points in process sigma
    assert.deepEqual(
      having((t) => t.measured),
      ['xbar-r', 'xbar-s', 'imr', 'ewma', 'cusum'],
    );
    assert.deepEqual(
      having((t) => t.iterable),
      ['xbar-r', 'xbar-s', 'imr', 'p', 'np', 'c', 'u', 't2'],
    );
    assert.deepEqual(
      having((t) => t.grouping),
      ['xbar-r', 'xbar-s', 'ewma', 'cusum'],
    );
    assert.deepEqual(
      having((t) => t.minSubgroup >= 2),
      ['xbar-r', 'xbar-s'],
    );
    assert.deepEqual(
      having((t) => t.sizes === 'required'),
      ['p', 'np', 'u'],
    );
    assert.deepEqual(
      having((t) => t.sizes !== 'none'),
      ['p', 'np', 'c', 'u'],
    );
    assert.deepEqual(
      having((t) => t.minPhaseOne === 4),
      ['t2', 'mewma'],
    );
    assert.deepEqual(
      having((t) => t.capability),
      ['xbar-r', 'xbar-s', 'imr'],
    );
    assert.deepEqual(
      having((t) => t.runToRun),
      ['xbar-r', 'xbar-s', 'imr', 'ewma', 'cusum'],
    );
    assert.deepEqual(
      having((t) => t.autocorrelation),
      ['imr'],
    );
    assert.deepEqual(
      having((t) => t.tableConstants),
      ['xbar-r', 'imr', 'ewma', 'cusum'],
    );
    assert.deepEqual(
      having((t) => t.cumulative),
      ['cusum'],
    );
    assert.deepEqual(
      having((t) => t.input === 'vector'),
      ['t2', 'mewma'],
    );
    assert.deepEqual(
      having((t) => t.settings.includes('lambda')),
      ['ewma', 'mewma'],
    );
    assert.deepEqual(
      having((t) => t.settings.includes('shift')),
      ['cusum'],
    );
    assert.deepEqual(
      spc.CHART_TYPES.map((t) => spc.chartKind(t).traits.secondary?.kind ?? '-'),
      ['R', 'S', 'MR', '-', '-', '-', '-', '-', '-', '-', '-'],
    );
    assert.deepEqual(
      having((t) => t.secondary?.beyondLimitsOnly === true),
      ['imr'],
    );
    // a recommendation of the other chart for the same data is no advice to switch
    const same = (a: string, b: string) =>
      spc.chartKind(a).traits.sameData === spc.chartKind(b).traits.sameData;
    assert.ok(same('xbar-r', 'xbar-s') && same('p', 'np'));
    assert.ok(!same('c', 'u') && !same('imr', 'ewma') && !same('p', 'u'));
  });

  it('refuses an unknown chart type everywhere instead of treating it as another kind', () => {
    assert.equal(
      errCode(() => spc.chartKind('xbar')),
      'spc.badType',
    );
    assert.equal(
      errCode(() => spc.chart({ type: 'xbar' as spc.ChartType, data: [1, 2, 3] })),
      'spc.badType',
    );
    const params = spc.chart({ type: 'imr', data: [1, 2, 4, 3] }).params;
    assert.equal(
      errCode(() => new spc.ChartStream({ ...params, type: 'xbar' as spc.ChartType })),
      'spc.badType',
    );
    assert.equal(
      errCode(() => new spc.SpcMonitor({ type: 'xbar' as spc.ChartType, phaseOne: 5 })),
      'spc.badType',
    );
    assert.equal(spc.isChartType('xbar'), false);
  });

  it('refuses to register a kind twice or to replace a built-in one', () => {
    assert.equal(
      errCode(() => spc.registerChartKind(spc.chartKind('imr'))),
      'spc.badKind',
    );
    assert.equal(spc.unregisterChartKind('imr'), false);
    assert.equal(spc.chartKind('imr').type, 'imr');
  });
});

describe('spc chart kinds: a kind from one module outside the engine (i-chart.ts)', () => {
  const u = lcg(19);
  const phase1 = Array.from({ length: 30 }, () => 10 + 0.5 * gauss(u));
  const later = [...Array.from({ length: 10 }, () => 10 + 0.5 * gauss(u)), 12.5, 10.1];

  before(() => registerIChart());
  after(() => spc.unregisterChartKind('i'));

  it('is listed with its traits and refused once removed', () => {
    assert.ok(spc.isChartType('i'));
    assert.equal(spc.chartTypes().at(-1), 'i');
    assert.deepEqual(
      spc.chartTraits().find((k) => k.type === 'i'),
      { type: 'i', traits: I_CHART.traits },
    );
  });

  it('charts in batch: the I-MR chart without its moving-range companion', () => {
    const mine = spc.chart({ type: 'i', data: phase1, newData: later });
    const imr = spc.chart({ type: 'imr', data: phase1, newData: later });
    assert.equal(mine.secondary, undefined);
    assert.equal(mine.center, imr.center);
    assert.equal(mine.sigma, imr.sigma);
    assert.equal(mine.estimator, 'MR');
    assert.deepEqual(mine.points, imr.points);
    assert.deepEqual(mine.points.at(-2)?.violations, [1]);
    // its traits steer the batch chart: iteration applies (samples are independent)
    const it = spc.chart({
      type: 'i',
      data: [...phase1.slice(0, 20), 14, ...phase1.slice(20)],
      iterate: true,
    });
    assert.deepEqual(it.excluded, [20]);
  });

  it('streams with a snapshot and a restore like any built-in kind', () => {
    const r = spc.chart({ type: 'i', data: phase1 });
    const a = new spc.ChartStream(r.params);
    later.slice(0, 5).forEach((x) => a.push(x));
    const b = spc.ChartStream.restore(JSON.parse(JSON.stringify(a.snapshot())) as spc.StreamSnapshot);
    for (const x of later.slice(5)) assert.deepEqual(b.push(x), a.push(x));
  });

  it('runs through the monitor: phase I, capability, alarms with text, change point and run-to-run', () => {
    const m = new spc.SpcMonitor({ type: 'i', phaseOne: 30, spec: { lsl: 8, usl: 12 }, r2r: {} });
    const events = [...phase1, ...later].map((value, i) => m.push({ value, ts: T0 + i * 60000 }));
    const frozen = events[29]?.frozen;
    assert.ok(frozen && frozen.capability, 'capability from phase I (the kind says it supports it)');
    assert.equal(frozen.autocorrelation, undefined, 'no autocorrelation check (the kind does not ask)');
    const shot = events[40];
    assert.ok(shot && shot.phase === 2 && shot.zone === 'beyond' && shot.secondary === undefined);
    const alarm = shot.alarms.find((x) => x.rule === 1);
    assert.ok(alarm);
    assert.equal(alarm.ruleSet, 'nelson');
    assert.match(alarm.text, /^Nelson 1: point 12\.5 above the upper control limit [\d.]+ at \d\d:\d\d/);
    assert.ok(alarm.changePoint, 'a change point in process sigma (a measured variable)');
    assert.ok(
      events.some((e) => e?.r2r !== undefined),
      'run-to-run proposals',
    );
    assert.ok(m.patternWindow(32)?.length, 'a univariate window for the pattern classifier');
    // one sample per message: grouping is refused as for an I-MR chart
    assert.throws(() => new spc.SpcMonitor({ type: 'i', phaseOne: 5, grouping: 'count', subgroupSize: 3 }), {
      code: 'spc.badOption',
    });
  });
});
