import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TaktError } from '../../nodes/core/errors';
import { LivePlanner, parseEvent, validate } from '../../nodes/schedule';
import type { LiveResult, SchedulingProblem } from '../../nodes/schedule';

/** Four jobs over three machines; J1 and J2 can also run their first step on M2. */
function shop(): SchedulingProblem {
  const op = (machine: string, duration: number, alt?: [string, number]) => ({
    alternatives: alt
      ? [
          { machine, duration },
          { machine: alt[0], duration: alt[1] },
        ]
      : [{ machine, duration }],
  });
  return {
    machines: [{ id: 'M1' }, { id: 'M2' }, { id: 'M3' }],
    jobs: [
      { id: 'J1', due: 60, operations: [op('M1', 10, ['M2', 14]), op('M3', 8)] },
      { id: 'J2', due: 60, operations: [op('M1', 12, ['M2', 15]), op('M2', 6), op('M3', 5)] },
      { id: 'J3', due: 80, operations: [op('M2', 9), op('M1', 7)] },
      { id: 'J4', due: 80, operations: [op('M3', 11), op('M1', 6)] },
    ],
  };
}

const find = (r: LiveResult, job: string, op: number) => {
  const o = r.schedule.operations.find((x) => x.job === job && x.op === op);
  assert.ok(o, `job ${job} operation ${op} is in the plan`);
  return o;
};

describe('schedule live rescheduling', function () {
  this.timeout(30000);
  const planner = () => new LivePlanner({ planTimeMs: 1000, repairTimeMs: 300, workers: 0 });

  it('plans from scratch with KPIs, dispatch lists and Gantt rows', async () => {
    const p = planner();
    const r = await p.planFrom(shop());
    assert.equal(r.trigger, 'plan');
    assert.equal(r.stability, null);
    assert.deepEqual(validate(shop(), r.schedule), []);
    assert.equal(r.kpis.makespan, r.schedule.makespan);
    const busyM1 = r.schedule.operations
      .filter((o) => o.machine === 'M1')
      .reduce((a, o) => a + o.end - o.start, 0);
    assert.equal(r.kpis.utilisation.M1, Number((busyM1 / r.schedule.makespan).toFixed(4)));
    assert.deepEqual(
      r.dispatch.map((d) => d.machine),
      ['M1', 'M2', 'M3'],
    );
    const m1 = r.dispatch[0];
    assert.equal(m1.next, m1.queue[0]);
    assert.ok(m1.queue.every((o, k) => k === 0 || o.start >= m1.queue[k - 1].end));
    assert.equal(r.gantt.length, r.schedule.operations.length);
    assert.ok(r.gantt.every((g) => g.state === 'planned' && g.label === `${g.job}/${g.op}`));
  });

  it('breakdown: nothing new runs on the machine while it is down, the interrupted operation restarts, started work stays', async () => {
    const p = planner();
    const first = await p.planFrom(shop());
    const onM1 = first.schedule.operations
      .filter((o) => o.machine === 'M1')
      .sort((a, b) => a.start - b.start)[0];
    const from = onM1.start + 1; // M1 breaks while its first operation runs
    const r = await p.apply({ event: 'breakdown', machine: 'M1', from, until: from + 30 });
    assert.equal(r.trigger, 'breakdown');
    assert.equal(r.now, from);
    for (const o of r.schedule.operations)
      if (o.machine === 'M1' && !(o.job === onM1.job && o.op === onM1.op))
        assert.ok(o.end <= from || o.start >= from + 30, `${o.job}/${o.op} on M1 at ${o.start}-${o.end}`);
    const again = find(r, onM1.job, onM1.op);
    assert.ok(again.start >= from, 'the interrupted operation starts again after the breakdown began');
    // operations that had started elsewhere keep their place
    for (const o of first.schedule.operations)
      if (o.start < from && o.machine !== 'M1') assert.deepEqual(find(r, o.job, o.op), o);
    assert.ok(r.stability && r.stability.compared > 0);
    assert.equal(typeof r.stability?.movedMachine, 'number');
  });

  it('repaired: an open breakdown ends at the repair time', async () => {
    const p = planner();
    const first = await p.planFrom(shop());
    await p.apply({ event: 'breakdown', machine: 'M3', from: 0 });
    const open = p.current?.problem.machines.find((m) => m.id === 'M3')?.unavailable?.[0];
    assert.ok(open && open.end >= first.schedule.makespan, 'an open breakdown lasts beyond the plan');
    const r = await p.apply({ event: 'repaired', machine: 'M3', at: 20 });
    assert.deepEqual(p.current?.problem.machines.find((m) => m.id === 'M3')?.unavailable, [
      { start: 0, end: 20, reason: 'breakdown' },
    ]);
    for (const o of r.schedule.operations) if (o.machine === 'M3') assert.ok(o.start >= 20);
  });

  it('rush order: the new job is planned from now, work already started is kept', async () => {
    const p = planner();
    const first = await p.planFrom(shop());
    const r = await p.apply({
      event: 'rush',
      at: 5,
      job: {
        id: 'R1',
        due: 30,
        priority: 5,
        operations: [{ alternatives: [{ machine: 'M3', duration: 4 }] }],
      },
    });
    const rush = find(r, 'R1', 0);
    assert.ok(rush.start >= 5);
    for (const o of first.schedule.operations) if (o.start < 5) assert.deepEqual(find(r, o.job, o.op), o);
    assert.deepEqual(validate(p.current?.problem as SchedulingProblem, r.schedule), []);
  });

  it('material delay: consumers wait for the late delivery', async () => {
    const p = planner();
    const problem = shop();
    problem.materials = [{ id: 'steel', available: [{ at: 0, qty: 10 }] }];
    problem.jobs[2].operations[1].consumes = [{ material: 'steel', qty: 4 }];
    problem.jobs[3].operations[1].consumes = [{ material: 'steel', qty: 4 }];
    const first = await p.planFrom(problem);
    assert.ok(find(first, 'J3', 1).start < 100);
    const r = await p.apply({ event: 'material', material: 'steel', available: [{ at: 100, qty: 10 }] });
    assert.ok(find(r, 'J3', 1).start >= 100);
    assert.ok(find(r, 'J4', 1).start >= 100);
  });

  it('progress: a started operation is frozen as reported, a finished one frees its successor', async () => {
    const p = planner();
    const first = await p.planFrom(shop());
    const j4 = find(first, 'J4', 0); // J4/0 can only run on M3 (11 long)
    const r1 = await p.apply({ event: 'progress', job: 'J4', op: 0, status: 'started', at: j4.start + 2 });
    assert.deepEqual(find(r1, 'J4', 0), {
      job: 'J4',
      op: 0,
      machine: 'M3',
      start: j4.start + 2,
      end: j4.start + 13,
    });
    const r2 = await p.apply({ event: 'progress', job: 'J4', op: 0, status: 'finished', at: j4.start + 9 });
    assert.deepEqual(find(r2, 'J4', 0), {
      job: 'J4',
      op: 0,
      machine: 'M3',
      start: j4.start + 2,
      end: j4.start + 9,
    });
    assert.ok(find(r2, 'J4', 1).start >= j4.start + 9);
  });

  it('cancel: a job that has not started disappears from the plan', async () => {
    const p = planner();
    await p.planFrom(shop());
    const r = await p.apply({ event: 'cancel', job: 'J3' });
    assert.equal(
      r.schedule.operations.some((o) => o.job === 'J3'),
      false,
    );
  });

  it('refuses a malformed event or an unknown machine with a clear error and keeps the plan', async () => {
    const p = planner();
    await p.planFrom(shop());
    const before = p.current;
    await assert.rejects(
      p.apply({ event: 'meltdown' }),
      (e: unknown) => e instanceof TaktError && /event must be one of/.test(e.message),
    );
    await assert.rejects(p.apply({ event: 'breakdown', machine: 'M9', from: 3 }), /unknown machine M9/);
    await assert.rejects(
      p.apply({ event: 'breakdown', machine: 'M1', from: 3, until: 2 }),
      /"until" must be after "from"/,
    );
    await assert.rejects(
      p.apply({
        event: 'rush',
        job: { id: 'R', operations: [{ alternatives: [{ machine: 'M7', duration: 3 }] }] },
      }),
      /job R operation 0: unknown machine "M7"/,
    );
    await assert.rejects(
      p.apply({ event: 'progress', job: 'J1', op: 9, status: 'started', at: 3 }),
      /job J1 has no operation 9/,
    );
    assert.equal(p.current?.plan, before?.plan);
    assert.equal(p.current?.problem, before?.problem);
  });

  it('a heavy stability weight keeps the plan in force when nothing forces a change', async () => {
    const p = new LivePlanner({ planTimeMs: 300, repairTimeMs: 300, workers: 0, stabilityWeight: 1000 });
    const first = await p.planFrom(shop());
    const r = await p.apply({ event: 'repaired', machine: 'M2', at: 0 });
    assert.deepEqual(r.stability, { compared: 9, movedMachine: 0, movedTime: 0, meanShift: 0 });
    assert.deepEqual(r.schedule.operations, first.schedule.operations);
  });

  it('replays the example flow: its plan and every event button work, the bad event is refused', async () => {
    const file = join(
      __dirname,
      '..',
      '..',
      '..',
      'examples',
      'schedule',
      '01 - Replan on breakdown and rush order.json',
    );
    const flow = JSON.parse(readFileSync(file, 'utf8')) as { type: string; name: string; payload?: string }[];
    const injects = flow
      .filter((n) => n.type === 'inject')
      .map((n) => ({ name: n.name, payload: JSON.parse(n.payload as string) as object }));
    const p = planner();
    const [plan, ...events] = injects;
    assert.equal(plan.name, 'plan');
    const first = await p.planFrom(plan.payload as SchedulingProblem);
    assert.deepEqual(validate(plan.payload as SchedulingProblem, first.schedule), []);
    for (const e of events) {
      if (e.name === 'bad event') await assert.rejects(p.apply(e.payload), /unknown machine "Laser"/);
      else assert.equal((await p.apply(e.payload)).trigger, (e.payload as { event: string }).event, e.name);
    }
  });

  it('needs a plan before events', async () => {
    await assert.rejects(
      planner().apply({ event: 'cancel', job: 'J1' }),
      (e: unknown) => e instanceof TaktError && e.code === 'schedule.noPlan',
    );
  });

  it('parses the event forms', () => {
    assert.deepEqual(parseEvent({ event: 'progress', job: 'J1', op: 0, finished: true, at: 4 }), {
      event: 'progress',
      job: 'J1',
      op: 0,
      status: 'finished',
      at: 4,
    });
    assert.throws(
      () => parseEvent({ event: 'progress', job: 'J1', op: 0, status: 'started', at: 1.5 }),
      /"at" must be an integer/,
    );
    assert.throws(() => parseEvent(null), /must be an object/);
  });
});
