import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditLog } from '../../nodes/core/audit';
import { Rng } from '../../nodes/core/random';
import { ModelRegistry } from '../../nodes/models/registry';
import { ChampionServer, type ServerEvent } from '../../nodes/models/server';
import { sha256 } from '../../nodes/core/hash';
import { tabular } from '../../nodes/models/verify';
import type { ReferenceSample, VersionCard } from '../../nodes/models/types';
import { FEATURES, pcaOnnx, pumpRows } from './fixtures';
import { ROOT } from '../helpers/paths';

const who = (w: string, why = 'test') => ({ who: w, why });

describe('models: registry', function () {
  this.timeout(20000);
  let root: string;
  let reg: ModelRegistry;
  const rng = new Rng(21);
  const rowsA = pumpRows(rng, 1500);
  const rowsB = pumpRows(rng, 300, 1);
  const v1 = pcaOnnx(rowsA);
  const v2 = pcaOnnx(rowsB);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'takt-registry-'));
    reg = new ModelRegistry(root, 'pump');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('registers two versions: the first becomes champion, the second does not', async () => {
    const r1 = await reg.register({ onnx: v1, reference: rowsA, training: { rows: 1500 } }, who('ana'));
    assert.equal(r1.champion, true);
    const r2 = await reg.register({ onnx: v2, reference: rowsB }, who('ben'));
    assert.equal(r2.champion, false);
    assert.deepEqual(reg.versions(), [1, 2]);
    assert.equal(reg.champion()?.version, 1);
    const card = JSON.parse(readFileSync(join(root, 'pump', 'v2.json'), 'utf8')) as VersionCard;
    assert.equal(card.name, 'pump');
    assert.equal(card.version, 2);
    assert.equal(card.file, 'v2.onnx');
    assert.equal(card.sha256, sha256(v2));
    assert.deepEqual(card.features, FEATURES);
    assert.equal(card.kind, 'pca');
    assert.equal(card.approvedBy, null);
    assert.equal(card.createdBy, 'ben');
    assert.ok(Number.isFinite(card.threshold) && card.threshold! > 0);
    const ref = JSON.parse(readFileSync(join(root, 'pump', 'v1.ref.json'), 'utf8')) as ReferenceSample;
    assert.equal(ref.columns.length, 3);
    assert.equal(ref.columns[0].length, 1000, 'reference bounded to 1000 rows');
    assert.equal(ref.score?.length, 1000);
    assert.ok(ref.score!.every((s) => s >= 0 && s <= card.threshold! * 2));
    assert.deepEqual(
      reg.reference(2)?.columns[1],
      rowsB.map((r) => r[1]),
    );
  });

  it('promotes with an approver, rolls back to the first, and audits each step in a hash chain', async () => {
    await reg.register({ onnx: v1 }, who('ana', 'first model'));
    await reg.register({ onnx: v2 }, who('ben', 'new data'));
    await assert.rejects(reg.promote(2, '', 'no one'), { code: 'models.notApproved' });
    const p = await reg.promote(2, 'carla', 'better on line 2');
    assert.deepEqual(p.history, [1]);
    assert.equal(reg.champion()?.version, 2);
    assert.equal(reg.card(2).approvedBy, 'carla');
    await assert.rejects(reg.promote(2, 'carla', 'again'), { code: 'models.alreadyChampion' });
    const back = await reg.rollback(undefined, who('dan', 'false alarms on night shift'));
    assert.equal(back.version, 1);
    assert.deepEqual(back.history, []);
    await assert.rejects(reg.rollback(undefined, who('dan')), { code: 'models.noPrevious' });
    const fwd = await reg.rollback(2, who('dan', 'forward again'));
    assert.deepEqual([fwd.version, fwd.history], [2, [1]]);
    const log = reg.audit().map((e) => [e.action, e.who, e.from, e.to, e.why]);
    assert.deepEqual(log, [
      ['register', 'ana', null, 1, 'first model'],
      ['promote', 'ana', null, 1, 'first version of the model'],
      ['register', 'ben', 1, 2, 'new data'],
      ['promote', 'carla', 1, 2, 'better on line 2'],
      ['rollback', 'dan', 2, 1, 'false alarms on night shift'],
      ['rollback', 'dan', 1, 2, 'forward again'],
    ]);
    assert.ok(reg.audit().every((e) => !Number.isNaN(Date.parse(e.when))));
    const v = verifyAuditLog(reg.auditFile);
    assert.deepEqual([v.ok, v.records], [true, 6]);
  });

  it('refuses corrupt bytes, a wrong input shape, and a model without features, keeping nothing', async () => {
    await reg.register({ onnx: v1 }, who('ana'));
    await assert.rejects(reg.register({ onnx: Buffer.from('not a model at all') }, who('x')), {
      code: 'models.corrupt',
      message: /pump v2: not an ONNX model/,
    });
    await assert.rejects(reg.register({ onnx: v1, features: ['a', 'b', 'c', 'd'] }, who('x')), {
      code: 'models.signature',
      message: /takes 3 features, the card lists 4/,
    });
    await assert.rejects(reg.register({ onnx: v1, features: ['temp', 'flow', 'current'] }, who('x')), {
      code: 'models.signature',
      message: /trained on temp, current, flow/,
    });
    const four = pcaOnnx(
      pumpRows(rng, 200).map((r) => [...r, r[0] + rng.normal()]),
      ['temp', 'current', 'flow', 'extra'],
    );
    // a 4-feature file under a 3-feature card (the card edited by hand)
    await assert.rejects(reg.register({ onnx: four, features: FEATURES }, who('x')), {
      code: 'models.signature',
    });
    assert.deepEqual(reg.versions(), [1]);
    assert.equal(existsSync(join(root, 'pump', 'v2.onnx')), false);
    assert.equal(reg.audit().length, 2);
  });

  it('refuses to promote a changed file, a card that lost its model, a missing card, an unknown version', async () => {
    await reg.register({ onnx: v1 }, who('ana'));
    await reg.register({ onnx: v2 }, who('ben'));
    const dir = join(root, 'pump');
    // corrupt ONNX: a byte flipped after registration
    const bytes = Buffer.from(readFileSync(join(dir, 'v2.onnx')));
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(join(dir, 'v2.onnx'), bytes);
    await assert.rejects(reg.promote(2, 'carla', 'x'), { code: 'models.hashMismatch', message: /pump v2/ });
    writeFileSync(join(dir, 'v2.onnx'), v2);
    // wrong input shape: the card now lists four features
    const card = JSON.parse(readFileSync(join(dir, 'v2.json'), 'utf8')) as VersionCard;
    writeFileSync(join(dir, 'v2.json'), JSON.stringify({ ...card, features: [...FEATURES, 'extra'] }));
    await assert.rejects(reg.promote(2, 'carla', 'x'), {
      code: 'models.signature',
      message: /takes 3 features/,
    });
    unlinkSync(join(dir, 'v2.json'));
    await assert.rejects(reg.promote(2, 'carla', 'x'), {
      code: 'models.missingCard',
      message: /v2\.json is missing/,
    });
    await assert.rejects(reg.promote(9, 'carla', 'x'), {
      code: 'models.unknownVersion',
      message: /no version 9 \(has 1, 2\)/,
    });
    assert.equal(reg.champion()?.version, 1);
    assert.deepEqual(
      reg.audit().map((e) => e.action),
      ['register', 'promote', 'register'],
    );
  });

  it('serves the champion, hot-swaps on promotion and rollback, and keeps serving when a load fails', async () => {
    await reg.register({ onnx: v1 }, who('ana'));
    await reg.register({ onnx: v2 }, who('ben'));
    const server = new ChampionServer(reg);
    const events: ServerEvent[] = [];
    server.on((e) => events.push(e));
    await server.start(0);
    try {
      assert.equal(server.current?.version, 1);
      await reg.promote(2, 'carla', 'x');
      await server.refresh();
      assert.equal(server.current?.version, 2);
      const [row] = pumpRows(rng, 1, 1);
      const s = await tabular(server.current!.model, 'pump v2').score([row]);
      assert.equal(s[0].threshold, reg.card(2).threshold);
      // the pointer changed by hand to a version whose file is broken: v2 keeps serving
      writeFileSync(join(root, 'pump', 'v1.onnx'), 'garbage');
      writeFileSync(reg.pointerFile, JSON.stringify({ version: 1, since: '', by: 'someone', history: [] }));
      await server.refresh();
      assert.equal(server.current?.version, 2);
      assert.deepEqual(
        events.map((e) => (e.type === 'champion' ? `champion ${e.version}` : `error ${e.error.message}`)),
        [
          'champion 1',
          'champion 2',
          `error pump v1: ${'v1.onnx'} has SHA-256 ${sha256(Buffer.from('garbage')).slice(0, 12)}…, the card says ${sha256(v1).slice(0, 12)}… (file changed or corrupt)`,
        ],
      );
      writeFileSync(join(root, 'pump', 'v1.onnx'), v1);
      await server.refresh();
      assert.equal(server.current?.version, 1);
    } finally {
      await server.dispose();
    }
  });

  it('registers a vision model by its image input, serves it checked but unopened, and refuses to score rows with it', async () => {
    const img = new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'vision', 'classifier.onnx')));
    await assert.rejects(reg.register({ onnx: img, domain: 'vision' }, who('ana')), /threshold/);
    await assert.rejects(
      reg.register({ onnx: v1, domain: 'vision', threshold: 1 }, who('ana')),
      (e: Error & { code?: string }) => e.code === 'models.signature' && /\[1, 1\|3, H, W\]/.test(e.message),
    );
    assert.deepEqual(reg.versions(), []);
    const { card, champion } = await reg.register(
      { onnx: img, domain: 'vision', threshold: 0.5, kind: 'classifier' },
      who('ana'),
    );
    assert.ok(champion);
    assert.deepEqual(
      [card.domain, card.image, card.features],
      ['vision', { channels: 3, height: 48, width: 64 }, []],
    );
    await assert.rejects(reg.open(1), (e: Error & { code?: string }) => e.code === 'models.visionModel');
    const server = new ChampionServer(reg);
    try {
      await server.start(0);
      assert.equal(server.current?.version, 1);
      assert.throws(() => tabular(server.current!.model, 'x v1'), /vision model/);
    } finally {
      await server.dispose();
    }
    writeFileSync(reg.path(1), Buffer.concat([Buffer.from(img), Buffer.from([0])]));
    await assert.rejects(reg.load(1), (e: Error & { code?: string }) => e.code === 'models.hashMismatch');
  });

  it('refuses a model name that is not a plain folder name', () => {
    assert.throws(() => new ModelRegistry(root, '../etc'), { code: 'models.badName' });
    assert.throws(() => new ModelRegistry(root, ''), { code: 'models.badName' });
  });
});
