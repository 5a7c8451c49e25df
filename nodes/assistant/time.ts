/**
 * Time expressions -> { from, to } epoch ms relative to now, following the assistant's conventions (README,
 * "Assistant"): "this shift" is { shift start, now }, "last shift" the whole previous shift, "since 6" is
 * { 06:00 today, now }, a point in time is { t, t }, "tomorrow" is the whole day.
 *
 * The parser reads tokens left to right and tries each pattern at each position. A match claims its tokens.
 * Matches are strong (unambiguous time words) or weak ("at 6", "from 6": a bare number that might be a
 * value); the caller drops weak matches when the intent needs the number as a value.
 */
import type { Token } from './text';
import type { LangData, PlantShift, TimeRange } from './types';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface TimeMatch {
  /** For a question about the past (period). */
  past: TimeRange;
  /** For a command about the future (when); the same as past unless the words are ambiguous. */
  future: TimeRange;
  /** true: the words only say "now" (no time slot). */
  isNow?: boolean;
  weak: boolean;
  start: number;
  end: number;
  /** A named shift said on its own ("the late shift"): its name, so a day word beside it can place it. */
  shift?: string;
  /** A whole day said ("yesterday"): the start of that day. */
  day?: number;
}

export interface Clock {
  now: number;
  utcOffsetMin: number;
  shifts: PlantShift[];
}

const hm = (s: string) => {
  const [h, m] = s.split(':').map(Number);
  return (h * 60 + (m || 0)) * MIN;
};

/** Start of the local day holding t, as epoch ms. */
function dayStart(t: number, off: number): number {
  return Math.floor((t + off) / DAY) * DAY - off;
}

function shiftOccurrences(c: Clock): { name: string; from: number; to: number }[] {
  const off = c.utcOffsetMin * MIN;
  const d0 = dayStart(c.now, off);
  const out: { name: string; from: number; to: number }[] = [];
  for (let d = -3; d <= 3; d++) {
    for (const s of c.shifts) {
      const from = d0 + d * DAY + hm(s.start);
      let to = d0 + d * DAY + hm(s.end);
      if (to <= from) to += DAY;
      out.push({ name: s.name, from, to });
    }
  }
  return out.sort((a, b) => a.from - b.from);
}

const range = (from: number, to: number): TimeRange => ({ from, to });
const both = (r: TimeRange, start: number, end: number, weak = false): TimeMatch => ({
  past: r,
  future: r,
  weak,
  start,
  end,
});

const splitCache = new WeakMap<string[], string[][]>();
const derivedCache = new WeakMap<
  LangData,
  { sinceShift: string[]; sinceMorning: string[]; morning: string[]; named: Record<string, string[]> }
>();
/** Phrase lists built from the language data ("this shift", "this morning", two-word shift names), once per language. */
function derived(lang: LangData) {
  let d = derivedCache.get(lang);
  if (!d) {
    const T = lang.time;
    d = {
      sinceShift: [...T.this.flatMap((w) => T.shift.map((s) => `${w} ${s}`)), ...T.shift],
      sinceMorning: [...T.this.flatMap((w) => T.morning.map((m) => `${w} ${m}`)), ...T.morning],
      morning: T.morning,
      named: Object.fromEntries(
        Object.entries(T.shiftNames).map(([k, v]) => [k, v.filter((x) => x.includes(' '))]),
      ),
    };
    derivedCache.set(lang, d);
  }
  return d;
}
/** The phrases of a language-data list as word arrays (split once per list). */
function splitList(list: string[]): string[][] {
  let l = splitCache.get(list);
  if (!l) splitCache.set(list, (l = list.map((p) => p.split(' '))));
  return l;
}

/** Finds every time expression in tokens (skipping tokens claimed by entities). */
export function findTimes(tokens: Token[], lang: LangData, c: Clock): TimeMatch[] {
  const T = lang.time;
  const D = derived(lang);
  const off = c.utcOffsetMin * MIN;
  const now = c.now;
  const d0 = dayStart(now, off);
  const shifts = shiftOccurrences(c);
  const curIdx = shifts.findIndex((s) => s.from <= now && now < s.to);
  const cur = curIdx >= 0 ? shifts[curIdx] : undefined;
  const weekday = new Date(d0 + off).getUTCDay();
  const monday = d0 - ((weekday + 6) % 7) * DAY;
  /** Start of the local month `k` months from this one (0: this month, -1: the last, 1: the next). */
  const monthFrom = (k: number) => {
    const d = new Date(d0 + off);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k, 1) - off;
  };
  const monthStart = monthFrom(0);
  const prevMonthStart = monthFrom(-1);
  const nextMonthStart = monthFrom(1);

  const words = tokens.map((t) => (t.used ? '\u0000' : t.text));
  /** Length of the longest phrase of list that starts at i, or 0. */
  const phraseAt = (i: number, list: string[]): number => {
    let best = 0;
    for (const ws of splitList(list)) {
      if (ws.length > best && ws.every((w, k) => words[i + k] === w)) best = ws.length;
    }
    return best;
  };
  const dur = (i: number): { ms: number; unit: string; len: number } | undefined => {
    for (const [unit, list] of Object.entries(T.durations)) {
      const n = phraseAt(i, list);
      if (n) {
        const ms =
          unit === 'minute'
            ? MIN
            : unit === 'hour'
              ? HOUR
              : unit === 'day'
                ? DAY
                : unit === 'week'
                  ? 7 * DAY
                  : 30 * DAY;
        return { ms, unit, len: n };
      }
    }
    return undefined;
  };
  const num = (i: number) =>
    !tokens[i]?.used && tokens[i]?.kind === 'num' ? (tokens[i].num as number) : undefined;
  /** A clock time at i: "14:00", "6 am", "6", "noon", "6 o'clock"; h24 is the hour if am/pm settles it. */
  const clockAt = (i: number): { h: number; m: number; len: number; explicit: boolean } | undefined => {
    const t = tokens[i];
    if (!t || t.used) return undefined;
    if (t.kind === 'clock' && t.clock) return { ...t.clock, len: 1, explicit: true };
    let n = phraseAt(i, T.noon);
    if (n) return { h: 12, m: 0, len: n, explicit: true };
    n = phraseAt(i, T.midnight);
    if (n) return { h: 0, m: 0, len: n, explicit: true };
    const v = num(i);
    if (v === undefined || !Number.isInteger(v) || v < 0) return undefined;
    let h = v;
    let m = 0;
    if (v >= 100 && v <= 2359 && v % 100 < 60 && tokens[i].digits) {
      h = Math.floor(v / 100);
      m = v % 100;
    } else if (v > 24) return undefined;
    const am = phraseAt(i + 1, T.am);
    const pm = phraseAt(i + 1, T.pm);
    const oc = phraseAt(i + 1, T.oclock);
    if (pm && h < 12) return { h: h + 12, m, len: 1 + pm, explicit: true };
    if (pm) return { h, m, len: 1 + pm, explicit: true };
    if (am) return { h: h === 12 ? 0 : h, m, len: 1 + am, explicit: true };
    if (oc && !dur(i + 1)) return { h, m, len: 1 + oc, explicit: true };
    if (dur(i + 1)) return undefined;
    return { h, m, len: 1, explicit: v >= 100 || h > 12 };
  };
  /** Most recent past occurrence of a local clock time (today or yesterday). */
  const lastAt = (h: number, m: number) => {
    const t = d0 + (h * 60 + m) * MIN;
    return t <= now ? t : t - DAY;
  };
  /** Next future occurrence; a bare hour below 13 may mean the afternoon ("at 2" at 10:30 is 14:00). */
  const nextAt = (h: number, m: number, explicit: boolean) => {
    const cands = [h];
    if (!explicit && h < 12) cands.push(h + 12);
    let best = Infinity;
    for (const hh of cands) {
      let t = d0 + (hh * 60 + m) * MIN;
      if (t <= now) t += DAY;
      best = Math.min(best, t);
    }
    return best;
  };
  const weekdayAt = (i: number) => {
    const w = words[i];
    return w !== undefined && T.weekdays[w] !== undefined ? T.weekdays[w] : undefined;
  };

  const out: TimeMatch[] = [];
  let i = 0;
  while (i < tokens.length) {
    const m = matchAt(i);
    if (m) {
      out.push(m);
      for (let k = m.start; k < m.end; k++) tokens[k].used = tokens[k].used ?? 'time';
      i = m.end;
    } else i++;
  }
  // a named shift beside a day ("the late shift yesterday", "yesterday's night shift", one word between at
  // most): that day's shift, the one that starts on it
  for (let k = 0; k + 1 < out.length; k++) {
    const [a, b] = [out[k], out[k + 1]];
    if (b.start - a.end > 1) continue;
    const named = a.shift ? a : b.shift ? b : undefined;
    const day = a.day !== undefined ? a : b.day !== undefined ? b : undefined;
    if (!named || !day || named === day || day.day === undefined) continue;
    const dayStart = day.day;
    const s = shifts.find((x) => x.name === named.shift && x.from >= dayStart && x.from < dayStart + DAY);
    if (!s) continue;
    out.splice(k, 2, {
      past: range(s.from, Math.min(s.to, now)),
      future: range(s.from, s.to),
      weak: false,
      start: a.start,
      end: b.end,
    });
  }
  return out;

  function matchAt(i: number): TimeMatch | undefined {
    let n: number;
    // "since ..." / "from ..."
    if ((n = phraseAt(i, T.since))) {
      const weak = (T.sinceWeak ?? []).includes(words[i]);
      const j = i + n;
      let k: number;
      if (weak) {
        // "from 6 (am)": a clock time only; "from last shift" is that shift (read by the patterns below)
        const cl = clockAt(j);
        return cl ? both(range(lastAt(cl.h, cl.m), now), i, j + cl.len, true) : undefined;
      }
      if ((k = phraseAt(j, T.shiftStart)) && cur) return both(range(cur.from, now), i, j + k, weak);
      if ((k = phraseAt(j, D.sinceShift)) && cur) return both(range(cur.from, now), i, j + k, weak);
      if ((k = phraseAt(j, T.yesterday))) return both(range(d0 - DAY, now), i, j + k, weak);
      if ((k = phraseAt(j, T.lastNight))) return both(range(lastAt(22, 0), now), i, j + k, weak);
      if ((k = phraseAt(j, D.sinceMorning))) return both(range(d0, now), i, j + k, weak);
      const wd = weekdayAt(j);
      if (wd !== undefined) {
        let t = d0 - ((weekday - wd + 7) % 7) * DAY;
        if (t > now) t -= 7 * DAY;
        return both(range(t, now), i, j + 1, weak);
      }
      const lastShift = phraseAt(j, T.last) && phraseAt(j + phraseAt(j, T.last), T.shift);
      if (lastShift && curIdx > 0)
        return both(range(shifts[curIdx - 1].from, now), i, j + phraseAt(j, T.last) + lastShift, weak);
      const cl = clockAt(j);
      if (cl) return both(range(lastAt(cl.h, cl.m), now), i, j + cl.len, weak);
      return undefined;
    }
    // "now", "right now", "currently": no time slot
    if ((n = phraseAt(i, T.now))) return { ...both(range(now, now), i, i + n), isNow: true };
    if ((n = phraseAt(i, T.shiftStart)) && cur) return both(range(cur.from, now), i, i + n);
    if ((n = phraseAt(i, T.shiftEnd)) && cur) return both(range(cur.to, cur.to), i, i + n);
    // "this / last / next shift", "this week", "last month"
    for (const [which, list] of [
      ['this', T.this],
      ['last', T.last],
      ['next', T.next],
    ] as const) {
      const a = phraseAt(i, list);
      if (!a) continue;
      const j = i + a;
      let k: number;
      // named shift: "last night shift"
      for (const [name, names] of Object.entries(T.shiftNames)) {
        if ((k = phraseAt(j, names)) && c.shifts.some((s) => s.name === name)) {
          const occ = shifts.filter((s) => s.name === name);
          const started = occ.filter((s) => s.from <= now);
          const ahead = occ.filter((s) => s.from > now);
          const p = which === 'last' ? started.filter((s) => s.to <= now).at(-1) : started.at(-1);
          const f = which === 'next' || which === 'this' ? ahead[0] : p;
          if (p && f) {
            const pr = range(p.from, Math.min(p.to, now));
            const fr = which === 'this' && p.to > now ? pr : range(f.from, f.to);
            return { past: which === 'next' ? fr : pr, future: fr, weak: false, start: i, end: j + k };
          }
        }
      }
      if ((k = phraseAt(j, T.shift)) && curIdx >= 0) {
        if (which === 'this') return both(range(shifts[curIdx].from, now), i, j + k);
        const s = shifts[curIdx + (which === 'last' ? -1 : 1)];
        return both(range(s.from, s.to), i, j + k);
      }
      const cnt = num(j);
      const jj = cnt !== undefined ? j + 1 : j;
      const d = dur(jj);
      if (d) {
        const calendar =
          cnt === undefined &&
          (which !== 'last' || !(T.rolling ?? []).includes(words[i])) &&
          (d.unit === 'week' || d.unit === 'month' || d.unit === 'day');
        if (calendar && d.unit === 'week') {
          if (which === 'this') return both(range(monday, now), i, jj + d.len);
          if (which === 'last') return both(range(monday - 7 * DAY, monday), i, jj + d.len);
          return both(range(monday + 7 * DAY, monday + 14 * DAY), i, jj + d.len);
        }
        if (calendar && d.unit === 'month') {
          if (which === 'this') return both(range(monthStart, now), i, jj + d.len);
          if (which === 'last') return both(range(prevMonthStart, monthStart), i, jj + d.len);
          return both(range(nextMonthStart, monthFrom(2)), i, jj + d.len);
        }
        if (calendar && d.unit === 'day' && which === 'this') return both(range(d0, now), i, jj + d.len);
        if (which === 'next') return both(range(now, now + (cnt ?? 1) * d.ms), i, jj + d.len);
        if (which === 'last' || which === 'this')
          return both(range(now - (cnt ?? 1) * d.ms, now), i, jj + d.len);
      }
      const wd = weekdayAt(j);
      if (wd !== undefined) {
        const back = (weekday - wd + 7) % 7 || 7;
        const fwd = (wd - weekday + 7) % 7 || 7;
        const t =
          which === 'last'
            ? d0 - back * DAY
            : which === 'next'
              ? d0 + fwd * DAY
              : d0 - ((weekday - wd + 7) % 7) * DAY;
        return both(range(t, t + DAY), i, j + 1);
      }
      if (which === 'this' && (k = phraseAt(j, D.morning))) return both(range(d0, now), i, j + k);
    }
    // a named shift on its own ("during the night shift"): the latest one that has started, or the next one
    for (const name of Object.keys(T.shiftNames)) {
      const k = phraseAt(i, D.named[name]);
      if (k && c.shifts.some((s) => s.name === name)) {
        const occ = shifts.filter((s) => s.name === name);
        const p = occ.filter((s) => s.from <= now).at(-1);
        const f = occ.find((s) => s.to > now);
        if (p && f)
          return {
            past: range(p.from, Math.min(p.to, now)),
            future: range(f.from, f.to),
            weak: false,
            start: i,
            end: i + k,
            shift: name,
          };
      }
    }
    // "today", "yesterday", "tonight", "last night", "tomorrow [at 14:00]", "the day after tomorrow"
    if ((n = phraseAt(i, T.dayAfterTomorrow))) return both(range(d0 + 2 * DAY, d0 + 3 * DAY), i, i + n);
    if ((n = phraseAt(i, T.today))) return { ...both(range(d0, now), i, i + n), day: d0 };
    if ((n = phraseAt(i, T.yesterday))) return { ...both(range(d0 - DAY, d0), i, i + n), day: d0 - DAY };
    if ((n = phraseAt(i, T.lastNight))) {
      const f = lastAt(22, 0);
      const from = f + 8 * HOUR > now ? f - DAY : f;
      return both(range(from, from + 8 * HOUR), i, i + n);
    }
    if ((n = phraseAt(i, T.tonight))) return both(range(d0 + 22 * HOUR, d0 + 30 * HOUR), i, i + n);
    const dayWord = (() => {
      let k: number;
      if ((k = phraseAt(i, T.tomorrow))) return { day: d0 + DAY, len: k };
      const wd = weekdayAt(i);
      if (wd !== undefined) return { day: d0 + ((wd - weekday + 7) % 7 || 7) * DAY, len: 1 };
      return undefined;
    })();
    if (dayWord) {
      let j = i + dayWord.len;
      if (T.partOfDay.includes(words[j] ?? '')) j++;
      const at = phraseAt(j, T.at);
      const cl = clockAt(j + at);
      if (cl) {
        const h = !cl.explicit && cl.h < 6 ? cl.h + 12 : cl.h;
        const t = dayWord.day + (h * 60 + cl.m) * MIN;
        return both(range(t, t), i, j + at + cl.len);
      }
      return { ...both(range(dayWord.day, dayWord.day + DAY), i, j), day: dayWord.day };
    }
    // "in 2 hours", "in half an hour", "in an hour"
    if ((n = phraseAt(i, T.in))) {
      const j = i + n;
      const half = lang.numbers.half.includes(words[j] ?? '');
      const cnt = half ? 0.5 : num(j);
      const jj = half || cnt !== undefined ? j + 1 : j;
      const d = dur(jj);
      if (d && (cnt !== undefined || d.unit === 'hour' || d.unit === 'minute')) {
        const t = now + (cnt ?? 1) * d.ms;
        return both(range(t, t), i, jj + d.len);
      }
    }
    // "at 14:00", "at 3 pm", "by 6", "around noon" (+ "tomorrow" after it)
    if ((n = phraseAt(i, T.at))) {
      const cl = clockAt(i + n);
      if (cl) {
        const j = i + n + cl.len;
        const tk = phraseAt(j, T.tomorrow);
        if (tk) {
          const h = !cl.explicit && cl.h < 6 ? cl.h + 12 : cl.h;
          const t = d0 + DAY + (h * 60 + cl.m) * MIN;
          return both(range(t, t), i, j + tk);
        }
        const f = nextAt(cl.h, cl.m, cl.explicit);
        const p = lastAt(cl.h, cl.m);
        const weak = tokens[i + n].kind !== 'clock' && cl.len === 1;
        return { past: range(p, p), future: range(f, f), weak, start: i, end: j };
      }
    }
    // a clock time on its own: "14:00 tomorrow", "3 pm"
    const cl = clockAt(i);
    if (cl && cl.explicit && (tokens[i].kind === 'clock' || cl.len > 1)) {
      const j = i + cl.len;
      const tk = phraseAt(j, T.tomorrow);
      if (tk) {
        const t = d0 + DAY + (cl.h * 60 + cl.m) * MIN;
        return both(range(t, t), i, j + tk);
      }
      const f = nextAt(cl.h, cl.m, true);
      const p = lastAt(cl.h, cl.m);
      return { past: range(p, p), future: range(f, f), weak: false, start: i, end: j };
    }
    return undefined;
  }
}
