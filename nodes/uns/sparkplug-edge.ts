/**
 * The unified-namespace writer as a Sparkplug B edge node (the engine: no I/O). Samples on ISA-95 topics
 * become metrics of devices: the topic segment at `deviceLevel` names the device, the segments after it the
 * metric (Sparkplug allows "/" in metric names, which hosts show as folders). The protocol itself (births,
 * bdSeq/seq, aliases, encoding, Rebirth) is the shared edge engine of the protocol layer, mqtt/sparkplug-edge.
 *
 * While offline only the last value of each metric is kept (as in the plain UNS mode): the births at
 * reconnection carry them.
 */
import { TaktError } from '../core/errors';
import { toQuality, toTopic } from '../core/sample';
import { toEpochMs } from '../core/time';
import { SparkplugEdgeEngine, type MetricPoint } from '../mqtt/sparkplug-edge';

export type { SpMessage } from '../mqtt/sparkplug-edge';

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

export class SparkplugEdge extends SparkplugEdgeEngine {
  private readonly deviceLevel: number | undefined;
  private readonly prefix: string;

  constructor(o: EdgeOptions) {
    super({ groupId: o.groupId, edgeNodeId: o.edgeNodeId, errorScope: 'uns' });
    if (o.deviceLevel !== undefined && !(Number.isInteger(o.deviceLevel) && o.deviceLevel >= 1)) {
      throw new TaktError(
        'uns.badDeviceLevel',
        `device level must be a whole number ≥ 1, got ${o.deviceLevel}`,
      );
    }
    this.deviceLevel = o.deviceLevel;
    this.prefix = o.prefix ?? '';
  }

  /**
   * Takes a message's samples (all checked before any is kept: a bad one refuses the message) and returns
   * what to publish when `online`: DDATA per device, or the births first when a metric is new.
   */
  update(samples: readonly EdgeSample[], online: boolean, now = Date.now()) {
    return this.updateMetrics(
      samples.map((s) => this.parse(s, now)),
      online,
      now,
    );
  }

  private parse(s: EdgeSample, now: number): MetricPoint {
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
    const device = this.checkId(parts[at], 'device');
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
    return {
      device,
      name,
      value: v,
      ts: s.ts === undefined || s.ts === null ? now : toEpochMs(s.ts),
      quality: toQuality(s.quality),
      unit: typeof s.unit === 'string' && s.unit !== '' ? s.unit : undefined,
      source: topic,
    };
  }
}
