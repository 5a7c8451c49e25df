/**
 * takt-inventory: keeps stock levels, open orders and forecasts per item (InventoryPlanner in
 * planner.ts, saved under the userDir) and, whenever an item changes, emits recommended orders for
 * human approval (output 1) and safety-stock alerts (output 2).
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { JsonStore, nodeStateFile } from '../core/state';
import { errorStatus, status } from '../core/status';
import type { ServiceType } from './inventory';
import { InventoryPlanner, type ItemState, type ItemUpdate } from './planner';

interface InventoryNodeDef extends NodeDef {
  serviceLevel: string | number;
  service: string;
  leadTime: string | number;
  leadTimeSd: string | number;
  periodHours: string | number;
  orderQuantity: string | number;
  orderCost: string | number;
  holdingCost: string | number;
  coverPeriods: string | number;
  kind: string;
}

type Msg = NodeMessageInFlow & { item?: unknown; action?: unknown; forecast?: unknown; ts?: unknown };

const init: NodeInitializer = (RED) => {
  function InventoryNode(this: Node, def: InventoryNodeDef) {
    RED.nodes.createNode(this, def);
    let planner: InventoryPlanner;
    try {
      planner = new InventoryPlanner({
        serviceLevel: Number(def.serviceLevel),
        service: (def.service || 'cycle') as ServiceType,
        leadTime: Number(def.leadTime),
        leadTimeSd: Number(def.leadTimeSd) || 0,
        periodMs: (Number(def.periodHours) || 24) * 3600000,
        orderQuantity: Number(def.orderQuantity) || 0,
        orderCost: Number(def.orderCost) || 0,
        holdingCost: Number(def.holdingCost) || 0,
        coverPeriods: Number(def.coverPeriods) || 1,
      });
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
    const kind = def.kind === 'production' ? 'production' : 'purchase';
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const store = userDir
      ? new JsonStore<Record<string, ItemState>>(nodeStateFile(userDir, 'inventory', this.id))
      : undefined;
    try {
      planner.restore(store?.load());
    } catch (err) {
      this.warn((err as Error).message);
    }
    this.status(status.idle(`${planner.size} items`));

    this.on('input', (msg: Msg, send, done) => {
      try {
        if (msg.action === 'reset') {
          planner.reset();
          store?.remove();
          this.status(status.idle('0 items'));
          done();
          return;
        }
        const item = msg.item ?? msg.topic;
        if (typeof item !== 'string' || !item)
          throw new TaktError(
            'inventory.badItem',
            'item: set msg.item (or msg.topic) to the item id',
            'item',
          );
        const p = (typeof msg.payload === 'object' && msg.payload !== null ? msg.payload : {}) as ItemUpdate;
        const u: ItemUpdate = {
          onHand: p.onHand,
          openOrders: p.openOrders,
          forecast: p.forecast,
          sigma: p.sigma,
        };
        const fc = msg.forecast as { forecast?: unknown; sigma?: unknown } | undefined;
        if (fc && typeof fc === 'object' && Array.isArray(fc.forecast)) {
          u.forecast = fc.forecast;
          u.sigma = fc.sigma;
        }
        const now = typeof msg.ts === 'number' ? msg.ts : Date.now();
        const plan = planner.update(item, u, now, kind);
        try {
          store?.save(planner.snapshot());
        } catch (err) {
          this.warn(`inventory state not saved: ${(err as Error).message}`);
        }
        if (!plan) {
          this.status(status.connecting(`${item}: waiting`));
          done();
          return;
        }
        const orders = plan.recommendations.length
          ? { topic: item, item, payload: plan.recommendations, plan, approval: 'required' }
          : null;
        const alerts = plan.alerts.length
          ? { topic: item, item, payload: plan.alerts[0].text, alerts: plan.alerts }
          : null;
        send([orders, alerts]);
        this.status(
          plan.alerts.length ? status.warning(`${item}: below SS`) : status.ready(`${planner.size} items ok`),
        );
        done();
      } catch (err) {
        this.status(errorStatus(err));
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('takt-inventory', InventoryNode);
};

export = init;
