/**
 * takt-sim: runs the plant simulator inside Node-RED, serving OPC UA (and Sparkplug B when a broker is
 * set), emitting the plant's samples and the ground truth of every fault. Faults come in as messages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { status, errorStatus } from '../core/status';
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

function int(v: unknown, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new TaktError('sim.badConfig', `${name} must be ${min}..${max}, got "${String(v)}"`, name);
  return n;
}

const init: NodeInitializer = (RED) => {
  function SimNode(this: Node<SimCredentials>, def: SimNodeDef) {
    RED.nodes.createNode(this, def);
    const userDir: string = RED.settings.userDir ?? process.cwd();
    let runner: SimRunner;
    try {
      const model: PlantModel = def.plantFile
        ? parsePlantModel(JSON.parse(readFileSync(def.plantFile, 'utf8')))
        : DEFAULT_PLANT;
      const port = int(def.opcuaPort, 'opcuaPort', 0, 65535, 4840);
      const creds = this.credentials ?? {};
      runner = new SimRunner(model, {
        seed: int(def.seed, 'seed', 0, 2 ** 32 - 1, 1),
        timeFactor: int(def.timeFactor, 'timeFactor', 1, 3600, 1),
        faultsPerDay: int(def.faultsPerDay, 'faultsPerDay', 0, 1000, 0),
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
    } catch (err) {
      this.status(errorStatus(err));
      this.error(err);
      this.on('input', (_msg, _send, done) =>
        done(new Error(`takt-sim is not configured: ${(err as Error).message}`)),
      );
      return;
    }
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
    const started = runner.start().then(show, (err: Error) => {
      this.status(
        err instanceof TaktError && err.code === 'sim.portInUse'
          ? status.disconnected('port in use')
          : errorStatus(err),
      );
      this.error(err.message);
    });

    this.on('input', (msg: NodeMessageInFlow & { action?: unknown }, _send, done) => {
      try {
        const p = (msg.payload ?? {}) as { machine?: unknown; kind?: unknown; severity?: unknown };
        if (msg.action === 'inject')
          runner.inject(String(p.machine), String(p.kind), Number(p.severity), 'message');
        else if (msg.action === 'clear')
          runner.clear(p.machine === undefined || p.machine === '' ? undefined : String(p.machine));
        else
          throw new TaktError(
            'sim.badAction',
            `msg.action must be "inject" or "clear", got ${JSON.stringify(msg.action)}`,
            'action',
          );
        show();
        done();
      } catch (err) {
        this.status(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      void started.finally(() => runner.stop()).finally(done);
    });
  }
  RED.nodes.registerType<Node<SimCredentials>, SimNodeDef, unknown, SimCredentials>('takt-sim', SimNode, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};

export = init;
