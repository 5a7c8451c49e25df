import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditLog } from '../../nodes/core/audit';
import { Rng } from '../../nodes/core/random';
import type { DriftReport } from '../../nodes/models/drift';
import type { ShadowResult } from '../../nodes/models/ops';
import { ModelRegistry } from '../../nodes/models/registry';
import type { AuditEntry, VersionCard } from '../../nodes/models/types';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';
import { waitUntil } from '../helpers/net';
import { pcaOnnx, pumpRows } from './fixtures';

/* eslint-disable @typescript-eslint/no-require-imports */
const modelNode = require('../../nodes/models/model.node');
const opsNode = require('../../nodes/models/ops.node');
const driftNode = require('../../nodes/models/drift.node');
const anomalyNode = require('../../nodes/anomaly/anomaly.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Result {
  topic: string;
  payload: Record<string, unknown>;
  audit: AuditEntry[];
}
interface Scored {
  shadow: ShadowResult;
}
interface Caught {
  error: { message: string };
}

const NODES = [modelNode, opsNode, driftNode, anomalyNode, catchNode];

const flow = (model = 'pump') => [
  { id: 'tab', type: 'tab' },
  { id: 'm', type: 'takt-model', model, path: '', pollMs: 0 },
  { id: 'a', z: 'tab', type: 'takt-anomaly', modelRef: 'm', model: '', wires: [['scores']] },
  {
    id: 'ops',
    z: 'tab',
    type: 'takt-model-ops',
    modelRef: 'm',
    minRows: 50,
    wires: [['scored'], ['results']],
  },
  { id: 'd', z: 'tab', type: 'takt-drift', modelRef: 'm', window: 100, wires: [['drift']] },
  { id: 'scores', z: 'tab', type: 'helper' },
  { id: 'scored', z: 'tab', type: 'helper' },
  { id: 'results', z: 'tab', type: 'helper' },
  { id: 'drift', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['a', 'ops', 'd'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

describe('takt-model, takt-model-ops, takt-drift and takt-anomaly on a registry', function () {
  this.timeout(30000);
  let userDir: string;
  let reg: ModelRegistry;
  const rng = new Rng(41);
  const rowsA = pumpRows(rng, 400);

  beforeEach(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-models-node-'));
    helper.settings({ userDir });
    reg = new ModelRegistry(join(userDir, 'takt', 'models', 'registry'), 'pump');
    await reg.register(
      { onnx: pcaOnnx(rowsA), reference: rowsA, training: { rows: 400 } },
      { who: 'ana', why: 'first' },
    );
    mkdirSync(join(userDir, 'takt', 'models'), { recursive: true });
    // A model with a threshold far too low: many false alarms.
    writeFileSync(join(userDir, 'takt', 'models', 'twitchy.onnx'), pcaOnnx(rowsA, undefined, 0.1));
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  /** The version file takt-anomaly scores with now. */
  const servedBy = async () => {
    const got = nextMessages<{ anomaly: { model: string } }>('scores', 1);
    getNode('a').receive({ payload: { temp: 40, current: 10, flow: 30 } });
    return /(v\d+)\.onnx$/.exec((await got)[0].anomaly.model)?.[1];
  };

  const command = async (action: string, payload: object = {}, extra: object = {}) => {
    const r = nextMessages<Result>('results', 1, 20000);
    getNode('ops').receive({ action, payload, ...extra });
    return (await r)[0];
  };
  /** An http in request with Basic credentials the runtime checked (httpNodeAuth is set in the test). */
  const asUser = (user: string) => ({
    req: { headers: { authorization: `Basic ${Buffer.from(`${user}:pw`).toString('base64')}` } },
  });
  /** What takt-approve puts on an action a logged-in person approved. */
  const approvedBy = (user: string) => ({
    approval: {
      outcome: 'approved',
      by: 'decision',
      decisions: [{ user, authenticated: true, source: 'admin', decision: 'approve', at: 0 }],
    },
  });

  it('registers, shadows, takes feedback, sees drift, retrains, refuses a worse version, promotes, rolls back', async () => {
    helper.settings({ userDir, httpNodeAuth: { user: 'carla', pass: 'x' } });
    await load(NODES, flow());
    // the champion loads asynchronously (onnxruntime), after the flow has started
    await nextStatus('a', (s) => s.fill === 'green', 10000);
    assert.equal(await servedBy(), 'v1');

    // register a second version: not champion
    const reg2 = await command('register', { file: 'twitchy.onnx', who: 'ben', why: 'tighter threshold' });
    assert.equal((reg2.payload.card as VersionCard).version, 2);
    assert.equal(reg2.payload.champion, false);
    assert.deepEqual(
      reg2.audit.map((e) => [e.action, e.who, e.from, e.to, e.why]),
      [['register', 'ben', 1, 2, 'tighter threshold']],
    );

    // shadow it: both score the same rows, the champion decides
    const sh = await command('shadow', { version: 2, who: 'ben' });
    assert.deepEqual(sh.payload, { shadow: 2 });
    const rowsN = pumpRows(rng, 40);
    const scored = nextMessages<Scored>('scored', 40);
    rowsN.forEach((r, i) => getNode('ops').receive({ payload: r, key: `n${i}` }));
    const out = await scored;
    assert.ok(out.every((m) => m.shadow.champion.version === 1 && m.shadow.challenger?.version === 2));
    const champAlarms = out.filter((m) => m.shadow.champion.isAnomaly).length;
    const disagreeing = out.filter((m) => m.shadow.agree === false);
    assert.ok(champAlarms <= 2, `${champAlarms} champion alarms on normal rows`);
    assert.ok(disagreeing.length >= 10, `${disagreeing.length} disagreements`);

    // feedback: the challenger's alarm on a normal row was a false alarm
    const fb = await command('feedback', { key: disagreeing[0].shadow.key, label: 'falseAlarm' });
    const metrics = fb.payload.metrics as {
      version: number;
      fp: number;
      tn: number;
      rows: number;
      agreement: number;
    }[];
    const m1 = metrics.find((m) => m.version === 1)!;
    const m2 = metrics.find((m) => m.version === 2)!;
    assert.deepEqual([m1.rows, m1.fp, m1.tn], [40, 0, 1]);
    assert.deepEqual([m2.rows, m2.fp, m2.tn], [40, 1, 0]);
    assert.equal(m2.agreement, (40 - disagreeing.length) / 40);

    // the process moves to a new operating point: drift on the features
    const rowsC = pumpRows(rng, 150, 0, 2.5);
    const drifted = nextMessages<{ drift: DriftReport }>('drift', 1, 10000, (m) => m.drift.drift);
    rowsC
      .slice(0, 100)
      .forEach((r) => getNode('d').receive({ payload: { temp: r[0], current: r[1], flow: r[2] } }));
    const [dr] = await drifted;
    assert.deepEqual([...dr.drift.moved].sort(), ['current', 'flow', 'temp']);
    assert.equal(dr.drift.retrain, true);
    assert.equal(dr.drift.version, 1);

    // the rows also go through model ops (recorded as recent normal data)
    const more = nextMessages<Scored>('scored', 150);
    rowsC.forEach((r, i) => getNode('ops').receive({ payload: r, key: `c${i}` }));
    await more;

    // retrain: a challenger, never champion
    const busy = nextStatus('ops', (s) => s.text === 'retraining');
    const rt = await command('retrain', { who: 'flow', why: 'drift on temp, current, flow' });
    await busy;
    const card3 = rt.payload.card as VersionCard;
    assert.equal(card3.version, 3);
    assert.equal(card3.parent, 1);
    assert.equal(card3.training.rows, 190 - 38);
    assert.equal(reg.champion()?.version, 1);
    const ch = rt.payload.challenger as { falseAlarmRate: number };
    const cp = rt.payload.champion as { falseAlarmRate: number };
    assert.ok(
      ch.falseAlarmRate < cp.falseAlarmRate,
      `challenger ${ch.falseAlarmRate} champion ${cp.falseAlarmRate}`,
    );

    // a forged approvedBy (no login behind it) does not promote: refused and audited
    const forged = nextMessages<Caught>('caught', 1);
    getNode('ops').receive({
      action: 'promote',
      payload: { version: 3, approvedBy: 'carla', why: 'trust me' },
    });
    assert.match(
      (await forged)[0].error.message,
      /promote v3: refused, unauthenticated message \(claimed "carla"\)/,
    );
    assert.equal(reg.champion()?.version, 1);

    // v2 is worse on the recorded rows: refused, audited, champion stays
    const refused = nextMessages<Caught>('caught', 1);
    getNode('ops').receive({
      action: 'promote',
      payload: { version: 2, why: 'try' },
      ...asUser('carla'),
    });
    assert.match((await refused)[0].error.message, /pump v2 not promoted: false-alarm rate/);
    assert.equal(reg.champion()?.version, 1);

    // an approval by a logged-in person (takt-approve's msg.approval) promotes v3; takt-anomaly swaps to it
    const swapped = nextStatus('a', (s) => s.fill === 'green', 10000);
    const pr = await command(
      'promote',
      { version: 3, approvedBy: 'mallory', why: 'new operating point' },
      approvedBy('carla'),
    );
    assert.equal((pr.payload.pointer as { version: number }).version, 3);
    assert.deepEqual(
      pr.audit.map((e) => [e.action, e.who, e.from, e.to]),
      [['promote', 'carla', 1, 3]],
    );
    await swapped;
    // takt-anomaly reloads the champion asynchronously: wait for the swap rather than for any green status.
    await waitUntil(async () => (await servedBy()) === 'v3', 'takt-anomaly to serve v3', 20000, 100);

    // rollback from an open editor (admin API, no login) restores the first version everywhere; the name
    // given is recorded as a claim
    const back = nextStatus('a', (s) => s.fill === 'green', 10000);
    const res = await helper
      .request()
      .post('/takt-model/m/rollback')
      .send({ why: 'operators prefer v1', user: 'dan' })
      .expect(200);
    assert.equal((res.body as { version: number }).version, 1);
    await back;
    // as for the promotion: the green status may come before the reload of the first version ends
    await waitUntil(async () => (await servedBy()) === 'v1', 'takt-anomaly to serve v1 again', 20000, 100);
    const st = await command('status');
    assert.equal((st.payload.champion as { version: number }).version, 1);
    assert.equal(st.payload.shadow, 2);

    // the audit log recorded every step, hash-chained
    assert.deepEqual(
      reg.audit().map((e) => `${e.action} ${e.who} ${e.from}->${e.to}`),
      [
        'register ana null->1',
        'promote ana null->1',
        'register ben 1->2',
        'shadow ben 1->2',
        'register flow 1->3',
        'refused unauthenticated message (claimed "carla") 1->3',
        'refused carla 1->2',
        'promote carla 1->3',
        'rollback unauthenticated admin (claimed "dan") 3->1',
      ],
    );
    assert.equal(verifyAuditLog(reg.auditFile).ok, true);
    const http = await helper.request().get('/takt-model/m/status').expect(200);
    assert.deepEqual(
      (http.body as { versions: { version: number }[] }).versions.map((v) => v.version),
      [1, 2, 3],
    );
  });

  it('reports bad commands clearly while the champion keeps serving', async () => {
    await load(NODES, flow());
    // the champion loads asynchronously (onnxruntime), after the flow has started
    await nextStatus('a', (s) => s.fill === 'green', 10000);
    assert.equal(await servedBy(), 'v1');
    writeFileSync(join(userDir, 'takt', 'models', 'junk.onnx'), 'not a model');
    const caught = nextMessages<Caught>('caught', 6, 10000);
    getNode('ops').receive({ action: 'promote', payload: { version: 9 }, ...approvedBy('carla') });
    getNode('ops').receive({ action: 'register', payload: { file: 'junk.onnx' } });
    getNode('ops').receive({ action: 'feedback', payload: { key: 'nope', label: 'fault' } });
    getNode('ops').receive({ action: 'dance' });
    getNode('d').receive({ action: 'check' });
    getNode('ops').receive({ payload: [1, 2] });
    const msgs = (await caught).map((m) => m.error.message);
    // commands settle in their own time: check the set, not the order
    for (const re of [
      /pump has no version 9/,
      /not an ONNX model/,
      /no scored row "nope"/,
      /"dance" is not one of register, shadow/,
      /0 rows, a drift check needs at least 50/,
      /2 values, the model takes 3/,
    ])
      assert.ok(
        msgs.some((m) => re.test(m)),
        `no error matching ${re} in ${msgs.join(' | ')}`,
      );
    const ok = nextMessages<Scored>('scored', 1);
    getNode('ops').receive({ payload: { temp: 40, current: 10, flow: 30 }, ts: 1764115200000 });
    const [r] = await ok;
    assert.equal(r.shadow.key, '1764115200000');
    assert.equal(r.shadow.champion.version, 1);
    assert.equal(r.shadow.champion.isAnomaly, false);
    assert.equal(reg.champion()?.version, 1);
  });

  it('records rows before the first version and keeps them as its drift reference', async () => {
    await load(NODES, flow('fresh'));
    const caught: string[] = [];
    getNode('caught').on('input', ((m: Caught) => caught.push(m.error.message)) as never);
    // no version yet: takt-anomaly and takt-drift wait quietly
    getNode('a').receive({ payload: { temp: 40, current: 10, flow: 30 } });
    getNode('d').receive({ payload: { temp: 40, current: 10, flow: 30 } });
    const passed = nextMessages<{ shadow?: unknown }>('scored', 40);
    pumpRows(rng, 40).forEach((r) =>
      getNode('ops').receive({ payload: { temp: r[0], current: r[1], flow: r[2] } }),
    );
    assert.ok((await passed).every((m) => m.shadow === undefined));
    const ready = nextStatus('a', (s) => s.fill === 'green', 10000);
    const r = await command('register', { file: 'twitchy.onnx', who: 'ana', why: 'first model' });
    assert.equal(r.payload.champion, true);
    assert.deepEqual(
      r.audit.map((e) => `${e.action} ${e.from}->${e.to}`),
      ['register null->1', 'promote null->1'],
    );
    const fresh = new ModelRegistry(join(userDir, 'takt', 'models', 'registry'), 'fresh');
    assert.equal(fresh.reference(1)?.columns[0].length, 40);
    await ready;
    const st = await command('status');
    assert.deepEqual(st.payload.recorded, { normal: 40, faults: 0, raw: 0 });
    const reset = await command('reset');
    assert.deepEqual(reset.payload, { recorded: { normal: 0, faults: 0, raw: 0 } });
    assert.deepEqual(reset.audit, []);
    assert.deepEqual(caught, []);
  });

  it("leaves rows of bad quality out of the drift window (msg.quality or a prep row's own)", async () => {
    await load(NODES, flow());
    await nextStatus('a', (s) => s.fill === 'green', 10000);
    assert.equal(await servedBy(), 'v1');
    const row = { temp: 40, current: 10, flow: 30 };
    const prep = (quality: string) => ({
      ts: 1764115200000,
      features: row,
      quality,
      names: ['temp', 'current', 'flow'],
      vector: [40, 10, 30],
    });
    getNode('d').receive({ payload: row });
    getNode('d').receive({ payload: row, quality: 'bad' });
    getNode('d').receive({ payload: [prep('bad'), prep('uncertain')] });
    const caught = nextMessages<Caught>('caught', 1);
    getNode('d').receive({ action: 'check' });
    assert.match((await caught)[0].error.message, /window: 2 rows/);
  });

  it('neither scores nor records a row of bad quality', async () => {
    await load(NODES, flow('fresh'));
    getNode('ops').receive({ payload: { temp: 40, current: 10, flow: 30 }, quality: 'bad' });
    getNode('ops').receive({ payload: { temp: 90, current: 10, flow: 30 }, quality: 'BadSensorFailure' });
    const passed = nextMessages<{ payload: unknown }>('scored', 1);
    getNode('ops').receive({ payload: { temp: 41, current: 10, flow: 30 } });
    assert.deepEqual((await passed)[0].payload, { temp: 41, current: 10, flow: 30 });
    const st = await command('status');
    const rec = st.payload.recorded as { normal: number; faults: number; raw: number };
    assert.equal(rec.normal + rec.faults + rec.raw, 1);
  });

  it('refuses to start without a takt-model node', async () => {
    await load(NODES, [
      { id: 'tab', type: 'tab' },
      { id: 'ops', z: 'tab', type: 'takt-model-ops', modelRef: '', wires: [[], []] },
      { id: 'c', z: 'tab', type: 'catch', scope: ['ops'], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ]);
    const caught = nextMessages<Caught>('caught', 1);
    getNode('ops').receive({ payload: [1, 2, 3] });
    assert.match((await caught)[0].error.message, /choose a takt-model configuration node/);
  });
});
