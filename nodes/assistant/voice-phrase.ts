/**
 * Phrase structures the voice side writes once and uses twice: as a JSGF rule body (the recognizer's
 * grammars) and as a seeded sampler of word sequences (the sentences the domain language model is counted
 * from). The time phrase ({time} in the sentence patterns) is built here from the language data's time words
 * (lang.time, the words time.ts reads), so the grammar and the language model hear the same time phrases.
 */
import type { LangData } from './types';

/** A phrase structure: words, a sequence, alternatives, an optional part, or a named JSGF rule. */
export type Phrase =
  { words: string[] } | { seq: Phrase[] } | { alt: Phrase[] } | { opt: Phrase } | { rule: string };

export const words = (ws: string[]): Phrase => ({ words: ws });
export const seq = (...ps: Phrase[]): Phrase => ({ seq: ps });
export const alt = (ps: Phrase[]): Phrase => ({ alt: ps });
export const opt = (p: Phrase): Phrase => ({ opt: p });
export const rule = (name: string): Phrase => ({ rule: name });

/** JSGF text of a phrase (a rule reference is `<name>`; an empty alternative is `<VOID>`). */
export function toJsgf(p: Phrase): string {
  if ('words' in p) return p.words.join(' ');
  if ('rule' in p) return `<${p.rule}>`;
  if ('opt' in p) return `[ ${toJsgf(p.opt)} ]`;
  if ('seq' in p) return `( ${p.seq.map(toJsgf).join(' ')} )`;
  const uniq = [...new Set(p.alt.map(toJsgf))].filter((x) => x !== '');
  return uniq.length ? `( ${uniq.join(' | ')} )` : '<VOID>';
}

/** One word sequence of a phrase, drawn with rnd; rules are drawn by `rules` (their own samplers). */
export function sample(p: Phrase, rnd: () => number, rules: Record<string, () => string[]>): string[] {
  if ('words' in p) return p.words;
  if ('rule' in p) return rules[p.rule]?.() ?? [];
  if ('opt' in p) return rnd() < 0.5 ? sample(p.opt, rnd, rules) : [];
  if ('seq' in p) return p.seq.flatMap((x) => sample(x, rnd, rules));
  return p.alt.length ? sample(p.alt[Math.floor(rnd() * p.alt.length)], rnd, rules) : [];
}

/**
 * The time phrase, from the language's time words: a day ("today", "tomorrow morning", "on monday"), this /
 * last / next with a shift, a named shift or a duration ("last shift", "the next hour"), a stretch back ("the
 * last 30 minutes", "in the past two hours"), since / at a clock time ("since six", "at two pm", "tomorrow at
 * fourteen thirty"), in a while ("in three hours"), the shift's start or end. Rules it refers to: <int> and
 * <below100> (numbers in words). `known`: the words the pronunciation dictionary holds.
 */
export function timePhrase(
  lang: LangData,
  spoken: (phrase: string) => string[],
  the: string[],
  known: (word: string) => boolean,
): Phrase {
  const t = lang.time;
  // the time words are the typed forms the parser reads: a word the dictionary lacks ("tmrw") or a short form
  // of a longer word in the same list ("min", "mon") is typed, not said
  const said = (list: string[]) =>
    list
      .map(spoken)
      .filter(
        (ws) =>
          ws.length &&
          ws.every(known) &&
          !(ws.length === 1 && list.some((o) => o.length >= ws[0].length + 2 && o.startsWith(ws[0]))),
      );
  const ws = (list: string[]) => alt(said(list).map(words));
  const durations = Object.values(t.durations).flat();
  const shiftNames = Object.values(t.shiftNames).flat();
  const theOpt = opt(ws(the));
  const day = ws([...t.today, ...t.yesterday, ...t.tomorrow]);
  const clock = seq(
    alt([seq(rule('below100'), opt(rule('below100'))), ws([...t.midnight, ...t.noon])]),
    opt(ws([...t.am, ...t.pm, ...t.oclock])),
  );
  return alt([
    ws([...t.today, ...t.yesterday, ...t.tomorrow, ...t.tonight, ...t.lastNight, ...t.dayAfterTomorrow]),
    seq(alt([day, ws(t.this)]), ws(t.partOfDay)),
    seq(ws(t.at), ws(Object.keys(t.weekdays))),
    seq(opt(ws(t.in)), theOpt, ws([...t.this, ...t.last, ...t.next]), ws([...t.shift, ...durations])),
    seq(
      opt(ws(t.at)),
      theOpt,
      alt([ws(shiftNames), seq(ws([...t.this, ...t.last, ...t.next]), ws(shiftNames))]),
    ),
    seq(opt(ws(t.in)), theOpt, ws([...t.last, ...t.next]), rule('int'), ws(durations)),
    seq(opt(day), ws([...t.since, ...t.at]), clock),
    seq(ws(t.in), rule('int'), ws(durations)),
    seq(opt(ws(t.at)), theOpt, ws([...t.shiftStart, ...t.shiftEnd])),
  ]);
}
