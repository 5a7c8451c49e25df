/**
 * takt-uns-out: publishes samples to an MQTT unified namespace on the ISA-95 topic path, retained and at
 * QoS 1, as { value, ts, quality, unit? }. While the broker is away the last value per topic is kept and
 * published on reconnection. In Sparkplug B mode (sparkplug-mode.ts) it is an edge node instead.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configNodeStatus, configReader, onClose, onInput, requireConfigNode, setUp } from '../core/adaptor';
import { looksLikeBatch, readSamples } from '../core/message';
import { status, throttledStatus } from '../core/status';
import type { BrokerNode } from '../mqtt/broker-types';
import { sparkplugMode, type SparkplugDef } from './sparkplug-mode';
import { LastValueBuffer, toUnsMessage, type UnsMessage } from './uns';

interface UnsDef extends NodeDef, SparkplugDef {
  broker: string;
  /** 'uns' (default): retained JSON per topic; 'sparkplug': a Sparkplug B edge node. */
  mode?: string;
  prefix?: string;
  retain?: boolean;
  qos?: string | number;
}
type Msg = NodeMessageInFlow & { ts?: unknown; quality?: unknown; unit?: unknown };

const init: NodeInitializer = (RED) => {
  function UnsOut(this: Node, def: UnsDef) {
    RED.nodes.createNode(this, def);
    const conn = setUp(
      this,
      () =>
        requireConfigNode(RED.nodes.getNode(def.broker) as BrokerNode | null, (n) => n.connection, {
          feature: 'uns',
          field: 'broker',
          label: 'MQTT broker',
        }),
      { status: configNodeStatus },
    );
    if (!conn) return;
    if (def.mode === 'sparkplug') {
      setUp(this, () => sparkplugMode(this, def, conn.options));
      return;
    }
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const qos = cfg.choice('qos', ['0', '1', '2'], '1');
      return { qos: Number(qos) as 0 | 1 | 2, retain: cfg.boolean('retain', true) };
    });
    if (!set) return;
    const { qos, retain } = set;
    const buffer = new LastValueBuffer();
    const shown = throttledStatus((s) => this.status(s));
    let published = 0;
    const show = () =>
      shown.update(() =>
        conn.state === 'connected'
          ? status.connected(`published ${published}`)
          : status.disconnected(`holding ${buffer.size}`),
      );
    const publish = (m: UnsMessage) =>
      conn.publish(m.topic, m.payload, { qos, retain }).then(
        () => {
          published++;
          show();
        },
        // Lost on the way (the broker went away): keep it as the topic's last value.
        () => buffer.put(m),
      );
    const onState = (s: string) => {
      if (s === 'connected') buffer.drain().forEach((m) => void publish(m));
      show();
    };
    conn.on('state', onState);
    conn.register(this);
    show();

    onInput<Msg>(
      this,
      (msg) => {
        const now = Date.now();
        // Check the whole message first (every element of a batch): a bad sample refuses the message,
        // nothing half-published.
        const samples = readSamples(msg, { now });
        const units = looksLikeBatch(msg.payload)
          ? msg.payload.map((e) => (e as { unit?: unknown }).unit)
          : [msg.unit];
        // ts goes on as a Date: already epoch ms, so not read a second time by the seconds rule.
        const out = samples.map((s, i) =>
          toUnsMessage({ ...s, ts: new Date(s.ts), unit: units[i] }, { prefix: def.prefix, now }),
        );
        for (const m of out) {
          if (conn.state === 'connected') void publish(m);
          else buffer.put(m);
        }
        show();
      },
      shown,
    );

    onClose(
      this,
      () => shown.dispose(),
      () => conn.off('state', onState),
      () => conn.deregister(this),
    );
  }
  RED.nodes.registerType('takt-uns-out', UnsOut);
};

export = init;
