/**
 * The simulator as a Sparkplug B edge node (Eclipse Tahu payloads via sparkplug-payload, MQTT via
 * mqtt.js): NBIRTH and one DBIRTH per machine with metric aliases, DDATA with sequence numbers, NDEATH
 * as the MQTT last will (with bdSeq), and a Rebirth on the "Node Control/Rebirth" command.
 *
 * Topics: spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|NCMD>/<edge node> and
 *         spBv1.0/<group>/<DBIRTH|DDATA|DDEATH|DCMD>/<edge node>/<machine>.
 * The vibration waveform is not published over Sparkplug (OPC UA carries it).
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { errorMessage, TaktError } from '../core/errors';
import { within } from '../core/time';
import { warmPacketLengthCache } from '../mqtt/packet-cache';
import {
  SparkplugEdgeEngine,
  type EdgeMetricType,
  type MetricPoint,
  type SpMessage,
} from '../mqtt/sparkplug-edge';
import type { AdvanceResult, PlantSimulator, TagInfo } from './engine';

export interface SparkplugOptions {
  url: string;
  groupId: string;
  edgeNodeId: string;
  username?: string;
  password?: string;
  /** Extra mqtt.js options (TLS: ca, cert, key, rejectUnauthorized). */
  mqtt?: IClientOptions;
}

export interface SparkplugEvents {
  connected: [];
  disconnected: [];
  birth: [number];
  error: [Error];
}

const TYPES: Record<Exclude<TagInfo['type'], 'DoubleArray'>, EdgeMetricType> = {
  Double: 'Double',
  Int32: 'Int32',
  UInt32: 'UInt32',
  String: 'String',
};

/** A simulator tag published as a Sparkplug metric: device = machine, metric name = tag name. */
interface Ref {
  topic: string;
  device: string;
  name: string;
}

/**
 * The transport (mqtt.js, its own session with the NDEATH as will) around the shared Sparkplug edge engine
 * of the protocol layer, which holds births, bdSeq/seq, aliases and encoding. The simulator declares
 * every tag up front with its datatype, publishes by exception (changed values, plus every finished part)
 * and stamps DBIRTH/DDATA with simulated time.
 */
export class SparkplugEdgeNode extends EventEmitter<SparkplugEvents> {
  private readonly sim: PlantSimulator;
  private readonly opts: SparkplugOptions;
  private readonly edge: SparkplugEdgeEngine;
  private client: MqttClient | undefined;
  /** Metrics per device (machine id), in tag order. */
  private readonly devices = new Map<string, Ref[]>();
  private readonly byTopic = new Map<string, Ref>();

  constructor(sim: PlantSimulator, opts: SparkplugOptions) {
    super();
    this.sim = sim;
    this.opts = opts;
    this.edge = new SparkplugEdgeEngine({
      groupId: opts.groupId,
      edgeNodeId: opts.edgeNodeId,
      errorScope: 'sim',
      nodeMetrics: [
        {
          name: 'Properties/Plant',
          type: 'String',
          value: `${sim.model.enterprise}/${sim.model.site}/${sim.model.area}`,
        },
      ],
    });
    for (const tag of sim.tags()) {
      if (tag.type === 'DoubleArray') continue;
      this.edge.define(tag.machine, tag.name, TYPES[tag.type]);
      const ref: Ref = { topic: tag.topic, device: tag.machine, name: tag.name };
      const list = this.devices.get(tag.machine) ?? [];
      list.push(ref);
      this.devices.set(tag.machine, list);
      this.byTopic.set(tag.topic, ref);
    }
  }

  private topic(kind: string, device?: string): string {
    return this.edge.topic(kind, device);
  }

  private deathPayload(): Buffer {
    return Buffer.from(this.edge.death().payload);
  }

  /** Connects; births are published on every (re)connection. Resolves on the first connection. */
  start(): Promise<void> {
    warmPacketLengthCache(); // once per process: see mqtt/packet-cache.ts
    const client = mqtt.connect(this.opts.url, {
      ...this.opts.mqtt,
      protocolVersion: 4,
      clean: true,
      clientId: `takt-sim-${this.opts.groupId}-${this.opts.edgeNodeId}-${process.pid}`,
      username: this.opts.username,
      password: this.opts.password,
      reconnectPeriod: 2000,
      will: { topic: this.topic('NDEATH'), payload: this.deathPayload(), qos: 1, retain: false },
    });
    this.client = client;
    client.on('connect', () => {
      client.subscribe([this.topic('NCMD'), `${this.topic('DCMD')}/+`], { qos: 1 }, (err) => {
        if (err) this.emit('error', err);
      });
      this.emit('connected');
      this.birth();
    });
    client.on('close', () => {
      this.emit('disconnected');
      // The next session gets a new bdSeq: its NDEATH (the will) must carry it.
      this.edge.sessionLost();
      if (client.options.will) client.options.will.payload = this.deathPayload();
    });
    client.on('error', (err) => this.emit('error', err));
    client.on('message', (topic, payload) => this.onCommand(topic, payload));
    return new Promise((resolve, reject) => {
      const onErr = (err: Error) => {
        client.off('connect', onOk);
        reject(err);
      };
      const onOk = () => {
        client.off('error', onErr);
        resolve();
      };
      client.once('connect', onOk);
      client.once('error', onErr);
    });
  }

  private send(out: readonly SpMessage[]): void {
    for (const m of out) this.client?.publish(m.topic, Buffer.from(m.payload), { qos: 0 });
  }

  /** NBIRTH then every DBIRTH, with full metric definitions (name, alias, type, value) at simulated time. */
  birth(): void {
    if (!this.client?.connected) return;
    const snap = this.sim.snapshot();
    const ts = this.sim.now;
    const points: MetricPoint[] = [];
    for (const [device, refs] of this.devices) {
      for (const r of refs) {
        const v = snap.get(r.topic)?.value;
        if (v !== undefined && !Array.isArray(v)) points.push({ device, name: r.name, value: v, ts });
      }
    }
    try {
      this.edge.updateMetrics(points, false, ts);
      this.send(this.edge.birth(Date.now(), ts));
    } catch (err) {
      this.emit('error', err as Error);
      return;
    }
    this.emit('birth', this.edge.births);
  }

  /** DDATA per machine with the metrics that changed (and every finished part's measurement). */
  publish(result?: AdvanceResult): void {
    if (!this.client?.connected) return;
    const snap = this.sim.snapshot();
    const ts = this.sim.now;
    const points: MetricPoint[] = [];
    // Each part is its own sample: several values of one metric, each with its timestamp.
    const partTopics = new Set<string>();
    for (const p of result?.parts ?? []) {
      const r = this.byTopic.get(p.topic);
      if (!r) continue;
      partTopics.add(p.topic);
      points.push({ device: r.device, name: r.name, value: p.value, ts: p.ts });
    }
    for (const [device, refs] of this.devices) {
      for (const r of refs) {
        if (partTopics.has(r.topic)) continue;
        const v = snap.get(r.topic)?.value;
        if (v === undefined || Array.isArray(v) || v === this.edge.valueOf(device, r.name)) continue;
        points.push({ device, name: r.name, value: v, ts });
      }
    }
    try {
      this.send(this.edge.updateMetrics(points, true, ts));
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /**
   * A camera image as plain MQTT beside the Sparkplug topics: the PNG bytes on <camera topic>/Image and its
   * ground truth as JSON on <camera topic>/Part (Sparkplug B has no place for images).
   */
  publishImage(topic: string, png: Uint8Array, truth: object): void {
    if (!this.client?.connected) return;
    this.client.publish(`${topic}/Image`, Buffer.from(png.buffer, png.byteOffset, png.byteLength), {
      qos: 0,
    });
    this.client.publish(`${topic}/Part`, JSON.stringify(truth), { qos: 0 });
  }

  private onCommand(topic: string, payload: Buffer): void {
    try {
      if (this.edge.rebirthRequested(new Uint8Array(payload), topic)) this.birth();
    } catch (err) {
      this.emit('error', err instanceof TaktError ? err : new TaktError('sim.badCommand', errorMessage(err)));
    }
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    // A clean stop publishes the death certificate itself (the broker sends the will only on a lost
    // connection). The broker may be stopping too (an embedded one): wait for its acknowledgement at most
    // 2 s, then drop the connection, which makes the broker (if still there) send the will instead.
    const acked =
      c.connected &&
      (await within(
        c.publishAsync(this.topic('NDEATH'), this.deathPayload(), { qos: 1 }).then(
          () => true,
          () => false,
        ),
        2000,
      )) === true;
    await c.endAsync(!acked);
  }
}
