import assert from 'node:assert/strict';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import type { EnergyPlan, EnergyProblem } from '../../nodes/energy';
import type { LimiterCommand } from '../../nodes/energy/limiter';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const energyNode = require('../../nodes/energy/energy.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const limitNode = require('../../nodes/energy/demand-limit.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 'e',
    z: 'tab',
    type: 'takt-energy',
    timeLimit: 5,
    wires: [['plan'], ['starts'], ['chart']],
    ...extra,
  },
  { id: 'plan', z: 'tab', type: 'helper' },
  { id: 'starts', z: 'tab', type: 'helper' },
  { id: 'chart', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['e', 'd'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

const problem = (): EnergyProblem => ({
  slotMinutes: 60,
  prices: [0.3, 0.3, 0.1, 0.1, 0.3, 0.3],
  loads: [{ id: 'oven', powerKw: 10, durationSlots: 2 }],
});

describe('takt-energy node', function () {
  this.timeout(30000);
  afterEach(async () => {
    await helper.unload();
  });

  it('optimises a problem: plan, chart series, and a start command at the load time', async () => {
    await load([energyNode, catchNode], flow());
    const plan = nextMessages<{ payload: EnergyPlan; keep: string }>('plan');
    const chart = nextMessages<{ payload: { series: string; x: number; y: number }[] }>('chart');
    const starts = nextMessages<{
      topic: string;
      payload: { action: string; load: string; slot: number; slots: number };
    }>('starts');
    // slot 2 (the cheap one) begins 300 ms from now
    const startTs = Date.now() - 2 * 3600000 + 300;
    getNode('e').receive({ payload: problem(), startTs, keep: 'me' });
    const [p] = await plan;
    assert.deepEqual(p.payload.loads.oven, [2, 3]);
    assert.equal(p.payload.totalCost, 2);
    assert.equal(p.keep, 'me');
    const [c] = await chart;
    assert.equal(c.payload.length, 18);
    assert.deepEqual(
      c.payload.filter((r) => r.series === 'import kW').map((r) => r.y),
      [0, 0, 10, 10, 0, 0],
    );
    const [s] = await starts;
    assert.equal(s.topic, 'oven');
    assert.deepEqual([s.payload.action, s.payload.slot, s.payload.slots], ['start', 2, 2]);
  });

  it('with one thread configured, still plans a capped problem with a demand charge', async () => {
    await load([energyNode, catchNode], flow({ threads: '1' }));
    const plan = nextMessages<{ payload: EnergyPlan }>('plan');
    getNode('e').receive({
      payload: {
        ...problem(),
        demandChargePerKw: 1,
        peakLimitKw: 12,
        loads: [...problem().loads, { id: 'washer', powerKw: 5, durationSlots: 2, preemptive: true }],
      },
    });
    const [p] = await plan;
    // the oven takes the two cheap slots; the washer cannot join it under the cap of 12 kW
    assert.deepEqual(p.payload.loads.oven, [2, 3]);
    assert.equal(p.payload.peakKw, 10);
    assert.equal(p.payload.optimal, true);
  });

  it('assembles the problem from loads and prices sent on their topics', async () => {
    await load([energyNode, catchNode], flow());
    const plan = nextMessages<{ payload: EnergyPlan }>('plan');
    const waiting = nextStatus(
      'e',
      (s) => s.fill === 'grey' && (s.text ?? '').startsWith('energy.status.wa'),
    );
    getNode('e').receive({ topic: 'loads', payload: problem().loads });
    await waiting;
    getNode('e').receive({ topic: 'prices', payload: [0.5, 0.1, 0.1, 0.5] });
    const [p] = await plan;
    assert.deepEqual(p.payload.loads.oven, [1, 2]);
  });

  it('reports bad input through done(err) naming the slot, and keeps the last good problem', async () => {
    await load([energyNode, catchNode], flow());
    const first = nextMessages<{ payload: EnergyPlan }>('plan');
    getNode('e').receive({ payload: problem() });
    await first;
    const caught = nextMessages<{ error: { message: string } }>('caught');
    const red = nextStatus('e', (s) => s.fill === 'red');
    getNode('e').receive({ topic: 'prices', payload: [0.3, Number.NaN, 0.1, 0.1, 0.3, 0.3] });
    assert.match((await caught)[0].error.message, /slot 1/);
    await red;
    // the stored problem is still the good one: a new base load re-optimises it
    const again = nextMessages<{ payload: EnergyPlan }>('plan');
    getNode('e').receive({ topic: 'baseLoadKw', payload: [0, 0, 0, 0, 0, 0] });
    const [p] = await again;
    assert.deepEqual(p.payload.loads.oven, [2, 3]);
  });
});

// A demand interval start (a whole minute), as epoch ms: timestamps are read by core/message, where a
// number below 1e11 is epoch seconds.
const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);

describe('takt-demand-limit node', function () {
  this.timeout(30000);
  afterEach(async () => {
    await helper.unload();
  });
  const lflow = (route: string, extra: object = {}) => [
    { id: 'tab', type: 'tab' },
    {
      id: 'd',
      z: 'tab',
      type: 'takt-demand-limit',
      intervalMin: 1,
      limitKw: 100,
      marginKw: 5,
      loads: JSON.stringify([{ id: 'chiller', powerKw: 20 }]),
      route,
      wires: [['approve'], ['write']],
      ...extra,
    },
    { id: 'approve', z: 'tab', type: 'helper' },
    { id: 'write', z: 'tab', type: 'helper' },
    { id: 'c', z: 'tab', type: 'catch', scope: ['d'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];

  for (const route of ['approval', 'direct'])
    it(`sends shed commands to the ${route} output`, async () => {
      await load([limitNode, catchNode], lflow(route));
      const out = nextMessages<{ topic: string; payload: LimiterCommand }>(
        route === 'approval' ? 'approve' : 'write',
      );
      getNode('d').receive({ payload: 80, ts: T0 });
      // (80 kW * 30 s + 130 kW * 30 s) / 60 s = 105 kW > 100: shed the chiller
      getNode('d').receive({ payload: 130, ts: T0 + 30000 });
      const [m] = await out;
      assert.equal(m.topic, 'chiller');
      assert.equal(m.payload.action, 'shed');
      assert.equal(m.payload.projectedKw, 95);
    });

  it('refuses a sample that is not a number and keeps working', async () => {
    await load([limitNode, catchNode], lflow('approval'));
    const caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('d').receive({ payload: 'lots', ts: T0 });
    assert.match((await caught)[0].error.message, /plant power in kW/);
    const out = nextMessages<{ payload: LimiterCommand }>('approve');
    getNode('d').receive({ payload: 80, ts: T0 });
    getNode('d').receive({ payload: 130, ts: T0 + 30000 });
    assert.equal((await out)[0].payload.load, 'chiller');
  });

  it('a bad configuration makes every input fail with a clear error', async () => {
    await load([limitNode, catchNode], lflow('approval', { limitKw: 0 }));
    const caught = nextMessages<{ error: { message: string } }>('caught');
    getNode('d').receive({ payload: 50 });
    assert.match((await caught)[0].error.message, /limitKw/);
  });

  it('reads ISO and epoch-second timestamps and skips samples of bad quality', async () => {
    await load([limitNode, catchNode], lflow('approval'));
    const out = nextMessages<{ topic: string; payload: LimiterCommand }>('approve');
    getNode('d').receive({ payload: 80, ts: new Date(T0).toISOString() });
    // A bad reading would lift the projection far above the limit; it is skipped.
    getNode('d').receive({ payload: 900, ts: T0 + 10000, quality: 'bad' });
    getNode('d').receive({ payload: 130, ts: (T0 + 30000) / 1000 });
    const [m] = await out;
    assert.equal(m.payload.action, 'shed');
    // (80 kW * 30 s + 110 kW * 30 s) / 60 s once the chiller is off: only right with both times read.
    assert.equal(m.payload.projectedKw, 95);
  });

  it('takes msg.action "reset", and the old msg.reset with a deprecation warning once', async () => {
    await load([limitNode, catchNode], lflow('approval'));
    const warnings: string[] = [];
    getNode('d').on('call:warn', ((c: { args: unknown[] }) => warnings.push(String(c.args[0]))) as never);
    const out = nextMessages<{ payload: LimiterCommand }>('approve', 2);
    // Without a reset, samples older than the last one are refused and nothing is shed.
    getNode('d').receive({ payload: 80, ts: T0 + 50000 });
    getNode('d').receive({ action: 'reset' });
    getNode('d').receive({ payload: 80, ts: T0 });
    getNode('d').receive({ payload: 130, ts: T0 + 30000 });
    getNode('d').receive({ reset: true });
    getNode('d').receive({ reset: true });
    getNode('d').receive({ payload: 80, ts: T0 });
    getNode('d').receive({ payload: 130, ts: T0 + 30000 });
    const shed = await out;
    assert.deepEqual(
      shed.map((m) => [m.payload.action, m.payload.projectedKw]),
      [
        ['shed', 95],
        ['shed', 95],
      ],
    );
    assert.equal(warnings.filter((w) => /msg\.reset is deprecated/.test(w)).length, 1);
  });
});
