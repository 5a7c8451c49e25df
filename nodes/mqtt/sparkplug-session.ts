/**
 * The MQTT session of a Sparkplug B edge node, shared by the simulator (sim/sparkplug.ts) and takt-uns-out
 * in Sparkplug mode (uns/sparkplug-mode.ts): its own broker connection (connection.ts) whose last will is
 * the NDEATH, the next bdSeq in that will after every lost or refused session, and a clean NDEATH published
 * on stop, its acknowledgement waited for at most `DEATH_ACK_MS`. What the edge node publishes (births,
 * data) and when stays with its owner, as does what follows an unacknowledged NDEATH. No Node-RED import.
 */
import { within } from '../core/time';
import { type BrokerOptions, type BrokerState, MqttBrokerConnection } from './connection';
import type { SparkplugEdgeEngine } from './sparkplug-edge';

/** How long a clean stop waits for the broker to acknowledge the NDEATH (a broker stopping too never may). */
export const DEATH_ACK_MS = 2000;

export class SparkplugSession {
  /** The session's connection: births, data and commands go over it. */
  readonly conn: MqttBrokerConnection;
  private readonly edge: SparkplugEdgeEngine;

  /** Throws TaktError (mqtt.badUrl, ...) on a bad URL or option. */
  constructor(edge: SparkplugEdgeEngine, broker: Omit<BrokerOptions, 'will'>) {
    this.edge = edge;
    this.conn = new MqttBrokerConnection({
      ...broker,
      will: { topic: edge.topic('NDEATH'), payload: edge.death().payload, qos: 1, retain: false },
    });
  }

  /**
   * Follows the connection's state (`fn` after the session's own step); returns the function that stops
   * following. On `backoff`, once per lost or refused session, the will already carries the next bdSeq, so
   * the next CONNECT announces the next session.
   */
  onState(fn: (state: BrokerState, why: string | undefined) => void): () => void {
    const listener = (state: BrokerState, why: string | undefined) => {
      if (state === 'backoff') this.nextSession();
      fn(state, why);
    };
    this.conn.on('state', listener);
    return () => this.conn.off('state', listener);
  }

  /** The next CONNECT starts a new session: the next bdSeq, in the will. */
  nextSession(): void {
    this.edge.sessionLost();
    this.conn.setWillPayload(this.edge.death().payload);
  }

  /**
   * Says NDEATH itself, as a clean stop must (the broker sends the will only when a client vanishes), and
   * waits for the broker's acknowledgement at most `DEATH_ACK_MS`. True when it was acknowledged; false
   * when not connected, refused or not acknowledged in time.
   */
  async sayDeath(): Promise<boolean> {
    if (!this.conn.connected) return false;
    const acked = this.conn.publish(this.edge.topic('NDEATH'), this.edge.death().payload, { qos: 1 }).then(
      () => true,
      () => false,
    );
    return (await within(acked, DEATH_ACK_MS)) === true;
  }
}
