/**
 * takt-mqtt-broker (config): one MQTT broker and the single client every Takt MQTT node on it shares.
 * The connection (state machine, back-off, failover between several URLs, kept sessions,
 * subscriptions) is in ./connection; this adaptor reads the
 * configuration and credentials and logs the state changes.
 */
import type { NodeDef, NodeInitializer } from 'node-red';
import { configReader, onClose } from '../core/adaptor';
import { errorMessage } from '../core/errors';
import { MqttBrokerConnection } from './connection';
import type { BrokerCredentials, BrokerNode } from './broker-types';

interface BrokerDef extends NodeDef {
  url: string;
  clientId?: string;
  cleanSession?: boolean;
  protocolVersion?: string | number;
  keepalive?: string | number;
  usetls?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized?: boolean;
  reconnectPeriod?: string | number;
  reconnectMaxMs?: string | number;
}

const init: NodeInitializer = (RED) => {
  function BrokerConfig(this: BrokerNode, def: BrokerDef) {
    RED.nodes.createNode(this, def);
    const creds = this.credentials ?? {};
    try {
      const cfg = configReader(def);
      this.connection = new MqttBrokerConnection({
        url: def.url ?? '',
        clientId: def.clientId ?? '',
        cleanSession: def.cleanSession !== false,
        protocolVersion: cfg.number('protocolVersion', { default: 4 }) === 5 ? 5 : 4,
        keepaliveSec: cfg.number('keepalive', { default: 60 }),
        ...(creds.user ? { username: creds.user } : {}),
        ...(creds.password ? { password: creds.password } : {}),
        ...(def.usetls
          ? {
              tls: {
                caFile: def.caFile?.trim() || undefined,
                certFile: def.certFile?.trim() || undefined,
                keyFile: def.keyFile?.trim() || undefined,
                rejectUnauthorized: def.rejectUnauthorized !== false,
              },
            }
          : {}),
        reconnectInitialMs: cfg.number('reconnectPeriod', { default: 1000, min: 0 }),
        reconnectMaxMs: cfg.number('reconnectMaxMs', { default: 30000, min: 0 }),
      });
      const connection = this.connection;
      connection.on('state', (s, why) => {
        if (s === 'backoff') this.warn(`${connection.server}: ${why ?? 'disconnected'}, retrying`);
        if (s === 'connected') this.log(`connected to ${connection.server}`);
      });
    } catch (err) {
      this.configError = errorMessage(err);
      this.error(this.configError);
    }
    onClose(this, () => this.connection?.close());
  }
  RED.nodes.registerType<BrokerNode, BrokerDef, unknown, BrokerCredentials>(
    'takt-mqtt-broker',
    BrokerConfig,
    { credentials: { user: { type: 'text' }, password: { type: 'password' } } },
  );
};

export = init;
