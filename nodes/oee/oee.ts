/**
 * OEE per machine and shift from machine states and part counters (e.g. the simulator's State,
 * GoodCount, ScrapCount and IdealCycleTime): availability, performance, quality, OEE, the six big losses
 * (Nakajima) in minutes, MTBF and MTTR. Time is the samples' own timestamps, so a simulator running at
 * 60x gives shift records at 60x.
 *
 *   planned time     = shift - breaks - planned downtime
 *   operating time   = planned - (Down + Setup + Idle stops of at least `minorStopS`)
 *   availability     = operating / planned
 *   performance      = ideal cycle x parts / operating      (short stops and slow cycles lower it)
 *   quality          = good / parts
 * Losses: equipment failure (Down), setup and adjustments (Setup), idling and minor stops (all Idle),
 * reduced speed (operating - short stops - ideal x parts), process defects and reduced yield (scrap x
 * ideal cycle; scrap within `startupMin` after a setup counts as reduced yield).
 */
import { TaktError } from '../core/errors';
import { type Zone, zoneOf } from '../core/zone';

export type MachineState = 'Running' | 'Idle' | 'Setup' | 'Down';
export const MACHINE_STATES: readonly MachineState[] = ['Running', 'Idle', 'Setup', 'Down'];

export interface ShiftCalendar {
  /** Local times "HH:MM"; a shift may cross midnight (end before start). */
  shifts: { name: string; start: string; end: string }[];
  /** Daily planned breaks, local "HH:MM". */
  breaks?: { start: string; end: string }[];
  /** Planned downtime windows, epoch ms. */
  plannedDowntime?: { start: number; end: number }[];
  /** Local time = UTC + this many minutes (when no `timeZone`). */
  utcOffsetMin?: number;
  /**
   * IANA time zone of the plant ("Europe/Berlin"): local times follow its daylight saving, so the night shift
   * of the spring change is an hour shorter and that of the autumn change an hour longer. Wins over
   * `utcOffsetMin`.
   */
  timeZone?: string;
}

export interface OeeOptions {
  calendar: ShiftCalendar;
  /** Idle stops shorter than this are minor stops (a performance loss); default 300 s. */
  minorStopS?: number;
  /** Scrap this soon after a setup is reduced yield (start-up loss); default 10 min. */
  startupMin?: number;
  idealCycleS?: number;
}

export interface OeeRecord {
  machine: string;
  shift: string;
  /** Epoch ms of the shift instance. */
  start: number;
  end: number;
  /** Up to when the record counts (end for a closed shift). */
  until: number;
  closed: boolean;
  plannedMin: number;
  operatingMin: number;
  availability: number;
  performance: number;
  quality: number;
  oee: number;
  good: number;
  scrap: number;
  total: number;
  idealCycleS: number;
  failures: number;
  mtbfMin: number | null;
  mttrMin: number | null;
  losses: {
    equipmentFailure: number;
    setupAdjustment: number;
    idlingMinorStops: number;
    reducedSpeed: number;
    processDefects: number;
    reducedYield: number;
  };
}

const MIN = 60000;
const DAY = 86400000;

function hhmm(s: string, field: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59)
    throw new TaktError('oee.badTime', `${field}: "${s}" is not HH:MM`, field);
  return (Number(m[1]) * 60 + Number(m[2])) * MIN;
}

type Interval = [number, number];
const overlap = (a: Interval, b: Interval) => Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));

/** Subtracts intervals from [s, e): the remaining pieces, in order. */
function subtract(base: Interval, cuts: Interval[]): Interval[] {
  let pieces: Interval[] = [base];
  for (const c of cuts) {
    pieces = pieces.flatMap(([s, e]): Interval[] => {
      if (c[1] <= s || c[0] >= e) return [[s, e]];
      const out: Interval[] = [];
      if (c[0] > s) out.push([s, c[0]]);
      if (c[1] < e) out.push([c[1], e]);
      return out;
    });
  }
  return pieces;
}

interface ShiftInstance {
  name: string;
  start: number;
  end: number;
  planned: Interval[];
}

/** Shift calendar arithmetic: which shift instance a time falls in, and its planned intervals. */
export class Calendar {
  private readonly cal: ShiftCalendar;
  private readonly zone: Zone;
  private readonly shifts: { name: string; start: number; end: number }[];
  private readonly breaks: Interval[];

  constructor(cal: ShiftCalendar) {
    if (!Array.isArray(cal.shifts) || cal.shifts.length === 0)
      throw new TaktError('oee.noShifts', 'the shift calendar needs at least one shift', 'shifts');
    this.cal = cal;
    this.zone = zoneOf(cal.timeZone, cal.utcOffsetMin ?? 0);
    this.shifts = cal.shifts.map((s, i) => {
      const start = hhmm(s.start, `shifts[${i}].start`);
      let end = hhmm(s.end, `shifts[${i}].end`);
      if (end <= start) end += DAY;
      return { name: s.name || `shift ${i + 1}`, start, end };
    });
    this.breaks = (cal.breaks ?? []).map((b, i) => {
      const s = hhmm(b.start, `breaks[${i}].start`);
      let e = hhmm(b.end, `breaks[${i}].end`);
      if (e <= s) e += DAY;
      return [s, e];
    });
  }

  /** The shift instance containing t, if any. */
  at(t: number): ShiftInstance | undefined {
    const day0 = Math.floor(this.zone.toLocal(t) / DAY) * DAY;
    const utc = (local: number) => this.zone.toUtc(local);
    for (const d of [day0, day0 - DAY]) {
      for (const s of this.shifts) {
        const a = utc(d + s.start);
        const b = utc(d + s.end);
        if (t >= a && t < b) return this.instance(s.name, a, b, d);
      }
    }
    return undefined;
  }

  private instance(name: string, start: number, end: number, localDay: number): ShiftInstance {
    const cuts: Interval[] = [];
    // A break across midnight ("23:45"-"00:15") that began the day before still cuts a shift starting at 00:00.
    for (const d of [localDay - DAY, localDay, localDay + DAY])
      for (const [s, e] of this.breaks) cuts.push([this.zone.toUtc(d + s), this.zone.toUtc(d + e)]);
    for (const w of this.cal.plannedDowntime ?? []) cuts.push([w.start, w.end]);
    return { name, start, end, planned: subtract([start, end], cuts) };
  }
}

interface Acc {
  shift: ShiftInstance;
  ms: Record<MachineState, number>;
  minorStopMs: number;
  good: number;
  scrap: number;
  startupScrap: number;
  failures: number;
  cycleWeighted: number;
}

/** One machine's OEE, fed with its state changes and cumulative counters in time order. */
export class OeeTracker {
  readonly machine: string;
  private readonly cal: Calendar;
  private readonly minorStopMs: number;
  private readonly startupMs: number;
  private idealCycleS: number;
  private state: MachineState | undefined;
  private stopStart = 0;
  private lastSetupEnd = -Infinity;
  private lastGood: number | undefined;
  private lastScrap: number | undefined;
  private acc: Acc | undefined;
  private now = 0;
  /** Time of the first sample: planned time before it is not this tracker's to judge. */
  private firstSeen: number | undefined;

  constructor(machine: string, opts: OeeOptions) {
    this.machine = machine;
    this.cal = new Calendar(opts.calendar);
    this.minorStopMs = (opts.minorStopS ?? 300) * 1000;
    this.startupMs = (opts.startupMin ?? 10) * MIN;
    this.idealCycleS = opts.idealCycleS ?? 0;
  }

  /** Closed shift records produced by moving the clock to t. */
  private advanceTo(t: number): OeeRecord[] {
    const out: OeeRecord[] = [];
    this.firstSeen ??= t;
    if (this.now === 0) this.now = t;
    if (t < this.now)
      throw new TaktError(
        'oee.backwards',
        `${this.machine}: sample at ${new Date(t).toISOString()} is older than the last one`,
        'ts',
      );
    while (true) {
      if (!this.acc) {
        const s = this.cal.at(this.now) ?? this.cal.at(t);
        if (!s || s.start > t) break;
        this.acc = {
          shift: s,
          ms: { Running: 0, Idle: 0, Setup: 0, Down: 0 },
          minorStopMs: 0,
          good: 0,
          scrap: 0,
          startupScrap: 0,
          failures: 0,
          cycleWeighted: 0,
        };
      }
      const until = Math.min(t, this.acc.shift.end);
      this.account(Math.max(this.now, this.acc.shift.start), until);
      this.now = until;
      if (until < this.acc.shift.end) break;
      out.push(this.record(true));
      this.acc = undefined;
      if (this.now >= t) break;
    }
    this.now = Math.max(this.now, t);
    return out;
  }

  private account(a: number, b: number): void {
    if (!this.acc || this.state === undefined || b <= a) return;
    const planned = this.acc.shift.planned.reduce((sum, iv) => sum + overlap(iv, [a, b]), 0);
    this.acc.ms[this.state] += planned;
    if (this.state === 'Running') this.acc.cycleWeighted += planned * this.idealCycleS;
  }

  /** A state change (or a repeated state) at t. Returns shift records closed on the way. */
  setState(t: number, state: MachineState): OeeRecord[] {
    if (!MACHINE_STATES.includes(state))
      throw new TaktError(
        'oee.badState',
        `${this.machine}: state "${String(state)}" is not one of ${MACHINE_STATES.join(', ')}`,
        'state',
      );
    const closed = this.advanceTo(t);
    if (state === this.state) return closed;
    if (this.state === 'Idle' && this.acc) {
      // A short idle stop is a minor stop: it stays in operating time (a performance loss).
      const stop = t - this.stopStart;
      if (stop < this.minorStopMs) this.acc.minorStopMs += Math.min(stop, this.acc.ms.Idle);
    }
    if (this.state === 'Setup') this.lastSetupEnd = t;
    if (state === 'Idle') this.stopStart = t;
    if (state === 'Down' && this.acc && this.acc.shift.planned.some((iv) => t >= iv[0] && t < iv[1]))
      this.acc.failures++;
    this.state = state;
    return closed;
  }

  /** Cumulative good and scrap counters at t (a counter that goes down was reset). */
  setCounts(t: number, counts: { good?: number; scrap?: number }): OeeRecord[] {
    const closed = this.advanceTo(t);
    const delta = (v: number | undefined, last: number | undefined) =>
      v === undefined ? 0 : last === undefined ? 0 : v >= last ? v - last : v;
    for (const [k, v] of Object.entries(counts)) {
      if (v !== undefined && (!Number.isFinite(v) || v < 0))
        throw new TaktError('oee.badCount', `${this.machine}: ${k} count ${v} is not a count`, k);
    }
    const dg = delta(counts.good, this.lastGood);
    const ds = delta(counts.scrap, this.lastScrap);
    if (counts.good !== undefined) this.lastGood = counts.good;
    if (counts.scrap !== undefined) this.lastScrap = counts.scrap;
    if (this.acc) {
      this.acc.good += dg;
      this.acc.scrap += ds;
      if (t - this.lastSetupEnd <= this.startupMs) this.acc.startupScrap += ds;
    }
    return closed;
  }

  setIdealCycle(t: number, seconds: number): OeeRecord[] {
    if (!(seconds > 0))
      throw new TaktError(
        'oee.badCycle',
        `${this.machine}: ideal cycle time must be > 0 s, got ${seconds}`,
        'idealCycleS',
      );
    const closed = this.advanceTo(t);
    this.idealCycleS = seconds;
    return closed;
  }

  /** Moves the clock (no new data) and returns closed shifts; then `live()` covers up to t. */
  tick(t: number): OeeRecord[] {
    return t > this.now ? this.advanceTo(t) : [];
  }

  /** The current shift so far, or undefined outside shifts. */
  live(): OeeRecord | undefined {
    return this.acc ? this.record(false) : undefined;
  }

  private record(closed: boolean): OeeRecord {
    const a = this.acc!;
    const from = Math.max(a.shift.start, this.firstSeen ?? a.shift.start);
    const plannedMs = a.shift.planned.reduce(
      (s, iv) => s + overlap(iv, [from, closed ? a.shift.end : this.now]),
      0,
    );
    const longIdle = Math.max(0, a.ms.Idle - a.minorStopMs);
    const operatingMs = Math.max(0, plannedMs - a.ms.Down - a.ms.Setup - longIdle);
    const total = a.good + a.scrap;
    const ideal = this.idealCycleS;
    const idealMs = ideal * 1000 * total;
    const availability = plannedMs > 0 ? operatingMs / plannedMs : 0;
    const performance = operatingMs > 0 ? Math.min(1, idealMs / operatingMs) : 0;
    const quality = total > 0 ? a.good / total : 0;
    const min = (ms: number) => ms / MIN;
    return {
      machine: this.machine,
      shift: a.shift.name,
      start: a.shift.start,
      end: a.shift.end,
      until: closed ? a.shift.end : this.now,
      closed,
      plannedMin: min(plannedMs),
      operatingMin: min(operatingMs),
      availability,
      performance,
      quality,
      oee: availability * performance * quality,
      good: a.good,
      scrap: a.scrap,
      total,
      idealCycleS: ideal,
      failures: a.failures,
      mtbfMin: a.failures > 0 ? min(operatingMs) / a.failures : null,
      mttrMin: a.failures > 0 ? min(a.ms.Down) / a.failures : null,
      losses: {
        equipmentFailure: min(a.ms.Down),
        setupAdjustment: min(a.ms.Setup),
        idlingMinorStops: min(a.ms.Idle),
        reducedSpeed: min(Math.max(0, operatingMs - a.minorStopMs - idealMs)),
        processDefects: (ideal * (a.scrap - a.startupScrap)) / 60,
        reducedYield: (ideal * a.startupScrap) / 60,
      },
    };
  }
}

export interface OeeTags {
  state: string;
  good: string;
  scrap: string;
  idealCycle: string;
}
export const DEFAULT_TAGS: OeeTags = {
  state: 'State',
  good: 'GoodCount',
  scrap: 'ScrapCount',
  idealCycle: 'IdealCycleTime',
};
const STATE_BY_CODE: MachineState[] = ['Idle', 'Running', 'Setup', 'Down'];

/**
 * OEE for a whole plant from samples: the topic's last segment names the signal (State, GoodCount,
 * ScrapCount, IdealCycleTime by default) and the segment before it the machine. Other topics are ignored.
 */
/** Machines one plant follows; a sample of one more new machine is refused (`oee.tooManyMachines`). */
export const MAX_MACHINES = 1000;

export class OeePlant {
  private readonly opts: OeeOptions;
  private readonly tags: OeeTags;
  private readonly trackers = new Map<string, OeeTracker>();
  ignored = 0;
  /** Samples refused because MAX_MACHINES machines were already followed, since creation. */
  refusedMachines = 0;

  constructor(opts: OeeOptions, tags: OeeTags = DEFAULT_TAGS) {
    new Calendar(opts.calendar); // check the calendar now
    this.opts = opts;
    this.tags = tags;
  }

  machines(): string[] {
    return [...this.trackers.keys()];
  }

  /** Feeds one sample; returns the shift records it closed. */
  ingest(topic: string, value: unknown, ts: number): OeeRecord[] {
    const parts = topic.split('/');
    const signal = parts.at(-1) ?? '';
    const machine = parts.at(-2);
    const known = [this.tags.state, this.tags.good, this.tags.scrap, this.tags.idealCycle].includes(signal);
    if (!machine || !known) {
      this.ignored++;
      return [];
    }
    let t = this.trackers.get(machine);
    if (!t) {
      if (this.trackers.size >= MAX_MACHINES) {
        this.refusedMachines++;
        throw new TaktError(
          'oee.tooManyMachines',
          `topic: machine "${machine.slice(0, 40)}" not taken, OEE already follows ${MAX_MACHINES} machines (${this.refusedMachines} samples refused)`,
          'topic',
        );
      }
      t = new OeeTracker(machine, this.opts);
      this.trackers.set(machine, t);
    }
    if (signal === this.tags.state) {
      const state = typeof value === 'number' ? STATE_BY_CODE[value] : (value as MachineState);
      return t.setState(ts, state);
    }
    const n = typeof value === 'number' ? value : Number(value);
    if (signal === this.tags.idealCycle) return t.setIdealCycle(ts, n);
    return t.setCounts(ts, signal === this.tags.good ? { good: n } : { scrap: n });
  }

  /** Live records of every machine's current shift. */
  live(): OeeRecord[] {
    return [...this.trackers.values()].flatMap((t) => t.live() ?? []);
  }
}
