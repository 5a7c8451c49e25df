/**
 * takt-uns-out in Sparkplug B edge-node mode: its own MQTT session to the configured broker (a Sparkplug
 * edge node needs its own last will, the NDEATH, so it cannot share the broker node's client), births on
 * every connection, DDATA for samples, Rebirth on command, NDEATH on a clean stop.
 */
import type { Node, NodeMessageInFlow } from 'node-red';
import { errorMessage } from '../core/errors';
import { isBatch } from '../core/sample';
import { errorStatus, status, throttledStatus } from '../core/status';
import type { BrokerOptions } from '../mqtt/connection';
import { SparkplugSession } from '../mqtt/sparkplug-session';
import { SparkplugEdge, type EdgeSample, type SpMessage } from './sparkplug-edge';

export interface SparkplugDef {
  prefix?: string;
  groupId?: string;
  edgeNodeId?: string;
  deviceLevel?: string | number;
}

type Msg = NodeMessageInFlow & { ts?: unknown; quality?: unknown; unit?: unknown };

/** Wires a takt-uns-out node as a Sparkplug edge node on the broker node's settings. Throws TaktError on a bad configuration. */
export function sparkplugMode(node: Node, def: SparkplugDef, broker: BrokerOptions) {
  const level = def.deviceLevel === undefined || def.deviceLevel === '' ? undefined : Number(def.deviceLevel);
  const edge = new SparkplugEdge({
    groupId: (def.groupId ?? '').trim(),
    edgeNodeId: (def.edgeNodeId ?? '').trim(),
    deviceLevel: level,
    prefix: def.prefix,
  });
  // Its own session (mqtt/sparkplug-session.ts): the NDEATH as will, the next bdSeq after each lost session.
  const session = new SparkplugSession(edge, { ...broker, clientId: undefined });
  const conn = session.conn;
  const shown = throttledStatus((s) => node.status(s));
  let sent = 0;
  const show = () =>
    shown.update(() =>
      conn.state === 'connected'
        ? status.connected(`${edge.metricCount} metrics, ${sent} sent`)
        : status.disconnected(`holding ${edge.metricCount}`),
    );
  // QoS 0 and not retained, as Sparkplug asks of births and data.
  const send = (out: SpMessage[]) => {
    for (const m of out) {
      conn.publish(m.topic, m.payload, { qos: 0, retain: false }).then(
        () => sent++,
        // Lost with the connection: the births of the next session carry the last values.
        () => undefined,
      );
    }
    show();
  };
  const offState = session.onState((s) => {
    if (s === 'connected') send(edge.birth());
    show();
  });
  conn.subscribe(
    node,
    [edge.commandTopic],
    (_topic, payload) => {
      try {
        send(edge.command(payload));
      } catch (err) {
        node.warn(errorMessage(err));
      }
    },
    1,
  );
  show();

  node.on('input', (msg: Msg, _send, done) => {
    try {
      const items: EdgeSample[] = isBatch(msg.payload)
        ? (msg.payload as EdgeSample[]).map((s) => ({ ...s, topic: s.topic ?? msg.topic }))
        : [{ topic: msg.topic, value: msg.payload, ts: msg.ts, quality: msg.quality, unit: msg.unit }];
      send(edge.update(items, conn.state === 'connected'));
      done();
    } catch (err) {
      shown.now(errorStatus(err));
      done(err as Error);
    }
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    shown.dispose();
    offState();
    // NDEATH said, its acknowledgement waited for at most 2 s; without one the connection is dropped first
    // (its clean close would wait for that acknowledgement; the broker's will covers the death), as the
    // simulator does, and the node is not started again.
    void session
      .sayDeath()
      .then((acked) => {
        if (!acked) conn.dropConnection('stopped');
        return conn.deregister(node);
      })
      .catch((err: unknown) => node.warn(errorMessage(err)))
      .finally(done);
  });
}
