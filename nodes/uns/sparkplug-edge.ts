/**
 * The unified-namespace writer as a Sparkplug B edge node (the engine: no I/O). Samples on ISA-95 topics
 * become metrics of devices: the topic segment at `deviceLevel` names the device, the segments after it the
 * metric (Sparkplug allows "/" in metric names, which hosts show as folders).
 *
 *   on each MQTT session: NBIRTH (bdSeq, Node Control/Rebirth) and one DBIRTH per device, with every
 *   metric's name, alias, datatype, last value and engineering unit;
 *   then DDATA per device, by alias only, with a sequence number running 0..255 across the edge node;
 *   NDEATH with the session's bdSeq as the MQTT last will (and published on a clean stop);
 *   a new metric or device after the births: the edge node is born again (NBIRTH + DBIRTHs), so hosts
 *   learn the new alias before any DDATA uses it; a Rebirth command (NCMD) does the same.
 *
 * While offline only the last value of each metric is kept (as in the plain UNS mode): the births at
 * reconnection carry them.
 */
import type { TypeStr, UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import { TaktError } from '../core/errors';
import type { Quality } from '../core/sample';
import { toQuality, toTopic } from '../core/sample';
import { toEpochMs } from '../core/time';
import { checkSparkplugId, codec, NAMESPACE, REBIRTH_METRIC } from '../mqtt/codec';

/** Sparkplug metric property values for OPC-style quality (192 good, 64 uncertain, 0 bad). */
const QUALITY_CODE: Record<Quality, number> = { good: 192, uncertain: 64, bad: 0 };

export interface EdgeOptions {
  groupId: string;
  edgeNodeId: string;
  /**
   * 1-based position in the topic path (after the prefix) of the segment that names the device. Default:
   * the segment before the last, so acme/plant1/line1/cnc1/spindleTemp is device "cnc1", metric "spindleTemp".
   */
  deviceLevel?: number;
  /** Put in front of every sample topic before the device is picked, as in the UNS mode. */
  prefix?: string;
}

export interface EdgeSample {
  topic: unknown;
  value: unknown;
  ts?: unknown;
  quality?: unknown;
  unit?: unknown;
}

/** One MQTT publication: Sparkplug payloads go out at QoS 0, not retained (the spec's rule). */
export interface SpMessage {
  topic: string;
  payload: Uint8Array;
  /** The decoded form, for status and tests. */
  kind: 'NBIRTH' | 'DBIRTH' | 'DDATA' | 'NDEATH';
}

type MetricValue = number | boolean | string;

interface Metric {
  name: string;
  alias: number;
  type: TypeStr;
  unit?: string;
  value: MetricValue;
  ts: number;
  quality: Quality;
}

const checkId = (v: string, field: string) => checkSparkplugId(v, field, 'uns.badSparkplugId');

function typeOf(v: MetricValue): TypeStr {
  return typeof v === 'number' ? 'Double' : typeof v === 'boolean' ? 'Boolean' : 'String';
}

export class SparkplugEdge {
  readonly groupId: string;
  readonly edgeNodeId: string;
  private readonly deviceLevel: number | undefined;
  private readonly prefix: string;
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
  births = 0;

  constructor(o: EdgeOptions) {
    this.groupId = checkId(o.groupId, 'groupId');
    this.edgeNodeId = checkId(o.edgeNodeId, 'edgeNodeId');
    if (o.deviceLevel !== undefined && !(Number.isInteger(o.deviceLevel) && o.deviceLevel >= 1)) {
      throw new TaktError(
        'uns.badDeviceLevel',
        `device level must be a whole number ≥ 1, got ${o.deviceLevel}`,
      );
    }
    this.deviceLevel = o.deviceLevel;
    this.prefix = o.prefix ?? '';
  }

  get bdSeq(): number {
    return this.bdSeqValue;
  }

  topic(kind: string, device?: string): string {
    const base = `${NAMESPACE}/${this.groupId}/${kind}/${this.edgeNodeId}`;
    return device === undefined ? base : `${base}/${device}`;
  }

  /** The NCMD topic hosts send Rebirth commands to. */
  get commandTopic(): string {
    return this.topic('NCMD');
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

  /** NBIRTH and every DBIRTH, with the last values; sequence numbers start again at 0. */
  birth(now = Date.now()): SpMessage[] {
    this.seq = 0;
    this.born = true;
    this.stale = false;
    this.births++;
    const out: SpMessage[] = [
      this.encode('NBIRTH', undefined, {
        timestamp: now,
        metrics: [
          { name: 'bdSeq', type: 'UInt64', value: this.bdSeqValue },
          { name: REBIRTH_METRIC, type: 'Boolean', value: false },
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
        ...this.properties(m, true),
      }));
      out.push(this.encode('DBIRTH', device, { timestamp: now, metrics: list }));
    }
    return out;
  }

  /**
   * Takes a message's samples (all checked before any is kept: a bad one refuses the message) and returns
   * what to publish when `online`: DDATA per device, or the births first when a metric is new.
   */
  update(samples: readonly EdgeSample[], online: boolean, now = Date.now()): SpMessage[] {
    const parsed = samples.map((s) => this.parse(s, now));
    const changed = new Map<string, Metric[]>();
    for (const p of parsed) {
      let metrics = this.devices.get(p.device);
      if (!metrics) {
        metrics = new Map();
        this.devices.set(p.device, metrics);
      }
      let m = metrics.get(p.name);
      if (!m) {
        m = {
          name: p.name,
          alias: this.nextAlias++,
          type: p.type,
          value: p.value,
          ts: p.ts,
          quality: p.quality,
        };
        metrics.set(p.name, m);
        this.stale = true;
      }
      m.value = p.value;
      m.ts = p.ts;
      m.quality = p.quality;
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
          ...this.properties(m, false),
        })),
      }),
    );
  }

  /** An NCMD payload: the births when it asks for a Rebirth, else nothing. Throws on a malformed payload. */
  command(payload: Uint8Array, now = Date.now()): SpMessage[] {
    let p: UPayload;
    try {
      p = codec.decodePayload(payload);
    } catch (err) {
      throw new TaktError('uns.badCommand', `malformed Sparkplug command: ${(err as Error).message}`);
    }
    const rebirth = (p.metrics ?? []).some((m) => m.name === REBIRTH_METRIC && m.value === true);
    return rebirth && this.born ? this.birth(now) : [];
  }

  get metricCount(): number {
    let n = 0;
    for (const m of this.devices.values()) n += m.size;
    return n;
  }

  private encode(kind: 'NBIRTH' | 'DBIRTH' | 'DDATA', device: string | undefined, p: UPayload): SpMessage {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return { topic: this.topic(kind, device), kind, payload: codec.encodePayload({ ...p, seq: s }) };
  }

  private properties(m: Metric, birth: boolean): Pick<UMetric, 'properties'> {
    const props: NonNullable<UMetric['properties']> = {};
    if (birth && m.unit) props.engUnit = { type: 'String', value: m.unit };
    if (m.quality !== 'good') props.Quality = { type: 'Int32', value: QUALITY_CODE[m.quality] };
    return Object.keys(props).length ? { properties: props } : {};
  }

  private parse(s: EdgeSample, now: number) {
    const topic = toTopic(s.topic, this.prefix);
    const parts = topic.split('/');
    const at = this.deviceLevel === undefined ? parts.length - 2 : this.deviceLevel - 1;
    if (at < 0 || at >= parts.length - 1) {
      throw new TaktError(
        'uns.noDevice',
        `${topic}: no device segment at level ${at + 1} with a metric name after it (set the device level)`,
        'deviceLevel',
      );
    }
    const device = checkId(parts[at], 'device');
    const name = parts.slice(at + 1).join('/');
    const v = s.value;
    if (!(typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string')) {
      throw new TaktError(
        'uns.badMetricValue',
        `${topic}: a Sparkplug metric here takes a number, boolean or text, not ${Array.isArray(v) ? 'an array' : typeof v}`,
        'value',
      );
    }
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new TaktError('uns.badMetricValue', `${topic}: ${v} is not a finite number`, 'value');
    }
    const type = typeOf(v);
    const known = this.devices.get(device)?.get(name);
    if (known && known.type !== type) {
      throw new TaktError(
        'uns.typeChanged',
        `${topic}: metric "${name}" of ${device} was born ${known.type}, got a ${typeof v}`,
        'value',
      );
    }
    return {
      device,
      name,
      value: v,
      type,
      ts: s.ts === undefined || s.ts === null ? now : toEpochMs(s.ts),
      quality: toQuality(s.quality),
      unit: typeof s.unit === 'string' && s.unit !== '' ? s.unit : undefined,
    };
  }
}
