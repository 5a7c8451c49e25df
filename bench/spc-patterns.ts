/**
 * bench:spc-patterns — accuracy of the shipped control-chart pattern model (ONNX, run by onnxruntime-node).
 *
 * 1. On a seeded set of the training generator's standard view (a seed the training never used), with its
 *    confusion matrix and per-class recall, against two non-learned references in the same run: the Nelson
 *    run rules mapped to pattern classes (what a chart without the network can say), and a nearest-centroid
 *    classifier on the same standardised features.
 * 2. On the held-out generator (bench/lib/heldout-patterns.ts: other ranges and conventions, written apart
 *    from the training code), in its standard view and in its live view (onset inside or before the window,
 *    AR(1) noise, centre and sigma estimated from a phase I), `--rounds` rounds of fresh seeds, medians.
 *
 *   npm run bench:spc-patterns -- [--seed 2026] [--per-class 500] [--rounds 3] [--model path/to/model.onnx]
 */
import * as spc from '../nodes/spc';
import {
  DEFAULT_PATTERN_MODEL,
  featureLength,
  featureMatrix,
  OnnxPatternClassifier,
  PATTERN_WINDOW,
  PatternGenerator,
} from '../nodes/spc/patterns';
import { finalLine, fmt, numberFlag, parseFlags, printTable } from './lib/cli';
import { HeldOutPatterns, MIN_AFFECTED } from './lib/heldout-patterns';

const flags = parseFlags();
const SEED = numberFlag(flags, 'seed', 2026);
const PER_CLASS = numberFlag(flags, 'per-class', 500);
const ROUNDS = numberFlag(flags, 'rounds', 3);
const MODEL = typeof flags.model === 'string' ? flags.model : DEFAULT_PATTERN_MODEL;
const CLASSES = spc.PATTERN_CLASSES;
const C = CLASSES.length;
const idx = (c: spc.PatternClass) => CLASSES.indexOf(c);

/**
 * The Nelson rules (centre 0, sigma 1) over the window, mapped to a class: 4 (alternating) → systematic,
 * 7 (hugging the centre) → stratification, 8 (beyond 1σ on both sides) → mixture, 3 (six rising/falling)
 * → trend, the zone and run rules 1, 2, 5, 6 on one side → shift that way, on both sides → cycle, none →
 * normal.
 */
function rulesClass(z: Float64Array): number {
  const hits = spc.rules(Array.from(z), { center: 0, sigma: 1, rules: 'nelson' });
  const has = (r: number) => hits.some((h) => h.rule === r);
  if (has(4)) return idx('systematic');
  if (has(7)) return idx('stratification');
  if (has(8)) return idx('mixture');
  if (has(3)) {
    const h = hits.find((x) => x.rule === 3) as spc.RuleHit;
    return z[h.index] > z[h.index - 1] ? idx('upward-trend') : idx('downward-trend');
  }
  const zone = hits.filter((h) => [1, 2, 5, 6].includes(h.rule));
  if (zone.length === 0) return idx('normal');
  const up = zone.some((h) => z[h.index] > 0);
  const down = zone.some((h) => z[h.index] < 0);
  if (up && down) return idx('cycle');
  return up ? idx('upward-shift') : idx('downward-shift');
}

/** Nearest centroid (Euclidean, on features standardised by the reference set) fitted on `ref`. */
function centroidClassifier(ref: {
  windows: Float64Array[];
  labels: Uint8Array;
}): (X: Float64Array, i: number) => number {
  const F = featureLength(PATTERN_WINDOW);
  const X = featureMatrix(ref.windows);
  const n = ref.labels.length;
  const mean = new Float64Array(F);
  const sd = new Float64Array(F);
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) mean[j] += X[i * F + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) sd[j] += (X[i * F + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < F; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const cent = new Float64Array(C * F);
  const count = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    count[ref.labels[i]]++;
    for (let j = 0; j < F; j++) cent[ref.labels[i] * F + j] += (X[i * F + j] - mean[j]) / sd[j];
  }
  for (let c = 0; c < C; c++) for (let j = 0; j < F; j++) cent[c * F + j] /= count[c];
  return (Y, i) => {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < C; c++) {
      let d = 0;
      for (let j = 0; j < F; j++) d += ((Y[i * F + j] - mean[j]) / sd[j] - cent[c * F + j]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best;
  };
}

function confusion(pred: Uint8Array, labels: Uint8Array): number[][] {
  const m = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  labels.forEach((y, i) => m[y][pred[i]]++);
  return m;
}

const acc = (m: number[][]) => m.reduce((s, r, i) => s + r[i], 0) / m.flat().reduce((a, b) => a + b, 0);
const SHORT = ['norm', 'up-sh', 'dn-sh', 'up-tr', 'dn-tr', 'cycle', 'syst', 'strat', 'mixt'];

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};

/** The network's class (as an index of CLASSES) of every window. */
async function predict(clf: OnnxPatternClassifier, windows: Float64Array[]): Promise<Uint8Array> {
  const P = await clf.probabilities(windows);
  const K = clf.info.classes.length;
  const out = new Uint8Array(windows.length);
  for (let i = 0; i < windows.length; i++) {
    let b = 0;
    for (let j = 1; j < K; j++) if (P[i * K + j] > P[i * K + b]) b = j;
    out[i] = idx(clf.info.classes[b]);
  }
  return out;
}

interface HeldOutRun {
  accuracy: number[];
  rules: number[];
  recall: number[][];
}

/** `ROUNDS` fresh held-out sets of one view, scored by the network and the rules. */
async function heldOut(clf: OnnxPatternClassifier, live: boolean): Promise<HeldOutRun> {
  const run: HeldOutRun = { accuracy: [], rules: [], recall: CLASSES.map(() => []) };
  for (let r = 0; r < ROUNDS; r++) {
    const set = new HeldOutPatterns(SEED + 1000 * (r + 1) + (live ? 1 : 0), live).set(CLASSES, PER_CLASS);
    const m = confusion(await predict(clf, set.windows), set.labels);
    run.accuracy.push(acc(m));
    run.rules.push(acc(confusion(Uint8Array.from(set.windows, rulesClass), set.labels)));
    m.forEach((row, i) => run.recall[i].push(row[i] / PER_CLASS));
  }
  return run;
}

async function main(): Promise<void> {
  const test = new PatternGenerator(SEED).set(PER_CLASS);
  const n = test.labels.length;
  console.log(
    `training generator, standard view: ${PER_CLASS} windows of ${PATTERN_WINDOW} points per class, seed ${SEED} (${n} windows)`,
  );

  const clf = await OnnxPatternClassifier.load(MODEL);
  console.log(
    `model: ${MODEL} (${clf.info.metadata['takt.architecture'] ?? '?'}, trained with seed ${clf.info.metadata['takt.seed'] ?? '?'})`,
  );
  const t0 = performance.now();
  const net = await predict(clf, test.windows);
  const ms = performance.now() - t0;

  const rules = Uint8Array.from(test.windows, rulesClass);
  // centroids from a reference set of its own seed (neither the training nor the held-out seed)
  const nearest = centroidClassifier(new PatternGenerator(SEED + 7919).set(PER_CLASS));
  const Xt = featureMatrix(test.windows);
  const cent = Uint8Array.from({ length: n }, (_, i) => nearest(Xt, i));

  const mNet = confusion(net, test.labels);
  const mRules = confusion(rules, test.labels);
  const mCent = confusion(cent, test.labels);
  console.log('\nconfusion matrix of the network (rows: true class, columns: predicted)');
  printTable([
    ['true \\ predicted', ...SHORT, 'recall'],
    ...mNet.map((r, i) => [CLASSES[i], ...r, `${fmt((100 * r[i]) / PER_CLASS)}%`]),
  ]);
  const recall = (m: number[][], i: number) => `${fmt((100 * m[i][i]) / PER_CLASS)}%`;
  console.log('\nper-class recall');
  printTable([
    ['class', 'network', 'Nelson rules', 'nearest centroid'],
    ...CLASSES.map((c, i) => [c, recall(mNet, i), recall(mRules, i), recall(mCent, i)]),
    [
      'overall accuracy',
      `${fmt(100 * acc(mNet))}%`,
      `${fmt(100 * acc(mRules))}%`,
      `${fmt(100 * acc(mCent))}%`,
    ],
  ]);
  console.log(
    `\nnetwork: ${fmt((n / ms) * 1000)} windows/s in one batch (features + onnxruntime, 1 thread); ` +
      `error ${fmt(100 * (1 - acc(mNet)))}% against ${fmt(100 * (1 - acc(mRules)))}% for the rules`,
  );

  console.log(
    `\nheld-out generator (bench/lib/heldout-patterns.ts), ${ROUNDS} rounds of ${PER_CLASS} windows per class, ` +
      `a shift or trend labelled once it has affected at least ${MIN_AFFECTED} points; medians over the rounds`,
  );
  const std = await heldOut(clf, false);
  const live = await heldOut(clf, true);
  await clf.dispose();
  const pc = (x: number) => `${fmt(100 * x)}%`;
  printTable([
    ['class', 'standard view', 'live view'],
    ...CLASSES.map((c, i) => [c, pc(median(std.recall[i])), pc(median(live.recall[i]))]),
    ['overall accuracy', pc(median(std.accuracy)), pc(median(live.accuracy))],
    ['Nelson rules', pc(median(std.rules)), pc(median(live.rules))],
    [
      'rounds (network)',
      std.accuracy.map((a) => fmt(100 * a)).join(' '),
      live.accuracy.map((a) => fmt(100 * a)).join(' '),
    ],
  ]);
  const r4 = (x: number) => Number(x.toFixed(4));
  finalLine({
    bench: 'spc-patterns',
    samples: n,
    seed: SEED,
    window: PATTERN_WINDOW,
    accuracy: r4(acc(mNet)),
    baselineAccuracy: r4(acc(mRules)),
    centroidAccuracy: r4(acc(mCent)),
    ratio: Number((acc(mNet) / acc(mRules)).toFixed(3)),
    heldOutGenerator: 'bench/lib/heldout-patterns.ts',
    heldOutRounds: ROUNDS,
    heldOutSamples: PER_CLASS * C,
    minAffected: MIN_AFFECTED,
    standardAccuracy: r4(median(std.accuracy)),
    liveAccuracy: r4(median(live.accuracy)),
    standardBaselineAccuracy: r4(median(std.rules)),
    liveBaselineAccuracy: r4(median(live.rules)),
    standardRecall: Object.fromEntries(CLASSES.map((c, i) => [c, r4(median(std.recall[i]))])),
    liveRecall: Object.fromEntries(CLASSES.map((c, i) => [c, r4(median(live.recall[i]))])),
  });
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
