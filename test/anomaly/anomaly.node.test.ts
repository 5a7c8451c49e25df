import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../nodes/core/random';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const anomalyNode = require('../../nodes/anomaly/anomaly.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const trainNode = require('../../nodes/anomaly/train.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

interface Scored {
  anomaly: {
    score: number;
    threshold: number;
    isAnomaly: boolean;
    driver: string;
    healthIndex: number;
    model: string;
  };
}

const rng = new Rng(2);
const normal = () => {
  const a = rng.normal();
  return { temp: 40 + a, current: 10 + 0.5 * a + 0.05 * rng.normal(), flow: 30 - a + 0.1 * rng.normal() };
};

const flow = (model = '') => [
  { id: 'tab', type: 'tab' },
  {
    id: 't',
    z: 'tab',
    type: 'takt-train',
    kind: 'pca',
    rows: 60,
    modelName: 'pump',
    wires: [['a', 'trained']],
  },
  { id: 'a', z: 'tab', type: 'takt-anomaly', model, wires: [['out']] },
  { id: 'trained', z: 'tab', type: 'helper' },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['a', 't'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

describe('takt-train and takt-anomaly nodes', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-anomaly-node-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('trains in a worker, hands the model to takt-anomaly and scores rows', async () => {
    await load([anomalyNode, trainNode, catchNode], flow());
    const trained = nextMessages<{ payload: string; card: { features: string[]; rows: number } }>(
      'trained',
      1,
      20000,
    );
    const ready = nextStatus('a', (s) => s.fill === 'green', 20000);
    for (let i = 0; i < 60; i++) getNode('t').receive({ payload: normal() });
    const [m] = await trained;
    assert.equal(m.payload, join(userDir, 'takt', 'models', 'pump.onnx'));
    assert.ok(existsSync(m.payload));
    assert.deepEqual(
      JSON.parse(readFileSync(join(userDir, 'takt', 'models', 'pump.json'), 'utf8')).features,
      ['temp', 'current', 'flow'],
    );
    assert.deepEqual(m.card.features, ['temp', 'current', 'flow']);
    await ready;
    const out = nextMessages<Scored>('out', 2);
    getNode('a').receive({ payload: { temp: 40, current: 10, flow: 30, zone: 'A' } });
    getNode('a').receive({ payload: { temp: 40, current: 13, flow: 30 } });
    const [ok, bad] = await out;
    assert.equal(ok.anomaly.isAnomaly, false);
    assert.equal(bad.anomaly.isAnomaly, true);
    assert.equal(bad.anomaly.driver, 'current');
  });

  it('takes the rows of the prep nodes ({ ts, features, quality }) for training and scoring', async () => {
    await load([anomalyNode, trainNode, catchNode], flow());
    const trained = nextMessages<{ card: { features: string[] } }>('trained', 1, 20000);
    const ready = nextStatus('a', (s) => s.fill === 'green', 20000);
    const names = ['temp', 'current', 'flow'];
    const row = (f: Record<string, number>, i: number) => ({
      payload: {
        ts: 1000 * i,
        features: f,
        quality: { temp: 'good', current: 'good', flow: 'good' },
        names,
        vector: names.map((n) => f[n]),
      },
    });
    for (let i = 0; i < 60; i++) getNode('t').receive(row(normal(), i));
    const [m] = await trained;
    assert.deepEqual(m.card.features, ['temp', 'current', 'flow'], 'the features, not ts');
    await ready;
    const out = nextMessages<Scored>('out', 2);
    getNode('a').receive(row({ temp: 40, current: 10, flow: 30 }, 61));
    getNode('a').receive(row({ temp: 40, current: 13, flow: 30 }, 62));
    const [ok, bad] = await out;
    assert.equal(ok.anomaly.isAnomaly, false);
    assert.equal(bad.anomaly.isAnomaly, true);
    assert.equal(bad.anomaly.driver, 'current');
  });

  it('reports a model that is not ONNX and a wrong row, keeping the last good model', async () => {
    // A good model first, written by a train node in an earlier flow.
    await load([anomalyNode, trainNode, catchNode], flow());
    const trained = nextMessages<{ payload: string }>('trained', 1, 20000);
    for (let i = 0; i < 60; i++) getNode('t').receive({ payload: normal() });
    await trained;
    await helper.unload();
    mkdirSync(join(userDir, 'takt', 'models'), { recursive: true });
    writeFileSync(join(userDir, 'takt', 'models', 'junk.onnx'), 'not a model');

    await load([anomalyNode, trainNode, catchNode], flow('pump.onnx'));
    const caught = nextMessages<{ error: { message: string } }>('caught', 2, 10000);
    const out = nextMessages<Scored>('out', 1, 10000);
    const red = nextStatus('a', (s) => s.fill === 'red', 10000);
    getNode('a').receive({ model: 'junk.onnx' });
    await red;
    getNode('a').receive({ payload: [40, 10] });
    getNode('a').receive({ payload: { temp: 40, current: 10, flow: 30 } });
    const errs = await caught;
    assert.match(errs[0].error.message, /not an ONNX model/);
    assert.match(errs[1].error.message, /2 values, the model takes 3/);
    const [r] = await out;
    assert.match(r.anomaly.model, /pump\.onnx$/);
    assert.equal(r.anomaly.isAnomaly, false);
  });

  it('trains only on rows of usable quality, counting to the configured rows without the bad ones', async () => {
    await load([anomalyNode, trainNode, catchNode], flow());
    const trained = nextMessages<{ i: number; card: { rows: number } }>('trained', 1, 20000);
    for (let i = 0; i < 5; i++) getNode('t').receive({ i, payload: normal(), quality: 'bad' });
    for (let i = 5; i < 65; i++) getNode('t').receive({ i, payload: normal() });
    const [m] = await trained;
    assert.equal(m.i, 64, 'the five bad-quality rows were not counted');
    assert.equal(m.card.rows, 60);
  });

  it('skips bad-quality rows, checks every row of a batch and refuses unknown actions', async () => {
    await load([anomalyNode, trainNode, catchNode], flow());
    const ready = nextStatus('a', (s) => s.fill === 'green', 20000);
    for (let i = 0; i < 60; i++) getNode('t').receive({ payload: normal() });
    await ready;
    const a = getNode('a');
    const caught = nextMessages<{ error: { message: string } }>('caught', 2);
    const out = nextMessages<{ tag: string; anomaly: (Scored['anomaly'] | null)[] | Scored['anomaly'] }>(
      'out',
      2,
    );
    const ok = { temp: 40, current: 10, flow: 30 };
    const off = { temp: 40, current: 13, flow: 30 };
    a.receive({ tag: 'bad quality', payload: off, quality: 'bad' });
    a.receive({ tag: 'unknown action', payload: ok, action: 'relaod' });
    a.receive({
      tag: 'later bad ts',
      payload: [
        { ts: 1000, features: ok, quality: 'good' },
        { ts: 'noon', features: ok, quality: 'good' },
      ],
    });
    a.receive({
      tag: 'batch',
      payload: [
        { ts: 1000, features: off, quality: { temp: 'bad', current: 'missing', flow: 'bad' } },
        { ts: 2000, features: ok, quality: { temp: 'good', current: 'good', flow: 'good' } },
      ],
    });
    a.receive({ tag: 'single', payload: off, quality: 'uncertain' });
    const errs = await caught;
    assert.match(errs[0].error.message, /action: "relaod" is not one of reset/);
    assert.match(errs[1].error.message, /payload\[1\]\.ts: "noon" has no time zone/);
    const [batch, single] = await out;
    assert.equal(batch.tag, 'batch', 'the bad-quality single row was not scored');
    const results = batch.anomaly as (Scored['anomaly'] | null)[];
    assert.equal(results.length, 2);
    assert.equal(results[0], null, 'a row with no usable feature is not scored');
    assert.equal(results[1]?.isAnomaly, false);
    assert.equal(single.tag, 'single');
    assert.equal((single.anomaly as Scored['anomaly']).isAnomaly, true, 'uncertain quality is still scored');
  });

  it('counts rows that arrive while training toward the next window, and says how many it could not use', async () => {
    await load([anomalyNode, trainNode, catchNode], flow());
    const trained = nextMessages<{ card: { rows: number } }>('trained', 2, 30000);
    const unusedShown = nextStatus('t', (s) => s.text === 'trained, 10 unused', 20000);
    // One synchronous burst: the first 60 rows start a training in the worker, the next 60 fill the next
    // window while it runs, and the last 10 find that window full.
    for (let i = 0; i < 130; i++) getNode('t').receive({ payload: normal() });
    await unusedShown;
    getNode('t').receive({ payload: normal() });
    const [first, second] = await trained;
    assert.deepEqual([first.card.rows, second.card.rows], [60, 61]);
  });

  it('trains once with after "stop": later rows are counted as unused until a reset', async () => {
    await load(
      [anomalyNode, trainNode, catchNode],
      [...flow().map((n) => (n.id === 't' ? { ...n, after: 'stop' } : n))],
    );
    const first = nextMessages<{ card: { rows: number } }>('trained', 1, 20000);
    for (let i = 0; i < 65; i++) getNode('t').receive({ payload: normal() });
    assert.equal((await first)[0].card.rows, 60);
    const shown = nextStatus('t', (s) => s.text === 'trained, 8 unused', 5000);
    for (let i = 0; i < 3; i++) getNode('t').receive({ payload: normal() });
    await shown;
    const again = nextMessages<{ card: { rows: number } }>('trained', 1, 20000);
    getNode('t').receive({ action: 'reset' });
    for (let i = 0; i < 60; i++) getNode('t').receive({ payload: normal() });
    assert.equal((await again)[0].card.rows, 60);
  });

  it('refuses to train on fewer rows than features', async () => {
    await load([anomalyNode, trainNode, catchNode], flow());
    const caught = nextMessages<{ error: { message: string } }>('caught', 1, 20000);
    getNode('t').receive({ payload: normal() });
    getNode('t').receive({ action: 'train' });
    const [e] = await caught;
    assert.match(e.error.message, /1 training rows for 3 features/);
  });
});
