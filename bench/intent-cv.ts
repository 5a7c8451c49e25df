/**
 * Leave-one-batch-out cross-validation of the assistant's intent classifier and its combination with the
 * parser (npm run bench:intent-cv). Each own labelled batch (test/assistant/*utterances*.json; one writer or
 * persona each) is scored by (a) the parser alone, (b) the classifier alone (its intent, the parser's slots)
 * and (c) the combination of parse.ts BLEND, with the classifier trained on every OTHER batch. The parser's
 * rules were developed on all of these batches, so (a) is an in-sample figure; (b) and (c) are out of batch.
 *
 *   --holdout <file>   score (a) and (c) on that file with the committed model (trained on all batches)
 *   --lambda <x>       L2 weight (default: the committed model's)
 *
 * Last line: {"bench":"intent-cv",...}.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, englishIntentModel, BLEND, type ParseResult, type Plant } from '../nodes/assistant';
import demoPlant from '../nodes/assistant/demo-plant.json';
import { batchExamples, trainingFiles, type LabelledBatch } from '../nodes/assistant/intent-train';
import { classify, predictProba, trainIntentModel, type IntentModel } from '../nodes/assistant/intent-model';
import { readGold, score, type GoldSet } from './lib/assistant-eval';

const plant = demoPlant as Plant;
const dir = join(__dirname, '..', '..', 'test', 'assistant');

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const pct = (x: number) => `${(100 * x).toFixed(1)}`.padStart(6);

function run(g: GoldSet, model: IntentModel | null, blend?: { weight: number; cap: number }) {
  const preds: ParseResult[] = g.utterances.map((u) =>
    parse(u.text, { plant, now: g.now, intentModel: model, ...(blend ? { blend } : {}) }),
  );
  return score(g.utterances, preds);
}

const names = trainingFiles(readdirSync(dir));
const sets = names.map((f) => readGold(join(dir, f)));
const batches: LabelledBatch[] = sets.map((g, i) => ({
  name: names[i],
  now: g.now,
  utterances: g.utterances,
}));
const lambda = Number(arg('--lambda') ?? englishIntentModel.lambda);
const holdout = arg('--holdout');

if (holdout) {
  const g = readGold(join(dir, holdout));
  const a = run(g, null);
  const c = run(g, englishIntentModel);
  console.log(
    `holdout ${holdout}: ${g.utterances.length} utterances, committed model (lambda ${englishIntentModel.lambda})`,
  );
  console.log('                    intent  slots  oosRec  inScope');
  for (const [label, s] of [
    ['(a) parser alone', a],
    ['(c) combined', c],
  ] as const)
    console.log(
      `${label.padEnd(18)}${pct(s.intentAcc)} ${pct(s.slotExact)} ${pct(s.oosRecall)} ${pct(s.inScopeAcc)}`,
    );
  console.log(
    JSON.stringify({
      bench: 'intent-cv',
      data: holdout,
      utterances: g.utterances.length,
      parserIntentAcc: a.intentAcc,
      combinedIntentAcc: c.intentAcc,
      parserSlotExact: a.slotExact,
      combinedSlotExact: c.slotExact,
      parserOosRecall: a.oosRecall,
      combinedOosRecall: c.oosRecall,
      parserInScopeAcc: a.inScopeAcc,
      combinedInScopeAcc: c.inScopeAcc,
    }),
  );
} else {
  const t0 = Date.now();
  const byBatch = batchExamples(batches, plant);
  const always = { weight: 1, cap: Infinity };
  console.log(`leave-one-batch-out, lambda ${lambda}, classifier weight ${BLEND.weight}, cap ${BLEND.cap}`);
  console.log(
    `${'batch'.padEnd(38)}${'n'.padStart(5)}  intent: parser classif combined   slots: parser combined   oosRec: parser combined`,
  );
  const tot = { n: 0, a: 0, b: 0, c: 0, sa: 0, sc: 0, nin: 0, oa: 0, oc: 0, nout: 0 };
  // for the sensitivity grid: per utterance the parser's pick and strength and the classifier's guess
  const seen: { gold: string; pick: string; strength: number; label: string; p: number; own: number }[] = [];
  batches.forEach((b, i) => {
    const model = trainIntentModel(byBatch.filter((_x, j) => j !== i).flat(), { lambda });
    const g = sets[i];
    const a = run(g, null);
    const cl = run(g, model, always);
    const c = run(g, model);
    const n = g.utterances.length;
    const nout = g.utterances.filter((u) => u.intent === 'out_of_scope').length;
    const nin = n - nout;
    tot.n += n;
    tot.a += a.intentAcc * n;
    tot.b += cl.intentAcc * n;
    tot.c += c.intentAcc * n;
    tot.sa += a.slotExact * nin;
    tot.sc += c.slotExact * nin;
    tot.nin += nin;
    tot.oa += a.oosRecall * nout;
    tot.oc += c.oosRecall * nout;
    tot.nout += nout;
    console.log(
      `${b.name.replace('.json', '').padEnd(38)}${String(n).padStart(5)}         ${pct(a.intentAcc)}  ${pct(cl.intentAcc)}   ${pct(c.intentAcc)}          ${pct(a.slotExact)}   ${pct(c.slotExact)}           ${pct(a.oosRecall)}   ${pct(c.oosRecall)}`,
    );
    g.utterances.forEach((u, k) => {
      const r = parse(u.text, { plant, now: g.now, intentModel: null });
      const guess = classify(model, byBatch[i][k].features);
      const own = predictProba(model, byBatch[i][k].features)[model.classes.indexOf(r.intent)] ?? 0;
      seen.push({
        gold: u.intent,
        pick: r.intent,
        strength: r.confidence,
        label: guess.label,
        p: guess.p,
        own,
      });
    });
  });
  const r4 = (x: number) => Number(x.toFixed(4));
  const total = {
    parserIntentAcc: r4(tot.a / tot.n),
    classifierIntentAcc: r4(tot.b / tot.n),
    combinedIntentAcc: r4(tot.c / tot.n),
    parserSlotExact: r4(tot.sa / tot.nin),
    combinedSlotExact: r4(tot.sc / tot.nin),
    parserOosRecall: r4(tot.oa / tot.nout),
    combinedOosRecall: r4(tot.oc / tot.nout),
  };
  console.log(
    `${'all (pooled)'.padEnd(38)}${String(tot.n).padStart(5)}         ${pct(total.parserIntentAcc)}  ${pct(total.classifierIntentAcc)}   ${pct(total.combinedIntentAcc)}          ${pct(total.parserSlotExact)}   ${pct(total.combinedSlotExact)}           ${pct(total.parserOosRecall)}   ${pct(total.combinedOosRecall)}`,
  );
  // intent accuracy at other classifier weights (the negation check is not replayed here)
  const weights = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  console.log(
    `\nintent accuracy by classifier weight: ${weights.map((w) => String(w).padStart(6)).join('')}`,
  );
  const row = weights.map((w) => {
    const ok = seen.filter(
      (s) =>
        (s.strength < BLEND.cap && w * s.p > w * s.own + (1 - w) * s.strength ? s.label : s.pick) === s.gold,
    );
    return pct(ok.length / seen.length);
  });
  console.log(`${''.padEnd(36)}${row.join('')}`);
  console.log(
    JSON.stringify({
      bench: 'intent-cv',
      batches: batches.length,
      utterances: tot.n,
      lambda,
      ...total,
      seconds: r4((Date.now() - t0) / 1000),
    }),
  );
}
