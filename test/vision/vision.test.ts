import assert from 'node:assert/strict';
import sharp from 'sharp';
import { onnx } from 'onnx-proto';
import { openOnnxSession } from '../../nodes/core/onnx';
import { TaktError } from '../../nodes/core/errors';
import { Rng } from '../../nodes/core/random';
import {
  extractorModel,
  positions,
  scorerModel,
  type ExtractorSpec,
  type ScorerParams,
} from '../../nodes/vision/graph';
import { decodeBmp, encodeBmp, encodePng, prepare, sniffFormat } from '../../nodes/vision/image';
import {
  CARD_KEY,
  Inspector,
  kCenterCoreset,
  localGaussian,
  mapRegions,
  thresholdFromGood,
  train,
  type TrainResult,
} from '../../nodes/vision/model';
import { findPose, poseMap, thumbnail, warp } from '../../nodes/vision/register';
import { renderPart, type RawImage } from '../../nodes/sim/synth';

/** A small image with a known pattern: value = (x * 7 + y * 13 + c * 50) mod 256. */
function pattern(width: number, height: number, channels: 1 | 3): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++)
        data[(y * width + x) * channels + c] = (x * 7 + y * 13 + c * 50) % 256;
  return { width, height, channels, data };
}

async function encode(img: RawImage, format: 'png' | 'jpeg' | 'tiff'): Promise<Uint8Array> {
  const s = sharp(Buffer.from(img.data), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  }).toColourspace(img.channels === 1 ? 'b-w' : 'srgb');
  const b = await (
    format === 'png' ? s.png() : format === 'jpeg' ? s.jpeg({ quality: 95 }) : s.tiff({ compression: 'lzw' })
  ).toBuffer();
  return new Uint8Array(b);
}

async function rejects(p: Promise<unknown>, code: string): Promise<TaktError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TaktError, `expected a TaktError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** A 64 x 64 designed-bank spec on an 8 x 8 grid, and its feature width. */
function smallSpec(channels: 1 | 3, extra: Partial<ExtractorSpec> = {}): { spec: ExtractorSpec; D: number } {
  const spec: ExtractorSpec = {
    size: 64,
    channels,
    grid: 8,
    bank: 'designed',
    levels: 3,
    contrastNorm: true,
    ...extra,
  };
  return { spec, D: extractorModel(spec).width };
}

/** Runs the feature graph and the scorer graph of `spec` on one image: raw patches, map and score. */
async function runGraphs(
  spec: ExtractorSpec,
  params: ScorerParams,
  img: Float32Array,
): Promise<{ patches: Float32Array; map: Float32Array; score: number }> {
  const fail = (r: string) => new Error(r);
  const e = await openOnnxSession(extractorModel(spec).onnx, fail);
  const feeds = { image: new e.ort.Tensor('float32', img, [1, spec.channels, spec.size, spec.size]) };
  const patches = (await e.session.run(feeds, ['patches'])).patches!.data as Float32Array;
  const s = await openOnnxSession(scorerModel(spec, params, {}), fail);
  const out = await s.session.run(feeds, ['map', 'score']);
  await e.session.release();
  await s.session.release();
  return {
    patches,
    map: out.map!.data as Float32Array,
    score: (out.score!.data as Float32Array)[0]!,
  };
}

describe('vision: decoding and preparation', () => {
  it('recognises PNG, JPEG, BMP and TIFF by their magic bytes and nothing else', async () => {
    const img = pattern(16, 16, 3);
    assert.equal(sniffFormat(await encode(img, 'png')), 'png');
    assert.equal(sniffFormat(await encode(img, 'jpeg')), 'jpeg');
    assert.equal(sniffFormat(await encode(img, 'tiff')), 'tiff');
    assert.equal(sniffFormat(encodeBmp(img)), 'bmp');
    assert.equal(sniffFormat(new TextEncoder().encode('GIF89a......')), null);
  });

  for (const format of ['png', 'tiff', 'bmp', 'raw'] as const) {
    it(`decodes ${format} losslessly to the model tensor (grey and colour)`, async () => {
      for (const channels of [1, 3] as const) {
        const img = pattern(32, 32, channels);
        const input = format === 'raw' ? img : format === 'bmp' ? encodeBmp(img) : await encode(img, format);
        const p = await prepare(input, { size: 32, channels });
        assert.equal(p.tensor.length, 32 * 32 * channels);
        assert.deepEqual(p.warnings, []);
        for (const [x, y, c] of [
          [0, 0, 0],
          [5, 9, 0],
          [31, 31, channels - 1],
          [17, 3, channels - 1],
        ] as const)
          assert.equal(
            Math.round(p.tensor[c * 1024 + y * 32 + x]! * 255),
            (x * 7 + y * 13 + c * 50) % 256,
            `${format} ${channels}ch at ${x},${y},${c}`,
          );
      }
    });
  }

  it('decodes JPEG to within its compression error', async () => {
    const img = { width: 32, height: 32, channels: 1 as const, data: new Uint8Array(1024) };
    for (let i = 0; i < 1024; i++) img.data[i] = 40 + Math.round(((i % 32) / 31) * 150);
    const p = await prepare(await encode(img, 'jpeg'), { size: 32, channels: 1 });
    let worst = 0;
    for (let i = 0; i < 1024; i++) worst = Math.max(worst, Math.abs(p.tensor[i]! * 255 - img.data[i]!));
    assert.ok(worst < 6, `JPEG error ${worst}`);
  });

  it('converts colour to grey and grey to colour for the model it feeds', async () => {
    const colour = pattern(8, 8, 3);
    const grey = await prepare(colour, { size: 8, channels: 1 });
    assert.equal(grey.tensor.length, 64);
    const toColour = await prepare(pattern(8, 8, 1), { size: 8, channels: 3 });
    assert.equal(toColour.tensor.length, 192);
    assert.equal(toColour.tensor[10], toColour.tensor[64 + 10]);
  });

  it('reads BMP rows bottom-up and top-down alike', () => {
    const img = pattern(5, 3, 3);
    const bmp = encodeBmp(img);
    assert.deepEqual(decodeBmp(bmp).data, img.data);
    const topDown = bmp.slice();
    new DataView(topDown.buffer).setInt32(22, -3, true);
    const rows = decodeBmp(topDown).data;
    assert.deepEqual(rows.subarray(0, 15), img.data.subarray(30, 45));
  });

  it('crops the region of interest and refuses one outside the image', async () => {
    const img = pattern(40, 30, 1);
    const p = await prepare(await encode(img, 'png'), {
      size: 10,
      channels: 1,
      roi: { x: 20, y: 10, w: 10, h: 10 },
    });
    assert.equal(Math.round(p.tensor[0]! * 255), (20 * 7 + 10 * 13) % 256);
    assert.deepEqual(p.roi, { x: 20, y: 10, w: 10, h: 10 });
    await rejects(
      prepare(img, { size: 10, channels: 1, roi: { x: 35, y: 0, w: 10, h: 10 } }),
      'vision.badRoi',
    );
  });

  it('resizes an image of another aspect with a warning, and a square one without', async () => {
    const wide = await prepare(pattern(64, 32, 1), { size: 16, channels: 1 });
    assert.equal(wide.tensor.length, 256);
    assert.equal(wide.warnings.length, 1);
    assert.match(wide.warnings[0]!, /aspect 64x32/);
    const square = await prepare(pattern(64, 64, 1), { size: 16, channels: 1 });
    assert.deepEqual(square.warnings, []);
  });

  it('refuses truncated and corrupt bytes, unknown formats, oversized images and bad raw frames', async () => {
    const png = await encode(pattern(64, 64, 3), 'png');
    await rejects(prepare(png.subarray(0, 120), { size: 16, channels: 1 }), 'vision.badImage');
    const corrupt = png.slice();
    for (let i = 60; i < corrupt.length - 20; i += 7) corrupt[i] ^= 0x5a;
    await rejects(prepare(corrupt, { size: 16, channels: 1 }), 'vision.badImage');
    const jpeg = await encode(pattern(64, 64, 3), 'jpeg');
    await rejects(prepare(jpeg.subarray(0, 200), { size: 16, channels: 1 }), 'vision.badImage');
    await rejects(
      prepare(encodeBmp(pattern(8, 8, 3)).subarray(0, 100), { size: 8, channels: 1 }),
      'vision.badImage',
    );
    await rejects(
      prepare(new TextEncoder().encode('GIF89a not supported here'), { size: 16, channels: 1 }),
      'vision.unsupportedFormat',
    );
    const big = await rejects(prepare(png, { size: 16, channels: 1, maxPixels: 1000 }), 'vision.tooLarge');
    assert.match(big.message, /64x64 = 4096 pixels/);
    await rejects(
      prepare(encodeBmp(pattern(64, 64, 1)), { size: 16, channels: 1, maxPixels: 1000 }),
      'vision.tooLarge',
    );
    await rejects(
      prepare({ width: 4, height: 4, channels: 1, data: new Uint8Array(10) }, { size: 4, channels: 1 }),
      'vision.badImage',
    );
    await rejects(
      prepare({ width: 1e5, height: 1e5, channels: 1, data: new Uint8Array(1) }, { size: 4, channels: 1 }),
      'vision.tooLarge',
    );
    await rejects(
      prepare({ width: 4, height: 4, channels: 2, data: new Uint8Array(32) }, { size: 4, channels: 1 }),
      'vision.badImage',
    );
  });
});

describe('vision: model pieces', () => {
  it('sets the threshold at the empirical quantile, or a normal tail when there are too few scores', () => {
    const many = Array.from({ length: 101 }, (_, i) => i);
    assert.equal(thresholdFromGood(many, 0.1).threshold, 90);
    const few = [1, 2, 3, 4, 5];
    const t = thresholdFromGood(few, 0.01);
    // mean 3, sd sqrt(2.5), z(0.99) = 2.3263
    assert.ok(Math.abs(t.threshold - (3 + 2.3263 * Math.sqrt(2.5))) < 1e-3, String(t.threshold));
    assert.equal(thresholdFromGood([1, 1, 1], 0.01).threshold, 1);
  });

  it('picks far-apart points for the coreset', () => {
    // Points on a line: 0, 0.1, 0.2, 10, 10.1, 20 -> three centres land in the three clusters.
    const xs = Float32Array.from([0, 0.1, 0.2, 10, 10.1, 20]);
    const { idx } = kCenterCoreset(xs, 6, 1, 3, new Rng(1), 24, Infinity);
    const clusters = new Set(idx.map((i) => Math.round(xs[i]! / 10)));
    assert.equal(clusters.size, 3);
  });

  it('finds connected regions above the threshold, highest first', () => {
    const g = 4;
    const m = Float32Array.from([0, 5, 5, 0, 0, 5, 0, 0, 0, 0, 0, 9, 0, 0, 0, 9]);
    const r = mapRegions(m, g, 1);
    assert.equal(r.length, 2);
    assert.equal(r[0]!.score, 9);
    assert.deepEqual(
      [...r[0]!.cells].sort((a, b) => a - b),
      [11, 15],
    );
    assert.deepEqual(
      [...r[1]!.cells].sort((a, b) => a - b),
      [1, 2, 5],
    );
  });

  it('the inspection graph computes the nearest-neighbour map of a plain computation', async () => {
    const { spec, D } = smallSpec(3);
    const E = D + 2;
    const P = 64;
    const rng = new Rng(5);
    const mean = Float32Array.from({ length: D }, () => rng.normal() * 0.1);
    const invSd = Float32Array.from({ length: D }, () => 0.5 + rng.next());
    const M = 50;
    const bank = Float32Array.from({ length: M * E }, () => rng.normal());
    const locScale = Float32Array.from({ length: P }, () => 0.5 + rng.next());
    const locShift = Float32Array.from({ length: P }, () => rng.next());
    const params = { mean, invSd, positionWeight: 0.7, bank, bankSize: M, locShift, locScale };
    const img = new Float32Array(3 * 64 * 64).map(() => rng.next());
    const { patches, map, score } = await runGraphs(spec, params, img);
    const pos = positions(8);
    let max = -Infinity;
    for (let p = 0; p < P; p++) {
      const q = new Float64Array(E);
      for (let d = 0; d < D; d++) q[d] = (patches[p * D + d]! - mean[d]!) * invSd[d]!;
      q[D] = pos[2 * p]! * 0.7;
      q[D + 1] = pos[2 * p + 1]! * 0.7;
      let best = Infinity;
      for (let m = 0; m < M; m++) {
        let d2 = 0;
        for (let k = 0; k < E; k++) d2 += (q[k]! - bank[m * E + k]!) ** 2;
        best = Math.min(best, d2);
      }
      const want = (Math.sqrt(best) - locShift[p]!) / locScale[p]!;
      assert.ok(
        Math.abs(map[p]! - want) < 1e-3 * Math.max(1, Math.abs(want)),
        `cell ${p}: ${map[p]} vs ${want}`,
      );
      max = Math.max(max, want);
    }
    assert.ok(Math.abs(score - max) < 1e-3 * Math.max(1, Math.abs(max)));
  });
});

describe('vision: Gaussian per location', () => {
  it('whitens each location: W C W^T is the identity for the shrunk covariance C, and the mean is the sample mean', () => {
    const grid = 2;
    const P = grid * grid;
    const D = 3;
    const n = 40;
    const rng = new Rng(11);
    // Correlated features: f = A z + location offset.
    const feats = new Float32Array(n * P * D);
    for (let c = 0; c < n; c++)
      for (let p = 0; p < P; p++) {
        const z = [rng.normal(), rng.normal(), rng.normal()];
        const o = (c * P + p) * D;
        feats[o] = p + z[0]!;
        feats[o + 1] = 0.5 * z[0]! + 0.2 * z[1]!;
        feats[o + 2] = -z[1]! + 0.1 * z[2]! * (p + 1);
      }
    const raw = Float64Array.from(feats);
    const mu = Float32Array.from([0.5, 0, 0]);
    const isd = Float32Array.from([2, 1, 0.5]);
    const eps = 0.01;
    for (let i = 0; i < n * P; i++)
      for (let d = 0; d < D; d++) feats[i * D + d] = (feats[i * D + d]! - mu[d]!) * isd[d]!;
    const { mean, whiteT } = localGaussian({ feats, copies: n, grid, D }, 0, eps);
    for (let p = 0; p < P; p++) {
      const xs = Array.from({ length: n }, (_, c) =>
        Array.from({ length: D }, (_, d) => (raw[(c * P + p) * D + d]! - mu[d]!) * isd[d]!),
      );
      const m = Array.from({ length: D }, (_, d) => xs.reduce((a, x) => a + x[d]!, 0) / n);
      for (let d = 0; d < D; d++) assert.ok(Math.abs(mean[p * D + d]! - m[d]!) < 1e-5);
      // Sample covariance, then Ledoit-Wolf shrinkage towards (trace / D) I, then + eps I.
      const S = Array.from({ length: D }, (_, i) =>
        Array.from(
          { length: D },
          (_, j) => xs.reduce((a, x) => a + (x[i]! - m[i]!) * (x[j]! - m[j]!), 0) / (n - 1),
        ),
      );
      const target = S.reduce((a, r, i) => a + r[i]!, 0) / D;
      let d2 = 0;
      let s2 = 0;
      for (let i = 0; i < D; i++)
        for (let j = 0; j < D; j++) {
          s2 += S[i]![j]! ** 2;
          d2 += (S[i]![j]! - (i === j ? target : 0)) ** 2;
        }
      let b2 = 0;
      for (const x of xs) {
        const zc = x.map((v, i) => v - m[i]!);
        const zz = zc.reduce((a, v) => a + v * v, 0);
        let zsz = 0;
        for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) zsz += zc[i]! * S[i]![j]! * zc[j]!;
        b2 += zz * zz - 2 * zsz + s2;
      }
      b2 /= n * n;
      const alpha = Math.min(b2, d2) / d2;
      assert.ok(alpha > 0 && alpha < 1, `shrinkage ${alpha}`);
      const C = S.map((r, i) => r.map((v, j) => (1 - alpha) * v + (i === j ? alpha * target + eps : 0)));
      // W[i][j] = whiteT[p][j][i]
      const W = (i: number, j: number) => whiteT[p * D * D + j * D + i]!;
      for (let i = 0; i < D; i++)
        for (let j = 0; j < D; j++) {
          let s = 0;
          for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) s += W(i, a) * C[a]![b]! * W(j, b);
          assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-4, `location ${p} (${i},${j}): ${s}`);
        }
    }
  });

  it('the inspection graph computes the Mahalanobis map of a plain computation', async () => {
    const { spec, D } = smallSpec(1, { bandPass: true, peak: true });
    const P = 64;
    const rng = new Rng(6);
    const mean = Float32Array.from({ length: D }, () => rng.normal() * 0.1);
    const invSd = Float32Array.from({ length: D }, () => 0.5 + rng.next());
    const gMean = Float32Array.from({ length: P * D }, () => rng.normal());
    const whiteT = Float32Array.from({ length: P * D * D }, () => rng.normal() * 0.2);
    const locScale = Float32Array.from({ length: P }, () => 0.5 + rng.next());
    const locShift = Float32Array.from({ length: P }, () => rng.next());
    const params = {
      mean,
      invSd,
      positionWeight: 0,
      bank: new Float32Array(0),
      bankSize: 0,
      locShift,
      locScale,
      gaussian: { mean: gMean, whiteT },
    };
    const img = new Float32Array(64 * 64).map(() => rng.next());
    const { patches, map } = await runGraphs(spec, params, img);
    for (let p = 0; p < P; p++) {
      const q = Array.from(
        { length: D },
        (_, d) => (patches[p * D + d]! - mean[d]!) * invSd[d]! - gMean[p * D + d]!,
      );
      let d2 = 0;
      for (let j = 0; j < D; j++) {
        let z = 0;
        for (let i = 0; i < D; i++) z += q[i]! * whiteT[p * D * D + i * D + j]!;
        d2 += z * z;
      }
      const want = (Math.sqrt(d2) - locShift[p]!) / locScale[p]!;
      assert.ok(
        Math.abs(map[p]! - want) < 1e-3 * Math.max(1, Math.abs(want)),
        `cell ${p}: ${map[p]} vs ${want}`,
      );
    }
  });
});

describe('vision: local memory bank', () => {
  it('the inspection graph finds, for each location, the nearest neighbour among its own patches only', async () => {
    const { spec, D } = smallSpec(1);
    const P = 64;
    const K = 3;
    const rng = new Rng(8);
    const mean = Float32Array.from({ length: D }, () => rng.normal() * 0.1);
    const invSd = Float32Array.from({ length: D }, () => 0.5 + rng.next());
    const bank = Float32Array.from({ length: P * K * D }, () => rng.normal());
    const locScale = new Float32Array(P).fill(1);
    const locShift = new Float32Array(P);
    const params = { mean, invSd, positionWeight: 0, bank, bankSize: K, local: K, locShift, locScale };
    const img = new Float32Array(64 * 64).map(() => rng.next());
    const { patches, map } = await runGraphs(spec, params, img);
    for (let p = 0; p < P; p++) {
      let best = Infinity;
      for (let k = 0; k < K; k++) {
        let d2 = 0;
        for (let d = 0; d < D; d++)
          d2 += ((patches[p * D + d]! - mean[d]!) * invSd[d]! - bank[(p * K + k) * D + d]!) ** 2;
        best = Math.min(best, d2);
      }
      const want = Math.sqrt(best);
      assert.ok(Math.abs(map[p]! - want) < 1e-3 * Math.max(1, want), `cell ${p}: ${map[p]} vs ${want}`);
    }
  });
});

describe('vision: registration', () => {
  it('recovers a known rotation and shift of a part', async () => {
    const size = 128;
    const part = await prepare(renderPart('washer', 3, { size }), { size, channels: 1 });
    const truth = { angle: (4 * Math.PI) / 180, dx: 6, dy: -5 };
    // warp samples its input at the pose: moved(p) = part(truth(p)).
    const moved = warp(part.tensor, 1, size, truth);
    // findPose(image, template) finds P with image(P(p)) close to template(p): here P should be truth.
    const { pose } = findPose(thumbnail(part.tensor, 1, size), thumbnail(moved, 1, size), size);
    assert.ok(Math.abs(pose.angle - truth.angle) < (1.5 * Math.PI) / 180, `angle ${pose.angle}`);
    assert.ok(Math.abs(pose.dx - truth.dx) < 2.5 && Math.abs(pose.dy - truth.dy) < 2.5, JSON.stringify(pose));
    const [mx, my] = poseMap(pose, size, 64, 64);
    assert.ok(Math.abs(mx - 64 - truth.dx) < 2.5 && Math.abs(my - 64 - truth.dy) < 2.5);
    const aligned = warp(part.tensor, 1, size, pose);
    let err = 0;
    let base = 0;
    for (let i = 0; i < aligned.length; i++) {
      const y = Math.floor(i / size);
      const x = i % size;
      if (x < 16 || y < 16 || x >= size - 16 || y >= size - 16) continue;
      err += Math.abs(aligned[i]! - moved[i]!);
      base += Math.abs(part.tensor[i]! - moved[i]!);
    }
    assert.ok(err < base * 0.35, `aligned error ${err} vs unaligned ${base}`);
  });
});

describe('vision: train and inspect', function () {
  this.timeout(120_000);
  const size = 128;
  let model: TrainResult;
  let goods: Uint8Array[];

  before(async () => {
    goods = await Promise.all(
      Array.from({ length: 20 }, (_, i) => encodePng(renderPart('casting', 100 + i, { size }))),
    );
    model = await train(goods, { size, grid: 16, bankSize: 512 });
  });

  it('writes a card that describes the model', () => {
    const c = model.card;
    assert.equal(c.format, 'takt-vision/1');
    assert.equal(c.size, size);
    assert.equal(c.channels, 1);
    assert.equal(c.grid, 16);
    assert.equal(c.training.images, 20);
    assert.equal(c.training.fit + c.training.calibration + c.training.heldOut, 20);
    assert.equal(c.memory, 'gaussian');
    assert.equal(c.method, 'padim-filterbank');
    assert.ok(Number.isFinite(c.threshold) && c.threshold > 0);
  });

  it('takes its threshold from the held-out good images only', async () => {
    // The held-out images are every 20th from offsets 6, 13 and 19: re-score them and apply the rule.
    const insp = await Inspector.load(model.onnx);
    const held = [6, 13, 19].filter((i) => i < goods.length);
    const scores: number[] = [];
    for (const i of held) scores.push((await insp.inspect(goods[i]!)).score);
    await insp.close();
    assert.equal(model.card.training.heldOut, held.length);
    const want = thresholdFromGood(scores, model.card.falseRejectRate).threshold;
    assert.ok(Math.abs(model.card.threshold - want) < 1e-5 * want, `${model.card.threshold} vs ${want}`);
    assert.equal(model.card.training.heldOutScores.max, Math.max(...scores.map((s) => Math.fround(s))));
  });

  it('flags a part with a missing hole and boxes the defect where it is', async () => {
    const insp = await Inspector.load(model.onnx);
    const part = renderPart('casting', 999, { size, defect: 'missing', severity: 1 });
    const r = await insp.inspect(await encodePng(part), { heatmap: true });
    const good = await insp.inspect(await encodePng(renderPart('casting', 998, { size })));
    await insp.close();
    assert.ok(r.score > good.score, `${r.score} vs ${good.score}`);
    assert.equal(r.anomalous, true);
    assert.equal(r.map.width, 16);
    assert.equal(r.map.data.length, 256);
    assert.ok(r.defects.length >= 1);
    const d = r.defects[0]!;
    const t = part.defect!;
    const overlap = d.x < t.x + t.w && t.x < d.x + d.w && d.y < t.y + t.h && t.y < d.y + d.h;
    assert.ok(overlap, `box ${JSON.stringify(d)} vs truth ${JSON.stringify(t)}`);
    assert.equal(sniffFormat(r.heatmap!), 'png');
  });

  it('loads from a file path and refuses bytes that are not a vision model', async () => {
    await rejects(Inspector.load(new Uint8Array([1, 2, 3, 4])), 'vision.notOnnx');
    await rejects(Inspector.load('/nonexistent/model.onnx'), 'vision.noModel');
  });

  it('refuses a model whose input shape does not match its card', async () => {
    const m = onnx.ModelProto.decode(model.onnx);
    const prop = m.metadataProps.find((p) => p.key === CARD_KEY)!;
    prop.value = JSON.stringify({ ...JSON.parse(prop.value ?? '{}'), size: 64 });
    const tampered = onnx.ModelProto.encode(m).finish();
    const err = await rejects(Inspector.load(tampered), 'vision.shapeMismatch');
    assert.match(err.message, /\[1,1,128,128\].*\[1,1,64,64\]/);
  });

  it('needs at least ten good images', async () => {
    await rejects(train(goods.slice(0, 5)), 'vision.tooFewImages');
  });

  it('names the training image that cannot be decoded', async () => {
    const bad = [...goods.slice(0, 11), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1])];
    const err = await rejects(train(bad, { size, grid: 16 }), 'vision.badImage');
    assert.match(err.message, /training image 11/);
  });
});

describe('vision: synthetic parts', () => {
  it('draws the same part for the same seed and places the defect on the image', () => {
    const a = renderPart('washer', 7, { size: 64, defect: 'scratch' });
    const b = renderPart('washer', 7, { size: 64, defect: 'scratch' });
    assert.deepEqual(a.data, b.data);
    assert.notDeepEqual(renderPart('washer', 8, { size: 64 }).data, a.data);
    const d = a.defect!;
    assert.equal(d.kind, 'scratch');
    assert.ok(d.x >= 0 && d.y >= 0 && d.x + d.w <= 64 && d.y + d.h <= 64 && d.w > 0 && d.h > 0);
    assert.equal(renderPart('label', 1, { size: 32 }).channels, 3);
  });
});
