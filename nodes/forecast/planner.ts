/**
 * The engine behind takt-inventory: a book of items, each with its latest stock level, open orders
 * and forecast, turned into a plan (recommended orders with due dates and reasons, safety-stock
 * alerts) whenever one of them changes. Pure: no Node-RED, time passed in; `snapshot()`/`restore()`
 * for state that survives restarts.
 */
import { TaktError } from '../core/errors';
import { checkServiceLevel, eoq, planOrders, safetyStock, type ServiceType } from './inventory';

export interface PlannerConfig {
  serviceLevel: number;
  service: ServiceType;
  /** Lead time in periods (> 0) and its standard deviation. */
  leadTime: number;
  leadTimeSd: number;
  /** Length of one forecast period in ms (e.g. a day). */
  periodMs: number;
  /** Fixed order quantity; 0 = EOQ when both costs are set, else order up to cover `coverPeriods`. */
  orderQuantity: number;
  orderCost: number;
  /** Holding cost per unit per period. */
  holdingCost: number;
  coverPeriods: number;
}

export interface ItemState {
  onHand?: number;
  stockTs?: number;
  openOrders: { quantity: number; due: number }[];
  forecast?: number[];
  sigma?: number;
  forecastTs?: number;
}

export interface ItemUpdate {
  onHand?: unknown;
  openOrders?: unknown;
  forecast?: unknown;
  sigma?: unknown;
}

export interface Recommendation {
  item: string;
  quantity: number;
  dueDate: string;
  releaseDate: string;
  reason: string;
  kind: 'purchase' | 'production';
}

export interface ItemPlan {
  item: string;
  safetyStock: number;
  reorderPoint: number;
  orderQuantity?: number;
  projected: number[];
  recommendations: Recommendation[];
  alerts: { item: string; date: string; projected: number; safetyStock: number; text: string }[];
}

const num = (v: unknown, field: string, min = 0): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new TaktError('inventory.badInput', `${field}: ${String(v)} must be a number >= ${min}`, field);
  return v;
};

export function checkPlannerConfig(c: PlannerConfig): PlannerConfig {
  checkServiceLevel(c.serviceLevel);
  if (c.service !== 'cycle' && c.service !== 'fill')
    throw new TaktError(
      'inventory.badService',
      `service: "${String(c.service)}" is not cycle or fill`,
      'service',
    );
  if (!(c.leadTime > 0))
    throw new TaktError(
      'inventory.badLeadTime',
      `leadTime: ${String(c.leadTime)} must be positive`,
      'leadTime',
    );
  num(c.leadTimeSd, 'leadTimeSd');
  if (!(c.periodMs > 0)) throw new TaktError('inventory.badPeriod', 'periodMs: must be positive', 'periodMs');
  num(c.orderQuantity, 'orderQuantity');
  num(c.orderCost, 'orderCost');
  num(c.holdingCost, 'holdingCost');
  num(c.coverPeriods, 'coverPeriods', 1);
  return c;
}

/** Items one planner follows; a message about one more new item is refused (`inventory.tooManyItems`). */
export const MAX_ITEMS = 10000;

export class InventoryPlanner {
  private items = new Map<string, ItemState>();
  /** Updates refused because MAX_ITEMS items were already followed, since creation. */
  refusedItems = 0;
  readonly config: PlannerConfig;
  constructor(config: PlannerConfig) {
    this.config = checkPlannerConfig({ ...config });
  }

  /** Applies an update for one item; returns its plan when stock and forecast are both known. */
  update(
    item: string,
    u: ItemUpdate,
    now: number,
    kind: 'purchase' | 'production' = 'purchase',
  ): ItemPlan | undefined {
    if (typeof item !== 'string' || !item)
      throw new TaktError('inventory.badItem', 'item: a non-empty string is required', 'item');
    if (!this.items.has(item) && this.items.size >= MAX_ITEMS) {
      this.refusedItems++;
      throw new TaktError(
        'inventory.tooManyItems',
        `item: "${item.slice(0, 40)}" not taken, the planner already follows ${MAX_ITEMS} items (${this.refusedItems} refused)`,
        'item',
      );
    }
    const st = this.items.get(item) ?? { openOrders: [] };
    if (u.onHand !== undefined) {
      st.onHand = num(u.onHand, 'onHand');
      st.stockTs = now;
    }
    if (u.openOrders !== undefined) {
      if (!Array.isArray(u.openOrders))
        throw new TaktError('inventory.badInput', 'openOrders: must be an array', 'openOrders');
      st.openOrders = u.openOrders.map((o: unknown, i) => {
        const r = (o ?? {}) as { quantity?: unknown; due?: unknown };
        const due = typeof r.due === 'string' ? Date.parse(r.due) : r.due;
        if (typeof due !== 'number' || !Number.isFinite(due))
          throw new TaktError(
            'inventory.badInput',
            `openOrders[${i}].due: not a date or epoch ms`,
            'openOrders',
          );
        return { quantity: num(r.quantity, `openOrders[${i}].quantity`), due };
      });
    }
    if (u.forecast !== undefined) {
      if (!Array.isArray(u.forecast) || !u.forecast.length)
        throw new TaktError(
          'inventory.badInput',
          'forecast: must be a non-empty array of numbers',
          'forecast',
        );
      st.forecast = u.forecast.map((v, i) => Math.max(0, num(v, `forecast[${i}]`, -Infinity)));
      st.sigma = u.sigma === undefined ? 0 : num(u.sigma, 'sigma');
      st.forecastTs = now;
    }
    this.items.set(item, st);
    if (st.onHand === undefined || !st.forecast) return undefined;
    return this.plan(item, st, now, kind);
  }

  private plan(item: string, st: ItemState, now: number, kind: 'purchase' | 'production'): ItemPlan {
    const c = this.config;
    const fc = st.forecast as number[];
    const demand = fc.reduce((a, b) => a + b, 0) / fc.length;
    let q: number | undefined = c.orderQuantity > 0 ? c.orderQuantity : undefined;
    if (q === undefined && c.orderCost > 0 && c.holdingCost > 0 && demand > 0)
      q = eoq({ demand, orderCost: c.orderCost, holdingCost: c.holdingCost });
    const ss = safetyStock({
      demand,
      demandSd: st.sigma ?? 0,
      leadTime: c.leadTime,
      leadTimeSd: c.leadTimeSd,
      serviceLevel: c.serviceLevel,
      service: c.service,
      orderQuantity: q ?? Math.max(demand * c.coverPeriods, 1e-9),
    });
    const safety = Math.max(0, ss.safetyStock);
    const periodOf = (ts: number) => Math.floor((ts - now) / c.periodMs);
    const p = planOrders({
      onHand: st.onHand as number,
      openOrders: st.openOrders.map((o) => ({ quantity: o.quantity, due: Math.max(0, periodOf(o.due)) })),
      forecast: fc,
      safetyStock: safety,
      leadTime: Math.max(1, Math.round(c.leadTime)),
      orderQuantity: q,
      coverPeriods: c.coverPeriods,
    });
    const date = (k: number) => new Date(now + k * c.periodMs).toISOString();
    return {
      item,
      safetyStock: safety,
      reorderPoint: ss.reorderPoint,
      ...(q !== undefined ? { orderQuantity: q } : {}),
      projected: p.projected,
      recommendations: p.orders.map((o) => ({
        item,
        kind,
        quantity: Math.ceil(o.quantity),
        dueDate: date(o.due),
        releaseDate: date(o.release),
        reason: o.reason,
      })),
      alerts: p.alerts.map((a) => ({
        item,
        date: date(a.period),
        projected: a.projected,
        safetyStock: a.safetyStock,
        text: `${item}: projected stock ${a.projected.toFixed(1)} below safety stock ${a.safetyStock.toFixed(1)} on ${date(a.period).slice(0, 10)}`,
      })),
    };
  }

  get size(): number {
    return this.items.size;
  }

  snapshot(): Record<string, ItemState> {
    return Object.fromEntries(this.items);
  }

  restore(s: Record<string, ItemState> | undefined): void {
    this.items = new Map(Object.entries(s ?? {}));
  }

  reset(): void {
    this.items.clear();
  }
}
