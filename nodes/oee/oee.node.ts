/**
 * takt-oee: OEE per machine and shift from the plant's samples (machine state and part counters):
 * live values every few seconds on output 1, a record per machine at every shift end on output 2.
 * Samples and commands are read by core/message; config and the node's life by core/adaptor.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { commandReader, readSamples, type SampleMessage } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { DEFAULT_TAGS, OeePlant, type OeeRecord, type ShiftCalendar } from './oee';

interface OeeDef extends NodeDef {
  shifts?: string;
  breaks?: string;
  utcOffsetMin?: string | number;
  timeZone?: string;
  minorStopS?: string | number;
  startupMin?: string | number;
  liveInterval?: string | number;
}
type Msg = SampleMessage & Record<string, unknown>;

const init: NodeInitializer = (RED) => {
  function Oee(this: Node, def: OeeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const calendar: ShiftCalendar = {
        shifts: cfg.json(
          'shifts',
          [{ name: 'shift', start: '00:00', end: '00:00' }],
          undefined,
          '[{"name":"early","start":"06:00","end":"14:00"}]',
        ),
        breaks: cfg.json('breaks', []),
        utcOffsetMin: cfg.number('utcOffsetMin', { default: 0 }),
        timeZone: cfg.string('timeZone', ''),
      };
      const plant = new OeePlant(
        {
          calendar,
          minorStopS: cfg.number('minorStopS', { default: 300, min: 0 }),
          startupMin: cfg.number('startupMin', { default: 10, min: 0 }),
        },
        DEFAULT_TAGS,
      );
      return { plant, everyMs: cfg.duration('liveInterval', { unit: 's', default: 10, minMs: 1 }) };
    });
    if (!set) return;
    const { plant, everyMs } = set;
    const command = commandReader({ actions: ['report'] }, (t) => this.warn(t));
    const shown = throttledStatus((s) => this.status(s));
    const toMsg = (r: OeeRecord) => ({ topic: `${r.machine}/oee`, payload: r });
    const showLive = (records: OeeRecord[]) =>
      shown.update(() => {
        if (records.length === 0) return status.idle('no shift data');
        const avg = records.reduce((s, r) => s + r.oee, 0) / records.length;
        return status.ready(`${records.length} machines ${(avg * 100).toFixed(0)}%`);
      });
    const emitLive = () => {
      const live = plant.live();
      if (live.length) this.send([live.map(toMsg), null]);
      showLive(live);
    };
    const timer = setInterval(emitLive, everyMs);

    onInput<Msg>(
      this,
      (msg, send) => {
        if (command(msg) === 'report') return emitLive();
        // Every sample is tried (in time order, bad-quality ones skipped); the first unreadable one is
        // reported after the rest went in.
        const items = readSamples(msg, { now: Date.now(), onBad: 'mark' });
        const firstError = items.find((s) => s.error)?.error;
        const usable = items.filter((s) => !s.error && s.quality !== 'bad').sort((a, b) => a.ts - b.ts);
        const closed: OeeRecord[] = [];
        let engineError: unknown;
        for (const s of usable) {
          try {
            closed.push(...plant.ingest(s.topic, s.value, s.ts));
          } catch (err) {
            engineError ??= err;
          }
        }
        if (closed.length) send([null, closed.map(toMsg)]);
        if (firstError ?? engineError) throw firstError ?? engineError;
      },
      shown,
    );

    onClose(
      this,
      () => clearInterval(timer),
      () => shown.dispose(),
    );
  }
  RED.nodes.registerType('takt-oee', Oee);
};

export = init;
