/** The takt-mqtt-broker config node as its users (broker, sparkplug-in, uns-out) see it: types only. */
import type { Node } from 'node-red';
import type { MqttBrokerConnection } from './connection';

export interface BrokerCredentials {
  user?: string;
  password?: string;
}

/** The takt-mqtt-broker config node as its users see it. */
export interface BrokerNode extends Node<BrokerCredentials> {
  /** Undefined when the configuration is invalid (the reason is in `configError`). */
  connection?: MqttBrokerConnection;
  configError?: string;
}
