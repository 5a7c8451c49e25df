// Trains the assistant's intent classifier (issue #20) and writes nodes/assistant/lang/en-intent.json.
//
// Data: the own labelled batches test/assistant/*utterances*.json except the fresh holdouts
// (nodes/assistant/intent-train.ts trainingFiles), on the demo plant. Features come from the parser's own
// normalisation; the L2 weight is chosen by cross-validation over groups of whole batches; then one fit on
// all of them. Deterministic: test/assistant/intent.test.ts checks that the committed model is what this
// produces from the committed data. Run: npm run train:intent (builds first).
import { readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { batchExamples, trainFromBatches, trainingFiles } = require(
  join(root, 'dist/nodes/assistant/intent-train.js'),
);
const { readGold } = require(join(root, 'dist/bench/lib/assistant-eval.js'));
const plant = require(join(root, 'nodes/assistant/demo-plant.json'));

const dir = join(root, 'test', 'assistant');
const files = trainingFiles(readdirSync(dir));
const batches = files.map((f) => {
  const g = readGold(join(dir, f));
  return { name: f, now: g.now, utterances: g.utterances };
});
const t0 = Date.now();
const byBatch = batchExamples(batches, plant);
const { model, grid } = trainFromBatches(byBatch);
console.log(`${files.length} batches, ${byBatch.flat().length} utterances`);
console.log('lambda     cv accuracy  cv log loss (5 groups of whole batches)');
for (const r of grid)
  console.log(
    `${String(r.lambda).padEnd(10)} ${(100 * r.accuracy).toFixed(2).padStart(11)}  ${r.logLoss.toFixed(4).padStart(11)}`,
  );
const out = join(root, 'nodes/assistant/lang/en-intent.json');
writeFileSync(out, `${JSON.stringify(model)}\n`);
console.log(
  `chose lambda ${model.lambda}: ${model.features.length} features x ${model.classes.length} classes -> ${out} (${Math.round((Date.now() - t0) / 1000)} s)`,
);
