/**
 * Inventory policies from a forecast: lead-time demand, safety stock and reorder point for a cycle
 * service level or a fill rate, EOQ, (s, S) and periodic-review (R, S) policies, a Monte Carlo
 * simulation of a policy over the forecast horizon, and an order plan (projected stock, recommended
 * orders with due period and reason, safety-stock alerts). Textbook formulas: Silver, Pyke &
 * Thomas, "Inventory and Production Management in Supply Chains" (4th ed., 2017), chapters 4 and 6.
 */
import { TaktError } from '../core/errors';
import { Rng } from '../core/random';
import { normalLoss, normalQuantile } from '../core/normal';

export type ServiceType = 'cycle' | 'fill';

export interface LeadTimeInput {
  /** Mean demand per period (e.g. the forecast). */
  demand: number;
  /** Standard deviation of demand (forecast error) per period. */
  demandSd: number;
  /** Mean lead time in periods (> 0). */
  leadTime: number;
  /** Standard deviation of the lead time in periods (default 0). */
  leadTimeSd?: number;
}

export interface SafetyStockInput extends LeadTimeInput {
  /** Target in (0, 1): probability of no stock-out per cycle, or the fill rate. */
  serviceLevel: number;
  service?: ServiceType;
  /** Order quantity, needed for a fill-rate target. */
  orderQuantity?: number;
}

export interface SafetyStockResult {
  leadTimeDemand: number;
  leadTimeSd: number;
  /** Safety factor k (z for a cycle service level). */
  k: number;
  safetyStock: number;
  reorderPoint: number;
}

function positive(v: unknown, field: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
    throw new TaktError(
      `inventory.bad${field[0].toUpperCase()}${field.slice(1)}`,
      `${field}: ${String(v)} must be a ${allowZero ? 'non-negative' : 'positive'} number`,
      field,
    );
  return v;
}

export function checkServiceLevel(p: unknown, field = 'serviceLevel'): number {
  if (typeof p !== 'number' || !(p > 0 && p < 1))
    throw new TaktError('inventory.badServiceLevel', `${field}: ${String(p)} is outside (0, 1)`, field);
  return p;
}

/** Mean and standard deviation of demand over a random lead time: σ² = L·σd² + d²·σL². */
export function leadTimeDemand(x: LeadTimeInput): { mean: number; sd: number } {
  const d = positive(x.demand, 'demand', true);
  const sd = positive(x.demandSd, 'demandSd', true);
  const L = positive(x.leadTime, 'leadTime');
  const sL = positive(x.leadTimeSd ?? 0, 'leadTimeSd', true);
  return { mean: d * L, sd: Math.sqrt(L * sd * sd + d * d * sL * sL) };
}

/** Safety factor k for a fill rate β with order quantity Q: σ·G(k) = (1 − β)·Q (bisection). */
export function fillRateFactor(beta: number, q: number, sd: number): number {
  const target = ((1 - beta) * q) / sd;
  if (sd === 0) return 0;
  let lo = -6;
  let hi = 8;
  if (normalLoss(lo) <= target) return lo;
  for (let i = 0; i < 100; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalLoss(mid) > target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export function safetyStock(x: SafetyStockInput): SafetyStockResult {
  const p = checkServiceLevel(x.serviceLevel);
  const { mean, sd } = leadTimeDemand(x);
  let k: number;
  if ((x.service ?? 'cycle') === 'cycle') k = normalQuantile(p);
  else {
    const q = positive(x.orderQuantity, 'orderQuantity');
    k = fillRateFactor(p, q, sd);
  }
  const ss = k * sd;
  return { leadTimeDemand: mean, leadTimeSd: sd, k, safetyStock: ss, reorderPoint: mean + ss };
}

/** Economic order quantity √(2·D·K / h) (Harris 1913). */
export function eoq(x: { demand: number; orderCost: number; holdingCost: number }): number {
  const D = positive(x.demand, 'demand', true);
  const K = positive(x.orderCost, 'orderCost');
  const h = positive(x.holdingCost, 'holdingCost');
  return Math.sqrt((2 * D * K) / h);
}

export type Policy = { type: 'sS'; s: number; S: number } | { type: 'RS'; R: number; S: number };

/** (s, S): s = reorder point for the target, S = s + Q (Q the EOQ or given). */
export function sSPolicy(x: SafetyStockInput & { orderQuantity: number }): {
  type: 'sS';
  s: number;
  S: number;
  safetyStock: number;
} {
  const r = safetyStock(x);
  const Q = positive(x.orderQuantity, 'orderQuantity');
  return { type: 'sS', s: r.reorderPoint, S: r.reorderPoint + Q, safetyStock: r.safetyStock };
}

/** (R, S): order up to S every R periods; protection interval R + L. */
export function rSPolicy(x: SafetyStockInput & { reviewPeriod: number }): {
  type: 'RS';
  R: number;
  S: number;
  safetyStock: number;
} {
  const R = positive(x.reviewPeriod, 'reviewPeriod');
  const r = safetyStock({ ...x, leadTime: x.leadTime + R });
  return { type: 'RS', R, S: r.reorderPoint, safetyStock: r.safetyStock };
}

export interface SimulationInput {
  /** Demand forecast per period over the horizon. */
  forecast: readonly number[];
  /** Forecast error standard deviation per period (normal demand truncated at 0). */
  demandSd: number;
  policy: Policy;
  initialStock: number;
  /** Lead time in whole periods (>= 1); with leadTimeSd it varies per order. */
  leadTime: number;
  leadTimeSd?: number;
  holdingCost?: number;
  runs?: number;
  seed?: number;
}

export interface SimulationResult {
  /** Expected number of periods with unmet demand over the horizon. */
  stockouts: number;
  fillRate: number;
  /** Expected holding cost (mean on-hand × holdingCost, summed over periods). */
  carryingCost: number;
  meanOnHand: number;
  orders: number;
}

/**
 * Monte Carlo run of a policy over the forecast horizon (lost sales). Each period: receipts arrive,
 * the policy reviews the inventory position and orders (arriving `leadTime` periods later, at the
 * start of that period), then demand is served.
 */
export function simulate(x: SimulationInput): SimulationResult {
  const h = x.forecast.length;
  const L = positive(x.leadTime, 'leadTime');
  const runs = x.runs ?? 1000;
  const rng = new Rng(x.seed ?? 1);
  const hc = x.holdingCost ?? 0;
  let stockouts = 0;
  let served = 0;
  let demanded = 0;
  let onHandSum = 0;
  let orders = 0;
  for (let r = 0; r < runs; r++) {
    let onHand = x.initialStock;
    const pipeline = new Array<number>(h + 64).fill(0);
    for (let t = 0; t < h; t++) {
      onHand += pipeline[t];
      const position = onHand + pipeline.slice(t + 1).reduce((a, b) => a + b, 0);
      const p = x.policy;
      const review = p.type === 'sS' ? position <= p.s : t % Math.max(1, Math.round(p.R)) === 0;
      if (review && position < p.S) {
        const lt = Math.max(1, Math.round(L + (x.leadTimeSd ? rng.normal() * x.leadTimeSd : 0)));
        if (t + lt < pipeline.length) pipeline[t + lt] += p.S - position;
        orders++;
      }
      const d = Math.max(0, x.forecast[t] + rng.normal() * x.demandSd);
      const s = Math.min(onHand, d);
      if (s < d - 1e-12) stockouts++;
      served += s;
      demanded += d;
      onHand -= s;
      onHandSum += onHand;
    }
  }
  return {
    stockouts: stockouts / runs,
    fillRate: demanded > 0 ? served / demanded : 1,
    carryingCost: (onHandSum / runs) * hc,
    meanOnHand: onHandSum / runs / Math.max(1, h),
    orders: orders / runs,
  };
}

export interface OpenOrder {
  quantity: number;
  /** Period index (0 = the current period) in which it arrives. */
  due: number;
}

export interface PlanInput {
  onHand: number;
  openOrders?: OpenOrder[];
  forecast: readonly number[];
  safetyStock: number;
  /** Lead time in whole periods (>= 1). */
  leadTime: number;
  /** Fixed order quantity (e.g. EOQ); otherwise order up to safety stock + demand over the review span. */
  orderQuantity?: number;
  /** Periods of demand an order-up-to covers (default 1). */
  coverPeriods?: number;
}

export interface PlannedOrder {
  quantity: number;
  /** Period in which it must arrive. */
  due: number;
  /** Period in which it must be released (due − lead time, at least 0). */
  release: number;
  reason: string;
}

export interface PlanResult {
  /** Projected stock at the end of each period, with the recommended orders. */
  projected: number[];
  /** Projected stock without new orders. */
  projectedWithout: number[];
  orders: PlannedOrder[];
  /** Periods in which projected stock (without new orders) falls below safety stock. */
  alerts: { period: number; projected: number; safetyStock: number }[];
}

/** Time-phased plan (MRP style): an order arrives wherever projected stock would drop below safety stock. */
export function planOrders(x: PlanInput): PlanResult {
  const onHand = positive(x.onHand, 'onHand', true);
  const ss = positive(x.safetyStock, 'safetyStock', true);
  const L = Math.round(positive(x.leadTime, 'leadTime'));
  const h = x.forecast.length;
  const receipts = new Array<number>(h).fill(0);
  for (const [i, o] of (x.openOrders ?? []).entries()) {
    positive(o.quantity, `openOrders[${i}].quantity`, true);
    const due = Math.max(0, Math.floor(o.due));
    if (due < h) receipts[due] += o.quantity;
  }
  const cover = Math.max(1, Math.round(x.coverPeriods ?? 1));
  const without: number[] = [];
  let s = onHand;
  for (let t = 0; t < h; t++) {
    s += receipts[t] - x.forecast[t];
    without.push(s);
  }
  const alerts = without
    .map((p, period) => ({ period, projected: p, safetyStock: ss }))
    .filter((a) => a.projected < ss);
  const orders: PlannedOrder[] = [];
  const projected: number[] = [];
  s = onHand;
  for (let t = 0; t < h; t++) {
    s += receipts[t] - x.forecast[t];
    if (s < ss) {
      const need = ss - s;
      const upTo = need + x.forecast.slice(t + 1, t + cover).reduce((a, b) => a + b, 0);
      const q =
        x.orderQuantity !== undefined
          ? Math.max(x.orderQuantity, Math.ceil(need / x.orderQuantity) * x.orderQuantity)
          : upTo;
      const release = Math.max(0, t - L);
      orders.push({
        quantity: q,
        due: t,
        release,
        reason:
          t - L < 0
            ? `projected stock ${s.toFixed(1)} below safety stock ${ss.toFixed(1)} in period ${t}, inside the lead time of ${L}: expedite`
            : `projected stock ${s.toFixed(1)} below safety stock ${ss.toFixed(1)} in period ${t}`,
      });
      s += q;
    }
    projected.push(s);
  }
  return { projected, projectedWithout: without, orders, alerts };
}

/** Replays a policy against actual demand, with the period order of `simulate` (deterministic). */
export function replayPolicy(x: {
  demand: readonly number[];
  policy: Policy;
  initialStock: number;
  leadTime: number;
}): {
  served: number;
  demanded: number;
  fillRate: number;
  stockouts: number;
  meanOnHand: number;
} {
  const L = Math.max(1, Math.round(positive(x.leadTime, 'leadTime')));
  const h = x.demand.length;
  const pipeline = new Array<number>(h + L + 1).fill(0);
  let onHand = x.initialStock;
  let served = 0;
  let demanded = 0;
  let stockouts = 0;
  let onHandSum = 0;
  for (let t = 0; t < h; t++) {
    onHand += pipeline[t];
    let position = onHand;
    for (let j = t + 1; j < pipeline.length; j++) position += pipeline[j];
    const p = x.policy;
    const review = p.type === 'sS' ? position <= p.s : t % Math.max(1, Math.round(p.R)) === 0;
    if (review && position < p.S) pipeline[t + L] += p.S - position;
    const d = x.demand[t];
    const s = Math.min(onHand, d);
    if (s < d) stockouts++;
    served += s;
    demanded += d;
    onHand -= s;
    onHandSum += onHand;
  }
  return {
    served,
    demanded,
    fillRate: demanded > 0 ? served / demanded : 1,
    stockouts,
    meanOnHand: onHandSum / Math.max(1, h),
  };
}

/**
 * Order-up-to level from the empirical distribution of demand over the protection interval (sums of
 * `window` consecutive periods of the history), for intermittent demand where the normal
 * approximation fails. Cycle service: the empirical quantile. Fill rate β: the smallest S whose
 * expected shortage per cycle E[(D − S)⁺] is at most (1 − β) times the demand per review
 * (`reviewDemand`, e.g. forecast × R).
 */
export function empiricalOrderUpTo(x: {
  history: readonly number[];
  window: number;
  serviceLevel: number;
  service?: ServiceType;
  reviewDemand?: number;
}): number {
  const p = checkServiceLevel(x.serviceLevel);
  const w = Math.round(positive(x.window, 'window'));
  const sums: number[] = [];
  for (let t = 0; t + w <= x.history.length; t++) {
    let s = 0;
    for (let j = t; j < t + w; j++) s += x.history[j];
    sums.push(s);
  }
  if (!sums.length) throw new TaktError('inventory.tooShort', `history: fewer than ${w} values`, 'history');
  sums.sort((a, b) => a - b);
  if ((x.service ?? 'cycle') === 'cycle')
    return sums[Math.min(sums.length - 1, Math.ceil(p * sums.length) - 1)];
  const perReview = x.reviewDemand ?? sums.reduce((a, b) => a + b, 0) / sums.length / w;
  const allowed = (1 - p) * perReview;
  const shortage = (S: number) => sums.reduce((a, d) => a + Math.max(0, d - S), 0) / sums.length;
  let lo = 0;
  let hi = sums[sums.length - 1];
  if (shortage(lo) <= allowed) return 0;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (shortage(mid) > allowed) lo = mid;
    else hi = mid;
  }
  return hi;
}
