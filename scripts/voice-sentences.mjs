// Writes the spoken-sentence patterns of nodes/assistant/lang/en-voice.json ("sentences") from the parser
// author's development utterances (test/assistant/dev-utterances*.json; never the evaluation set in
// bench/data, never the voice bench's generator). The demo plant's names become classes ({machine}, {line},
// {order}, {item}, {characteristic}, {parameter}), numbers {num}, a unit after a number {unit}; sentences
// with a word neither the pronunciation dictionary nor the parser's language data knows (the typos the
// typed-text tests carry) are left out.
// The recognizer fills the classes with any plant's names (nodes/assistant/voice-lm.ts).
//   node scripts/voice-sentences.mjs [dict]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dictPath = process.argv[2] ?? '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';
const known = new Set(
  readFileSync(dictPath, 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[0].replace(/\(\d+\)$/, '')),
);
// the domain's own words (intent cues, units, numbers, time and order words) are kept even when the
// dictionary lacks them ("oee", "cpk"): the recognizer spells them or reads them with espeak-ng
const domain = new Set();
const collect = (x) => {
  if (typeof x === 'string') for (const w of words(x)) domain.add(w);
  else if (Array.isArray(x)) x.forEach(collect);
  else if (x && typeof x === 'object')
    for (const [k, v] of Object.entries(x)) {
      collect(k);
      collect(v);
    }
};
const plant = JSON.parse(readFileSync(join(root, 'nodes/assistant/demo-plant.json'), 'utf8'));
const lang = JSON.parse(readFileSync(join(root, 'nodes/assistant/lang/en.json'), 'utf8'));
const words = (s) =>
  s
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/(\d)\.(\d)/g, '$1 point $2')
    .replace(/([a-z])(\d)/g, '$1 $2')
    .replace(/(\d)([a-z])/g, '$1 $2')
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== "'");
const classes = [];
const add = (cls, x) => {
  for (const n of [x.id, x.name, ...(x.aliases ?? [])]) if (n) classes.push([cls, words(n).join(' ')]);
};
for (const m of plant.machines) {
  add('machine', m);
  for (const p of m.parameters ?? []) add('parameter', { name: p.name, aliases: p.aliases });
}
for (const x of plant.lines ?? []) add('line', x);
for (const x of plant.items ?? []) add('item', x);
for (const x of plant.characteristics ?? []) add('characteristic', x);
for (const o of plant.orders ?? []) add('order', o);
classes.sort((a, b) => b[1].length - a[1].length);
for (const k of ['intents', 'units', 'numbers', 'time', 'orderWords', 'setTo']) collect(lang[k]);
const units = Object.values(lang.units)
  .flat()
  .map((u) => words(u).join(' '))
  .filter((u) => u !== '')
  .sort((a, b) => b.length - a.length);

const texts = [];
const dir = join(root, 'test/assistant');
for (const f of readdirSync(dir)
  .filter((f) => /^dev-utterances.*\.json$/.test(f))
  .sort())
  for (const u of JSON.parse(readFileSync(join(dir, f), 'utf8')).utterances)
    if (u.intent !== 'out_of_scope') texts.push(u.text);

const out = new Set();
for (const t of texts) {
  let s = ` ${words(t).join(' ')} `;
  for (const [cls, name] of classes) s = s.split(` ${name} `).join(` {${cls}} `);
  // "order 105": the order's number is the order
  s = s.replace(/ order (\d+) /g, ' order {order} ');
  s = s.replace(/ \d+ /g, ' {num} ').replace(/ \d+ /g, ' {num} ');
  s = s.replace(/( \{num\}(?: point \{num\})?) /g, '$1 ');
  for (const u of units) s = s.split(` {num} ${u} `).join(' {num} {unit} ');
  s = s.trim();
  if (s.split(' ').every((w) => /^\{\w+\}$/.test(w) || known.has(w) || domain.has(w))) out.add(s);
}
const path = join(root, 'nodes/assistant/lang/en-voice.json');
const voice = JSON.parse(readFileSync(path, 'utf8'));
voice.sentences = [...out].sort();
writeFileSync(path, JSON.stringify(voice, null, 2) + '\n');
console.log(`${texts.length} utterances -> ${voice.sentences.length} sentence patterns`);
