/**
 * Subscribes to resolved OPC UA items on a session and turns data changes into Takt samples, one batch
 * per publish response. Sized for the load: queue size from the sampling/publishing ratio (or the
 * user's), no cap on notifications per publish, and the server's Overflow bit counted so that lost
 * changes are never silent. A bad item is reported as a bad-quality sample; the others keep flowing.
 */
import { EventEmitter } from 'node:events';
import {
  AttributeIds,
  type ClientMonitoredItemBase,
  ClientMonitoredItemGroup,
  type ClientSession,
  ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  type DataValue,
  DeadbandType,
  TimestampsToReturn,
} from 'node-opcua';
import type { Sample } from '../core/sample';
import { decodeDataValue, type Json } from './decode';
import { enumNames, type ItemSpec, type ResolvedItem, resolveItems } from './items';

export interface SubscribeOptions {
  items: ItemSpec[];
  /** ISA-95 prefix put before the browse names, e.g. "Acme". */
  topicPrefix: string;
  samplingIntervalMs: number;
  publishingIntervalMs: number;
  /** Server-side queue per item; 0 = enough for the sampling/publishing ratio, with margin. */
  queueSize: number;
  deadband: { type: 'none' | 'absolute' | 'percent'; value: number };
}

/** A sample whose value may also be a structure (decoded ExtensionObject) or null (no value). */
export type OpcuaSample = Omit<Sample, 'value'> & { value: Json };

export interface SubscriberEvents {
  /** The changes of one publish response. */
  samples: [OpcuaSample[]];
  /** Items resolved and monitored (count) or refused (errors). */
  ready: [{ monitored: number; bad: { spec: string; error: string }[] }];
}

export function topicFor(prefix: string, names: string[]): string {
  return [prefix, ...names].filter((p) => p !== '').join('/');
}

export class OpcuaSubscriber extends EventEmitter<SubscriberEvents> {
  readonly options: SubscribeOptions;
  private subscription: ClientSubscription | undefined;
  /** Changes the server reported as lost to queue overflow. */
  overflows = 0;
  received = 0;

  constructor(options: SubscribeOptions) {
    super();
    this.options = options;
  }

  queueSize(): number {
    const o = this.options;
    if (o.queueSize > 0) return o.queueSize;
    const perPublish = Math.ceil(o.publishingIntervalMs / Math.max(1, o.samplingIntervalMs || 1));
    return Math.max(2, perPublish * 2 + 1);
  }

  /** Resolves the items and subscribes on this session (call again on every new session). */
  async start(session: ClientSession): Promise<void> {
    this.subscription = undefined;
    const o = this.options;
    const resolved = await resolveItems(session, o.items);
    const good = resolved.filter((r) => !r.error);
    const bad = resolved.filter((r) => r.error);
    const now = Date.now();
    const badSamples: OpcuaSample[] = bad.map((b) => ({
      topic: topicFor(o.topicPrefix, b.names),
      value: b.error ?? 'Bad',
      ts: now,
      quality: 'bad',
    }));
    if (good.length === 0) {
      this.emit('ready', { monitored: 0, bad: bad.map((b) => ({ spec: b.spec, error: b.error ?? 'Bad' })) });
      if (badSamples.length) this.emit('samples', badSamples);
      return;
    }
    const sub = ClientSubscription.create(session, {
      requestedPublishingInterval: o.publishingIntervalMs,
      requestedLifetimeCount: Math.max(60, Math.ceil(60000 / o.publishingIntervalMs)),
      requestedMaxKeepAliveCount: Math.max(3, Math.ceil(5000 / o.publishingIntervalMs)),
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 10,
    });
    this.subscription = sub;
    const filter =
      o.deadband.type === 'none'
        ? undefined
        : new DataChangeFilter({
            trigger: DataChangeTrigger.StatusValue,
            deadbandType: o.deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
            deadbandValue: o.deadband.value,
          });
    const group = ClientMonitoredItemGroup.create(
      sub,
      good.map((g) => ({ nodeId: g.nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: o.samplingIntervalMs, queueSize: this.queueSize(), discardOldest: true, filter },
      TimestampsToReturn.Both,
    );
    const byId = new Map<string, ResolvedItem>(good.map((g) => [g.nodeId, g]));
    // By the group's item index: no NodeId formatting per change.
    const topics = good.map((g) => topicFor(o.topicPrefix, g.names));
    const enums = await enumNames(
      session,
      good.map((g) => g.nodeId),
    );
    const enumByIndex = good.map((g) => enums.get(g.nodeId));
    let batch: OpcuaSample[] = [];
    let flushing = false;
    const flush = () => {
      flushing = false;
      const b = batch;
      batch = [];
      if (b.length) this.emit('samples', b);
    };
    group.on('changed', (_item: ClientMonitoredItemBase, dv: DataValue, index: number) => {
      const d = decodeDataValue(dv, enumByIndex[index]);
      if (d.overflow) this.overflows++;
      this.received++;
      batch.push({ topic: topics[index], value: d.value, ts: d.ts, quality: d.quality });
      // All changes of one publish response are dispatched in one go: flush them together.
      if (!flushing) {
        flushing = true;
        setImmediate(flush);
      }
    });
    await new Promise<void>((resolve, reject) => {
      group.once('initialized', () => resolve());
      group.once('err', (m: string) => reject(new Error(m)));
    });
    // Items the server refused when monitoring (e.g. not a variable).
    group.monitoredItems.forEach((mi, i) => {
      const code = mi.statusCode;
      if (code && code.name !== 'Good' && !code.name.startsWith('Good')) {
        const g = good[i];
        bad.push({ ...g, error: code.name });
        badSamples.push({
          topic: topics[i],
          value: code.name,
          ts: now,
          quality: 'bad',
        });
        byId.delete(g.nodeId);
      }
    });
    this.emit('ready', {
      monitored: byId.size,
      bad: bad.map((b) => ({ spec: b.spec, error: b.error ?? 'Bad' })),
    });
    if (badSamples.length) this.emit('samples', badSamples);
  }

  /** Reads every item once (the reader's one-shot read). */
  static async readOnce(
    session: ClientSession,
    items: ItemSpec[],
    topicPrefix: string,
  ): Promise<OpcuaSample[]> {
    const resolved = await resolveItems(session, items);
    const good = resolved.filter((r) => !r.error);
    const values = good.length
      ? await session.read(good.map((g) => ({ nodeId: g.nodeId, attributeId: AttributeIds.Value })))
      : [];
    const enums = await enumNames(
      session,
      good.map((g) => g.nodeId),
    );
    const now = Date.now();
    return resolved.map((r) => {
      if (r.error)
        return { topic: topicFor(topicPrefix, r.names), value: r.error, ts: now, quality: 'bad' as const };
      const d = decodeDataValue(values[good.indexOf(r)], enums.get(r.nodeId));
      return {
        topic: topicFor(topicPrefix, r.names),
        value: d.quality === 'bad' ? d.statusCode : d.value,
        ts: d.ts,
        quality: d.quality,
      };
    });
  }

  async stop(): Promise<void> {
    const s = this.subscription;
    this.subscription = undefined;
    await s?.terminate().catch(() => undefined);
  }
}
