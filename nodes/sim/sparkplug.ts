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
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import { TaktError } from '../core/errors';
import { within } from '../core/time';
import { checkSparkplugId, codec, NAMESPACE, REBIRTH_METRIC } from '../mqtt/codec';
import type { AdvanceResult, PlantSimulator, TagInfo, TagValue } from './engine';

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

type SpType = 'Double' | 'Int32' | 'UInt32' | 'String';
const TYPES: Record<Exclude<TagInfo['type'], 'DoubleArray'>, SpType> = {
  Double: 'Double',
  Int32: 'Int32',
  UInt32: 'UInt32',
  String: 'String',
};

interface Metric {
  tag: TagInfo;
  alias: number;
  type: SpType;
  last: TagValue | undefined;
}

export class SparkplugEdgeNode extends EventEmitter<SparkplugEvents> {
  private readonly sim: PlantSimulator;
  private readonly opts: SparkplugOptions;
  private client: MqttClient | undefined;
  private seq = 0;
  private bdSeq = 0;
  private births = 0;
  /** Metrics per device (machine id). */
  private readonly devices = new Map<string, Metric[]>();
  private readonly byTopic = new Map<string, Metric>();

  constructor(sim: PlantSimulator, opts: SparkplugOptions) {
    super();
    for (const [k, v] of [
      ['groupId', opts.groupId],
      ['edgeNodeId', opts.edgeNodeId],
    ] as const) {
      checkSparkplugId(v, k, 'sim.badSparkplugId');
    }
    this.sim = sim;
    this.opts = opts;
    let alias = 1;
    for (const tag of sim.tags()) {
      if (tag.type === 'DoubleArray') continue;
      const m: Metric = { tag, alias: alias++, type: TYPES[tag.type], last: undefined };
      const list = this.devices.get(tag.machine) ?? [];
      list.push(m);
      this.devices.set(tag.machine, list);
      this.byTopic.set(tag.topic, m);
    }
  }

  private topic(kind: string, device?: string): string {
    const base = `${NAMESPACE}/${this.opts.groupId}/${kind}/${this.opts.edgeNodeId}`;
    return device ? `${base}/${device}` : base;
  }

  private deathPayload(): Buffer {
    return Buffer.from(
      codec.encodePayload({
        timestamp: Date.now(),
        metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.bdSeq }],
      }),
    );
  }

  /** Connects; births are published on every (re)connection. Resolves on the first connection. */
  start(): Promise<void> {
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
      this.bdSeq = (this.bdSeq + 1) % 256;
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

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  private send(topic: string, payload: UPayload): void {
    this.client?.publish(topic, Buffer.from(codec.encodePayload(payload)), { qos: 0 });
  }

  /** NBIRTH then every DBIRTH, with full metric definitions (name, alias, type, value). */
  birth(): void {
    if (!this.client?.connected) return;
    this.seq = 0;
    const now = Date.now();
    this.send(this.topic('NBIRTH'), {
      timestamp: now,
      seq: this.nextSeq(),
      metrics: [
        { name: 'bdSeq', type: 'UInt64', value: this.bdSeq },
        { name: REBIRTH_METRIC, type: 'Boolean', value: false },
        {
          name: 'Properties/Plant',
          type: 'String',
          value: `${this.sim.model.enterprise}/${this.sim.model.site}/${this.sim.model.area}`,
        },
      ],
    });
    const snap = this.sim.snapshot();
    const ts = this.sim.now;
    for (const [device, metrics] of this.devices) {
      const list: UMetric[] = metrics.map((m) => {
        const v = snap.get(m.tag.topic)?.value ?? null;
        m.last = v ?? undefined;
        return {
          name: m.tag.name,
          alias: m.alias,
          type: m.type,
          value: v as UMetric['value'],
          timestamp: ts,
        };
      });
      this.send(this.topic('DBIRTH', device), { timestamp: ts, seq: this.nextSeq(), metrics: list });
    }
    this.births++;
    this.emit('birth', this.births);
  }

  /** DDATA per machine with the metrics that changed (and every finished part's measurement). */
  publish(result?: AdvanceResult): void {
    if (!this.client?.connected) return;
    const snap = this.sim.snapshot();
    const ts = this.sim.now;
    const changes = new Map<string, UMetric[]>();
    const add = (device: string, m: UMetric) => {
      const l = changes.get(device) ?? [];
      l.push(m);
      changes.set(device, l);
    };
    // Each part is its own sample: several values of one metric, each with its timestamp.
    const partTopics = new Set<string>();
    for (const p of result?.parts ?? []) {
      const m = this.byTopic.get(p.topic);
      if (!m) continue;
      partTopics.add(p.topic);
      m.last = p.value;
      add(p.machine, { alias: m.alias, type: m.type, value: p.value, timestamp: p.ts });
    }
    for (const [device, metrics] of this.devices) {
      for (const m of metrics) {
        if (partTopics.has(m.tag.topic)) continue;
        const v = snap.get(m.tag.topic)?.value;
        if (v === undefined || v === m.last) continue;
        m.last = v;
        add(device, { alias: m.alias, type: m.type, value: v as UMetric['value'], timestamp: ts });
      }
    }
    for (const [device, metrics] of changes) {
      this.send(this.topic('DDATA', device), { timestamp: ts, seq: this.nextSeq(), metrics });
    }
  }

  private onCommand(topic: string, payload: Buffer): void {
    try {
      const p = codec.decodePayload(new Uint8Array(payload));
      const rebirth = (p.metrics ?? []).some((m) => m.name === REBIRTH_METRIC && m.value === true);
      if (rebirth) this.birth();
    } catch (err) {
      this.emit(
        'error',
        new TaktError('sim.badCommand', `malformed Sparkplug command on ${topic}: ${(err as Error).message}`),
      );
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
