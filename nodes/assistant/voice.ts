/**
 * Offline voice for the assistant: speech to text with pocketsphinx, and text to speech with espeak-ng. The
 * binaries run as child processes; nothing downloads. No Node-RED import: `takt-voice-in` and `takt-say` are
 * the nodes around it.
 *
 * The recognizer searches a domain language model by default (voice-lm.ts: a trigram model built from the
 * voice language data's sentence patterns filled with the plant's own names, numbers and units), or, with
 * `search: 'grammar'`, a JSGF grammar generated from the language data (intent cue phrases, number words,
 * units, time words) and the plant's names. Both come with a pronunciation dictionary for exactly their
 * words: the model's dictionary, else digits as number words ("105": one oh five, one hundred and five),
 * letters by name ("cnc": see en see) and espeak-ng's reading of the word ("oee": oh).
 *
 * Before decoding, the audio is resampled to 16 kHz mono 16-bit and gets a seeded white noise floor 40 dB
 * under the speech: synthetic or gated audio holds runs of exact digital silence, whose log energies throw
 * the decoder's noise estimate and feature normalisation off (a clean espeak-ng sentence decoded as one
 * word). A microphone's own room noise is usually near or above that floor, so it changes little there.
 * pocketsphinx_batch decodes the whole recording as one utterance and lists its n best hypotheses; each search
 * runs in a decoder process started once per plant and kept (voice-decoder.ts), so the acoustic model loads
 * and a grammar compiles once, not per command. With the language model and `secondPass`, a second decoder
 * hears the same audio at the same time against a grammar of the same sentence patterns
 * (buildPatternGrammar), which hears only whole sentences of the domain; the parser picks among both passes'
 * hypotheses (pickHeard: first the meaning both passes heard). It is off by default: it hears about 5 more
 * commands in 100 on synthetic voices, but the grammar's search costs about six times the language
 * model's CPU per command and its decoder holds about 230 MB (README, bench:voice). Measured and not kept
 * (bench:voice, generated and held-out sets): the grammar's hypothesis first, or whichever of the two has the
 * better acoustic score (59 and 47 fully right, against 71 and 53 for pickHeard's order then); pocketsphinx
 * -remove_noise no (69 and 42, against 67 and 51 without a second pass); a sox band limit to 100-4000 Hz
 * (34 and 24); -cmn batch (no change); a {time} class in the sentence patterns filled from the language's
 * time words (72 and 53 against 73 and 56: the model then hears time words where there are none).
 *
 * The grammar is one rule per intent: an optional lead ("can you", "what is"), the intent's cue phrases (one
 * or two), an optional helper verb, the intent's names in any order (each after an optional preposition and
 * article; the names the intent requires are not optional), an optional trailing cue, a value with its unit
 * and a time where the intent takes them. A fixed list of sentences would not carry over to another plant;
 * this carries over to any plant's names. Decoding uses wider beams than pocketsphinx's defaults, which prune
 * the right path in a grammar this size.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaktError } from '../core/errors';
import { mulberry32 } from '../core/random';
import voiceEn from './lang/en-voice.json';
import { english, INTENT_SLOTS, parse } from './parse';
import type { LangData, Plant, Slots } from './types';
import { Decoder, type Decoded } from './voice-decoder';
import { arpaModel, fillSentences } from './voice-lm';

/** Words the speech side of a language needs beyond the parser's language data. */
export interface VoiceLang {
  language: string;
  /** Letter names as ARPAbet phones: the fallback pronunciation of words missing from the dictionary. */
  letters: Record<string, string>;
  /**
   * The espeak-ng voice that reads a word missing from the dictionary (its letter-to-sound rules: "oee" said
   * as one syllable), and its IPA symbols as the acoustic model's phones. A word gets this reading beside
   * its spelled letters; without espeak-ng only the letters.
   */
  espeakVoice?: string;
  ipaPhones?: Record<string, string>;
  /** "zero".."nine", for names with digits in them (CNC1, ORD-105). */
  digitWords: string[];
  /** Other ways to say 0 inside a digit string ("one oh five"). */
  zeroAlternatives: string[];
  /** Phrases that may open an utterance ("can you", "what is"). */
  lead: string[];
  prepositions: string[];
  determiners: string[];
  /** Helper verbs of questions ("did", "will", "does") and the pronouns after them ("did we"). */
  auxiliaries: string[];
  pronouns: string[];
  /** Phrases that may close an utterance ("please", "right now"). */
  post: string[];
  /**
   * Sentence patterns an operator says, with classes the plant fills: {machine} {line} {order} {item}
   * {characteristic} {parameter}, {num} (a number in words) and {unit} (the language's unit words). The
   * domain language model is counted from them (voice-lm.ts; scripts/voice-sentences.mjs wrote the English).
   */
  sentences: string[];
}

export const englishVoice: VoiceLang = voiceEn;

export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
const PS_BIN = 'pocketsphinx_batch';
const PS_PACKAGES = 'pocketsphinx pocketsphinx-en-us';

export interface Grammar {
  /** The JSGF text. */
  jsgf: string;
  /** The pronunciation dictionary for exactly the grammar's words (pocketsphinx -dict format). */
  dict: string;
  /** Every word of the grammar. */
  words: string[];
  /** Words not in the base dictionary, pronounced by the fallback (spelled letters, digits as number words). */
  fallback: string[];
}

/** The recognizer's language model: ARPA text (search 'lm') with its dictionary. */
export interface DomainModel {
  arpa: string;
  dict: string;
  words: string[];
  fallback: string[];
  /** Sentences counted (the patterns filled with the plant's names). */
  sentences: number;
}

export interface GrammarOptions {
  lang?: LangData;
  voice?: VoiceLang;
  /** The base pronunciation dictionary (default: the model's cmudict-en-us.dict). */
  dictPath?: string;
  modelDir?: string;
}

/** word -> pronunciations, read once per path. */
const dictCache = new Map<string, Map<string, string[]>>();
export function readDictionary(path: string): Map<string, string[]> {
  const hit = dictCache.get(path);
  if (hit) return hit;
  if (!existsSync(path))
    throw new TaktError(
      'voice.missingModel',
      `pronunciation dictionary ${path} not found: install the Debian packages ${PS_PACKAGES}`,
      'model',
    );
  const map = new Map<string, string[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const word = line.slice(0, sp).replace(/\(\d+\)$/, '');
    const phones = line.slice(sp + 1).trim();
    const list = map.get(word);
    if (list) list.push(phones);
    else map.set(word, [phones]);
  }
  dictCache.set(path, map);
  return map;
}

/** The base pronunciation dictionary of these options (default: the model's cmudict-en-us.dict). */
function baseDictionary(opts: GrammarOptions): Map<string, string[]> {
  return readDictionary(opts.dictPath ?? join(opts.modelDir ?? DEFAULT_MODEL_DIR, 'cmudict-en-us.dict'));
}

/** Lower case words of a phrase as the grammar spells them: letters, digits and apostrophes only. */
export function spokenWords(phrase: string): string[] {
  return phrase
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/([a-z])(\d)/g, '$1 $2')
    .replace(/(\d)([a-z])/g, '$1 $2')
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== "'");
}

/** The spoken words of each phrase. */
const P = (phrases: string[]): string[][] => phrases.map(spokenWords);

/** An integer 0..999999 in words, from the language's number data ("182" -> one hundred and eighty two). */
export function numberWords(n: number, lang: LangData, withAnd = true): string[] {
  // a digit's other names for zero ("oh", "nought") are read, never said for a number
  const digitZero = new Set(lang.digitZero ?? []);
  const units = Object.entries(lang.numbers.units).filter(([w]) => !digitZero.has(w));
  const unitOf = (v: number) => units.find(([, x]) => x === v)?.[0] ?? String(v);
  const tensOf = (v: number) => Object.entries(lang.numbers.tens).find(([, x]) => x === v)?.[0] ?? String(v);
  const scale = (v: number) => Object.entries(lang.numbers.scales).find(([, x]) => x === v)?.[0] ?? String(v);
  const and = lang.numbers.and[0] ?? 'and';
  const below100 = (v: number): string[] =>
    v < 20 ? [unitOf(v)] : v % 10 === 0 ? [tensOf(v)] : [tensOf(v - (v % 10)), unitOf(v % 10)];
  const below1000 = (v: number): string[] => {
    if (v < 100) return below100(v);
    const rest = v % 100;
    const head = [unitOf(Math.floor(v / 100)), scale(100)];
    return rest === 0 ? head : [...head, ...(withAnd ? [and] : []), ...below100(rest)];
  };
  if (n < 1000) return below1000(n);
  const rest = n % 1000;
  const head = [...below1000(Math.floor(n / 1000)), scale(1000)];
  if (rest === 0) return head;
  return [...head, ...(rest < 100 && withAnd ? [and] : []), ...below1000(rest)];
}

/** Pronunciations of a word missing from the dictionary: digits as number words, letters by name. */
function fallbackPronunciations(
  word: string,
  dict: Map<string, string[]>,
  lang: LangData,
  voice: VoiceLang,
): string[] {
  const phonesOf = (w: string) => dict.get(w)?.[0] ?? '';
  if (/^\d+$/.test(word)) {
    const out = new Set<string>();
    const digitForms = [
      voice.digitWords,
      ...voice.zeroAlternatives.map((z) => [z, ...voice.digitWords.slice(1)]),
    ];
    for (const forms of digitForms) out.add([...word].map((d) => phonesOf(forms[Number(d)])).join(' '));
    // in pairs, as part numbers are read: "6205" sixty two oh five
    if (word.length >= 4 && word.length % 2 === 0 && word[0] !== '0')
      for (const zero of [voice.digitWords[0], ...voice.zeroAlternatives]) {
        const pairs = (word.match(/\d\d/g) ?? []).map((pair) => {
          const v = Number(pair);
          if (v >= 10) return numberWords(v, lang, false);
          return [zero, voice.digitWords[v]];
        });
        out.add(pairs.flat().map(phonesOf).join(' '));
      }
    const n = Number(word);
    if (n < 1e6 && !(word.length > 1 && word.startsWith('0'))) {
      out.add(numberWords(n, lang, true).map(phonesOf).join(' '));
      out.add(numberWords(n, lang, false).map(phonesOf).join(' '));
    }
    return [...out].filter((p) => p.trim() !== '');
  }
  const spelled = [...word].map((ch) => voice.letters[ch] ?? '').filter((p) => p !== '');
  return spelled.length ? [spelled.join(' ')] : [];
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Alternatives of phrases as a JSGF body; every phrase is a sequence of grammar words. */
function alt(phrases: Iterable<string[]>): string {
  const uniq = [...new Set([...phrases].filter((p) => p.length).map((p) => p.join(' ')))];
  uniq.sort();
  return uniq.length ? `( ${uniq.join(' | ')} )` : '<VOID>';
}

/** The spoken names of something in the plant: its name, id and aliases. */
function names(x: { id?: string; name?: string; aliases?: string[] }): string[][] {
  const out: string[][] = [];
  for (const n of [x.id, x.name, ...(x.aliases ?? [])]) if (n) out.push(spokenWords(n));
  return out;
}

/**
 * The JSGF rules both grammars share: numbers in words (<num>, <int>, <digit>), units (<unit>, <value>), the
 * plant's names (<machine>, <line>, <order>, <item>, <characteristic>, <parameter>) and times (<time>). A
 * class the plant has no names for is <VOID>.
 */
function classRules(plant: Plant, lang: LangData): Record<string, string> {
  const rules: Record<string, string> = {};
  // numbers: integers to 999999 in words, an optional sign and decimals
  const units = Object.keys(lang.numbers.units).map((w) => [w]);
  const oneToNine = Object.entries(lang.numbers.units)
    .filter(([, v]) => v >= 1 && v <= 9)
    .map(([w]) => [w]);
  const digits = Object.entries(lang.numbers.units)
    .filter(([, v]) => v <= 9)
    .map(([w]) => [w]);
  const scaleWord = (v: number) => Object.entries(lang.numbers.scales).find(([, x]) => x === v)?.[0];
  rules.units = alt(units);
  rules.tens = alt(Object.keys(lang.numbers.tens).map((w) => [w]));
  rules.one9 = alt(oneToNine);
  rules.digit = alt(digits);
  rules.and = alt(P(lang.numbers.and));
  rules.below100 = '( <units> | <tens> [ <one9> ] )';
  rules.hundreds = `( <one9> ${scaleWord(100) ?? 'hundred'} [ [ <and> ] <below100> ] )`;
  rules.int = `( <below100> | <hundreds> | ( <below100> | <hundreds> ) ${scaleWord(1000) ?? 'thousand'} [ [ <and> ] ( <hundreds> | <below100> ) ] )`;
  rules.sign = alt(P([...lang.numbers.minus, ...lang.numbers.plus]));
  rules.point = alt(P(lang.numbers.point));
  rules.num =
    '( [ <sign> ] ( <int> [ <point> <digit> [ <digit> ] [ <digit> ] ] | <point> <digit> [ <digit> ] ) )';
  rules.unit = alt(Object.values(lang.units).flat().map(spokenWords));
  rules.value = '( <num> [ <unit> ] )';

  // the plant's names
  rules.machine = alt(plant.machines.flatMap(names));
  rules.line = alt((plant.lines ?? []).flatMap(names));
  const orderWords = P(lang.orderWords);
  rules.orderWord = alt(orderWords);
  rules.order = !plant.orders?.length
    ? '<VOID>'
    : `( [ <orderWord> ] ${alt(
        (plant.orders ?? []).flatMap((o) => [
          ...names(o),
          ...spokenWords(o.id)
            .filter((w) => /\d/.test(w))
            .map((w) => [w]),
        ]),
      )} )`;
  rules.item = alt((plant.items ?? []).flatMap(names));
  rules.characteristic = alt((plant.characteristics ?? []).flatMap(names));
  rules.parameter = alt(
    plant.machines.flatMap((m) =>
      (m.parameters ?? []).flatMap((p) => names({ name: p.name, aliases: p.aliases })),
    ),
  );

  // times: "this shift", "last hour", "since six", "tomorrow at two pm", "in three hours", "early shift"
  const t = lang.time;
  const durations = Object.values(t.durations).flat();
  rules.day = alt(
    P([
      ...t.now,
      ...t.today,
      ...t.yesterday,
      ...t.tomorrow,
      ...t.tonight,
      ...t.lastNight,
      ...t.dayAfterTomorrow,
      ...t.morning,
      ...Object.keys(t.weekdays),
    ]),
  );
  rules.rel = alt(P([...t.this, ...t.last, ...t.next]));
  rules.period = alt(
    P([...t.shift, ...durations, ...Object.values(t.shiftNames).flat(), ...t.morning, ...t.partOfDay]),
  );
  rules.clock = `( ( <below100> [ <below100> ] | ${alt(P([...t.midnight, ...t.noon]))} ) [ ${alt(P([...t.am, ...t.pm, ...t.oclock]))} ] )`;
  rules.time = `( <day> [ ${alt(P(t.partOfDay))} ] | <rel> <period> | ${alt(P([...t.since, ...t.at]))} <clock> | ${alt(P(t.in))} <int> ${alt(P(durations))} | ${alt(P([...t.shiftStart, ...t.shiftEnd]))} )`;
  return rules;
}

/** The grammar and its dictionary for one plant and language. */
export function buildGrammar(plant: Plant, opts: GrammarOptions = {}): Grammar {
  const lang = opts.lang ?? english;
  const voice = opts.voice ?? englishVoice;
  const rules = classRules(plant, lang);

  const slotRule: Partial<Record<keyof Slots, string>> = {
    machine: '<machine>',
    line: '<line>',
    order: '<order>',
    item: '<item>',
    characteristic: '<characteristic>',
    parameter: '<parameter>',
    value: '<value>',
    period: '<time>',
    when: '<time>',
  };
  rules.lead = alt(P(voice.lead));
  rules.prep = alt(P(voice.prepositions));
  rules.det = alt(P(voice.determiners));
  rules.aux = alt(P(voice.auxiliaries));
  rules.post = alt(P(voice.post));
  rules.setTo = alt(P(lang.setTo));
  const ENTITY: (keyof Slots)[] = ['machine', 'line', 'characteristic', 'item', 'order', 'parameter'];
  const top: string[] = [];
  for (const [intent, spec] of Object.entries(INTENT_SLOTS)) {
    const data = lang.intents[intent];
    if (!data) continue;
    const cues = [...Object.keys(data.cues), ...(data.combos ?? []).flatMap(([a, b]) => [...a, ...b])];
    rules[`cue_${intent}`] = alt(P(cues));
    const cue = `<cue_${intent}>`;
    // the intent's names in any order, each after an optional preposition and article; a name the intent
    // requires is not optional (else the decoder may swap it for a few short words)
    const ents = [
      ...new Set(
        spec.slots
          .filter((x) => ENTITY.includes(x))
          .map((x) => slotRule[x] as string)
          .filter((r) => rules[r.slice(1, -1)] !== '<VOID>'),
      ),
    ];
    const needed = new Set(spec.required.map((x) => slotRule[x]));
    const perms = permutations(ents).map((p) =>
      p.map((e) => (needed.has(e) ? `[ <prep> ] [ <det> ] ${e}` : `[ [ <prep> ] [ <det> ] ${e} ]`)).join(' '),
    );
    if (ents.length) rules[`ents_${intent}`] = `( ${perms.join(' | ')} )`;
    const ents_ = ents.length ? ` <ents_${intent}>` : '';
    const value = spec.slots.includes('value') ? ' [ <setTo> ] <value>' : '';
    const time = spec.slots.includes('period') || spec.slots.includes('when') ? ' [ <time> ]' : '';
    rules[`i_${intent}`] =
      `( [ <lead> ] [ <det> ] ${cue} [ ${cue} ] [ <aux> ]${ents_} [ ${cue} ]${value}${time} [ <post> ] )`;
    top.push(`<i_${intent}>`);
  }
  return toGrammar(rules, top, lang, voice, opts);
}

/** JSGF text from rules and the top-level alternatives, with the dictionary for exactly its words. */
function toGrammar(
  rules: Record<string, string>,
  top: string[],
  lang: LangData,
  voice: VoiceLang,
  opts: GrammarOptions,
): Grammar {
  const dict = baseDictionary(opts);
  // rules with no words (a plant without lines) are left out; nothing refers to them
  const body = Object.entries(rules)
    .filter(([, r]) => r !== '<VOID>')
    .map(([name, r]) => `<${name}> = ${r};`)
    .join('\n');
  const jsgf = `#JSGF V1.0;\ngrammar takt;\npublic <utterance> = ( ${top.join(' | ')} );\n${body}\n`;
  const words = [
    ...new Set(
      jsgf
        .replace(/<[^>]+>/g, ' ')
        .replace(/#JSGF V1\.0;|grammar takt;|public/g, ' ')
        .replace(/[()|[\]=;]/g, ' ')
        .split(/\s+/)
        .filter((w) => w !== ''),
    ),
  ].sort();
  return { jsgf, ...dictionaryFor(words, dict, lang, voice), words };
}

/**
 * The grammar of the voice language data's sentence patterns ("sentences", the same patterns the domain
 * language model is counted from), each class filled by the plant's names, numbers in words and units: the
 * recognizer's second pass. The patterns are merged into a prefix tree, so sentences with the same opening
 * share its words; a pattern with a class the plant has no names for is left out.
 */
export function buildPatternGrammar(plant: Plant, opts: GrammarOptions = {}): Grammar {
  const lang = opts.lang ?? english;
  const voice = opts.voice ?? englishVoice;
  const rules = classRules(plant, lang);
  interface Trie {
    end: boolean;
    next: Map<string, Trie>;
  }
  const root: Trie = { end: false, next: new Map() };
  for (const pattern of voice.sentences) {
    const tokens = pattern.split(/\s+/).filter((w) => w !== '');
    const refs = tokens.map((t) => (/^\{\w+\}$/.test(t) ? `<${t.slice(1, -1)}>` : t));
    if (
      !tokens.length ||
      refs.some((r) => r.startsWith('<') && (rules[r.slice(1, -1)] ?? '<VOID>') === '<VOID>')
    )
      continue;
    let node = root;
    for (const r of refs) {
      let child = node.next.get(r);
      if (!child) node.next.set(r, (child = { end: false, next: new Map() }));
      node = child;
    }
    node.end = true;
  }
  const alts = (node: Trie): string[] =>
    [...node.next].map(([tok, child]) => (child.next.size ? `${tok} ${expr(child)}` : tok));
  const expr = (node: Trie): string => {
    const a = alts(node);
    const one = a.length === 1 ? a[0] : `( ${a.join(' | ')} )`;
    return node.end ? `[ ${one} ]` : one;
  };
  if (!root.next.size)
    throw new TaktError('voice.noSentences', 'the voice language data has no sentences for this plant');
  return toGrammar(rules, alts(root), lang, voice, opts);
}

/**
 * IPA text (espeak-ng --ipa) -> the acoustic model's phones, longest symbol first; stress and length marks
 * and symbols the table lacks are dropped. '' when nothing maps.
 */
export function ipaToPhones(ipa: string, table: Record<string, string>): string {
  const keys = Object.keys(table).sort((a, b) => b.length - a.length);
  const text = ipa.replace(/[ˈˌ\s\-_']/g, '');
  const out: string[] = [];
  for (let i = 0; i < text.length;) {
    const k = keys.find((x) => text.startsWith(x, i));
    if (k) out.push(...table[k].split(' '));
    i += k ? k.length : 1;
  }
  // "ɚɹ" (an r-coloured vowel before r) is one ER
  return out.filter((p, i) => !(p === 'R' && out[i - 1] === 'ER')).join(' ');
}

/** espeak-ng readings as phones per voice and word ('' when nothing mapped), kept for the process's life. */
const readingCache = new Map<string, string>();

/**
 * espeak-ng's reading of words (one per line in, one IPA line out), as phones: word -> phones. Empty when
 * espeak-ng is missing or the language data has no voice or IPA table. A word is read once per process:
 * every plant message rebuilds the model with mostly the same words.
 */
export function espeakReadings(words: string[], voice: VoiceLang): Map<string, string> {
  const out = new Map<string, string>();
  if (!words.length || !voice.espeakVoice || !voice.ipaPhones) return out;
  const key = (w: string) => `${voice.espeakVoice}\u0000${w}`;
  const todo = [...new Set(words.filter((w) => !readingCache.has(key(w))))];
  if (todo.length) {
    const r = spawnSync('espeak-ng', ['-q', '--ipa', '-v', voice.espeakVoice], {
      input: todo.join('\n') + '\n',
      encoding: 'utf8',
      timeout: 20000,
    });
    const lines =
      r.status === 0 && typeof r.stdout === 'string'
        ? r.stdout.split('\n').filter((l) => l.trim() !== '')
        : [];
    // a failed run (espeak-ng missing) is not kept: a later plant may find it installed
    if (lines.length === todo.length)
      todo.forEach((w, i) => readingCache.set(key(w), ipaToPhones(lines[i], voice.ipaPhones ?? {})));
  }
  for (const w of words) {
    const phones = readingCache.get(key(w));
    if (phones) out.set(w, phones);
  }
  return out;
}

/**
 * The pronunciation dictionary (pocketsphinx -dict format) for exactly these words. A word missing from the
 * base dictionary is pronounced by its spelled letters (digits as number words) and by espeak-ng's reading.
 */
function dictionaryFor(
  words: string[],
  dict: Map<string, string[]>,
  lang: LangData,
  voice: VoiceLang,
): { dict: string; fallback: string[] } {
  const lines: string[] = [];
  const fallback = words.filter((w) => !dict.has(w));
  const read = espeakReadings(
    fallback.filter((w) => !/^\d+$/.test(w)),
    voice,
  );
  for (const w of words) {
    let prons = dict.get(w);
    if (!prons) {
      prons = fallbackPronunciations(w, dict, lang, voice);
      const r = read.get(w);
      if (r && !prons.includes(r)) prons = [...prons, r];
    }
    prons.forEach((p, i) => lines.push(`${i ? `${w}(${i + 1})` : w} ${p}`));
  }
  return { dict: lines.join('\n') + '\n', fallback };
}

/** The domain language model and its dictionary for one plant and language (voice-lm.ts). */
export function buildLanguageModel(plant: Plant, opts: GrammarOptions = {}): DomainModel {
  const lang = opts.lang ?? english;
  const voice = opts.voice ?? englishVoice;
  const dict = baseDictionary(opts);
  const lm = arpaModel(fillSentences(plant, { sentences: voice.sentences, lang, spokenWords, numberWords }));
  return {
    arpa: lm.arpa,
    ...dictionaryFor(lm.words, dict, lang, voice),
    words: lm.words,
    sentences: lm.sentences,
  };
}

/** The format of a WAV buffer (RIFF, the fmt chunk). Throws voice.badAudio when it is not a WAV. */
export interface WavInfo {
  format: number;
  channels: number;
  sampleRate: number;
  bits: number;
}
export function wavInfo(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new TaktError('voice.badAudio', 'audio must be a WAV file (RIFF/WAVE)', 'payload');
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ' && off + 24 <= buf.length)
      return {
        format: buf.readUInt16LE(off + 8),
        channels: buf.readUInt16LE(off + 10),
        sampleRate: buf.readUInt32LE(off + 12),
        bits: buf.readUInt16LE(off + 22),
      };
    off += 8 + size + (size % 2);
  }
  throw new TaktError('voice.badAudio', 'WAV has no fmt chunk', 'payload');
}
/** The samples of a 16-bit PCM WAV's data chunk. Throws voice.badAudio when there is none. */
export function pcm16(wav: Buffer): Int16Array {
  let off = 12;
  while (off + 8 <= wav.length) {
    const id = wav.toString('ascii', off, off + 4);
    const size = wav.readUInt32LE(off + 4);
    if (id === 'data') {
      const len = Math.min(size, wav.length - off - 8) & ~1;
      const out = new Int16Array(len / 2);
      for (let i = 0; i < out.length; i++) out[i] = wav.readInt16LE(off + 8 + 2 * i);
      return out;
    }
    off += 8 + size + (size % 2);
  }
  throw new TaktError('voice.badAudio', 'WAV has no data chunk', 'payload');
}

/** A 16 kHz mono 16-bit PCM WAV (the plain 44-byte header pocketsphinx reads) holding these samples. */
export function wav16(pcm: Int16Array, sampleRate = 16000): Buffer {
  const b = Buffer.alloc(44 + pcm.length * 2);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + pcm.length * 2, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(pcm.length * 2, 40);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i], 44 + 2 * i);
  return b;
}

/** The noise floor, in dB under the RMS of the voiced samples (see noiseFloorRms). */
export const NOISE_FLOOR_DB = 40;
/** The least noise floor RMS in 16-bit steps (about -60 dB full scale), for audio with nothing voiced. */
const MIN_FLOOR = 30;
/**
 * The RMS of the noise floor for these samples: NOISE_FLOOR_DB under the RMS of the voiced samples (above 1 %
 * of full scale), at least MIN_FLOOR. With the whole recording decoded as one utterance (bench:voice, 100
 * generated commands, 1-best): no floor 52 fully right (8 of 25 clean), 21 dB 48, 30 dB 59, 40 dB 66, 50 dB 64.
 */
export function noiseFloorRms(pcm: Int16Array): number {
  let sum = 0;
  let n = 0;
  for (const v of pcm)
    if (Math.abs(v) > 328) {
      sum += v * v;
      n++;
    }
  return n ? Math.max(MIN_FLOOR, Math.sqrt(sum / n) / 10 ** (NOISE_FLOOR_DB / 20)) : MIN_FLOOR;
}
/**
 * The samples with a faint white noise added (seeded: the same audio decodes the same way every time), so
 * no run of exact digital silence reaches the decoder (see the file comment).
 */
export function withNoiseFloor(pcm: Int16Array, rms = noiseFloorRms(pcm), seed = 1): Int16Array {
  const rnd = mulberry32(seed);
  const out = new Int16Array(pcm.length);
  // the sum of three uniforms in [-1, 1) has variance 1: a near-Gaussian noise of the given RMS
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i] + rms * (rnd() + rnd() + rnd() - 1.5) * 2;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

/** 16 kHz, mono, 16-bit PCM: what the en-us acoustic model expects. */
export function isRecognizerFormat(i: WavInfo): boolean {
  return (
    (i.format === 1 || i.format === 0xfffe) && i.channels === 1 && i.sampleRate === 16000 && i.bits === 16
  );
}

interface RunResult {
  stdout: Buffer;
  stderr: string;
}
/** Runs a binary with a timeout; a missing binary is voice.missingBinary naming the Debian packages. */
export function run(
  bin: string,
  args: string[],
  opts: { input?: Buffer; timeoutMs: number; packages: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let settled = false;
    const finish = (e: Error | null, r?: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(r as RunResult);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new TaktError('voice.timeout', `${bin} took longer than ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        e.code === 'ENOENT'
          ? new TaktError(
              'voice.missingBinary',
              `${bin} not found: install the Debian package(s) ${opts.packages}`,
            )
          : e,
      ),
    );
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4000) err += d.toString();
    });
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      if (code !== 0)
        finish(
          new TaktError(
            'voice.failed',
            `${bin} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`,
          ),
        );
      else finish(null, { stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

/**
 * Any WAV sox reads -> 16 kHz mono 16-bit PCM WAV. `-R`: sox dithers a resampled 16-bit output with a random
 * seed by default; a fixed seed makes the same audio convert (and decode) the same way every time.
 */
export async function toRecognizerWav(buf: Buffer, timeoutMs = 10000): Promise<Buffer> {
  const info = wavInfo(buf);
  if (isRecognizerFormat(info)) return buf;
  const r = await run(
    'sox',
    ['-R', '-t', 'wav', '-', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'wav', '-'],
    {
      input: buf,
      timeoutMs,
      packages: 'sox',
    },
  ).catch((e: unknown) => {
    if (e instanceof TaktError && e.code === 'voice.missingBinary')
      throw new TaktError(
        'voice.badAudio',
        `audio is ${info.sampleRate} Hz, ${info.channels} channel(s), ${info.bits}-bit (format ${info.format}); the recognizer needs 16 kHz mono 16-bit PCM WAV and sox (Debian package sox) is not installed to convert it`,
        'payload',
      );
    throw e;
  });
  return r.stdout;
}

export interface RecognizerOptions extends GrammarOptions {
  /** Kill a decode after this long (default 20 s; a new decoder process gets 120 s more to load its model). */
  timeoutMs?: number;
  /**
   * What the decoder searches: 'lm' (default), the domain language model; 'grammar', the JSGF grammar, which
   * hears only the word orders it lists.
   */
  search?: 'lm' | 'grammar';
  /**
   * With search 'lm': also decode with the grammar of the voice language data's sentence patterns
   * (buildPatternGrammar), beside the language model, in a second decoder process; its hypothesis is a
   * candidate for the parser's pick (pickHeard). Default false: about 5 more commands in 100 on synthetic
   * voices (bench:voice, generated and held-out sets), for about six times the decoding CPU per command and
   * a decoder process of about 230 MB.
   */
  secondPass?: boolean;
}
export interface Transcript {
  /**
   * The words chosen: the decoder's best, else the sentence-pattern grammar's hypothesis, else the first
   * n-best hypothesis that the parser reads fully (pickHeard).
   */
  text: string;
  /** The decoder's best hypothesis. */
  best: string;
  /** The n-best hypotheses, best first, without repeats. */
  alternatives: string[];
  /** The sentence-pattern grammar's hypothesis (the second pass; '' when it heard nothing). */
  grammar?: string;
  /** Wall time of the whole transcription (conversion and decoding). */
  ms: number;
  /** Each pass's scored hypotheses and decode time: the language model's (or grammar's), the second pass's. */
  passes: { first: Decoded; second?: Decoded };
}

/** How many hypotheses the decoder lists (-nbest); the parser picks among them. */
export const NBEST = 20;

/**
 * The parser's reading of a text, and whether it reads it fully: an intent in scope with every slot the
 * intent requires, and no unresolved name. `meaning` is the intent and slots as one key.
 */
function reading(
  text: string,
  plant: Plant,
  lang: LangData,
  now: number,
): { full: boolean; meaning: string } {
  const r = parse(text, { plant, lang, now });
  const full =
    !r.outOfScope &&
    r.intent !== 'out_of_scope' &&
    INTENT_SLOTS[r.intent].required.every((k) => r.slots[k] !== undefined) &&
    !(r.issues ?? []).length;
  return { full, meaning: JSON.stringify([r.intent, r.slots]) };
}

/**
 * The text to pass on, among the hypotheses the parser reads fully: the one whose meaning (intent and slots)
 * both passes heard, i.e. the second pass's hypothesis means the same as one of the language model's n-best;
 * else, in order, the decoder's best, the second pass's hypothesis (the sentence-pattern grammar), the n-best
 * (the decoder's score orders them); else the best. Without a second pass this is the decoder's best when it
 * reads fully, else the first of the n-best that does. The rule was written down before it was measured
 * (bench:voice, with the second pass: 73 and 56 fully right on the generated and held-out sets, against 71 and
 * 53 for the order alone).
 */
export function pickHeard(
  best: string,
  alternatives: string[],
  plant: Plant,
  lang: LangData = english,
  grammar = '',
): string {
  if (!best && !grammar) return best;
  const now = Date.now();
  const order = [...new Set([best, grammar, ...alternatives].filter((t) => t !== ''))];
  const read = new Map(order.map((t) => [t, reading(t, plant, lang, now)]));
  const fully = order.filter((t) => read.get(t)?.full);
  if (!fully.length) return best;
  const lmMeanings = new Set([best, ...alternatives].filter((t) => t).map((t) => read.get(t)?.meaning));
  const grammarMeaning = grammar ? read.get(grammar)?.meaning : undefined;
  const support = (t: string) => {
    const m = read.get(t)?.meaning;
    return (lmMeanings.has(m) ? 1 : 0) + (m === grammarMeaning ? 1 : 0);
  };
  // the first of the best supported (sort is stable: ties keep the order)
  return [...fully].sort((a, b) => support(b) - support(a))[0];
}

/**
 * A speech recognizer for one plant: the model, the second pass's grammar and their dictionaries are built
 * once and written to a temp dir, and each search runs in a decoder process kept for the recognizer's life
 * (voice-decoder.ts), so the acoustic model is loaded and the grammar compiled once, not per command.
 */
export class Recognizer {
  /** What the decoder searches, with its dictionary. */
  readonly model: { kind: 'lm' | 'grammar'; words: string[]; fallback: string[] };
  /** The second pass's grammar (search 'lm' with secondPass), with its dictionary. */
  readonly second?: { words: string[]; fallback: string[] };
  private readonly dir: string;
  private readonly timeoutMs: number;
  private readonly decoders: Decoder[];
  private readonly plant: Plant;
  private readonly lang: LangData;

  constructor(plant: Plant, opts: RecognizerOptions = {}) {
    const modelDir = opts.modelDir ?? DEFAULT_MODEL_DIR;
    if (!existsSync(join(modelDir, 'mdef')) && !existsSync(join(modelDir, 'en-us', 'mdef')))
      throw new TaktError(
        'voice.missingModel',
        `no acoustic model in ${modelDir}: install the Debian packages ${PS_PACKAGES}`,
        'model',
      );
    const kind = opts.search ?? 'lm';
    if (kind !== 'lm' && kind !== 'grammar')
      throw new TaktError(
        'voice.badSearch',
        `search must be "lm" or "grammar", not "${String(kind)}"`,
        'search',
      );
    this.plant = plant;
    this.lang = opts.lang ?? english;
    const built =
      kind === 'grammar'
        ? { ...buildGrammar(plant, opts), file: 'grammar.gram' }
        : { ...buildLanguageModel(plant, opts), file: 'domain.lm' };
    const text = 'jsgf' in built ? built.jsgf : built.arpa;
    this.model = { kind, words: built.words, fallback: built.fallback };
    const second = kind === 'lm' && opts.secondPass === true ? buildPatternGrammar(plant, opts) : undefined;
    if (second) this.second = { words: second.words, fallback: second.fallback };
    this.timeoutMs = opts.timeoutMs ?? 20000;
    const hash = createHash('sha1')
      .update(text)
      .update(built.dict)
      .update(second?.jsgf ?? '')
      .digest('hex')
      .slice(0, 12);
    this.dir = mkdtempSync(join(tmpdir(), `takt-voice-${hash}-`));
    const file = (name: string, content: string) => {
      writeFileSync(join(this.dir, name), content);
      return join(this.dir, name);
    };
    const hmm = existsSync(join(modelDir, 'mdef')) ? modelDir : join(modelDir, 'en-us');
    const decoder = (name: string, args: string[], dict: string, nbest: number) =>
      new Decoder({
        bin: PS_BIN,
        args: [...args, '-dict', dict, '-hmm', hmm],
        dir: join(this.dir, name),
        nbest,
        timeoutMs: this.timeoutMs,
        packages: PS_PACKAGES,
      });
    this.decoders = [
      kind === 'grammar'
        ? // the grammar is large: the default beams prune the right path
          decoder(
            'first',
            ['-jsgf', file(built.file, text), '-beam', '1e-60', '-pbeam', '1e-60', '-wbeam', '1e-45'],
            file('words.dict', built.dict),
            0,
          )
        : decoder('first', ['-lm', file(built.file, text)], file('words.dict', built.dict), NBEST),
    ];
    if (second)
      this.decoders.push(
        decoder(
          'second',
          ['-jsgf', file('patterns.gram', second.jsgf)],
          file('patterns.dict', second.dict),
          0,
        ),
      );
    for (const d of this.decoders) d.warm();
  }

  /**
   * WAV buffer or file path -> the words heard ('' when nothing was heard). The whole recording is one
   * utterance (no voice-activity split in the middle of a command), with the n-best list; the second pass
   * decodes the same audio at the same time, in its own process.
   */
  async transcribe(audio: Buffer | string): Promise<Transcript> {
    const t0 = Date.now();
    let buf: Buffer;
    if (typeof audio === 'string') {
      if (!existsSync(audio))
        throw new TaktError('voice.badAudio', `audio file ${audio} not found`, 'payload');
      buf = readFileSync(audio);
    } else buf = audio;
    const pcm = pcm16(await toRecognizerWav(buf, this.timeoutMs));
    // at least MIN_SAMPLES: the decoder skips a recording shorter than its feature window
    const padded =
      pcm.length >= MIN_SAMPLES ? pcm : Int16Array.from({ length: MIN_SAMPLES }, (_, i) => pcm[i] ?? 0);
    const wav = wav16(withNoiseFloor(padded));
    const [first, second] = await Promise.all(this.decoders.map((d) => d.decode(wav)));
    const grammar = second?.best.text;
    const alternatives = first.alternatives.map((a) => a.text);
    const text = pickHeard(first.best.text, alternatives, this.plant, this.lang, grammar);
    return {
      text,
      best: first.best.text,
      alternatives,
      ...(second ? { grammar } : {}),
      ms: Date.now() - t0,
      passes: second ? { first, second } : { first },
    };
  }

  /** Decoder processes started so far, over the passes (one per pass while none died or timed out). */
  get processStarts(): number {
    return this.decoders.reduce((n, d) => n + d.starts, 0);
  }

  /** Stops the decoders and removes the model files. */
  dispose(): void {
    for (const d of this.decoders) d.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** 0.1 s at 16 kHz. */
const MIN_SAMPLES = 1600;

export interface SayOptions {
  /** espeak-ng voice (-v), e.g. en-us, en-gb, en+f2. */
  voice?: string;
  /** Words per minute (-s, 80..450). */
  speed?: number;
  timeoutMs?: number;
}
/** Text -> a WAV buffer (espeak-ng, 22.05 kHz mono 16-bit). */
export async function say(text: string, opts: SayOptions = {}): Promise<Buffer> {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (!clean) throw new TaktError('voice.emptyText', 'nothing to say: the text is empty', 'payload');
  const args = ['--stdout', '--stdin'];
  if (opts.voice) {
    if (!/^[A-Za-z0-9_+\-/]+$/.test(opts.voice))
      throw new TaktError('voice.badVoice', `voice "${opts.voice}" is not an espeak-ng voice name`, 'voice');
    args.push('-v', opts.voice);
  }
  if (opts.speed !== undefined) args.push('-s', String(Math.round(Math.min(450, Math.max(80, opts.speed)))));
  // the text goes on stdin, never as an argument (a leading "-" would be read as an option)
  const r = await run('espeak-ng', args, {
    input: Buffer.from(clean, 'utf8'),
    timeoutMs: opts.timeoutMs ?? 20000,
    packages: 'espeak-ng',
  });
  wavInfo(r.stdout);
  return r.stdout;
}
