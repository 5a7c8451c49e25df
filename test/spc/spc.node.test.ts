import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import * as spc from '../../nodes/spc';
import { PISTONRINGS } from './data';
import { registerIChart } from './i-chart';

// The compiled node, as the runtime loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const spcNode = require('../../nodes/spc/spc.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

interface SpcMsg {
  payload: unknown;
  topic?: string;
  keep?: string;
  spc: {
    phase: 1 | 2;
    index: number;
    stat: number;
    ucl?: number;
    violations: number[];
    collecting?: { n: number; of: number };
    frozen?: { center: number; ucl: number; sigma: number };
  };
  alarms?: { rule: number; text: string }[];
  r2r?: { setpoint: number; offset: number };
}

const T0 = Date.UTC(2026, 10, 26, 10, 0);
const values = PISTONRINGS.flat();

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 's',
    z: 'tab',
    type: 'takt-spc',
    chartType: 'xbar-r',
    grouping: 'count',
    subgroupSize: 5,
    phaseOne: 25,
    rules: 'nelson',
    wires: [['points'], ['alarms'], ['r2r']],
    ...extra,
  },
  { id: 'points', z: 'tab', type: 'helper' },
  { id: 'alarms', z: 'tab', type: 'helper' },
  { id: 'r2r', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['s'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

function send(xs: number[], from = 0) {
  const n = getNode('s');
  xs.forEach((v, i) =>
    n.receive({ topic: 'line1/grinder/bore', payload: v, ts: T0 + (from + i) * 60000, keep: 'me' }),
  );
}

describe('takt-spc node', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-spc-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('collects phase I, freezes, then sends every point and alarms with readable text', async () => {
    await load([spcNode, catchNode], flow());
    const points = nextMessages<SpcMsg>('points', 40);
    const alarms = nextMessages<SpcMsg>('alarms', 5);
    const collecting = nextStatus('s', (s) => s.fill === 'yellow');
    send(values);
    const pts = await points;
    assert.deepEqual(pts[0].spc.collecting, { n: 1, of: 25 });
    assert.equal(pts[0].payload, values[4], 'payload as it came in');
    assert.equal(pts[0].keep, 'me');
    assert.ok(pts[24].spc.frozen);
    assert.ok(Math.abs(pts[24].spc.frozen.center - 74.00118) < 5e-6);
    assert.ok(pts.slice(25).every((p) => p.spc.phase === 2 && p.spc.ucl === pts[24].spc.frozen!.ucl));
    const al = await alarms;
    // 35: two of three beyond 2 sigma and four of five beyond 1 sigma; 37-39 beyond the UCL; 40: rules 5, 6
    assert.deepEqual(
      al.map((a) => [a.spc.index + 1, a.spc.violations]),
      [
        [35, [5, 6]],
        [37, [1, 5]],
        [38, [1, 5, 6]],
        [39, [1, 5, 6]],
        [40, [5, 6]],
      ],
    );
    assert.match(
      String(al[0].payload),
      /^Nelson 5: two of three points beyond 2 sigma above centre at \d\d:\d\d.*; Nelson 6: four of five/,
    );
    assert.match(String(al[1].payload), /^Nelson 1: point 74\.0166 above the upper control limit/);
    assert.equal(al[1].alarms![0].rule, 1);
    assert.ok(await collecting);
  });

  it("writes the alarm's time of day in the node's time zone", async () => {
    await load([spcNode, catchNode], flow({ timeZone: 'Asia/Kolkata' }));
    const alarms = nextMessages<SpcMsg & { alarms: { ts: number; text: string }[] }>('alarms', 1);
    send(values);
    const [al] = await alarms;
    const ts = al.alarms[0].ts;
    // Kolkata is UTC+5:30 all year
    const d = new Date(ts + 330 * 60000);
    const hhmm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    assert.match(al.alarms[0].text, new RegExp(` at ${hhmm}`));
  });

  it('refuses an unknown time zone: the node is disabled with a red status naming it', async () => {
    await load([spcNode, catchNode], flow({ timeZone: 'Mars/Olympus' }));
    const caught = nextMessages<{ error: { code?: string; message: string } }>('caught', 1);
    send([74]);
    const [c] = await caught;
    assert.equal(c.error.code, 'time.badZone');
    assert.match(c.error.message, /timeZone: "Mars\/Olympus" is not a known time zone/);
  });

  it('keeps the frozen limits across a restart and continues in phase II', async () => {
    await load([spcNode, catchNode], flow());
    const frozen = nextMessages<SpcMsg>('points', 25);
    send(values.slice(0, 125));
    const first = await frozen;
    const ucl = first[24].spc.frozen!.ucl;
    assert.ok(existsSync(join(userDir, 'takt', 'spc', 's.json')));
    await helper.unload();

    await load([spcNode, catchNode], flow());
    const next = nextMessages<SpcMsg>('points', 1);
    send(values.slice(125, 130), 125);
    const [p] = await next;
    assert.equal(p.spc.phase, 2);
    assert.equal(p.spc.ucl, ucl);
    assert.equal(p.spc.collecting, undefined);
  });

  it('msg.action reset drops the limits and collects phase I again', async () => {
    await load([spcNode, catchNode], flow({ phaseOne: 3 }));
    const some = nextMessages<SpcMsg>('points', 4);
    send(values.slice(0, 20));
    assert.equal((await some)[3].spc.phase, 2);
    getNode('s').receive({ action: 'reset' });
    const after = nextMessages<SpcMsg>('points', 1);
    send(values.slice(20, 25));
    assert.deepEqual((await after)[0].spc.collecting, { n: 1, of: 3 });
    assert.equal(existsSync(join(userDir, 'takt', 'spc', 's.json')), false);
  });

  it('refuses bad input with done(err) and a red status, skips bad quality, then keeps working', async () => {
    await load([spcNode, catchNode], flow({ chartType: 'imr', grouping: 'payload', phaseOne: 5 }));
    const caught = nextMessages<{ error: { message: string } }>('caught', 2);
    const red = nextStatus('s', (s) => s.fill === 'red');
    const n = getNode('s');
    n.receive({ payload: 'abc' });
    n.receive({ payload: 1, action: 'launch' });
    const errs = await caught;
    assert.match(errs[0].error.message, /payload: "abc" is not a number/);
    assert.match(errs[1].error.message, /action: "launch" is not one of reset, re-estimate, setpoint/);
    assert.equal((await red).fill, 'red');

    const pts = nextMessages<SpcMsg>('points', 5);
    n.receive({ payload: 99, quality: 'bad' });
    [10, 11, 9, 10.5, 9.5].forEach((v) => n.receive({ payload: v }));
    const got = await pts;
    assert.deepEqual(
      got.map((m) => m.payload),
      [10, 11, 9, 10.5, 9.5],
      'the bad-quality sample was skipped, not charted',
    );
    assert.deepEqual(got[4].spc.collecting, { n: 5, of: 5 });
  });

  it('reads msg.ts as ISO text or epoch seconds, and refuses a batch of samples with a clear error', async () => {
    await load([spcNode, catchNode], flow({ chartType: 'imr', grouping: 'payload', phaseOne: 5 }));
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    const pts = nextMessages<SpcMsg & { ts: unknown }>('points', 2);
    const n = getNode('s');
    n.receive({ payload: [{ value: 1 }, { value: 2 }] });
    n.receive({ payload: 10, ts: new Date(T0).toISOString() });
    n.receive({ payload: 11, ts: T0 / 1000 + 60 });
    assert.match(
      (await caught)[0].error.message,
      /payload: this node takes one sample per message, not a batch/,
    );
    assert.deepEqual(
      (await pts).map((p) => p.payload),
      [10, 11],
    );
  });

  it("takes d2 from qcc's table by default and computes it exactly when the editor says so", async () => {
    const x = [10, 11, 9, 10.5, 9.5];
    const mrbar = (1 + 2 + 1.5 + 1) / 4;
    for (const [extra, d2] of [
      [{}, 1.128],
      [{ constants: 'exact' }, 2 / Math.sqrt(Math.PI)],
    ] as const) {
      await load(
        [spcNode, catchNode],
        flow({ chartType: 'imr', grouping: 'payload', phaseOne: 5, ...extra }),
      );
      const pts = nextMessages<SpcMsg>('points', 5);
      send(x);
      const frozen = (await pts)[4].spc.frozen!;
      assert.ok(Math.abs(frozen.sigma - mrbar / d2) < 1e-12, `${frozen.sigma} vs ${mrbar / d2}`);
      await helper.unload();
    }
  });

  it('sends run-to-run proposals on the third output', async () => {
    await load(
      [spcNode, catchNode],
      flow({ chartType: 'imr', grouping: 'payload', phaseOne: 10, r2r: true, r2rGain: 1 }),
    );
    const proposals = nextMessages<SpcMsg>('r2r', 1);
    const base = [5, 5.1, 4.9, 5.05, 4.95, 5.02, 4.98, 5.1, 4.9, 5];
    send(base);
    send([5.3, 5.4, 5.5, 5.6, 5.7], 10);
    const [p] = await proposals;
    assert.ok(p.r2r && p.r2r.offset < 0);
    assert.equal(p.payload, p.r2r.setpoint);
  });

  it('serves the chart kinds and their traits to the editor, a kind added later included', async () => {
    await load([spcNode, catchNode], flow());
    type Listed = { type: string; traits: spc.ChartTraits }[];
    const get = async () => (await helper.request().get('/takt-spc/charts').expect(200)).body as Listed;
    const builtIn = await get();
    assert.deepEqual(
      builtIn.map((k) => k.type),
      [...spc.CHART_TYPES],
    );
    const xbarR = builtIn.find((k) => k.type === 'xbar-r');
    assert.equal(xbarR?.traits.grouping, true);
    assert.equal(xbarR?.traits.secondary?.kind, 'R');
    assert.deepEqual(builtIn.find((k) => k.type === 'mewma')?.traits.settings, [
      'lambda',
      'decisionInterval',
      'confidence',
    ]);
    registerIChart();
    try {
      const withI = await get();
      assert.equal(withI.at(-1)?.type, 'i');
      assert.equal(withI.at(-1)?.traits.label, 'I (no moving range)');
    } finally {
      spc.unregisterChartKind('i');
    }
  });

  it('runs a chart kind registered by another module', async () => {
    registerIChart();
    try {
      await load([spcNode, catchNode], flow({ chartType: 'i', grouping: 'payload', phaseOne: 10 }));
      const alarms = nextMessages<SpcMsg>('alarms', 1);
      send([5, 5.1, 4.9, 5.05, 4.95, 5.02, 4.98, 5.1, 4.9, 5, 5.01, 7]);
      const [a] = await alarms;
      assert.match(String(a.payload), /^Nelson 1: point 7 above the upper control limit/);
      assert.equal(a.spc.index, 11);
    } finally {
      spc.unregisterChartKind('i');
    }
  });
});
