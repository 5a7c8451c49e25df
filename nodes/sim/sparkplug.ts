/**
 * The simulator as a Sparkplug B edge node (Eclipse Tahu payloads via sparkplug-payload, MQTT via
 * mqtt.js): NBIRTH and one DBIRTH per machine with metric aliases, DDATA with sequence numbers, NDEATH
 * as the MQTT last will (with bdSeq), and a Rebirth on the "Node Control/Rebirth" command.
 *
 * Topics: spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|NCMD>/<edge node> and
 *         spBv1.0/<group>/<DBIRTH|DDATA|DDEATH|DCMD>/<edge node>/<machine>.
 * The vibration waveform is not published over Sparkplug (OPC UA carries it).
 *
 * The MQTT session is the broker connection of mqtt/connection.ts (the one takt-mqtt-broker uses): `url` may
 * list several brokers (a cluster's nodes), and each new attempt after a lost or refused connection goes to
 * the next one, with the same doubling back-off.
 */
import { EventEmitter } from 'node:events';
import { errorMessage, TaktError } from '../core/errors';
import type { BrokerOptions, MqttBrokerConnection } from '../mqtt/connection';
import {
  SparkplugEdgeEngine,
  type EdgeMetricType,
  type MetricPoint,
  type SpMessage,
} from '../mqtt/sparkplug-edge';
import { SparkplugSession } from '../mqtt/sparkplug-session';
import type { AdvanceResult, PlantSimulator, TagInfo } from './engine';

export interface SparkplugOptions extends Pick<
  BrokerOptions,
  | 'username'
  | 'password'
  | 'tls'
  | 'keepaliveSec'
  | 'reconnectInitialMs'
  | 'reconnectMaxMs'
  | 'connectTimeoutMs'
> {
  /** The broker, or several (comma or space separated) to fail over between them. */
  url: string;
  groupId: string;
  edgeNodeId: string;
}

export interface SparkplugEvents {
  connected: [];
  /** A connection was lost (once per outage, until the next connection), with its cause. */
  disconnected: [Error];
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
 * The transport (the failover broker connection, its own Sparkplug session with the NDEATH as will:
 * mqtt/sparkplug-session.ts) around the shared Sparkplug edge engine
 * of the protocol layer, which holds births, bdSeq/seq, aliases and encoding. The simulator declares
 * every tag up front with its datatype, publishes by exception (changed values, plus every finished part)
 * and stamps DBIRTH/DDATA with simulated time.
 */
export class SparkplugEdgeNode extends EventEmitter<SparkplugEvents> {
  private readonly sim: PlantSimulator;
  private readonly edge: SparkplugEdgeEngine;
  private readonly session: SparkplugSession;
  private readonly conn: MqttBrokerConnection;
  private started = false;
  /** Metrics per device (machine id), in tag order. */
  private readonly devices = new Map<string, Ref[]>();
  private readonly byTopic = new Map<string, Ref>();

  constructor(sim: PlantSimulator, opts: SparkplugOptions) {
    super();
    this.sim = sim;
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
    // Throws TaktError (mqtt.badUrl, ...) on a bad URL or option.
    const { groupId, edgeNodeId, ...broker } = opts;
    this.session = new SparkplugSession(this.edge, {
      ...broker,
      protocolVersion: 4,
      cleanSession: true,
      clientId: `takt-sim-${groupId}-${edgeNodeId}-${process.pid}`,
    });
    this.conn = this.session.conn;
  }

  /** The broker of the current (or last) connection attempt. */
  get server(): string {
    return this.conn.server;
  }

  private topic(kind: string, device?: string): string {
    return this.edge.topic(kind, device);
  }

  /**
   * Connects; births are published on every (re)connection. Resolves on the first connection; rejects when
   * the first attempt fails (the connection keeps trying, through the list of brokers).
   */
  start(): Promise<void> {
    if (this.started) return Promise.reject(new TaktError('sim.started', 'the edge node is already started'));
    this.started = true;
    let first = true;
    let lost = false;
    const settled = new Promise<void>((resolve, reject) => {
      // On a lost (or refused) session the session has put the next bdSeq in the will already.
      this.session.onState((state, why) => {
        if (state === 'connected') {
          lost = false;
          this.emit('connected');
          this.birth();
          if (first) resolve();
          first = false;
        } else if (state === 'backoff') {
          // Said once per outage, not on every attempt.
          if (!lost) {
            lost = true;
            const err = new TaktError('sim.mqtt', `Sparkplug broker ${this.conn.server}: ${why ?? 'lost'}`);
            if (first) reject(err);
            else this.emit('disconnected', err);
          }
          first = false;
        }
      });
    });
    this.conn.subscribe(
      this,
      [this.topic('NCMD'), `${this.topic('DCMD')}/+`],
      (topic, payload) => this.onCommand(topic, payload),
      1,
    );
    this.conn.on('subscribed', (_user, err) => {
      if (err) this.emit('error', err);
    });
    return settled;
  }

  /** QoS 0 and not retained, as Sparkplug asks of births and data; lost with the connection. */
  private send(out: readonly SpMessage[]): void {
    for (const m of out) this.conn.publish(m.topic, m.payload, { qos: 0 }).catch(() => undefined);
  }

  /** NBIRTH then every DBIRTH, with full metric definitions (name, alias, type, value) at simulated time. */
  birth(): void {
    if (!this.conn.connected) return;
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
    if (!this.conn.connected) return;
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
    if (!this.conn.connected) return;
    this.conn.publish(`${topic}/Image`, png, { qos: 0 }).catch(() => undefined);
    this.conn.publish(`${topic}/Part`, JSON.stringify(truth), { qos: 0 }).catch(() => undefined);
  }

  private onCommand(topic: string, payload: Buffer): void {
    try {
      if (this.edge.rebirthRequested(new Uint8Array(payload), topic)) this.birth();
    } catch (err) {
      this.emit('error', err instanceof TaktError ? err : new TaktError('sim.badCommand', errorMessage(err)));
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    // The broker may be stopping too (an embedded one): when it does not acknowledge the NDEATH in time,
    // drop the connection, which makes the broker (if still there) send the will instead.
    if (!(await this.session.sayDeath())) this.conn.dropConnection('stopped');
    this.conn.removeAllListeners();
    await this.conn.deregister(this);
    // The simulator may start again: that is a new session, with the next bdSeq.
    this.session.nextSession();
  }
}
