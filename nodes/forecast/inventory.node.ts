/**
 * takt-inventory: keeps stock levels, open orders and forecasts per item (InventoryPlanner in
 * planner.ts, saved under the userDir) and, whenever an item changes, emits recommended orders for
 * human approval (output 1) and safety-stock alerts (output 2). msg.ts and msg.quality are read by
 * core/message (an update of quality "bad" is skipped); msg.action "reset" forgets every item.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readTimestamp, toQuality } from '../core/message';
import { JsonStore, nodeStateFile } from '../core/state';
import { status } from '../core/status';
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

type Msg = NodeMessageInFlow & {
  item?: unknown;
  action?: unknown;
  forecast?: unknown;
  ts?: unknown;
  quality?: unknown;
};

const init: NodeInitializer = (RED) => {
  function InventoryNode(this: Node, def: InventoryNodeDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const planner = new InventoryPlanner({
        serviceLevel: cfg.number('serviceLevel'),
        service: cfg.choice<ServiceType>('service', ['cycle', 'fill'], 'cycle'),
        leadTime: cfg.number('leadTime'),
        leadTimeSd: cfg.number('leadTimeSd', { default: 0 }),
        periodMs: cfg.duration('periodHours', { unit: 'h', default: 24, minMs: 1 }),
        orderQuantity: cfg.number('orderQuantity', { default: 0 }),
        orderCost: cfg.number('orderCost', { default: 0 }),
        holdingCost: cfg.number('holdingCost', { default: 0 }),
        coverPeriods: cfg.number('coverPeriods', { default: 1 }),
      });
      return { planner, kind: cfg.choice('kind', ['purchase', 'production'], 'purchase') };
    });
    if (!set) return;
    const { planner, kind } = set;
    const command = commandReader({ actions: ['reset'] }, (t) => this.warn(t));
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

    onInput<Msg>(this, (msg, send) => {
      if (command(msg) === 'reset') {
        planner.reset();
        store?.remove();
        this.status(status.idle('0 items'));
        return;
      }
      const item = msg.item ?? msg.topic;
      if (typeof item !== 'string' || !item)
        throw new TaktError('inventory.badItem', 'item: set msg.item (or msg.topic) to the item id', 'item');
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
      const now = readTimestamp(msg.ts, Date.now());
      if (toQuality(msg.quality) === 'bad') {
        this.status(status.warning(`${item}: bad quality`));
        return;
      }
      const plan = planner.update(item, u, now, kind);
      try {
        store?.save(planner.snapshot());
      } catch (err) {
        this.warn(`inventory state not saved: ${(err as Error).message}`);
      }
      if (!plan) {
        this.status(status.connecting(`${item}: waiting`));
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
    });
  }
  RED.nodes.registerType('takt-inventory', InventoryNode);
};

export = init;
