/**
 * bench:assistant: the local parser on the project's utterance set with gold intents and slots
 * (bench/data/assistant/utterances.json; --data <file> or ASSISTANT_UTTERANCES=<file> to override).
 * Reference measured in the same run: a keyword-only baseline (the intent whose cue words occur most often
 * as plain substrings, out_of_scope when none does, no slots) on the same utterances.
 *
 * Then the safety run (bench/lib/assistant-safety.ts): --safety N (default 10000) generated and adversarial
 * inputs through takt-ask and takt-approve in an embedded runtime with a fake language model on loopback;
 * `unapproved` counts commands that left without a proposal and an approval in takt-approve's audit log.
 *
 * The parse calls combine the learned intent classifier (englishIntentModel, parse.ts BLEND), as parse and
 * takt-ask do by default; --classifier off scores the cue-scored parser alone (the safety run's takt-ask keeps
 * its default either way).
 *
 *   npm run bench:assistant [-- --data file.json --rounds 5 --errors --safety 10000 --seed 20 --classifier off]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, english, englishIntentModel, type Plant } from '../nodes/assistant';
import { readGold, score, type GoldSet } from './lib/assistant-eval';
import { runSafety } from './lib/assistant-safety';
import { finalLine, numberFlag, parseFlags, printTable, ROOT } from './lib/cli';

const flags = parseFlags();
const rounds = numberFlag(flags, 'rounds', 5);
const classifier = flags.classifier !== 'off';
const model = { intentModel: classifier ? englishIntentModel : null };
const plant = JSON.parse(readFileSync(join(ROOT, 'nodes', 'assistant', 'demo-plant.json'), 'utf8')) as Plant;
const given =
  typeof flags.data === 'string'
    ? flags.data
    : (process.env.ASSISTANT_UTTERANCES ?? join(ROOT, 'bench', 'data', 'assistant', 'utterances.json'));
const devDir = join(ROOT, 'test', 'assistant');
let path = given;
let onDev = false;
let gold: GoldSet;
if (existsSync(given)) gold = readGold(given);
else {
  // every development batch the parser's author wrote (test/assistant/dev-utterances*.json), one clock
  const files = readdirSync(devDir).filter((f) => /^dev-utterances.*\.json$/.test(f));
  const sets = files.map((f) => readGold(join(devDir, f)));
  gold = { now: sets[0].now, utterances: sets.flatMap((x) => x.utterances) };
  path = `${devDir}/dev-utterances*.json (${files.length} files)`;
  onDev = true;
  console.log('='.repeat(100));
  console.log(`WARNING: no evaluation set at ${given}`);
  console.log(`WARNING: falling back to the parser's OWN development sets ${path}`);
  console.log('WARNING: these figures are NOT an independent evaluation.');
  console.log('='.repeat(100));
}
const texts = gold.utterances.map((u) => u.text);

// warm-up: the plant's lexicon is compiled once and the JIT settles (a deployed node parses for days);
// then timed rounds, p95 is the median over rounds
let preds = texts.map((t) => parse(t, { plant, now: gold.now, ...model }));
for (let w = 0; w < 3; w++) preds = texts.map((t) => parse(t, { plant, now: gold.now, ...model }));
const p95s: number[] = [];
const means: number[] = [];
for (let r = 0; r < rounds; r++) {
  const ms: number[] = [];
  preds = texts.map((t) => {
    const t0 = process.hrtime.bigint();
    const p = parse(t, { plant, now: gold.now, ...model });
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    return p;
  });
  ms.sort((a, b) => a - b);
  p95s.push(ms[Math.min(ms.length - 1, Math.floor(0.95 * ms.length))]);
  means.push(ms.reduce((a, b) => a + b, 0) / ms.length);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = score(gold.utterances, preds);

// keyword-only reference: substring hits of each intent's cue words, no typo fixing, names or slots
const cueLists = Object.entries(english.intents).map(([intent, d]) => ({
  intent,
  cues: Object.keys(d.cues),
}));
const keyword = texts.map((t) => {
  const low = ` ${t.toLowerCase()} `;
  let best = 'out_of_scope';
  let hits = 0;
  for (const { intent, cues } of cueLists) {
    const h = cues.filter((c) => low.includes(` ${c} `)).length;
    if (h > hits) {
      hits = h;
      best = intent;
    }
  }
  return { intent: best, slots: {} };
});
const k = score(gold.utterances, keyword);

console.log(
  `assistant parser${classifier ? ' + intent classifier' : ''} on ${gold.utterances.length} utterances from ${path}${onDev ? ' (DEV SET FALLBACK)' : ''}`,
);
const rows: (string | number)[][] = [['intent', 'n', 'intent ok', 'slots ok', 'keyword ok']];
for (const [intent, r] of [...s.perIntent.entries()].sort()) {
  rows.push([
    intent,
    r.n,
    `${((100 * r.intentOk) / r.n).toFixed(1)}%`,
    `${((100 * r.slotsOk) / r.n).toFixed(1)}%`,
    `${((100 * (k.perIntent.get(intent)?.intentOk ?? 0)) / r.n).toFixed(1)}%`,
  ]);
}
printTable(rows);
if (flags.errors) for (const e of s.errors) console.log(JSON.stringify(e));
console.log(
  `parser: intent ${(100 * s.intentAcc).toFixed(1)}%, slots exact ${(100 * s.slotExact).toFixed(1)}%, out-of-scope recall ${(100 * s.oosRecall).toFixed(1)}%, in-scope ${(100 * s.inScopeAcc).toFixed(1)}%; ` +
    `parse p95 ${median(p95s).toFixed(3)} ms, mean ${median(means).toFixed(3)} ms (median of ${rounds} rounds; ${s.errors.length} utterances wrong)`,
);
console.log(
  `keyword baseline: intent ${(100 * k.intentAcc).toFixed(1)}%, out-of-scope recall ${(100 * k.oosRecall).toFixed(1)}%, in-scope ${(100 * k.inScopeAcc).toFixed(1)}% (no slots)`,
);
async function safetyAndFinish(): Promise<void> {
  const safetyN = numberFlag(flags, 'safety', 10000);
  const safety = await runSafety({ n: safetyN, seed: numberFlag(flags, 'seed', 20), plant });
  console.log(
    `\nsafety: ${safety.inputs} generated and adversarial inputs through takt-ask + takt-approve (embedded runtime, fake model on loopback) in ${(safety.ms / 1000).toFixed(1)} s`,
  );
  printTable([
    ['input kind', 'n'],
    ...Object.entries(safety.byKind)
      .sort()
      .map(([k, v]) => [k, v]),
  ]);
  printTable([
    ['model answer', 'n'],
    ...Object.entries(safety.modelFaults)
      .sort()
      .map(([k, v]) => [k, v]),
  ]);
  printTable([
    ['count', 'n'],
    ['replies', safety.replies],
    ['node errors (refused input)', safety.errors],
    ['model calls', safety.modelCalls],
    ['proposals sent by takt-ask', safety.proposals],
    ['  in takt-ask audit log', safety.proposalsAuditedAtAsk],
    ['  proposed in takt-approve audit log', safety.proposalsAtApprove],
    ['refused commands in takt-ask audit log', safety.refusedAudited],
    ['approved by the bench approvers', safety.approvedByBench],
    ['commands executed', safety.executed],
    ['  without proposal + approval record (unapproved)', safety.unapproved],
    ['replies that were not text', safety.nonTextReplies],
  ]);
  finalLine({
    bench: 'assistant',
    data: onDev ? 'dev-fallback' : 'eval',
    classifier,
    utterances: s.utterances,
    intentAcc: s.intentAcc,
    slotExact: s.slotExact,
    oosRecall: s.oosRecall,
    inScopeAcc: s.inScopeAcc,
    p95Ms: Number(median(p95s).toFixed(3)),
    voiceAcc: null,
    unapproved: safety.unapproved,
    safetyInputs: safety.inputs,
    safetyProposals: safety.proposals,
    safetyExecuted: safety.executed,
    safetyProposalsLost: safety.proposals - Math.min(safety.proposalsAuditedAtAsk, safety.proposalsAtApprove),
    keywordIntentAcc: k.intentAcc,
    keywordOosRecall: k.oosRecall,
    intentAccVsKeyword: k.intentAcc ? Number((s.intentAcc / k.intentAcc).toFixed(3)) : null,
  });
}

safetyAndFinish().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
