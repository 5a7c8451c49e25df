/**
 * A generator of spoken operator utterances for the synthetic voice round trip (bench:voice, the voice node
 * tests): per intent a few sentence shapes written for this generator, filled with the plant's names, aliases,
 * parameters (values inside their limits), orders, items and time words. Written separately from the parser's
 * evaluation set (bench/data/assistant), which it never reads. Each utterance carries its gold intent and the
 * gold of every slot except times, which are compared with the parser's reading of the typed text.
 */
import type { Plant, Slots } from '../../nodes/assistant';
import { mulberry32 } from '../../nodes/core/random';

export interface SpokenCase {
  text: string;
  intent: string;
  /** Gold slots without period/when. */
  slots: Slots;
  /** True when the text holds a time phrase (period or when). */
  timed: boolean;
}

export const rng = mulberry32;

/** How the generator says each unit (a few spoken forms per unit). */
const UNIT_WORDS: Record<string, string[]> = {
  degC: ['degrees', 'degrees celsius'],
  degF: ['degrees fahrenheit'],
  mm: ['millimetres', 'millimeters'],
  rpm: ['rpm', 'revolutions per minute'],
  bar: ['bar'],
  g: ['grams'],
  HRC: ['points', 'rockwell'],
  'packs/min': ['packs per minute'],
};

const PERIODS = [
  'this shift',
  'today',
  'yesterday',
  'since 6',
  'in the last hour',
  'this week',
  'last shift',
];
const WHENS = ['tomorrow', 'tomorrow at 2 pm', 'today at 3 pm', 'tonight', 'on monday'];

export function generate(plant: Plant, n: number, seed: number): SpokenCase[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const spokenName = (x: { id: string; name?: string; aliases?: string[] }) =>
    pick([x.name ?? x.id, ...(x.aliases ?? [])]).replace(/^the /, '');
  const machine = () => {
    const m = pick(plant.machines);
    return { m, say: spokenName(m) };
  };
  const order = () => pick(plant.orders ?? [{ id: 'ORD-101' }]).id;
  const orderSay = (id: string) => `order ${id.replace(/^\D+/, '')}`;
  const period = () => pick(PERIODS);
  const shapes: Record<string, () => SpokenCase> = {
    oee: () => {
      const { m, say } = machine();
      const p = period();
      return pick([
        { text: `what is the oee of the ${say} ${p}`, intent: 'oee', slots: { machine: m.id }, timed: true },
        { text: `how efficient was the ${say} ${p}`, intent: 'oee', slots: { machine: m.id }, timed: true },
      ]);
    },
    status: () => {
      const { m, say } = machine();
      return pick([
        {
          text: `what is the status of the ${say}`,
          intent: 'status',
          slots: { machine: m.id },
          timed: false,
        },
        { text: `is the ${say} running`, intent: 'status', slots: { machine: m.id }, timed: false },
      ]);
    },
    why_stopped: () => {
      const { m, say } = machine();
      return pick([
        { text: `why did the ${say} stop`, intent: 'why_stopped', slots: { machine: m.id }, timed: false },
        { text: `why is the ${say} down`, intent: 'why_stopped', slots: { machine: m.id }, timed: false },
      ]);
    },
    alarms: () => {
      const { m, say } = machine();
      return {
        text: `show me the alarms on the ${say}`,
        intent: 'alarms',
        slots: { machine: m.id },
        timed: false,
      };
    },
    quality: () => {
      const c = pick(plant.characteristics ?? []);
      return {
        text: `what is the cpk of the ${pick([c.id.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(), ...(c.aliases ?? [])])}`,
        intent: 'quality',
        slots: { characteristic: c.id },
        timed: false,
      };
    },
    health: () => {
      const { m, say } = machine();
      return pick([
        {
          text: `what is the health of the ${say}`,
          intent: 'health',
          slots: { machine: m.id },
          timed: false,
        },
        {
          text: `how much remaining life does the ${say} have`,
          intent: 'health',
          slots: { machine: m.id },
          timed: false,
        },
      ]);
    },
    schedule: () => {
      const { m, say } = machine();
      return {
        text: `what is next on the ${say}`,
        intent: 'schedule',
        slots: { machine: m.id },
        timed: false,
      };
    },
    order_status: () => {
      const o = order();
      return pick([
        { text: `where is ${orderSay(o)}`, intent: 'order_status', slots: { order: o }, timed: false },
        {
          text: `when will ${orderSay(o)} be finished`,
          intent: 'order_status',
          slots: { order: o },
          timed: false,
        },
      ]);
    },
    energy: () => ({
      text: `how much energy did we use ${period()}`,
      intent: 'energy',
      slots: {},
      timed: true,
    }),
    inventory: () => {
      const i = pick(plant.items ?? []);
      return {
        text: `how much ${pick(i.aliases ?? [i.name ?? i.id])} do we have in stock`,
        intent: 'inventory',
        slots: { item: i.id },
        timed: false,
      };
    },
    production_count: () => {
      const { m, say } = machine();
      return {
        text: `how many parts did the ${say} make ${period()}`,
        intent: 'production_count',
        slots: { machine: m.id },
        timed: true,
      };
    },
    help: () => ({
      text: pick(['what can you do', 'help me please', 'what can i ask']),
      intent: 'help',
      slots: {},
      timed: false,
    }),
    rush_order: () => {
      const o = order();
      return pick([
        { text: `rush ${orderSay(o)}`, intent: 'rush_order', slots: { order: o }, timed: false },
        { text: `put ${orderSay(o)} first`, intent: 'rush_order', slots: { order: o }, timed: false },
        { text: `expedite ${orderSay(o)}`, intent: 'rush_order', slots: { order: o }, timed: false },
      ]);
    },
    schedule_maintenance: () => {
      const { m, say } = machine();
      return {
        text: `schedule maintenance for the ${say} ${pick(WHENS)}`,
        intent: 'schedule_maintenance',
        slots: { machine: m.id },
        timed: true,
      };
    },
    ack_alarm: () => {
      const { m, say } = machine();
      return {
        text: `acknowledge the alarm on the ${say}`,
        intent: 'ack_alarm',
        slots: { machine: m.id },
        timed: false,
      };
    },
    set_parameter: () => {
      const ms = plant.machines.filter((x) => x.parameters?.length);
      const m = pick(ms);
      const p = pick(m.parameters ?? []);
      const lo = p.min ?? 0;
      const hi = p.max ?? 100;
      const span = hi - lo;
      const step = span <= 2 ? 0.05 : span <= 50 ? 1 : span <= 500 ? 1 : 10;
      const value = Number((lo + step * Math.round((r() * span) / step)).toFixed(2));
      const unit = p.unit && UNIT_WORDS[p.unit] ? ` ${pick(UNIT_WORDS[p.unit])}` : '';
      const pSay = pick(p.aliases?.filter((a) => a !== 'offset') ?? [p.name]);
      const say = spokenName(m);
      const slots: Slots = { machine: m.id, parameter: p.name, value, ...(unit ? { unit: p.unit } : {}) };
      return pick([
        {
          text: `set the ${pSay} of the ${say} to ${value}${unit}`,
          intent: 'set_parameter',
          slots,
          timed: false,
        },
        {
          text: `change the ${say} ${pSay} to ${value}${unit}`,
          intent: 'set_parameter',
          slots,
          timed: false,
        },
      ]);
    },
    start_machine: () => {
      const { m, say } = machine();
      return {
        text: `${pick(['start', 'restart', 'turn on'])} the ${say}`,
        intent: 'start_machine',
        slots: { machine: m.id },
        timed: false,
      };
    },
    stop_machine: () => {
      const { m, say } = machine();
      return {
        text: `${pick(['stop', 'shut down', 'halt'])} the ${say}`,
        intent: 'stop_machine',
        slots: { machine: m.id },
        timed: false,
      };
    },
  };
  const intents = Object.keys(shapes);
  const out: SpokenCase[] = [];
  for (let i = 0; i < n; i++) out.push(shapes[intents[i % intents.length]]());
  return out;
}
