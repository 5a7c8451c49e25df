/**
 * takt-energy: keeps the energy problem, re-optimises it when prices, forecasts or loads change,
 * and sends the plan, per-load start commands at their times, and a chart series. Thin adaptor: the
 * model and solver are in optimise.ts.
 *
 * In: msg.payload = EnergyProblem (replaces it), or msg.topic "prices" | "baseLoadKw" |
 * "renewableKw" | "loads" with the array as payload (updates that part); msg.startTs = time of slot 0
 * (core/message timestamp rule; default: now, rounded down to the slot); msg.action "reset" (old
 * spelling msg.reset) clears the plan and the timers.
 * Out: 1) the plan (msg.energy has status and gap), 2) start commands, 3) chart series.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { SerialJobs } from '../core/jobs';
import { commandReader, readTimestamp } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { optimise, warmUp } from './optimise';
import type { EnergyPlan, EnergyProblem } from './types';

interface EnergyNodeDef extends NodeDef {
  timeLimit?: string | number;
  /** 'auto' (default): two threads on a machine with two cores or more; '1': one. */
  threads?: string;
}
type Msg = NodeMessageInFlow & { reset?: unknown; startTs?: unknown; energy?: unknown };
const PARTS = ['prices', 'baseLoadKw', 'renewableKw', 'loads'] as const;

/** Runs of consecutive slots: one start command per run. */
function runs(slots: number[]): number[][] {
  const out: number[][] = [];
  for (const t of slots) {
    const last = out[out.length - 1];
    if (last && last[last.length - 1] === t - 1) last.push(t);
    else out.push([t]);
  }
  return out;
}

const init: NodeInitializer = (RED) => {
  function EnergyNode(this: Node, def: EnergyNodeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      return {
        limitMs: Math.max(0.2, cfg.number('timeLimit', { default: 10, min: 0, exclusiveMin: true })) * 1000,
        threads: cfg.choice('threads', ['auto', '1'], 'auto') === '1' ? { threads: 1 } : {},
      };
    });
    if (!set) return;
    const { limitMs, threads } = set;
    const command = commandReader({ actions: ['reset'], flags: { reset: 'reset' } }, (t) => this.warn(t));
    const shown = throttledStatus((s) => this.status(s), 500);
    let problem: Partial<EnergyProblem> = {};
    let timers: NodeJS.Timeout[] = [];
    const jobs = new SerialJobs();
    const clearTimers = () => {
      timers.forEach((t) => clearTimeout(t));
      timers = [];
    };
    shown.now(status.idle(RED._('energy.status.idle')));
    void warmUp(); // load the solver now, not when the first problem arrives

    const schedule = (
      plan: EnergyPlan,
      p: EnergyProblem,
      startTs: number,
      msg: Msg,
      send: (m: (Msg | null)[]) => void,
    ) => {
      clearTimers();
      const slotMs = p.slotMinutes * 60000;
      for (const [id, slots] of Object.entries(plan.loads))
        for (const run of runs(slots)) {
          const at = startTs + run[0] * slotMs;
          const until = at + run.length * slotMs;
          const cmd = { action: 'start', load: id, slot: run[0], slots: run.length, at, until };
          if (until <= Date.now()) continue; // over already
          const wait = Math.max(0, at - Date.now()); // a run that has begun starts at once
          timers.push(setTimeout(() => send([null, { ...msg, topic: id, payload: cmd }, null]), wait));
        }
    };

    const handle = async (msg: Msg, send: (m: (Msg | null)[]) => void, signal: AbortSignal) => {
      if (command(msg) === 'reset') {
        clearTimers();
        problem = {};
        shown.now(status.idle(RED._('energy.status.idle')));
        return;
      }
      const topic = typeof msg.topic === 'string' ? msg.topic : '';
      const next: Partial<EnergyProblem> = (PARTS as readonly string[]).includes(topic)
        ? { ...problem, [topic]: msg.payload }
        : typeof msg.payload === 'object' && msg.payload !== null && !Array.isArray(msg.payload)
          ? { ...(msg.payload as EnergyProblem) }
          : (() => {
              throw new TaktError(
                'energy.badInput',
                'msg.payload must be an EnergyProblem, or an array with topic prices, baseLoadKw, renewableKw or loads',
              );
            })();
      if (!Array.isArray(next.prices) || !Array.isArray(next.loads)) {
        problem = next; // keep assembling: prices and loads are still missing
        shown.now(status.idle(RED._('energy.status.waiting')));
        return;
      }
      const p = { slotMinutes: 15, ...next } as EnergyProblem;
      shown.now(status.busy(RED._('energy.status.solving')));
      const plan = await optimise(p, {
        timeLimitMs: limitMs,
        ...threads,
        signal,
        onProgress: (q) =>
          shown.update(() =>
            status.busy(
              RED._('energy.status.progress', { gap: q.gap !== undefined ? (q.gap * 100).toFixed(1) : '?' }),
            ),
          ),
      });
      problem = next; // only a problem that solved replaces the last good one
      if (jobs.closed) return;
      const slotMs = p.slotMinutes * 60000;
      const startTs = readTimestamp(msg.startTs, Math.floor(Date.now() / slotMs) * slotMs, 'startTs');
      shown.now(
        status.ready(
          plan.optimal
            ? RED._('energy.status.optimal', { cost: plan.totalCost.toFixed(2) })
            : RED._('energy.status.gap', { gap: (plan.gap * 100).toFixed(1) }),
        ),
      );
      const chart = plan.importKw.flatMap((v, t) => {
        const x = startTs + t * slotMs;
        return [
          { series: 'import kW', x, y: v },
          { series: 'price', x, y: p.prices[t] },
          { series: 'renewables kW', x, y: p.renewableKw?.[t] ?? 0 },
        ];
      });
      send([
        { ...msg, payload: plan, energy: { optimal: plan.optimal, gap: plan.gap, startTs } },
        null,
        { ...msg, payload: chart },
      ]);
      schedule(plan, p, startTs, msg, send);
    };

    onInput<Msg>(
      this,
      (msg, send, done) => {
        jobs.run((signal) => handle(msg, send as (m: (Msg | null)[]) => void, signal), done);
        return 'later';
      },
      shown,
    );

    onClose(
      this,
      clearTimers,
      () => shown.dispose(),
      () => jobs.close(),
    );
  }
  RED.nodes.registerType('takt-energy', EnergyNode);
};

export = init;
