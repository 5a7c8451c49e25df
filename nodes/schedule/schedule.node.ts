/**
 * takt-schedule: keeps the current production plan and repairs it live. A thin adaptor: the input
 * is read here, every rule is in the engine (live.ts, solve.ts).
 *
 * In: a SchedulingProblem (plan from scratch) or an event ({ event: "breakdown" | "repaired" | "rush" |
 * "progress" | "cancel", ... }); msg.action "reset" (old spelling msg.reset) clears the plan. One solve at
 * a time: messages queue.
 * Out: 1) the plan with KPIs and stability, 2) per-machine dispatch lists, 3) Gantt rows.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { SerialJobs } from '../core/jobs';
import { commandReader } from '../core/message';
import { errorStatus, status, throttledStatus } from '../core/status';
import { LivePlanner, type LiveResult } from './live';

interface ScheduleNodeDef extends NodeDef {
  property?: string;
  planTime?: string | number;
  repairTime?: string | number;
  workers?: string | number;
  stability?: string | number;
}

type Msg = NodeMessageInFlow & { action?: unknown; reset?: unknown; schedule?: unknown };

const init: NodeInitializer = (RED) => {
  function ScheduleNode(this: Node, def: ScheduleNodeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      return {
        property: cfg.string('property', 'payload'),
        planner: new LivePlanner({
          planTimeMs: Math.max(0, cfg.number('planTime', { default: 10 })) * 1000,
          repairTimeMs: Math.max(0, cfg.number('repairTime', { default: 1000 })),
          workers: Math.max(0, Math.floor(cfg.number('workers', { default: 1 }))),
          stabilityWeight: Math.max(0, cfg.number('stability', { default: 0 })),
        }),
      };
    });
    if (!set) return;
    const { property, planner } = set;
    const command = commandReader({ actions: ['reset'], flags: { reset: 'reset' } }, (t) => this.warn(t));
    const shown = throttledStatus((s) => this.status(s), 500);
    const jobs = new SerialJobs();

    const done = (r: LiveResult) => {
      const k = r.kpis;
      return k.status === 'optimal'
        ? status.ready(RED._('schedule.status.optimal', { makespan: k.makespan }))
        : status.ready(RED._('schedule.status.gap', { makespan: k.makespan, gap: k.gapPct }));
    };

    const handle = async (msg: Msg, send: (m: (Msg | null)[]) => void, signal: AbortSignal) => {
      if (command(msg) === 'reset') {
        planner.reset();
        shown.now(status.idle(RED._('schedule.status.idle')));
        return;
      }
      const input: unknown = RED.util.getMessageProperty(msg, property);
      shown.now(status.busy(RED._('schedule.status.solving', { pct: 0 })));
      const opts = {
        signal,
        onProgress: (p: { fraction: number; best: number; lowerBound: number }) =>
          shown.update(() =>
            status.busy(
              RED._('schedule.status.progress', {
                pct: Math.round(p.fraction * 100),
                gap: p.best > 0 ? (((p.best - p.lowerBound) / p.best) * 100).toFixed(1) : '0',
              }),
            ),
          ),
      };
      const isEvent = typeof input === 'object' && input !== null && 'event' in input;
      const r = isEvent ? await planner.apply(input, opts) : await planner.planFrom(input as never, opts);
      if (jobs.closed) return; // cancelled by close: nothing to send
      shown.now(done(r));
      const { dispatch, gantt, ...plan } = r;
      send([
        { ...msg, payload: plan, schedule: { kpis: r.kpis, stability: r.stability, trigger: r.trigger } },
        { ...msg, payload: dispatch },
        { ...msg, payload: gantt },
      ]);
    };

    onInput<Msg>(
      this,
      (msg, send, done) => {
        jobs.run(
          (signal) => handle(msg, send as (m: (Msg | null)[]) => void, signal),
          (err) => {
            if (err) shown.now(errorStatus(err));
            done(err);
          },
        );
        return 'later';
      },
      shown,
    );

    onClose(
      this,
      () => shown.dispose(),
      () => jobs.close(),
    );
  }
  RED.nodes.registerType('takt-schedule', ScheduleNode);
};

export = init;
