/**
 * takt-guard: watches the plant's MQTT and OPC UA traffic for attacks (./detector). It taps a source
 * (the demo's embedded broker, the simulator's OPC UA server, another broker through a takt-mqtt-broker,
 * or events in messages), learns the first minutes as normal, then emits alerts (output 1, each appended
 * to a hash-chained audit log) and response proposals for takt-approve (output 2). It never blocks
 * traffic; an approved proposal sent back with msg.action "respond" is carried out where the source
 * allows it (the embedded broker).
 */
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { configReader, onClose, onInput, requireConfigNode, setUp } from '../core/adaptor';
import { AuditLog } from '../core/audit';
import { errorMessage, TaktError } from '../core/errors';
import { commandReader } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { onTapSources, tapSources } from '../core/taps';
import type { BrokerNode } from '../mqtt/broker-types';
import { createDetector } from './detector';
import { describeProposal, type Proposal, proposals, readEvents, RESPONSES } from './events';
import {
  type AedesLike,
  EventQueue,
  externalEvent,
  externalFilters,
  type OpcuaServerLike,
  type Tap,
  tapAedes,
  tapOpcuaServer,
} from './taps';
import type { GuardAlert, GuardEvent } from './types';

interface GuardDef extends NodeDef {
  source?: string;
  broker?: string;
  namespace?: string;
  learnMinutes?: string | number;
  window?: string | number;
  cooldown?: string | number;
  queue?: string | number;
}

const SOURCES = ['embedded', 'sim', 'broker', 'messages'] as const;

const init: NodeInitializer = (RED) => {
  function GuardNode(this: Node, def: GuardDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const source = cfg.choice('source', SOURCES, 'embedded');
      const connection =
        source === 'broker'
          ? requireConfigNode(RED.nodes.getNode(def.broker ?? '') as BrokerNode | null, (n) => n.connection, {
              feature: 'guard',
              field: 'broker',
              label: 'MQTT broker',
            })
          : undefined;
      const learnMs = cfg.number('learnMinutes', { min: 0.1, default: 10 }) * 60_000;
      const options = {
        windowMs: cfg.number('window', { min: 0.1, default: 5 }) * 1000,
        cooldownMs: cfg.number('cooldown', { min: 0, default: 60 }) * 1000,
      };
      createDetector(options); // checks the options now
      const namespace = cfg
        .string('namespace', '#')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const capacity = cfg.number('queue', { min: 10, integer: true, default: 10_000 });
      // refuses to start on a log whose chain is broken (audit.broken)
      const userDir = RED.settings.userDir ?? process.cwd();
      const audit = new AuditLog<GuardAlert>(join(userDir, 'takt', 'guard', `${this.id}-audit.jsonl`));
      return { source, connection, learnMs, options, namespace, capacity, audit };
    });
    if (!set) return;
    const { source, connection, learnMs, options, namespace, capacity, audit } = set;
    let detector = createDetector(options);
    const shown = throttledStatus((s) => this.status(s));
    const command = commandReader({ actions: ['learn', 'respond'] as const }, (t) => this.warn(t));
    let learnFrom: number | undefined;
    let lastAlert: string | undefined;
    let lastTs = 0;

    const show = () => {
      const q = queue.dropped ? ` (${queue.dropped} dropped)` : '';
      if (detector.status === 'learning' && learnFrom !== undefined) {
        const s = Math.max(0, Math.round((lastTs - learnFrom) / 1000));
        shown.update(status.busy(`learning ${Math.min(s, learnMs / 1000)}/${learnMs / 1000}${q}`));
      } else if (detector.status === 'watching')
        shown.update(lastAlert ? status.error(`alert ${lastAlert}${q}`) : status.ready(`watching${q}`));
      else shown.update(status.idle('waiting for traffic'));
    };
    const alert = (a: GuardAlert) => {
      lastAlert = a.type;
      audit.append(a, a.ts);
      this.send([
        { topic: `guard/${a.type}`, payload: `${a.type}: ${a.client || a.addr || '?'}`, guard: a },
        null,
      ]);
      for (const p of proposals(a))
        this.send([null, { topic: `guard/${p.action}`, payload: p, summary: describeProposal(p), guard: a }]);
    };
    const startLearning = (ts: number) => {
      learnFrom = ts;
      detector.beginTraining(ts + 0.7 * learnMs);
    };
    /** Ends learning once its time is up (by event time); a failed fit starts learning again at `now`. */
    const endLearningIfDue = (now: number) => {
      if (detector.status !== 'learning' || learnFrom === undefined || now < learnFrom + learnMs) return;
      try {
        detector.endTraining(learnFrom + learnMs);
        lastAlert = undefined;
      } catch (err) {
        this.warn(`learning again: ${errorMessage(err)}`);
        startLearning(now);
      }
    };
    const feed = (e: GuardEvent) => {
      lastTs = Math.max(lastTs, e.ts);
      if (detector.status === 'untrained') startLearning(e.ts);
      endLearningIfDue(e.ts);
      if (detector.status === 'learning') detector.learn(e);
      else for (const a of detector.observe(e)) alert(a);
    };
    const queue = new EventQueue((batch) => {
      try {
        for (const e of batch) feed(e);
      } catch (err) {
        this.error(errorMessage(err));
      }
      show();
    }, capacity);
    const sink = (e: GuardEvent) => queue.push(e);

    // the taps: attached as their sources come, released as they go
    const taps = new Map<string, Tap>();
    const sync = () => {
      const kind = source === 'embedded' ? 'aedes' : source === 'sim' ? 'opcua-server' : undefined;
      if (!kind) return;
      const now = tapSources(kind);
      for (const [name, tap] of taps)
        if (!now.some((s) => s.name === name)) {
          tap.close();
          taps.delete(name);
        }
      for (const s of now)
        if (!taps.has(s.name))
          taps.set(
            s.name,
            kind === 'aedes'
              ? tapAedes(s.target as AedesLike, sink)
              : tapOpcuaServer(s.target as OpcuaServerLike, sink),
          );
      if (taps.size === 0)
        shown.update(status.idle(source === 'sim' ? 'no simulator' : 'no embedded broker'));
    };
    const stopListening = onTapSources(sync);
    sync();
    if (connection)
      connection.subscribe(this, externalFilters(namespace), (topic, payload) => {
        const e = externalEvent(topic, payload, Date.now());
        if (e) sink(e);
      });
    // quiet traffic still closes windows, and ends learning on time
    const timer = setInterval(() => {
      if (source === 'messages') return;
      lastTs = Math.max(lastTs, Date.now());
      endLearningIfDue(lastTs);
      detector.tick(lastTs);
      show();
    }, 1000);
    show();

    onInput<{ action?: unknown; payload?: unknown }>(this, (msg) => {
      const action = command(msg);
      if (action === 'learn') {
        // learning starts again with the next event
        detector = createDetector(options);
        learnFrom = undefined;
        lastAlert = undefined;
        show();
        return;
      }
      if (action === 'respond') {
        const p = msg.payload as Proposal;
        if (!p || !(RESPONSES as readonly string[]).includes(p.action))
          throw new TaktError(
            'guard.badProposal',
            `payload: a proposal needs an action (${RESPONSES.join(', ')})`,
            'payload',
          );
        const done = [...taps.values()].some((t) => t.respond?.(p) === true);
        if (!done)
          throw new TaktError(
            'guard.cannotRespond',
            `${describeProposal(p)}: this source cannot do that`,
            'payload',
          );
        this.log(`done: ${describeProposal(p)}`);
        return;
      }
      for (const e of readEvents(msg.payload, Date.now())) sink(e);
    });

    onClose(this, () => {
      clearInterval(timer);
      stopListening();
      for (const t of taps.values()) t.close();
      queue.close();
      shown.dispose();
      return connection?.deregister(this);
    });
  }
  RED.nodes.registerType('takt-guard', GuardNode);
};

export = init;
