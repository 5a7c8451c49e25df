/**
 * Answers and proposals from a parse and the live plant state. The state is what the flow feeds the
 * assistant: OEE records (takt-oee), machine samples (…/<machine>/State, GoodCount), SPC alarm messages
 * (takt-spc), inventory plans (takt-inventory), and anything else as explicit facts
 * (msg.assistantState = { machines: { CNC1: { state, reason, health, rulHours, … } }, orders, items, energy,
 * schedule }). Commands become proposals for an approval step; nothing here executes anything.
 */
import { isCommand } from './parse';
import type { Intent, ParseResult, Plant, Slots } from './types';
import { isRecord } from '../core/message';

export interface MachineFacts {
  state?: string;
  since?: number;
  reason?: string;
  oee?: number;
  availability?: number;
  performance?: number;
  quality?: number;
  good?: number;
  scrap?: number;
  total?: number;
  health?: number;
  rulHours?: number;
  cpk?: number;
  next?: string;
  [k: string]: unknown;
}
export interface AlarmFact {
  machine?: string;
  text: string;
  ts: number;
  acknowledged?: boolean;
}
export interface Facts {
  machines: Record<string, MachineFacts>;
  orders: Record<string, { status?: string; progress?: number; due?: number; [k: string]: unknown }>;
  items: Record<string, { onHand?: number; unit?: string; daysLeft?: number; [k: string]: unknown }>;
  characteristics: Record<string, { cpk?: number; inControl?: boolean; [k: string]: unknown }>;
  energy: { kwh?: number; kw?: number; plan?: string; [k: string]: unknown };
  alarms: AlarmFact[];
  updated?: number;
}

const STATE_CODES = ['Idle', 'Running', 'Setup', 'Down'];
/** Sample tags the state reads (the topic's last segment; the one before it names the machine). */
const SAMPLE_TAGS = new Set(['State', 'Reason', 'StopReason', 'GoodCount', 'ScrapCount']);
/** True for a machine sample topic such as "acme/line1/CNC1/State" (its payload may be text). */
export const isSampleTopic = (topic: unknown): boolean =>
  typeof topic === 'string' && topic.includes('/') && SAMPLE_TAGS.has(topic.split('/').at(-1) as string);
const MAX_ALARMS = 200;
/** Values kept per tracked figure for the mini charts. */
const HISTORY = 30;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The assistant's picture of the plant, built from the messages a flow feeds it. */
export class PlantState {
  facts: Facts = { machines: {}, orders: {}, items: {}, characteristics: {}, energy: {}, alarms: [] };

  reset(): void {
    this.facts = { machines: {}, orders: {}, items: {}, characteristics: {}, energy: {}, alarms: [] };
    this.history.clear();
  }

  snapshot(): Facts {
    return JSON.parse(JSON.stringify(this.facts)) as Facts;
  }

  private machine(id: string): MachineFacts {
    return (this.facts.machines[id] ??= {});
  }

  /**
   * Takes one state message; returns true when it recognised something. Recognised: msg.assistantState
   * (explicit facts, merged), an OEE record, a sample batch or a single sample with a …/<machine>/<tag> topic,
   * an SPC message (msg.spc, alarms on output 2), an inventory plan (msg.item + msg.plan).
   */
  ingest(msg: Record<string, unknown>, now: number): boolean {
    let seen = false;
    const topic = typeof msg.topic === 'string' ? msg.topic : '';
    const p = msg.payload;
    if (isRecord(msg.assistantState)) {
      const s = msg.assistantState;
      for (const key of ['machines', 'orders', 'items', 'characteristics'] as const)
        if (isRecord(s[key]))
          for (const [id, v] of Object.entries(s[key] as Record<string, unknown>))
            if (isRecord(v)) Object.assign(((this.facts[key] as Record<string, object>)[id] ??= {}), v);
      if (isRecord(s.energy)) Object.assign(this.facts.energy, s.energy);
      if (Array.isArray(s.alarms))
        for (const a of s.alarms)
          if (isRecord(a) && typeof a.text === 'string') this.alarm(a.text, now, a.machine as string);
      seen = true;
    }
    if (isRecord(p) && typeof p.machine === 'string' && num(p.oee) !== undefined) {
      const m = this.machine(p.machine);
      for (const k of ['oee', 'availability', 'performance', 'quality', 'good', 'scrap', 'total'] as const)
        if (num(p[k]) !== undefined) m[k] = p[k] as number;
      seen = true;
    }
    const samples = Array.isArray(p)
      ? p
      : topic.includes('/') && !isRecord(p)
        ? [{ topic, value: p, ts: msg.ts }]
        : [];
    for (const s of samples)
      if (isRecord(s) && this.sample(String(s.topic ?? ''), s.value, num(s.ts) ?? now)) seen = true;
    if (isRecord(msg.spc)) {
      const spc = msg.spc;
      const machine = typeof spc.machine === 'string' ? spc.machine : topic.split('/').at(-2);
      if (Array.isArray(spc.alarms))
        for (const a of spc.alarms)
          if (isRecord(a) && typeof a.text === 'string') this.alarm(a.text, now, machine);
      seen = true;
    }
    if (typeof msg.item === 'string' && isRecord(msg.plan)) {
      const plan = msg.plan;
      this.facts.items[msg.item] = {
        ...this.facts.items[msg.item],
        ...(num(plan.onHand) !== undefined ? { onHand: plan.onHand as number } : {}),
        ...(num(plan.daysLeft) !== undefined ? { daysLeft: plan.daysLeft as number } : {}),
      };
      seen = true;
    }
    if (seen) {
      this.facts.updated = now;
      this.track();
    }
    return seen;
  }

  /** Recent values of a tracked figure ("CNC1/oee", "CNC1/good", "CNC1/health", "energy/kw"), oldest first. */
  series(key: string): number[] {
    return [...(this.history.get(key) ?? [])];
  }

  private readonly history = new Map<string, number[]>();

  /** Appends each tracked figure that changed to its short history (for the answer cards' mini charts). */
  private track(): void {
    const put = (key: string, v: unknown) => {
      if (num(v) === undefined) return;
      const h = this.history.get(key) ?? [];
      if (h.at(-1) === v) return;
      h.push(v as number);
      if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
      this.history.set(key, h);
    };
    for (const [id, m] of Object.entries(this.facts.machines))
      for (const k of ['oee', 'good', 'health'] as const) put(`${id}/${k}`, m[k]);
    put('energy/kw', this.facts.energy.kw);
  }

  private alarm(text: string, ts: number, machine?: string) {
    this.facts.alarms.push({ text, ts, ...(machine ? { machine } : {}) });
    if (this.facts.alarms.length > MAX_ALARMS)
      this.facts.alarms.splice(0, this.facts.alarms.length - MAX_ALARMS);
  }

  private sample(topic: string, value: unknown, ts: number): boolean {
    const parts = topic.split('/');
    if (parts.length < 2) return false;
    const tag = parts.at(-1) as string;
    const m = this.machine(parts.at(-2) as string);
    if (tag === 'State') {
      const st = typeof value === 'number' ? (STATE_CODES[value] ?? String(value)) : String(value);
      if (st !== m.state) m.since = ts;
      m.state = st;
      return true;
    }
    if (tag === 'Reason' || tag === 'StopReason') {
      m.reason = String(value);
      return true;
    }
    if (tag === 'GoodCount' && num(value) !== undefined) {
      m.good = value as number;
      return true;
    }
    if (tag === 'ScrapCount' && num(value) !== undefined) {
      m.scrap = value as number;
      return true;
    }
    return false;
  }
}

/** A command proposal in the shape takt-approve holds (topic, payload, summary, critical). */
export interface Proposal {
  topic: string;
  payload: Record<string, unknown>;
  summary: string;
  critical: boolean;
  requestedBy: string;
}

/** A small card a chat view can show beside the reply: one figure, and its recent values when tracked. */
export interface Card {
  label: string;
  value: string;
  /** Recent values, oldest first (a mini chart); absent when the figure is not tracked. */
  series?: number[];
}

export interface Answer {
  text: string;
  card?: Card;
  proposal?: Proposal;
  /** Why no proposal was made for a command (missing/unknown name, limits, negation, no identity). */
  refused?: string;
}

const pct = (v: number | undefined) => (v === undefined ? '?' : `${(100 * v).toFixed(1)} %`);
const fmtTime = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
const rangeText = (r: { from: number; to: number }) =>
  r.from === r.to ? `at ${fmtTime(r.from)}` : `from ${fmtTime(r.from)} to ${fmtTime(r.to)}`;

const HELP =
  'I answer questions about the line (OEE, machine status, why a machine stopped, alarms, quality, machine health, ' +
  'the schedule, orders, energy, stock, production counts) and propose commands (rush an order, schedule ' +
  'maintenance, acknowledge alarms, set a parameter, start or stop a machine) that wait for approval. ' +
  'Try: "what\'s the OEE on line 1 this shift?" or "raise the oven temperature to 182 degrees".';

const COMMAND_TEXT: Record<string, (s: Slots) => string> = {
  rush_order: (s) => `rush order ${s.order}`,
  schedule_maintenance: (s) =>
    `schedule maintenance for ${s.machine}${s.when ? ` ${rangeText(s.when)}` : ''}`,
  ack_alarm: (s) => `acknowledge the alarms${s.machine ? ` on ${s.machine}` : ''}`,
  set_parameter: (s) => `set ${s.machine} ${s.parameter} to ${s.value}${s.unit ? ` ${s.unit}` : ''}`,
  start_machine: (s) => `start ${s.machine}`,
  stop_machine: (s) => `stop ${s.machine}`,
};
/** Commands that change what a machine does right now need the two-person rule when the approval node has it. */
const CRITICAL = new Set<Intent>(['stop_machine', 'start_machine', 'set_parameter']);

export interface AnswerOptions {
  plant: Plant;
  state: PlantState;
  now: number;
  /** Who asked (the authenticated user); commands without one are refused when requireUser is set. */
  user?: string;
  requireUser?: boolean;
}

/** The reply to a parsed utterance; for a valid command also the proposal (never executed here). */
export function answer(r: ParseResult, o: AnswerOptions): Answer {
  const f = o.state.facts;
  const s = r.slots;
  const unknown = r.issues.find((i) => i.kind === 'unknown');
  const didYouMean = unknown
    ? `I don't know "${unknown.text}"${unknown.suggestions?.length ? ` — did you mean ${unknown.suggestions.join(' or ')}?` : '.'}`
    : '';
  if (r.intent === 'out_of_scope') {
    if (r.issues.some((i) => i.kind === 'empty'))
      return { text: 'Please type or say a question or a command.' };
    if (r.issues.some((i) => i.kind === 'negated'))
      return { text: 'Understood, I will not do that. Nothing was proposed.', refused: 'negated' };
    return {
      text: `${didYouMean ? `${didYouMean} ` : ''}Sorry, that is outside what I can do here. Say "help" to see what I can answer.`,
    };
  }
  if (isCommand(r.intent)) return command(r, o, didYouMean);

  const m = s.machine ? f.machines[s.machine] : undefined;
  const card = (label: string, value: string, tracked?: string): Card => {
    const series = tracked ? o.state.series(tracked) : [];
    return { label, value, ...(series.length > 1 ? { series } : {}) };
  };
  const noData = (what: string) => `I don't have live ${what} yet; the flow has not fed me that data.`;
  const prefix = didYouMean ? `${didYouMean} ` : '';
  const period =
    'period' in s && s.period
      ? ` (you asked for ${rangeText(s.period)}; I report the latest live figure)`
      : '';
  switch (r.intent) {
    case 'help':
      return { text: HELP };
    case 'oee': {
      const ids = s.machine
        ? [s.machine]
        : Object.keys(f.machines).filter((k) => f.machines[k].oee !== undefined);
      const rows = ids.filter((k) => f.machines[k]?.oee !== undefined);
      if (!rows.length) return { text: prefix + noData(`OEE${s.machine ? ` for ${s.machine}` : ''}`) };
      return {
        ...(rows.length === 1
          ? { card: card(`${rows[0]} OEE`, pct(f.machines[rows[0]].oee), `${rows[0]}/oee`) }
          : {}),
        text:
          prefix +
          rows
            .map((k) => {
              const x = f.machines[k];
              return `${k}: OEE ${pct(x.oee)} (availability ${pct(x.availability)}, performance ${pct(x.performance)}, quality ${pct(x.quality)})`;
            })
            .join('; ') +
          period,
      };
    }
    case 'status': {
      const ids = s.machine ? [s.machine] : o.plant.machines.map((x) => x.id);
      const known = ids.filter((k) => f.machines[k]?.state);
      if (!known.length)
        return { text: prefix + noData(`machine states${s.machine ? ` for ${s.machine}` : ''}`) };
      return {
        text:
          prefix +
          known
            .map((k) => {
              const x = f.machines[k];
              return `${k} is ${x.state}${x.since ? ` since ${fmtTime(x.since)}` : ''}${x.reason && x.state !== 'Running' ? ` (${x.reason})` : ''}`;
            })
            .join('; '),
      };
    }
    case 'why_stopped': {
      if (!s.machine) return { text: prefix + 'Which machine do you mean?' };
      if (!m?.state) return { text: noData(`state for ${s.machine}`) };
      if (m.state === 'Running')
        return { text: `${s.machine} is running${m.since ? ` since ${fmtTime(m.since)}` : ''}.` };
      return {
        text: m.reason
          ? `${s.machine} is ${m.state}: ${m.reason}.`
          : `${s.machine} is ${m.state}; I have no stop reason for it.`,
      };
    }
    case 'alarms': {
      let list = f.alarms.filter((a) => !s.machine || a.machine === s.machine);
      if (s.period)
        list = list.filter(
          (a) => a.ts >= (s.period as { from: number }).from && a.ts <= (s.period as { to: number }).to,
        );
      if (!f.updated) return { text: prefix + noData('alarms') };
      if (!list.length)
        return {
          text:
            prefix +
            `No alarms${s.machine ? ` on ${s.machine}` : ''}${s.period ? ` ${rangeText(s.period)}` : ''}.`,
        };
      const last = list.slice(-5).map((a) => `${a.machine ? `${a.machine}: ` : ''}${a.text}`);
      return { text: prefix + `${list.length} alarm(s); latest: ${last.join('; ')}` };
    }
    case 'quality': {
      const c = s.characteristic ? f.characteristics[s.characteristic] : undefined;
      if (c?.cpk !== undefined)
        return {
          card: card(`${s.characteristic} Cpk`, c.cpk.toFixed(2)),
          text:
            prefix +
            `${s.characteristic}: Cpk ${c.cpk.toFixed(2)}${c.inControl === false ? ', out of control' : ''}.`,
        };
      if (m?.quality !== undefined)
        return {
          text:
            prefix +
            `${s.machine}: quality rate ${pct(m.quality)}${m.scrap !== undefined ? `, ${m.scrap} scrap` : ''}.`,
        };
      return { text: prefix + noData(`quality figures for ${s.characteristic ?? s.machine ?? 'the line'}`) };
    }
    case 'health': {
      if (!s.machine) return { text: prefix + 'Which machine do you mean?' };
      if (m?.health === undefined && m?.rulHours === undefined)
        return { text: noData(`health figures for ${s.machine}`) };
      return {
        ...(m.health !== undefined
          ? { card: card(`${s.machine} health`, m.health.toFixed(2), `${s.machine}/health`) }
          : m.rulHours !== undefined
            ? { card: card(`${s.machine} remaining life`, `${Math.round(m.rulHours)} h`) }
            : {}),
        text: `${s.machine}: ${m.health !== undefined ? `health index ${m.health.toFixed(2)}` : ''}${m.rulHours !== undefined ? `${m.health !== undefined ? ', ' : ''}about ${Math.round(m.rulHours)} h remaining life` : ''}.`,
      };
    }
    case 'schedule': {
      const ids = s.machine ? [s.machine] : Object.keys(f.machines);
      const rows = ids.filter((k) => f.machines[k]?.next).map((k) => `${k} next: ${f.machines[k].next}`);
      return { text: prefix + (rows.length ? rows.join('; ') : noData('schedule')) };
    }
    case 'order_status': {
      if (!s.order) return { text: prefix + 'Which order do you mean?' };
      const ord = f.orders[s.order];
      if (!ord) return { text: noData(`status for ${s.order}`) };
      return {
        text: `${s.order}: ${ord.status ?? 'status unknown'}${ord.progress !== undefined ? `, ${pct(ord.progress)} done` : ''}${ord.due !== undefined ? `, due ${fmtTime(ord.due)}` : ''}.`,
      };
    }
    case 'energy': {
      const e = f.energy;
      if (e.kwh === undefined && e.kw === undefined && !e.plan)
        return { text: prefix + noData('energy figures') };
      return {
        ...(e.kw !== undefined
          ? { card: card('Power', `${e.kw} kW`, 'energy/kw') }
          : e.kwh !== undefined
            ? { card: card('Energy', `${e.kwh} kWh`) }
            : {}),
        text:
          prefix +
          [
            e.kw !== undefined ? `${e.kw} kW now` : '',
            e.kwh !== undefined ? `${e.kwh} kWh so far` : '',
            e.plan ?? '',
          ]
            .filter(Boolean)
            .join(', ') +
          period,
      };
    }
    case 'inventory': {
      if (!s.item) return { text: prefix + 'Which item do you mean?' };
      const it = f.items[s.item];
      if (!it || it.onHand === undefined) return { text: noData(`stock for ${s.item}`) };
      return {
        card: card(`${s.item} on hand`, `${it.onHand}${it.unit ? ` ${it.unit}` : ''}`),
        text: `${s.item}: ${it.onHand}${it.unit ? ` ${it.unit}` : ''} on hand${it.daysLeft !== undefined ? `, about ${Math.round(it.daysLeft)} days left` : ''}.`,
      };
    }
    case 'production_count': {
      const ids = s.machine ? [s.machine] : Object.keys(f.machines);
      const rows = ids.filter((k) => f.machines[k]?.good !== undefined);
      if (!rows.length) return { text: prefix + noData('production counts') };
      return {
        ...(rows.length === 1
          ? { card: card(`${rows[0]} good parts`, String(f.machines[rows[0]].good), `${rows[0]}/good`) }
          : {}),
        text:
          prefix +
          rows
            .map(
              (k) =>
                `${k}: ${f.machines[k].good} good${f.machines[k].scrap !== undefined ? `, ${f.machines[k].scrap} scrap` : ''}`,
            )
            .join('; ') +
          period,
      };
    }
    default:
      return { text: "I understood the question but can't answer it yet." };
  }
}

function command(r: ParseResult, o: AnswerOptions, didYouMean: string): Answer {
  const s = r.slots;
  const refuse = (text: string, why: string): Answer => ({
    text: `${text} Nothing was proposed.`,
    refused: why,
  });
  if (didYouMean) return refuse(didYouMean, 'unknown');
  const amb = r.issues.find((i) => i.kind === 'ambiguous');
  if (amb)
    return refuse(`Which ${amb.slot} do you mean: ${(amb.suggestions ?? []).join(', ')}?`, 'ambiguous');
  const missing = r.issues.find((i) => i.kind === 'missing');
  if (missing) return refuse(`Which ${missing.slot} do you mean?`, 'missing');
  const lim = r.issues.find((i) => i.kind === 'out_of_limits');
  if (lim?.limits) {
    const u = lim.limits.unit ? ` ${lim.limits.unit}` : '';
    return refuse(
      `${s.value}${u} is outside the limits of ${s.machine} ${s.parameter} (${lim.limits.min ?? '-∞'} to ${lim.limits.max ?? '∞'}${u}).`,
      'out_of_limits',
    );
  }
  if (o.requireUser && !o.user) return refuse('I can only propose commands for a signed-in user.', 'no_user');
  const what = COMMAND_TEXT[r.intent](s);
  const requestedBy = o.user ?? 'anonymous';
  const target = s.machine ?? s.order ?? 'line';
  const proposal: Proposal = {
    topic: `${target}/${r.intent}`,
    payload: { command: r.intent, ...JSON.parse(JSON.stringify(s)), requestedBy, requestedAt: o.now },
    summary: `${what} (asked by ${requestedBy})`,
    critical: CRITICAL.has(r.intent),
    requestedBy,
  };
  return { text: `Proposed: ${what}. It waits for approval.`, proposal };
}
