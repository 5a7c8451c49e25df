/**
 * takt-oee: OEE per machine and shift from the plant's samples (machine state and part counters):
 * live values every few seconds on output 1, a record per machine at every shift end on output 2.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { errorMessage, TaktError } from '../core/errors';
import { isBatch } from '../core/sample';
import { errorStatus, status, throttledStatus } from '../core/status';
import { DEFAULT_TAGS, OeePlant, type OeeRecord, type ShiftCalendar } from './oee';

interface OeeDef extends NodeDef {
  shifts?: string;
  breaks?: string;
  utcOffsetMin?: string | number;
  minorStopS?: string | number;
  startupMin?: string | number;
  liveInterval?: string | number;
}
type Msg = NodeMessageInFlow & { ts?: unknown; action?: unknown };

function json<T>(text: string | undefined, field: string, dflt: T): T {
  if (!text || !text.trim()) return dflt;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TaktError(
      'oee.badConfig',
      `${field} must be JSON, e.g. [{"name":"early","start":"06:00","end":"14:00"}]`,
      field,
    );
  }
}

const init: NodeInitializer = (RED) => {
  function Oee(this: Node, def: OeeDef) {
    RED.nodes.createNode(this, def);
    let plant: OeePlant;
    try {
      const calendar: ShiftCalendar = {
        shifts: json(def.shifts, 'shifts', [{ name: 'shift', start: '00:00', end: '00:00' }]),
        breaks: json(def.breaks, 'breaks', []),
        utcOffsetMin: Number(def.utcOffsetMin) || 0,
      };
      plant = new OeePlant(
        { calendar, minorStopS: Number(def.minorStopS) || 300, startupMin: Number(def.startupMin) || 10 },
        DEFAULT_TAGS,
      );
    } catch (err) {
      this.status(errorStatus(err));
      this.error(errorMessage(err));
      this.on('input', (_m, _s, done) => done(err as Error));
      return;
    }
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
    const everyMs = (Number(def.liveInterval) || 10) * 1000;
    const timer = setInterval(emitLive, everyMs);

    this.on('input', (msg: Msg, send, done) => {
      try {
        if (msg.action === 'report') {
          emitLive();
          return done();
        }
        const items = isBatch(msg.payload)
          ? (msg.payload as { topic?: unknown; value: unknown; ts?: unknown }[]).map((s) => ({
              topic: String(s.topic ?? msg.topic ?? ''),
              value: s.value,
              ts: Number(s.ts ?? Date.now()),
            }))
          : [{ topic: String(msg.topic ?? ''), value: msg.payload, ts: Number(msg.ts ?? Date.now()) }];
        // Every sample is tried (in time order); the first bad one is reported after the rest went in.
        items.sort((a, b) => a.ts - b.ts);
        const closed: OeeRecord[] = [];
        let firstError: unknown;
        for (const s of items) {
          try {
            closed.push(...plant.ingest(s.topic, s.value, s.ts));
          } catch (err) {
            firstError ??= err;
          }
        }
        if (closed.length) send([null, closed.map(toMsg)]);
        if (firstError) throw firstError;
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(timer);
      shown.dispose();
      done();
    });
  }
  RED.nodes.registerType('takt-oee', Oee);
};

export = init;
