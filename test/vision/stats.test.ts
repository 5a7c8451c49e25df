/**
 * Image statistics and their drift: known values of brightness, contrast and focus, and drift reports on
 * synthetic parts that get darker or blurred (a dirty lens), against the training images or the first images.
 */
import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { encodePng } from '../../nodes/vision/image';
import { Inspector } from '../../nodes/vision/inspector';
import { train } from '../../nodes/vision/model';
import { ImageDrift, imageStats, statsReference, type ImageStats } from '../../nodes/vision/stats';
import { renderPart, type RawImage } from '../../nodes/sim/synth';

const SIZE = 96;

/** A raw frame as a model tensor (CHW in [0, 1]). */
function tensor(img: RawImage): Float32Array {
  const n = img.width * img.height;
  const t = new Float32Array(n * img.channels);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < img.channels; c++) t[c * n + i] = img.data[i * img.channels + c]! / 255;
  return t;
}

/** A 3x3 box blur, `passes` times (out of focus, or a film on the lens). */
function blur(img: RawImage, passes: number): RawImage {
  let d = Uint8Array.from(img.data);
  const { width: w, height: h, channels: ch } = img;
  for (let p = 0; p < passes; p++) {
    const o = new Uint8Array(d.length);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < ch; c++) {
          let s = 0;
          let k = 0;
          for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++)
            for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++) {
              s += d[(yy * w + xx) * ch + c]!;
              k++;
            }
          o[(y * w + x) * ch + c] = Math.round(s / k);
        }
    d = o;
  }
  return { ...img, data: d };
}

const darker = (img: RawImage, f: number): RawImage => ({
  ...img,
  data: img.data.map((v) => Math.round(v * f)),
});

const stats = (img: RawImage): ImageStats => imageStats(tensor(img), img.channels, img.width, img.height);
const part = (seed: number) => renderPart('casting', seed, { size: SIZE });

describe('vision: image statistics', () => {
  it('measures brightness, contrast and focus of known images', () => {
    const flat = imageStats(new Float32Array(16 * 16).fill(0.5), 1, 16, 16);
    assert.ok(Math.abs(flat.brightness - 127.5) < 1e-4);
    assert.ok(flat.contrast < 1e-3);
    assert.equal(flat.focus, 0);
    // Alternating black and white columns: every interior Laplacian is +-2 * 255, so its variance is 510^2.
    const stripes = new Float32Array(16 * 16).map((_, i) => (i % 2 === 0 ? 0 : 1));
    const s = imageStats(stripes, 1, 16, 16);
    assert.ok(Math.abs(s.brightness - 127.5) < 1e-3);
    assert.ok(Math.abs(s.contrast - 127.5) < 1e-3);
    assert.ok(Math.abs(s.focus - 510 * 510) < 1);
    // Colour uses the luminance weights: pure green at 1 is 0.587 * 255.
    const green = new Float32Array(3 * 4 * 4);
    green.fill(1, 16, 32);
    assert.ok(Math.abs(imageStats(green, 3, 4, 4).brightness - 0.587 * 255) < 1e-3);
  });

  it('sees blur as lower focus and a darker image as lower brightness and contrast', () => {
    const img = part(1);
    const base = stats(img);
    const blurred = stats(blur(img, 2));
    const dark = stats(darker(img, 0.6));
    assert.ok(blurred.focus < base.focus * 0.5, `${blurred.focus} vs ${base.focus}`);
    assert.ok(Math.abs(blurred.brightness - base.brightness) < 2);
    assert.ok(Math.abs(dark.brightness - 0.6 * base.brightness) < 1);
    assert.ok(dark.contrast < base.contrast * 0.65);
  });
});

describe('vision: image drift', function () {
  this.timeout(60_000);
  // The training reference: 60 good parts (lighting changes and misplacement are part of normal).
  const training = Array.from({ length: 60 }, (_, i) => stats(part(1000 + i)));
  const reference = statsReference(training);

  it('stays quiet on good parts like the training ones', () => {
    const d = new ImageDrift(reference, { window: 30, step: 5 });
    assert.equal(d.basis, 'training');
    const reports = [];
    for (let i = 0; i < 60; i++) {
      const r = d.push(stats(part(5000 + i)));
      if (r) reports.push(r);
    }
    assert.ok(reports.length >= 5);
    for (const r of reports) assert.equal(r.drift, false, JSON.stringify(r.features));
  });

  it('reports a dirty lens (blur) as lost focus, and new lighting as darker images', () => {
    for (const [shift, stat, words] of [
      [(img: RawImage) => blur(img, 2), 'focus', /blurrier than in training .*dirty lens or focus/],
      [(img: RawImage) => darker(img, 0.7), 'brightness', /darker than in training .*lighting changed/],
    ] as const) {
      const d = new ImageDrift(reference, { window: 30, step: 5 });
      for (let i = 0; i < 30; i++) assert.equal(d.push(stats(part(6000 + i)))?.drift ?? false, false);
      let first: number | undefined;
      for (let i = 0; i < 30 && first === undefined; i++) {
        const r = d.push(stats(shift(part(7000 + i))));
        if (r?.drift) {
          first = i;
          assert.ok(r.moved.includes(stat), `${stat} in ${r.moved.join(', ')}`);
          assert.ok(
            r.warnings.some((w) => words.test(w)),
            r.warnings.join(' | '),
          );
          assert.match(r.recommendation, /check the camera/);
          assert.equal(r.retrain, false);
        }
      }
      assert.ok(first !== undefined, `${stat}: no drift reported within 30 shifted images`);
    }
  });

  it('takes the first images as the reference when the model has none', () => {
    const d = new ImageDrift(undefined, { window: 20, step: 5, warmup: 40 });
    assert.equal(d.basis, 'first images');
    for (let i = 0; i < 40; i++) assert.equal(d.push(stats(part(8000 + i))), undefined);
    assert.equal(d.warmingUp, 0);
    let drift = false;
    for (let i = 0; i < 40 && !drift; i++) drift = d.push(stats(blur(part(9000 + i), 2)))?.drift ?? false;
    assert.ok(drift);
    assert.equal(d.report!.basis, 'first images');
  });

  it("keeps the training images' statistics in the model card as the drift reference", async () => {
    const goods = await Promise.all(
      Array.from({ length: 12 }, (_, i) => encodePng(renderPart('washer', 40 + i, { size: 64 }))),
    );
    const m = await train(goods, { size: 64, grid: 8, bankSize: 64, register: false });
    const ref = m.card.imageStats!;
    assert.deepEqual(ref.features, ['brightness', 'contrast', 'focus']);
    assert.equal(ref.columns[0]!.length, 12);
    const insp = await Inspector.load(m.onnx);
    try {
      assert.deepEqual(insp.imageReference, ref);
      const r = await insp.inspect(goods[0]!);
      // The statistics of an image judged are those of the same image in training.
      ref.features.forEach((k, j) =>
        assert.ok(
          Math.abs(r.stats[k as keyof ImageStats] - ref.columns[j]![0]!) <
            1e-3 * Math.max(1, ref.columns[j]![0]!),
        ),
      );
    } finally {
      await insp.close();
    }
  });

  it('refuses a warm-up too short to be a reference', () => {
    assert.throws(
      () => new ImageDrift(undefined, { warmup: 5 }),
      (e: TaktError) => e.code === 'vision.badOption',
    );
  });
});
