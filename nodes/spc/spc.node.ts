/**
 * takt-spc: statistical process control on a stream of samples. A thin adaptor around SpcMonitor
 * (monitor.ts): reads config and msg, persists frozen limits under the userDir, sets status.
 * Outputs: 1 every point (msg.spc, payload as it came), 2 alarms only (payload = readable text),
 * 3 run-to-run adjustment proposals (payload = proposed setpoint), for a human approval step.
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { errorMessage, TaktError } from '../core/errors';
import { commandReader, readSample } from '../core/message';
import { JsonStore, nodeStateFile } from '../core/state';
import { logWorthy, status, throttledStatus } from '../core/status';
import { patternModelPath, type SpcNodeDef, toMonitorConfig } from './config';
import { chartTraits } from './kinds/registry';
import {
  MAX_GROUP_VALUES,
  type MonitorState,
  SpcMonitor,
  type SpcEvent,
  type SpcSampleIn,
  withPattern,
} from './monitor';
import { OnnxPatternClassifier } from './patterns';

type Msg = NodeMessageInFlow & {
  ts?: unknown;
  quality?: unknown;
  size?: unknown;
  action?: unknown;
  setpoint?: unknown;
};

const ACTIONS = ['reset', 're-estimate', 'setpoint'] as const;

const init: NodeInitializer = (RED) => {
  function SpcNode(this: Node, def: SpcNodeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def, { code: 'spc.badConfig' });
      return {
        monitor: new SpcMonitor(toMonitorConfig(def)),
        property: cfg.string('property', 'payload'),
        groupField: cfg.string('groupField', 'batch'),
      };
    });
    if (!set) return;
    const { monitor, property, groupField } = set;
    const shown = throttledStatus((s) => this.status(s));
    const command = commandReader({ actions: ACTIONS, code: 'spc.badAction' }, (t) => this.warn(t));
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const store = userDir ? new JsonStore<MonitorState>(nodeStateFile(userDir, 'spc', this.id)) : undefined;
    try {
      if (store && monitor.loadState(store.load())) this.log(RED._('spc.log.restored'));
    } catch (err) {
      this.warn((err as Error).message);
    }
    let skipped = 0;
    // Points that went out without a pattern because the classifier's queue was full (patterns.ts
    // MAX_QUEUED_WINDOWS): counted here, shown in the status, logged at the 1st, 10th, 100th, ...
    let unclassified = 0;
    const of = monitor.config.phaseOne;
    let shownKey = '';
    const showState = (ooc?: readonly number[]) => {
      if (monitor.state === 'collecting') {
        shownKey = 'collecting';
        shown.update(() =>
          status.connecting(RED._('spc.status.collecting', { n: monitor.collectedCount, of })),
        );
      } else if (ooc && ooc.length) {
        const rule = ooc.join(',');
        if (shownKey === rule) return;
        shownKey = rule;
        shown.update(() => status.error(RED._('spc.status.ooc', { rule })));
      } else if (unclassified > 0) {
        const key = `unclassified ${unclassified}`;
        if (shownKey === key) return;
        shownKey = key;
        const count = unclassified;
        shown.update(() => status.warning(RED._('spc.status.unclassified', { count })));
      } else if (shownKey !== 'ok') {
        shownKey = 'ok';
        shown.update(() => status.ready(RED._('spc.status.inControl')));
      }
    };
    showState();

    // Pattern recognition: the model loads once; a missing or bad model is reported and the chart goes on
    // without patterns. Classification is asynchronous, so with it on, points are sent through a promise
    // chain that keeps them in arrival order (the window itself is taken when the sample arrives).
    const modelPath = patternModelPath(def);
    let patternN = 200; // until the model has loaded, hand over the whole history; classify keeps its window
    const patterns =
      modelPath === undefined
        ? undefined
        : OnnxPatternClassifier.load(modelPath || undefined).then(
            (c) => {
              patternN = c.window;
              return c;
            },
            (err: unknown) => {
              this.error(`pattern recognition off: ${errorMessage(err)}`);
              return undefined;
            },
          );
    let tail: Promise<void> = Promise.resolve();

    onInput<Msg>(
      this,
      (msg, send, done) => {
        const action = command(msg);
        if (action !== undefined) {
          if (action === 'reset') {
            monitor.reset();
            store?.remove();
          } else if (action === 're-estimate') {
            monitor.reestimate(Date.now());
            store?.save(monitor.saveState() as MonitorState);
          } else {
            const sp = msg.setpoint;
            if (typeof sp !== 'number' || !Number.isFinite(sp)) {
              throw new TaktError(
                'spc.badSetpoint',
                'setpoint: msg.setpoint must be a finite number',
                'setpoint',
              );
            }
            monitor.acceptSetpoint(sp);
          }
          shownKey = '';
          showState();
          return;
        }
        // The sample contract (core/message): msg.ts by the one timestamp rule, msg.quality honoured.
        const sample = readSample(
          {
            topic: msg.topic,
            payload: property === 'payload' ? msg.payload : RED.util.getMessageProperty(msg, property),
            ts: msg.ts,
            quality: msg.quality,
          },
          { now: Date.now() },
        );
        if (sample.quality === 'bad') {
          skipped++;
          shownKey = 'skipped';
          shown.update(() => status.warning(RED._('spc.status.skipped', { count: skipped })));
          return;
        }
        const byField = monitor.config.grouping === 'field';
        const key = byField ? (RED.util.getMessageProperty(msg, groupField) as unknown) : undefined;
        const size = typeof msg.size === 'number' ? msg.size : undefined;
        const input: SpcSampleIn = { value: sample.value, ts: sample.ts };
        if (size !== undefined) input.size = size;
        if (key !== undefined) input.key = String(key);
        const splits = monitor.splitGroups;
        const ev = monitor.push(input);
        if (monitor.splitGroups > splits && logWorthy(monitor.splitGroups))
          this.warn(
            `${monitor.splitGroups} subgroups closed early: a group reached ${MAX_GROUP_VALUES} values`,
          );
        if (ev?.frozen && store) {
          try {
            store.save(monitor.saveState() as MonitorState);
          } catch (err) {
            this.warn(`frozen limits not saved: ${(err as Error).message}`);
          }
        }
        if (!ev) {
          showState();
          return;
        }
        const deliver = (e: SpcEvent) => {
          const out = msg as Msg & { spc: unknown };
          out.spc = e;
          const alarm = e.alarms.length
            ? {
                ...msg,
                _msgid: msg._msgid,
                payload: e.alarms.map((a) => a.text).join('; '),
                alarms: e.alarms,
                spc: e,
              }
            : null;
          const r2r = e.r2r ? { ...msg, payload: e.r2r.setpoint, r2r: e.r2r, spc: e } : null;
          showState(e.alarms.length ? e.alarms.map((a) => a.rule) : e.violations);
          send(alarm || r2r ? [out, alarm, r2r] : out);
        };
        if (!patterns) {
          deliver(ev);
          return;
        }
        const z = ev.phase === 2 ? monitor.patternWindow(patternN) : undefined;
        const verdict = z
          ? patterns.then((c) => (c && z.length >= c.window ? c.classify(z) : undefined))
          : undefined;
        verdict?.catch(() => undefined); // handled in the chain below; never an unhandled rejection meanwhile
        tail = tail.then(async () => {
          try {
            const r = verdict ? await verdict : undefined;
            if (r) withPattern(ev, r);
          } catch (err) {
            if ((err as { code?: unknown }).code === 'spc.patternBusy') {
              unclassified++;
              if (logWorthy(unclassified))
                this.warn(`${unclassified} points not classified: ${errorMessage(err)}`);
            } else this.warn(`pattern not classified: ${errorMessage(err)}`);
          }
          try {
            deliver(ev);
            done();
          } catch (err) {
            done(err as Error);
          }
        });
        return 'later';
      },
      shown,
    );

    this.on('close', (removed: boolean, done: () => void) => {
      shown.dispose();
      if (removed) store?.remove();
      if (!patterns) return done();
      tail
        .then(() => patterns)
        .then((c) => c?.dispose())
        .then(
          () => done(),
          () => done(),
        );
    });
  }
  RED.nodes.registerType('takt-spc', SpcNode);

  // The chart kinds and what each supports (kinds/registry.ts), for the editor: it shows a kind's fields
  // from these traits instead of keeping its own lists of chart names.
  RED.httpAdmin.get('/takt-spc/charts', RED.auth.needsPermission('takt-spc.read'), (_req, res) => {
    res.json(chartTraits());
  });
};

export = init;
