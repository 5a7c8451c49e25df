/**
 * takt-sim: runs the plant simulator inside Node-RED, serving OPC UA (and Sparkplug B when a broker is
 * set), emitting the plant's samples and the ground truth of every fault. Faults come in as messages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader } from '../core/message';
import { status, errorStatus } from '../core/status';
import { publishTapSource, withdrawTapSource } from '../core/taps';
import { DEFAULT_PLANT, parsePlantModel, type PlantModel } from './model';
import { SimRunner } from './runner';
import { SampleTracker } from './samples';

interface SimNodeDef extends NodeDef {
  plantFile?: string;
  seed?: string | number;
  timeFactor?: string | number;
  faultsPerDay?: string | number;
  opcuaPort?: string | number;
  opcuaHost?: string;
  allowAnonymous?: boolean;
  mqttUrl?: string;
  groupId?: string;
  edgeNodeId?: string;
  outputMode?: 'batch' | 'messages';
}
interface SimCredentials {
  user?: string;
  password?: string;
}

const init: NodeInitializer = (RED) => {
  function SimNode(this: Node<SimCredentials>, def: SimNodeDef) {
    RED.nodes.createNode(this, def);
    const userDir: string = RED.settings.userDir ?? process.cwd();
    const runner = setUp(
      this,
      () => {
        const cfg = configReader(def);
        const model: PlantModel = def.plantFile
          ? parsePlantModel(JSON.parse(readFileSync(def.plantFile, 'utf8')))
          : DEFAULT_PLANT;
        const port = cfg.number('opcuaPort', { default: 4840, min: 0, max: 65535 });
        const creds = this.credentials ?? {};
        return new SimRunner(model, {
          seed: cfg.number('seed', { default: 1, min: 0, max: 2 ** 32 - 1 }),
          timeFactor: cfg.number('timeFactor', { default: 1, min: 1, max: 3600 }),
          faultsPerDay: cfg.number('faultsPerDay', { default: 0, min: 0, max: 1000 }),
          groundTruthFile: join(userDir, 'takt', 'sim', `${this.id}-ground-truth.jsonl`),
          opcua: port
            ? {
                port,
                host: def.opcuaHost || '127.0.0.1',
                pkiDir: join(userDir, 'takt', 'sim', 'pki'),
                allowAnonymous: def.allowAnonymous !== false,
                users: creds.user && creds.password ? [{ user: creds.user, password: creds.password }] : [],
              }
            : undefined,
          sparkplug: def.mqttUrl
            ? {
                url: def.mqttUrl,
                groupId: def.groupId || 'Takt',
                edgeNodeId: def.edgeNodeId || model.lines[0].id,
              }
            : undefined,
        });
      },
      { inputError: (err) => new Error(`takt-sim is not configured: ${err.message}`) },
    );
    if (!runner) return;
    const command = commandReader({ actions: ['inject', 'clear'], code: 'sim.badAction' }, (t) =>
      this.warn(t),
    );
    const tracker = new SampleTracker(runner.sim);
    const batch = def.outputMode !== 'messages';
    const where = runner.opcua ? `:${def.opcuaPort || 4840}` : '';
    const show = () => {
      const active = runner.sim.groundTruth.filter((f) => f.end === undefined).length;
      this.status(
        active
          ? status.warning(`${runner.timeFactor}x ${active} fault${active > 1 ? 's' : ''}`)
          : status.ready(`${runner.timeFactor}x ${where}`),
      );
    };
    runner.on('tick', (r) => {
      const samples = tracker.collect(r);
      if (samples.length === 0) return;
      if (batch) this.send([{ topic: runner.sim.model.lines[0].id, payload: samples }, null]);
      else
        this.send([
          samples.map((s) => ({ topic: s.topic, payload: s.value, ts: s.ts, quality: s.quality })),
          null,
        ]);
    });
    runner.on('fault', (e) => {
      this.send([
        null,
        { topic: `takt/sim/ground-truth/${e.fault.machine}`, payload: { event: e.event, ...e.fault } },
      ]);
      show();
    });
    runner.on('warning', (err) => this.warn(err.message));
    this.status(status.connecting('starting'));
    // takt-guard may watch this OPC UA server while it runs (core/taps.ts)
    const tapName = `takt-sim:${this.id}`;
    const started = runner.start().then(
      () => {
        const target = runner.opcua?.uaServer;
        if (target) publishTapSource({ name: tapName, kind: 'opcua-server', target });
        show();
      },
      (err: Error) => {
        this.status(
          err instanceof TaktError && err.code === 'sim.portInUse'
            ? status.disconnected('port in use')
            : errorStatus(err),
        );
        this.error(err.message);
      },
    );

    onInput<NodeMessageInFlow & { action?: unknown }>(this, (msg) => {
      const p = (msg.payload ?? {}) as { machine?: unknown; kind?: unknown; severity?: unknown };
      const action = command(msg);
      if (action === 'inject')
        runner.inject(String(p.machine), String(p.kind), Number(p.severity), 'message');
      else if (action === 'clear')
        runner.clear(p.machine === undefined || p.machine === '' ? undefined : String(p.machine));
      else throw new TaktError('sim.badAction', 'action: msg.action must be one of inject, clear', 'action');
      show();
    });

    onClose(this, () => started.finally(() => (withdrawTapSource(tapName), runner.stop())));
  }
  RED.nodes.registerType<Node<SimCredentials>, SimNodeDef, unknown, SimCredentials>('takt-sim', SimNode, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};

export = init;
