/**
 * takt-tune: adaptive control of a machine's setpoints (engine: tune.ts). Each part's row (quality
 * characteristic, energy, drift context, and the setpoints in force when the row has them) goes in; the
 * proposed setpoints for the next part come out as a write list `[{ item, value }]` for takt-opcua-write (or
 * takt-sim's `write` action): on output 1 when every value lies in the engineer's pre-approved trust region
 * (applied at once), otherwise on output 2 for takt-approve. takt-approve's decisions wired back in tell the
 * tuner what is in force. Never outside the bounds, never more than the step limit, and back towards the last
 * good setpoint when the quality signal is missing or bad (status "fallback: no quality").
 *
 * What it learned (the model, the setpoints in force, the last good setpoint, the counters) is kept in
 * `<userDir>/takt/tune/<node id>.json` (core/state: written atomically, at most once a second and on close), so
 * a restart or redeploy continues where it stopped; removing the node deletes it. A file that cannot be read, or one learned for other
 * setpoints, target, tolerance or context, is reported with a warning and the tuner starts fresh.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readFeatureRows, type Quality } from '../core/message';
import { JsonStore, nodeStateFile } from '../core/state';
import { status, throttledStatus } from '../core/status';
import { type TuneProposal, Tuner, type TunerState, type TuneSetpoint } from './tune';

/** Least time between two saves of the tuner's state (ms); the last one is written on close. */
const SAVE_EVERY_MS = 1000;

interface TuneDef extends NodeDef {
  setpoints: string;
  target: string | number;
  tolerance: string | number;
  quality: string;
  energy?: string;
  context?: string;
  energyWeight?: string | number;
  resendParts?: string | number;
}

/** A setpoint as configured: the engine's fields, the write target and the row feature that reports it. */
interface NodeSetpoint extends TuneSetpoint {
  /** What takt-opcua-write writes to (an OPC UA item or browse path); default the name. */
  item?: string;
  /** The row feature that carries the setpoint in force; default the name. */
  feature?: string;
}

type Msg = NodeMessageInFlow & {
  action?: unknown;
  approval?: { outcome?: unknown };
  tune?: { setpoints?: unknown };
};

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

const fmt = (x: number) => String(Number(x.toPrecision(6)));

const init: NodeInitializer = (RED) => {
  function TuneNode(this: Node, def: TuneDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const setpoints = cfg.json<NodeSetpoint[]>('setpoints', undefined, (v) =>
        Array.isArray(v) ? undefined : 'must be a JSON list of setpoints',
      );
      const tuner = new Tuner({
        setpoints,
        target: cfg.number('target'),
        tolerance: cfg.number('tolerance', { min: 0, exclusiveMin: true }),
        context: cfg.list('context', { default: [] }),
        energyWeight: cfg.number('energyWeight', { default: 0.01, min: 0 }),
      });
      return {
        tuner,
        setpoints,
        quality: cfg.string('quality'),
        energy: cfg.string('energy', ''),
        context: cfg.list('context', { default: [] }),
        resend: cfg.number('resendParts', { default: 50, min: 1, integer: true }),
      };
    });
    if (!set) return;
    const { tuner, setpoints } = set;
    const store = new JsonStore<{ tuner: TunerState }>(
      nodeStateFile(RED.settings.userDir ?? process.cwd(), 'tune', this.id),
    );
    try {
      const saved = store.load();
      if (saved !== undefined) tuner.restore(saved.tuner);
    } catch (err) {
      this.warn(`${(err as Error).message}: starting fresh`);
    }
    let lastSave = 0;
    let unsaved = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const save = () => {
      timer = undefined;
      lastSave = Date.now();
      unsaved = false;
      try {
        store.save({ tuner: tuner.state() });
      } catch (err) {
        this.warn(`state not saved: ${(err as Error).message}`);
      }
    };
    /** Saves now, or once SAVE_EVERY_MS has passed since the last save. */
    const changed = () => {
      unsaved = true;
      if (timer) return;
      const wait = lastSave + SAVE_EVERY_MS - Date.now();
      if (wait <= 0) save();
      else timer = setTimeout(save, wait);
    };
    const command = commandReader({ actions: ['applied', 'reset'], code: 'tune.badAction' }, (t) =>
      this.warn(t),
    );
    /** Parts since a proposal went to approval (undefined: none waiting). */
    let waiting: number | undefined;
    this.status(status.idle(RED._('tune.status.waiting')));

    const show = (p: TuneProposal) =>
      shown.update(() =>
        p.mode === 'fallback'
          ? status.warning(
              RED._(p.reason === 'bad quality' ? 'tune.status.badQuality' : 'tune.status.noQuality'),
            )
          : waiting !== undefined
            ? status.busy(RED._('tune.status.approval', { n: p.parts }))
            : status.ready(
                RED._(p.mode === 'probe' ? 'tune.status.probing' : 'tune.status.tuning', { n: p.parts }),
              ),
      );

    const outMsg = (p: TuneProposal, msg: Msg) => {
      const changes = setpoints
        .map((s, i) => ({ s, i }))
        .filter(({ i }) => p.change[i] !== 0)
        .map(({ s, i }) => `${s.name} ${fmt(p.current[i])} → ${fmt(p.values[i])}`);
      const pred = p.predicted ? ` (predicted ${fmt(p.predicted.quality)} ± ${fmt(2 * p.predicted.sd)})` : '';
      return {
        ...msg,
        topic: def.name || msg.topic || 'takt-tune',
        payload: setpoints.map((s, i) => ({ item: s.item ?? s.name, value: p.values[i] })),
        tune: p,
        summary: `${def.name || 'tune'}: ${changes.join(', ')}${p.mode === 'fallback' ? ` [fallback: ${p.reason}]` : pred}`,
      };
    };

    onInput<Msg>(
      this,
      (msg, send) => {
        // A decision from takt-approve coming back: what is in force now.
        if (isRecord(msg.approval) && isRecord(msg.tune)) {
          if (msg.approval.outcome === 'approved' && isRecord(msg.tune.setpoints)) {
            tuner.applied(msg.tune.setpoints);
            changed();
          }
          waiting = undefined;
          return;
        }
        const action = command(msg);
        if (action === 'applied') {
          if (!isRecord(msg.payload))
            throw new TaktError('tune.badApplied', 'payload: give the setpoints in force by name', 'payload');
          tuner.applied(msg.payload);
          changed();
          waiting = undefined;
          return;
        }
        if (action === 'reset') {
          waiting = undefined;
          return;
        }
        const { rows } = readFeatureRows(msg, { now: Date.now(), onBad: 'mark' });
        let last: TuneProposal | undefined;
        for (const row of rows) {
          if (row.error) throw row.error;
          if (Array.isArray(row.features))
            throw new TaktError('tune.badRow', 'payload: a row with named features is needed', 'payload');
          const f = row.features as Record<string, unknown>;
          const src = isRecord(row.source) ? row.source : {};
          const fq = isRecord(src.quality) ? src.quality[set.quality] : undefined;
          const qual: Quality =
            row.quality === 'bad' || fq === 'bad' || fq === 'missing' ? 'bad' : row.quality;
          const inForce: Record<string, unknown> = {};
          let reported = false;
          for (const s of setpoints) {
            const v = f[s.feature ?? s.name];
            if (typeof v === 'number') {
              inForce[s.name] = v;
              reported = true;
            }
          }
          const context: Record<string, unknown> = {};
          for (const c of set.context) context[c] = f[c];
          last = tuner.observe({
            quality: f[set.quality],
            status: qual,
            ...(set.energy ? { energy: f[set.energy] } : {}),
            context,
            ...(reported ? { setpoints: inForce } : {}),
          });
          changed();
          if (waiting !== undefined && ++waiting > set.resend) waiting = undefined;
        }
        if (!last) return;
        if (last.change.every((c) => c === 0)) return show(last);
        if (last.withinTrust) {
          tuner.applied(last.values);
          changed();
          send([outMsg(last, msg), null]);
        } else if (waiting === undefined) {
          waiting = 0;
          send([null, outMsg(last, msg)]);
        }
        show(last);
      },
      shown,
    );
    onClose(this, (removed) => {
      shown.dispose();
      if (timer) clearTimeout(timer);
      // A removed node's learning goes with it; a redeploy or restart keeps it.
      if (removed) store.remove();
      else if (unsaved) save();
    });
  }
  RED.nodes.registerType('takt-tune', TuneNode);
};

export = init;
