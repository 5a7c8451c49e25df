import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages } from '../helpers/nodered';
import { MAX_QUEUED_WINDOWS, Rng } from '../../nodes/spc/patterns';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const spcNode = require('../../nodes/spc/spc.node');

interface PatternMsg {
  payload: number;
  spc: { phase: 1 | 2; index: number; pattern?: { class: string; confidence: number } };
  alarms?: { text: string }[];
}

const flow = (extra: object = {}) => [
  { id: 'tab', type: 'tab' },
  {
    id: 's',
    z: 'tab',
    type: 'takt-spc',
    chartType: 'imr',
    grouping: 'payload',
    phaseOne: 30,
    rules: 'nelson',
    patterns: true,
    wires: [['points'], ['alarms'], []],
    ...extra,
  },
  { id: 'points', z: 'tab', type: 'helper' },
  { id: 'alarms', z: 'tab', type: 'helper' },
];

/** 30 in-control values, 40 more in control, then a downward trend of 0.3 sigma per sample. */
function series(): number[] {
  const rng = new Rng(21);
  const xs: number[] = [];
  for (let i = 0; i < 70; i++) xs.push(20 + 0.5 * rng.normal());
  for (let i = 0; i < 40; i++) xs.push(20 + 0.5 * (rng.normal() - 0.3 * i));
  return xs;
}

describe('takt-spc node with pattern recognition', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-spc-pat-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('adds msg.spc.pattern from the 32nd phase II point on, keeps order, and names the pattern in alarms', async () => {
    await load([spcNode], flow());
    const xs = series();
    const points = nextMessages<PatternMsg>('points', xs.length, 20000);
    const alarms = nextMessages<PatternMsg>('alarms', 1, 20000, (m) =>
      /pattern: downward trend/.test(String(m.payload)),
    );
    const n = getNode('s');
    xs.forEach((v) => n.receive({ payload: v }));
    const got = await points;
    assert.deepEqual(
      got.map((m) => m.payload),
      xs,
      'points leave in arrival order',
    );
    got.forEach((m, i) => {
      // phase I is 30 points; the window is full from the 32nd judged point on
      if (i < 30 + 31) assert.equal(m.spc.pattern, undefined, `point ${i}`);
      else assert.ok(m.spc.pattern && m.spc.pattern.confidence > 0, `point ${i}`);
    });
    assert.equal(got[got.length - 1].spc.pattern?.class, 'downward-trend');
    const [a] = await alarms;
    assert.match(String(a.payload), /^Nelson \d.*, pattern: downward trend \(\d+%\)/);
  });

  it('without its model file the node logs a clear error and goes on charting without patterns', async () => {
    await load([spcNode], flow({ patternModel: join(userDir, 'missing.onnx'), phaseOne: 5 }));
    const points = nextMessages<PatternMsg>('points', 45, 20000);
    const n = getNode('s');
    const rng = new Rng(2);
    for (let i = 0; i < 45; i++) n.receive({ payload: 10 + rng.normal() });
    const got = await points;
    assert.ok(got.every((m) => m.spc.pattern === undefined));
    assert.equal(got[44].spc.phase, 2);
    const logged = helper
      .log()
      .args.map((a: unknown[]) => a[0] as { level: number; msg: unknown })
      .filter(
        (e: { level: number; msg: unknown }) =>
          e.level === 20 && /pattern recognition off/.test(String(e.msg)),
      );
    assert.equal(logged.length, 1);
    assert.match(String(logged[0].msg), /missing\.onnx/);
  });

  it('sends every point in order, without a pattern for those the full queue refused, and counts them', async () => {
    await load([spcNode], flow());
    const rng = new Rng(9);
    const n = getNode('s');
    // phase I and a full window, so that the model is loaded and classifying
    const warm = nextMessages<{ spc: { pattern?: unknown } }>('points', 70, 20000);
    for (let i = 0; i < 70; i++) n.receive({ payload: 20 + rng.normal() });
    assert.ok((await warm)[69].spc.pattern, 'the model classifies');
    // a burst far beyond the cap, all handed over before the model can answer
    const burst = Array.from({ length: 3 * MAX_QUEUED_WINDOWS }, () => 20 + rng.normal());
    const points = nextMessages<{ payload: number; spc: { pattern?: unknown } }>(
      'points',
      burst.length,
      60000,
    );
    const warnings: string[] = [];
    const origWarn = n.warn.bind(n);
    n.warn = (m: unknown) => {
      warnings.push(String(m));
      origWarn(m);
    };
    const statuses: { fill?: string; text?: string }[] = [];
    n.on('call:status', ((call: { args: [{ fill?: string; text?: string }] }) =>
      statuses.push(call.args[0])) as never);
    burst.forEach((v) => n.receive({ payload: v }));
    const got = await points;
    assert.deepEqual(
      got.map((m) => m.payload),
      burst,
      'every point leaves, in arrival order',
    );
    const without = got.filter((m) => m.spc.pattern === undefined).length;
    assert.ok(without >= MAX_QUEUED_WINDOWS, `${without} points without a pattern`);
    assert.ok(got.length - without >= MAX_QUEUED_WINDOWS, 'the queued windows were classified');
    // the drops are logged at the 1st, 10th, 100th, ..., and the status (throttled) ends on the count
    assert.match(warnings[0], /^1 points not classified: pattern model: 1024 windows already wait/);
    assert.deepEqual(
      warnings.map((w) => Number(/^(\d+) points not classified/.exec(w)?.[1])),
      [1, 10, 100, 1000].filter((k) => k <= without),
    );
    // (the test runtime has no message catalog: the status text is its key)
    const unclassified = (st?: { text?: string }) => /^spc\.status\.unclass/.test(st?.text ?? '');
    for (let i = 0; i < 50 && !unclassified(statuses.at(-1)); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(statuses.at(-1)?.fill, 'yellow');
    assert.ok(unclassified(statuses.at(-1)));
  });
});
