/**
 * takt-fleet (config): this edge box in a fleet of Takt runtimes: its name, role, peers and the singleton
 * leases it may hold. The leases are kept by the broker of a takt-mqtt-broker node (./lease), on a
 * connection of the fleet's own whose last will clears this box's heartbeat. Same flow file on every box:
 * the box name usually comes from an environment variable (${BOX}).
 */
import { hostname } from 'node:os';
import type { NodeDef, NodeInitializer } from 'node-red';
import { configReader, onClose, requireConfigNode } from '../core/adaptor';
import { errorMessage } from '../core/errors';
import type { BrokerNode } from '../mqtt/broker-types';
import { MqttBrokerConnection } from '../mqtt/connection';
import type { FleetNode } from './fleet-types';
import { checkName, leaseNames, LeaseKeeper } from './lease';

interface FleetDef extends NodeDef {
  broker: string;
  box: string;
  role?: string;
  peers?: string;
  leases?: string;
  prefix?: string;
}

const init: NodeInitializer = (RED) => {
  function FleetConfig(this: FleetNode, def: FleetDef) {
    RED.nodes.createNode(this, def);
    let keeper: LeaseKeeper | undefined;
    let connection: MqttBrokerConnection | undefined;
    this.leases = [];
    try {
      const cfg = configReader(def);
      // Empty: the host name (made into one topic level).
      const box = checkName('box', cfg.string('box', '') || hostname().replace(/[^A-Za-z0-9_.-]/g, '-'));
      const role = cfg.string('role', '');
      const prefix = cfg.string('prefix', 'takt/fleet');
      this.leases = leaseNames(def.leases ?? '');
      // Built on first use: the broker config node may be created after this one.
      this.keeper = () => {
        if (keeper) return keeper;
        const broker = requireConfigNode(
          RED.nodes.getNode(def.broker) as BrokerNode | null,
          (n) => n.connection,
          { feature: 'fleet', field: 'broker', label: 'MQTT broker' },
        );
        connection = new MqttBrokerConnection({
          ...broker.options,
          clientId: `${box}_fleet`,
          cleanSession: true,
          will: LeaseKeeper.will(prefix, box),
        });
        keeper = new LeaseKeeper(connection, { box, role, leases: this.leases, prefix });
        keeper.on('warning', (w) => this.warn(w));
        keeper.start();
        return keeper;
      };
    } catch (err) {
      this.configError = errorMessage(err);
      this.keeper = () => {
        throw err;
      };
      this.error(this.configError);
    }
    onClose(
      this,
      () => keeper?.stop(),
      () => connection?.close(),
    );
  }
  RED.nodes.registerType('takt-fleet', FleetConfig);
};

export = init;
