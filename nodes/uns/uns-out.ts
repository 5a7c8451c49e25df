/**
 * takt-uns-out: publishes samples to an MQTT unified namespace on the ISA-95 topic path, retained and at
 * QoS 1, as { value, ts, quality, unit? }. While the broker is away the last value per topic is kept and
 * published on reconnection. In Sparkplug B mode (sparkplug-mode.ts) it is an edge node instead.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { errorMessage, TaktError } from '../core/errors';
import { isBatch } from '../core/sample';
import { errorStatus, status, throttledStatus } from '../core/status';
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
    const broker = RED.nodes.getNode(def.broker) as BrokerNode | null;
    const conn = broker?.connection;
    if (!conn) {
      const why = broker
        ? (broker.configError ?? 'broker configuration is invalid')
        : 'no MQTT broker configured';
      this.status(status.disconnected(broker ? 'bad config' : 'no broker'));
      this.error(why);
      this.on('input', (_m, _s, done) => done(new TaktError('uns.noBroker', why)));
      return;
    }
    if (def.mode === 'sparkplug') {
      try {
        sparkplugMode(this, def, conn.options);
      } catch (err) {
        this.status(errorStatus(err));
        this.error(errorMessage(err));
        this.on('input', (_m, _s, done) => done(err as Error));
      }
      return;
    }
    const qos = ([0, 1, 2] as const).find((q) => q === Number(def.qos ?? 1)) ?? 1;
    const retain = def.retain !== false;
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

    this.on('input', (msg: Msg, _send, done) => {
      try {
        const now = Date.now();
        const items = isBatch(msg.payload)
          ? (
              msg.payload as {
                topic?: unknown;
                value: unknown;
                ts?: unknown;
                quality?: unknown;
                unit?: unknown;
              }[]
            ).map((s) => ({ ...s, topic: s.topic ?? msg.topic }))
          : [{ topic: msg.topic, value: msg.payload, ts: msg.ts, quality: msg.quality, unit: msg.unit }];
        // Check the whole message first: a bad sample refuses the message, nothing half-published.
        const out = items.map((s) => toUnsMessage(s, { prefix: def.prefix, now }));
        for (const m of out) {
          if (conn.state === 'connected') void publish(m);
          else buffer.put(m);
        }
        show();
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      shown.dispose();
      conn.off('state', onState);
      void conn
        .deregister(this)
        .catch((err: unknown) => this.warn(errorMessage(err)))
        .finally(done);
    });
  }
  RED.nodes.registerType('takt-uns-out', UnsOut);
};

export = init;
