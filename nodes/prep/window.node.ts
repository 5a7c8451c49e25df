/**
 * takt-window: sliding or tumbling windows by count or time over sample values (one window per topic;
 * waveform arrays are taken element by element) or over feature rows. A thin adaptor around Windower.
 * Output: msg.payload = number[] (samples) or number[][] (rows: one vector per row), msg.window =
 * { key, start, end, count, names? }. Non-numeric sample values are skipped and counted (status).
 * Open windows are saved under the userDir on close and restored on redeploy (same settings only).
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readFeatureRows, readSamples } from '../core/message';
import { JsonStore, nodeStateFile } from '../core/state';
import { status, throttledStatus } from '../core/status';
import type { FeatureRow } from './types';
import { type Window, type WindowBy, Windower } from './windower';

interface WindowNodeDef extends NodeDef {
  by?: WindowBy;
  over?: 'samples' | 'rows';
  size?: string | number;
  hop?: string | number;
  maxItems?: string | number;
  perTopic?: boolean;
}

type Item = number | FeatureRow;
type Msg = NodeMessageInFlow & { ts?: unknown; quality?: unknown; action?: unknown };

const init: NodeInitializer = (RED) => {
  function WindowNode(this: Node, def: WindowNodeDef) {
    RED.nodes.createNode(this, def);
    const engine = setUp(this, () => {
      const cfg = configReader(def, { code: 'prep.badConfig' });
      return new Windower<Item>({
        by: cfg.choice<WindowBy>('by', ['count', 'time'], 'count'),
        size: cfg.number('size'),
        hop: cfg.optionalNumber('hop'),
        maxItems: cfg.optionalNumber('maxItems'),
      });
    });
    if (!engine) return;
    const command = commandReader({ actions: ['flush', 'reset'], code: 'prep.badAction' }, (t) =>
      this.warn(t),
    );
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const store = userDir
      ? new JsonStore<unknown>(nodeStateFile(userDir, 'prep-window', this.id))
      : undefined;
    try {
      if (store && engine.restore(store.load())) this.log(`open windows restored (${engine.keyCount})`);
    } catch (err) {
      this.warn((err as Error).message);
    }
    const rows = def.over === 'rows';
    const perTopic = def.perTopic !== false;
    let skipped = 0;
    const shown = throttledStatus((s) => this.status(s));
    const show = () => {
      const c = engine.counts;
      const bad = skipped + c.late + c.overflow;
      const text = `${c.windows} windows${bad ? ` ${bad} skip` : ''}`;
      return bad ? status.warning(text) : status.ready(text);
    };
    const toMsg = (msg: Msg, w: Window<Item>) => {
      const first = w.items[0] as FeatureRow;
      return {
        ...msg,
        topic: w.key || msg.topic,
        payload: rows ? w.items.map((r) => (r as FeatureRow).vector) : w.items,
        ts: w.end,
        window: {
          key: w.key,
          start: w.start,
          end: w.end,
          count: w.items.length,
          ...(rows ? { names: first.names } : {}),
        },
      };
    };

    onInput<Msg>(
      this,
      (msg, send) => {
        const now = Date.now();
        const out: Window<Item>[] = [];
        const action = command(msg);
        if (action === 'flush') out.push(...engine.flush());
        else if (action === 'reset') engine.reset();
        else if (rows) {
          // One feature row per message (from takt-align), its ts read by the one timestamp rule (core/message);
          // its per-feature quality stays with the row.
          const r = msg.payload as FeatureRow;
          if (typeof r !== 'object' || r === null || !Array.isArray(r.vector) || r.ts === undefined)
            throw new TaktError(
              'prep.badRow',
              'payload: expected a feature row with ts and vector (from takt-align)',
              'payload',
            );
          const ts = readFeatureRows(msg, { now }).rows[0].ts;
          out.push(
            ...engine.push(perTopic ? String(msg.topic ?? '') : '', ts === r.ts ? r : { ...r, ts }, ts),
          );
        } else {
          // Every sample read by the one reader (core/message); an unreadable one is kept marked and
          // skipped here (bad quality, or a value that is not a number), an unreadable ts taken as now.
          for (const s of readSamples(msg, { now, onBad: 'mark' })) {
            const key = perTopic ? s.topic : '';
            const ts = Number.isNaN(s.ts) ? now : s.ts;
            const v = s.value;
            if (s.quality === 'bad') skipped++;
            else if (typeof v === 'number' && Number.isFinite(v)) out.push(...engine.push(key, v, ts));
            else if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)))
              out.push(...engine.pushAll(key, v as number[], ts));
            else skipped++;
          }
        }
        if (out.length) send([out.map((w) => toMsg(msg, w))] as never);
        shown.update(show);
      },
      shown,
    );

    this.on('close', (removed: boolean, done: () => void) => {
      shown.dispose();
      try {
        if (removed) store?.remove();
        else store?.save(engine.snapshot());
      } catch (err) {
        this.warn(`open windows not saved: ${(err as Error).message}`);
      }
      done();
    });
  }
  RED.nodes.registerType('takt-window', WindowNode);
};

export = init;
