/**
 * The caps that keep a long-running plant (npm run soak: weeks of plant time) from growing: each test feeds
 * more than the cap and checks what is kept. README "Soak test" lists where each cap is set.
 */
import assert from 'node:assert/strict';
import { ApprovalBook } from '../../nodes/approve/approvals';
import { SerialJobs } from '../../nodes/core/jobs';
import { GanttState, MAX_DUE_DATES } from '../../nodes/dashboard/views';
import { LivePlanner, prunePast } from '../../nodes/schedule/live';
import type { ScheduledOperation, SchedulingProblem } from '../../nodes/schedule/types';
import { GROUND_TRUTH_KEEP, PlantSimulator } from '../../nodes/sim/engine';
import { DEFAULT_PLANT } from '../../nodes/sim/model';

const op = (machine: string, duration: number) => ({ alternatives: [{ machine, duration }] });

describe('caps on what long-running nodes keep', () => {
  describe('live plan: the past leaves the problem', () => {
    it('keeps only the last finished jobs and ended windows, and never what can still move', () => {
      const p: SchedulingProblem = {
        machines: [
          {
            id: 'M',
            unavailable: [
              { start: 0, end: 5, reason: 'breakdown' },
              { start: 10, end: 15, reason: 'breakdown' },
              { start: 20, end: 25, reason: 'breakdown' },
              { start: 90, end: 200, reason: 'breakdown' },
            ],
          },
        ],
        jobs: ['A', 'B', 'C', 'D', 'E'].map((id) => ({ id, operations: [op('M', 10), op('M', 10)] })),
      };
      const f = (job: string, o: number, start: number): [string, ScheduledOperation] => [
        `${job}\u0000${o}`,
        { job, op: o, machine: 'M', start, end: start + 10 },
      ];
      // A, B, C finished (ends 20, 40, 60); D started but its second operation is not frozen; E not started.
      const frozen = new Map([f('A', 0, 0), f('A', 1, 10), f('B', 0, 20), f('B', 1, 30), f('C', 0, 40)]);
      frozen.set(...f('C', 1, 50));
      frozen.set(...f('D', 0, 60));
      prunePast(p, frozen, 80, 2, 2);
      assert.deepEqual(
        p.jobs.map((j) => j.id),
        ['B', 'C', 'D', 'E'],
      );
      assert.deepEqual([...frozen.keys()].map((k) => k.split('\u0000')[0]).sort(), ['B', 'B', 'C', 'C', 'D']);
      assert.deepEqual(
        p.machines[0].unavailable?.map((w) => w.start),
        [10, 20, 90],
      );
    });

    it('keeps a job that used material, whatever its age', () => {
      const p: SchedulingProblem = {
        machines: [{ id: 'M' }],
        materials: [{ id: 'steel', available: [{ at: 0, qty: 10 }] }],
        jobs: [
          { id: 'A', operations: [{ ...op('M', 10), consumes: [{ material: 'steel', qty: 1 }] }] },
          { id: 'B', operations: [op('M', 10)] },
        ],
      };
      const frozen = new Map<string, ScheduledOperation>([
        ['A\u00000', { job: 'A', op: 0, machine: 'M', start: 0, end: 10 }],
        ['B\u00000', { job: 'B', op: 0, machine: 'M', start: 10, end: 20 }],
      ]);
      prunePast(p, frozen, 30, 0, 0);
      assert.deepEqual(
        p.jobs.map((j) => j.id),
        ['A'],
      );
    });

    it('does not grow over many rush orders and breakdowns (the planner applies the caps)', async () => {
      const planner = new LivePlanner({
        planTimeMs: 50,
        repairTimeMs: 10,
        keepFinishedJobs: 3,
        keepPastWindows: 2,
      });
      await planner.planFrom({ machines: [{ id: 'M' }], jobs: [{ id: 'J0', operations: [op('M', 10)] }] });
      for (let k = 1; k <= 12; k++) {
        const t = 30 * k;
        await planner.apply({ event: 'rush', at: t, job: { id: `J${k}`, operations: [op('M', 10)] } });
        await planner.apply({ event: 'breakdown', machine: 'M', from: t + 12 });
        await planner.apply({ event: 'repaired', machine: 'M', at: t + 14 });
      }
      const cur = planner.current!;
      assert.ok(cur.problem.jobs.length <= 5, `${cur.problem.jobs.length} jobs kept`);
      assert.ok(
        cur.problem.jobs.some((j) => j.id === 'J12'),
        'the newest order stays',
      );
      assert.ok((cur.problem.machines[0].unavailable ?? []).length <= 3);
      assert.ok((cur.problem.frozen ?? []).length <= 5);
    });
  });

  it('Gantt: drops breakdowns older than its history window and caps the due dates it remembers', () => {
    const g = new GanttState({ history: 60 });
    for (let t = 0; t < 5000; t += 10) {
      g.apply({ event: 'breakdown', machine: 'M', from: t });
      g.apply({ event: 'repaired', machine: 'M', at: t + 2 });
      g.apply({ now: t + 5 });
      g.view();
    }
    assert.ok(g.retained().breakdowns <= 7, `${g.retained().breakdowns} breakdowns kept`);
    const open = new GanttState({ history: 60 });
    open.apply({ event: 'breakdown', machine: 'M', from: 0 });
    open.apply({ now: 10000 });
    assert.equal(open.view().downtime.length, 1, 'an open breakdown stays in view');
    for (let k = 0; k < MAX_DUE_DATES + 500; k++)
      g.apply({ event: 'rush', job: { id: `J${k}`, due: k, operations: [] } });
    assert.equal(g.retained().dueDates, MAX_DUE_DATES);
  });

  it('Gantt: forgets the due date of a job that left the plan, so rolling plans keep only their own jobs', () => {
    const g = new GanttState({ history: 60 });
    const plan = (now: number, jobs: number[]) => ({
      now,
      schedule: {
        operations: jobs.map((k) => ({ job: `J${k}`, op: 0, machine: 'M', start: 10 * k, end: 10 * k + 10 })),
      },
    });
    // As in the demo: a rush order every step, then a plan with the last five jobs (the scheduler drops
    // finished ones); a job that is announced but not planned yet keeps its due date.
    for (let k = 0; k < 3000; k++) {
      g.apply({ event: 'rush', at: 10 * k, job: { id: `J${k}`, due: 10 * k + 5, operations: [] } });
      g.apply(
        plan(
          10 * k,
          [k - 4, k - 3, k - 2, k - 1, k].filter((x) => x >= 0),
        ),
      );
    }
    g.apply({ event: 'rush', at: 30000, job: { id: 'NEXT', due: 1, operations: [] } });
    g.apply(plan(30000, [2996, 2997, 2998, 2999]));
    assert.ok(g.retained().dueDates <= 6, `${g.retained().dueDates} due dates kept`);
    // The due dates that are kept still mark late jobs: J2999 ends at 30000, due at 29995; NEXT is kept for its plan.
    assert.ok(g.view().bars.find((b) => b.job === 'J2999')?.late);
    g.apply({
      now: 30000,
      schedule: { operations: [{ job: 'NEXT', op: 0, machine: 'M', start: 30000, end: 30010 }] },
    });
    assert.equal(g.view().bars[0].late, true);
  });

  it('serial jobs: a message beyond the waiting cap fails at once instead of queueing', async () => {
    const jobs = new SerialJobs(2);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const outcomes: string[] = [];
    const all: Promise<void>[] = [];
    for (let k = 0; k < 5; k++)
      all.push(
        new Promise((resolve) =>
          jobs.run(
            () => gate,
            (err) => {
              outcomes[k] = err ? err.message : 'ok';
              resolve();
            },
          ),
        ),
      );
    // Run synchronously, none has started yet: the first is next, two wait behind it, the other two fail at once.
    assert.match(outcomes[3], /busy: 2 messages are already waiting/);
    await new Promise((r) => setImmediate(r));
    assert.equal(jobs.size, 2, 'the first runs, two wait');
    release();
    await Promise.all(all);
    assert.deepEqual(outcomes.slice(0, 3), ['ok', 'ok', 'ok']);
    assert.match(outcomes[4], /busy/);
    assert.equal(jobs.dropped, 2);
  });

  it('simulator: keeps the active faults and only the last ended ones in memory', () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 1, startTime: 0, groundTruthKeep: 3 });
    const active = sim.inject('Press1', 'bearing', 0.1);
    for (let k = 0; k < 10; k++) {
      sim.inject('CNC1', 'toolWear', 0.5);
      sim.advance(1000);
      sim.clear('CNC1');
    }
    sim.inject('CNC1', 'toolWear', 0.5);
    assert.equal(sim.groundTruth.filter((f) => f.end !== undefined).length, 3);
    assert.ok(sim.groundTruth.includes(active), 'the active fault stays');
    assert.equal(sim.groundTruth.at(-1)?.end, undefined);
    assert.equal(sim.groundTruth.length, 5);
  });

  it('simulator: by default the ended faults in memory stop growing within ten plant days of the demo', () => {
    // The demo's rate is six faults a plant day: 120 faults are 20 plant days.
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 1, startTime: 0 });
    for (let k = 0; k < 120; k++) {
      sim.inject('CNC1', 'toolWear', 0.5);
      sim.advance(1000);
      sim.clear('CNC1');
    }
    sim.inject('CNC1', 'toolWear', 0.5);
    const ended = sim.groundTruth.filter((f) => f.end !== undefined);
    assert.equal(ended.length, GROUND_TRUTH_KEEP);
    assert.ok(GROUND_TRUTH_KEEP <= 60, `${GROUND_TRUTH_KEEP} ended faults are 10 plant days at six a day`);
    assert.equal(ended.at(-1)?.id, 120, 'the newest ended ones stay');
  });

  it('approval book: refuses a proposal beyond maxPending', () => {
    const book = new ApprovalBook<string>({
      timeoutMs: 0,
      onTimeout: 'rejected',
      required: 1,
      maxPending: 2,
    });
    book.propose('a', { now: 0 });
    const b = book.propose('b', { now: 0 });
    assert.throws(() => book.propose('c', { now: 0 }), /2 actions are already waiting/);
    book.decide(b.id, {
      who: { user: 'ann', authenticated: true, source: 'admin' },
      decision: 'approve',
      now: 1,
    });
    book.propose('c', { now: 2 });
    assert.equal(book.size, 2);
  });
});
