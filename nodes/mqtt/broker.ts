/**
 * takt-mqtt-broker (config): one MQTT broker and the single client every Takt MQTT node on it shares.
 * The connection (state machine, back-off, subscriptions) is in ./connection; this adaptor reads the
 * configuration and credentials and logs the state changes.
 */
import type { NodeDef, NodeInitializer } from 'node-red';
import { errorMessage } from '../core/errors';
import { MqttBrokerConnection } from './connection';
import type { BrokerCredentials, BrokerNode } from './broker-types';

interface BrokerDef extends NodeDef {
  url: string;
  clientId?: string;
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

const num = (v: unknown, dflt: number) =>
  v === undefined || v === '' || !Number.isFinite(Number(v)) ? dflt : Number(v);

const init: NodeInitializer = (RED) => {
  function BrokerConfig(this: BrokerNode, def: BrokerDef) {
    RED.nodes.createNode(this, def);
    const creds = this.credentials ?? {};
    try {
      this.connection = new MqttBrokerConnection({
        url: def.url ?? '',
        clientId: def.clientId ?? '',
        protocolVersion: Number(def.protocolVersion) === 5 ? 5 : 4,
        keepaliveSec: num(def.keepalive, 60),
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
        reconnectInitialMs: num(def.reconnectPeriod, 1000),
        reconnectMaxMs: num(def.reconnectMaxMs, 30000),
      });
      const url = this.connection.options.url;
      this.connection.on('state', (s, why) => {
        if (s === 'backoff') this.warn(`${url}: ${why ?? 'disconnected'}, retrying`);
        if (s === 'connected') this.log(`connected to ${url}`);
      });
    } catch (err) {
      this.configError = errorMessage(err);
      this.error(this.configError);
    }
    this.on('close', (done: () => void) => {
      void (this.connection?.close() ?? Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType<BrokerNode, BrokerDef, unknown, BrokerCredentials>(
    'takt-mqtt-broker',
    BrokerConfig,
    { credentials: { user: { type: 'text' }, password: { type: 'password' } } },
  );
};

export = init;
