import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages, nextStatus } from '../helpers/nodered';

// The compiled nodes, as the runtime loads them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const forecastNode = require('../../nodes/forecast/forecast.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const inventoryNode = require('../../nodes/forecast/inventory.node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

interface FcMsg {
  payload: number[];
  keep?: string;
  forecast: { method: string; forecast: number[]; lower95: number[]; upper95: number[]; sigma: number };
  backtest?: { mase: number; origins: number };
}
interface OrderMsg {
  item: string;
  approval: string;
  payload: { item: string; quantity: number; dueDate: string; releaseDate: string; reason: string }[];
  plan: { safetyStock: number };
}
interface AlertMsg {
  payload: string;
  alerts: { date: string }[];
}
interface ErrMsg {
  error: { message: string };
}

const flow = () => [
  { id: 'tab', type: 'tab' },
  {
    id: 'f',
    z: 'tab',
    type: 'takt-forecast',
    method: 'naive',
    frequency: '1',
    horizon: 3,
    gaps: 'error',
    property: 'payload',
    wires: [['out']],
  },
  {
    id: 'inv',
    z: 'tab',
    type: 'takt-inventory',
    service: 'cycle',
    serviceLevel: 0.95,
    leadTime: 1,
    leadTimeSd: 0,
    periodHours: 24,
    orderQuantity: 40,
    coverPeriods: 1,
    kind: 'purchase',
    wires: [['orders'], ['alerts']],
  },
  { id: 'out', z: 'tab', type: 'helper' },
  { id: 'orders', z: 'tab', type: 'helper' },
  { id: 'alerts', z: 'tab', type: 'helper' },
  { id: 'c', z: 'tab', type: 'catch', scope: ['f', 'inv'], uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'tab', type: 'helper' },
];

const T0 = Date.UTC(2026, 0, 5);

describe('takt-forecast and takt-inventory nodes', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-forecast-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('forecasts, keeps other msg properties, and runs a backtest on request', async () => {
    await load([forecastNode, inventoryNode, catchNode], flow());
    const out = nextMessages<FcMsg>('out', 2);
    getNode('f').receive({ payload: [1, 2, 3, 4, 5], keep: 'me' });
    getNode('f').receive({
      payload: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      action: 'backtest',
      horizon: 2,
      origins: 1,
    });
    const [a, b] = await out;
    assert.deepEqual(a.payload, [5, 5, 5]);
    assert.equal(a.keep, 'me');
    assert.equal(a.forecast.method, 'naive');
    assert.ok(a.forecast.lower95[0] < 5 && a.forecast.upper95[0] > 5);
    // naive on 1..8, tested on 9, 10: errors 1 and 2, in-sample naive MAE 1 -> MASE 1.5
    assert.equal(b.backtest?.mase, 1.5);
  });

  it('takes the editor default season (12) when a flow has no frequency field', async () => {
    const nodes = flow().map((n) => (n.id === 'f' ? { ...n, method: 'snaive', frequency: undefined } : n));
    await load([forecastNode, inventoryNode, catchNode], nodes);
    const out = nextMessages<FcMsg>('out', 1);
    // Two years of a monthly pattern: seasonal naive with season 12 repeats the last year.
    const year = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    getNode('f').receive({ payload: [...year, ...year] });
    const [m] = await out;
    assert.equal(m.forecast.method, 'snaive');
    assert.deepEqual(m.payload, [5, 6, 7]);
  });

  it('reports bad input to Catch with a red status and keeps working', async () => {
    await load([forecastNode, inventoryNode, catchNode], flow());
    const caught = nextMessages<ErrMsg>('caught', 2);
    const red = nextStatus('f', (s) => s.fill === 'red');
    getNode('f').receive({ payload: [1, -2, 3] });
    getNode('f').receive({ payload: [1, NaN, 3] });
    const errs = await caught;
    assert.match(errs[0].error.message, /negative/);
    assert.match(errs[1].error.message, /missing value/);
    assert.ok(await red);
    const out = nextMessages<FcMsg>('out', 1);
    getNode('f').receive({ payload: [2, 2, 2] });
    assert.deepEqual((await out)[0].payload, [2, 2, 2]);
  });

  it('turns stock and a forecast into orders for approval and safety-stock alerts', async () => {
    await load([forecastNode, inventoryNode, catchNode], flow());
    const orders = nextMessages<OrderMsg>('orders', 1);
    const alerts = nextMessages<AlertMsg>('alerts', 1);
    const inv = getNode('inv');
    inv.receive({ item: 'P-100', payload: { onHand: 50 }, ts: T0 });
    // sigma 0: safety stock 0; 50 on hand, 20 per day: 30, 10, -10 on day index 2 -> one lot of 40 due
    // that day, released a lead time (1 day) earlier; then 30, 10. Without it: -10, -30 on days 2 and 3.
    inv.receive({ item: 'P-100', payload: { forecast: [20, 20, 20, 20], sigma: 0 }, ts: T0 });
    const [o] = await orders;
    assert.equal(o.approval, 'required');
    assert.equal(o.plan.safetyStock, 0);
    assert.deepEqual(
      o.payload.map((r) => [r.quantity, r.dueDate.slice(0, 10), r.releaseDate.slice(0, 10)]),
      [[40, '2026-01-07', '2026-01-06']],
    );
    const [a] = await alerts;
    assert.deepEqual(
      a.alerts.map((x) => x.date.slice(0, 10)),
      ['2026-01-07', '2026-01-08'],
    );
    assert.ok(existsSync(join(userDir, 'takt', 'inventory', 'inv.json')));
  });

  it('keeps its book across a restart', async () => {
    await load([forecastNode, inventoryNode, catchNode], flow());
    getNode('inv').receive({ item: 'P-7', payload: { onHand: 10 }, ts: T0 });
    await nextStatus('inv', (s) => s.fill === 'yellow');
    await helper.unload();
    await load([forecastNode, inventoryNode, catchNode], flow());
    const orders = nextMessages<OrderMsg>('orders', 1);
    getNode('inv').receive({ item: 'P-7', forecast: { forecast: [6, 6], sigma: 0 }, ts: T0 });
    const [o] = await orders;
    assert.equal(o.payload[0].dueDate.slice(0, 10), '2026-01-06');
  });

  it('rejects a message without an item and a bad service level in the config', async () => {
    const f = flow();
    (f[2] as { serviceLevel: number }).serviceLevel = 1.5;
    await load([forecastNode, inventoryNode, catchNode], f);
    const caught = nextMessages<ErrMsg>('caught', 1);
    getNode('inv').receive({ payload: { onHand: 1 } });
    assert.match((await caught)[0].error.message, /serviceLevel/);
  });

  it('skips a series of bad quality (msg.quality) with a yellow status', async () => {
    await load([forecastNode, inventoryNode, catchNode], flow());
    const out = nextMessages<FcMsg>('out', 1);
    const yellow = nextStatus('f', (s) => s.fill === 'yellow');
    getNode('f').receive({ payload: [1, 2, 3], quality: 'bad' });
    assert.equal((await yellow).text, 'bad quality skipped');
    getNode('f').receive({ payload: [5, 5, 5], quality: 'good' });
    assert.deepEqual((await out)[0].payload, [5, 5, 5]);
  });

  it('reads msg.ts as ISO text or epoch seconds, and skips an update of bad quality', async () => {
    await load([forecastNode, inventoryNode, catchNode], flow());
    const orders = nextMessages<OrderMsg>('orders', 1);
    const inv = getNode('inv');
    inv.receive({ item: 'P-100', payload: { onHand: 50 }, ts: new Date(T0).toISOString() });
    // Would cover the whole forecast, so no order, if a bad reading were taken.
    inv.receive({ item: 'P-100', payload: { onHand: 1000 }, ts: T0, quality: 'bad' });
    inv.receive({ item: 'P-100', payload: { forecast: [20, 20, 20, 20], sigma: 0 }, ts: T0 / 1000 });
    const [o] = await orders;
    assert.deepEqual(
      o.payload.map((r) => [r.quantity, r.dueDate.slice(0, 10), r.releaseDate.slice(0, 10)]),
      [[40, '2026-01-07', '2026-01-06']],
    );
  });
});
