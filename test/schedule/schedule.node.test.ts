import assert from 'node:assert/strict';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import type { DispatchEntry, GanttRow, LiveResult, SchedulingProblem } from '../../nodes/schedule';

// The compiled node, as the runtime loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const scheduleNode = require('../../nodes/schedule/schedule.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

type PlanMsg = {
  payload: Omit<LiveResult, 'dispatch' | 'gantt'>;
  schedule: { trigger: string };
  keep?: string;
};

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 's',
    z: 'tab',
    type: 'takt-schedule',
    repairTime: 300,
    planTime: 1,
    workers: 0,
    wires: [['plan'], ['dispatch'], ['gantt']],
    ...extra,
  },
  { id: 'plan', z: 'tab', type: 'helper' },
  { id: 'dispatch', z: 'tab', type: 'helper' },
  { id: 'gantt', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['s'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

const problem = (): SchedulingProblem => ({
  machines: [{ id: 'M1' }, { id: 'M2' }],
  jobs: [
    {
      id: 'A',
      due: 20,
      operations: [
        { alternatives: [{ machine: 'M1', duration: 5 }] },
        { alternatives: [{ machine: 'M2', duration: 4 }] },
      ],
    },
    {
      id: 'B',
      due: 20,
      operations: [
        { alternatives: [{ machine: 'M2', duration: 3 }] },
        {
          alternatives: [
            { machine: 'M1', duration: 6 },
            { machine: 'M2', duration: 8 },
          ],
        },
      ],
    },
  ],
});

describe('takt-schedule node', function () {
  this.timeout(30000);
  afterEach(async () => {
    await helper.unload();
  });

  it('loads with its defaults', async () => {
    await load([scheduleNode], [{ id: 's', type: 'takt-schedule', name: 'plan' }]);
    assert.equal(getNode('s').name, 'plan');
  });

  it('plans a problem: plan with KPIs, dispatch lists and Gantt rows on three outputs', async () => {
    await load([scheduleNode, catchNode], flow());
    const plan = nextMessages<PlanMsg>('plan');
    const dispatch = nextMessages<{ payload: DispatchEntry[] }>('dispatch');
    const gantt = nextMessages<{ payload: GanttRow[] }>('gantt');
    const green = nextStatus('s', (s) => s.fill === 'green');
    getNode('s').receive({ payload: problem(), keep: 'me' });
    const [p] = await plan;
    // B/1 on M1 loads M1 with 5 + 6 = 11; on M2 it loads M2 with 3 + 4 + 8 = 15: the optimum is 11
    assert.equal(p.payload.schedule.makespan, 11);
    // the bounds cannot prove it (B/1 is flexible), so the plan is reported as feasible with its gap
    assert.equal(p.payload.kpis.status, 'feasible');
    assert.ok(p.payload.kpis.lowerBound <= 11);
    assert.equal(p.schedule.trigger, 'plan');
    assert.equal(p.keep, 'me');
    const [d] = await dispatch;
    assert.deepEqual(
      d.payload.map((x) => x.machine),
      ['M1', 'M2'],
    );
    const [g] = await gantt;
    assert.equal(g.payload.length, 4);
    assert.deepEqual(await green, { fill: 'green', shape: 'dot', text: 'schedule.status.gap' });
  });

  it('repairs the plan on a breakdown and reports stability', async () => {
    await load([scheduleNode, catchNode], flow());
    const first = nextMessages<PlanMsg>('plan');
    getNode('s').receive({ payload: problem() });
    await first;
    const second = nextMessages<PlanMsg>('plan');
    getNode('s').receive({ payload: { event: 'breakdown', machine: 'M1', from: 0, until: 10 } });
    const [r] = await second;
    assert.equal(r.schedule.trigger, 'breakdown');
    for (const o of r.payload.schedule.operations) if (o.machine === 'M1') assert.ok(o.start >= 10);
    assert.ok(r.payload.stability && r.payload.stability.compared === 4);
  });

  it('refuses a bad event through done(err) with a red status, keeps the plan and keeps working', async () => {
    await load([scheduleNode, catchNode], flow());
    const first = nextMessages<PlanMsg>('plan');
    getNode('s').receive({ payload: problem() });
    const [p1] = await first;
    const caught = nextMessages<{ error: { message: string } }>('caught');
    const red = nextStatus('s', (s) => s.fill === 'red');
    getNode('s').receive({ payload: { event: 'rush', job: { id: 'R', operations: [] } } });
    assert.match((await caught)[0].error.message, /job R has no operations/);
    assert.deepEqual(await red, { fill: 'red', shape: 'dot', text: 'no operations' });
    const next = nextMessages<PlanMsg>('plan');
    getNode('s').receive({ payload: { event: 'cancel', job: 'B' } });
    const [p2] = await next;
    assert.deepEqual(
      p2.payload.schedule.operations,
      p1.payload.schedule.operations.filter((o) => o.job === 'A'),
    );
  });

  it('msg.action "reset" clears the plan; the old msg.reset still works with one deprecation warning', async () => {
    await load([scheduleNode, catchNode], flow());
    const s = getNode('s');
    const warnings: string[] = [];
    s.warn = (t: unknown) => void warnings.push(String(t));
    for (const reset of [{ action: 'reset' }, { reset: true }, { reset: true }]) {
      const first = nextMessages<PlanMsg>('plan');
      s.receive({ payload: problem() });
      await first;
      const grey = nextStatus('s', (st) => st.fill === 'grey');
      s.receive(reset);
      assert.equal((await grey).shape, 'ring', 'idle: no plan');
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /msg\.reset is deprecated: send msg\.action instead/);
  });

  it('refuses an action it does not know, and a config number that is not one', async () => {
    await load([scheduleNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('s').receive({ action: 'clear', payload: problem() });
    assert.match((await caught)[0].error.message, /action: "clear" is not one of reset/);
    await helper.unload();
    await load([scheduleNode, catchNode], flow({ planTime: 'ten' }));
    const bad = nextMessages<{ error: { message: string } }>('caught');
    getNode('s').receive({ payload: problem() });
    assert.match((await bad)[0].error.message, /planTime: "ten" is not a number/);
  });

  it('shows solving progress, and closing the flow cancels a long solve in a worker thread', async () => {
    // 30 jobs x 10 machines cannot be proved optimal quickly: the solve would run for the full 10 minutes
    const big: SchedulingProblem = {
      machines: Array.from({ length: 10 }, (_, m) => ({ id: `M${m}` })),
      jobs: Array.from({ length: 30 }, (_, j) => ({
        id: `J${j}`,
        operations: Array.from({ length: 10 }, (_, k) => ({
          alternatives: [{ machine: `M${(j * 7 + k * 3) % 10}`, duration: 1 + ((j * 13 + k * 29) % 37) }],
        })),
      })),
    };
    await load([scheduleNode, catchNode], flow({ planTime: 600, workers: 1 }));
    const blue = nextStatus('s', (s) => s.fill === 'blue');
    getNode('s').receive({ payload: big });
    const st = await blue;
    assert.equal(st.shape, 'dot');
    assert.match(st.text ?? '', /^schedule\.status\.so/); // the i18n key, clipped to the status length
    await helper.unload(); // resolves only once the close handler has seen the solve end
  });

  it('refuses a bad problem naming the job and operation', async () => {
    await load([scheduleNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught');
    const p = problem();
    p.jobs[1].operations[1].alternatives[0].duration = -2;
    getNode('s').receive({ payload: p });
    assert.match((await caught)[0].error.message, /job B operation 1 on M1: duration -2/);
  });
});
