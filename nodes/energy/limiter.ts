/**
 * Live demand limiter. The utility bills the average power of each demand interval (e.g. 15 min,
 * aligned to the clock). From live kW samples this projects the interval's average as
 * (energy so far + current kW x time left) / interval; when the projection would cross the limit it
 * sheds (or defers) loads in the user's priority order, honouring minimum on and off times, and
 * restores them (most important first) once the projection with the load back stays below the
 * limit minus a margin. Pure and stateful: push(ts, kW) returns the commands to send.
 */
import { TaktError } from '../core/errors';

export interface LimiterLoad {
  id: string;
  /** Power the load draws when on (kW). */
  powerKw: number;
  /** 'shed' (switch off) or 'defer' (postpone its next cycle); only changes the command's action. */
  mode?: 'shed' | 'defer';
  /** Minimum time on before it may be shed again (ms, default 0). */
  minOnMs?: number;
  /** Minimum time off before it may be restored (ms, default 0). */
  minOffMs?: number;
}

export interface LimiterConfig {
  /** Demand interval in ms (e.g. 900000 for 15 min); intervals start at multiples of it (epoch ms). */
  intervalMs: number;
  limitKw: number;
  /** Loads in shed order: the first is shed first and restored last. */
  loads: LimiterLoad[];
  /** Restore only when the projection with the load back is under limit - marginKw (default 5% of the limit). */
  marginKw?: number;
}

export interface LimiterCommand {
  action: 'shed' | 'defer' | 'restore';
  load: string;
  ts: number;
  /** Projected interval average (kW) after this command. */
  projectedKw: number;
  limitKw: number;
}

export interface LimiterState {
  intervalStart: number;
  energyKwMs: number;
  lastTs: number | null;
  lastKw: number;
  projectedKw: number;
  off: Record<string, number>;
  changedAt: Record<string, number>;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export class DemandLimiter {
  private readonly cfg: Required<Omit<LimiterConfig, 'loads'>> & { loads: LimiterLoad[] };
  private s: LimiterState;

  constructor(config: LimiterConfig) {
    if (!config || !finite(config.intervalMs) || config.intervalMs <= 0)
      throw new TaktError('energy.badInterval', 'intervalMs must be a number > 0', 'intervalMs');
    if (!finite(config.limitKw) || config.limitKw <= 0)
      throw new TaktError('energy.badLimit', 'limitKw must be a number > 0', 'limitKw');
    if (!Array.isArray(config.loads))
      throw new TaktError('energy.badLoads', 'loads must be an array', 'loads');
    const seen = new Set<string>();
    for (const [i, l] of config.loads.entries()) {
      if (!l || typeof l.id !== 'string' || l.id === '')
        throw new TaktError('energy.badLoad', `loads[${i}] needs a non-empty string id`, `loads[${i}]`);
      if (seen.has(l.id)) throw new TaktError('energy.duplicateLoad', `load "${l.id}" appears twice`, l.id);
      seen.add(l.id);
      if (!finite(l.powerKw) || l.powerKw <= 0)
        throw new TaktError('energy.badLoad', `load "${l.id}": powerKw must be a number > 0`, l.id);
      for (const k of ['minOnMs', 'minOffMs'] as const)
        if (l[k] !== undefined && (!finite(l[k]) || (l[k] as number) < 0))
          throw new TaktError('energy.badLoad', `load "${l.id}": ${k} must be a number >= 0`, l.id);
    }
    const margin = config.marginKw ?? 0.05 * config.limitKw;
    if (!finite(margin) || margin < 0)
      throw new TaktError('energy.badLimit', 'marginKw must be a number >= 0', 'marginKw');
    this.cfg = {
      intervalMs: config.intervalMs,
      limitKw: config.limitKw,
      marginKw: margin,
      loads: config.loads.map((l) => ({ ...l })),
    };
    this.s = DemandLimiter.fresh();
  }

  private static fresh(): LimiterState {
    return {
      intervalStart: NaN,
      energyKwMs: 0,
      lastTs: null,
      lastKw: 0,
      projectedKw: 0,
      off: {},
      changedAt: {},
    };
  }

  reset(): void {
    this.s = DemandLimiter.fresh();
  }

  snapshot(): LimiterState {
    return JSON.parse(JSON.stringify(this.s)) as LimiterState;
  }

  restoreSnapshot(state: LimiterState): void {
    this.s = JSON.parse(JSON.stringify(state)) as LimiterState;
  }

  /** Ids of the loads currently shed or deferred. */
  get shed(): string[] {
    return this.cfg.loads.filter((l) => this.s.off[l.id] !== undefined).map((l) => l.id);
  }

  get projectedKw(): number {
    return this.s.projectedKw;
  }

  /** One live sample (epoch ms, kW); returns the commands it triggers. */
  push(ts: number, kw: number): LimiterCommand[] {
    if (!finite(ts))
      throw new TaktError('energy.badSample', `sample timestamp ${String(ts)} is not a number`, 'ts');
    if (!finite(kw))
      throw new TaktError(
        'energy.badSample',
        `sample at ${ts}: power ${String(kw)} is not a finite number`,
        'payload',
      );
    const s = this.s;
    if (s.lastTs !== null && ts < s.lastTs)
      throw new TaktError(
        'energy.badSample',
        `sample at ${ts} is older than the previous one (${s.lastTs})`,
        'ts',
      );
    const I = this.cfg.intervalMs;
    const start = Math.floor(ts / I) * I;
    if (s.lastTs !== null) {
      // energy since the last sample, the last power held until now, split at the interval boundary
      const from = Math.max(s.lastTs, start);
      if (start !== s.intervalStart) s.energyKwMs = 0;
      s.energyKwMs += s.lastKw * Math.max(0, ts - from);
    }
    s.intervalStart = start;
    s.lastTs = ts;
    s.lastKw = kw;
    const left = start + I - ts;
    const project = (current: number) => (s.energyKwMs + current * left) / I;
    let current = kw;
    const out: LimiterCommand[] = [];
    const limit = this.cfg.limitKw;
    if (project(current) > limit) {
      for (const l of this.cfg.loads) {
        if (project(current) <= limit) break;
        if (s.off[l.id] !== undefined) continue;
        const since = s.changedAt[l.id];
        if (since !== undefined && ts - since < (l.minOnMs ?? 0)) continue;
        s.off[l.id] = ts;
        s.changedAt[l.id] = ts;
        current -= l.powerKw;
        out.push({ action: l.mode ?? 'shed', load: l.id, ts, projectedKw: project(current), limitKw: limit });
      }
    } else {
      for (let i = this.cfg.loads.length - 1; i >= 0; i--) {
        const l = this.cfg.loads[i];
        if (s.off[l.id] === undefined) continue;
        if (ts - s.changedAt[l.id] < (l.minOffMs ?? 0)) continue;
        if (project(current + l.powerKw) > limit - this.cfg.marginKw) break; // keep the priority order
        delete s.off[l.id];
        s.changedAt[l.id] = ts;
        current += l.powerKw;
        out.push({ action: 'restore', load: l.id, ts, projectedKw: project(current), limitKw: limit });
      }
    }
    s.projectedKw = project(current);
    // later samples measure the plant after these commands
    s.lastKw = current;
    return out;
  }
}
