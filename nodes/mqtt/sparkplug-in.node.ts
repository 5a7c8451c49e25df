/**
 * takt-sparkplug-in: a Sparkplug B host for the chosen group / edge nodes / devices on a shared broker.
 * Decodes births, data and deaths (./decoder), asks edge nodes for a rebirth when it lacks their births
 * or sees a sequence gap, and emits Takt samples: one message per metric or one batch per Sparkplug
 * message. Deaths come out as "bad" samples of every metric of the edge node or device.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { configNodeStatus, configReader, onClose, requireConfigNode, setUp } from '../core/adaptor';
import { type NodeStatus, status, throttledStatus } from '../core/status';
import type { BrokerNode } from './broker-types';
import type { BrokerState } from './connection';
import {
  type DecodeResult,
  rebirthCommand,
  rebirthTopic,
  SparkplugDecoder,
  subscriptionFilters,
} from './decoder';

interface InDef extends NodeDef {
  broker: string;
  group?: string;
  edgeNode?: string;
  device?: string;
  topicPrefix?: string;
  mode?: 'metric' | 'batch';
  dateTime?: 'epoch' | 'iso';
  rebirth?: boolean;
  rebirthInterval?: string | number;
}

const MAX_WARNED = 100;

const init: NodeInitializer = (RED) => {
  function SparkplugIn(this: Node, def: InDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(
      this,
      () => {
        const connection = requireConfigNode(
          RED.nodes.getNode(def.broker) as BrokerNode | null,
          (n) => n.connection,
          { feature: 'mqtt', field: 'broker', label: 'MQTT broker' },
        );
        const cfg = configReader(def);
        const filters = subscriptionFilters(cfg.string('group', '+'), cfg.string('edgeNode', '+'));
        const decoder = new SparkplugDecoder({
          device: cfg.string('device', '+'),
          dateTime: cfg.choice('dateTime', ['epoch', 'iso'], 'epoch'),
          topicPrefix: def.topicPrefix ?? '',
          rebirthIntervalMs: cfg.duration('rebirthInterval', { unit: 's', default: 5, minMs: 0 }),
        });
        return {
          connection,
          filters,
          decoder,
          batch: cfg.choice('mode', ['metric', 'batch'], 'metric') === 'batch',
          askRebirth: cfg.boolean('rebirth', true),
        };
      },
      { status: configNodeStatus },
    );
    if (!set) return;
    const { connection, filters, decoder, batch, askRebirth } = set;
    const shown = throttledStatus((s) => this.status(s));
    const warned = new Set<string>();
    const warnOnce = (key: string, text: string) => {
      if (warned.has(key) || warned.size >= MAX_WARNED) return;
      warned.add(key);
      this.warn(text);
    };
    const counts = (): NodeStatus => {
      const s = decoder.stats();
      const text = `${s.nodes} node${s.nodes === 1 ? '' : 's'}, ${s.metrics} metrics`;
      // Yellow once a malformed payload was seen (each one is also a warning naming its topic).
      return s.malformed ? status.warning(text) : status.connected(text);
    };
    const forState = (s: BrokerState, why: string | undefined): NodeStatus => {
      if (s === 'connected') return status.connected('connected');
      if (s === 'connecting') return status.connecting('connecting');
      if (s === 'backoff') return status.disconnected(why ?? 'disconnected');
      return status.idle(s);
    };

    const emit = (r: DecodeResult) => {
      if (r.samples.length === 0 || !r.topic) return;
      if (batch) {
        const t = r.topic;
        this.send({
          topic: [t.group, t.edgeNode, ...(t.device ? [t.device] : [])].join('/'),
          payload: r.samples.map((s) => ({ topic: s.topic, value: s.value, ts: s.ts, quality: s.quality })),
          sparkplug: { type: t.type, group: t.group, edgeNode: t.edgeNode, device: t.device, seq: r.seq },
        });
      } else {
        this.send([
          r.samples.map((s) => ({ topic: s.topic, payload: s.value, ts: s.ts, quality: s.quality })),
        ]);
      }
    };

    const onMessage = (topic: string, payload: Buffer) => {
      const r = decoder.handle(topic, payload);
      if (r.error) {
        this.warn(r.error.message);
        shown.now(status.warning(`malformed (${decoder.stats().malformed})`));
        return;
      }
      emit(r);
      // Problems a rebirth puts right are logged with the request; the others are warned about once.
      if (r.problem && !r.wantsRebirth) warnOnce(r.problem, `${topic}: ${r.problem}`);
      if (r.rebirth && !askRebirth) {
        const { group, edgeNode, reason } = r.rebirth;
        warnOnce(`${group}/${edgeNode}`, `${group}/${edgeNode}: ${reason} (rebirth requests are off)`);
      } else if (r.rebirth) {
        const { group, edgeNode, reason } = r.rebirth;
        this.log(`asking ${group}/${edgeNode} for a rebirth: ${reason}`);
        connection
          .publish(rebirthTopic(group, edgeNode), rebirthCommand(), { qos: 0 })
          .catch((err: unknown) =>
            this.warn(`rebirth request to ${group}/${edgeNode} failed: ${String(err)}`),
          );
      }
      if (r.samples.length || r.topic?.type.endsWith('DEATH')) shown.update(counts);
    };

    const onState = (s: BrokerState, why: string | undefined) => {
      // Messages may have been missed while away: the next message of each edge node asks for a rebirth.
      if (s === 'backoff') decoder.invalidate();
      if (s !== 'connected') shown.now(forState(s, why));
    };
    const onSubscribed = (user: object, err: Error | undefined) => {
      if (user !== this) return;
      if (err) {
        shown.now(status.error('subscribe failed'));
        this.error(`subscribe to ${filters.join(', ')} failed: ${err.message}`);
      } else {
        shown.now(status.connected('subscribed'));
      }
    };
    const onHandlerError = (user: object, err: Error) => {
      if (user === this) this.error(err.message);
    };
    connection.on('state', onState);
    connection.on('subscribed', onSubscribed);
    connection.on('handlerError', onHandlerError);
    shown.now(forState(connection.state, connection.cause));
    connection.register(this);
    connection.subscribe(this, filters, onMessage, 1);

    onClose(
      this,
      () => shown.dispose(),
      () => connection.off('state', onState),
      () => connection.off('subscribed', onSubscribed),
      () => connection.off('handlerError', onHandlerError),
      () => connection.deregister(this),
    );
  }
  RED.nodes.registerType('takt-sparkplug-in', SparkplugIn);
};

export = init;
