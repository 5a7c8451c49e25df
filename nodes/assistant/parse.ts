/**
 * The assistant's local parser: text -> { intent, slots, confidence, outOfScope } against a plant's own names.
 *
 * Stages (each claims the tokens it reads, so a later stage never reads them again):
 *  1. tokens: lower case, contractions, ids split ("ORD-105" -> ord 105), typos fixed against the lexicon
 *     (Damerau-Levenshtein within a budget by word length);
 *  2. plant names: longest match over the plant's ids, names and aliases (plus generated variants "press 1",
 *     "cnc one", plurals); "cnc 7" where only "cnc 1" exists is an unknown machine with a suggestion;
 *  3. spoken numbers merged ("one eighty two" -> 182), orders ("order one oh five" -> ORD-105);
 *  4. time expressions (time.ts); 5. values with units (normalised to the plant's unit spelling);
 *  6. intent scores: weighted cue phrases of each intent from the language data, plus what the found names
 *     support (an item points at inventory, a parameter with a value at set_parameter), minus penalties
 *     (a command asked as a question, a question opened by a command verb, a required name missing).
 *     Out-of-scope evidence counts against every intent: unsupported words and word pairs (other systems,
 *     rule-override text), words the parser cannot place (unknown, or fixed from a typo into a word that
 *     serves no cue; most words unknown is another language), a foreign thing ("my car", "the thermostat",
 *     "a kettle", "a hydraulic press" is any press) and questions about people. The best score becomes a
 *     confidence through a logistic; below the threshold, or a negated command, is out_of_scope.
 *     Corrections: the last stated value or name wins.
 */
import Qty from 'js-quantities';
import en from './lang/en.json';
import enIntent from './lang/en-intent.json';
import { featuresOf, predictProba, type IntentModel } from './intent-model';
import { findTimes, type TimeMatch } from './time';
import { correctTypos, editDistance, mergeNumbers, phraseTokens, stem, tokenize, type Token } from './text';
import type {
  CommandIntent,
  Intent,
  LangData,
  ParseIssue,
  ParseOptions,
  ParseResult,
  Plant,
  PlantParameter,
  Slots,
} from './types';

const prepared = new WeakMap<LangData, LangData>();
const bare = <T>(r: Record<string, T>): Record<string, T> =>
  Object.assign(Object.create(null) as Record<string, T>, r);
/**
 * The language data with every lookup table made prototype-free, so that a word such as "constructor" or
 * "__proto__" is just an unknown word (once per language object).
 */
export function prepareLang(lang: LangData): LangData {
  const hit = prepared.get(lang);
  if (hit) return hit;
  const l: LangData = {
    ...lang,
    contractions: bare(lang.contractions),
    numbers: {
      ...lang.numbers,
      units: bare(lang.numbers.units),
      tens: bare(lang.numbers.tens),
      scales: bare(lang.numbers.scales),
    },
    units: bare(lang.units),
    quantityNames: bare(lang.quantityNames),
    time: { ...lang.time, weekdays: bare(lang.time.weekdays), shiftNames: bare(lang.time.shiftNames) },
    intents: bare(lang.intents),
  };
  prepared.set(lang, l);
  prepared.set(l, l);
  return l;
}

export const english = prepareLang(en as unknown as LangData);
/**
 * The intent classifier trained on the English development batches (scripts/train-intent.mjs), combined with the
 * cue scores by default for the English data; `parse(text, { plant, intentModel: null })` parses without it.
 */
export const englishIntentModel = enIntent as IntentModel;

/**
 * How the classifier's intent is combined with the parser's: every class c (the intents and out_of_scope)
 * scores weight * p(c) + (1 - weight) * [c is the parser's pick] * the parser's confidence in its pick (its
 * best intent, or out_of_scope below the threshold), and the highest score wins. So the classifier overrules
 * the parser only when it prefers another class by more than the parser's confidence can hold, and never a
 * pick the parser is at least `cap` sure of (its structure: negation, corrections, clauses). An overruled
 * pick's confidence is the classifier's probability; a kept one keeps the parser's. The weight and cap were
 * chosen on the first-sight replay of the development batches
 * (scripts/intent-replay.mjs), never on the evaluation set. Slots always come from the parser's extractors
 * for the chosen intent, and a negated command stays out of scope.
 */
export const BLEND = { weight: 0.6, cap: 0.9 };

/** Which slots each intent takes (the contract); required ones are marked. */
export const INTENT_SLOTS: Record<
  Exclude<Intent, 'out_of_scope'>,
  { slots: (keyof Slots)[]; required: (keyof Slots)[] }
> = {
  oee: { slots: ['machine', 'line', 'period'], required: [] },
  status: { slots: ['machine'], required: [] },
  why_stopped: { slots: ['machine'], required: ['machine'] },
  alarms: { slots: ['machine', 'period'], required: [] },
  quality: { slots: ['machine', 'characteristic'], required: [] },
  health: { slots: ['machine'], required: ['machine'] },
  schedule: { slots: ['machine'], required: [] },
  order_status: { slots: ['order'], required: ['order'] },
  energy: { slots: ['period'], required: [] },
  inventory: { slots: ['item'], required: ['item'] },
  production_count: { slots: ['machine', 'period'], required: [] },
  help: { slots: [], required: [] },
  rush_order: { slots: ['order'], required: ['order'] },
  schedule_maintenance: { slots: ['machine', 'when'], required: ['machine'] },
  ack_alarm: { slots: ['machine'], required: [] },
  set_parameter: {
    slots: ['machine', 'parameter', 'value', 'unit'],
    required: ['machine', 'parameter', 'value'],
  },
  start_machine: { slots: ['machine'], required: ['machine'] },
  stop_machine: { slots: ['machine'], required: ['machine'] },
};
export const COMMAND_INTENTS: readonly CommandIntent[] = [
  'rush_order',
  'schedule_maintenance',
  'ack_alarm',
  'set_parameter',
  'start_machine',
  'stop_machine',
];
export const isCommand = (i: Intent): i is CommandIntent =>
  (COMMAND_INTENTS as readonly string[]).includes(i);

/** Longest input the parser reads (characters); longer text is cut and reported. */
export const MAX_CHARS = 500;
/** Score at which the confidence is 0.5 (the default threshold). */
const PIVOT = 1.5;

type EntityKind = 'machine' | 'line' | 'item' | 'characteristic' | 'parameter';
interface EntityRef {
  kind: EntityKind;
  id: string;
  /** For parameters: the machine that has it. */
  machine?: string;
  param?: PlantParameter;
}
interface Mention {
  refs: EntityRef[];
  start: number;
  end: number;
}
interface Cue {
  intent: string;
  tokens: string[];
  stems: string[];
  w: number;
  /** Counts only when the utterance says when. */
  timed?: boolean;
}
interface Compiled {
  lang: LangData;
  phrases: Map<string, EntityRef[]>;
  maxLen: number;
  /** Phrase prefixes that a number completes ("cnc" of "cnc 1"), with the kind and ids they lead to. */
  heads: Map<string, { kind: EntityKind; ids: string[] }>;
  lexicon: Set<string>;
  ordered: string[];
  /** ordered[0..priority) are plant and intent words, preferred when typos tie. */
  priority: number;
  typos: Map<string, string>;
  /**
   * Words a typo fix may land on and still carry meaning (plant, cue, time, unit, number words). A word
   * fixed to anything else ("bus" -> "but") tells nothing and counts as unknown.
   */
  strong: Set<string>;
  filler: Set<string>;
  /** A word the language knows, or another form of one ("runs" of "run"). */
  known: (w: string) => boolean;
  /** Cue phrases indexed by their first word and (prefixed "~") their first stem. */
  cues: Map<string, Cue[]>;
  /** Cue pairs; a first phrase marked "^" in the data must open the utterance (`opens`). */
  combos: Map<string, { a: string[][]; opens: string[][]; b: string[][]; w: number; timed?: boolean }[]>;
  unsupportedCombos: [string[][], string[][]][];
  /** Unsupported phrases with the stems of their words. */
  unsupported: { tokens: string[]; stems: string[] }[];
  polite: string[][];
  owned: Set<string>;
  indefinite: Set<string>;
  possessive: Set<string>;
  commandIntents: Set<string>;
  causative: Set<string>;
  units: { tokens: string[]; unit: string }[];
  /** A phrase list of the language data, tokenised once; an absent (optional) list is empty. */
  list: (words?: string[]) => string[][];
}

const cache = new WeakMap<Plant, Map<LangData, Compiled>>();
/** The one key an absent optional list is cached under (a fresh `[]` per call would add an entry per message). */
const NO_WORDS: string[] = [];

function compile(plant: Plant, lang: LangData): Compiled {
  let byLang = cache.get(plant);
  if (!byLang) cache.set(plant, (byLang = new Map()));
  const hit = byLang.get(lang);
  if (hit) return hit;
  // phrase lists of the language data, tokenised once per list
  const lists = new Map<string[], string[][]>();
  const list = (words: string[] = NO_WORDS) => {
    let l = lists.get(words);
    if (!l) lists.set(words, (l = words.map((w) => phraseTokens(w, lang)).filter((p) => p.length > 0)));
    return l;
  };
  const numWord = new Map<string, string>();
  const digitZero = new Set(lang.digitZero ?? []);
  for (const [w, v] of Object.entries(lang.numbers.units))
    if (!numWord.has(String(v)) && !digitZero.has(w)) numWord.set(String(v), w);

  const phrases = new Map<string, EntityRef[]>();
  const heads = new Map<string, { kind: EntityKind; ids: string[] }>();
  const add = (toks: string[], ref: EntityRef) => {
    if (toks.length === 0) return;
    const variants = new Set<string>([toks.join(' ')]);
    const last = toks.at(-1) as string;
    if (/^\p{L}{3,}$/u.test(last))
      for (const suf of lang.pluralSuffixes ?? []) {
        // "press" <-> "presses": the last word with or without a plural ending of the language
        const plural = last.endsWith(suf) ? last.slice(0, -suf.length) : `${last}${suf}`;
        variants.add([...toks.slice(0, -1), plural].join(' '));
      }
    // digits <-> number words: "press 1" <-> "press one"
    for (const v of [...variants]) {
      const ws = v.split(' ');
      const swapped = ws.map(
        (w) =>
          numWord.get(w) ??
          (lang.numbers.units[w] !== undefined && !digitZero.has(w) ? String(lang.numbers.units[w]) : w),
      );
      variants.add(swapped.join(' '));
    }
    for (const v of variants) {
      const refs = phrases.get(v) ?? [];
      if (!refs.some((r) => r.kind === ref.kind && r.id === ref.id && r.machine === ref.machine))
        refs.push(ref);
      phrases.set(v, refs);
      const ws = v.split(' ');
      if (ws.length > 1 && /^\d+$/.test(ws.at(-1) as string)) {
        const head = ws.slice(0, -1).join(' ');
        const h = heads.get(head) ?? { kind: ref.kind, ids: [] };
        if (!h.ids.includes(ref.id)) h.ids.push(ref.id);
        heads.set(head, h);
      }
    }
  };
  const named = (kind: EntityKind, e: { id: string; name?: string; aliases?: string[] }) => {
    const ref: EntityRef = { kind, id: e.id };
    const idToks = phraseTokens(e.id, lang);
    add(idToks, ref);
    add(phraseTokens(e.id.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ''), lang), ref);
    if (e.name) add(phraseTokens(e.name, lang), ref);
    const suffix = /\d+$/.exec(e.id)?.[0];
    for (const a of e.aliases ?? []) {
      const t = phraseTokens(a, lang);
      add(t, ref);
      // "mill" of CNC1 -> also "mill 1"
      if (suffix && !/^\d+$/.test(t.at(-1) ?? '') && t.length <= 2) add([...t, String(Number(suffix))], ref);
    }
  };
  for (const m of plant.machines) {
    named('machine', m);
    for (const p of m.parameters ?? []) {
      const ref: EntityRef = { kind: 'parameter', id: p.name, machine: m.id, param: p };
      add(phraseTokens(p.name.replace(/([a-z])([A-Z])/g, '$1 $2'), lang), ref);
      add([p.name.toLowerCase()], ref);
      for (const a of p.aliases ?? []) add(phraseTokens(a, lang), ref);
    }
  }
  for (const l of plant.lines ?? []) named('line', l);
  for (const it of plant.items ?? []) named('item', it);
  for (const c of plant.characteristics ?? []) {
    named('characteristic', c);
    add(phraseTokens(c.id.replace(/([a-z])([A-Z])/g, '$1 $2'), lang), { kind: 'characteristic', id: c.id });
  }
  let maxLen = 1;
  for (const k of phrases.keys()) maxLen = Math.max(maxLen, k.split(' ').length);

  // Lexicon for typo correction: plant words first, then intent cues, then everything else the language knows.
  const ordered: string[] = [];
  const seen = new Set<string>();
  const push = (s: string) => {
    for (const w of s.split(' '))
      if (w && /^\p{L}+$/u.test(w) && !seen.has(w)) {
        seen.add(w);
        ordered.push(w);
      }
  };
  for (const k of phrases.keys()) push(k);
  for (const i of Object.values(lang.intents)) {
    Object.keys({ ...i.cues, ...i.timed?.cues }).forEach((c) => list([c]).forEach((t) => push(t.join(' '))));
    for (const [a, b] of [...(i.combos ?? []), ...(i.timed?.combos ?? [])])
      [...a, ...b].forEach((c) => push(c.replace(/^\^/, '')));
  }
  const priority = ordered.length;
  const strong = new Set(ordered);
  const T = lang.time;
  const timeWords = [
    ...T.now,
    ...T.today,
    ...T.yesterday,
    ...T.tomorrow,
    ...T.tonight,
    ...T.lastNight,
    ...T.dayAfterTomorrow,
    ...T.this,
    ...T.last,
    ...T.next,
    ...T.since,
    ...T.in,
    ...T.at,
    ...T.shift,
    ...T.shiftStart,
    ...T.shiftEnd,
    ...T.midnight,
    ...T.noon,
    ...T.am,
    ...T.pm,
    ...T.oclock,
    ...Object.values(T.durations).flat(),
    ...Object.values(T.shiftNames).flat(),
    ...Object.keys(T.weekdays),
  ];
  // time, unit, number, negation, correction and order words carry meaning when a typo is fixed into them
  const quantities = [
    ...timeWords,
    ...Object.values(lang.units).flat(),
    ...Object.keys(lang.numbers.units),
    ...Object.keys(lang.numbers.tens),
    ...Object.keys(lang.numbers.scales),
    ...lang.numbers.point,
    ...lang.numbers.minus,
    ...lang.numbers.plus,
  ];
  const signals = [...lang.negation, ...lang.corrections, ...lang.orderWords];
  for (const p of [...quantities, ...signals]) for (const w of p.split(' ')) strong.add(w);
  [
    ...quantities,
    ...lang.numbers.half,
    ...signals,
    ...lang.setTo,
    ...lang.questionWords,
    ...lang.filler,
    ...lang.drop,
    ...Object.values(lang.contractions),
  ].forEach(push);
  // known words, but never the target of a typo fix (a near miss must not turn into a refusal)
  for (const p of lang.unsupported) for (const w of p.split(' ')) seen.add(w);
  const common = new Set(lang.common);
  const knownStems = new Set([...seen, ...common].map((w) => stem(w, lang.stemSuffixes)));
  const known = (w: string) => seen.has(w) || common.has(w) || knownStems.has(stem(w, lang.stemSuffixes));

  const cues = new Map<string, Cue[]>();
  const index = (key: string, c: Cue) => {
    const l = cues.get(key) ?? [];
    if (!l.includes(c)) l.push(c);
    cues.set(key, l);
  };
  const combos = new Map<
    string,
    { a: string[][]; opens: string[][]; b: string[][]; w: number; timed?: boolean }[]
  >();
  const optional = new Set(lang.optionalWords ?? []);
  for (const [intent, def] of Object.entries(lang.intents)) {
    const cueList = [
      ...Object.entries(def.cues).map(([p, w]) => ({ p, w, timed: false })),
      ...Object.entries(def.timed?.cues ?? {}).map(([p, w]) => ({ p, w, timed: true })),
    ];
    for (const { p, w, timed } of cueList)
      for (const full of list([p])) {
        // clipped speech drops function words inside a phrase ("how use this" for "how do I use this")
        const clipped = full.filter((t, k) => k === 0 || k === full.length - 1 || !optional.has(t));
        const forms: [string[], number][] = [[full, w]];
        if (full.length >= 3 && clipped.length >= 2 && clipped.length < full.length)
          forms.push([clipped, 0.9 * w]);
        for (const [tokens, weight] of forms) {
          const c: Cue = {
            intent,
            tokens,
            stems: tokens.map((t) => stem(t, lang.stemSuffixes)),
            w: weight,
            ...(timed ? { timed } : {}),
          };
          index(tokens[0], c);
          index(`~${c.stems[0]}`, c);
        }
      }
    const pair = ([a, b, w]: [string[], string[], number], timed: boolean) => ({
      a: list(a.filter((x) => !x.startsWith('^'))),
      opens: a.filter((x) => x.startsWith('^')).map((x) => phraseTokens(x.slice(1), lang)),
      b: list(b),
      w,
      ...(timed ? { timed } : {}),
    });
    combos.set(intent, [
      ...(def.combos ?? []).map((c) => pair(c, false)),
      ...(def.timed?.combos ?? []).map((c) => pair(c, true)),
    ]);
  }
  const units = Object.entries(lang.units)
    .flatMap(([unit, ws]) => list(ws).map((tokens) => ({ tokens, unit })))
    .sort((a, b) => b.tokens.length - a.tokens.length);
  const c: Compiled = {
    lang,
    phrases,
    maxLen,
    heads,
    lexicon: seen,
    ordered,
    priority,
    typos: new Map(),
    strong,
    filler: new Set(lang.filler),
    known,
    cues,
    combos,
    unsupported: list(lang.unsupported).map((tokens) => ({
      tokens,
      stems: tokens.map((w) => stem(w, lang.stemSuffixes)),
    })),
    polite: list(lang.polite),
    owned: new Set(lang.ownedWords ?? []),
    indefinite: new Set(lang.indefinite ?? []),
    possessive: new Set(lang.possessives ?? []),
    causative: new Set(lang.causative ?? []),
    commandIntents: new Set(Object.keys(lang.intents).filter((k) => lang.intents[k].command)),
    unsupportedCombos: (lang.unsupportedCombos ?? []).map(([a, b]): [string[][], string[][]] => [
      list(a),
      list(b),
    ]),
    units,
    list,
  };
  byLang.set(lang, c);
  return c;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** The integers a, a + 1, ..., b - 1. */
const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, k) => a + k);

/** Every start index where the phrase occurs in words. */
function findPhrase(words: string[], p: string[]): number[] {
  const at: number[] = [];
  for (let i = 0; i + p.length <= words.length; i++) if (p.every((w, k) => words[i + k] === w)) at.push(i);
  return at;
}

/** Suggestions for an unknown name: the plant ids of that kind closest to what was said. */
function suggest(plant: Plant, kind: EntityKind | 'order', said: string): string[] {
  const ids =
    kind === 'machine'
      ? plant.machines.map((m) => m.id)
      : kind === 'line'
        ? (plant.lines ?? []).map((l) => l.id)
        : kind === 'order'
          ? (plant.orders ?? []).map((o) => o.id)
          : kind === 'item'
            ? (plant.items ?? []).map((o) => o.id)
            : [];
  const s = said.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
  const scored = ids.map((id) => ({
    id,
    d: editDistance(s, id.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')),
  }));
  scored.sort((a, b) => a.d - b.d);
  return scored
    .filter((x) => x.d === scored[0].d)
    .map((x) => x.id)
    .slice(0, 3);
}

/** Parses one utterance against the plant. Never throws on any string; an empty text is out_of_scope. */
export function parse(text: string, opts: ParseOptions): ParseResult {
  const lang = opts.lang ? prepareLang(opts.lang) : english;
  const plant = opts.plant;
  const now = opts.now ?? Date.now();
  const threshold = opts.threshold ?? 0.5;
  const issues: ParseIssue[] = [];
  const oos = (confidence: number, bestGuess?: Intent): ParseResult => ({
    intent: 'out_of_scope',
    slots: {},
    confidence,
    outOfScope: true,
    ...(bestGuess ? { bestGuess } : {}),
    issues,
  });
  if (typeof text !== 'string' || !text.trim()) {
    issues.push({ kind: 'empty' });
    return oos(1);
  }
  if (text.length > MAX_CHARS) {
    issues.push({ kind: 'too_long', text: `${text.length} characters` });
    text = text.slice(0, MAX_CHARS);
  }
  const C = compile(plant, lang);

  // 1. tokens, typos, filler dropped
  let toks = tokenize(text, lang);
  correctTypos(toks, C.known, C.ordered, C.priority, C.typos);
  for (const [from, to] of Object.entries(lang.contractions)) {
    // a typo fixed into a contraction key ("dont") expands like one
    if (!from.includes("'")) {
      const k = toks.findIndex((t) => t.kind === 'word' && t.text === from);
      if (k >= 0) toks.splice(k, 1, ...to.split(' ').map((w): Token => ({ text: w, kind: 'word' })));
    }
  }
  // "my car", "a kettle": mark the word after a foreign marker before the articles are dropped
  const markers = lang.foreignMarkers ?? [];
  for (let i = 0; i + 1 < toks.length; i++)
    if (toks[i].kind === 'word' && markers.includes(toks[i].text) && toks[i + 1].kind === 'word')
      toks[i + 1].marker = toks[i].text;
  toks = toks.filter((t) => !(t.kind === 'word' && lang.drop.includes(t.text)));

  // 2. plant names, longest first
  const mentions: Mention[] = [];
  /** The kind of plant name each entity token belongs to (the classifier sees "{machine}", not "press"). */
  const entityKind = new Map<Token, EntityKind>();
  const isNumberish = (t?: Token) =>
    !!t &&
    !t.used &&
    (t.kind === 'num' || lang.numbers.units[t.text] !== undefined || lang.numbers.tens[t.text] !== undefined);
  const unitAt = (i: number, words: string[]) =>
    C.units.find((u) => u.tokens.every((w, k) => words[i + k] === w));
  {
    const words = toks.map((t) => t.text);
    for (let i = 0; i < toks.length; i++) {
      if (toks[i].used || toks[i].kind === 'punct') continue;
      for (let len = Math.min(C.maxLen, toks.length - i); len >= 1; len--) {
        const span = toks.slice(i, i + len);
        if (span.some((t) => t.used || t.kind === 'punct')) continue;
        const key = span.map((t) => t.text).join(' ');
        const refs = C.phrases.get(key);
        if (!refs) continue;
        const head = C.heads.get(key);
        const nx = toks[i + len];
        // "set speed of packing machine 5": after a parameter of that machine, with no number later, the
        // number is the value, not a machine number
        const valueNext =
          mentions.some((m) =>
            m.refs.some((r) => r.kind === 'parameter' && head?.ids.includes(r.machine ?? '')),
          ) && !toks.slice(i + len + 1).some((t) => isNumberish(t));
        if (
          head &&
          !valueNext &&
          isNumberish(nx) &&
          !C.phrases.has(`${key} ${nx.text}`) &&
          !unitAt(i + len + 1, words) &&
          (nx.kind !== 'num' ||
            (Number.isInteger(nx.num) && (nx.num as number) < 100 && (nx.num as number) >= 0))
        ) {
          // "cnc 7": a name this plant does not have
          const said = `${key} ${nx.text}`;
          issues.push({
            kind: 'unknown',
            slot: head.kind as keyof Slots,
            text: said,
            suggestions: head.ids.slice(0, 3),
          });
          for (let k = i; k <= i + len; k++) toks[k].used = 'unknown';
          break;
        }
        mentions.push({ refs, start: i, end: i + len });
        const kind = refs.some((r) => r.kind === 'machine') ? 'machine' : refs[0].kind;
        for (let k = i; k < i + len; k++) {
          toks[k].used = 'entity';
          entityKind.set(toks[k], kind);
        }
        break;
      }
    }
    // "welder 3", "robot two": an unknown word and a number in a machine-like shape
    for (let i = 0; i + 1 < toks.length; i++) {
      const t = toks[i];
      if (t.used || t.kind !== 'word' || C.known(t.text) || t.text.length < 3) continue;
      const nx = toks[i + 1];
      if (isNumberish(nx) && (nx.kind !== 'num' || (nx.num as number) < 100) && !unitAt(i + 2, words)) {
        const said = `${t.text} ${nx.text}`;
        issues.push({
          kind: 'unknown',
          slot: 'machine',
          text: said,
          suggestions: suggest(plant, 'machine', said),
        });
        t.used = nx.used = 'unknown';
      }
    }
  }

  // 3. spoken numbers, orders
  toks = mergeNumbers(toks, lang);
  let order: string | undefined;
  let weakOrder: string | undefined;
  /** "order 200 cartons": the order word is a verb that buys items (nothing this plant data does). */
  const buyingAt: number[] = [];
  const orderWords = C.list(lang.orderWords);
  {
    const words = toks.map((t) => (t.used ? '\u0000' : t.text));
    const orders = plant.orders ?? [];
    const digitsOf = (id: string) => id.replace(/\D/g, '');
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.used || t.kind !== 'num' || !Number.isInteger(t.num) || (t.num as number) < 0) continue;
      let back = i - 1;
      let said = false;
      while (back >= 0 && i - back <= 3) {
        if (orderWords.some((p) => p.length === 1 && words[back] === p[0])) said = true;
        else break;
        back--;
      }
      const hit = orders.find((o) => digitsOf(o.id) !== '' && Number(digitsOf(o.id)) === t.num);
      // "180, no 182": an order word that is also a correction word corrects, after a pause or when no
      // order has that number
      if (
        said &&
        range(back + 1, i).every((k) => lang.corrections.includes(words[k])) &&
        (!hit || toks[back]?.kind === 'punct')
      )
        said = false;
      const items = toks[i + 1]?.used === 'entity' && (plant.items ?? []).length > 0 && !hit;
      if (said && items && mentions.some((m) => m.refs.some((r) => r.kind === 'item'))) {
        buyingAt.push(back + 1);
        continue;
      }
      if (said) {
        for (let k = back + 1; k <= i; k++) toks[k].used = 'order';
        if (hit) order = hit.id;
        else {
          issues.push({
            kind: 'unknown',
            slot: 'order',
            text: t.text,
            suggestions: suggest(plant, 'order', t.text),
          });
          order = undefined;
        }
      } else if (hit && t.text.length >= 3) weakOrder = hit.id;
    }
  }

  // 4. times
  const times: TimeMatch[] = findTimes(toks, lang, {
    now,
    utcOffsetMin: opts.utcOffsetMin ?? 0,
    shifts: plant.shifts ?? [],
  });

  // 5. numbers with units (weak times give their numbers back when a value is wanted)
  interface Val {
    value: number;
    unit?: string;
    at: number;
  }
  const values = (withWeak: boolean): Val[] => {
    const out: Val[] = [];
    const words = toks.map((t) => (t.used && t.used !== 'value' ? '\u0000' : t.text));
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      const free =
        !t.used ||
        t.used === 'value' ||
        (withWeak && t.used === 'time' && times.some((m) => m.weak && m.start <= i && i < m.end));
      if (!free || t.kind !== 'num') continue;
      if (withWeak) words[i] = t.text;
      const u = unitAt(i + 1, words);
      out.push({ value: t.num as number, ...(u ? { unit: u.unit } : {}), at: i });
    }
    return out;
  };

  // 6. intent scores
  // cue words: not time words, not punctuation, not inside a plant name ("packing" of "packing machine");
  // "now" words carry no slot, so they stay cue words ("as soon as possible" of rush_order)
  const nowAt = new Set(times.filter((m) => m.isNow).flatMap((m) => range(m.start, m.end)));
  // an item's words next to a machine may be a part of it ("the spindle bearings on the mill")
  const partAt = mentions.some((m) => m.refs.some((r) => r.kind === 'machine'))
    ? new Set(
        mentions.filter((m) => m.refs.every((r) => r.kind === 'item')).flatMap((m) => range(m.start, m.end)),
      )
    : new Set<number>();
  const words = toks.map((t, i) =>
    (t.used === 'time' && !nowAt.has(i)) || (t.used === 'entity' && !partAt.has(i)) || t.kind === 'punct'
      ? '\u0000'
      : t.text,
  );
  const allWords = toks.map((t) => t.text);
  const machineMentions = mentions.filter((m) => m.refs.some((r) => r.kind === 'machine'));
  const has = (kind: EntityKind) => mentions.some((m) => m.refs.some((r) => r.kind === kind));
  const anyVals = values(true);
  const firstAt = allWords.findIndex((w) => w !== ',' && !lang.corrections.includes(w));
  // an unknown first word ("wy did the oven stop") hands the question test to the next one
  const guessed = (t?: Token) =>
    !!t && t.kind === 'word' && !t.used && (!C.known(t.text) || (!!t.fixed && !C.strong.has(t.text)));
  const firstWord =
    (guessed(toks[firstAt]) && toks[firstAt + 1]?.kind === 'word'
      ? allWords[firstAt + 1]
      : allWords[firstAt]) ?? '';
  const politeHead = C.polite
    .filter((p) => findPhrase(allWords, p).includes(0))
    .reduce((n, p) => Math.max(n, p.length), 0);
  const polite = politeHead > 0;
  // clauses: split at commas, full stops and the language's clause words ("but", "then"); a negation or a
  // question covers its own clause only
  const clauseOf: number[] = [];
  /** Where each later clause's own words start (after its clause word). */
  const clauseHeads: number[] = [];
  {
    const breaks = new Map<number, number>();
    for (const p of C.list(lang.clauseBreaks))
      for (const at of findPhrase(allWords, p)) breaks.set(at, Math.max(breaks.get(at) ?? 0, p.length));
    let c = 0;
    allWords.forEach((_w, i) => {
      const b = breaks.get(i);
      if (b && i > 0) {
        c++;
        clauseHeads.push(i + b);
      } else if (i > 0 && toks[i - 1].kind === 'punct' && toks[i].kind !== 'punct') clauseHeads.push(i);
      clauseOf.push(c);
      if (toks[i].kind === 'punct') c++;
    });
  }
  const negs = C.list(lang.negation).flatMap((p) => findPhrase(words, p));
  const startsNegated = negs.some((p) => p <= 1);
  const question =
    !polite && !startsNegated && (lang.questionWords.includes(firstWord) || allWords.at(-1) === '?');
  // a correction marker corrects something said before it: not at the start, not inside "no need to"
  const corrections = C.list(lang.corrections)
    .flatMap((p) => findPhrase(allWords, p))
    .filter((p) => p > 0 && !negs.includes(p));
  const stems = words.map((w) => stem(w, lang.stemSuffixes));
  // unsupported words and their inflections ("meetings", "shipped"), never a shorter word ("new" of "news")
  const unsupportedAt: number[][] = [];
  for (const p of C.unsupported)
    for (let i = 0; i + p.tokens.length <= words.length; i++)
      if (
        p.tokens.every(
          (u, k) => words[i + k] === u || (words[i + k].length >= u.length && stems[i + k] === p.stems[k]),
        )
      )
        unsupportedAt.push(range(i, i + p.tokens.length));
  for (const [a, b] of C.unsupportedCombos) {
    const first = a.flatMap((p) => findPhrase(words, p));
    const later = b.flatMap((p) => findPhrase(words, p).map((at) => ({ at, len: p.length })));
    const hit = later.find((x) => first.some((f) => f < x.at));
    if (hit) unsupportedAt.push(range(hit.at, hit.at + hit.len));
  }
  for (const at of buyingAt) unsupportedAt.push([at]);
  // questions about people: "who ...", or people named anywhere outside a plant name ("how many people ...")
  const personNouns = new Set(lang.personNouns ?? []);
  const aboutPeople =
    lang.personWords.includes(firstWord) ||
    toks.some((t) => t.kind === 'word' && !t.used && personNouns.has(t.text));
  // cue phrases at each position: exact, or another form of the same words ("halted" for "halt") for less
  // A phrase may enclose a plant name ("switch [the mill] on", "shut [the packer] down"); a word fixed
  // from a typo counts for less (the fix is a guess).
  // a pronoun may stand inside a phrase where a name would ("shut it down", "turn them off")
  const pronouns = new Set(lang.pronouns ?? []);
  const spanOf = (seq: string[], at: string[], i: number): number[] | undefined => {
    const span: number[] = [];
    let k = i;
    for (const t of seq) {
      let gap = 0;
      while (
        span.length &&
        at[k] !== t &&
        (toks[k]?.used === 'entity' || toks[k]?.used === 'order' || pronouns.has(at[k])) &&
        gap < 4
      ) {
        k++;
        gap++;
      }
      if (at[k] !== t) return undefined;
      span.push(k++);
    }
    return span;
  };
  const cueHits = new Map<
    string,
    { at: number; span: number[]; w: number; base: number; exact: boolean }[]
  >();
  // a filler word is itself, not another form of a cue ("machines" is not "machined")
  const filler = C.filler;
  const saysWhen = times.some((m) => !m.isNow);
  for (let i = 0; i < words.length; i++) {
    const cands = new Set([...(C.cues.get(words[i]) ?? []), ...(C.cues.get(`~${stems[i]}`) ?? [])]);
    for (const c of cands) {
      if (c.timed && !saysWhen) continue;
      let w = 0;
      let span = spanOf(c.tokens, words, i);
      if (span) w = c.w;
      else if (!filler.has(words[i]) && (span = spanOf(c.stems, stems, i)))
        // a past form names a state, not an order ("the press looks stopped"), unless asked for one
        // ("get the packer started", "we need the press stopped")
        w =
          (C.commandIntents.has(c.intent) &&
          lang.pastSuffixes?.some((x) => words[i].endsWith(x)) &&
          !allWords.slice(Math.max(0, i - 4), i).some((x) => C.causative.has(x))
            ? 0.4
            : 0.85) * c.w;
      if (!span) continue;
      // a long word fixed from a typo is a safer guess than a short one
      const fixed = span.filter((k) => toks[k].fixed);
      if (fixed.length) w *= fixed.every((k) => toks[k].text.length >= 6) ? 0.8 : 0.6;
      const l = cueHits.get(c.intent) ?? [];
      l.push({ at: i, span, w, base: fixed.length ? w : c.w, exact: w === c.w });
      cueHits.set(c.intent, l);
    }
  }
  // a later clause opened by a command word ("the customer is waiting, put it first"; "don't stop the
  // press, stop the packer"): the utterance asks for that action, whatever the first clause was
  const orderHead = clauseHeads.filter((i) => {
    const head = C.polite
      .filter((p) => findPhrase(allWords.slice(i), p).includes(0))
      .reduce((n, p) => Math.max(n, p.length), 0);
    // ... or by a request whose clause holds a command word ("customer called, we need ORD-105 done first")
    return [...cueHits.entries()].some(
      ([intent, hits]) =>
        lang.intents[intent]?.command &&
        hits.some((h) => (h.at === i + head || (head > 0 && clauseOf[h.at] === clauseOf[i])) && h.exact),
    );
  });
  const laterOrder = orderHead.length > 0;
  // words that only tell the situation: the clauses before such an order ("the jam is cleared, restart
  // the packer") and a reason after a reason word ("stop the press because the die is cracked")
  const reasonAt = C.list(lang.reasonWords).flatMap((p) => findPhrase(allWords, p));
  // ... and a purpose after a strong command verb that opens the utterance ("stop the press for cleaning")
  const lead = allWords.findIndex((w, i) => i >= politeHead && w !== ',');
  const leadOrder = [...cueHits.entries()].some(
    ([intent, hits]) =>
      lang.intents[intent]?.command && hits.some((h) => h.at === lead && h.exact && h.w >= 2),
  );
  const purposeAt = leadOrder
    ? C.list(lang.purposeWords).flatMap((p) => findPhrase(allWords, p).filter((at) => at > lead))
    : [];
  const hitList = [...cueHits.values()].flat();
  // ... and a scene set at the start ("before the meeting, ...", "after lunch I need ..."), up to a pause, a
  // request or a question word
  const preambleEnd = C.list(lang.preamble).some((p) => findPhrase(allWords, p).includes(0))
    ? (range(1, allWords.length).find(
        (j) =>
          toks[j].kind === 'punct' ||
          lang.questionWords.includes(allWords[j]) ||
          [...C.polite, ...C.list(lang.asking)].some((p) => findPhrase(allWords, p).includes(j)),
      ) ?? 0)
    : 0;
  // ... and an opening clause that names nothing of the plant and asks nothing, before one that does
  // ("for the handover, what was the oee ...")
  const firstBreak = toks.findIndex((t) => t.kind === 'punct');
  const idleOpening =
    firstBreak > 0 &&
    toks.slice(0, firstBreak).every((t) => !t.used || t.used === 'time') &&
    !hitList.some((h) => h.at < firstBreak && h.w >= 1) &&
    (toks.slice(firstBreak).some((t) => t.used === 'entity' || t.used === 'order') ||
      hitList.some((h) => h.at > firstBreak && h.w >= 1.5))
      ? firstBreak
      : 0;
  const situation = (i: number) =>
    i < preambleEnd ||
    i < idleOpening ||
    (laterOrder && clauseOf[i] < clauseOf[orderHead[orderHead.length - 1]]) ||
    reasonAt.some((r) => r > 0 && r < i) ||
    purposeAt.some((r) => r < i);
  // words the parser could not place: unknown, or fixed from a typo into a word that then served no
  // more than a weak cue ("pump" -> "bump")
  const served = new Set(hitList.filter((h) => h.w >= 1).flatMap((h) => h.span));
  const unplaced = (i: number) => guessed(toks[i]) || (!!toks[i].fixed && !toks[i].used && !served.has(i));
  let unknownWords = 0;
  let freeWords = 0;
  toks.forEach((t, i) => {
    if (unplaced(i) && !situation(i)) unknownWords++;
    if (t.kind === 'word' && !t.used) freeWords++;
  });
  // most of the words unknown: another language or gibberish around a plant name ("wie ist der status von CNC1")
  const mostlyUnknown = unknownWords >= 2 && unknownWords >= 0.5 * freeWords;
  // "my car", "the thermostat", "a kettle", "a hydraulic press": a thing that is not (this) plant's. An
  // unknown word after an article must head its phrase ("the cycle count" may be ours).
  const { owned, indefinite, possessive } = C;
  const unsupportedWord = new Set(unsupportedAt.filter((sp) => sp.length === 1).map((sp) => sp[0]));
  const foreign = toks.some((t, i) => {
    if (!t.marker || t.used === 'unknown' || situation(i)) return false;
    if (possessive.has(t.marker)) return !owned.has(t.text) && t.used !== 'entity' && t.used !== 'time';
    const nx = toks[i + 1];
    const heads = !nx || !(nx.used === 'entity' || served.has(i + 1));
    return (unplaced(i) && heads) || unsupportedWord.has(i);
  });
  // a machine after an indefinite article is any such machine: a general question ("how much does a new
  // press cost"); a command keeps it (a recogniser may hear "stop at a zx lathe")
  const generic = toks.some(
    (t, i) =>
      !!t.marker &&
      indefinite.has(t.marker) &&
      mentions.some((m) => m.start === i && m.refs.some((r) => r.kind === 'machine' || r.kind === 'line')),
  );
  // an order given with a verb first ("run the mill", "set an alarm"): a command word opens the utterance
  // ... or the verb of a command's word pair ("accept the oven alarm", "quit alarm on the packer")
  const leadPair = [...C.combos.entries()].some(
    ([intent, list]) =>
      lang.intents[intent]?.command &&
      list.some(
        (c) =>
          (!c.timed || saysWhen) &&
          c.a.some((p) => findPhrase(words, p).includes(lead)) &&
          c.b.some((p) => findPhrase(words, p).some((at) => at > lead)),
      ),
  );
  // ... or an action the plant cannot take opens it ("reorder hydraulic oil", "print labels for the packer")
  const leadUnsupported = !question && unsupportedAt.some((sp) => sp[0] === lead);
  const imperative =
    laterOrder ||
    leadPair ||
    leadUnsupported ||
    [...cueHits.entries()].some(
      ([intent, hits]) =>
        lang.intents[intent]?.command && hits.some((h) => h.at === lead && h.base >= 1.4 && h.w >= 1),
    );
  const asked = question && !laterOrder;
  // "show me", "tell me": asking to be told
  const asking = C.list(lang.asking).some((p) => findPhrase(allWords, p).includes(politeHead));
  // a machine named with no other topic is a status question ("CNC1?", "check on the packer"); another
  // topic is a strong cue of another intent (also when stemmed or fixed from a typo), a characteristic,
  // an item or an order, or a command verb first
  const topicElsewhere =
    imperative ||
    has('characteristic') ||
    has('item') ||
    !!order ||
    [...cueHits.entries()].some(([intent, hits]) => intent !== 'status' && hits.some((h) => h.base >= 1.5));
  const setTo = new Set(lang.setTo);
  const unitList = plant.machines.flatMap((m) =>
    (m.parameters ?? []).map((p) => (p.unit ?? '').toLowerCase()),
  );
  const plantUnits = new Set(unitList);
  // a value whose unit only one parameter of the plant has names that parameter (and its machine)
  const unitNamesParam = anyVals.some(
    (v) => v.unit && unitList.filter((u) => u === v.unit?.toLowerCase()).length === 1,
  );
  // the machine a parameter belongs to: named, or implied by a parameter phrase of several words that only
  // one machine has ("oven temperature"; a bare "temperature" implies no machine)
  const paramMachine =
    machineMentions.at(-1)?.refs.find((r) => r.kind === 'machine')?.id ??
    (() => {
      const ms = new Set(
        mentions
          .filter((m) => m.end - m.start > 1)
          .flatMap((m) => m.refs.filter((r) => r.kind === 'parameter').map((r) => r.machine as string)),
      );
      return ms.size === 1 ? [...ms][0] : undefined;
    })();
  // a parameter asked about with no value and no other topic ("the scrap rate" is quality) is a reading
  const commandCue = [...cueHits.keys()].some((intent) => lang.intents[intent]?.command);
  const reading =
    has('parameter') &&
    !!paramMachine &&
    !anyVals.length &&
    (asked || asking || !commandCue) &&
    ![...cueHits.entries()].some(
      ([intent, hits]) =>
        intent !== 'status' && intent !== 'set_parameter' && hits.some((h) => h.base >= 1.5),
    );
  const fragmentWords = range(0, toks.length).filter(
    (k) => toks[k].kind === 'word' && !toks[k].used && !filler.has(toks[k].text),
  );
  // a fragment names a topic: no question word first, and no command word anywhere ("move ORD-105")
  // ... and names a target or a time ("ok thanks" is no fragment)
  const fragment =
    fragmentWords.length > 0 &&
    fragmentWords.length <= 2 &&
    (mentions.length > 0 || !!order || saysWhen) &&
    !lang.questionWords.includes(firstWord) &&
    !commandCue;
  const scores = new Map<Exclude<Intent, 'out_of_scope'>, { s: number; cueAt: number[] }>();
  for (const intent of Object.keys(INTENT_SLOTS) as Exclude<Intent, 'out_of_scope'>[]) {
    const matches = cueHits.get(intent) ?? [];
    matches.sort((a, b) => b.w - a.w || b.span.length - a.span.length);
    const taken = new Set<number>();
    /** Words inside this intent's phrases of several words: an idiom ("out the door") is not its words. */
    const idiom = new Set<number>();
    const cueAt: number[] = [];
    let s = 0;
    const counted = new Set<string>();
    for (const m of matches) {
      const span = m.span;
      if (span.some((k) => taken.has(k))) continue;
      const key = span.map((k) => stems[k]).join(' ');
      span.forEach((k) => taken.add(k));
      if (span.length > 1) span.forEach((k) => idiom.add(k));
      cueAt.push(m.at);
      if (counted.has(key)) continue;
      counted.add(key);
      s += m.w;
    }
    // a combo's first words marked "^" must open the utterance ("^is" + "good parts": a yes/no question)
    for (const c of C.combos.get(intent) ?? [])
      if (
        (!c.timed || saysWhen) &&
        (c.a.some((p) => findPhrase(words, p).length) ||
          c.opens.some((p) => findPhrase(allWords, p).includes(firstAt))) &&
        c.b.some((p) => findPhrase(words, p).length)
      )
        s += c.w;
    const spec = INTENT_SLOTS[intent];
    if (spec.slots.includes('machine') && machineMentions.length) s += 0.3;
    if (intent === 'status' && (machineMentions.length || has('line')))
      s += (topicElsewhere ? 0 : 1.2) + (asked || asking ? 0.4 : 0);
    // a characteristic named: the question is about it, not the machine's state ("how is the hardness doing")
    if (intent === 'status' && has('characteristic')) s -= 1;
    if (intent === 'oee' && has('line')) s += 0.3;
    if (intent === 'order_status') s += order ? 1.8 : weakOrder ? 0.8 : 0;
    if (intent === 'rush_order') s += order ? 1 : weakOrder ? 0.4 : 0;
    if (intent === 'inventory' && has('item')) s += 2.2;
    // a command verb on a stock item changes the stock ("increase the stock of washers"): not a question
    if (intent === 'inventory' && imperative && !asked) s -= 2.5;
    // a parameter asked about with no value is a reading of the machine ("what's the oven temperature")
    if (intent === 'status' && reading) s += 2;
    // a short fragment whose every free word is this intent's cue ("parts today?", "cpk bore?")
    if (fragment && taken.size && fragmentWords.every((k) => taken.has(k))) s += 0.8;
    if (intent === 'quality' && has('characteristic')) s += 2;
    if (intent === 'set_parameter') {
      if (has('parameter')) s += 1;
      // nothing of the plant named: "set brightness to 50 percent"
      else if (!machineMentions.length && !unitNamesParam) s -= 1.5;
      if (anyVals.length) s += 1 + (anyVals.some((v) => v.unit) ? 0.5 : 0);
      // "oven to 190": a number right after "to"; "2500 rpm": a unit some parameter of the plant has
      if (anyVals.some((v) => setTo.has(allWords[v.at - 1] ?? ''))) s += 0.8;
      if (
        (has('parameter') || machineMentions.length || unitNamesParam) &&
        anyVals.some((v) => v.unit && plantUnits.has(v.unit.toLowerCase()))
      )
        s += 0.5;
    }
    for (const r of spec.required) {
      const present =
        r === 'machine'
          ? machineMentions.length > 0 || (intent === 'set_parameter' && (has('parameter') || unitNamesParam))
          : r === 'order'
            ? !!(order ?? weakOrder)
            : r === 'item'
              ? has('item')
              : r === 'parameter'
                ? has('parameter') || anyVals.length > 0
                : r === 'value'
                  ? anyVals.length > 0
                  : true;
      if (!present) s -= 1.2;
    }
    if (isCommand(intent) && asked) s -= (lang.causeWords ?? []).includes(firstWord) ? 3 : 1.5;
    // asking about an unsupported action ("when will it ship?") is weaker evidence than asking for one;
    // a word that is this intent's own cue is no evidence against it ("has ORD-102 shipped")
    s -=
      (asked ? 1.5 : 3) *
      unsupportedAt.filter(
        (span) =>
          !span.every(situation) &&
          !span.every((k) => idiom.has(k)) &&
          (!asked || !span.every((k) => taken.has(k))),
      ).length;
    // a command word first: not a question (unless this intent's own cue opens it)
    if (
      imperative &&
      !isCommand(intent) &&
      intent !== 'help' &&
      !(cueHits.get(intent) ?? []).some((h) => h.at === lead && h.exact && h.w >= 1)
    )
      s -= 1;
    if (foreign || (generic && !isCommand(intent))) s -= 2;
    // a name the intent has no slot for (an order for the schedule question, an item for a machine command)
    if (order && !spec.slots.includes('order')) s -= 1.5;
    if (has('item') && !spec.slots.includes('item')) s -= 0.4;
    if (machineMentions.length && !spec.slots.includes('machine') && intent !== 'help') s -= 0.5;
    s -= Math.min(1.5, 0.5 * unknownWords) + (mostlyUnknown ? 1.5 : 0);
    // the plant data knows machines, not people ("who is operating the press")
    if (aboutPeople) s -= 2;
    scores.set(intent, { s, cueAt });
  }
  const ranked = [...scores.entries()].sort((a, b) => b[1].s - a[1].s);
  // the English classifier is on by default for the English data; another language brings its own or none
  const model =
    opts.intentModel === undefined ? (lang === english ? englishIntentModel : null) : opts.intentModel;
  const classTokens =
    model || opts.explain ? classTokensOf(toks, entityKind, nowAt, (i) => unitAt(i, allWords)) : [];
  if (opts.explain)
    opts.explain({
      tokens: toks.map((t) => (t.used ? `${t.text}/${t.used}` : t.text)),
      scores: ranked.slice(0, 4).map(([i, x]) => `${i}=${x.s.toFixed(2)}`),
      features: classTokens,
    });
  const [cueIntent, best] = ranked[0];
  const second = ranked[1]?.[1].s ?? 0;
  // the score against the pivot, shrunk when a second intent scores nearly as high
  let confidence = Number(
    (sigmoid(2 * (best.s - PIVOT)) * (0.8 + 0.2 * Math.min(1, (best.s - second) / 1.5))).toFixed(3),
  );
  if (unsupportedAt.length) issues.push({ kind: 'unsupported' });
  // the parser's pick and its confidence in it, then the classifier's (BLEND)
  let pick: Intent = confidence < threshold ? 'out_of_scope' : cueIntent;
  let strength = pick === 'out_of_scope' ? Number((1 - confidence).toFixed(3)) : confidence;
  const rule = opts.blend ?? BLEND;
  if (model && model.classes.length && strength < rule.cap) {
    const w = rule.weight;
    const p = predictProba(model, featuresOf(classTokens));
    const own = model.classes.indexOf(pick);
    const ownScore = (own >= 0 ? w * p[own] : 0) + (1 - w) * strength;
    let top = -1;
    model.classes.forEach((c, k) => {
      if (w * p[k] > ownScore && (top < 0 || p[k] > p[top]) && (c === 'out_of_scope' || c in INTENT_SLOTS))
        top = k;
    });
    if (top >= 0) {
      pick = model.classes[top] as Intent;
      strength = Number(p[top].toFixed(3));
    }
  }
  if (pick === 'out_of_scope') return oos(strength, cueIntent);
  const bestIntent = pick;
  confidence = strength;

  // negated commands ask for nothing to be done
  if (isCommand(bestIntent)) {
    // the last time the action is asked for decides ("don't stop press 1, stop the packer"), and a negation
    // covers its own clause only
    const at = scores.get(bestIntent)?.cueAt ?? [];
    const cueAt = at.length ? Math.max(...at) : words.length;
    const lastCorrection = Math.max(-1, ...corrections);
    const negated = negs.some(
      (p) => p < cueAt && cueAt - p <= 5 && p > lastCorrection && clauseOf[p] === clauseOf[cueAt],
    );
    if (negated) {
      issues.push({ kind: 'negated', text: bestIntent });
      return oos(confidence, bestIntent);
    }
  }

  // 7. slots for the chosen intent; the last stated name or value wins (corrections)
  const spec = INTENT_SLOTS[bestIntent];
  const slots: Slots = {};
  const lastOf = (kind: EntityKind) =>
    [...mentions].reverse().find((m) => m.refs.some((r) => r.kind === kind));
  const mach = lastOf('machine')?.refs.find((r) => r.kind === 'machine')?.id;
  if (spec.slots.includes('machine') && mach) slots.machine = mach;
  // a reading of a parameter only one machine has names that machine
  else if (bestIntent === 'status' && has('parameter') && paramMachine) slots.machine = paramMachine;
  if (spec.slots.includes('line')) {
    const l = lastOf('line')?.refs[0]?.id;
    if (l) slots.line = l;
  }
  if (spec.slots.includes('characteristic')) {
    const c = lastOf('characteristic')?.refs.find((r) => r.kind === 'characteristic')?.id;
    if (c) slots.characteristic = c;
  }
  if (spec.slots.includes('item')) {
    const it = lastOf('item')?.refs.find((r) => r.kind === 'item')?.id;
    if (it) slots.item = it;
  }
  if (spec.slots.includes('order')) {
    const o = order ?? weakOrder;
    if (o) slots.order = o;
  }
  const timeMatches = times.filter((m) => !m.isNow && !(bestIntent === 'set_parameter' && m.weak));
  const tm = timeMatches.at(-1);
  if (tm && spec.slots.includes('period')) slots.period = tm.past;
  if (tm && spec.slots.includes('when')) slots.when = tm.future;
  if (bestIntent === 'set_parameter') fillSetParameter(plant, mentions, anyVals, slots, issues, lang);
  for (const r of spec.required)
    if (slots[r] === undefined && !issues.some((x) => x.slot === r))
      issues.push({ kind: 'missing', slot: r });
  return { intent: bestIntent, slots, confidence, outOfScope: false, issues };
}

/**
 * The utterance as the classifier reads it: the normalised words, with plant names, orders, unknown names,
 * times, numbers and units replaced by class tokens ("stop {machine}", "set {parameter} to {number} {unit}");
 * a run of one class is one token, and "?" is kept (it marks a question).
 */
function classTokensOf(
  toks: Token[],
  entityKind: Map<Token, EntityKind>,
  nowAt: Set<number>,
  unitAt: (i: number) => { tokens: string[] } | undefined,
): string[] {
  const out: string[] = [];
  const push = (w: string) => {
    if (!(w.startsWith('{') && out.at(-1) === w)) out.push(w);
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind === 'punct') {
      if (t.text === '?') push('?');
    } else if (t.used === 'entity') push(`{${entityKind.get(t) ?? 'machine'}}`);
    else if (t.used === 'order' || t.used === 'unknown') push(`{${t.used}}`);
    else if ((t.used === 'time' && !nowAt.has(i)) || t.kind === 'clock') push('{time}');
    else if (t.kind === 'num') {
      push('{number}');
      const u = unitAt(i + 1);
      if (u) {
        push('{unit}');
        i += u.tokens.length;
      }
    } else push(t.text);
  }
  return out;
}

function fillSetParameter(
  plant: Plant,
  mentions: Mention[],
  vals: { value: number; unit?: string }[],
  slots: Slots,
  issues: ParseIssue[],
  lang: LangData,
): void {
  const v = vals.at(-1);
  const paramMention = [...mentions].reverse().find((m) => m.refs.some((r) => r.kind === 'parameter'));
  let refs = paramMention?.refs.filter((r) => r.kind === 'parameter') ?? [];
  const machine = plant.machines.find((m) => m.id === slots.machine);
  const unitOk = (p: PlantParameter) =>
    !v?.unit || sameUnit(v.unit, p.unit) || convertible(v.unit, p.unit, lang);
  if (machine) {
    const own = refs.filter((r) => r.machine === machine.id);
    if (refs.length && !own.length) {
      issues.push({
        kind: 'unknown',
        slot: 'parameter',
        text: refs[0].id,
        suggestions: (machine.parameters ?? []).map((p) => p.name),
      });
      refs = [];
    } else if (own.length) refs = own;
    else {
      // no parameter named: the one whose unit, or else whose limits, fit the value
      const params = machine.parameters ?? [];
      let fit = params.filter(
        (p) => v?.unit && (sameUnit(v.unit, p.unit) || convertible(v.unit, p.unit, lang)),
      );
      if (!fit.length && v && !v.unit)
        fit = params.filter(
          (p) => (p.min === undefined || v.value >= p.min) && (p.max === undefined || v.value <= p.max),
        );
      refs =
        fit.length === 1 ? [{ kind: 'parameter', id: fit[0].name, machine: machine.id, param: fit[0] }] : [];
      if (fit.length > 1)
        issues.push({ kind: 'ambiguous', slot: 'parameter', suggestions: fit.map((p) => p.name) });
    }
  } else if (refs.length > 1) {
    const fit = refs.filter((r) => r.param && unitOk(r.param));
    if (fit.length >= 1 && v?.unit) refs = fit;
  } else if (!refs.length && v?.unit) {
    // no machine, no parameter named: the one parameter of the plant with the unit said ("2500 rpm")
    const fit = plant.machines.flatMap((m) =>
      (m.parameters ?? [])
        .filter((p) => unitOk(p))
        .map((p): EntityRef => ({ kind: 'parameter', id: p.name, machine: m.id, param: p })),
    );
    if (fit.length === 1) refs = fit;
  }
  if (refs.length > 1) {
    const names = [...new Set(refs.map((r) => `${r.machine}.${r.id}`))];
    if (names.length > 1) {
      issues.push({
        kind: 'ambiguous',
        slot: machine ? 'parameter' : 'machine',
        suggestions: [...new Set(refs.map((r) => r.machine as string))],
      });
      refs = [];
    }
  }
  const ref = refs[0];
  if (ref) {
    slots.parameter = ref.id;
    if (!slots.machine && ref.machine) slots.machine = ref.machine;
  }
  if (!v) return;
  let value = v.value;
  // "120 bar, sorry, 125": the corrected value keeps the unit said with the first one
  let unit = v.unit ?? [...vals].reverse().find((x) => x.unit)?.unit;
  const p = ref?.param;
  if (unit && p?.unit) {
    if (sameUnit(unit, p.unit)) unit = p.unit;
    else if (convertible(unit, p.unit, lang)) {
      value = Number(
        Qty(value, lang.quantityNames[unit])
          .to(lang.quantityNames[p.unit] ?? p.unit)
          .scalar.toPrecision(12),
      );
      unit = p.unit;
    }
  }
  slots.value = value;
  if (unit) slots.unit = unit;
  if (p && ((p.min !== undefined && value < p.min) || (p.max !== undefined && value > p.max)))
    issues.push({ kind: 'out_of_limits', slot: 'value', limits: { min: p.min, max: p.max, unit: p.unit } });
}

const sameUnit = (a: string, b?: string) => !!b && a.toLowerCase() === b.toLowerCase();
function convertible(from: string, to: string | undefined, lang: LangData): boolean {
  const a = lang.quantityNames[from];
  const b = to ? lang.quantityNames[to] : undefined;
  if (!a || !b || a === b) return false;
  try {
    return Qty(1, a).isCompatible(Qty(1, b));
  } catch {
    return false;
  }
}
