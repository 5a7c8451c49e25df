/**
 * The recognizer's language model: a word trigram model over the operator's domain, built for one plant from
 * the voice language data's sentence patterns ("sentences" in lang/en-voice.json: "why did {machine} stop",
 * "set the {parameter} on {machine} to {num} {unit}") with the classes filled by the plant's own names,
 * parameters, orders, items and characteristics, numbers in words and the language's unit words. A grammar
 * accepts only the word orders it lists, and an utterance outside them decodes as the nearest listed one
 * (usually a different intent); a trigram model with back-off also accepts new orders of known words, and its
 * small vocabulary (some hundreds of words, against the general model's 130,000) keeps the acoustic search
 * among words an operator would say. Written as ARPA text, which pocketsphinx reads with `-lm`.
 *
 * Estimation: absolute discounting (D = 0.5) with back-off weights that make every context's distribution
 * sum to one (Ney, Essen & Kneser 1994); unigrams are add-half smoothed.
 */
import { mulberry32 } from '../core/random';
import { TaktError } from '../core/errors';
import type { LangData, Plant } from './types';

/** Inputs the model needs from the voice module (passed in, so this file has no cycle with voice.ts). */
export interface LmInputs {
  sentences: string[];
  lang: LangData;
  /** Spoken words of a written name ("CNC1" -> cnc 1). */
  spokenWords: (phrase: string) => string[];
  /** An integer in words (182 -> one hundred and eighty two). */
  numberWords: (n: number, lang: LangData, withAnd?: boolean) => string[];
  /** How many times each pattern is filled (default 20). */
  fills?: number;
  seed?: number;
}

export interface LanguageModel {
  /** ARPA text. */
  arpa: string;
  /** Every word of the model (without <s>, </s>). */
  words: string[];
  /** How many sentences were counted. */
  sentences: number;
}

const DISCOUNT = 0.5;

/** The plant's spoken names per class; a class with no names leaves its patterns out. */
function classNames(plant: Plant, say: (s: string) => string[]): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  const put = (cls: string, x: { id?: string; name?: string; aliases?: string[] }) => {
    const list = out.get(cls) ?? [];
    for (const n of [x.id, x.name, ...(x.aliases ?? [])]) if (n) list.push(say(n));
    out.set(cls, list);
  };
  for (const m of plant.machines) {
    put('machine', m);
    for (const p of m.parameters ?? []) put('parameter', { name: p.name, aliases: p.aliases });
  }
  for (const x of plant.lines ?? []) put('line', x);
  for (const x of plant.items ?? []) put('item', x);
  for (const x of plant.characteristics ?? []) put('characteristic', x);
  for (const o of plant.orders ?? []) {
    put('order', { id: o.id });
    // "order 105": the number of the id alone
    const digits = say(o.id).filter((w) => /\d/.test(w));
    if (digits.length) out.get('order')?.push(digits, digits);
  }
  for (const [k, v] of out) if (!v.length) out.delete(k);
  return out;
}

/** Sentences from the patterns, each filled `fills` times from the plant (seeded, so the model is stable). */
export function fillSentences(plant: Plant, inp: LmInputs): string[][] {
  const rnd = mulberry32(inp.seed ?? 1);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const names = classNames(plant, inp.spokenWords);
  const units = Object.values(inp.lang.units)
    .flat()
    .map(inp.spokenWords)
    .filter((u) => u.length);
  const digits = (k: number) =>
    Array.from({ length: k }, () => inp.numberWords(Math.floor(rnd() * 10), inp.lang)).flat();
  const num = (): string[] => {
    const r = rnd();
    if (r < 0.25) return digits(1);
    if (r < 0.4) return digits(2);
    if (r < 0.8) return inp.numberWords(Math.floor(rnd() * 300), inp.lang, rnd() < 0.5);
    return inp.numberWords(Math.floor(rnd() * 5000), inp.lang, rnd() < 0.5);
  };
  const out: string[][] = [];
  for (const pattern of inp.sentences) {
    const parts = pattern.split(/\s+/).filter((w) => w !== '');
    const classes = parts.filter((w) => /^\{\w+\}$/.test(w)).map((w) => w.slice(1, -1));
    if (classes.some((c) => c !== 'num' && c !== 'unit' && !names.has(c))) continue;
    for (let k = 0; k < (inp.fills ?? 20); k++) {
      const words: string[] = [];
      for (const p of parts) {
        if (!/^\{\w+\}$/.test(p)) words.push(p);
        else if (p === '{num}') words.push(...num());
        else if (p === '{unit}') words.push(...pick(units));
        else words.push(...pick(names.get(p.slice(1, -1)) ?? [[]]));
      }
      out.push(words);
    }
  }
  return out;
}

/** A back-off trigram model in ARPA text from tokenised sentences. */
export function arpaModel(sentences: string[][], order = 3): LanguageModel {
  if (!sentences.length)
    throw new TaktError('voice.noSentences', 'the voice language data has no sentences for this plant');
  const counts: Map<string, number>[] = Array.from({ length: order }, () => new Map());
  for (const s of sentences) {
    const w = ['<s>', ...s, '</s>'];
    for (let n = 1; n <= order; n++)
      for (let i = 0; i + n <= w.length; i++) {
        const g = w.slice(i, i + n).join(' ');
        counts[n - 1].set(g, (counts[n - 1].get(g) ?? 0) + 1);
      }
  }
  const uni = counts[0];
  const vocab = [...uni.keys()];
  let total = 0;
  for (const [g, c] of uni) if (g !== '<s>') total += c;
  const probs: Map<string, number>[] = counts.map(() => new Map());
  // <s> is never predicted: the unigrams share the mass over the other words
  const predicted = vocab.length - 1;
  for (const [g, c] of uni) if (g !== '<s>') probs[0].set(g, (c + 0.5) / (total + 0.5 * predicted));
  const bows: Map<string, number>[] = counts.map(() => new Map());
  const head = (g: string) => g.slice(0, g.lastIndexOf(' '));
  const tail = (g: string) => g.slice(g.indexOf(' ') + 1);
  // the back-off probability of an n-gram (words joined by spaces)
  const prob = (n: number, g: string): number => {
    const p = probs[n - 1].get(g);
    if (p !== undefined) return p;
    if (n === 1) return 0;
    return (bows[n - 2].get(head(g)) ?? 1) * prob(n - 1, tail(g));
  };
  for (let n = 2; n <= order; n++) {
    const ctx = new Map<string, { total: number; seen: string[] }>();
    for (const [g, c] of counts[n - 1]) {
      const h = ctx.get(head(g)) ?? { total: 0, seen: [] };
      h.total += c;
      h.seen.push(g);
      ctx.set(head(g), h);
    }
    for (const [g, c] of counts[n - 1]) probs[n - 1].set(g, (c - DISCOUNT) / (ctx.get(head(g))?.total ?? c));
    for (const [h, { seen }] of ctx) {
      let left = 1;
      let lower = 1;
      for (const g of seen) {
        left -= probs[n - 1].get(g) ?? 0;
        lower -= prob(n - 1, tail(g));
      }
      bows[n - 2].set(h, Math.max(1e-9, left) / Math.max(1e-9, lower));
    }
  }
  const log = (x: number) => Math.log10(x).toFixed(4);
  const lines = ['\\data\\', ...counts.map((c, i) => `ngram ${i + 1}=${c.size}`)];
  for (let n = 1; n <= order; n++) {
    lines.push('', `\\${n}-grams:`);
    for (const g of counts[n - 1].keys()) {
      const p = n === 1 && g === '<s>' ? '-99' : log(probs[n - 1].get(g) ?? 1e-9);
      const b = n < order ? bows[n - 1].get(g) : undefined;
      lines.push(b !== undefined ? `${p} ${g} ${log(b)}` : `${p} ${g}`);
    }
  }
  lines.push('', '\\end\\', '');
  return {
    arpa: lines.join('\n'),
    words: vocab.filter((w) => w !== '<s>' && w !== '</s>').sort(),
    sentences: sentences.length,
  };
}
