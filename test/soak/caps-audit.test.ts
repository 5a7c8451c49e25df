/**
 * Caps added by the audit of what each node keeps (README "Caps: what each node keeps and where the limit is
 * set"): each test feeds more than the cap and checks what is kept and what is counted.
 */
import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';
import { MAX_GROUP_VALUES } from '../../nodes/spc/monitor';
import { Aligner, MAX_FEATURES } from '../../nodes/prep/aligner';
import { InventoryPlanner, MAX_ITEMS } from '../../nodes/forecast/planner';
import { MAX_MACHINES, OeePlant } from '../../nodes/oee/oee';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../nodes/core/random';
import { ModelRegistry } from '../../nodes/models/registry';
import { ChampionServer, MAX_OPEN_VERSIONS } from '../../nodes/models/server';
import { tabular } from '../../nodes/models/verify';
import { pcaOnnx, pumpRows } from '../models/fixtures';
import { get as getSparkplug } from 'sparkplug-payload';
import { MAX_EDGE_NODES, SparkplugDecoder } from '../../nodes/mqtt/decoder';

const T0 = Date.UTC(2026, 0, 5, 6);

describe('caps found by the audit', () => {
  it('SPC: a field group whose key never changes closes at MAX_GROUP_VALUES values, counted', () => {
    const m = new spc.SpcMonitor({ type: 'xbar-s', phaseOne: 5, grouping: 'field' });
    const chunk = Array.from({ length: 4000 }, (_, i) => 10 + (i % 7) * 0.1);
    const sizes: (number | null)[] = [];
    for (let k = 0; k < 7; k++) sizes.push(m.push({ value: chunk, ts: T0 + k, key: 'lot-1' })?.size ?? null);
    // 4000, 8000, 12000 >= cap: closes; then again at the 6th message
    assert.deepEqual(sizes, [null, null, 12000, null, null, 12000, null]);
    assert.equal(m.splitGroups, 2);
    assert.ok(MAX_GROUP_VALUES <= 12000);
  });

  it('SPC: a time group at a high rate closes at the cap too, and a new key still closes a group as before', () => {
    const m = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 5, grouping: 'time', windowMs: 3600000 });
    let closed = 0;
    for (let i = 0; i < 2.5 * MAX_GROUP_VALUES; i++) if (m.push({ value: 5 + (i % 3), ts: T0 + i })) closed++;
    assert.equal(closed, 2);
    assert.equal(m.splitGroups, 2);
    const f = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 5, grouping: 'field' });
    const ev = [1, 2, 3, 4].map((v, i) => f.push({ value: v, ts: T0, key: i < 2 ? 'A' : 'B' }));
    assert.deepEqual(
      ev.map((e) => e?.size ?? null),
      [null, null, 2, null],
    );
    assert.equal(f.splitGroups, 0);
  });

  it('takt-align discovery: at most MAX_FEATURES features; samples of further new topics are rejected, counted', () => {
    const a = new Aligner({ periodMs: 1000 });
    const topics = MAX_FEATURES + 25;
    for (let i = 0; i < topics; i++) a.push({ topic: `plant/t${i}`, value: i, ts: T0, quality: 'good' }, T0);
    assert.equal(a.featureNames.length, MAX_FEATURES);
    assert.equal(a.counts.unknownTopic, 25);
    a.flush();
    assert.equal(a.accountedRatio(), 1, 'every sample is used or counted');
    const issue = a.takeIssues().find((x) => x.code === 'unknownTopic');
    assert.match(issue?.message ?? '', /already have 1000 features \(maxFeatures\)/);
    // a known topic is still taken, and a configured cap applies
    a.push({ topic: 'plant/t0', value: 1, ts: T0 + 1, quality: 'good' }, T0);
    assert.equal(a.counts.unknownTopic, 25);
    const small = new Aligner({ periodMs: 1000, maxFeatures: 2 });
    for (const t of ['a', 'b', 'c']) small.push({ topic: t, value: 1, ts: T0, quality: 'good' }, T0);
    assert.deepEqual(small.featureNames, ['a', 'b']);
  });

  it('takt-inventory: follows at most MAX_ITEMS items; an update of one more new item is refused, counted', () => {
    const p = new InventoryPlanner({
      serviceLevel: 0.95,
      service: 'cycle',
      leadTime: 2,
      leadTimeSd: 0,
      periodMs: 86400000,
      orderQuantity: 0,
      orderCost: 0,
      holdingCost: 0,
      coverPeriods: 1,
    });
    for (let i = 0; i < MAX_ITEMS; i++) p.update(`item-${i}`, { onHand: 5 }, T0);
    assert.throws(() => p.update('one-more', { onHand: 5 }, T0), { code: 'inventory.tooManyItems' });
    assert.throws(() => p.update('and-another', { onHand: 5 }, T0), /2 refused/);
    assert.equal(p.refusedItems, 2);
    // the items it follows are still updated
    assert.ok(p.update('item-7', { onHand: 3, forecast: [1, 2, 3] }, T0));
  });

  it('takt-oee: follows at most MAX_MACHINES machines; samples of one more new machine are refused, counted', () => {
    const plant = new OeePlant({ calendar: { shifts: [{ name: 'day', start: '00:00', end: '00:00' }] } });
    for (let i = 0; i < MAX_MACHINES; i++) plant.ingest(`site/line/M${i}/State`, 'Running', T0);
    assert.throws(() => plant.ingest('site/line/Mx/State', 'Running', T0), { code: 'oee.tooManyMachines' });
    assert.equal(plant.refusedMachines, 1);
    assert.equal(plant.machines().length, MAX_MACHINES);
    plant.ingest('site/line/M3/GoodCount', 10, T0 + 1000); // a known machine goes on
  });

  it('model server: keeps at most MAX_OPEN_VERSIONS versions open besides the champion, closing the least recently used', async function () {
    this.timeout(60000);
    const root = mkdtempSync(join(tmpdir(), 'takt-caps-models-'));
    const reg = new ModelRegistry(root, 'pump');
    const server = new ChampionServer(reg);
    try {
      const rows = pumpRows(new Rng(5), 200);
      const onnx = pcaOnnx(rows);
      const n = MAX_OPEN_VERSIONS + 4;
      for (let v = 0; v < n; v++) await reg.register({ onnx, reference: rows }, { who: 'ana', why: 'test' });
      await server.start(0);
      assert.equal(server.current?.version, 1);
      for (let v = 2; v <= n; v++) await server.open(v);
      assert.equal(server.openVersions, MAX_OPEN_VERSIONS);
      assert.equal(server.evicted, n - 1 - MAX_OPEN_VERSIONS);
      // version 2 was closed first; opened again, it is loaded again and scores
      const again = await server.open(2);
      assert.equal(server.evicted, n - MAX_OPEN_VERSIONS);
      const scored = await tabular(again, 'v2').score([rows[0]]);
      assert.equal(scored.length, 1);
    } finally {
      await server.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('Sparkplug decoder: follows at most MAX_EDGE_NODES edge nodes; offline ones are forgotten first, then births are refused', () => {
    const sp = getSparkplug('spBv1.0')!;
    const birth = sp.encodePayload({
      timestamp: T0,
      seq: 0,
      metrics: [
        { name: 'bdSeq', type: 'UInt64', value: 1 },
        { name: 'Temp', type: 'Double', value: 20 },
      ],
    });
    const data = sp.encodePayload({
      timestamp: T0,
      seq: 1,
      metrics: [{ name: 'Temp', type: 'Double', value: 21 }],
    });
    const d = new SparkplugDecoder({ rebirthIntervalMs: 0 });
    // data from an edge node never born: remembered (offline) to rate-limit its rebirth requests
    assert.ok(d.handle('spBv1.0/G/NDATA/ghost', data, T0).rebirth);
    for (let i = 0; i < MAX_EDGE_NODES - 1; i++) d.handle(`spBv1.0/G/NBIRTH/E${i}`, birth, T0);
    // full: the offline ghost makes room for one more
    assert.equal(d.handle('spBv1.0/G/NBIRTH/last', birth, T0).problem, undefined);
    assert.equal(d.stats().nodes, MAX_EDGE_NODES);
    // every one online: a new birth is refused, and no rebirth is asked of an unknown one
    const r = d.handle('spBv1.0/G/NBIRTH/extra', birth, T0);
    assert.match(r.problem ?? '', /refused: 10000 edge nodes are online/);
    assert.deepEqual(r.samples, []);
    assert.equal(d.handle('spBv1.0/G/NDATA/extra2', data, T0).rebirth, undefined);
    assert.equal(d.stats().refusedNodes, 2);
    assert.equal(d.stats().nodes, MAX_EDGE_NODES);
    // a followed edge node goes on
    assert.equal(d.handle('spBv1.0/G/NDATA/E5', data, T0).samples.length, 1);
  });
});
