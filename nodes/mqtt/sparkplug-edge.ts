/**
 * A Sparkplug B edge node as an engine (no I/O): the protocol rules every Takt edge node follows, over
 * whatever MQTT transport its owner has (the simulator's own mqtt.js client, takt-uns-out's broker
 * connection). It lives in the protocol layer so both may import it.
 *
 *   on each MQTT session: NBIRTH (bdSeq, Node Control/Rebirth, any extra node metrics) and one DBIRTH per
 *   device, with every metric's name, alias, datatype, last value (and engineering unit when known);
 *   then DDATA per device, by alias only, with a sequence number running 0..255 across the edge node;
 *   NDEATH with the session's bdSeq as the MQTT last will (and published on a clean stop);
 *   a new metric or device after the births: the edge node is born again (NBIRTH + DBIRTHs), so hosts
 *   learn the new alias before any DDATA uses it; a Rebirth command (NCMD) does the same.
 *
 * Metrics are either declared up front (`define`, with a datatype) or appear with their first value (the
 * datatype follows the value: Double, Boolean or String). A metric keeps its datatype for life.
 */
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import { TaktError } from '../core/errors';
import type { Quality } from '../core/sample';
import { checkSparkplugId, codec, NAMESPACE, REBIRTH_METRIC } from './codec';

/** Sparkplug metric property values for OPC-style quality (192 good, 64 uncertain, 0 bad). */
const QUALITY_CODE: Record<Quality, number> = { good: 192, uncertain: 64, bad: 0 };

export type EdgeMetricValue = number | boolean | string;

/** Scalar Sparkplug datatypes an edge metric may be declared with. */
export type EdgeMetricType =
  | 'Int8'
  | 'Int16'
  | 'Int32'
  | 'Int64'
  | 'UInt8'
  | 'UInt16'
  | 'UInt32'
  | 'UInt64'
  | 'Float'
  | 'Double'
  | 'Boolean'
  | 'String';

export interface EdgeEngineOptions {
  groupId: string;
  edgeNodeId: string;
  /** First part of the TaktError codes this engine throws (`<scope>.badSparkplugId`, ...). Default "sparkplug". */
  errorScope?: string;
  /** Metrics the NBIRTH carries after bdSeq and the Rebirth control (e.g. "Properties/..."). */
  nodeMetrics?: readonly UMetric[];
}

/** One value of one metric of one device. */
export interface MetricPoint {
  device: string;
  /** Metric name; "/" makes folders in hosts. */
  name: string;
  value: EdgeMetricValue;
  /** Source time, epoch ms. */
  ts: number;
  /** Default good (no Quality property). */
  quality?: Quality;
  /** Engineering unit, carried by the births. */
  unit?: string;
  /** Where the value came from (e.g. its topic), to begin error messages with. */
  source?: string;
}

/** One MQTT publication: Sparkplug payloads go out at QoS 0, not retained (the spec's rule). */
export interface SpMessage {
  topic: string;
  payload: Uint8Array;
  /** The decoded form, for status and tests. */
  kind: 'NBIRTH' | 'DBIRTH' | 'DDATA' | 'NDEATH';
}

interface Metric {
  name: string;
  alias: number;
  type: EdgeMetricType;
  unit?: string;
  /** null: declared, no value yet (births carry a null value). */
  value: EdgeMetricValue | null;
  ts: number;
  quality: Quality;
}

const kindOfType = (t: EdgeMetricType): 'number' | 'boolean' | 'string' =>
  t === 'Boolean' ? 'boolean' : t === 'String' ? 'string' : 'number';

function typeOf(v: EdgeMetricValue): EdgeMetricType {
  return typeof v === 'number' ? 'Double' : typeof v === 'boolean' ? 'Boolean' : 'String';
}

export class SparkplugEdgeEngine {
  readonly groupId: string;
  readonly edgeNodeId: string;
  protected readonly scope: string;
  private readonly nodeMetrics: readonly UMetric[];
  /** Device -> metric name -> metric, in first-seen order (births list them that way). */
  private readonly devices = new Map<string, Map<string, Metric>>();
  private nextAlias = 1;
  private seq = 0;
  /** Birth/death sequence of the current MQTT session; the will must carry the same number. */
  private bdSeqValue = 0;
  /** The current session has published its births (DDATA may follow). */
  private born = false;
  /** Metrics or devices appeared since the last births: the next publication is a rebirth. */
  private stale = false;
  private birthCount = 0;

  constructor(o: EdgeEngineOptions) {
    this.scope = o.errorScope ?? 'sparkplug';
    this.groupId = this.checkId(o.groupId, 'groupId');
    this.edgeNodeId = this.checkId(o.edgeNodeId, 'edgeNodeId');
    this.nodeMetrics = o.nodeMetrics ?? [];
  }

  /** A group, edge node or device id, checked; a TaktError `<scope>.badSparkplugId` otherwise. */
  protected checkId(v: string, field: string): string {
    return checkSparkplugId(v, field, `${this.scope}.badSparkplugId`);
  }

  get bdSeq(): number {
    return this.bdSeqValue;
  }

  /** How many times the edge node was born (births on connection, on command, on a new metric). */
  get births(): number {
    return this.birthCount;
  }

  get metricCount(): number {
    let n = 0;
    for (const m of this.devices.values()) n += m.size;
    return n;
  }

  topic(kind: string, device?: string): string {
    const base = `${NAMESPACE}/${this.groupId}/${kind}/${this.edgeNodeId}`;
    return device === undefined ? base : `${base}/${device}`;
  }

  /** The NCMD topic hosts send Rebirth commands to. */
  get commandTopic(): string {
    return this.topic('NCMD');
  }

  /**
   * Declares a metric before its first value, with its datatype (births carry it with a null value until
   * one is known). Declaring a known metric again changes nothing. Aliases follow declaration order.
   */
  define(device: string, name: string, type: EdgeMetricType): void {
    const metrics = this.deviceMetrics(this.checkId(device, 'device'));
    if (metrics.has(name)) return;
    metrics.set(name, { name, alias: this.nextAlias++, type, value: null, ts: 0, quality: 'good' });
    this.stale = true;
  }

  /** The last value kept for a metric: undefined when unknown, null when declared without a value yet. */
  valueOf(device: string, name: string): EdgeMetricValue | null | undefined {
    return this.devices.get(device)?.get(name)?.value;
  }

  /** The death certificate of the current session (the MQTT will, and the goodbye on a clean stop). */
  death(now = Date.now()): SpMessage {
    return {
      topic: this.topic('NDEATH'),
      kind: 'NDEATH',
      payload: codec.encodePayload({
        timestamp: now,
        metrics: [{ name: 'bdSeq', type: 'UInt64', value: this.bdSeqValue }],
      }),
    };
  }

  /** The MQTT session ended: the next one has the next bdSeq, and must be born again. */
  sessionLost(): void {
    this.bdSeqValue = (this.bdSeqValue + 1) % 256;
    this.born = false;
  }

  /**
   * NBIRTH and every DBIRTH, with the last values; sequence numbers start again at 0. `now` stamps the
   * NBIRTH, `devicesAt` the DBIRTH payloads (a source with its own clock, such as the simulator, gives it).
   */
  birth(now = Date.now(), devicesAt = now): SpMessage[] {
    this.seq = 0;
    this.born = true;
    this.stale = false;
    this.birthCount++;
    const out: SpMessage[] = [
      this.encode('NBIRTH', undefined, {
        timestamp: now,
        metrics: [
          { name: 'bdSeq', type: 'UInt64', value: this.bdSeqValue },
          { name: REBIRTH_METRIC, type: 'Boolean', value: false },
          ...this.nodeMetrics,
        ],
      }),
    ];
    for (const [device, metrics] of this.devices) {
      const list: UMetric[] = [...metrics.values()].map((m) => ({
        name: m.name,
        alias: m.alias,
        type: m.type,
        value: m.value,
        timestamp: m.ts,
        ...properties(m, true),
      }));
      out.push(this.encode('DBIRTH', device, { timestamp: devicesAt, metrics: list }));
    }
    return out;
  }

  /**
   * Takes values (all checked before any is kept: a bad one refuses the lot) and returns what to publish
   * when `online`: DDATA per device in first-seen order, or the births first when a metric is new.
   * Several values of one metric in one call are each sent, with their own timestamps.
   */
  updateMetrics(points: readonly MetricPoint[], online: boolean, now = Date.now()): SpMessage[] {
    this.check(points);
    const changed = new Map<string, Metric[]>();
    for (const p of points) {
      const metrics = this.deviceMetrics(p.device);
      let m = metrics.get(p.name);
      if (!m) {
        m = {
          name: p.name,
          alias: this.nextAlias++,
          type: typeOf(p.value),
          value: p.value,
          ts: p.ts,
          quality: 'good',
        };
        metrics.set(p.name, m);
        this.stale = true;
      }
      m.value = p.value;
      m.ts = p.ts;
      m.quality = p.quality ?? 'good';
      if (p.unit !== undefined) m.unit = p.unit;
      const l = changed.get(p.device) ?? [];
      l.push({ ...m });
      changed.set(p.device, l);
    }
    if (!online || !this.born) return [];
    if (this.stale) return this.birth(now);
    return [...changed].map(([device, list]) =>
      this.encode('DDATA', device, {
        timestamp: now,
        metrics: list.map((m) => ({
          alias: m.alias,
          type: m.type,
          value: m.value,
          timestamp: m.ts,
          ...properties(m, false),
        })),
      }),
    );
  }

  /**
   * Whether a command payload (NCMD or DCMD) asks for a Rebirth. Throws `<scope>.badCommand` on a
   * malformed payload (naming `topic` when given).
   */
  rebirthRequested(payload: Uint8Array, topic?: string): boolean {
    let p: UPayload;
    try {
      p = codec.decodePayload(payload);
    } catch (err) {
      throw new TaktError(
        `${this.scope}.badCommand`,
        `malformed Sparkplug command${topic === undefined ? '' : ` on ${topic}`}: ${(err as Error).message}`,
      );
    }
    return (p.metrics ?? []).some((m) => m.name === REBIRTH_METRIC && m.value === true);
  }

  /** An NCMD payload: the births when it asks for a Rebirth (and the node is born), else nothing. */
  command(payload: Uint8Array, now = Date.now()): SpMessage[] {
    return this.rebirthRequested(payload) && this.born ? this.birth(now) : [];
  }

  private deviceMetrics(device: string): Map<string, Metric> {
    let metrics = this.devices.get(device);
    if (!metrics) {
      metrics = new Map();
      this.devices.set(device, metrics);
    }
    return metrics;
  }

  /** Every point's value fits its metric's datatype (the one it was born or declared with, or an earlier point's). */
  private check(points: readonly MetricPoint[]): void {
    const fresh = new Map<string, EdgeMetricType>();
    for (const p of points) {
      this.checkId(p.device, 'device');
      const key = `${p.device}\u0000${p.name}`;
      const known = this.devices.get(p.device)?.get(p.name)?.type ?? fresh.get(key);
      if (known === undefined) {
        fresh.set(key, typeOf(p.value));
      } else if (kindOfType(known) !== typeof p.value) {
        throw new TaktError(
          `${this.scope}.typeChanged`,
          `${p.source === undefined ? '' : `${p.source}: `}metric "${p.name}" of ${p.device} was born ${known}, got a ${typeof p.value}`,
          'value',
        );
      }
    }
  }

  private encode(kind: 'NBIRTH' | 'DBIRTH' | 'DDATA', device: string | undefined, p: UPayload): SpMessage {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return { topic: this.topic(kind, device), kind, payload: codec.encodePayload({ ...p, seq: s }) };
  }
}

function properties(m: Metric, birth: boolean): Pick<UMetric, 'properties'> {
  const props: NonNullable<UMetric['properties']> = {};
  if (birth && m.unit) props.engUnit = { type: 'String', value: m.unit };
  if (m.quality !== 'good') props.Quality = { type: 'Int32', value: QUALITY_CODE[m.quality] };
  return Object.keys(props).length ? { properties: props } : {};
}
