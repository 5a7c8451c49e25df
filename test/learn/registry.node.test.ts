import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../nodes/core/random';
import { fit } from '../../nodes/learn/model';
import { type QualityFeed, qualityRegistration, type RegisterDecision } from '../../nodes/learn/registry';
import type { DriftReport } from '../../nodes/models/drift';
import { ModelRegistry } from '../../nodes/models/registry';
import type { ChampionServer } from '../../nodes/models/server';
import type { AuditEntry, QualityEvaluation, VersionCard } from '../../nodes/models/types';
import { waitUntil } from '../helpers/net';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { pcaOnnx, pumpRows } from '../models/fixtures';

/* eslint-disable @typescript-eslint/no-require-imports */
const trainNode = require('../../nodes/learn/predict-train.node');
const predictNode = require('../../nodes/learn/predict.node');
const modelNode = require('../../nodes/models/model.node');
const opsNode = require('../../nodes/models/ops.node');
const driftNode = require('../../nodes/models/drift.node');
const anomalyNode = require('../../nodes/anomaly/anomaly.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

// takt-model's server is what takt-predict and takt-predict-train see as a QualityFeed (checked by the compiler).
const asFeed = (s: ChampionServer): QualityFeed => s;
void asFeed;

const NODES = [trainNode, predictNode, modelNode, opsNode, driftNode, anomalyNode, catchNode];

interface Predicted {
  payload: { value: number; lower: number; upper: number; version?: number; residual?: number };
  residual?: number;
}
interface Result {
  payload: Record<string, unknown>;
  audit: AuditEntry[];
}
interface Caught {
  error: { message: string };
}

/** A turned part: bore diameter from feed, speed and tool wear; `offset` is a shift its features do not show. */
const part = (rng: Rng, offset = 0) => {
  const feed = rng.uniform(0.1, 0.25);
  const speed = rng.uniform(150, 250);
  const wear = rng.uniform(0, 1);
  const label = 25 + 0.012 * wear * (1 + 6 * feed) - 0.00003 * (speed - 200) + offset + 0.0005 * rng.normal();
  return { payload: { feed, speed, wear }, label };
};

const flow = (model = 'bore') => [
  { id: 'tab', type: 'tab' },
  { id: 'm', type: 'takt-model', model, path: '', pollMs: 0 },
  {
    id: 't',
    z: 'tab',
    type: 'takt-predict-train',
    task: 'regression',
    rows: 300,
    modelName: 'bore',
    modelRef: 'm',
    target: 'bore diameter',
    wires: [['trained']],
  },
  {
    id: 'p',
    z: 'tab',
    type: 'takt-predict',
    modelRef: 'm',
    model: '',
    lower: '',
    upper: '',
    wires: [['out']],
  },
  {
    id: 'ops',
    z: 'tab',
    type: 'takt-model-ops',
    modelRef: 'm',
    minRows: 50,
    wires: [['recorded'], ['results']],
  },
  { id: 'd', z: 'tab', type: 'takt-drift', modelRef: 'm', window: 100, wires: [['drift']] },
  { id: 'trained', z: 'tab', type: 'helper' },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'recorded', z: 'tab', type: 'helper' },
  { id: 'results', z: 'tab', type: 'helper' },
  { id: 'drift', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['t', 'p', 'ops', 'd'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

describe('quality models through takt-model: takt-predict-train, takt-predict, takt-model-ops, takt-drift', function () {
  this.timeout(60000);
  let userDir: string;
  const root = () => join(userDir, 'takt', 'models', 'registry');
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-learn-registry-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  const command = async (action: string, payload: object = {}, extra: object = {}) => {
    const r = nextMessages<Result>('results', 1, 40000);
    getNode('ops').receive({ action, payload, ...extra });
    return (await r)[0];
  };
  /** What takt-approve puts on an action a logged-in person approved. */
  const approvedBy = (user: string) => ({
    approval: {
      outcome: 'approved',
      by: 'decision',
      decisions: [{ user, authenticated: true, source: 'admin', decision: 'approve', at: 0 }],
    },
  });
  const predict = async (m: { payload: object; label?: number }) => {
    const got = nextMessages<Predicted>('out', 1);
    getNode('p').receive(m);
    return (await got)[0];
  };

  it('registers, predicts with the current version, sees residual drift, retrains, promotes and rolls back', async () => {
    const rng = new Rng(7);
    await load(NODES, flow());
    // a part before the registry has any version: counted on the status, not predicted, not an error
    const early = nextStatus('p', (s) => s.fill === 'grey');
    const none = nextMessages('out', 1, 1000);
    getNode('p').receive(part(rng));
    await early;
    await assert.rejects(none, /received 0 of 1/);
    // train: the first version of the name becomes the current one, and takt-predict loads it
    const trained = nextMessages<{ version: number; card: { features: string[] } }>('trained', 1, 40000);
    const ready = nextStatus('p', (s) => s.fill === 'green', 40000);
    for (let i = 0; i < 300; i++) getNode('t').receive(part(rng));
    assert.equal((await trained)[0].version, 1);
    await ready;
    const reg = new ModelRegistry(root(), 'bore');
    const card1 = reg.card(1);
    assert.equal(card1.domain, 'quality-regression');
    assert.equal(card1.quality?.target, 'bore diameter');
    assert.equal(reg.champion()?.version, 1);

    const p1 = await predict(part(rng));
    assert.equal(p1.payload.version, 1);
    assert.ok(p1.payload.lower < p1.payload.value && p1.payload.value < p1.payload.upper);
    assert.equal(typeof p1.residual, 'number');
    assert.equal(p1.payload.residual, p1.residual);

    // a new tool lot: the bores come out 4 µm wider, the features look the same. The gauge's results go to
    // takt-predict (residuals for takt-drift) and to model ops (labelled rows for the retrain).
    const residuals: number[] = [];
    const shifted = Array.from({ length: 300 }, () => part(rng, 0.004));
    for (const m of shifted.slice(0, 120)) residuals.push((await predict(m)).residual!);
    const drifted = nextMessages<{ drift: DriftReport }>('drift', 1, 10000, (m) => m.drift.drift);
    for (const r of residuals) getNode('d').receive({ residual: r });
    const [dr] = await drifted;
    assert.deepEqual(dr.drift.moved, ['residual']);
    assert.equal(dr.drift.retrain, true);
    const recorded = nextMessages('recorded', 300);
    for (const m of shifted) getNode('ops').receive(m);
    await recorded;

    // the drift alarm asks model ops to retrain: a challenger from the labelled rows, never current by itself
    const rt = await command('retrain', { who: 'flow', why: 'residual drift' });
    const card2 = rt.payload.card as VersionCard;
    assert.equal(card2.version, 2);
    assert.equal(card2.parent, 1);
    assert.equal(card2.domain, 'quality-regression');
    const ch = rt.payload.challenger as QualityEvaluation;
    const cp = rt.payload.champion as QualityEvaluation;
    assert.ok(ch.rmse! < cp.rmse!, `challenger RMSE ${ch.rmse} against the champion's ${cp.rmse}`);
    assert.equal(reg.champion()?.version, 1);
    assert.equal((await predict(part(rng, 0.004))).payload.version, 1);

    // promotion by a logged-in approver: takt-predict follows without a redeploy
    const pr = await command('promote', { version: 2, why: 'better on the new lot' }, approvedBy('carla'));
    assert.equal((pr.payload.pointer as { version: number }).version, 2);
    assert.ok((pr.payload.quality as { challenger: QualityEvaluation }).challenger.rmse! < cp.rmse!);
    await waitUntil(async () => (await predict(part(rng, 0.004))).payload.version === 2, 'v2 predicting');

    // rollback: back to v1, and takt-predict with it
    const rb = await command('rollback', { who: 'shift lead', why: 'check the old model' });
    assert.equal((rb.payload as { version: number }).version, 1);
    await waitUntil(async () => (await predict(part(rng))).payload.version === 1, 'v1 predicting again');
    assert.deepEqual(
      reg.audit().map((e) => `${e.action} ${e.from}->${e.to}`),
      ['register null->1', 'promote null->1', 'register 1->2', 'promote 1->2', 'rollback 2->1'],
    );
  });

  it("registers only a model that beats the current version with register 'better', only the first with 'first'", async () => {
    const rng = new Rng(11);
    // the current version: trained on 3,000 parts, so a model of one 300-part window is worse on the same process
    const parts = Array.from({ length: 3000 }, () => part(rng));
    const X = parts.map((m) => [m.payload.feed, m.payload.speed, m.payload.wear]);
    const y = parts.map((m) => m.label);
    const fitted = await fit(X, y, { task: 'regression', features: ['feed', 'speed', 'wear'] });
    const reg = new ModelRegistry(root(), 'bore');
    await reg.register(qualityRegistration(fitted, X, y, { target: 'bore diameter' }), {
      who: 'ana',
      why: 'v1',
    });
    type Trained = { version?: number; registration: RegisterDecision };
    const window = async (offset: number) => {
      const trained = nextMessages<Trained>('trained', 1, 40000);
      for (let i = 0; i < 300; i++) getNode('t').receive(part(rng, offset));
      return (await trained)[0];
    };

    const f = flow();
    Object.assign(f[2], { register: 'better' });
    await load(NODES, f);
    const same = await window(0);
    assert.equal(same.version, undefined);
    assert.equal(same.registration.registered, false);
    const c = same.registration.compared!;
    assert.equal(c.current.version, 1);
    assert.equal(c.model.rows, c.current.rows);
    assert.ok(c.model.rmse! >= c.current.rmse!, JSON.stringify(c));
    assert.match(same.registration.why, /^RMSE .* against v1's RMSE .* on 30 held-out rows$/);
    assert.deepEqual(reg.versions(), [1]);
    // a new tool lot: the bores come out 4 µm wider; a model of it beats v1 and is registered (not promoted)
    const lot = await window(0.004);
    assert.equal(lot.version, 2);
    assert.equal(lot.registration.registered, true);
    assert.ok(lot.registration.compared!.model.rmse! < lot.registration.compared!.current.rmse!);
    assert.deepEqual(reg.versions(), [1, 2]);
    assert.equal(reg.champion()?.version, 1);
    await helper.unload();

    // 'first': the registry has a version, so even a better model is only written and sent
    Object.assign(f[2], { register: 'first' });
    await load(NODES, f);
    const once = await window(0.004);
    assert.equal(once.version, undefined);
    assert.deepEqual([once.registration.registered, once.registration.compared], [false, undefined]);
    assert.match(once.registration.why, /only the first is registered/);
    assert.deepEqual(reg.versions(), [1, 2]);
  });

  it('takt-predict refuses a registry whose model is an anomaly scorer, and takt-anomaly a quality model', async () => {
    const rows = pumpRows(new Rng(3), 200);
    await new ModelRegistry(root(), 'pump').register(
      { onnx: pcaOnnx(rows), reference: rows },
      { who: 'ana', why: 'first' },
    );
    await load(NODES, flow('pump'));
    // the version loads asynchronously (onnxruntime), after the flow has started
    const refused = nextStatus('p', (s) => s.fill === 'red', 20000);
    assert.match(String((await refused).text), /not quality/);
    const caught = nextMessages<Caught>('caught', 1);
    getNode('p').receive({ payload: { temp: 40, current: 10, flow: 30 } });
    assert.match(
      (await caught)[0].error.message,
      /pump v1 is an anomaly model, not a quality model: choose the takt-model node that takt-predict-train registers to/,
    );
    await helper.unload();

    // the other way round: a quality registry under takt-anomaly
    const rng = new Rng(9);
    await load(NODES, flow('bore2'));
    const trained = nextMessages('trained', 1, 40000);
    for (let i = 0; i < 300; i++) getNode('t').receive(part(rng));
    await trained;
    await helper.unload();
    await load(NODES, [
      { id: 'tab', type: 'tab' },
      { id: 'm', type: 'takt-model', model: 'bore2', path: '', pollMs: 0 },
      { id: 'a', z: 'tab', type: 'takt-anomaly', modelRef: 'm', model: '', wires: [[]] },
    ]);
    const notAnomaly = nextStatus('a', (s) => s.fill === 'red', 20000);
    assert.match(String((await notAnomaly).text), /not anomaly/);
  });
});
