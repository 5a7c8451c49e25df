import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../nodes/core/random';
import { Predictor } from '../../nodes/learn/model';
import { getNode, helper, load, nextMessages, nextStatus, statusesOf } from '../helpers/nodered';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const trainNode = require('../../nodes/learn/predict-train.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const predictNode = require('../../nodes/learn/predict.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

interface Predicted {
  payload: {
    value: number;
    lower: number;
    upper: number;
    contributions: Record<string, number>;
    inTolerance: boolean;
  };
}

const rng = new Rng(4);
/** diameter = 10 + 0.02·(temp - 200)² / 10 + 0.5·[speed > 1.1] + noise; humidity is irrelevant. */
const part = () => {
  const temp = rng.uniform(180, 220);
  const speed = rng.uniform(0.8, 1.4);
  const humidity = rng.uniform(30, 60);
  const diameter = 10 + (0.02 * (temp - 200) ** 2) / 10 + (speed > 1.1 ? 0.5 : 0) + 0.02 * rng.normal();
  return { payload: { temp, speed, humidity }, label: diameter };
};

const flow = (rows = 300): Record<string, unknown>[] => [
  { id: 'tab', type: 'tab' },
  {
    id: 't',
    z: 'tab',
    type: 'takt-predict-train',
    task: 'regression',
    rows,
    modelName: 'dia',
    wires: [['p', 'trained']],
  },
  { id: 'p', z: 'tab', type: 'takt-predict', model: '', lower: '', upper: 10.6, wires: [['out']] },
  { id: 'trained', z: 'tab', type: 'helper' },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['t', 'p'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

describe('takt-predict-train and takt-predict nodes', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-learn-node-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('trains in a worker on labelled rows, hands the model over and predicts with interval and drivers', async () => {
    await load([trainNode, predictNode, catchNode], flow());
    const trained = nextMessages<{
      payload: string;
      card: { features: string[]; metrics: { beatsBaseline: boolean } };
    }>('trained', 1, 30000);
    const ready = nextStatus('p', (s) => s.fill === 'green', 30000);
    for (let i = 0; i < 300; i++) getNode('t').receive(part());
    const [m] = await trained;
    assert.equal(m.payload, join(userDir, 'takt', 'models', 'dia.onnx'));
    assert.ok(existsSync(m.payload));
    assert.deepEqual(m.card.features, ['temp', 'speed', 'humidity']);
    assert.equal(m.card.metrics.beatsBaseline, true);
    assert.deepEqual(JSON.parse(readFileSync(join(userDir, 'takt', 'models', 'dia.json'), 'utf8')).features, [
      'temp',
      'speed',
      'humidity',
    ]);
    await ready;
    const out = nextMessages<Predicted>('out', 2);
    getNode('p').receive({ payload: { temp: 200, speed: 0.9, humidity: 40 } });
    getNode('p').receive({ payload: { temp: 219, speed: 1.3, humidity: 40 } });
    const [a, b] = await out;
    assert.ok(Math.abs(a.payload.value - 10) < 0.2, String(a.payload.value));
    assert.ok(a.payload.lower < a.payload.value && a.payload.value < a.payload.upper);
    assert.equal(a.payload.inTolerance, true);
    assert.ok(b.payload.value > 11, String(b.payload.value));
    assert.equal(b.payload.inTolerance, false);
    const c = b.payload.contributions;
    assert.ok(c.temp > 0.3 && Math.abs(c.humidity) < c.temp / 5, JSON.stringify(c));
  });

  it('explains only the parts predicted out of tolerance, or none, as set', async () => {
    const f = flow();
    Object.assign(f[1], { wires: [['p', 'p2', 'trained']] });
    Object.assign(f[2], { explain: 'out' });
    f.push({
      id: 'p2',
      z: 'tab',
      type: 'takt-predict',
      model: '',
      upper: 10.6,
      explain: 'none',
      wires: [['out2']],
    });
    f.push({ id: 'out2', z: 'tab', type: 'helper' });
    await load([trainNode, predictNode, catchNode], f);
    const trained = nextMessages('trained', 1, 30000);
    const ready = Promise.all(['p', 'p2'].map((id) => nextStatus(id, (s) => s.fill === 'green', 30000)));
    for (let i = 0; i < 300; i++) getNode('t').receive(part());
    await trained;
    await ready;
    const batch = {
      payload: [
        { temp: 200, speed: 0.9, humidity: 40 },
        { temp: 219, speed: 1.3, humidity: 40 },
      ],
    };
    // What each node asked the predictor for, and the predictions it got back.
    const calls: { opts: unknown; preds: object[] }[] = [];
    const predict = Predictor.prototype.predict;
    Predictor.prototype.predict = async function (
      this: Predictor,
      ...args: Parameters<Predictor['predict']>
    ) {
      const preds = await predict.apply(this, args);
      calls.push({ opts: args[1], preds });
      return preds;
    };
    const out = nextMessages<{ payload: Predicted['payload'][] }>('out', 1);
    const out2 = nextMessages<{ payload: Predicted['payload'][] }>('out2', 1);
    try {
      getNode('p').receive(batch);
      await out;
      getNode('p2').receive(batch);
      await out2;
    } finally {
      Predictor.prototype.predict = predict;
    }
    // 'out' worked out (read) the contributions of the part out of tolerance only; 'none' asked for none.
    assert.deepEqual(
      calls.map((c) => [c.opts, c.preds.map((r) => Object.hasOwn(r, 'contributions'))]),
      [
        [{ contributions: true }, [false, true]],
        [{ contributions: false }, [true, true]],
      ],
    );
    const [[a, b], [c, d]] = [(await out)[0].payload, (await out2)[0].payload];
    assert.deepEqual(
      [a, b, c, d].map((r) => r.inTolerance),
      [true, false, true, false],
    );
    assert.equal('contributions' in a, false, JSON.stringify(a));
    assert.ok(b.contributions.temp > 0.3, JSON.stringify(b));
    for (const r of [c, d]) assert.equal('contributions' in r, false, JSON.stringify(r));
    // The same values with or without explanations.
    assert.deepEqual([a.value, a.lower, a.upper, b.value], [c.value, c.lower, c.upper, d.value]);
  });

  it('rejects a row with a missing feature or label with an error and keeps working', async () => {
    await load([trainNode, predictNode, catchNode], flow(60));
    const caught = nextMessages<{ error: { message: string } }>('caught', 2);
    getNode('t').receive(part());
    getNode('t').receive({ payload: { temp: 200, speed: 1 } });
    getNode('t').receive({ payload: { temp: 200, speed: 1, humidity: 40 } });
    const [e1, e2] = await caught;
    assert.match(e1.error.message, /humidity/);
    assert.match(e2.error.message, /label/);
    const trained = nextMessages('trained', 1, 30000);
    for (let i = 0; i < 59; i++) getNode('t').receive(part());
    await trained;
  });

  it('joins rows with labels that come later by part id, expiring rows whose label never comes', async () => {
    const f = flow(60);
    Object.assign(f[1], { join: 'id', labelWait: '30' });
    await load([trainNode, predictNode, catchNode], f);
    const trained = nextMessages<{ card: { rows: { train: number } }; join: Record<string, number> }>(
      'trained',
      1,
      30000,
    );
    const t0 = Date.UTC(2026, 0, 5);
    const parts = Array.from({ length: 70 }, () => part());
    // A part every second; its label is measured 10 s later, except for parts 0..4 and 30..34.
    const missing = (i: number) => i < 5 || (i >= 30 && i < 35);
    const label = (i: number, ts: number) =>
      getNode('t').receive({ topic: 'label', payload: { value: parts[i].label, ts }, partId: `P${i}` });
    for (let i = 0; i < 70; i++) {
      getNode('t').receive({ payload: parts[i].payload, ts: t0 + i * 1000, partId: `P${i}` });
      if (i >= 10 && !missing(i - 10)) label(i - 10, t0 + i * 1000);
    }
    for (let i = 60; i < 70; i++) label(i, t0 + (i + 10) * 1000);
    const [m] = await trained;
    // The data clock passed the 30 s wait of the 10 unlabelled rows: they expired, counted.
    assert.equal(m.join.joined, 60);
    assert.equal(m.join.expired, 10);
    assert.equal(m.join.unmatched, 0);
  });

  it('joins by time window and warns when one label matches several rows', async () => {
    const f = flow(60);
    Object.assign(f[1], { join: 'time', joinWindow: '3', joinDelay: '60' });
    await load([trainNode, predictNode, catchNode], f);
    const t = getNode('t') as unknown as { warn: (m: string) => void };
    const warnings: string[] = [];
    const warn = t.warn.bind(t);
    t.warn = (m: string) => {
      warnings.push(m);
      warn(m);
    };
    const trained = nextMessages<{ join: Record<string, number> }>('trained', 1, 30000);
    const t0 = Date.UTC(2026, 0, 5);
    const parts = Array.from({ length: 60 }, () => part());
    // Parts 2 s apart: a ±3 s window holds up to three rows around each label.
    parts.forEach((p, i) => getNode('t').receive({ payload: p.payload, ts: t0 + i * 2000 }));
    parts.forEach((p, i) =>
      getNode('t').receive({ topic: 'label', label: p.label, ts: t0 + i * 2000 + 60_000 }),
    );
    const [m] = await trained;
    assert.equal(m.join.joined, 60);
    assert.ok(m.join.ambiguous > 0, JSON.stringify(m.join));
    assert.ok(
      warnings.some((w) => /window is too wide/.test(w)),
      warnings.join('; '),
    );
  });

  it('refuses a waiting row with a non-numeric feature, and a row without a part id when joining by id', async () => {
    const f = flow(60);
    Object.assign(f[1], { join: 'id', features: 'temp,speed,humidity' });
    await load([trainNode, predictNode, catchNode], f);
    const caught = nextMessages<{ error: { message: string } }>('caught', 2);
    getNode('t').receive({ payload: { temp: 'hot', speed: 1, humidity: 40 }, partId: 'A' });
    getNode('t').receive({ payload: { temp: 200, speed: 1, humidity: 40 } });
    const [e1, e2] = await caught;
    assert.match(e1.error.message, /temp/);
    assert.match(e2.error.message, /part id/);
  });

  it('says when no model is loaded', async () => {
    await load([trainNode, predictNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('p').receive({ payload: { temp: 200, speed: 1, humidity: 40 } });
    const [e] = await caught;
    assert.match(e.error.message, /no model/);
  });

  it('both nodes disable themselves when their takt-model node is missing: red status, named error on every input', async () => {
    const f = flow();
    Object.assign(f[1], { modelRef: 'gone' });
    Object.assign(f[2], { modelRef: 'gone' });
    await load([trainNode, predictNode, catchNode], f);
    // Statuses are set during construction: every one the nodes showed.
    for (const id of ['t', 'p'])
      assert.deepEqual(statusesOf(id), [{ fill: 'red', shape: 'dot', text: 'no model node' }], id);
    const caught = nextMessages<{ error: { message: string; code?: string } }>('caught', 2);
    getNode('t').receive(part());
    getNode('p').receive({ payload: { temp: 200, speed: 1, humidity: 40 } });
    for (const m of await caught) {
      assert.equal(m.error.code, 'models.noModelNode');
      assert.match(m.error.message, /choose a takt-model configuration node/);
    }
  });

  it('refuses a bad config with a named config error naming the field', async () => {
    const f = flow();
    Object.assign(f[1], { coverage: 1.5 });
    Object.assign(f[2], { lower: 'ten' });
    await load([trainNode, predictNode, catchNode], f);
    const caught = nextMessages<{ error: { message: string; code?: string } }>('caught', 2);
    getNode('t').receive(part());
    getNode('p').receive({ payload: { temp: 200, speed: 1, humidity: 40 } });
    const errors = await caught;
    const byCode = new Map(errors.map((m) => [m.error.code, m.error.message]));
    assert.match(byCode.get('config.tooLarge') ?? '', /^coverage: /, JSON.stringify(errors));
    assert.match(byCode.get('config.notNumber') ?? '', /^lower: "ten"/, JSON.stringify(errors));
  });

  it('refuses to explain only the parts out of tolerance when no limit is set, or an unknown choice', async () => {
    const f = flow();
    Object.assign(f[2], { upper: '', explain: 'out' });
    f.push({ id: 'p2', z: 'tab', type: 'takt-predict', model: '', explain: 'some', wires: [] });
    (f.find((n) => n.id === 'c') as { scope: string[] }).scope.push('p2');
    await load([trainNode, predictNode, catchNode], f);
    const caught = nextMessages<{ error: { message: string; code?: string } }>('caught', 2);
    getNode('p').receive({ payload: { temp: 200, speed: 1, humidity: 40 } });
    getNode('p2').receive({ payload: { temp: 200, speed: 1, humidity: 40 } });
    const errors = (await caught).map((m) => m.error);
    assert.deepEqual(
      errors.map((e) => e.code),
      ['config.badChoice', 'config.badChoice'],
    );
    assert.match(errors[0].message, /^explain: "out" .*set a lower or upper limit/);
    assert.match(errors[1].message, /^explain: "some" is not one of all, out, none/);
  });
});
