import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { ROOT } from '../helpers/paths';

// The compiled nodes, as the runtime loads them.
/* eslint-disable @typescript-eslint/no-require-imports */
const alignNode = require('../../nodes/prep/align.node');
const cleanNode = require('../../nodes/prep/clean.node');
const windowNode = require('../../nodes/prep/window.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const simNode = require('../../nodes/sim/sim.node');
const switchNode = require('@node-red/nodes/core/function/10-switch.js');
const injectNode = require('@node-red/nodes/core/common/20-inject.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Row {
  ts: number;
  features: Record<string, number | null>;
  quality: Record<string, string>;
  names: string[];
  vector: (number | null)[];
  changes?: Record<string, string>;
  scaled?: boolean;
}
interface RowMsg {
  topic: string;
  ts: number;
  payload: Row;
  scaling?: { offset: number[]; scale: number[] };
}
interface DiagMsg {
  payload: { counts: Record<string, number>; issues: { code: string }[]; params?: { offset: number[] } };
}

// Recent enough for the far-past check, a multiple of the periods used.
const T0 = Math.floor(Date.now() / 60000) * 60000 - 600000;

const tab = { id: 'tab', type: 'tab' };
const caught = [
  { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

describe('prep nodes', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-prep-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  describe('takt-align', () => {
    const flow = (extra: object = {}) => [
      tab,
      {
        id: 'a',
        z: 'tab',
        type: 'takt-align',
        periodMs: 1000,
        agg: 'mean',
        features: '',
        wires: [['rows'], ['diag']],
        ...extra,
      },
      { id: 'rows', z: 'tab', type: 'helper' },
      { id: 'diag', z: 'tab', type: 'helper' },
      ...caught,
    ];

    it('turns batches and single samples into rows, and counts what it rejects', async () => {
      await load([alignNode, catchNode], flow());
      const rows = nextMessages<RowMsg>('rows', 2);
      const issues: string[] = []; // diagnostics come at most once a second: gather them all
      const diag = nextMessages<DiagMsg>('diag', 1, 5000, (m) => {
        issues.push(...m.payload.issues.map((i) => i.code));
        return m.payload.counts.rows === 2;
      });
      const a = getNode('a');
      const yellow = nextStatus('a', (st) => st.fill === 'yellow' && /rej/.test(st.text ?? ''));
      a.receive({
        topic: 'line1',
        payload: [
          { topic: 'p/CNC1/Temp', value: 20, ts: T0 + 100, quality: 'good' },
          { topic: 'p/Press1/Temp', value: 30, ts: T0 + 100, quality: 'good' },
          { topic: 'p/CNC1/Temp', value: 22, ts: T0 + 600, quality: 'good' },
          { topic: 'p/CNC1/State', value: 'RUNNING', ts: T0 + 600, quality: 'good' },
        ],
      });
      a.receive({ topic: 'p/CNC1/Temp', payload: 'oops', ts: T0 + 700 });
      a.receive({
        topic: 'p/Press1/Temp',
        payload: 31,
        ts: new Date(T0 + 1500).toISOString(),
        quality: 'uncertain',
      });
      a.receive({ action: 'flush' });
      const got = await rows;
      assert.deepEqual(
        got.map((m) => [m.ts - T0, m.payload.names, m.payload.vector, m.payload.quality]),
        [
          [1000, ['CNC1/Temp', 'Press1/Temp'], [21, 30], { 'CNC1/Temp': 'good', 'Press1/Temp': 'good' }],
          [2000, ['CNC1/Temp', 'Press1/Temp'], [22, 31], { 'CNC1/Temp': 'good', 'Press1/Temp': 'uncertain' }],
        ],
      );
      assert.equal(got[0].topic, 'features');
      const [d] = await diag;
      assert.equal(d.payload.counts.received, 6);
      assert.equal(d.payload.counts.used, 4);
      assert.equal(d.payload.counts.filtered, 1); // the text tag is not discovered as a feature
      assert.equal(d.payload.counts.notNumeric, 1);
      assert.deepEqual(issues, ['notNumeric']);
      assert.match((await yellow).text ?? '', /^2 rows 1 rej\.$/);
    });

    it('keeps the discovered feature order across a redeploy', async () => {
      await load([alignNode, catchNode], flow());
      let rows = nextMessages<RowMsg>('rows', 1);
      getNode('a').receive({ topic: 'm/z', payload: 1, ts: T0 + 100 });
      getNode('a').receive({ topic: 'm/y', payload: 2, ts: T0 + 100 });
      getNode('a').receive({ action: 'flush' });
      assert.deepEqual((await rows)[0].payload.names, ['z', 'y']);
      await helper.unload(); // close: the order is saved under the userDir
      assert.ok(existsSync(join(userDir, 'takt', 'prep-align', 'a.json')));
      await load([alignNode, catchNode], flow());
      rows = nextMessages<RowMsg>('rows', 1);
      getNode('a').receive({ topic: 'm/y', payload: 3, ts: T0 + 1100 });
      getNode('a').receive({ topic: 'm/z', payload: 4, ts: T0 + 1100 });
      getNode('a').receive({ action: 'flush' });
      assert.deepEqual((await rows)[0].payload.vector, [4, 3]);
    });

    it('reports bad configuration through done(err) for every message', async () => {
      await load([alignNode, catchNode], flow({ periodMs: 'soon' }));
      const err = nextMessages<{ error: { message: string } }>('caught');
      getNode('a').receive({ topic: 'x', payload: 1 });
      const [m] = await err;
      assert.match(m.error.message, /periodMs/);
    });

    it('refuses a malformed msg.features, then keeps working', async () => {
      await load([alignNode, catchNode], flow({ features: 'm/a' }));
      const err = nextMessages<{ error: { message: string } }>('caught');
      const red = nextStatus('a', (s) => s.fill === 'red');
      const a = getNode('a');
      a.receive({ features: 'not a list' });
      assert.match((await err)[0].error.message, /features/);
      await red;
      const rows = nextMessages<RowMsg>('rows', 1);
      a.receive({ topic: 'm/a', payload: 5, ts: T0 + 10 });
      a.receive({ action: 'flush' });
      assert.deepEqual((await rows)[0].payload.features, { a: 5 });
    });

    it('refuses an action it does not know instead of taking the message as data', async () => {
      await load([alignNode, catchNode], flow({ features: 'm/a' }));
      const err = nextMessages<{ error: { message: string } }>('caught');
      const a = getNode('a');
      a.receive({ action: 'flsuh', topic: 'm/a', payload: 9, ts: T0 + 10 });
      assert.match((await err)[0].error.message, /action: "flsuh" is not one of flush/);
      const rows = nextMessages<RowMsg>('rows', 1);
      a.receive({ topic: 'm/a', payload: 5, ts: T0 + 10 });
      a.receive({ action: 'flush' });
      assert.deepEqual((await rows)[0].payload.features, { a: 5 }, 'the refused sample was not taken');
    });
  });

  describe('takt-clean', () => {
    const row = (i: number, v: number | null): Row => ({
      ts: T0 + i * 1000,
      features: { x: v },
      quality: { x: v === null ? 'missing' : 'good' },
      names: ['x'],
      vector: [v],
    });
    const flow = (extra: object = {}) => [
      tab,
      {
        id: 'k',
        z: 'tab',
        type: 'takt-clean',
        missing: 'hold',
        scaling: 'minmax',
        fitRows: 3,
        wires: [['rows'], ['diag']],
        ...extra,
      },
      { id: 'rows', z: 'tab', type: 'helper' },
      { id: 'diag', z: 'tab', type: 'helper' },
      ...caught,
    ];

    it('fills gaps, fits min-max parameters, saves them and restores them after a redeploy', async () => {
      const paramsFile = join(userDir, 'model', 'scaling.json');
      await load([cleanNode, catchNode], flow({ paramsFile }));
      const rows = nextMessages<RowMsg>('rows', 4);
      const diag = nextMessages<DiagMsg>('diag', 1, 5000, (m) => m.payload.params !== undefined);
      const k = getNode('k');
      [2, null, 6, 4].forEach((v, i) => k.receive({ payload: row(i, v) }));
      const got = await rows;
      // fit on 2, (2 held), 6: min 2, max 6 -> 4 scales to (4 - 2) / 4 = 0.5
      assert.deepEqual(
        got.map((m) => [m.payload.features.x, m.payload.scaled]),
        [
          [2, false],
          [2, false],
          [6, false],
          [0.5, true],
        ],
      );
      assert.deepEqual(got[1].payload.changes, { x: 'hold' });
      assert.deepEqual(got[3].scaling?.offset, [2]);
      assert.deepEqual((await diag)[0].payload.params?.offset, [2]);
      const saved = JSON.parse(readFileSync(paramsFile, 'utf8')) as { offset: number[]; scale: number[] };
      assert.deepEqual([saved.offset, saved.scale], [[2], [4]]);
      assert.ok(existsSync(join(userDir, 'takt', 'prep-clean', 'k.json')));

      await helper.unload();
      await load([cleanNode, catchNode], flow());
      const again = nextMessages<RowMsg>('rows', 1);
      getNode('k').receive({ payload: row(9, 10) });
      assert.deepEqual((await again)[0].payload.features.x, 2); // (10 - 2) / 4, no new fit
    });

    it('refuses a payload that is not a feature row', async () => {
      await load([cleanNode, catchNode], flow());
      const err = nextMessages<{ error: { message: string } }>('caught');
      getNode('k').receive({ payload: 42 });
      assert.match((await err)[0].error.message, /feature row/);
    });

    it('reads a row timestamp given as ISO text', async () => {
      await load([cleanNode, catchNode], flow({ scaling: 'none' }));
      const rows = nextMessages<RowMsg>('rows', 1);
      getNode('k').receive({ payload: { ...row(0, 2), ts: new Date(T0 + 1500).toISOString() } });
      const [m] = await rows;
      assert.equal(m.payload.ts, T0 + 1500);
      assert.equal(m.ts, T0 + 1500);
      assert.equal(m.payload.features.x, 2);
    });
  });

  describe('takt-window', () => {
    it('cuts count windows per topic from batches, waveform arrays element by element', async () => {
      await load(
        [windowNode],
        [
          tab,
          {
            id: 'w',
            z: 'tab',
            type: 'takt-window',
            over: 'samples',
            by: 'count',
            size: 3,
            hop: 3,
            perTopic: true,
            wires: [['out']],
          },
          { id: 'out', z: 'tab', type: 'helper' },
        ],
      );
      const out = nextMessages<{ topic: string; payload: number[]; window: { count: number } }>('out', 2);
      getNode('w').receive({
        payload: [
          { topic: 'm/wave', value: [1, 2], ts: T0 },
          { topic: 'm/temp', value: 10, ts: T0 },
          { topic: 'm/wave', value: [3, 4], ts: T0 + 1 },
          { topic: 'm/temp', value: 'x', ts: T0 + 1 },
          { topic: 'm/temp', value: 11, ts: T0 + 2 },
          { topic: 'm/temp', value: 12, ts: T0 + 3 },
        ],
      });
      const got = await out;
      assert.deepEqual(
        got.map((m) => [m.topic, m.payload]),
        [
          ['m/wave', [1, 2, 3]],
          ['m/temp', [10, 11, 12]],
        ],
      );
    });

    it('keeps an open window across a redeploy', async () => {
      const flow = [
        tab,
        { id: 'w', z: 'tab', type: 'takt-window', over: 'samples', by: 'count', size: 3, wires: [['out']] },
        { id: 'out', z: 'tab', type: 'helper' },
      ];
      await load([windowNode], flow);
      getNode('w').receive({ topic: 'm/a', payload: [1, 2], ts: T0 });
      await helper.unload();
      await load([windowNode], flow);
      const out = nextMessages<{ payload: number[] }>('out', 1);
      getNode('w').receive({ topic: 'm/a', payload: 3, ts: T0 + 1 });
      assert.deepEqual((await out)[0].payload, [1, 2, 3]);
    });

    it('collects feature rows into a matrix', async () => {
      await load(
        [windowNode],
        [
          tab,
          {
            id: 'w',
            z: 'tab',
            type: 'takt-window',
            over: 'rows',
            by: 'count',
            size: 2,
            perTopic: false,
            wires: [['out']],
          },
          { id: 'out', z: 'tab', type: 'helper' },
        ],
      );
      const out = nextMessages<{ payload: number[][]; window: { names: string[] } }>('out', 1);
      const w = getNode('w');
      for (const [i, v] of [
        [0, 1],
        [1, 2],
      ])
        w.receive({
          payload: { ts: T0 + i, features: { a: v, b: v * 10 }, names: ['a', 'b'], vector: [v, v * 10] },
        });
      const [m] = await out;
      assert.deepEqual(m.payload, [
        [1, 10],
        [2, 20],
      ]);
      assert.deepEqual(m.window.names, ['a', 'b']);
    });

    const rowWindow = (extra: object = {}) => [
      tab,
      {
        id: 'w',
        z: 'tab',
        type: 'takt-window',
        over: 'rows',
        by: 'count',
        size: 2,
        perTopic: false,
        wires: [['out']],
        ...extra,
      },
      { id: 'out', z: 'tab', type: 'helper' },
      ...caught,
    ];

    it('reads row timestamps given as ISO text or epoch seconds', async () => {
      await load([windowNode, catchNode], rowWindow());
      const out = nextMessages<{ payload: number[][]; window: { start: number; end: number } }>('out', 1);
      const w = getNode('w');
      const row = (ts: unknown, v: number) => ({
        payload: { ts, features: { a: v }, quality: { a: 'good' }, names: ['a'], vector: [v] },
      });
      w.receive(row(new Date(T0 + 1000).toISOString(), 1));
      w.receive(row((T0 + 2000) / 1000, 2));
      const [m] = await out;
      assert.deepEqual(m.payload, [[1], [2]]);
      assert.deepEqual([m.window.start, m.window.end], [T0 + 1000, T0 + 2000]);
    });

    it('refuses an action it does not know, then keeps working', async () => {
      await load([windowNode, catchNode], rowWindow({ over: 'samples' }));
      const err = nextMessages<{ error: { message: string } }>('caught');
      const out = nextMessages<{ payload: number[] }>('out', 1);
      const w = getNode('w');
      w.receive({ topic: 'm/a', payload: 1, ts: T0 });
      w.receive({ action: 'rest' });
      assert.match((await err)[0].error.message, /action: "rest" is not one of flush, reset/);
      w.receive({ topic: 'm/a', payload: 2, ts: T0 + 1 });
      assert.deepEqual((await out)[0].payload, [1, 2], 'the window was not reset');
    });
  });

  it('chains takt-align into takt-clean', async () => {
    await load(
      [alignNode, cleanNode],
      [
        tab,
        {
          id: 'a',
          z: 'tab',
          type: 'takt-align',
          periodMs: 100,
          agg: 'last',
          features: 'm/x',
          wires: [['k'], []],
        },
        { id: 'k', z: 'tab', type: 'takt-clean', missing: 'linear', scaling: 'none', wires: [['out'], []] },
        { id: 'out', z: 'tab', type: 'helper' },
      ],
    );
    const out = nextMessages<RowMsg>('out', 4);
    const a = getNode('a');
    a.receive({ topic: 'm/x', payload: 1, ts: T0 + 50 });
    a.receive({ topic: 'm/x', payload: 'broken', ts: T0 + 150 }); // counted, the row is carried from 1
    a.receive({ topic: 'm/x', payload: 7, ts: T0 + 250, quality: 'bad' });
    a.receive({ topic: 'm/x', payload: 4, ts: T0 + 350 });
    a.receive({ action: 'flush' });
    const got = await out;
    // rows at +100: 1, +200: 1 (held), +300: bad -> linear between (200, 1) and (400, 4) = 2.5, +400: 4
    assert.deepEqual(
      got.map((m) => [m.ts - T0, m.payload.features.x]),
      [
        [100, 1],
        [200, 1],
        [300, 2.5],
        [400, 4],
      ],
    );
  });

  describe('example flows', () => {
    const example = (file: string) => {
      const flow = JSON.parse(readFileSync(join(ROOT, 'examples', 'prep', file), 'utf8')) as Record<
        string,
        unknown
      >[];
      // debug nodes become helper nodes; everything sits on one tab
      return [
        tab,
        ...flow
          .filter((n) => n.type !== 'comment')
          .map((n) => ({ ...n, z: 'tab', ...(n.type === 'debug' ? { type: 'helper' } : {}) })),
      ];
    };

    it('03 feeds the simulator through align and clean into rows for the anomaly model', async () => {
      // The clean rows are caught where the example hands them to the model (train first, then score);
      // the model part is tested with the anomaly nodes, and the whole flow by test/examples.
      const model = new Set(['takt-train', 'takt-anomaly']);
      const flow = (
        example('03 - Clean feature rows for the anomaly model.json') as Record<string, unknown>[]
      )
        .filter((n) => !model.has(n.type as string))
        .map((n) => (n.name === 'train first, then score' ? { id: n.id, z: 'tab', type: 'helper' } : n));
      await load([simNode, alignNode, cleanNode, injectNode], flow);
      const [first, second] = await nextMessages<RowMsg>('c3c0de0000000008', 2, 30000);
      const names = first.payload.names;
      for (const tag of ['CNC1/Temperature', 'Press1/MotorCurrent', 'Oven1/Power', 'Packer1/VibrationRms'])
        assert.ok(names.includes(tag), `${tag} in ${names.join(', ')}`);
      assert.equal(first.payload.vector.length, names.length);
      assert.ok(first.payload.vector.every((v) => typeof v === 'number'));
      assert.equal(second.ts - first.ts, 5000);
    });

    it('02 cuts subgroups of 5 bore diameters from the simulator', async () => {
      await load(
        [simNode, alignNode, windowNode, switchNode],
        example('02 - Windows for vibration, SPC subgroups and training sets.json'),
      );
      const [m] = await nextMessages<{ payload: number[]; topic: string }>('b2c0de0000000007', 1, 30000);
      assert.equal(m.payload.length, 5);
      assert.match(m.topic, /CNC1\/BoreDiameter$/);
    });

    it('01 aligns the simulator into rows', async () => {
      await load([simNode, alignNode], example("01 - Align the simulator's tags into feature rows.json"));
      const [m] = await nextMessages<RowMsg>('a1c0de0000000004', 1, 30000);
      assert.ok(m.payload.names.length >= 20);
    });
  });
});
