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
import { DEFAULT_PLANT, parsePlantModel, type PlantModel, withProcesses } from './model';
import { SimRunner } from './runner';
import { SampleTracker } from './samples';

interface SimNodeDef extends NodeDef {
  plantFile?: string;
  /** The default plant with its process responses (setpoints that move quality and energy). */
  processes?: boolean;
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
  camera?: boolean;
}
interface SimCredentials {
  user?: string;
  password?: string;
}

/**
 * `msg.action = "write"`: `payload` is `{ machine, name, value }` or a list of `{ item, value }` whose item ends
 * in `<machine>/<tag>` (the OPC UA browse path, as takt-opcua-write takes it). Every write is checked before any
 * is applied, so a bad one changes nothing.
 */
function writeSetpoints(runner: SimRunner, payload: unknown): void {
  const list = Array.isArray(payload) ? payload : [payload];
  const writes = list.map((w: unknown, i) => {
    const o = (w ?? {}) as { item?: unknown; machine?: unknown; name?: unknown; value?: unknown };
    const path = typeof o.item === 'string' ? o.item.split('/') : [o.machine, o.name];
    const [machine, name] = path.slice(-2).map(String);
    if (path.length < 2 || typeof o.value !== 'number')
      throw new TaktError(
        'sim.badWrite',
        `payload[${i}] must be { item, value } or { machine, name, value }`,
        'payload',
      );
    return { machine, name, value: o.value };
  });
  for (const w of writes) {
    const tag = runner.sim.tags().find((t) => t.machine === w.machine && t.name === w.name && t.writable);
    if (!tag) throw new TaktError('sim.badWrite', `${w.machine}/${w.name} is not a writable tag`, 'payload');
    if (tag.range && (w.value < tag.range[0] || w.value > tag.range[1] || !Number.isFinite(w.value)))
      throw new TaktError(
        'sim.badWrite',
        `${w.machine}/${w.name} must be within ${tag.range.join('..')}`,
        'payload',
      );
  }
  for (const w of writes) runner.sim.write(w.machine, w.name, w.value);
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
          : def.processes
            ? withProcesses(DEFAULT_PLANT)
            : DEFAULT_PLANT;
        const port = cfg.number('opcuaPort', { default: 4840, min: 0, max: 65535 });
        const creds = this.credentials ?? {};
        return new SimRunner(model, {
          seed: cfg.number('seed', { default: 1, min: 0, max: 2 ** 32 - 1 }),
          timeFactor: cfg.number('timeFactor', { default: 1, min: 1, max: 3600 }),
          faultsPerDay: cfg.number('faultsPerDay', { default: 0, min: 0, max: 1000 }),
          groundTruthFile: join(userDir, 'takt', 'sim', `${this.id}-ground-truth.jsonl`),
          camera: def.camera === true,
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
    const command = commandReader({ actions: ['inject', 'clear', 'write'], code: 'sim.badAction' }, (t) =>
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
      if (batch) this.send([{ topic: runner.sim.model.lines[0].id, payload: samples }, null, null]);
      else
        this.send([
          samples.map((s) => ({ topic: s.topic, payload: s.value, ts: s.ts, quality: s.quality })),
          null,
          null,
        ]);
    });
    runner.on('fault', (e) => {
      this.send([
        null,
        { topic: `takt/sim/ground-truth/${e.fault.machine}`, payload: { event: e.event, ...e.fault } },
        null,
      ]);
      show();
    });
    runner.on('image', (img) => {
      const png = img.png;
      this.send([
        null,
        null,
        {
          topic: `${img.topic}/Image`,
          payload: Buffer.from(png.buffer, png.byteOffset, png.byteLength),
          part: img.truth,
        },
      ]);
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
      else if (action === 'write') writeSetpoints(runner, msg.payload);
      else
        throw new TaktError(
          'sim.badAction',
          'action: msg.action must be one of inject, clear, write',
          'action',
        );
      show();
    });

    onClose(this, () => started.finally(() => (withdrawTapSource(tapName), runner.stop())));
  }
  RED.nodes.registerType<Node<SimCredentials>, SimNodeDef, unknown, SimCredentials>('takt-sim', SimNode, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};

export = init;
