/**
 * Trains the control-chart pattern network and writes it as ONNX: the repo's training script for the model
 * that ships in the package (nodes/spc/models/spc-patterns.onnx, with a JSON card beside it).
 *
 *   npm run train:spc-patterns -- [--seed 11] [--per-class 4000] [--epochs 80] [--patience 10]
 *                                 [--hidden 64,32] [--max-seconds 1200] [--out nodes/spc/models/spc-patterns.onnx]
 *
 * Every epoch draws a fresh training set from the seeded generator (no window is seen twice, so the network
 * cannot memorise): the training ranges (TRAINING_PATTERN_RANGES) with a share of live views (DEFAULT_LIVE_VIEW:
 * onsets inside or before the window, AR(1) noise, centre and sigma estimated with error; see patterns.ts).
 * Validation uses its own seed (seed + 1) of the same generator; the weights of the best validation epoch are
 * kept, the learning rate halves after 3 epochs without improvement and training stops after `patience`.
 * The graph: Sub/Mul (input standardisation) → Gemm → Relu → Gemm → Relu → Gemm → Softmax, opset 17, IR 8,
 * with the class names, window, feature layout and training figures in metadata_props.
 *
 * The graph is written with the core ONNX builder (../core/onnx.ts); this module is a build tool, not loaded by
 * the nodes at runtime.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { shuffle } from '../core/dense';
import { TaktError } from '../core/errors';
import { encodeModel, floatTensor, intAttr, op, readOnnx } from '../core/onnx';
import { PATTERN_CLASSES } from './insight';
import { Mlp, type MlpParams } from './mlp';
import {
  featureLength,
  featureMatrix,
  PATTERN_FEATURES_VERSION,
  PATTERN_SUMMARY,
  PATTERN_WINDOW,
  DEFAULT_LIVE_VIEW,
  MIN_AFFECTED_POINTS,
  PatternGenerator,
  type PatternRanges,
  type LiveView,
  Rng,
  TRAINING_PATTERN_RANGES,
} from './patterns';

export interface TrainOptions {
  seed?: number;
  window?: number;
  hidden?: number[];
  perClass?: number;
  validationPerClass?: number;
  epochs?: number;
  patience?: number;
  batch?: number;
  lr?: number;
  maxSeconds?: number;
  /** Pattern ranges (default TRAINING_PATTERN_RANGES) and live views (default on, DEFAULT_LIVE_VIEW). */
  ranges?: Partial<PatternRanges>;
  live?: boolean | Partial<LiveView>;
  log?: (line: string) => void;
}

export interface TrainResult {
  params: MlpParams;
  seed: number;
  validationSeed: number;
  window: number;
  epochs: number;
  bestEpoch: number;
  trainAccuracy: number;
  validationAccuracy: number;
  seconds: number;
}

/** Share of rows whose most probable class is the label. */
export function accuracy(P: Float64Array | Float32Array, y: ArrayLike<number>, classes: number): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (P[i * classes + j] > P[i * classes + best]) best = j;
    if (best === y[i]) ok++;
  }
  return ok / y.length;
}

export function trainPatternModel(o: TrainOptions = {}): TrainResult {
  const seed = o.seed ?? 11;
  const window = o.window ?? PATTERN_WINDOW;
  const hidden = o.hidden ?? [64, 32];
  const perClass = o.perClass ?? 4000;
  const epochs = o.epochs ?? 80;
  const patience = o.patience ?? 10;
  const batch = o.batch ?? 64;
  const maxMs = (o.maxSeconds ?? 1200) * 1000;
  const log = o.log ?? (() => undefined);
  const C = PATTERN_CLASSES.length;
  const F = featureLength(window);
  const t0 = Date.now();

  const view = { window, ranges: { ...TRAINING_PATTERN_RANGES, ...o.ranges }, live: o.live ?? true };
  const gen = new PatternGenerator(seed, view);
  const validationSeed = seed + 1;
  const val = new PatternGenerator(validationSeed, view).set(o.validationPerClass ?? 500);
  const Xv = featureMatrix(val.windows, window);
  const net = Mlp.random([F, ...hidden, C], seed + 2);
  const shuffler = new Rng(seed + 3);
  let lr = o.lr ?? 2e-3;
  let best = { acc: -1, loss: Infinity, epoch: 0, params: net.snapshot() };
  let sinceBest = 0;
  let sinceLr = 0;
  let epoch = 0;
  let lastTrain: { X: Float64Array; y: Uint8Array } = { X: new Float64Array(0), y: new Uint8Array(0) };
  for (epoch = 1; epoch <= epochs; epoch++) {
    const set = gen.set(perClass);
    const X = featureMatrix(set.windows, window);
    const n = set.labels.length;
    if (epoch === 1) net.fitInput(X, n);
    lastTrain = { X, y: set.labels };
    const order = shuffle(
      Array.from({ length: n }, (_, i) => i),
      shuffler,
    );
    let loss = 0;
    let batches = 0;
    for (let s = 0; s < n; s += batch) {
      loss += net.trainBatch(X, set.labels, order.slice(s, s + batch), { lr, weightDecay: 1e-5 });
      batches++;
    }
    const Pv = net.predict(Xv, val.labels.length);
    let vloss = 0;
    for (let i = 0; i < val.labels.length; i++)
      vloss -= Math.log(Math.max(Pv[i * C + val.labels[i]], 1e-300));
    vloss /= val.labels.length;
    const vacc = accuracy(Pv, val.labels, C);
    const improved = vacc > best.acc || (vacc === best.acc && vloss < best.loss);
    if (improved) {
      best = { acc: vacc, loss: vloss, epoch, params: net.snapshot() };
      sinceBest = 0;
      sinceLr = 0;
    } else {
      sinceBest++;
      sinceLr++;
    }
    log(
      `epoch ${String(epoch).padStart(3)}  train loss ${(loss / batches).toFixed(4)}  val loss ${vloss.toFixed(4)}  val acc ${(100 * vacc).toFixed(2)}%  lr ${lr.toExponential(1)}${improved ? '  *' : ''}`,
    );
    if (sinceLr >= 3) {
      lr /= 2;
      sinceLr = 0;
    }
    if (sinceBest >= patience || Date.now() - t0 > maxMs) break;
  }
  const bestNet = new Mlp(best.params);
  const trainAccuracy = accuracy(bestNet.predict(lastTrain.X, lastTrain.y.length), lastTrain.y, C);
  return {
    params: best.params,
    seed,
    validationSeed,
    window,
    epochs: Math.min(epoch, epochs),
    bestEpoch: best.epoch,
    trainAccuracy,
    validationAccuracy: best.acc,
    seconds: (Date.now() - t0) / 1000,
  };
}

// ---------------------------------------------------------------- ONNX export

const badModel = (reason: string) => new TaktError('spc.badModel', `onnx: ${reason}`, 'model');

/**
 * The network as ONNX bytes: input `features` [N, in], output `probabilities` [N, classes]; the input
 * standardisation is in the graph. `metadata` goes to metadata_props.
 */
export function mlpToOnnx(p: MlpParams, metadata: Record<string, string> = {}): Uint8Array {
  const L = p.sizes.length - 1;
  const initializers = [
    floatTensor('in_mean', [p.sizes[0]], p.inMean, badModel),
    floatTensor('in_scale', [p.sizes[0]], p.inScale, badModel),
  ];
  const nodes = [
    op('Sub', ['features', 'in_mean'], ['x_centred'], [], { name: 'centre' }),
    op('Mul', ['x_centred', 'in_scale'], ['x0'], [], { name: 'scale' }),
  ];
  let x = 'x0';
  for (let l = 0; l < L; l++) {
    initializers.push(floatTensor(`W${l}`, [p.sizes[l + 1], p.sizes[l]], p.W[l], badModel));
    initializers.push(floatTensor(`b${l}`, [p.sizes[l + 1]], p.b[l], badModel));
    const last = l === L - 1;
    const z = last ? 'logits' : `z${l}`;
    nodes.push(op('Gemm', [x, `W${l}`, `b${l}`], [z], [intAttr('transB', 1)], { name: `dense${l}` }));
    if (!last) {
      nodes.push(op('Relu', [z], [`h${l}`], [], { name: `relu${l}` }));
      x = `h${l}`;
    }
  }
  nodes.push(op('Softmax', ['logits'], ['probabilities'], [intAttr('axis', 1)], { name: 'softmax' }));
  return encodeModel(
    {
      name: 'spc_patterns',
      doc: 'Control-chart pattern classifier (MLP) of @takt/node-red-mes',
      nodes,
      initializers,
      inputs: [{ name: 'features', width: p.sizes[0] }],
      outputs: [{ name: 'probabilities', width: p.sizes[L] }],
      metadata,
    },
    badModel,
  );
}

/** Decodes the MLP back from an ONNX file written by `mlpToOnnx` (for tests and tools). */
export function mlpFromOnnx(bytes: Uint8Array): { params: MlpParams; metadata: Record<string, string> } {
  const m = readOnnx(bytes, (reason) => new TaktError('spc.modelInvalid', `onnx: ${reason}`, 'model'));
  const get = (n: string) => Float64Array.from(m.floats(n));
  const W: Float64Array[] = [];
  const b: Float64Array[] = [];
  const sizes = [get('in_mean').length];
  for (let l = 0; m.initializers.includes(`W${l}`); l++) {
    W.push(get(`W${l}`));
    b.push(get(`b${l}`));
    sizes.push(m.dims(`W${l}`)[0]);
  }
  return { params: { sizes, inMean: get('in_mean'), inScale: get('in_scale'), W, b }, metadata: m.metadata };
}

/** The metadata_props a Takt pattern model carries. */
export function patternMetadata(r: TrainResult): Record<string, string> {
  return {
    'takt.kind': 'spc-patterns',
    'takt.classes': PATTERN_CLASSES.join(','),
    'takt.window': String(r.window),
    'takt.features': String(featureLength(r.window)),
    'takt.featuresVersion': PATTERN_FEATURES_VERSION,
    'takt.featureNames': `z[0..${r.window - 1}],${PATTERN_SUMMARY.join(',')}`,
    'takt.architecture': r.params.sizes.join('-'),
    'takt.seed': String(r.seed),
    'takt.trainingView': 'training ranges, standard and live views',
    'takt.validationAccuracy': r.validationAccuracy.toFixed(4),
  };
}

// ---------------------------------------------------------------- command line

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < argv.length) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

/** A range as text for the model card ("1 to 4"), so the card stays one line per setting. */
const span = (r: readonly number[]) => `${r[0]} to ${r[1]}`;

function main(): void {
  const argv = process.argv.slice(2);
  const num = (name: string): number | undefined => {
    const v = flag(argv, name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} needs a number`);
    return n;
  };
  // dist/nodes/spc -> repository root
  const root = join(__dirname, '..', '..', '..');
  const out = resolve(flag(argv, 'out') ?? join(root, 'nodes', 'spc', 'models', 'spc-patterns.onnx'));
  const r = trainPatternModel({
    seed: num('seed'),
    perClass: num('per-class'),
    epochs: num('epochs'),
    patience: num('patience'),
    maxSeconds: num('max-seconds'),
    hidden: flag(argv, 'hidden')
      ?.split(',')
      .map((h) => {
        const n = Number(h);
        if (!Number.isInteger(n) || n < 1) throw new Error('--hidden needs layer widths, e.g. 64,32');
        return n;
      }),
    log: (l) => console.log(l),
  });
  const bytes = mlpToOnnx(r.params, patternMetadata(r));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  const card = {
    model: 'spc-patterns.onnx',
    classes: PATTERN_CLASSES,
    window: r.window,
    features: `z[0..${r.window - 1}] + ${PATTERN_SUMMARY.join(', ')} (featuresVersion ${PATTERN_FEATURES_VERSION})`,
    architecture: r.params.sizes.join('-'),
    ranges: Object.fromEntries(Object.entries(TRAINING_PATTERN_RANGES).map(([k, v]) => [k, span(v)])),
    liveView: Object.fromEntries(
      Object.entries(DEFAULT_LIVE_VIEW).map(([k, v]) => [k, Array.isArray(v) ? span(v) : v]),
    ),
    minAffectedPoints: MIN_AFFECTED_POINTS,
    seed: r.seed,
    validationSeed: r.validationSeed,
    epochs: r.epochs,
    bestEpoch: r.bestEpoch,
    trainAccuracy: Number(r.trainAccuracy.toFixed(4)),
    validationAccuracy: Number(r.validationAccuracy.toFixed(4)),
    trainingSeconds: Number(r.seconds.toFixed(1)),
    date: new Date().toISOString().slice(0, 10),
    bytes: bytes.length,
  };
  writeFileSync(out.replace(/\.onnx$/, '.json'), `${JSON.stringify(card, null, 2)}\n`);
  console.log(
    `wrote ${out} (${bytes.length} bytes): ${card.architecture}, validation accuracy ${(100 * r.validationAccuracy).toFixed(2)}% at epoch ${r.bestEpoch}, ${card.trainingSeconds} s`,
  );
}

if (require.main === module) main();
