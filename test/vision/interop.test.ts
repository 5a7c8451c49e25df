/**
 * Models made elsewhere: the anomalib-style graphs and the classifier in test/fixtures/vision (made with
 * PyTorch by make_fixtures.py) score the committed images as PyTorch did, within the tolerance the
 * references name (1e-4), and bad model files get clear errors.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaktError } from '../../nodes/core/errors';
import { sha256 } from '../../nodes/core/hash';
import { Inspector } from '../../nodes/vision/inspector';
import { readForeignSpec } from '../../nodes/vision/interop';
import { encodePng } from '../../nodes/vision/image';
import { ROOT } from '../helpers/paths';

const DIR = join(ROOT, 'test', 'fixtures', 'vision');
const image = (name: string) => new Uint8Array(readFileSync(join(DIR, 'images', name)));

interface References {
  tolerance: number;
  anomalib: Record<
    string,
    Record<string, { score: number; mapMean: number; points: [number, number, number][] }>
  >;
  classifier: Record<string, { probabilities: number[]; label: string }>;
}
const REF = JSON.parse(readFileSync(join(DIR, 'references.json'), 'utf8')) as References;
const TOL = REF.tolerance;

async function rejects(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TaktError, `expected a TaktError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (text) assert.match(err.message, text);
    return;
  }
  assert.fail(`expected ${code}`);
}

describe('vision: anomalib-style models (PyTorch fixtures)', () => {
  for (const variant of ['anomalib-in', 'anomalib-out']) {
    describe(variant, () => {
      let insp: Inspector;
      const meta = JSON.parse(readFileSync(join(DIR, variant, 'metadata.json'), 'utf8')) as {
        image_threshold: number;
      };
      before(async () => {
        insp = await Inspector.load(join(DIR, variant, 'model.onnx'));
      });
      after(() => insp.close());

      it('is read as an anomaly model with its normalisation where the metadata puts it', () => {
        assert.equal(insp.kind, 'anomalib');
        const s = insp.spec!;
        assert.equal(s.width, 64);
        assert.equal(s.height, 64);
        assert.equal(s.channels, 3);
        assert.equal(s.normalisation, variant === 'anomalib-in' ? 'graph' : 'outside');
        assert.equal(s.mapOutput, 'anomaly_map');
        assert.equal(s.scoreOutput, 'pred_score');
        assert.equal(s.threshold, meta.image_threshold);
      });

      for (const name of Object.keys(REF.anomalib[variant]!))
        it(`scores ${name} as PyTorch did (score and map within ${TOL})`, async () => {
          const ref = REF.anomalib[variant]![name]!;
          const r = await insp.inspect(image(name));
          assert.ok(Math.abs(r.score - ref.score) <= TOL, `score ${r.score} vs ${ref.score}`);
          assert.equal(r.threshold, meta.image_threshold);
          assert.equal(r.anomalous, ref.score > meta.image_threshold);
          assert.equal(r.map!.width, 64);
          assert.equal(r.map!.height, 64);
          const mean = r.map!.data.reduce((a, b) => a + b, 0) / r.map!.data.length;
          assert.ok(Math.abs(mean - ref.mapMean) <= TOL, `map mean ${mean} vs ${ref.mapMean}`);
          for (const [y, x, v] of ref.points) {
            const got = r.map!.data[y * 64 + x]!;
            assert.ok(Math.abs(got - v) <= TOL, `map(${y},${x}) ${got} vs ${v}`);
          }
          assert.deepEqual(r.warnings, []);
        });
    });
  }

  it('finds the defects of the anomalous images as boxes, and none on the good one', async () => {
    const insp = await Inspector.load(join(DIR, 'anomalib-out', 'model.onnx'));
    try {
      const good = await insp.inspect(image('good-rgb.png'), { heatmap: true });
      assert.equal(good.anomalous, false);
      assert.deepEqual(good.defects, []);
      const spot = await insp.inspect(image('spot-rgb.png'), { heatmap: true });
      assert.equal(spot.anomalous, true);
      assert.ok(spot.defects.length >= 1);
      const d = spot.defects[0]!;
      assert.ok(d.w > 0 && d.h > 0 && d.x >= 0 && d.y >= 0 && d.x + d.w <= 64 && d.y + d.h <= 64);
      assert.ok(Math.abs(d.score - Math.max(...spot.map!.data)) < 1e-6);
      assert.deepEqual([...spot.heatmap!.subarray(1, 4)], [0x50, 0x4e, 0x47]); // PNG
    } finally {
      await insp.close();
    }
  });

  it('resizes an image of another size, with a warning when its aspect differs', async () => {
    const insp = await Inspector.load(join(DIR, 'anomalib-in', 'model.onnx'));
    try {
      const data = new Uint8Array(96 * 64 * 3).fill(140);
      const r = await insp.inspect(await encodePng({ width: 96, height: 64, channels: 3, data }));
      assert.equal(r.image.width, 96);
      assert.equal(r.warnings.length, 1);
      assert.match(r.warnings[0]!, /aspect 96x64/);
      assert.ok(Number.isFinite(r.score));
    } finally {
      await insp.close();
    }
  });

  it('takes the metadata from the load options when given bytes, and refuses bytes without thresholds', async () => {
    const bytes = new Uint8Array(readFileSync(join(DIR, 'anomalib-in', 'model.onnx')));
    const meta = JSON.parse(readFileSync(join(DIR, 'anomalib-in', 'metadata.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const insp = await Inspector.load(bytes, { metadata: meta });
    const ref = REF.anomalib['anomalib-in']!['scratch-rgb.png']!;
    assert.ok(Math.abs((await insp.inspect(image('scratch-rgb.png'))).score - ref.score) <= TOL);
    await insp.close();
    await rejects(Inspector.load(bytes), 'vision.badMetadata', /image_threshold/);
  });
});

describe('vision: classifiers (PyTorch fixture)', () => {
  let insp: Inspector;
  before(async () => {
    insp = await Inspector.load(join(DIR, 'classifier.onnx'));
  });
  after(() => insp.close());

  it('is read as a classifier with its labels, size and normalisation from the ONNX metadata', () => {
    assert.equal(insp.kind, 'classifier');
    const s = insp.spec!;
    assert.deepEqual(s.labels, ['good', 'scratch', 'spot', 'stain']);
    assert.equal(s.goodLabel, 'good');
    assert.equal(s.width, 64);
    assert.equal(s.height, 48);
    assert.equal(s.normalisation, 'outside');
  });

  for (const name of Object.keys(REF.classifier))
    it(`classifies ${name} as PyTorch did (probabilities within ${TOL})`, async () => {
      const ref = REF.classifier[name]!;
      const r = await insp.inspect(image(name));
      assert.equal(r.label, ref.label);
      const labels = insp.spec!.labels!;
      labels.forEach((l, i) => {
        const got = r.probabilities![l]!;
        assert.ok(Math.abs(got - ref.probabilities[i]!) <= TOL, `${l}: ${got} vs ${ref.probabilities[i]}`);
      });
      assert.ok(Math.abs(r.score - (1 - ref.probabilities[0]!)) <= TOL);
      assert.equal(r.threshold, 0.5);
      assert.equal(r.anomalous, r.score > 0.5);
      assert.deepEqual(r.defects, []);
      assert.equal(r.map, undefined);
    });
});

describe('vision: bad model files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'takt-interop-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a model file that fails its hash, and loads it with the right one', async () => {
    const path = join(DIR, 'classifier.onnx');
    const hash = sha256(new Uint8Array(readFileSync(path)));
    await rejects(
      Inspector.load(path, { sha256: '0'.repeat(64) }),
      'vision.hashMismatch',
      /expected 000000000000/,
    );
    const insp = await Inspector.load(path, { sha256: hash.toUpperCase() });
    assert.equal(insp.sha256, hash);
    await insp.close();
  });

  it('refuses metadata whose image size does not match the graph input', async () => {
    copyFileSync(join(DIR, 'anomalib-in', 'model.onnx'), join(dir, 'model.onnx'));
    const meta = JSON.parse(readFileSync(join(DIR, 'anomalib-in', 'metadata.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ ...meta, image_size: [32, 48] }));
    await rejects(Inspector.load(join(dir, 'model.onnx')), 'vision.shapeMismatch', /1,3,64,64.*32x48/);
    writeFileSync(join(dir, 'metadata.json'), '{ not json');
    await rejects(Inspector.load(join(dir, 'model.onnx')), 'vision.badMetadata', /not a JSON object/);
  });

  it('refuses a model whose input is not an image batch', async () => {
    const tabular = join(ROOT, 'test', 'anomaly', 'fixtures', 'anomaly-pca.onnx');
    await rejects(
      Inspector.load(tabular, { metadata: { image_threshold: 1 } }),
      'vision.shapeMismatch',
      /\[1,3,H,W\]/,
    );
  });

  it('refuses a classifier whose labels do not match its output', async () => {
    const bytes = new Uint8Array(readFileSync(join(DIR, 'classifier.onnx')));
    assert.throws(
      () => readForeignSpec(bytes, { task: 'classification', labels: ['good', 'bad'], image_size: [48, 64] }),
      (e: TaktError) => e.code === 'vision.shapeMismatch' && /4 values .* 2 labels/.test(e.message),
    );
    assert.throws(
      () =>
        readForeignSpec(bytes, { task: 'classification', labels: ['a', 'b', 'c', 'd'], good_label: 'ok' }),
      (e: TaktError) => e.code === 'vision.badMetadata',
    );
  });

  it('refuses bytes that are not ONNX', async () => {
    await rejects(Inspector.load(new TextEncoder().encode('not a model at all')), 'vision.notOnnx');
  });
});
