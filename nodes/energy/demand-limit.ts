/**
 * takt-demand-limit: live demand limiter. Thin adaptor over DemandLimiter (limiter.ts).
 *
 * In: msg.payload = plant power in kW (number), msg.ts = sample time (epoch ms, default now);
 * msg.reset clears the interval state. Out: shed/defer/restore commands, one message per command,
 * on output 1 (to a human-approval step) or output 2 (direct write), as configured.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status } from '../core/status';
import { DemandLimiter, type LimiterLoad } from './limiter';

interface DemandLimitDef extends NodeDef {
  intervalMin?: string | number;
  limitKw?: string | number;
  marginKw?: string | number;
  loads?: string;
  route?: 'approval' | 'direct';
}
type Msg = NodeMessageInFlow & { reset?: unknown; ts?: unknown };

const init: NodeInitializer = (RED) => {
  function DemandLimitNode(this: Node, def: DemandLimitDef) {
    RED.nodes.createNode(this, def);
    let limiter: DemandLimiter | null = null;
    let setupError: Error | null = null;
    try {
      const loads = JSON.parse(def.loads || '[]') as LimiterLoad[];
      limiter = new DemandLimiter({
        intervalMs: Number(def.intervalMin ?? 15) * 60000,
        limitKw: Number(def.limitKw),
        ...(def.marginKw !== undefined && def.marginKw !== '' ? { marginKw: Number(def.marginKw) } : {}),
        loads,
      });
      this.status(status.idle(RED._('demand-limit.status.idle')));
    } catch (err) {
      setupError = err as Error;
      this.error(RED._('demand-limit.errors.config', { error: setupError.message }));
      this.status(errorStatus(err));
    }
    const direct = def.route === 'direct';

    this.on('input', (msg: Msg, send, done) => {
      if (!limiter) return done(setupError ?? new Error('not configured'));
      try {
        if (msg.reset) {
          limiter.reset();
          this.status(status.idle(RED._('demand-limit.status.idle')));
          return done();
        }
        const kw = typeof msg.payload === 'number' ? msg.payload : Number.NaN;
        if (!Number.isFinite(kw))
          throw new TaktError(
            'energy.badSample',
            `msg.payload must be the plant power in kW, got ${JSON.stringify(msg.payload)}`,
          );
        const ts = typeof msg.ts === 'number' ? msg.ts : Date.now();
        const cmds = limiter.push(ts, kw);
        const shed = limiter.shed.length;
        const text = RED._('demand-limit.status.projected', { kw: limiter.projectedKw.toFixed(0), shed });
        this.status(shed > 0 ? status.warning(text) : status.ready(text));
        if (cmds.length) {
          const out = cmds.map((c) => ({ topic: c.load, payload: c, _msgid: RED.util.generateId() }));
          send(direct ? [null, out] : [out, null]);
        }
        done();
      } catch (err) {
        this.status(errorStatus(err));
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('takt-demand-limit', DemandLimitNode);
};

export = init;
