/**
 * What the pack's dashboard widgets draw, computed on the runtime side: pure reducers from the messages
 * of takt-schedule, takt-spc and takt-approve to small view models the browser components render as SVG.
 * No Node-RED import; the widget adaptors hold one state object each and send its `view()` to the browser.
 */
import { TaktError } from '../core/errors';
import { isRecord } from '../core/message';

// ---------------------------------------------------------------- Gantt (takt-schedule)

export interface GanttBar {
  machine: string;
  job: string;
  op: number;
  start: number;
  end: number;
  state: 'done' | 'running' | 'planned';
  late: boolean;
  /** A maintenance job (its id starts with the maintenance prefix): drawn as planned downtime. */
  maintenance: boolean;
}

export interface GanttDowntime {
  machine: string;
  start: number;
  /** null while a breakdown is open (drawn up to the end of the view). */
  end: number | null;
  reason: string;
}

export interface GanttView {
  machines: string[];
  jobs: string[];
  bars: GanttBar[];
  downtime: GanttDowntime[];
  now: number;
  /** The time window to draw. */
  from: number;
  to: number;
  trigger: string;
  makespan: number | null;
  lateJobs: number | null;
  /** Unit of the plan's times, shown on the axis. */
  unit: string;
  /**
   * Epoch ms of plan time 0 when the plan's clock is known (`{ now, origin }` ticks): the browser then
   * labels the axis, the now line and the bars with clock times of that clock instead of plan units.
   */
  origin: number | null;
}

export interface GanttOptions {
  /** How much of the past to keep in view, in plan time units (default 60); older breakdowns are dropped. */
  history: number;
  /** The least future to show (default 240). */
  horizon: number;
  unit: string;
  /** Jobs whose id starts with this are maintenance, not production (default "MAINT"). */
  maintenancePrefix: string;
}

/**
 * Due dates the Gantt remembers (for the late flag); the oldest go first beyond this. A job's due date is
 * forgotten once the job has been in a plan and a later plan no longer has it (finished and dropped by the
 * scheduler, or cancelled: it is never drawn again), so this cap only holds jobs that never reach a plan.
 */
export const MAX_DUE_DATES = 1000;

type Obj = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function badInput(what: string): never {
  throw new TaktError('dashboard.badInput', what, 'payload');
}

/**
 * The Gantt chart's state. Feed it what goes into takt-schedule (problems, events: for the downtime
 * blocks) and what comes out of it (plans, or Gantt rows), plus `{ now }` clock ticks.
 */
export class GanttState {
  private bars: GanttBar[] = [];
  private machines: string[] = [];
  private planned = new Map<string, GanttDowntime[]>();
  private breakdowns: GanttDowntime[] = [];
  private now = 0;
  private origin: number | null = null;
  private trigger = '';
  private makespan: number | null = null;
  private lateJobs: number | null = null;
  private due = new Map<string, number>();
  /** The jobs of the last plan: a due date leaves with its job (see MAX_DUE_DATES). */
  private planJobs = new Set<string>();
  readonly options: GanttOptions;

  constructor(options: Partial<GanttOptions> = {}) {
    this.options = { history: 60, horizon: 240, unit: 'min', maintenancePrefix: 'MAINT', ...options };
  }

  /**
   * Applies one message payload; returns false when it was nothing the Gantt knows, 'tick' when it only
   * moved the clock (`{ now }`, `{ now, origin }`), true for anything else it draws.
   */
  apply(payload: unknown): boolean | 'tick' {
    if (Array.isArray(payload)) return this.rows(payload);
    if (!isRecord(payload)) badInput('the Gantt takes a plan, Gantt rows, a problem, an event or { now }');
    if (isRecord(payload.schedule)) return this.plan(payload);
    if (Array.isArray(payload.machines) && Array.isArray(payload.jobs)) return this.problem(payload);
    if (typeof payload.event === 'string') return this.event(payload);
    const now = num(payload.now);
    if (now !== undefined) {
      this.now = Math.max(this.now, now);
      const origin = num(payload.origin);
      if (origin !== undefined && origin !== this.origin) {
        this.origin = origin;
        return true;
      }
      return 'tick';
    }
    return false;
  }

  private isMaintenance(job: string): boolean {
    return this.options.maintenancePrefix !== '' && job.startsWith(this.options.maintenancePrefix);
  }

  private addMachine(id: string) {
    if (!this.machines.includes(id)) this.machines.push(id);
  }

  private plan(p: Obj): boolean {
    const s = p.schedule as Obj;
    if (!Array.isArray(s.operations)) badInput('plan.schedule.operations must be an array');
    const now = num(p.now) ?? this.now;
    this.now = Math.max(this.now, now);
    const jobEnd = new Map<string, number>();
    const ops = (s.operations as unknown[]).map((o) => {
      if (
        !isRecord(o) ||
        typeof o.machine !== 'string' ||
        num(o.start) === undefined ||
        num(o.end) === undefined
      )
        badInput('each operation needs machine, start and end');
      const job = String(o.job);
      jobEnd.set(job, Math.max(jobEnd.get(job) ?? -Infinity, o.end as number));
      return {
        machine: o.machine,
        job,
        op: Number(o.op) || 0,
        start: o.start as number,
        end: o.end as number,
      };
    });
    for (const job of this.planJobs) if (!jobEnd.has(job)) this.due.delete(job);
    this.planJobs = new Set(jobEnd.keys());
    this.bars = ops.map((o) => ({
      ...o,
      state: o.end <= now ? 'done' : o.start < now ? 'running' : 'planned',
      late: (jobEnd.get(o.job) ?? 0) > (this.due.get(o.job) ?? Infinity),
      maintenance: this.isMaintenance(o.job),
    }));
    for (const o of ops) this.addMachine(o.machine);
    this.trigger = typeof p.trigger === 'string' ? p.trigger : 'plan';
    this.makespan = num(s.makespan) ?? null;
    const lateJobs = isRecord(p.kpis) ? num(p.kpis.lateJobs) : num(s.lateJobs);
    this.lateJobs = lateJobs ?? null;
    return true;
  }

  private rows(rows: unknown[]): boolean {
    this.bars = rows.map((r) => {
      if (
        !isRecord(r) ||
        typeof r.machine !== 'string' ||
        num(r.start) === undefined ||
        num(r.end) === undefined
      )
        badInput('each Gantt row needs machine, start and end');
      const state = r.state === 'done' || r.state === 'running' ? r.state : 'planned';
      return {
        machine: r.machine,
        job: String(r.job),
        op: Number(r.op) || 0,
        start: r.start as number,
        end: r.end as number,
        state,
        late: r.late === true,
        maintenance: this.isMaintenance(String(r.job)),
      };
    });
    for (const b of this.bars) this.addMachine(b.machine);
    return true;
  }

  private problem(p: Obj): boolean {
    this.planned.clear();
    this.breakdowns = [];
    this.due.clear();
    this.planJobs.clear();
    for (const m of p.machines as unknown[]) {
      if (!isRecord(m) || typeof m.id !== 'string') badInput('each machine needs an id');
      this.addMachine(m.id);
      const windows = Array.isArray(m.unavailable) ? m.unavailable : [];
      this.planned.set(
        m.id,
        windows.filter(isRecord).map((w) => ({
          machine: m.id as string,
          start: Number(w.start),
          end: Number(w.end),
          reason: typeof w.reason === 'string' ? w.reason : 'unavailable',
        })),
      );
    }
    for (const j of p.jobs as unknown[]) {
      if (isRecord(j) && num(j.due) !== undefined) this.setDue(String(j.id), j.due as number);
    }
    const now = num(p.now);
    if (now !== undefined) this.now = Math.max(this.now, now);
    return true;
  }

  private event(e: Obj): boolean {
    const machine = typeof e.machine === 'string' ? e.machine : undefined;
    if (e.event === 'breakdown' && machine) {
      const start = num(e.from) ?? this.now;
      const until = num(e.until);
      this.addMachine(machine);
      this.breakdowns.push({
        machine,
        start,
        end: until ?? null,
        reason: typeof e.reason === 'string' ? e.reason : until !== undefined ? 'maintenance' : 'breakdown',
      });
      return true;
    }
    if (e.event === 'repaired' && machine) {
      const at = num(e.at) ?? this.now;
      for (const b of this.breakdowns)
        if (b.machine === machine && b.end === null) b.end = Math.max(at, b.start);
      return true;
    }
    if (e.event === 'rush' && isRecord(e.job) && num(e.job.due) !== undefined)
      this.setDue(String(e.job.id), e.job.due as number);
    return true;
  }

  private setDue(job: string, due: number): void {
    this.due.delete(job);
    this.due.set(job, due);
    if (this.due.size > MAX_DUE_DATES) this.due.delete(this.due.keys().next().value as string);
  }

  /** What the state holds (for tests and diagnostics): breakdowns and remembered due dates. */
  retained(): { breakdowns: number; dueDates: number } {
    return { breakdowns: this.breakdowns.length, dueDates: this.due.size };
  }

  /** Breakdowns that ended before the view's window can never be drawn again: they go. */
  private prune(): void {
    const from = this.now - this.options.history;
    if (this.breakdowns.some((b) => b.end !== null && b.end <= from))
      this.breakdowns = this.breakdowns.filter((b) => b.end === null || b.end > from);
  }

  view(): GanttView {
    this.prune();
    const { history, horizon, unit } = this.options;
    const from = Math.max(0, this.now - history);
    const lastEnd = this.bars.reduce((m, b) => Math.max(m, b.end), 0);
    const to = Math.max(this.now + horizon, Math.min(lastEnd, this.now + 4 * horizon), from + 1);
    const visible = (s: number, e: number | null) => (e === null || e > from) && s < to;
    const bars = this.bars.filter((b) => visible(b.start, b.end));
    const downtime = [...[...this.planned.values()].flat(), ...this.breakdowns].filter((d) =>
      visible(d.start, d.end),
    );
    const jobs = [...new Set(this.bars.filter((b) => !b.maintenance).map((b) => b.job))].sort();
    return {
      machines: [...this.machines],
      jobs,
      bars,
      downtime,
      now: this.now,
      from,
      to,
      trigger: this.trigger,
      makespan: this.makespan,
      lateJobs: this.lateJobs,
      unit,
      origin: this.origin,
    };
  }
}

// ---------------------------------------------------------------- Control chart (takt-spc)

export interface ChartPoint {
  index: number;
  ts: number | null;
  value: number;
  center: number | null;
  ucl: number | null;
  lcl: number | null;
  zone: string | null;
  violations: number[];
}

export interface ControlChartView {
  title: string;
  chartType: string;
  points: ChartPoint[];
  /** The latest limits, for the centre line, limits and zone bands. */
  center: number | null;
  ucl: number | null;
  lcl: number | null;
  /** Zone edges: centre ± 1 and 2 sigma of the statistic (the limits are ± 3). */
  zones: { a: [number, number]; b: [number, number] } | null;
  phase: string;
  collecting: { n: number; of: number } | null;
  lastAlarm: string | null;
  violationsShown: number;
  /** Decimals to show limits, points and axis labels with (see displayDecimals). */
  decimals: number;
  /** What the chart waits for while it has no limits (phase I progress), drawn across the plot. */
  notice: string | null;
}

/** The phase-I progress a chart without limits shows: "phase I 20/25: limits after 25 points". */
export function collectingNotice(collecting: { n: number; of: number } | null): string | null {
  if (!collecting || !Number.isFinite(collecting.of) || collecting.of <= 0) return null;
  const n = Math.min(collecting.n, collecting.of);
  return `phase I ${n}/${collecting.of}: limits after ${collecting.of} points`;
}

/** The most decimals the chart shows (beyond this, floating-point noise shows). */
export const MAX_DECIMALS = 8;

/** Decimals of a number's shortest decimal form (25.012 -> 3, 1e-7 -> 7), at most MAX_DECIMALS. */
function ownDecimals(x: number): number {
  const m = /^-?\d+(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(Math.abs(x).toString());
  if (!m) return 0;
  const d = (m[1]?.length ?? 0) - Number(m[2] ?? 0);
  return Math.min(MAX_DECIMALS, Math.max(0, d));
}

/**
 * How many decimals a control chart shows, from the data's own scale: two significant digits of
 * sigma (the spread the limits are made of: 25.0088 with sigma 0.0029 shows four decimals), or of the
 * points' standard deviation before there are limits, or the points' own decimals when they do not
 * vary. Then one more decimal at a time while a point and the limit it crossed would print the same
 * (a point beyond UCL 25.0088 must not read 25.0088 too).
 */
export function displayDecimals(
  values: readonly number[],
  sigma: number | null,
  limits: { ucl: number | null; lcl: number | null } = { ucl: null, lcl: null },
): number {
  let scale = sigma !== null && Number.isFinite(sigma) && sigma > 0 ? sigma : 0;
  if (!scale && values.length > 1) {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    scale = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
  }
  let d =
    scale > 0
      ? Math.min(MAX_DECIMALS, Math.max(0, 1 - Math.floor(Math.log10(scale))))
      : Math.max(0, ...values.map(ownDecimals));
  const crossed = values.flatMap((v) => [
    ...(limits.ucl !== null && v > limits.ucl ? [[v, limits.ucl]] : []),
    ...(limits.lcl !== null && v < limits.lcl ? [[v, limits.lcl]] : []),
  ]);
  while (d < MAX_DECIMALS && crossed.some(([v, l]) => v!.toFixed(d) === l!.toFixed(d))) d++;
  return d;
}

/** The last N points of a takt-spc stream (msg.spc) with the latest limits. */
export class ControlChartState {
  private points: ChartPoint[] = [];
  private chartType = '';
  private phase = '';
  private collecting: { n: number; of: number } | null = null;
  private lastAlarm: string | null = null;

  constructor(
    readonly maxPoints = 100,
    readonly title = '',
  ) {
    if (!(Number.isInteger(maxPoints) && maxPoints >= 2))
      throw new TaktError('dashboard.badConfig', 'points must be a whole number of at least 2', 'points');
  }

  /** Takes msg.spc (one point) and, when given, msg.payload of the alarms output (text). */
  push(spc: unknown, alarmText?: unknown): void {
    if (!isRecord(spc)) badInput('the control chart takes takt-spc points (msg.spc)');
    const value = num(spc.stat);
    if (value === undefined) badInput('msg.spc.stat must be a number');
    const violations = Array.isArray(spc.violations)
      ? spc.violations.filter((v): v is number => typeof v === 'number')
      : [];
    this.points.push({
      index: num(spc.index) ?? (this.points.at(-1)?.index ?? -1) + 1,
      ts: num(spc.ts) ?? null,
      value,
      center: num(spc.center) ?? null,
      ucl: num(spc.ucl) ?? null,
      lcl: num(spc.lcl) ?? null,
      zone: typeof spc.zone === 'string' ? spc.zone : null,
      violations,
    });
    if (this.points.length > this.maxPoints) this.points.splice(0, this.points.length - this.maxPoints);
    this.chartType = typeof spc.type === 'string' ? spc.type : this.chartType;
    this.phase = typeof spc.phase === 'string' || typeof spc.phase === 'number' ? String(spc.phase) : '';
    const c = spc.collecting;
    this.collecting = isRecord(c) && num(c.n) !== undefined ? { n: c.n as number, of: Number(c.of) } : null;
    if (typeof alarmText === 'string' && alarmText) this.lastAlarm = alarmText;
    else if (violations.length && Array.isArray(spc.alarms) && isRecord(spc.alarms[0]))
      this.lastAlarm = String(spc.alarms[0].text ?? '');
  }

  reset(): void {
    this.points = [];
    this.lastAlarm = null;
  }

  view(): ControlChartView {
    const last = [...this.points].reverse().find((p) => p.center !== null && p.ucl !== null);
    const center = last?.center ?? null;
    const ucl = last?.ucl ?? null;
    const lcl = last?.lcl ?? null;
    let zones: ControlChartView['zones'] = null;
    if (center !== null && ucl !== null) {
      const up = (ucl - center) / 3;
      const down = lcl !== null ? (center - lcl) / 3 : up;
      zones = { b: [center - down, center + up], a: [center - 2 * down, center + 2 * up] };
    }
    return {
      title: this.title,
      chartType: this.chartType,
      points: this.points.map((p) => ({ ...p, violations: [...p.violations] })),
      center,
      ucl,
      lcl,
      zones,
      phase: this.phase,
      collecting: this.collecting,
      lastAlarm: this.lastAlarm,
      violationsShown: this.points.filter((p) => p.violations.length > 0).length,
      decimals: displayDecimals(
        this.points.map((p) => p.value),
        zones && ucl !== null && center !== null ? (ucl - center) / 3 : null,
        { ucl, lcl },
      ),
      notice: ucl === null ? collectingNotice(this.collecting) : null,
    };
  }
}

// ---------------------------------------------------------------- Approvals inbox (takt-approve)

export interface PendingLike {
  id: string;
  summary: string;
  createdAt: number;
  expiresAt: number | null;
  required: number;
  decisions: { user: string; decision: string; at: number }[];
}

export interface InboxItem {
  id: string;
  summary: string;
  createdAt: number;
  expiresAt: number | null;
  required: number;
  approvedBy: string[];
}

export interface InboxView {
  items: InboxItem[];
  /** The last few settled actions, newest first. */
  recent: { id: string; summary: string; outcome: string; by: string; at: number }[];
}

/** The inbox rows, oldest request first. */
export function inboxItems(pending: readonly PendingLike[]): InboxItem[] {
  return [...pending]
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    .map((p) => ({
      id: p.id,
      summary: p.summary,
      createdAt: p.createdAt,
      expiresAt: p.expiresAt,
      required: p.required,
      approvedBy: p.decisions.filter((d) => d.decision === 'approve').map((d) => d.user),
    }));
}

/**
 * Who decides: the dashboard user when a Dashboard 2 user plugin put one on msg._client
 * (username, name or email), else the configured default name.
 */
export function approverName(client: unknown, fallback: string): string {
  if (isRecord(client) && isRecord(client.user)) {
    for (const k of ['username', 'name', 'email', 'userId']) {
      const v = client.user[k];
      if (typeof v === 'string' && v.trim()) return v.trim();
    }
  }
  return fallback;
}

/** The message takt-approve takes as a decision, from what the inbox's buttons send. */
export function decisionMessage(
  action: unknown,
  user: string,
): { approval: { id: string; decision: 'approve' | 'reject'; user: string; comment?: string } } {
  if (!isRecord(action) || typeof action.id !== 'string' || !action.id)
    badInput('a decision needs the id of the waiting action');
  if (action.decision !== 'approve' && action.decision !== 'reject')
    badInput('decision must be "approve" or "reject"');
  if (!user) badInput('a decision needs the approver name (set a default approver)');
  const comment =
    typeof action.comment === 'string' && action.comment.trim() ? action.comment.trim() : undefined;
  return { approval: { id: action.id, decision: action.decision, user, ...(comment ? { comment } : {}) } };
}

/** A short signature of the pending list, to push the inbox only when it changed. */
export function inboxSignature(items: readonly InboxItem[]): string {
  return items.map((i) => `${i.id}:${i.approvedBy.join(',')}`).join('|');
}
