import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../nodes/core/random';
import { evaluate, promoteGated, retrain, worseBy } from '../../nodes/models/lifecycle';
import { retrainQuality } from '../../nodes/models/quality';
import { ModelRegistry } from '../../nodes/models/registry';
import { pcaOnnx, pumpRows } from './fixtures';

const who = (w: string, why = 'test') => ({ who: w, why });

describe('models: retrain and gated promotion', function () {
  this.timeout(30000);
  let root: string;
  let reg: ModelRegistry;
  const rng = new Rng(31);
  const rowsA = pumpRows(rng, 400);
  // After maintenance the pump runs with more current: the old model raises false alarms on it.
  const rowsB = pumpRows(rng, 400, 2);

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'takt-lifecycle-'));
    reg = new ModelRegistry(root, 'pump');
    await reg.register({ onnx: pcaOnnx(rowsA), reference: rowsA }, who('ana'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('compares evaluations: worse false-alarm rate or detection beyond the margin', () => {
    const e = (v: number, fa: number, det?: number) => ({
      version: v,
      rows: 100,
      falseAlarms: fa,
      falseAlarmRate: fa / 100,
      faults: det === undefined ? 0 : 10,
      detected: det ?? 0,
      ...(det === undefined ? {} : { detectionRate: det / 10 }),
    });
    assert.deepEqual(worseBy(e(2, 3), e(1, 2)), []);
    assert.match(worseBy(e(2, 5), e(1, 2))[0], /false-alarm rate 5\.0 % against the champion's 2\.0 %/);
    assert.match(worseBy(e(2, 0, 6), e(1, 0, 9))[0], /detection 60\.0 % against the champion's 90\.0 %/);
  });

  it('refuses to retrain a champion whose kind is not a registered model kind, instead of training another', async () => {
    const r2 = mkdtempSync(join(tmpdir(), 'takt-lifecycle-'));
    try {
      const other = new ModelRegistry(r2, 'pump');
      await other.register({ onnx: pcaOnnx(rowsA), reference: rowsA, kind: 'forest' }, who('ana'));
      await assert.rejects(retrain(other, { rows: rowsB, who: 'flow', why: 'drift' }).promise, {
        code: 'models.unknownKind',
        message: /"forest" is not a model kind/,
      });
      assert.deepEqual(other.versions(), [1], 'nothing registered');
    } finally {
      rmSync(r2, { recursive: true, force: true });
    }
  });

  it('refuses to retrain, anomaly or quality model, in a registry that has no champion yet', async () => {
    const r2 = mkdtempSync(join(tmpdir(), 'takt-lifecycle-'));
    try {
      const empty = new ModelRegistry(r2, 'pump');
      const why = { code: 'models.noChampion', message: 'pump: no champion to retrain from' };
      await assert.rejects(retrain(empty, { rows: rowsB, who: 'flow', why: 'drift' }).promise, why);
      const labels = rowsB.map(() => 0);
      await assert.rejects(
        retrainQuality(empty, { rows: rowsB, labels, who: 'flow', why: 'drift' }).promise,
        why,
      );
      assert.deepEqual(empty.versions(), [], 'nothing registered');
    } finally {
      rmSync(r2, { recursive: true, force: true });
    }
  });

  it('retrains a challenger in a worker, registers it without promoting, and approval promotes it', async () => {
    const t0 = Date.UTC(2026, 10, 20);
    const progress: number[] = [];
    const h = retrain(
      reg,
      { rows: rowsB, times: rowsB.map((_, i) => t0 + i * 1000), who: 'flow', why: 'drift on current' },
      (f) => progress.push(f),
    );
    const r = await h.promise;
    assert.equal(r.card.version, 2);
    assert.equal(r.card.parent, 1);
    assert.equal(r.card.kind, 'pca');
    assert.equal(r.card.training.rows, 320);
    assert.equal(r.card.training.from, new Date(t0).toISOString());
    assert.equal(r.card.training.to, new Date(t0 + 319000).toISOString());
    assert.equal(r.card.normalisation?.mean.length, 3);
    assert.equal(reg.holdout(2)?.length, 80);
    assert.equal(reg.reference(2)?.columns[0].length, 320);
    assert.ok(progress.length > 0 && progress.at(-1) === 1);
    assert.equal(reg.champion()?.version, 1, 'a retrained version is never champion by itself');
    // On the held-out (new normal) rows the old champion raises far more false alarms.
    assert.ok(r.champion && r.champion.falseAlarmRate > 0.5, `champion FAR ${r.champion?.falseAlarmRate}`);
    assert.ok(r.challenger.falseAlarmRate < 0.05, `challenger FAR ${r.challenger.falseAlarmRate}`);
    assert.deepEqual(r.card.evaluation?.challenger.falseAlarmRate, r.challenger.falseAlarmRate);
    assert.deepEqual(readdirSync(join(reg.dir, '.staging')), [], 'staging files removed');

    await assert.rejects(promoteGated(reg, 2, { approvedBy: ' ', why: 'x' }), { code: 'models.notApproved' });
    const p = await promoteGated(reg, 2, { approvedBy: 'carla', why: 'fewer false alarms' });
    assert.equal(p.pointer.version, 2);
    assert.ok(p.challenger && p.champion && p.challenger.falseAlarmRate < p.champion.falseAlarmRate);
    assert.equal(reg.card(2).approvedBy, 'carla');
    const rb = await reg.rollback(undefined, who('dan', 'back to the first'));
    assert.equal(rb.version, 1);
    assert.deepEqual(
      reg.audit().map((e) => `${e.action} ${e.from}->${e.to}`),
      ['register null->1', 'promote null->1', 'register 1->2', 'promote 1->2', 'rollback 2->1'],
    );
  });

  it('refuses to promote a challenger that is worse on the held-out window, and audits the refusal', async () => {
    // v2: trained on the same data as v1 but with a threshold far too low: many false alarms.
    const holdout = pumpRows(rng, 100);
    await reg.register({ onnx: pcaOnnx(rowsA, undefined, 0.3), holdout }, who('ben'));
    const faults = pumpRows(rng, 20, 6);
    const ev1 = await reg.open(1);
    const e1 = await evaluate(ev1.model, 1, holdout, faults);
    await ev1.model.dispose();
    assert.equal(e1.detectionRate, 1);
    await assert.rejects(promoteGated(reg, 2, { approvedBy: 'carla', why: 'try', faults }), {
      code: 'models.worse',
      message: /pump v2 not promoted: false-alarm rate/,
    });
    assert.equal(reg.champion()?.version, 1);
    const last = reg.audit().at(-1);
    assert.deepEqual([last?.action, last?.who, last?.from, last?.to], ['refused', 'carla', 1, 2]);
    await assert.rejects(promoteGated(reg, 7, { approvedBy: 'carla', why: 'x' }), {
      code: 'models.unknownVersion',
    });
  });

  it('refuses a promotion without a held-out window and a retrain on too few rows', async () => {
    await reg.register({ onnx: pcaOnnx(rowsB) }, who('ben'));
    await assert.rejects(promoteGated(reg, 2, { approvedBy: 'carla', why: 'x' }), {
      code: 'models.noHoldout',
      message: /0 held-out rows/,
    });
    await assert.rejects(retrain(reg, { rows: rowsB.slice(0, 20), who: 'flow', why: 'x' }).promise, {
      code: 'models.tooFewRows',
      message: /20 recorded normal rows, a retrain needs at least 50/,
    });
    assert.equal(existsSync(join(reg.dir, 'v3.onnx')), false);
  });
});
