import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../nodes/core/random';
import { fit } from '../../nodes/learn/model';
import { qualityRegistration } from '../../nodes/learn/registry';
import { checkQualityPromotion, retrainQuality } from '../../nodes/models/quality';
import { ModelRegistry } from '../../nodes/models/registry';
import { ChampionServer } from '../../nodes/models/server';
import { ModelOps } from '../../nodes/models/ops';
import type { ReferenceSample, VersionCard } from '../../nodes/models/types';
import { pcaOnnx, pumpRows } from './fixtures';

const FEATURES = ['feed', 'speed', 'wear'];

/** Parts: bore diameter from feed, speed and tool wear (non-linear), `offset` a shift the features do not show. */
function parts(rng: Rng, n: number, offset = 0): { X: number[][]; y: number[] } {
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const feed = rng.uniform(0.1, 0.25);
    const speed = rng.uniform(150, 250);
    const wear = rng.uniform(0, 1);
    X.push([feed, speed, wear]);
    y.push(25 + 0.012 * wear * (1 + 6 * feed) - 0.00003 * (speed - 200) + offset + 0.0005 * rng.normal());
  }
  return { X, y };
}

describe('quality models in the registry', function () {
  this.timeout(60000);
  let root: string;
  const rng = new Rng(22);
  const a = parts(rng, 400);
  let fitted: Awaited<ReturnType<typeof fit>>;
  before(async () => {
    fitted = await fit(a.X, a.y, { task: 'regression', features: FEATURES });
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'takt-quality-reg-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const registration = () => qualityRegistration(fitted, a.X, a.y, { target: 'bore diameter' });

  it('registers a quality model with its kind, target, interval, drift reference and labelled held-out rows', async () => {
    const reg = new ModelRegistry(root, 'bore');
    const { card, champion } = await reg.register(registration(), { who: 'ana', why: 'first' });
    assert.equal(champion, true);
    assert.equal(card.domain, 'quality-regression');
    assert.equal(card.threshold, undefined, 'a quality model has no alarm threshold');
    assert.deepEqual(card.features, FEATURES);
    assert.equal(card.quality?.target, 'bore diameter');
    assert.equal(card.quality?.task, 'regression');
    assert.equal(card.quality?.conformal?.coverage, 0.9);
    assert.deepEqual(reg.card(1), card, 'the card reads back');
    const ref = reg.reference(1) as ReferenceSample;
    assert.equal(ref.scoreName, 'residual');
    assert.deepEqual(ref.score, fitted.split.residuals);
    assert.equal(ref.columns[0].length, fitted.split.train.length);
    const held = reg.labelledHoldout(1)!;
    assert.equal(held.rows.length, fitted.split.heldOut.length);
    assert.deepEqual(
      held.labels,
      fitted.split.heldOut.map((i) => a.y[i]),
    );
    // loading verifies it (hash, input width, a test row) without opening it as an anomaly scorer
    const { model } = await reg.load(1);
    assert.equal((model as { domain?: string }).domain, 'quality-regression');
    await assert.rejects(reg.open(1), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'models.qualityModel');
      assert.match(e.message, /bore v1 is a quality-regression model: takt-predict uses it/);
      return true;
    });
  });

  it('refuses a quality registration without its quality section, and a card of an unknown kind', async () => {
    const reg = new ModelRegistry(root, 'bore');
    const noQuality: Partial<ReturnType<typeof registration>> = registration();
    delete noQuality.quality;
    await assert.rejects(
      reg.register(noQuality as never, { who: 'ana', why: 'x' }),
      (e: Error & { code?: string }) =>
        e.code === 'models.badCard' && /lacks quality \(target, task\)/.test(e.message),
    );
    await assert.rejects(
      reg.register(
        { ...registration(), quality: { task: 'classification', target: 'x' } },
        { who: 'ana', why: 'x' },
      ),
      (e: Error & { code?: string }) =>
        e.code === 'models.badCard' && /quality\.task "regression"/.test(e.message),
    );
    assert.deepEqual(reg.versions(), [], 'nothing kept from a refused registration');
    await assert.rejects(
      reg.register({ ...registration(), domain: 'forecast' as never }, { who: 'ana', why: 'x' }),
      (e: Error & { code?: string }) => e.code === 'models.unknownDomain',
    );
    await reg.register(registration(), { who: 'ana', why: 'first' });
    const file = join(root, 'bore', 'v1.json');
    const card = JSON.parse(readFileSync(file, 'utf8')) as VersionCard;
    writeFileSync(file, JSON.stringify({ ...card, domain: 'forecast' }));
    assert.throws(
      () => reg.card(1),
      (e: Error & { code?: string }) => e.code === 'models.unknownDomain',
    );
    writeFileSync(file, JSON.stringify({ ...card, quality: { ...card.quality, target: '' } }));
    assert.throws(() => reg.card(1), /lacks quality\.target/);
  });

  it('keeps loading anomaly cards written before the card said what the model is', async () => {
    const reg = new ModelRegistry(root, 'pump');
    const rows = pumpRows(new Rng(3), 200);
    await reg.register({ onnx: pcaOnnx(rows), reference: rows }, { who: 'ana', why: 'first' });
    const file = join(root, 'pump', 'v1.json');
    const written = JSON.parse(readFileSync(file, 'utf8')) as VersionCard;
    assert.equal(written.domain, 'anomaly', 'a new card says what the model is');
    // a card written before `domain` existed has none: it is an anomaly card and keeps loading
    const card: Partial<VersionCard> = { ...written };
    delete card.domain;
    writeFileSync(file, JSON.stringify(card));
    assert.equal(reg.card(1).domain, undefined);
    const { model } = await reg.open(1);
    await model.dispose();
    // an anomaly card still needs its threshold
    const noThreshold: Partial<VersionCard> = { ...card };
    delete noThreshold.threshold;
    writeFileSync(file, JSON.stringify(noThreshold));
    assert.throws(() => reg.card(1), /the card of a anomaly model lacks threshold|lacks threshold/);
  });

  it('retrains a challenger on labelled rows after a shift and gates its promotion by held-out RMSE', async () => {
    const reg = new ModelRegistry(root, 'bore');
    await reg.register(registration(), { who: 'ana', why: 'first' });
    const b = parts(rng, 300, 0.004);
    const job = retrainQuality(reg, { rows: b.X, labels: b.y, who: 'flow', why: 'residual drift' });
    const r = await job.promise;
    assert.equal(r.card.version, 2);
    assert.equal(r.card.parent, 1);
    assert.equal(r.card.domain, 'quality-regression');
    assert.equal(r.card.training.rows, 240);
    assert.equal(reg.champion()?.version, 1, 'a retrained version is never champion by itself');
    assert.ok(r.challenger.rmse! < r.champion.rmse! / 2, `${r.challenger.rmse} vs ${r.champion.rmse}`);
    assert.deepEqual(r.card.quality?.evaluation?.challenger, r.challenger);
    assert.equal(reg.labelledHoldout(2)?.rows.length, 60);
    // v2 is better on its held-out rows: promotable; v1 against v2 as champion is worse: refused and audited
    const ok = await checkQualityPromotion(reg, 2, 1, { approvedBy: 'carla' });
    assert.ok(ok.challenger.rmse! < ok.champion.rmse!);
    await reg.promote(2, 'carla', 'better');
    // the first model again, held out on rows of the new lot: worse than v2 there, refused and audited
    const v3 = await reg.register(
      { ...registration(), holdout: b.X.slice(240), holdoutLabels: b.y.slice(240) },
      { who: 'ben', why: 'old model' },
    );
    await assert.rejects(
      checkQualityPromotion(reg, v3.card.version, 2, { approvedBy: 'carla' }),
      (e: Error & { code?: string }) =>
        e.code === 'models.worse' && /bore v3 not promoted: RMSE/.test(e.message),
    );
    assert.equal(reg.audit().at(-1)?.action, 'refused');
  });

  it('registers a classification model with its classes; model ops registers takt-predict-train output as quality', async () => {
    const good = a.y.map((v) => (v > 25.006 ? 1 : 0));
    const cls = await fit(a.X, good, { task: 'classification', features: FEATURES });
    const reg = new ModelRegistry(root, 'verdict');
    const r = qualityRegistration(cls, a.X, good, { target: 'good part' });
    const { card } = await reg.register(r, { who: 'ana', why: 'first' });
    assert.equal(card.domain, 'quality-classification');
    assert.deepEqual(card.quality?.classes, [0, 1]);
    // held-out errors of a classifier: one minus the probability of the measured class, in [0, 1]
    assert.ok(r.residuals.every((e) => e >= 0 && e <= 1));
    assert.equal(reg.reference(1)?.scoreName, 'residual');
    const { model } = await reg.load(1);
    assert.equal((model as { domain?: string }).domain, 'quality-classification');

    // a model file and takt-predict-train's card (msg.card) through model ops' register command
    const file = join(root, 'bore.onnx');
    writeFileSync(file, fitted.onnx);
    const server = new ChampionServer(new ModelRegistry(root, 'bore'));
    await server.start(0);
    const ops = new ModelOps(server);
    try {
      const out = (await ops.command('register', { file, target: 'bore diameter' }, { card: fitted.card }))
        .result as { card: VersionCard };
      assert.equal(out.card.domain, 'quality-regression');
      assert.equal(out.card.quality?.target, 'bore diameter');
      assert.equal(out.card.quality?.conformal?.quantile, fitted.card.conformal?.quantile);
      assert.equal(out.card.threshold, undefined);
    } finally {
      ops.dispose();
      await server.dispose();
    }
  });

  it('model ops records a quality model’s rows with their labels, refuses rows without, and no shadow', async () => {
    const reg = new ModelRegistry(root, 'bore');
    await reg.register(registration(), { who: 'ana', why: 'first' });
    const server = new ChampionServer(reg);
    await server.start(0);
    const ops = new ModelOps(server);
    try {
      assert.equal(ops.quality, true);
      assert.equal(await ops.score({ feed: 0.2, speed: 200, wear: 0.5 }, 'k1', 1, 25.01), undefined);
      await ops.score(
        [
          [0.2, 200, 0.5],
          [0.1, 180, 0.1],
        ],
        'k2',
        2,
        [25.01, 25.0],
      );
      assert.equal(ops.labelledRows, 3);
      await assert.rejects(
        ops.score({ feed: 0.2, speed: 200, wear: 0.5 }, 'k3', 3),
        (e: Error & { code?: string }) => e.code === 'models.noLabel' && /msg\.label/.test(e.message),
      );
      await assert.rejects(
        ops.command('shadow', { version: 1 }),
        (e: Error & { code?: string }) => e.code === 'models.qualityModel',
      );
    } finally {
      ops.dispose();
      await server.dispose();
    }
  });
});
