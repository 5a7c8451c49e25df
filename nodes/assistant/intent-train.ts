/**
 * Training the assistant's intent classifier (intent-model.ts) from labelled utterance batches: features from
 * the parser's own normalisation (parse with intentModel null), the L2 weight chosen by cross-validation over
 * groups of whole batches (each batch is one writer or persona, so a fold never sees phrasing from the batch
 * it is scored on), then one fit on every batch. Run by scripts/train-intent.mjs; deterministic.
 */
import { featuresOf, predictProba, trainIntentModel, type Example, type IntentModel } from './intent-model';
import { parse } from './parse';
import type { LangData, Plant } from './types';

export interface LabelledBatch {
  name: string;
  /** Epoch ms the batch's relative times are resolved against. */
  now: number;
  utterances: { text: string; intent: string }[];
}

export interface TrainReport {
  model: IntentModel;
  /** Per L2 weight of the grid: the grouped cross-validation's accuracy and mean log loss. */
  grid: { lambda: number; accuracy: number; logLoss: number }[];
}

/** The own labelled batches the model learns from: test/assistant/<name> files matching this. */
export const TRAINING_FILES = /utterances.*\.json$/;
/** Fresh holdouts written after the classifier: never trained on, never in any cross-validation. */
export const FRESH_HOLDOUTS = ['holdout-utterances-operator-6.json'];
/** Which files of a directory listing are training batches, in a fixed order. */
export const trainingFiles = (names: readonly string[]): string[] =>
  names.filter((f) => TRAINING_FILES.test(f) && !FRESH_HOLDOUTS.includes(f)).sort();

/** The L2 weights tried (per example, on the mean log loss). */
export const LAMBDA_GRID = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3];
/** Groups of batches in the cross-validation that chooses the L2 weight. */
export const CV_GROUPS = 5;

/** The classifier's token sequence of an utterance (the parser's normalisation and class tokens). */
export function classTokens(text: string, plant: Plant, now: number, lang?: LangData): string[] {
  let out: string[] = [];
  parse(text, {
    plant,
    now,
    intentModel: null,
    ...(lang ? { lang } : {}),
    explain: (i) => (out = i.features),
  });
  return out;
}

/** Each batch's examples (features and gold intent). */
export function batchExamples(batches: readonly LabelledBatch[], plant: Plant, lang?: LangData): Example[][] {
  return batches.map((b) =>
    b.utterances.map((u) => ({
      features: featuresOf(classTokens(u.text, plant, b.now, lang)),
      label: u.intent,
    })),
  );
}

/** Accuracy and mean log loss of a model on examples. */
export function evaluate(
  model: IntentModel,
  examples: readonly Example[],
): { accuracy: number; logLoss: number } {
  let ok = 0;
  let loss = 0;
  for (const e of examples) {
    const p = predictProba(model, e.features);
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    if (model.classes[best] === e.label) ok++;
    const y = model.classes.indexOf(e.label);
    loss -= Math.log(Math.max(1e-12, y >= 0 ? p[y] : 0));
  }
  const n = Math.max(1, examples.length);
  return { accuracy: ok / n, logLoss: loss / n };
}

/**
 * Chooses the L2 weight by grouped cross-validation (batch i in group i mod groups, lowest mean log loss)
 * and fits the model on all batches with it.
 */
export function trainFromBatches(
  byBatch: readonly Example[][],
  grid: readonly number[] = LAMBDA_GRID,
  groups = CV_GROUPS,
): TrainReport {
  const rows = grid.map((lambda) => {
    const scored: { accuracy: number; logLoss: number; n: number }[] = [];
    for (let g = 0; g < groups; g++) {
      const train = byBatch.filter((_b, i) => i % groups !== g).flat();
      const test = byBatch.filter((_b, i) => i % groups === g).flat();
      if (!test.length) continue;
      scored.push({ ...evaluate(trainIntentModel(train, { lambda }), test), n: test.length });
    }
    const n = scored.reduce((a, s) => a + s.n, 0);
    return {
      lambda,
      accuracy: Number((scored.reduce((a, s) => a + s.accuracy * s.n, 0) / n).toFixed(4)),
      logLoss: Number((scored.reduce((a, s) => a + s.logLoss * s.n, 0) / n).toFixed(4)),
    };
  });
  const best = rows.reduce((a, b) => (b.logLoss < a.logLoss ? b : a));
  return { model: trainIntentModel(byBatch.flat(), { lambda: best.lambda }), grid: rows };
}
