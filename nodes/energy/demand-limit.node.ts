/**
 * takt-demand-limit: live demand limiter. Thin adaptor over DemandLimiter (limiter.ts).
 *
 * In: msg.payload = plant power in kW (number), msg.ts = sample time (core/message rule: epoch ms,
 * epoch s, ISO text; default now), msg.quality "bad" skips the sample; msg.action "reset" (old spelling
 * msg.reset) clears the interval state. Out: shed/defer/restore commands, one message per command, on
 * output 1 (to a human-approval step) or output 2 (direct write), as configured.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readSample, type SampleMessage, type ValueReader } from '../core/message';
import { status } from '../core/status';
import { DemandLimiter, type LimiterLoad } from './limiter';

interface DemandLimitDef extends NodeDef {
  intervalMin?: string | number;
  limitKw?: string | number;
  marginKw?: string | number;
  loads?: string;
  route?: 'approval' | 'direct';
}
type Msg = SampleMessage & Record<string, unknown>;

const kw: ValueReader<number> = (v, field) => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new TaktError(
    'energy.badSample',
    `${field}: must be the plant power in kW, got ${JSON.stringify(v)}`,
    field,
  );
};

const init: NodeInitializer = (RED) => {
  function DemandLimitNode(this: Node, def: DemandLimitDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const marginKw = cfg.optionalNumber('marginKw');
      const limiter = new DemandLimiter({
        intervalMs: cfg.duration('intervalMin', { unit: 'min', default: 15 }),
        limitKw: cfg.number('limitKw'),
        ...(marginKw !== undefined ? { marginKw } : {}),
        loads: cfg.json<LimiterLoad[]>('loads', []),
      });
      return { limiter, direct: cfg.choice('route', ['approval', 'direct'], 'approval') === 'direct' };
    });
    if (!set) return;
    const { limiter, direct } = set;
    const command = commandReader({ actions: ['reset'], flags: { reset: 'reset' } }, (t) => this.warn(t));
    this.status(status.idle(RED._('demand-limit.status.idle')));

    onInput<Msg>(this, (msg, send) => {
      if (command(msg) === 'reset') {
        limiter.reset();
        this.status(status.idle(RED._('demand-limit.status.idle')));
        return;
      }
      const s = readSample(msg, { now: Date.now(), value: kw });
      if (s.quality === 'bad') return;
      const cmds = limiter.push(s.ts, s.value);
      const shed = limiter.shed.length;
      const text = RED._('demand-limit.status.projected', { kw: limiter.projectedKw.toFixed(0), shed });
      this.status(shed > 0 ? status.warning(text) : status.ready(text));
      if (cmds.length) {
        const out = cmds.map((c) => ({ topic: c.load, payload: c, _msgid: RED.util.generateId() }));
        send(direct ? [null, out] : [out, null]);
      }
    });
  }
  RED.nodes.registerType('takt-demand-limit', DemandLimitNode);
};

export = init;
