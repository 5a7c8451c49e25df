import assert from 'node:assert/strict';
import {
  approverName,
  ControlChartState,
  decisionMessage,
  collectingNotice,
  displayDecimals,
  GanttState,
  inboxItems,
  inboxSignature,
  type PendingLike,
} from '../../nodes/dashboard/views';

const plan = (now: number, ops: [string, string, number, number, number][], extra = {}) => ({
  schedule: {
    operations: ops.map(([job, machine, op, start, end]) => ({ job, machine, op, start, end })),
    makespan: Math.max(...ops.map((o) => o[4])),
  },
  kpis: { lateJobs: 0 },
  now,
  trigger: 'plan',
  ...extra,
});

describe('dashboard views: Gantt', () => {
  it('draws a plan: machines in order of appearance, bar states from now, jobs sorted for colours', () => {
    const g = new GanttState({ history: 15, horizon: 100 });
    g.apply({
      machines: [{ id: 'M1' }, { id: 'M2', unavailable: [{ start: 50, end: 60, reason: 'pm' }] }],
      jobs: [],
    });
    g.apply(
      plan(20, [
        ['B', 'M2', 0, 0, 10],
        ['A', 'M1', 0, 10, 30],
        ['A', 'M2', 1, 30, 45],
      ]),
    );
    const v = g.view();
    assert.deepEqual(v.machines, ['M1', 'M2']);
    assert.deepEqual(v.jobs, ['A', 'B']);
    assert.deepEqual(
      v.bars.map((b) => `${b.job}/${b.op}:${b.state}`),
      ['B/0:done', 'A/0:running', 'A/1:planned'],
    );
    assert.equal(v.now, 20);
    assert.equal(v.from, 5);
    assert.equal(v.to, 120); // now + horizon
    assert.equal(v.makespan, 45);
    assert.deepEqual(v.downtime, [{ machine: 'M2', start: 50, end: 60, reason: 'pm' }]);
  });

  it('keeps only what is in the window and marks late jobs against the due dates it was given', () => {
    const g = new GanttState({ history: 5, horizon: 20 });
    g.apply({
      machines: [{ id: 'M' }],
      jobs: [
        { id: 'A', due: 10 },
        { id: 'B', due: 100 },
      ],
    });
    g.apply(
      plan(30, [
        ['A', 'M', 0, 0, 12],
        ['B', 'M', 0, 12, 40],
      ]),
    );
    const v = g.view();
    assert.deepEqual(
      v.bars.map((b) => [b.job, b.late]),
      [['B', false]],
    ); // A ended at 12, before the window starts at 25
    const h = new GanttState();
    h.apply({ machines: [{ id: 'M' }], jobs: [{ id: 'A', due: 10 }] });
    h.apply(plan(0, [['A', 'M', 0, 0, 12]]));
    assert.equal(h.view().bars[0]!.late, true);
  });

  it('opens a breakdown block on a breakdown event and closes it on repaired; until draws maintenance', () => {
    const g = new GanttState();
    g.apply({ machines: [{ id: 'M' }], jobs: [] });
    g.apply({ event: 'breakdown', machine: 'M', from: 5 });
    assert.deepEqual(g.view().downtime, [{ machine: 'M', start: 5, end: null, reason: 'breakdown' }]);
    g.apply({ event: 'repaired', machine: 'M', at: 9 });
    g.apply({ event: 'breakdown', machine: 'M', from: 20, until: 30 });
    assert.deepEqual(
      g.view().downtime.map((d) => [d.start, d.end, d.reason]),
      [
        [5, 9, 'breakdown'],
        [20, 30, 'maintenance'],
      ],
    );
  });

  it('moves the now line on { now } (never back), flags maintenance jobs and takes Gantt rows too', () => {
    const g = new GanttState();
    assert.equal(g.apply({ now: 12 }), 'tick');
    assert.equal(g.apply({ now: 3 }), 'tick');
    assert.equal(g.view().now, 12);
    g.apply([
      { machine: 'M', job: 'MAINT-M-1', op: 0, start: 0, end: 5, state: 'done', late: false },
      { machine: 'M', job: 'J', op: 0, start: 5, end: 9, state: 'running', late: true },
    ]);
    const v = g.view();
    assert.deepEqual(
      v.bars.map((b) => [b.job, b.maintenance, b.state, b.late]),
      [
        ['MAINT-M-1', true, 'done', false],
        ['J', false, 'running', true],
      ],
    );
    assert.deepEqual(v.jobs, ['J'], 'maintenance takes no job colour');
    assert.equal(g.apply({ something: 1 }), false);
  });

  it("knows the plan's clock from { now, origin }: a new origin is a change, the same one a tick", () => {
    const g = new GanttState();
    assert.equal(g.view().origin, null, 'plan units until the clock is known');
    const t0 = Date.UTC(2026, 11, 6, 14, 0);
    assert.equal(g.apply({ now: 5, origin: t0 }), true);
    assert.equal(g.apply({ now: 6, origin: t0 }), 'tick');
    assert.equal(g.view().origin, t0);
    assert.equal(g.view().now, 6);
  });

  it('refuses what it cannot draw and keeps the last good plan', () => {
    const g = new GanttState();
    g.apply(plan(0, [['A', 'M', 0, 0, 5]]));
    assert.throws(() => g.apply('plan'), /Gantt takes a plan/);
    assert.throws(
      () => g.apply({ schedule: { operations: [{ job: 'A', start: 0, end: 1 }] } }),
      /machine, start/,
    );
    assert.throws(() => g.apply([{ machine: 'M', start: 'x', end: 1 }]), /Gantt row/);
    assert.equal(g.view().bars.length, 1);
  });
});

describe('dashboard views: control chart', () => {
  const pt = (index: number, stat: number, extra = {}) => ({
    type: 'imr',
    index,
    stat,
    center: 10,
    ucl: 13,
    lcl: 7,
    zone: 'C',
    violations: [],
    ...extra,
  });

  it('keeps the last N points with the latest limits and the zone edges at 1 and 2 sigma', () => {
    const c = new ControlChartState(3, 'Bore');
    for (let i = 0; i < 5; i++) c.push(pt(i, 10 + i * 0.1));
    const v = c.view();
    assert.deepEqual(
      v.points.map((p) => p.index),
      [2, 3, 4],
    );
    assert.equal(v.title, 'Bore');
    assert.equal(v.chartType, 'imr');
    assert.deepEqual([v.center, v.ucl, v.lcl], [10, 13, 7]);
    assert.deepEqual(v.zones, { b: [9, 11], a: [8, 12] });
  });

  it('uses asymmetric limits for each side and shows violations and the alarm text', () => {
    const c = new ControlChartState(10);
    c.push(
      pt(0, 2, { center: 1, ucl: 4, lcl: 0.4, violations: [1, 5], zone: 'beyond' }),
      'Nelson 1: beyond UCL',
    );
    const v = c.view();
    assert.ok(Math.abs(v.zones!.b[0] - 0.8) < 1e-12 && v.zones!.b[1] === 2);
    assert.ok(Math.abs(v.zones!.a[0] - 0.6) < 1e-12 && v.zones!.a[1] === 3);
    assert.deepEqual(v.points[0]!.violations, [1, 5]);
    assert.equal(v.violationsShown, 1);
    assert.equal(v.lastAlarm, 'Nelson 1: beyond UCL');
  });

  it('draws phase I points without limits and shows the progress', () => {
    const c = new ControlChartState(10);
    c.push({ type: 'imr', index: 0, stat: 5, collecting: { n: 1, of: 25 }, violations: [] });
    const v = c.view();
    assert.equal(v.center, null);
    assert.equal(v.zones, null);
    assert.deepEqual(v.collecting, { n: 1, of: 25 });
    assert.equal(v.notice, 'phase I 1/25: limits after 25 points');
    // once the limits are frozen the notice goes
    c.push({ type: 'imr', index: 1, stat: 5, center: 5, ucl: 6, lcl: 4, violations: [] });
    assert.equal(c.view().notice, null);
  });

  it('words the phase-I progress, and has none without a size', () => {
    assert.equal(collectingNotice({ n: 20, of: 75 }), 'phase I 20/75: limits after 75 points');
    assert.equal(collectingNotice({ n: 80, of: 75 }), 'phase I 75/75: limits after 75 points');
    assert.equal(collectingNotice({ n: 3, of: NaN }), null);
    assert.equal(collectingNotice(null), null);
  });

  it('refuses points without a number and bad sizes; reset clears', () => {
    assert.throws(() => new ControlChartState(1), /at least 2/);
    const c = new ControlChartState(5);
    assert.throws(() => c.push({ stat: 'x' }), /stat must be a number/);
    assert.throws(() => c.push(undefined), /msg.spc/);
    c.push(pt(0, 1));
    c.reset();
    assert.equal(c.view().points.length, 0);
  });
});

describe('dashboard views: control chart precision', () => {
  it('shows the limit the alarm names (UCL 25.0088, sigma 0.0029) with four decimals, not 25.01', () => {
    const d = displayDecimals([25.001, 24.998, 25.004], 0.0029, { ucl: 25.0088, lcl: 24.9912 });
    assert.equal(d, 4);
    assert.equal((25.0088).toFixed(d), '25.0088');
  });

  it('adds decimals until a point beyond a limit and that limit print differently', () => {
    const ucl = 25.0088;
    const lcl = 24.9912;
    assert.equal(displayDecimals([25.0, 25.00883], 0.0029, { ucl, lcl }), 5);
    assert.equal(displayDecimals([25.0, 24.99117], 0.0029, { ucl, lcl }), 5);
    // A point well beyond needs no extra digit.
    assert.equal(displayDecimals([25.0, 25.0123], 0.0029, { ucl, lcl }), 4);
  });

  it('follows the scale of the data: large sigma, tiny sigma, no limits yet, constant data', () => {
    assert.equal(displayDecimals([1200, 1350], 48, { ucl: 1400, lcl: 1100 }), 0);
    assert.equal(displayDecimals([0.1, 0.2], 0.034, { ucl: 0.25, lcl: 0.05 }), 3);
    assert.equal(displayDecimals([1e-6, 2e-6], 3e-7), 8); // capped
    // Phase I: no sigma yet, two significant digits of the points' standard deviation (0.0707...).
    assert.equal(displayDecimals([10.1, 10.2], null), 3);
    // Constant readings: the data's own decimals.
    assert.equal(displayDecimals([7.25, 7.25, 7.25], null), 2);
    assert.equal(displayDecimals([3, 3], null), 0);
  });

  it('the chart view carries the decimals from its own limits', () => {
    const c = new ControlChartState(10);
    const at = (index: number, stat: number, violations: number[] = []) => ({
      type: 'imr',
      index,
      stat,
      center: 25,
      ucl: 25.0088,
      lcl: 24.9912,
      violations,
    });
    c.push(at(0, 25.001));
    assert.equal(c.view().decimals, 4);
    c.push(at(1, 25.00883, [1]));
    assert.equal(c.view().decimals, 5);
  });
});

describe('dashboard views: approvals inbox', () => {
  const p = (id: string, createdAt: number, decisions: PendingLike['decisions'] = []): PendingLike => ({
    id,
    summary: `do ${id}`,
    createdAt,
    expiresAt: null,
    required: 2,
    decisions,
  });

  it('lists waiting actions oldest first with who approved so far', () => {
    const items = inboxItems([p('b', 20), p('a', 10, [{ user: 'ann', decision: 'approve', at: 11 }])]);
    assert.deepEqual(
      items.map((i) => [i.id, i.approvedBy]),
      [
        ['a', ['ann']],
        ['b', []],
      ],
    );
    assert.notEqual(inboxSignature(items), inboxSignature(inboxItems([p('a', 10), p('b', 20)])));
  });

  it('names the approver from the dashboard user, else the default', () => {
    assert.equal(approverName({ user: { username: 'jo' } }, 'operator'), 'jo');
    assert.equal(approverName({ user: { email: 'a@b.c', name: ' ' } }, 'operator'), 'a@b.c');
    assert.equal(approverName({ socketId: 'x' }, 'operator'), 'operator');
    assert.equal(approverName(undefined, 'station 3'), 'station 3');
  });

  it('turns a button press into the decision takt-approve takes, and refuses malformed ones', () => {
    assert.deepEqual(decisionMessage({ id: 'a', decision: 'approve' }, 'jo'), {
      approval: { id: 'a', decision: 'approve', user: 'jo' },
    });
    assert.deepEqual(decisionMessage({ id: 'a', decision: 'reject', comment: ' no ' }, 'jo'), {
      approval: { id: 'a', decision: 'reject', user: 'jo', comment: 'no' },
    });
    assert.throws(() => decisionMessage({ decision: 'approve' }, 'jo'), /id of the waiting action/);
    assert.throws(() => decisionMessage({ id: 'a', decision: 'maybe' }, 'jo'), /"approve" or "reject"/);
    assert.throws(() => decisionMessage({ id: 'a', decision: 'approve' }, ''), /approver name/);
  });
});
