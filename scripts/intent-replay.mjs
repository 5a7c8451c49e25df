// First-sight replay of the assistant parser and its learned-classifier combination (issue #20).
//
// The parser's rules were developed on every own labelled batch, so scoring the current parser on them is
// in-sample. Most batches were committed on their own, before the parser ever ran on them: the parser of
// that commit had never seen the batch. This script rebuilds that parser from git (transpiled, no type
// check), scores it on the batch as committed then (gold labels of today where the text is unchanged), and
// combines its answer with the classifier trained on every OTHER batch of today (parse.ts BLEND: class c
// scores weight * p(c) + (1 - weight) * [c is the parser's pick] * its confidence, a pick with confidence
// >= cap stands, a negated command stays out of scope). Intent accuracy only (slots need the new parser);
// also at other weights. The per utterance records go to dist/replay/records[-strict].json.
//
// Needs git history and a build: npm run build && node scripts/intent-replay.mjs [--lambda x] [--strict]
// --strict: the classifier learns only from batches committed BEFORE the batch it scores.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const ts = require('typescript');
const dist = join(root, 'dist');
const { parse, englishIntentModel, BLEND, isCommand, trainIntentModel, classify } = require(
  join(dist, 'nodes/assistant/index.js'),
);
const { featuresOf, predictProba } = require(join(dist, 'nodes/assistant/intent-model.js'));
const { batchExamples } = require(join(dist, 'nodes/assistant/intent-train.js'));
const { readGold } = require(join(dist, 'bench/lib/assistant-eval.js'));
const plant = require(join(root, 'nodes/assistant/demo-plant.json'));

const arg = (n) => (process.argv.includes(n) ? process.argv[process.argv.indexOf(n) + 1] : undefined);
const lambda = Number(arg('--lambda') ?? englishIntentModel.lambda);
const strict = process.argv.includes('--strict');
const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
const dir = 'test/assistant';
const FRESH = ['holdout-utterances-operator-6.json'];

const files = git('ls-files', dir)
  .split('\n')
  .filter((f) => /utterances.*\.json$/.test(f) && !FRESH.some((x) => f.endsWith(x)))
  .sort();
const added = new Map(
  files.map((f) => {
    const [c, t] = git('log', '--diff-filter=A', '--format=%H %ct', '--', f)
      .trim()
      .split('\n')
      .at(-1)
      .split(' ');
    return [f, { commit: c, time: Number(t) }];
  }),
);
const sets = files.map((f) => readGold(join(root, f)));
const byBatch = batchExamples(
  sets.map((g, i) => ({ name: files[i], now: g.now, utterances: g.utterances })),
  plant,
);

/** The parser of a commit, transpiled into dist/replay/<commit>/ (node_modules resolve from the worktree). */
function oldParser(commit) {
  const out = join(dist, 'replay', commit);
  for (const f of git('ls-tree', '-r', '--name-only', commit, 'nodes/assistant', 'nodes/core').split('\n')) {
    if (!/\.(ts|json)$/.test(f) || f.endsWith('.d.ts')) continue;
    const src = git('show', `${commit}:${f}`);
    const dest = join(out, f).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(
      dest,
      f.endsWith('.ts')
        ? ts.transpileModule(src, {
            compilerOptions: {
              module: ts.ModuleKind.CommonJS,
              target: ts.ScriptTarget.ES2022,
              esModuleInterop: true,
            },
          }).outputText
        : src,
    );
  }
  return require(join(out, 'nodes/assistant/parse.js')).parse;
}

const pct = (x) => `${(100 * x).toFixed(1)}`.padStart(6);
const rows = [];
const WEIGHTS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const byWeight = WEIGHTS.map(() => 0);
/** Per utterance: gold, the old parser's intent and confidence, the classifier's class and probabilities. */
const records = [];
console.log(
  `first-sight replay, lambda ${lambda}, classifier weight ${BLEND.weight}, cap ${BLEND.cap}${strict ? ', strict (earlier batches only)' : ''}`,
);
console.log(
  `${'batch (parser of the commit that added it)'.padEnd(46)}${'n'.padStart(5)}  parser classif combined`,
);
files.forEach((f, i) => {
  const { commit, time } = added.get(f);
  const touched = git('show', '--name-only', '--format=', commit).trim().split('\n');
  // only batches committed on their own: the parser of that commit had not been changed for them
  if (touched.some((t) => !t.startsWith(dir + '/'))) return;
  const then = JSON.parse(git('show', `${commit}:${f}`));
  const now = Date.parse(then.now);
  const gold = new Map(sets[i].utterances.map((u) => [u.text, u.intent]));
  const old = oldParser(commit);
  const train = byBatch.filter((_b, j) => j !== i && (!strict || added.get(files[j]).time < time)).flat();
  if (!train.length) return;
  const model = trainIntentModel(train, { lambda });
  let a = 0;
  let b = 0;
  let c = 0;
  const us = then.utterances;
  for (const u of us) {
    const want = gold.get(u.text) ?? u.intent;
    const r = old(u.text, { plant, now });
    let tokens = [];
    parse(u.text, { plant, now, intentModel: null, explain: (x) => (tokens = x.features) });
    const feats = featuresOf(tokens);
    const guess = classify(model, feats);
    const proba = predictProba(model, feats);
    const negated = (r.issues ?? []).some((x) => x.kind === 'negated');
    const own = proba[model.classes.indexOf(r.intent)] ?? 0;
    const blend = (w) =>
      r.confidence < BLEND.cap &&
      w * guess.p > w * own + (1 - w) * r.confidence &&
      !(negated && isCommand(guess.label))
        ? guess.label
        : r.intent;
    const pick = blend(BLEND.weight);
    WEIGHTS.forEach((w, k) => (byWeight[k] += blend(w) === want ? 1 : 0));
    records.push({
      batch: f,
      gold: want,
      parser: r.intent,
      confidence: r.confidence,
      negated,
      label: guess.label,
      p: guess.p,
      pParser: own,
    });
    if (r.intent === want) a++;
    if (guess.label === want) b++;
    if (pick === want) c++;
  }
  const n = us.length;
  rows.push({ f, n, a, b, c });
  console.log(
    `${f.replace(`${dir}/`, '').replace('.json', '').padEnd(46)}${String(n).padStart(5)}  ${pct(a / n)} ${pct(b / n)}  ${pct(c / n)}`,
  );
});
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
const n = sum('n');
console.log(
  `${'all (pooled)'.padEnd(46)}${String(n).padStart(5)}  ${pct(sum('a') / n)} ${pct(sum('b') / n)}  ${pct(sum('c') / n)}`,
);
console.log(
  `combined intent by classifier weight ${WEIGHTS.map((w) => `${w}: ${pct(byWeight[WEIGHTS.indexOf(w)] / n)}`).join(', ')}`,
);
writeFileSync(join(dist, 'replay', `records${strict ? '-strict' : ''}.json`), JSON.stringify(records));
console.log(
  JSON.stringify({
    bench: 'intent-replay',
    strict,
    lambda,
    batches: rows.length,
    utterances: n,
    parserIntentAcc: Number((sum('a') / n).toFixed(4)),
    classifierIntentAcc: Number((sum('b') / n).toFixed(4)),
    combinedIntentAcc: Number((sum('c') / n).toFixed(4)),
  }),
);
