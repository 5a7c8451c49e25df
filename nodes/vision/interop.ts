/**
 * Vision models made elsewhere: anomalib-style anomaly exports (PatchCore, PaDiM, EfficientAD: input
 * [1,3,H,W], an anomaly map and a score out, a `metadata.json` with normalisation and thresholds) and image
 * classifiers (a softmax over defect classes, labels in the metadata). `readForeignSpec` reads what such a
 * model is from its graph and its metadata; `ForeignModel` scores images with it. The README says how a data
 * scientist exports one. No Node-RED import.
 *
 * Metadata (a metadata.json beside the model, or JSON in the ONNX metadata under the key "metadata"):
 *   task            "segmentation" | "detection" | "classification" (else the graph's outputs decide)
 *   image_size      [H, W] (else from the graph's fixed input, or the transform's Resize)
 *   normalization   { mean: [..], std: [..], in_graph: boolean }: applied here unless in_graph
 *   transform       anomalib 0.x's albumentations Compose (Resize, Normalize): applied here
 *   image_threshold score threshold; pixel_threshold map threshold for defect regions (default the former)
 *   labels, good_label, threshold   classifiers: class names in output order, the good class, and the
 *                   threshold on the score (1 - p(good), or the top probability when no class is good)
 */
import { TaktError } from '../core/errors';
import { openOnnxSession, readOnnx, type OnnxValue, type Ort } from '../core/onnx';
import type { InferenceSession } from 'onnxruntime-node';
import { cellsBox, prepare, type ImageInput } from './image';
import { heatmapPng, mapRegions, type Defect, type InspectOptions } from './model';
import { imageStats, type ImageStats } from './stats';

export type ForeignKind = 'anomalib' | 'classifier';

/** What a foreign model is and how to feed it. */
export interface ForeignSpec {
  kind: ForeignKind;
  input: string;
  channels: 1 | 3;
  width: number;
  height: number;
  /** Normalisation applied before the graph ((x * scale - mean) / std per channel), or null. */
  normalise: { mean: number[]; std: number[]; scale: number } | null;
  /** Where the normalisation happens: 'outside' (here), 'graph' (the model does it) or 'none'. */
  normalisation: 'outside' | 'graph' | 'none';
  /** anomalib: output names (score may be missing: then the map's maximum) and thresholds. */
  mapOutput?: string;
  scoreOutput?: string;
  threshold: number;
  pixelThreshold?: number;
  /** classifier: output, labels in output order, the good class, and whether softmax is applied here. */
  probOutput?: string;
  labels?: string[];
  goodLabel?: string;
  softmax?: boolean;
}

/** What inspecting one image with any model gives (the library contract of `inspect`). */
export interface VisionResult {
  kind: 'takt' | ForeignKind;
  score: number;
  threshold: number;
  anomalous: boolean;
  label?: string;
  probabilities?: Record<string, number>;
  map?: { width: number; height: number; data: Float32Array };
  defects: Defect[];
  image: { width: number; height: number };
  heatmap?: Uint8Array;
  warnings: string[];
  /** Brightness, contrast and focus of the model input (stats.ts). */
  stats: ImageStats;
}

type Json = Record<string, unknown>;

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const nums = (x: unknown): number[] | undefined =>
  Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number' && Number.isFinite(v))
    ? (x as number[])
    : undefined;
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

const bad = (why: string, field = 'metadata') => new TaktError('vision.badMetadata', why, field);
const shape = (why: string) => new TaktError('vision.shapeMismatch', why, 'model');

/** The albumentations transforms of anomalib 0.x's metadata (`transform.transform.transforms`). */
function albumentations(meta: Json): Json[] {
  const t = meta.transform;
  const inner = isObj(t) && isObj(t.transform) ? t.transform : t;
  const list = isObj(inner) ? inner.transforms : undefined;
  return Array.isArray(list) ? list.filter(isObj) : [];
}

const named = (t: Json, name: string) =>
  String(t.__class_fullname__ ?? '')
    .split('.')
    .pop() === name;

function normalisation(meta: Json, channels: number): Pick<ForeignSpec, 'normalise' | 'normalisation'> {
  let mean: number[] | undefined;
  let std: number[] | undefined;
  let scale = 1;
  let inGraph = false;
  if (meta.normalization !== undefined) {
    const n = meta.normalization;
    if (!isObj(n)) throw bad('normalization must be { mean, std, in_graph }');
    mean = nums(n.mean);
    std = nums(n.std);
    if (!mean || !std) throw bad('normalization needs mean and std, one number per channel');
    inGraph = n.in_graph === true;
  } else {
    const t = albumentations(meta).find((x) => named(x, 'Normalize'));
    if (t) {
      mean = nums(t.mean);
      std = nums(t.std);
      if (!mean || !std) throw bad('the Normalize transform needs mean and std');
      scale = 255 / (num(t.max_pixel_value) ?? 255);
    }
  }
  if (!mean || !std) return { normalise: null, normalisation: 'none' };
  if (inGraph) return { normalise: null, normalisation: 'graph' };
  if (mean.length !== channels || std.length !== channels)
    throw bad(`normalization has ${mean.length} means and ${std.length} stds for ${channels} channels`);
  if (std.some((s) => s === 0)) throw bad('normalization std must not be 0');
  return { normalise: { mean, std, scale }, normalisation: 'outside' };
}

function imageSize(meta: Json, input: OnnxValue): { width: number; height: number } {
  const dims = input.shape ?? [];
  const fixed = (i: number) => (typeof dims[i] === 'number' && dims[i] > 0 ? dims[i] : undefined);
  let h: number | undefined;
  let w: number | undefined;
  const s = meta.image_size;
  if (s !== undefined) {
    const v = typeof s === 'number' ? [s, s] : nums(s);
    if (!v || v.length !== 2 || v.some((x) => !Number.isInteger(x) || x < 1))
      throw bad('image_size must be [height, width] in pixels');
    [h, w] = v as [number, number];
  } else {
    const r = albumentations(meta).find((x) => named(x, 'Resize'));
    if (r) {
      h = num(r.height);
      w = num(r.width);
    }
  }
  const gh = fixed(2);
  const gw = fixed(3);
  if ((h !== undefined && gh !== undefined && h !== gh) || (w !== undefined && gw !== undefined && w !== gw))
    throw shape(`model input is [${dims.join(',')}] but its metadata says ${h}x${w} (height x width)`);
  h ??= gh;
  w ??= gw;
  if (h === undefined || w === undefined)
    throw bad('the model input has no fixed size: give image_size [height, width] in the metadata');
  return { width: w, height: h };
}

/** The number of elements of a declared shape, or undefined when a dimension is not fixed. */
function count(v: OnnxValue): number | undefined {
  if (!v.shape) return undefined;
  let n = 1;
  for (const d of v.shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

/**
 * What a foreign model is: its kind (from the metadata's task or labels, else its outputs), input size,
 * normalisation, outputs and thresholds. Throws `vision.shapeMismatch` for an input that is not an image
 * batch [1, 1|3, H, W] or outputs that do not fit, `vision.badMetadata` for metadata that cannot be used.
 */
export function readForeignSpec(bytes: Uint8Array, metadata: Json | undefined): ForeignSpec {
  const m = readOnnx(bytes, (r) => new TaktError('vision.notOnnx', `not an ONNX model (${r})`, 'model'));
  if (m.ops.length === 0) throw new TaktError('vision.notOnnx', 'not an ONNX model (no graph)', 'model');
  let meta = metadata;
  if (!meta && m.metadata.metadata) {
    try {
      const j = JSON.parse(m.metadata.metadata) as unknown;
      if (isObj(j)) meta = j;
    } catch {
      throw bad('the model\'s "metadata" entry is not JSON');
    }
  }
  meta ??= {};
  if (m.inputs.length !== 1)
    throw shape(
      `model has ${m.inputs.length} inputs (${m.inputs.map((i) => i.name).join(', ')}); one image input expected`,
    );
  const input = m.inputs[0]!;
  const dims = input.shape ?? [];
  const c = dims[1];
  if (dims.length !== 4 || (typeof dims[0] === 'number' && dims[0] !== 1) || (c !== 1 && c !== 3))
    throw shape(
      `model input "${input.name}" is [${dims.map((d) => d ?? '?').join(',')}]; an image model takes [1,3,H,W] or [1,1,H,W]`,
    );
  const channels: 1 | 3 = c;
  const { width, height } = imageSize(meta, input);
  const norm = normalisation(meta, channels);
  const base = { input: input.name, channels, width, height, ...norm };
  const task = typeof meta.task === 'string' ? meta.task : undefined;
  const outs = m.outputs;
  const byName = (...names: string[]) => outs.find((o) => names.includes(o.name));

  const classifier =
    task === 'classification' ||
    (task === undefined && Array.isArray(meta.labels) && !byName('anomaly_map', 'map'));
  if (classifier) {
    const labels = meta.labels;
    if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string'))
      throw bad('a classifier needs labels: the class names in output order');
    const out =
      byName('probabilities', 'probs', 'scores', 'output', 'logits') ??
      (outs.length === 1 ? outs[0] : undefined);
    if (!out)
      throw shape(`cannot tell which output holds the class scores (${outs.map((o) => o.name).join(', ')})`);
    const k = count(out);
    if (k !== undefined && k !== labels.length)
      throw shape(`output "${out.name}" has ${k} values but the metadata lists ${labels.length} labels`);
    const good =
      typeof meta.good_label === 'string'
        ? meta.good_label
        : (labels as string[]).find((l) => /^(good|ok|normal|pass)$/i.test(l));
    if (good !== undefined && !labels.includes(good))
      throw bad(`good_label "${good}" is not one of the labels`);
    const spec: ForeignSpec = {
      kind: 'classifier',
      ...base,
      probOutput: out.name,
      labels: labels as string[],
      threshold: num(meta.threshold) ?? 0.5,
      softmax: out.name === 'logits' || meta.softmax === true,
    };
    if (good !== undefined) spec.goodLabel = good;
    return spec;
  }
  const mapOut =
    byName('anomaly_map', 'map', 'anomaly_maps') ??
    outs.find((o) => (o.shape?.length ?? 0) >= 3 && (count(o) === undefined || count(o)! > 1));
  const scoreOut =
    byName('pred_score', 'score', 'pred_scores') ?? outs.find((o) => o !== mapOut && count(o) === 1);
  if (!mapOut && !scoreOut)
    throw shape(
      `cannot tell the anomaly map or the score among the outputs (${outs.map((o) => o.name).join(', ')}); name them anomaly_map and pred_score`,
    );
  const thr = num(meta.image_threshold) ?? num(meta.threshold);
  if (thr === undefined) throw bad('an anomaly model needs image_threshold in its metadata');
  const spec: ForeignSpec = { kind: 'anomalib', ...base, threshold: thr };
  if (mapOut) {
    spec.mapOutput = mapOut.name;
    spec.pixelThreshold = num(meta.pixel_threshold) ?? thr;
  }
  if (scoreOut) spec.scoreOutput = scoreOut.name;
  return spec;
}

/** Scores images with a foreign model. */
export class ForeignModel {
  private constructor(
    readonly spec: ForeignSpec,
    private readonly ort: Ort,
    private readonly session: InferenceSession,
  ) {}

  static async open(bytes: Uint8Array, metadata?: Json): Promise<ForeignModel> {
    const spec = readForeignSpec(bytes, metadata);
    const { ort, session } = await openOnnxSession(
      bytes,
      (r) => new TaktError('vision.badModel', r, 'model'),
    );
    return new ForeignModel(spec, ort, session);
  }

  /** The model input for an image: resized, converted, scaled to [0, 1], normalised when that is done here. */
  async tensor(image: ImageInput, maxPixels?: number) {
    const s = this.spec;
    const p = await prepare(image, { size: s.width, height: s.height, channels: s.channels, maxPixels });
    let x = p.tensor;
    const n = s.normalise;
    if (n) {
      x = new Float32Array(p.tensor.length);
      const plane = s.width * s.height;
      for (let c = 0; c < s.channels; c++) {
        const k = n.scale / n.std[c]!;
        const b = n.mean[c]! / n.std[c]!;
        for (let i = c * plane; i < (c + 1) * plane; i++) x[i] = p.tensor[i]! * k - b;
      }
    }
    return { prepared: p, input: x };
  }

  async inspect(image: ImageInput, opts: InspectOptions = {}): Promise<VisionResult> {
    const s = this.spec;
    const { prepared: p, input } = await this.tensor(image, opts.maxPixels);
    const feeds = { [s.input]: new this.ort.Tensor('float32', input, [1, s.channels, s.height, s.width]) };
    const want = [s.mapOutput, s.scoreOutput, s.probOutput].filter((o): o is string => o !== undefined);
    let out: InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds, want);
    } catch (err) {
      throw new TaktError('vision.badModel', `the model does not run: ${(err as Error).message}`, 'model');
    }
    const image0 = { width: p.source.width, height: p.source.height };
    const stats = imageStats(p.tensor, s.channels, s.width, s.height);
    const threshold = opts.threshold ?? s.threshold;
    if (s.kind === 'classifier') {
      let v = Array.from(out[s.probOutput!]!.data as Float32Array);
      const labels = s.labels!;
      if (v.length !== labels.length)
        throw shape(`the model gave ${v.length} class scores for ${labels.length} labels`);
      if (s.softmax) {
        const mx = Math.max(...v);
        const e = v.map((z) => Math.exp(z - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        v = e.map((z) => z / sum);
      }
      let top = 0;
      for (let i = 1; i < v.length; i++) if (v[i]! > v[top]!) top = i;
      const good = s.goodLabel === undefined ? -1 : labels.indexOf(s.goodLabel);
      const score = good >= 0 ? 1 - v[good]! : v[top]!;
      return {
        kind: 'classifier',
        score,
        threshold,
        anomalous: score > threshold,
        label: labels[top]!,
        probabilities: Object.fromEntries(labels.map((l, i) => [l, v[i]!])),
        defects: [],
        image: image0,
        warnings: p.warnings,
        stats,
      };
    }
    let map: VisionResult['map'];
    const defects: Defect[] = [];
    const warnings = [...p.warnings];
    let heatmap: Uint8Array | undefined;
    if (s.mapOutput) {
      const t = out[s.mapOutput]!;
      const d = t.dims;
      const mw = Number(d[d.length - 1]);
      const mh = Number(d[d.length - 2]);
      const data = Float32Array.from(t.data as Float32Array);
      if (data.length !== mw * mh)
        throw shape(`anomaly map output "${s.mapOutput}" is [${d.join(',')}], not one map`);
      map = { width: mw, height: mh, data };
      const pixelThr = opts.threshold ?? s.pixelThreshold ?? threshold;
      for (const r of mapRegions(data, mw, pixelThr, mh))
        defects.push({
          ...cellsBox(r.cells, { width: mw, height: mh }, { width: s.width, height: s.height }, p.roi),
          score: r.score,
        });
      if (opts.heatmap) {
        if (mw === mh && s.width === s.height)
          heatmap = await heatmapPng(p.tensor, s.channels, s.width, data, mw, pixelThr);
        else warnings.push('no heat map: the overlay needs a square model input and map');
      }
    }
    const score = s.scoreOutput
      ? (out[s.scoreOutput]!.data as Float32Array)[0]!
      : map!.data.reduce((a, b) => Math.max(a, b), -Infinity);
    const result: VisionResult = {
      kind: 'anomalib',
      score,
      threshold,
      anomalous: score > threshold,
      defects,
      image: image0,
      warnings,
      stats,
    };
    if (map) result.map = map;
    if (heatmap) result.heatmap = heatmap;
    return result;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
