/**
 * Text normalisation for the assistant: tokens, typo distance and spoken numbers. Language-specific words come
 * from the language data (lang/*.json); the code only knows shapes (digits, clock times, punctuation).
 */
import type { LangData } from './types';

export interface Token {
  /** Normalised text: a lower-case word, a canonical number ("182", "-0.02") or a clock "14:00". */
  text: string;
  kind: 'word' | 'num' | 'clock' | 'punct';
  num?: number;
  /** Clock time for "14:00" tokens. */
  clock?: { h: number; m: number };
  /** Number written with digits (not words); digits carry more certainty than "one". */
  digits?: boolean;
  /** The word was a typo fixed to a lexicon word. */
  fixed?: boolean;
  /** Set once a stage claims the token (entity, time, order, value, unit). */
  used?: string;
  /** The foreign marker said right before this word ("my", "a"; see LangData.foreignMarkers). */
  marker?: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const contractionCache = new WeakMap<LangData, RegExp>();

function contractionRe(lang: LangData): RegExp {
  let re = contractionCache.get(lang);
  if (!re) {
    const keys = Object.keys(lang.contractions).sort((a, b) => b.length - a.length);
    re = new RegExp(`(^|[^\\p{L}\\p{N}'])(${keys.map(escape).join('|')})(?![\\p{L}\\p{N}'])`, 'gu');
    contractionCache.set(lang, re);
  }
  return re;
}

/** Lower case, unify quotes and symbols, expand contractions, split ids ("ORD-105" -> ord 105, "cnc1" -> cnc 1). */
export function tokenize(text: string, lang: LangData): Token[] {
  let s = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘`´]/g, "'");
  s = s
    .replace(/[°º]\s*c\b/g, ' degc ')
    .replace(/[°º]\s*f\b/g, ' degf ')
    .replace(/[°º]/g, ' degrees ')
    .replace(/%/g, ' percent ')
    .replace(/\//g, ' per ')
    .replace(/[#"()[\]{}*_~^|<>]/g, ' ');
  s = s.replace(contractionRe(lang), (_m, pre: string, word: string) => `${pre}${lang.contractions[word]}`);
  s = s.replace(/([\p{L}\p{N}])-(?=[\p{L}\p{N}])/gu, '$1 ');
  const out: Token[] = [];
  const re =
    /(\d{1,2}):(\d{2})|[-+]?\d+(?:,\d{3})*(?:\.\d+)?|[-+]?\.\d+|\p{L}+(?:'\p{L}+)*|[?!,;]|\.(?!\d)/gu;
  for (const m of s.matchAll(re)) {
    const t = m[0];
    if (m[1] !== undefined) {
      const h = Number(m[1]);
      const mi = Number(m[2]);
      if (h <= 24 && mi < 60) out.push({ text: t, kind: 'clock', clock: { h, m: mi } });
      continue;
    }
    if (/^[-+]?[\d.]/.test(t)) {
      const n = Number(t.replace(/,/g, ''));
      if (Number.isFinite(n)) out.push({ text: String(n), kind: 'num', num: n, digits: true });
      continue;
    }
    if (/^[?!,;.]$/.test(t)) {
      out.push({ text: t === '!' || t === ';' ? ',' : t, kind: 'punct' });
      continue;
    }
    // a possessive ending of the language data ("the mill's" -> mill), then no apostrophes
    const end = (lang.possessiveEndings ?? []).find((e) => t.endsWith(e) && t.length - e.length >= 2);
    const w = (end ? t.slice(0, -end.length) : t).replace(/'/g, '');
    if (lang.contractions[w]) {
      for (const part of lang.contractions[w].split(' ')) out.push({ text: part, kind: 'word' });
      continue;
    }
    if (w) out.push({ text: w, kind: 'word' });
  }
  return out;
}

/** Damerau-Levenshtein distance (optimal string alignment), stopping early above max. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/** Allowed typo distance for a word of this length: none for short words, more for long ones. */
export const typoBudget = (len: number) => (len <= 2 ? 0 : len <= 7 ? 1 : 2);

/**
 * Replaces each unknown word (not known, not an inflection of a known word) by the closest lexicon word within its typo budget. Among equally close words the
 * first `priority` entries of the lexicon (plant names and intent words) win over the rest; a three-letter
 * word is corrected only when one word of the winning group is that close. Results are memoised in cache.
 */
export function correctTypos(
  tokens: Token[],
  known: (w: string) => boolean,
  ordered: string[],
  priority: number,
  cache: Map<string, string>,
): void {
  for (const t of tokens) {
    if (t.kind !== 'word' || known(t.text) || t.text.length < 3) continue;
    const memo = cache.get(t.text);
    if (memo !== undefined) {
      if (memo) {
        t.text = memo;
        t.fixed = true;
      }
      continue;
    }
    const budget = typoBudget(t.text.length);
    let bestD = budget + 1;
    let cands: number[] = [];
    for (let i = 0; i < ordered.length; i++) {
      const w = ordered[i];
      if (w.length < 3 || Math.abs(w.length - t.text.length) > budget) continue;
      const d = editDistance(t.text, w, bestD);
      if (d < bestD) {
        bestD = d;
        cands = [i];
      } else if (d === bestD) cands.push(i);
    }
    const top = cands.some((i) => i < priority) ? cands.filter((i) => i < priority) : cands;
    // a three-letter word is fixed only into a plant or cue word ("red" is no typo of "wed")
    const fix =
      top.length && bestD <= budget && (t.text.length > 3 || (top.length === 1 && top[0] < priority))
        ? ordered[top[0]]
        : '';
    if (cache.size < 10000) cache.set(t.text, fix);
    if (fix) {
      t.text = fix;
      t.fixed = true;
    }
  }
}

/** A light stem for cue matching: "halted" -> halt, "running" -> run, "produced" -> produc. */
export function stem(w: string, suffixes: string[]): string {
  let s = w;
  for (const suf of suffixes) {
    if (s.length - suf.length >= 3 && s.endsWith(suf) && !(suf.length === 1 && s.endsWith(suf + suf))) {
      s = s.slice(0, -suf.length);
      if (/([b-df-hj-np-tv-z])\1$/.test(s) && !/(ll|ss)$/.test(s)) s = s.slice(0, -1);
      break;
    }
  }
  return s.length >= 4 && s.endsWith('e') ? s.slice(0, -1) : s;
}

/**
 * Turns spoken numbers into number tokens: "one eighty two" -> 182 (groups read digit-wise), "a hundred and
 * eighty" -> 180, "zero point two" -> 0.2, "minus 0.02" -> -0.02, "2 thousand" -> 2000. Tokens already claimed
 * by an earlier stage stay as they are.
 */
export function mergeNumbers(tokens: Token[], lang: LangData): Token[] {
  const N = lang.numbers;
  const isUnit = (w: string) => N.units[w] !== undefined;
  const isTens = (w: string) => N.tens[w] !== undefined;
  const isScale = (w: string) => N.scales[w] !== undefined;
  const isNumWord = (t: Token) =>
    !t.used && t.kind === 'word' && (isUnit(t.text) || isTens(t.text) || isScale(t.text));
  const out: Token[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i];
    let sign = 1;
    let j = i;
    if (!t.used && t.kind === 'word' && (N.minus.includes(t.text) || N.plus.includes(t.text))) {
      const nx = tokens[i + 1];
      if (nx && !nx.used && (nx.kind === 'num' || isNumWord(nx) || N.point.includes(nx.text))) {
        sign = N.minus.includes(t.text) ? -1 : 1;
        j = i + 1;
      }
    }
    const start = tokens[j];
    if (start && !start.used && start.kind === 'num') {
      let v = start.num as number;
      let k = j + 1;
      const nx = tokens[k];
      if (nx && isNumWord(nx) && isScale(nx.text) && Number.isInteger(v * 10)) {
        v *= N.scales[nx.text];
        k++;
      }
      out.push({ text: String(sign * v), kind: 'num', num: sign * v, digits: true });
      i = k;
      continue;
    }
    if (
      start &&
      (isNumWord(start) || (N.point.includes(start.text) && tokens[j + 1] && isNumWord(tokens[j + 1])))
    ) {
      // Read a run of number words into groups; several groups are read digit-wise ("one", "eighty two").
      const groups: string[] = [];
      let cur = -1;
      let total = 0;
      let last: 'unit' | 'teen' | 'tens' | 'scale' | undefined;
      let k = j;
      let decimals = '';
      const flush = () => {
        if (cur >= 0 || total > 0) groups.push(String(total + Math.max(cur, 0)));
        cur = -1;
        total = 0;
        last = undefined;
      };
      for (; k < tokens.length; k++) {
        const w = tokens[k];
        if (w.used || w.kind !== 'word') break;
        const x = w.text;
        if (N.point.includes(x)) {
          let d = k + 1;
          while (
            tokens[d] &&
            !tokens[d].used &&
            tokens[d].kind === 'word' &&
            isUnit(tokens[d].text) &&
            N.units[tokens[d].text] < 10
          ) {
            decimals += String(N.units[tokens[d].text]);
            d++;
          }
          if (!decimals) break;
          k = d;
          break;
        }
        if (N.and.includes(x)) {
          const nx = tokens[k + 1];
          if ((last === 'scale' || (last && total > 0)) && nx && isNumWord(nx) && !isScale(nx.text)) continue;
          break;
        }
        if (isUnit(x)) {
          const u = N.units[x];
          if (last === 'tens' && u > 0 && u < 10 && cur % 10 === 0) cur += u;
          else if (last === 'scale' || (last === undefined && cur < 0)) cur = Math.max(cur, 0) + u;
          else {
            flush();
            cur = u;
          }
          last = u >= 10 ? 'teen' : 'unit';
        } else if (isTens(x)) {
          if (last === 'scale' || (last === undefined && cur < 0)) cur = Math.max(cur, 0) + N.tens[x];
          else {
            flush();
            cur = N.tens[x];
          }
          last = 'tens';
        } else if (isScale(x)) {
          const s = N.scales[x];
          if (s >= 1000) {
            total = (total + Math.max(cur, 1)) * s;
            cur = -1;
          } else cur = Math.max(cur, 1) * s;
          last = 'scale';
        } else break;
      }
      flush();
      if (groups.length === 0 && decimals) groups.push('0');
      if (groups.length > 0) {
        const v = sign * Number(groups.join('') + (decimals ? `.${decimals}` : ''));
        out.push({ text: String(v), kind: 'num', num: v });
        i = k;
        continue;
      }
    }
    out.push(t);
    i++;
  }
  return out;
}

/** Splits a phrase of the language data or the plant into the same tokens an utterance gives. */
export function phraseTokens(phrase: string, lang: LangData): string[] {
  return tokenize(phrase, lang)
    .filter((t) => t.kind !== 'punct' && !lang.drop.includes(t.text))
    .map((t) => t.text);
}
