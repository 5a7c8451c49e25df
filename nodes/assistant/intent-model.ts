/**
 * A small learned intent classifier for the assistant: multinomial logistic regression over sparse binary
 * features of the parser's normalised tokens (plant names, orders, numbers, units and times already replaced
 * by class tokens such as "{machine}", so the model learns phrasing, not names).
 *
 * Why logistic regression: it gives calibrated class probabilities (the combination with the parser's cue
 * scores needs a probability, not just a ranking), trains in a second as a convex problem with one L2
 * weight to choose, and predicts with one sparse dot product per class (microseconds). Naive Bayes is
 * faster to fit but its probabilities are overconfident with correlated n-gram features; a linear SVM gives
 * margins, not probabilities.
 *
 * Features per utterance (each counted once): words ("w:"), word pairs with start and end marks ("b:"), and
 * character trigrams of each plain word with boundary marks ("c:"), which carry misspelt and inflected forms.
 * Training: stochastic gradient descent on the mean log loss plus (lambda / 2) |W|^2, in a fixed shuffled
 * order (seeded), with the weight-scaling trick so the L2 shrinkage costs nothing per step. Pure and
 * deterministic: the same examples and options give the same model.
 */
import { Rng } from '../core/random';

/** A trained model as stored in lang/<language>-intent.json. */
export interface IntentModel {
  /** Format version. */
  version: 1;
  /** The L2 weight the model was trained with. */
  lambda: number;
  classes: string[];
  features: string[];
  /** Row-major (features.length + 1) x classes.length; the last row is the bias. */
  weights: number[];
}

export interface TrainOptions {
  /** L2 weight on the mean log loss. */
  lambda: number;
  /** Passes over the data (default 20). */
  epochs?: number;
  /** Initial step (default 0.5). */
  rate?: number;
  /** Seed of the visiting order (default 1). */
  seed?: number;
  /** A feature is kept when at least this many examples have it (default 2). */
  minCount?: number;
  /** Decimals the stored weights are rounded to (default 3; weights that round to 0 drop their feature). */
  decimals?: number;
}

export interface Example {
  features: string[];
  label: string;
}

const isClass = (t: string) => t.startsWith('{') && t.endsWith('}');

/** The features of one token sequence (the parser's normalised words and class tokens), each once. */
export function featuresOf(tokens: readonly string[]): string[] {
  const out = new Set<string>();
  const seq = ['<s>', ...tokens, '</s>'];
  for (let i = 0; i < seq.length; i++) {
    const t = seq[i];
    if (i > 0 && i < seq.length - 1) out.add(`w:${t}`);
    if (i + 1 < seq.length) out.add(`b:${t} ${seq[i + 1]}`);
    if (i > 0 && i < seq.length - 1 && !isClass(t) && /^\p{L}/u.test(t)) {
      const padded = `^${t}$`;
      for (let k = 0; k + 3 <= padded.length; k++) out.add(`c:${padded.slice(k, k + 3)}`);
    }
  }
  return [...out];
}

const indexCache = new WeakMap<IntentModel, Map<string, number>>();
function featureIndex(model: IntentModel): Map<string, number> {
  let m = indexCache.get(model);
  if (!m) {
    m = new Map(model.features.map((f, i) => [f, i]));
    indexCache.set(model, m);
  }
  return m;
}

/** Softmax of logits in place; returns the same array. */
function softmax(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) sum += z[k] = Math.exp(z[k] - max);
  for (let k = 0; k < z.length; k++) z[k] /= sum;
  return z;
}

/** Class probabilities (in model.classes order) for the features of one utterance. */
export function predictProba(model: IntentModel, features: readonly string[]): Float64Array {
  const K = model.classes.length;
  const F = model.features.length;
  const idx = featureIndex(model);
  const z = new Float64Array(K);
  for (let k = 0; k < K; k++) z[k] = model.weights[F * K + k];
  for (const f of features) {
    const j = idx.get(f);
    if (j === undefined) continue;
    for (let k = 0; k < K; k++) z[k] += model.weights[j * K + k];
  }
  return softmax(z);
}

/** The most probable class and its probability. */
export function classify(model: IntentModel, features: readonly string[]): { label: string; p: number } {
  const p = predictProba(model, features);
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return { label: model.classes[best], p: p[best] };
}

/** Fits the model (see the file comment). Deterministic for the same examples and options. */
export function trainIntentModel(examples: readonly Example[], o: TrainOptions): IntentModel {
  const epochs = o.epochs ?? 20;
  const rate = o.rate ?? 0.5;
  const minCount = o.minCount ?? 2;
  const decimals = o.decimals ?? 3;
  const classes = [...new Set(examples.map((e) => e.label))].sort();
  const count = new Map<string, number>();
  for (const e of examples) for (const f of new Set(e.features)) count.set(f, (count.get(f) ?? 0) + 1);
  const vocab = [...count.entries()]
    .filter(([, n]) => n >= minCount)
    .map(([f]) => f)
    .sort();
  const index = new Map(vocab.map((f, i) => [f, i]));
  const K = classes.length;
  const F = vocab.length;
  const X = examples.map((e) =>
    Int32Array.from(new Set(e.features.map((f) => index.get(f) ?? -1).filter((j) => j >= 0))),
  );
  const Y = examples.map((e) => classes.indexOf(e.label));
  // W = scale * V (shrinkage by multiplying scale); the bias is not shrunk
  const V = new Float64Array(F * K);
  const bias = new Float64Array(K);
  let scale = 1;
  const rng = new Rng(o.seed ?? 1);
  const order = Array.from(examples, (_e, i) => i);
  const z = new Float64Array(K);
  let t = 0;
  for (let ep = 0; ep < epochs; ep++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const n of order) {
      const x = X[n];
      const lr = rate / (1 + rate * o.lambda * t++);
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (const j of x) s += V[j * K + k];
        z[k] = scale * s + bias[k];
      }
      softmax(z);
      z[Y[n]] -= 1;
      scale *= 1 - lr * o.lambda;
      const step = lr / scale;
      for (const j of x) for (let k = 0; k < K; k++) V[j * K + k] -= step * z[k];
      for (let k = 0; k < K; k++) bias[k] -= lr * z[k];
      if (scale < 1e-6) {
        for (let q = 0; q < V.length; q++) V[q] *= scale;
        scale = 1;
      }
    }
  }
  const f = 10 ** decimals;
  const round = (v: number) => Math.round(v * f) / f || 0;
  const keep: number[] = [];
  for (let j = 0; j < F; j++) {
    let any = false;
    for (let k = 0; k < K; k++) if (round(scale * V[j * K + k]) !== 0) any = true;
    if (any) keep.push(j);
  }
  const weights: number[] = [];
  for (const j of keep) for (let k = 0; k < K; k++) weights.push(round(scale * V[j * K + k]));
  for (let k = 0; k < K; k++) weights.push(round(bias[k]));
  return { version: 1, lambda: o.lambda, classes, features: keep.map((j) => vocab[j]), weights };
}
