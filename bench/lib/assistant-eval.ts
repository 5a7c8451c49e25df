/**
 * Reading an assistant utterance set with gold labels and scoring a parser against it (bench:assistant and
 * the dev-set test share this). Gold files: an array, or { now?, utterances: [...] }; each entry has text,
 * intent and slots; period/when are { from, to } or [from, to] as epoch ms or ISO strings.
 */
import { readFileSync } from 'node:fs';
import type { Slots } from '../../nodes/assistant';

export interface GoldUtterance {
  text: string;
  intent: string;
  slots: Slots;
}
export interface GoldSet {
  now: number;
  utterances: GoldUtterance[];
}

/** The evaluation clock of the conventions: Wednesday 2026-03-04 10:30 UTC. */
export const EVAL_NOW = Date.UTC(2026, 2, 4, 10, 30);

const toMs = (v: unknown): number => (typeof v === 'number' ? v : Date.parse(String(v)));

function normaliseSlots(raw: Record<string, unknown> | undefined): Slots {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v === null || v === undefined) continue;
    if (k === 'period' || k === 'when') {
      const pair = Array.isArray(v) ? v : [(v as { from: unknown }).from, (v as { to: unknown }).to];
      out[k] = { from: toMs(pair[0]), to: toMs(pair[1]) };
    } else out[k] = v;
  }
  return out as Slots;
}

export function readGold(path: string): GoldSet {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const obj = (Array.isArray(doc) ? { utterances: doc } : doc) as Record<string, unknown>;
  const list = (obj.utterances ?? obj.items ?? obj.data) as Record<string, unknown>[];
  if (!Array.isArray(list)) throw new Error(`${path}: no utterances array`);
  const now = obj.now !== undefined ? toMs(obj.now) : EVAL_NOW;
  return {
    now,
    utterances: list.map((u) => {
      // the labels may sit on the entry or under expected / gold / label
      const g = [u.expected, u.gold, u.label].find((x) => typeof x === 'object' && x !== null) as
        Record<string, unknown> | undefined;
      const intent = u.intent ?? g?.intent;
      if (typeof intent !== 'string')
        throw new Error(`${path}: an utterance without a gold intent: ${JSON.stringify(u)}`);
      return {
        text: String(u.text ?? u.utterance ?? u.input ?? ''),
        intent,
        slots: normaliseSlots((u.slots ?? g?.slots) as Record<string, unknown>),
      };
    }),
  };
}

/** Exact slot match: the same keys, numbers equal to 1e-9, time ranges equal to the millisecond. */
export function sameSlots(a: Slots, b: Slots): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join() !== kb.join()) return false;
  for (const k of ka as (keyof Slots)[]) {
    const x = a[k];
    const y = b[k];
    if (typeof x === 'number' && typeof y === 'number') {
      if (Math.abs(x - y) > 1e-9) return false;
    } else if (typeof x === 'object' && typeof y === 'object') {
      if (x.from !== y.from || x.to !== y.to) return false;
    } else if (x !== y) return false;
  }
  return true;
}

export interface Scores {
  utterances: number;
  intentAcc: number;
  slotExact: number;
  oosRecall: number;
  inScopeAcc: number;
  perIntent: Map<string, { n: number; intentOk: number; slotsOk: number }>;
  errors: { text: string; gold: string; got: string; goldSlots: Slots; gotSlots: Slots }[];
}

/** Scores predictions (same order as gold). slotExact is over in-scope gold utterances. */
export function score(gold: GoldUtterance[], pred: { intent: string; slots: Slots }[]): Scores {
  let intentOk = 0;
  let slotsOk = 0;
  let inScope = 0;
  let inScopeOk = 0;
  let oos = 0;
  let oosOk = 0;
  const perIntent = new Map<string, { n: number; intentOk: number; slotsOk: number }>();
  const errors: Scores['errors'] = [];
  gold.forEach((g, i) => {
    const p = pred[i];
    const iOk = p.intent === g.intent;
    const sOk = sameSlots(p.slots, g.slots);
    const row = perIntent.get(g.intent) ?? { n: 0, intentOk: 0, slotsOk: 0 };
    row.n++;
    if (iOk) {
      row.intentOk++;
      intentOk++;
    }
    if (sOk) row.slotsOk++;
    perIntent.set(g.intent, row);
    if (g.intent === 'out_of_scope') {
      oos++;
      if (p.intent === 'out_of_scope') oosOk++;
    } else {
      inScope++;
      if (iOk) inScopeOk++;
      if (sOk) slotsOk++;
    }
    if (!iOk || !sOk)
      errors.push({ text: g.text, gold: g.intent, got: p.intent, goldSlots: g.slots, gotSlots: p.slots });
  });
  const r = (a: number, b: number) => (b ? Number((a / b).toFixed(4)) : 0);
  return {
    utterances: gold.length,
    intentAcc: r(intentOk, gold.length),
    slotExact: r(slotsOk, inScope),
    oosRecall: r(oosOk, oos),
    inScopeAcc: r(inScopeOk, inScope),
    perIntent,
    errors,
  };
}
