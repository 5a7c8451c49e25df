/**
 * takt-fleet-lease: a gate for singleton work. A message passes (output 1) only on the box that holds the
 * lease right now; on the others it is dropped. Output 2 carries every change of who holds the lease (for a
 * dashboard table: holder, since, the fleet's boxes), and the status says "held" or who holds it.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { configNodeStatus, configReader, onClose, onInput, requireConfigNode, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import type { FleetNode } from './fleet-types';
import { type FleetView, leaseStatus } from './lease';

interface LeaseDef extends NodeDef {
  fleet: string;
  lease?: string;
}

const init: NodeInitializer = (RED) => {
  function FleetLease(this: Node, def: LeaseDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(
      this,
      () => {
        const fleet = RED.nodes.getNode(def.fleet) as FleetNode | null;
        const keeper = requireConfigNode(fleet, (n) => n.keeper(), {
          feature: 'fleet',
          field: 'fleet',
          label: 'fleet',
        });
        const leases = fleet?.leases ?? [];
        const lease = configReader(def).string('lease', '') || leases[0] || '';
        if (!leases.includes(lease)) {
          throw new TaktError(
            'fleet.unknownLease',
            `lease "${lease}" is not one of the fleet's leases (${leases.join(', ') || 'none'})`,
            'lease',
          );
        }
        return { keeper, lease };
      },
      { status: configNodeStatus },
    );
    if (!set) return;
    const { keeper, lease } = set;
    let last = '';
    const onChange = (v: FleetView) => {
      const mine = v.leases.find((l) => l.lease === lease);
      this.status(leaseStatus(mine, v.connected));
      const payload = {
        ...(mine ?? { lease, holder: null, mine: false, since: null }),
        box: v.box,
        boxes: v.boxes,
      };
      const key = JSON.stringify([payload, v.connected]);
      if (key === last) return;
      last = key;
      this.send([null, { topic: lease, payload }]);
    };
    keeper.on('change', onChange);
    onChange(keeper.view());
    onInput(this, (msg: object, send) => {
      if (keeper.holds(lease)) send([msg, null]);
    });
    onClose(this, () => keeper.off('change', onChange));
  }
  RED.nodes.registerType('takt-fleet-lease', FleetLease);
};

export = init;
