import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import * as forecast from '../../nodes/forecast';

const close = (a: number, b: number, tol = 1e-9, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} is not within ${tol} of ${b}`);
const code = (c: string) => (err: unknown) => err instanceof TaktError && err.code === c;

describe('inventory engine', () => {
  describe('normal distribution', () => {
    it('quantiles match the standard tables', () => {
      close(forecast.normalQuantile(0.95), 1.6448536269514722, 1e-7);
      close(forecast.normalQuantile(0.975), 1.959963984540054, 1e-7);
      close(forecast.normalQuantile(0.5), 0, 1e-9);
      close(forecast.normalQuantile(0.01), -2.3263478740408408, 1e-7);
      close(forecast.normalQuantile(0.999), 3.090232306167813, 1e-6);
    });
    it('loss function: G(0) = 1/sqrt(2 pi), G(0.9) = 0.1004, G(2.0) = 0.0085 (tables)', () => {
      close(forecast.normalLoss(0), 1 / Math.sqrt(2 * Math.PI), 1e-7);
      close(forecast.normalLoss(0.9), 0.1004, 5e-5);
      close(forecast.normalLoss(2), 0.0085, 5e-5);
    });
  });

  describe('safety stock and policies', () => {
    it('safety stock from the normal quantile: 95% cycle service, d 100, sd 20, L 4', () => {
      const r = forecast.safetyStock({ demand: 100, demandSd: 20, leadTime: 4, serviceLevel: 0.95 });
      close(r.leadTimeSd, 40);
      close(r.safetyStock, 1.6448536269514722 * 40, 1e-5);
      close(r.reorderPoint, 400 + 1.6448536269514722 * 40, 1e-5);
    });
    it('lead-time variability adds d^2 sigma_L^2', () => {
      const r = forecast.leadTimeDemand({ demand: 100, demandSd: 20, leadTime: 4, leadTimeSd: 1 });
      close(r.sd, Math.sqrt(4 * 400 + 100 * 100));
    });
    it('fill-rate safety factor solves sigma G(k) = (1 - beta) Q', () => {
      // Q = 200, sigma_LTD = 40, beta = 0.98: G(k) = 0.1, tables give k between 0.90 and 0.91
      const r = forecast.safetyStock({
        demand: 100,
        demandSd: 20,
        leadTime: 4,
        serviceLevel: 0.98,
        service: 'fill',
        orderQuantity: 200,
      });
      assert.ok(r.k > 0.9 && r.k < 0.91, `k = ${r.k}`);
      close(forecast.normalLoss(r.k), 0.1, 1e-9);
    });
    it('economic order quantity (D 1000, K 10, h 0.5 gives 200)', () => {
      close(forecast.eoq({ demand: 1000, orderCost: 10, holdingCost: 0.5 }), 200);
    });
    it('(s, S) and (R, S) policies', () => {
      const sS = forecast.sSPolicy({
        demand: 100,
        demandSd: 20,
        leadTime: 4,
        serviceLevel: 0.95,
        orderQuantity: 300,
      });
      close(sS.S - sS.s, 300);
      const RS = forecast.rSPolicy({
        demand: 100,
        demandSd: 20,
        leadTime: 3,
        reviewPeriod: 1,
        serviceLevel: 0.95,
      });
      // protection interval R + L = 4 periods: same as the reorder point above
      close(RS.S, sS.s, 1e-9);
    });
  });

  describe('plan, replay and simulation', () => {
    it('time-phased order plan by hand', () => {
      // 50 on hand, 20 per period, safety stock 15, lot 40, lead time 1
      const r = forecast.planOrders({
        onHand: 50,
        forecast: [20, 20, 20, 20],
        safetyStock: 15,
        leadTime: 1,
        orderQuantity: 40,
      });
      assert.deepEqual(r.projectedWithout, [30, 10, -10, -30]);
      assert.deepEqual(
        r.alerts.map((a) => a.period),
        [1, 2, 3],
      );
      assert.deepEqual(
        r.orders.map((o) => [o.quantity, o.due, o.release]),
        [
          [40, 1, 0],
          [40, 3, 2],
        ],
      );
      assert.deepEqual(r.projected, [30, 50, 30, 50]);
    });
    it('open orders count as receipts', () => {
      const r = forecast.planOrders({
        onHand: 50,
        openOrders: [{ quantity: 40, due: 1 }],
        forecast: [20, 20, 20, 20],
        safetyStock: 15,
        leadTime: 1,
      });
      assert.deepEqual(r.projectedWithout, [30, 50, 30, 10]);
      assert.equal(r.orders.length, 1);
      close(r.orders[0].quantity, 5);
    });
    it('replays an (R, S) policy against demand by hand', () => {
      // S = 10, L = 1, review before demand: t0 position 10 = S, no order, serve 6 -> 4;
      // t1 position 4, order 6 (arrives t2), serve 4 of 12; t2 receive 6, position 6 -> order 4, serve 3
      const r = forecast.replayPolicy({
        demand: [6, 12, 3],
        policy: { type: 'RS', R: 1, S: 10 },
        initialStock: 10,
        leadTime: 1,
      });
      close(r.fillRate, 13 / 21);
      assert.equal(r.stockouts, 1);
    });
    it('simulation with deterministic demand and ample stock has no stock-outs', () => {
      const r = forecast.simulate({
        forecast: [10, 10, 10],
        demandSd: 0,
        policy: { type: 'RS', R: 1, S: 30 },
        initialStock: 30,
        leadTime: 1,
        holdingCost: 1,
        runs: 10,
      });
      assert.equal(r.stockouts, 0);
      assert.equal(r.fillRate, 1);
      // t0 serve 10 -> 20; t1 order 10 (arrives t2), serve -> 10; t2 receive -> 20, serve -> 10: 20 + 10 + 10
      close(r.carryingCost, 40);
    });
  });

  describe('empirical order-up-to level for intermittent demand', () => {
    // 2-period sums of [0, 2, 0, 0, 4, 0]: 2, 2, 0, 4, 4 -> sorted 0, 2, 2, 4, 4
    const history = [0, 2, 0, 0, 4, 0];
    it('cycle service: the empirical quantile', () => {
      assert.equal(forecast.empiricalOrderUpTo({ history, window: 2, serviceLevel: 0.6 }), 2);
      assert.equal(forecast.empiricalOrderUpTo({ history, window: 2, serviceLevel: 0.8 }), 4);
    });
    it('fill rate: expected shortage (2·(4 − S)/5) equals (1 − 0.9) × 1 at S = 3.75', () => {
      const S = forecast.empiricalOrderUpTo({
        history,
        window: 2,
        serviceLevel: 0.9,
        service: 'fill',
        reviewDemand: 1,
      });
      close(S, 3.75, 1e-9);
    });
  });

  describe('bad input', () => {
    it('a service level outside (0, 1)', () => {
      for (const p of [0, 1, 1.2, -0.1, NaN])
        assert.throws(
          () => forecast.safetyStock({ demand: 1, demandSd: 1, leadTime: 1, serviceLevel: p }),
          code('inventory.badServiceLevel'),
        );
    });
    it('zero lead time', () => {
      assert.throws(
        () => forecast.safetyStock({ demand: 1, demandSd: 1, leadTime: 0, serviceLevel: 0.9 }),
        code('inventory.badLeadTime'),
      );
    });
    it('fill rate without an order quantity', () => {
      assert.throws(
        () =>
          forecast.safetyStock({ demand: 1, demandSd: 1, leadTime: 1, serviceLevel: 0.9, service: 'fill' }),
        /orderQuantity/,
      );
    });
  });
});
