import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import {
  loadTrainedModel,
  META,
  modelKinds,
  modelToOnnx,
  OnnxAnomalyModel,
  registerModelKind,
  saveModel,
  scoreMatrix,
  scoreSeries,
  type TrainOptions,
  trainModel,
  unregisterModelKind,
} from '../../nodes/anomaly';
import { TaktError } from '../../nodes/core/errors';
import { ROOT } from '../helpers/paths';
import { zscore } from './zscore-kind';

const FIXTURES = join(ROOT, 'test', 'anomaly', 'fixtures');

/** Models written and scored by the anomaly engine at b23294b (before the kind registry and the core trainer). */
const REF = JSON.parse(readFileSync(join(FIXTURES, 'anomaly-reference.json'), 'utf8')) as {
  features: string[];
  train: number[];
  drifting: number[];
  test: number[];
  cases: {
    name: string;
    file: string;
    options: TrainOptions;
    metrics: Record<string, number>;
    threshold: number;
    smoothedThreshold: number;
    inProcess: { score: number[]; contributions: number[] };
    onnxruntime: { score: number[]; contributions: number[][] };
  }[];
};
const D = REF.features.length;
const N_TEST = REF.test.length / D;
const testRows = Array.from({ length: N_TEST }, (_, i) => REF.test.slice(i * D, (i + 1) * D));

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  assert.ok(worst <= tol, `${what}: max |new - old| = ${worst}`);
}

/** The model's bytes with the card's kind (and takt.kind) replaced. */
function withKind(bytes: Uint8Array, kind: string): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  for (const p of m.metadataProps) {
    if (p.key === META.kind) p.value = kind;
    if (p.key === META.card) p.value = JSON.stringify({ ...(JSON.parse(p.value ?? '{}') as object), kind });
  }
  return onnx.ModelProto.encode(m).finish();
}

describe('anomaly model kinds: a registry, and files of earlier versions unchanged', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'takt-kinds-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of REF.cases) {
    describe(`${c.name} (written by the earlier version)`, () => {
      const file = join(FIXTURES, c.file);

      it('onnxruntime scores it as before (1e-6)', async () => {
        const m = await OnnxAnomalyModel.load(file);
        try {
          const r = await m.score(testRows);
          close(
            r.map((x) => x.score),
            c.onnxruntime.score,
            1e-6,
            'score',
          );
          close(
            r.flatMap((x) => REF.features.map((f) => x.contributions[f])),
            c.onnxruntime.contributions.flat(),
            1e-6,
            'contributions',
          );
        } finally {
          await m.dispose();
        }
      });

      it('its kind module reads it back and scores in process as the earlier version did (1e-6)', () => {
        const bytes = readFileSync(file);
        const t = loadTrainedModel(bytes, c.file);
        assert.equal(t.params.kind, c.options.kind);
        assert.ok(Buffer.from(modelToOnnx(t)).equals(bytes), 're-exported as written');
        const s = scoreSeries(t, REF.test, N_TEST);
        close(s.score, c.inProcess.score, 1e-6, 'score');
        close(s.contributions, c.inProcess.contributions, 1e-6, 'contributions');
      });

      it('training with the same options and seed writes the same file, byte for byte', () => {
        const X = Float64Array.from(c.name.includes('baseline') ? REF.drifting : REF.train);
        // the earlier version's defaults of the options added since (following off, no hold after an alarm)
        const t = trainModel(X, X.length / D, REF.features, { follow: 0, followHold: 0, ...c.options });
        assert.deepEqual(t.card.metrics, c.metrics);
        assert.equal(t.card.threshold, c.threshold);
        assert.equal(t.card.smoothedThreshold, c.smoothedThreshold);
        const old = readFileSync(file);
        const oldCard = loadTrainedModel(old).card;
        t.card.trainedAt = oldCard.trainedAt;
        assert.ok(Buffer.from(modelToOnnx(t)).equals(old), 'same bytes');
      });
    });
  }

  it('refuses a model card whose kind is not registered, naming the registered kinds', () => {
    const bytes = withKind(readFileSync(join(FIXTURES, 'anomaly-pca.onnx')), 'forest');
    assert.throws(
      () => loadTrainedModel(bytes, 'forest.onnx'),
      (e: TaktError) =>
        e instanceof TaktError &&
        e.code === 'anomaly.unknownKind' &&
        e.field === 'kind' &&
        /"forest" is not a model kind \(registered: pca, autoencoder, mset\)/.test(e.message),
    );
    // the same refusal wherever a kind is looked up: scoring, export, training
    const t = loadTrainedModel(readFileSync(join(FIXTURES, 'anomaly-pca.onnx')));
    const forest = { ...t.params, kind: 'forest' };
    assert.throws(() => scoreMatrix(forest, REF.test, N_TEST), { code: 'anomaly.unknownKind' });
    assert.throws(() => modelToOnnx({ params: forest, card: { ...t.card, kind: 'forest' } }), {
      code: 'anomaly.unknownKind',
    });
    assert.throws(() => trainModel(Float64Array.from(REF.train), 240, REF.features, { kind: 'forest' }), {
      code: 'anomaly.badOption',
    });
    // a card that disagrees with its parameters is not written
    assert.throws(() => modelToOnnx({ params: t.params, card: { ...t.card, kind: 'mset' } }), {
      code: 'anomaly.badModel',
    });
  });

  it('refuses a file that is not a Takt anomaly model', () => {
    assert.throws(() => loadTrainedModel(new TextEncoder().encode('nope')), { code: 'anomaly.notOnnx' });
    const m = onnx.ModelProto.decode(readFileSync(join(FIXTURES, 'anomaly-pca.onnx')));
    m.metadataProps = m.metadataProps.filter((p) => p.key !== META.card);
    assert.throws(() => loadTrainedModel(onnx.ModelProto.encode(m).finish()), {
      code: 'anomaly.notOnnx',
      message: /no model card/,
    });
  });

  describe('a new kind is one module', () => {
    afterEach(() => unregisterModelKind('zscore'));

    it('a kind from a test-local module trains, calibrates, scores, exports and loads through the normal path', async () => {
      registerModelKind(zscore);
      assert.deepEqual(modelKinds(), ['pca', 'autoencoder', 'mset', 'zscore']);
      const X = Float64Array.from(REF.train);
      // fixed levels, so that onnxruntime and scoreMatrix score the same rows alike
      const t = trainModel(X, 240, REF.features, { kind: 'zscore', thresholdQuantile: 0.99, follow: 0 });
      assert.equal(t.card.kind, 'zscore');
      assert.equal(t.card.calibration, 'blocked');
      assert.ok(t.card.threshold > 0 && Number.isFinite(t.card.smoothedThreshold));
      // in process: the mean squared z-score of a row at the training mean is 0; 2 sd off in one feature is 4/d
      const mean = t.card.range.mean;
      const sd = REF.features.map((_, j) => {
        let s = 0;
        for (let i = 0; i < 240; i++) s += (X[i * D + j] - mean[j]) ** 2 / 239;
        return Math.sqrt(s);
      });
      const probe = [...mean, ...mean.map((v, j) => (j === 1 ? v + 2 * sd[1] : v))];
      const s = scoreMatrix(t.params, probe, 2);
      assert.ok(Math.abs(s.score[0]) < 1e-9, String(s.score[0]));
      assert.ok(Math.abs(s.score[1] - 4 / D) < 1e-5, String(s.score[1]));
      assert.ok(Math.abs(s.contributions[D + 1] - 4 / D) < 1e-5);
      // export, onnxruntime, and back
      const { model } = saveModel(t, dir, 'zscore');
      const m = await OnnxAnomalyModel.load(model);
      try {
        assert.equal(m.metadata[META.kind], 'zscore');
        const r = await m.score(testRows);
        const ref = scoreMatrix(t.params, REF.test, N_TEST);
        close(
          r.map((x) => x.score),
          ref.score,
          1e-6,
          'onnxruntime vs in process',
        );
      } finally {
        await m.dispose();
      }
      const back = loadTrainedModel(readFileSync(model));
      assert.equal(back.params.kind, 'zscore');
      close(
        scoreMatrix(back.params, REF.test, N_TEST).score,
        scoreMatrix(t.params, REF.test, N_TEST).score,
        0,
        'loaded',
      );
      assert.ok(Buffer.from(modelToOnnx(back)).equals(readFileSync(model)), 're-exported as written');
    });

    it('refuses a second registration, a built-in name and a name that is not plain; unregistered, the kind is unknown', () => {
      registerModelKind(zscore);
      assert.throws(() => registerModelKind(zscore), {
        code: 'anomaly.badOption',
        message: /already registered/,
      });
      assert.throws(() => registerModelKind({ ...zscore, kind: 'pca' }), { code: 'anomaly.badOption' });
      assert.throws(() => registerModelKind({ ...zscore, kind: 'no good' }), { code: 'anomaly.badOption' });
      unregisterModelKind('zscore');
      unregisterModelKind('pca');
      assert.deepEqual(modelKinds(), ['pca', 'autoencoder', 'mset']);
      assert.throws(() => trainModel(Float64Array.from(REF.train), 240, REF.features, { kind: 'zscore' }), {
        code: 'anomaly.badOption',
      });
    });
  });
});
