/**
 * Live rescheduling: keeps the current problem and plan, applies shop-floor events (breakdown,
 * repaired, rush order, progress, cancel), freezes what has started, re-optimises the rest from the
 * old plan (warm start, short time limit) and reports how stable the new plan is.
 *
 * The state changes only when the new plan is found and valid: a bad event or problem throws a
 * TaktError and the plan in force stays.
 */
import { TaktError } from '../core/errors';
import { compile } from './model';
import { solve } from './solve';
import type { Job, Schedule, ScheduledOperation, SchedulingProblem, SolveProgress } from './types';
import { validate } from './validate';

export type ScheduleEvent =
  | { event: 'breakdown'; machine: string; from: number; until?: number }
  | { event: 'repaired'; machine: string; at?: number }
  | { event: 'rush'; job: Job; at?: number }
  | {
      event: 'progress';
      job: string;
      op: number;
      status: 'started' | 'finished';
      at: number;
      machine?: string;
    }
  | { event: 'cancel'; job: string; at?: number }
  /** An extension: a material's deliveries changed (e.g. a delayed truck); replaces its list. */
  | { event: 'material'; material: string; available: { at: number; qty: number }[]; at?: number };

export interface Stability {
  /** Operations planned before and after (not yet started before the event). */
  compared: number;
  movedMachine: number;
  movedTime: number;
  /** Mean absolute start shift over the compared operations. */
  meanShift: number;
}

export interface Kpis {
  makespan: number;
  weightedTardiness: number;
  lateJobs: number;
  lowerBound: number;
  gapPct: number;
  status: Schedule['status'];
  /** Busy time / makespan, per machine id. */
  utilisation: Record<string, number>;
}

export interface DispatchEntry {
  machine: string;
  /** What to run next (the first operation that has not finished), or null. */
  next: ScheduledOperation | null;
  queue: ScheduledOperation[];
}

export interface GanttRow {
  machine: string;
  job: string;
  op: number;
  start: number;
  end: number;
  label: string;
  late: boolean;
  state: 'done' | 'running' | 'planned';
}

export interface LiveResult {
  schedule: Schedule;
  kpis: Kpis;
  stability: Stability | null;
  dispatch: DispatchEntry[];
  gantt: GanttRow[];
  now: number;
  /** What triggered this plan: "plan" or the event name. */
  trigger: string;
}

export interface LiveOptions {
  /** Time for a plan from scratch (default 10 s). */
  planTimeMs?: number;
  /** Time for a repair after an event (default 1 s). */
  repairTimeMs?: number;
  workers?: number;
  /**
   * Weight of start-time moves against the previous plan in a repair (objective.stability) when the
   * problem does not set it; default 0 (the repair only optimises makespan / tardiness).
   */
  stabilityWeight?: number;
  /**
   * Finished jobs kept in the problem after an event (default KEEP_FINISHED_JOBS): older finished jobs, with
   * their frozen operations, leave it, so a plan that runs for months does not grow. Jobs that consume
   * materials stay (their use counts against the deliveries). KPIs count the jobs in the problem.
   */
  keepFinishedJobs?: number;
  /** Ended unavailability windows (breakdowns, maintenance) kept per machine (default KEEP_PAST_WINDOWS). */
  keepPastWindows?: number;
}

/** Default caps on the past a live plan keeps (LiveOptions.keepFinishedJobs / keepPastWindows). */
export const KEEP_FINISHED_JOBS = 50;
export const KEEP_PAST_WINDOWS = 20;

const EVENTS = ['breakdown', 'repaired', 'rush', 'progress', 'cancel', 'material'] as const;

function bad(message: string, field?: string): never {
  throw new TaktError('schedule.badEvent', message, field);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Checks the shape of an event; throws a TaktError naming the field. */
export function parseEvent(raw: unknown): ScheduleEvent {
  if (typeof raw !== 'object' || raw === null) bad('an event must be an object');
  const e = { ...(raw as Record<string, unknown>) };
  if (!EVENTS.includes(e.event as (typeof EVENTS)[number]))
    bad(`event must be one of ${EVENTS.join(', ')}, got ${JSON.stringify(e.event)}`, 'event');
  const str = (k: string) => {
    if (typeof e[k] !== 'string' || e[k] === '')
      bad(`${e.event} event: "${k}" must be a non-empty string`, k);
    return e[k] as string;
  };
  const time = (k: string, optional: boolean) => {
    if (e[k] === undefined && optional) return undefined;
    if (!isInt(e[k])) bad(`${e.event} event: "${k}" must be an integer time`, k);
    return e[k] as number;
  };
  switch (e.event) {
    case 'breakdown': {
      const from = time('from', false) as number;
      const until = time('until', true);
      if (until !== undefined && until <= from)
        bad(`breakdown of ${str('machine')}: "until" must be after "from"`, 'until');
      return until === undefined
        ? { event: 'breakdown', machine: str('machine'), from }
        : { event: 'breakdown', machine: str('machine'), from, until };
    }
    case 'repaired': {
      const at = time('at', true);
      return at === undefined
        ? { event: 'repaired', machine: str('machine') }
        : { event: 'repaired', machine: str('machine'), at };
    }
    case 'rush': {
      if (typeof e.job !== 'object' || e.job === null) bad('rush event: "job" must be a job object', 'job');
      const at = time('at', true);
      return at === undefined
        ? { event: 'rush', job: e.job as Job }
        : { event: 'rush', job: e.job as Job, at };
    }
    case 'progress': {
      const status =
        e.status ?? (e.finished !== undefined ? 'finished' : e.started !== undefined ? 'started' : undefined);
      if (status !== 'started' && status !== 'finished')
        bad('progress event: "status" must be "started" or "finished"', 'status');
      if (!isInt(e.op) || e.op < 0) bad('progress event: "op" must be an operation index >= 0', 'op');
      // { started: 12 } / { finished: 30 } may carry the time themselves
      if (e.at === undefined && isInt(e[status])) e.at = e[status];
      const at = time('at', false) as number;
      const out: ScheduleEvent = { event: 'progress', job: str('job'), op: e.op, status, at };
      if (e.machine !== undefined) out.machine = str('machine');
      return out;
    }
    case 'material': {
      if (!Array.isArray(e.available))
        bad('material event: "available" must be an array of { at, qty }', 'available');
      const available = (e.available as unknown[]).map((a, k) => {
        const x = a as { at?: unknown; qty?: unknown };
        if (!isInt(x?.at) || typeof x.qty !== 'number' || !(x.qty >= 0))
          bad(`material event: available[${k}] must be { at: integer, qty: number >= 0 }`, `available[${k}]`);
        return { at: x.at, qty: x.qty };
      });
      const at = time('at', true);
      const out: ScheduleEvent = { event: 'material', material: str('material'), available };
      if (at !== undefined) out.at = at;
      return out;
    }
    default: {
      const at = time('at', true);
      return at === undefined
        ? { event: 'cancel', job: str('job') }
        : { event: 'cancel', job: str('job'), at };
    }
  }
}

const key = (job: string, op: number) => `${job}\u0000${op}`;

/** KPIs, dispatch lists and Gantt rows of a plan at time `now`. */
export function views(
  problem: SchedulingProblem,
  s: Schedule,
  now: number,
): Pick<LiveResult, 'kpis' | 'dispatch' | 'gantt'> {
  const busy = new Map(problem.machines.map((m) => [m.id, 0]));
  for (const o of s.operations) busy.set(o.machine, (busy.get(o.machine) ?? 0) + (o.end - o.start));
  const utilisation: Record<string, number> = {};
  for (const [m, b] of busy) utilisation[m] = s.makespan > 0 ? Number((b / s.makespan).toFixed(4)) : 0;
  const value = s.objectiveValue ?? s.makespan;
  const kpis: Kpis = {
    makespan: s.makespan,
    weightedTardiness: s.weightedTardiness,
    lateJobs: s.lateJobs,
    lowerBound: s.lowerBound,
    gapPct: value > 0 ? Number((((value - s.lowerBound) / value) * 100).toFixed(2)) : 0,
    status: s.status,
    utilisation,
  };
  const due = new Map(problem.jobs.map((j) => [j.id, j.due ?? Infinity]));
  const jobEnd = new Map<string, number>();
  for (const o of s.operations) jobEnd.set(o.job, Math.max(jobEnd.get(o.job) ?? -Infinity, o.end));
  const dispatch: DispatchEntry[] = problem.machines.map((m) => {
    const queue = s.operations
      .filter((o) => o.machine === m.id && o.end > now)
      .sort((a, b) => a.start - b.start);
    return { machine: m.id, next: queue[0] ?? null, queue };
  });
  const gantt: GanttRow[] = s.operations
    .map((o) => ({
      machine: o.machine,
      job: o.job,
      op: o.op,
      start: o.start,
      end: o.end,
      label: `${o.job}/${o.op}`,
      late: (jobEnd.get(o.job) ?? 0) > (due.get(o.job) ?? Infinity),
      state: (o.end <= now ? 'done' : o.start < now ? 'running' : 'planned') as GanttRow['state'],
    }))
    .sort((a, b) => a.machine.localeCompare(b.machine) || a.start - b.start);
  return { kpis, dispatch, gantt };
}

/** How many operations planned in both plans moved machine or time (frozen ones excluded). */
export function stability(before: Schedule, after: Schedule, frozen: Set<string>): Stability {
  const old = new Map(before.operations.map((o) => [key(o.job, o.op), o]));
  let compared = 0;
  let movedMachine = 0;
  let movedTime = 0;
  let shift = 0;
  for (const o of after.operations) {
    const k = key(o.job, o.op);
    const p = old.get(k);
    if (!p || frozen.has(k)) continue;
    compared++;
    if (p.machine !== o.machine) movedMachine++;
    if (p.start !== o.start) movedTime++;
    shift += Math.abs(p.start - o.start);
  }
  return {
    compared,
    movedMachine,
    movedTime,
    meanShift: compared ? Number((shift / compared).toFixed(2)) : 0,
  };
}

/**
 * Drops the past a plan no longer needs: finished jobs (every operation frozen and ended by `now`, no
 * material use) beyond the `keepJobs` that finished last, with their frozen operations, and each machine's
 * unavailability windows that ended by `now` beyond the last `keepWindows`. Nothing that can still move,
 * nor anything that constrains the future, is dropped.
 */
export function prunePast(
  p: SchedulingProblem,
  frozen: Map<string, ScheduledOperation>,
  now: number,
  keepJobs: number,
  keepWindows: number,
): void {
  const finished: { id: string; end: number }[] = [];
  for (const j of p.jobs) {
    let end = -Infinity;
    let done = j.operations.length > 0;
    for (let i = 0; i < j.operations.length && done; i++) {
      const f = frozen.get(key(j.id, i));
      if (!f || f.end > now || (j.operations[i].consumes?.length ?? 0) > 0) done = false;
      else end = Math.max(end, f.end);
    }
    if (done) finished.push({ id: j.id, end });
  }
  if (finished.length > keepJobs) {
    finished.sort((a, b) => a.end - b.end);
    const drop = new Set(finished.slice(0, finished.length - keepJobs).map((f) => f.id));
    for (const j of p.jobs)
      if (drop.has(j.id)) for (let i = 0; i < j.operations.length; i++) frozen.delete(key(j.id, i));
    p.jobs = p.jobs.filter((j) => !drop.has(j.id));
  }
  for (const m of p.machines) {
    const w = m.unavailable;
    if (!w) continue;
    const ended = w.filter((x) => x.end <= now).sort((a, b) => a.end - b.end);
    if (ended.length <= keepWindows) continue;
    const drop = new Set(ended.slice(0, ended.length - keepWindows));
    m.unavailable = w.filter((x) => !drop.has(x));
  }
}

export class LivePlanner {
  private problem: SchedulingProblem | null = null;
  private plan: Schedule | null = null;
  private readonly opts: Required<LiveOptions>;

  constructor(opts: LiveOptions = {}) {
    this.opts = {
      planTimeMs: opts.planTimeMs ?? 10000,
      repairTimeMs: opts.repairTimeMs ?? 1000,
      workers: opts.workers ?? 1,
      stabilityWeight: opts.stabilityWeight ?? 0,
      keepFinishedJobs: opts.keepFinishedJobs ?? KEEP_FINISHED_JOBS,
      keepPastWindows: opts.keepPastWindows ?? KEEP_PAST_WINDOWS,
    };
  }

  get current(): { problem: SchedulingProblem; plan: Schedule } | null {
    return this.problem && this.plan ? { problem: this.problem, plan: this.plan } : null;
  }

  reset(): void {
    this.problem = null;
    this.plan = null;
  }

  /** A plan from scratch (replaces the current one when it succeeds). */
  async planFrom(
    problem: SchedulingProblem,
    opts: { signal?: AbortSignal; onProgress?: (p: SolveProgress) => void } = {},
  ): Promise<LiveResult> {
    const p = structuredClone(problem);
    compile(p);
    const s = await solve(p, {
      timeLimitMs: p.timeLimitMs ?? this.opts.planTimeMs,
      workers: this.opts.workers,
      ...opts,
    });
    return this.commit(p, s, null, new Set(), 'plan');
  }

  /** Applies an event and repairs the plan (started operations frozen, the rest re-optimised). */
  async apply(
    raw: unknown,
    opts: { signal?: AbortSignal; onProgress?: (p: SolveProgress) => void } = {},
  ): Promise<LiveResult> {
    const ev = parseEvent(raw);
    if (!this.problem || !this.plan)
      throw new TaktError('schedule.noPlan', `a ${ev.event} event needs a plan: send a problem first`);
    const p = structuredClone(this.problem);
    const plan = this.plan;
    const machine = (id: string) => {
      const m = p.machines.find((x) => x.id === id);
      if (!m) bad(`${ev.event} event: unknown machine ${id}`, 'machine');
      return m;
    };
    const job = (id: string) => {
      const j = p.jobs.find((x) => x.id === id);
      if (!j) bad(`${ev.event} event: unknown job ${id}`, 'job');
      return j;
    };
    let now = p.now ?? 0;
    const frozen = new Map((p.frozen ?? []).map((f) => [key(f.job, f.op), f]));
    /** Operations interrupted by a breakdown: they restart later, never frozen as planned. */
    const interrupted = new Set<string>();
    const horizon = () =>
      Math.max(plan.makespan, now) +
      p.jobs.reduce(
        (a, j) =>
          a + j.operations.reduce((b, o) => b + Math.max(...o.alternatives.map((x) => x.duration)), 0),
        0,
      );

    switch (ev.event) {
      case 'breakdown': {
        const m = machine(ev.machine);
        now = Math.max(now, ev.from);
        (m.unavailable ??= []).push({ start: ev.from, end: ev.until ?? horizon(), reason: 'breakdown' });
        for (const o of plan.operations)
          if (o.machine === m.id && o.start < ev.from && o.end > ev.from) {
            const f = frozen.get(key(o.job, o.op));
            if (!f || f.end > ev.from) {
              interrupted.add(key(o.job, o.op));
              frozen.delete(key(o.job, o.op));
            }
          }
        break;
      }
      case 'repaired': {
        const m = machine(ev.machine);
        const at = Math.max(now, ev.at ?? now);
        now = at;
        for (const w of m.unavailable ?? [])
          if (w.reason === 'breakdown' && w.start <= at && w.end > at) w.end = at;
        break;
      }
      case 'rush': {
        const j = structuredClone(ev.job);
        if (p.jobs.some((x) => x.id === j.id)) bad(`rush event: job ${j.id} already exists`, 'job.id');
        now = Math.max(now, ev.at ?? now);
        j.release = Math.max(j.release ?? now, now);
        p.jobs.push(j);
        break;
      }
      case 'progress': {
        const j = job(ev.job);
        if (ev.op >= j.operations.length) bad(`progress event: job ${j.id} has no operation ${ev.op}`, 'op');
        now = Math.max(now, ev.at);
        const planned = plan.operations.find((o) => o.job === j.id && o.op === ev.op);
        const was = frozen.get(key(j.id, ev.op));
        const mid = ev.machine ?? was?.machine ?? planned?.machine;
        const alt = j.operations[ev.op].alternatives.find((a) => a.machine === mid);
        if (!alt) bad(`progress event: job ${j.id} operation ${ev.op} cannot run on ${mid}`, 'machine');
        // operations before it in the job are done by now: freeze them as planned
        for (let i = 0; i < ev.op; i++)
          if (!frozen.has(key(j.id, i))) {
            const o = plan.operations.find((x) => x.job === j.id && x.op === i);
            if (o) frozen.set(key(j.id, i), { ...o, end: Math.min(o.end, ev.at) });
          }
        if (ev.status === 'started')
          frozen.set(key(j.id, ev.op), {
            job: j.id,
            op: ev.op,
            machine: alt.machine,
            start: ev.at,
            end: Math.max(ev.at + alt.duration, now),
          });
        else {
          const start = was?.start ?? Math.min(planned?.start ?? ev.at, ev.at);
          frozen.set(key(j.id, ev.op), { job: j.id, op: ev.op, machine: alt.machine, start, end: ev.at });
        }
        break;
      }
      case 'material': {
        const mt = (p.materials ?? []).find((x) => x.id === ev.material);
        if (!mt) bad(`material event: unknown material ${ev.material}`, 'material');
        now = Math.max(now, ev.at ?? now);
        mt.available = ev.available;
        break;
      }
      case 'cancel': {
        const j = job(ev.job);
        now = Math.max(now, ev.at ?? now);
        const started = j.operations.filter(
          (_, i) =>
            frozen.has(key(j.id, i)) ||
            plan.operations.some((o) => o.job === j.id && o.op === i && o.start < now),
        ).length;
        if (started === 0) p.jobs = p.jobs.filter((x) => x.id !== j.id);
        else j.operations = j.operations.slice(0, started);
        break;
      }
    }

    // What the plan had started by now is frozen as planned (a prefix of each job).
    for (const j of p.jobs)
      for (let i = 0; i < j.operations.length; i++) {
        const k = key(j.id, i);
        if (frozen.has(k)) continue;
        const o = plan.operations.find((x) => x.job === j.id && x.op === i);
        if (!o || o.start >= now || interrupted.has(k)) break;
        frozen.set(k, { ...o });
      }
    prunePast(p, frozen, now, this.opts.keepFinishedJobs, this.opts.keepPastWindows);
    p.now = now;
    p.frozen = [...frozen.values()];
    if (this.opts.stabilityWeight > 0 && p.objective?.stability === undefined)
      p.objective = { ...p.objective, stability: this.opts.stabilityWeight };
    compile(p); // bad events (e.g. a rush job with an unknown machine) fail here, before any solving
    const s = await solve(p, {
      timeLimitMs: this.opts.repairTimeMs,
      workers: this.opts.workers,
      initial: plan.operations,
      ...opts,
    });
    return this.commit(p, s, plan, new Set(frozen.keys()), ev.event);
  }

  private commit(
    p: SchedulingProblem,
    s: Schedule,
    before: Schedule | null,
    frozen: Set<string>,
    trigger: string,
  ): LiveResult {
    const broken = validate(p, s);
    if (broken.length)
      throw new TaktError('schedule.internal', `the new plan breaks a rule: ${broken[0].message}`);
    this.problem = p;
    this.plan = s;
    const now = p.now ?? 0;
    return {
      schedule: s,
      ...views(p, s, now),
      stability: before ? stability(before, s, frozen) : null,
      now,
      trigger,
    };
  }
}
