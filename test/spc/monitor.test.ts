import assert from 'node:assert/strict';
import * as spc from '../../nodes/spc';
import { PISTONRINGS } from './data';
import { gauss, lcg } from './random';

const T0 = Date.UTC(2026, 10, 26, 10, 0);
const values = PISTONRINGS.flat();

function feed(m: spc.SpcMonitor, xs: number[], t0 = T0, stepMs = 60000): spc.SpcEvent[] {
  const out: spc.SpcEvent[] = [];
  xs.forEach((value, i) => {
    const ev = m.push({ value, ts: t0 + i * stepMs });
    if (ev) out.push(ev);
  });
  return out;
}

describe('spc.SpcMonitor: streaming phase I then phase II', () => {
  it('groups values by count, freezes after 25 subgroups with the batch chart limits, then alarms', () => {
    const m = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 25, grouping: 'count', subgroupSize: 5 });
    const events = feed(m, values);
    assert.equal(events.length, 40);
    assert.deepEqual(events[0].collecting, { n: 1, of: 25 });
    assert.equal(m.state, 'monitoring');
    const frozen = events[24].frozen;
    assert.ok(frozen);
    const batch = spc.chart({ type: 'xbar-r', data: PISTONRINGS.slice(0, 25) });
    assert.equal(frozen.center, batch.center);
    assert.equal(frozen.ucl, batch.points[0].ucl);
    const alarms = events.flatMap((e) => e.alarms);
    assert.deepEqual(
      alarms.filter((a) => a.rule === 1).map((a) => a.index + 1),
      [37, 38, 39],
    );
    const a37 = alarms.find((a) => a.index === 36 && a.rule === 1)!;
    assert.match(a37.text, /^Nelson 1: point 74\.0166 above the upper control limit 74\.014\d* at \d\d:\d\d/);
    assert.match(a37.text, /shift of \+\d\.\d sigma began about sample \d+$/);
    const p = events[36];
    assert.equal(p.zone, 'beyond');
    assert.equal(p.side, 'above');
    assert.equal(p.phase, 2);
    assert.ok(p.secondary && p.secondary.stat > 0);
  });

  it("gives an alarm's time of day in the plant's time zone across daylight saving, else the runtime's", () => {
    const alarmAt = (ts: number, timeZone?: string) => {
      const m = new spc.SpcMonitor({ type: 'imr', phaseOne: 30, ...(timeZone ? { timeZone } : {}) });
      const u = lcg(9);
      feed(
        m,
        Array.from({ length: 30 }, () => 10 + gauss(u)),
        ts - 30 * 60000,
      );
      const ev = m.push({ value: 100, ts });
      const a = ev?.alarms.find((x) => x.rule === 1);
      assert.ok(a, 'rule 1 raised');
      return a.text;
    };
    // Chicago: UTC-5 in July (CDT), UTC-6 in January (CST); Kolkata: UTC+5:30 all year
    const july = Date.UTC(2026, 6, 1, 15, 42);
    const january = Date.UTC(2026, 0, 15, 15, 42);
    assert.match(alarmAt(july, 'America/Chicago'), / at 10:42/);
    assert.match(alarmAt(january, 'America/Chicago'), / at 09:42/);
    assert.match(alarmAt(july, 'Asia/Kolkata'), / at 21:12/);
    const d = new Date(july);
    const local = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    assert.match(alarmAt(july), new RegExp(` at ${local}`), 'no zone: the runtime clock, as before');
    assert.throws(() => new spc.SpcMonitor({ type: 'imr', phaseOne: 30, timeZone: 'Mars/Olympus' }), {
      code: 'time.badZone',
    });
  });

  it('writes rule 2 as "nine points above centre" and dates the shift', () => {
    const m = new spc.SpcMonitor({ type: 'imr', phaseOne: 30 });
    const u = lcg(4);
    const base = Array.from({ length: 30 }, () => 10 + gauss(u));
    feed(m, base);
    const shifted = Array.from({ length: 12 }, () => 11.2 + 0.3 * gauss(u));
    const events = feed(m, shifted, T0 + 30 * 60000);
    const first2 = events.flatMap((e) => e.alarms).find((a) => a.rule === 2);
    assert.ok(first2, 'rule 2 raised');
    assert.match(
      first2.text,
      /^Nelson 2: nine points above centre at \d\d:\d\d, shift of \+1\.\d sigma began about sample 3\d$/,
    );
    assert.ok(first2.changePoint && first2.changePoint.index >= 29 && first2.changePoint.index <= 31);
  });

  it('leaves its state untouched on bad input: the subgroup continues as if the bad value never came', () => {
    const a = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 3, grouping: 'count', subgroupSize: 5 });
    const b = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 3, grouping: 'count', subgroupSize: 5 });
    feed(a, values.slice(0, 7));
    feed(b, values.slice(0, 7));
    assert.throws(() => a.push({ value: Number.NaN, ts: T0 }), { code: 'spc.notFinite' });
    assert.throws(() => a.push({ value: [1, 'x'], ts: T0 }), /payload\[1\]: "x" is not a number/);
    assert.deepEqual(feed(a, values.slice(7, 40)), feed(b, values.slice(7, 40)));
  });

  it('refuses bad settings with a clear error', () => {
    assert.throws(
      () => new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 20, grouping: 'count', subgroupSize: 1 }),
      /subgroupSize: 1 is not a valid subgroup size for xbar-r/,
    );
    assert.throws(
      () => new spc.SpcMonitor({ type: 'imr', phaseOne: 20, spec: { lsl: 5, usl: 1 } }),
      /lsl 5 must be below usl 1/,
    );
    assert.throws(
      () => new spc.SpcMonitor({ type: 'p', phaseOne: 20, grouping: 'count', subgroupSize: 5 }),
      /one sample per message/,
    );
  });

  it('saves frozen limits and a new monitor with the same settings continues from them', () => {
    const cfg: spc.MonitorConfig = { type: 'xbar-r', phaseOne: 25, grouping: 'count', subgroupSize: 5 };
    const a = new spc.SpcMonitor(cfg);
    feed(a, values.slice(0, 125));
    const saved = JSON.parse(JSON.stringify(a.saveState())) as spc.MonitorState;
    const b = new spc.SpcMonitor(cfg);
    assert.equal(b.loadState(saved), true);
    assert.equal(b.state, 'monitoring');
    const ea = feed(a, values.slice(125));
    const eb = feed(b, values.slice(125));
    assert.deepEqual(
      eb.map((e) => [e.stat, e.ucl, e.violations]),
      ea.map((e) => [e.stat, e.ucl, e.violations]),
    );
    // other settings do not take these limits
    const c = new spc.SpcMonitor({ ...cfg, phaseOne: 20 });
    assert.equal(c.loadState(saved), false);
    assert.equal(c.state, 'collecting');
  });

  it('reset goes back to phase I; re-estimate freezes on the latest samples', () => {
    const m = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 10, grouping: 'count', subgroupSize: 5 });
    feed(m, values.slice(0, 100));
    const first = m.frozen!.center;
    const info = m.reestimate(T0);
    const latest = PISTONRINGS.slice(10, 20).flat();
    assert.ok(Math.abs(info.center - latest.reduce((x, y) => x + y, 0) / 50) < 1e-12);
    assert.notEqual(info.center, first);
    m.reset();
    assert.equal(m.state, 'collecting');
    assert.equal(m.collectedCount, 0);
  });

  it('groups by time window and by a message field', () => {
    const t = new spc.SpcMonitor({ type: 'xbar-r', phaseOne: 5, grouping: 'time', windowMs: 60000 });
    // three values per minute; a group closes when the first value of the next minute arrives
    const evs = [1, 2, 3, 2, 3, 4, 1, 3, 2].map((v, i) =>
      t.push({ value: v, ts: T0 + Math.floor(i / 3) * 60000 + (i % 3) * 1000 }),
    );
    assert.deepEqual(
      evs.map((e) => (e ? e.stat : null)),
      [null, null, null, 2, null, null, 3, null, null],
    );
    const f = new spc.SpcMonitor({ type: 'xbar-s', phaseOne: 5, grouping: 'field' });
    const keys = ['A', 'A', 'B', 'B', 'B', 'C'];
    const fe = [4, 6, 1, 2, 3, 9].map((v, i) => f.push({ value: v, ts: T0, key: keys[i] }));
    assert.deepEqual(
      fe.map((e) => (e ? e.size : null)),
      [null, null, 2, null, null, 3],
    );
  });

  it('charts AR(1) residuals after phase I when the data are autocorrelated and that is enabled', () => {
    const u = lcg(8);
    let prev = 0;
    const x = Array.from({ length: 150 }, () => (prev = 0.85 * prev + gauss(u)) + 20);
    const withRes = new spc.SpcMonitor({ type: 'imr', phaseOne: 100, autocorrelation: true });
    const plain = new spc.SpcMonitor({ type: 'imr', phaseOne: 100 });
    const er = feed(withRes, x);
    const ep = feed(plain, x);
    assert.equal(er[99].frozen?.residuals, true);
    assert.equal(ep[99].frozen?.residuals, false);
    assert.match(ep[99].frozen!.warnings.join(' '), /autocorrelation .* false alarms/);
    const count = (evs: spc.SpcEvent[]) => evs.slice(100).filter((e) => e.alarms.length > 0).length;
    assert.ok(count(er) < count(ep), `residual alarms ${count(er)} vs raw ${count(ep)}`);
  });

  it('reports capability at freeze when spec limits are set', () => {
    const m = new spc.SpcMonitor({
      type: 'xbar-r',
      phaseOne: 25,
      grouping: 'count',
      subgroupSize: 5,
      spec: { lsl: 73.95, usl: 74.05 },
    });
    const evs = feed(m, values.slice(0, 125));
    const cap = evs[24].frozen?.capability;
    assert.ok(cap);
    assert.ok(
      Math.abs(cap.cpk - spc.capability(PISTONRINGS.slice(0, 25), { lsl: 73.95, usl: 74.05 }).cpk) < 1e-15,
    );
  });

  it('proposes run-to-run adjustments on a drifting process', () => {
    const m = new spc.SpcMonitor({ type: 'imr', phaseOne: 20, r2r: { gain: 1, lambda: 0.3 } });
    const u = lcg(30);
    feed(
      m,
      Array.from({ length: 20 }, () => 5 + 0.1 * gauss(u)),
    );
    const evs = feed(
      m,
      Array.from({ length: 40 }, (_, i) => 5 + 0.02 * i + 0.1 * gauss(u)),
    );
    const proposals = evs.filter((e) => e.r2r).map((e) => e.r2r!);
    assert.ok(proposals.length > 0);
    assert.ok(
      proposals.every((p) => p.offset < 0),
      'proposals push back against the upward drift',
    );
  });
});

describe('spc engine packaging', () => {
  it('the engine modules import nothing from node-red', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readFileSync, readdirSync } = require('node:fs') as typeof import('node:fs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { join } = require('node:path') as typeof import('node:path');
    const dir = join(__dirname, '..', '..', 'nodes', 'spc');
    // the chart kinds (kinds/) included
    const engine = (readdirSync(dir, { recursive: true }) as string[]).filter(
      (f) => f.endsWith('.js') && !f.endsWith('.node.js'),
    );
    assert.ok(engine.includes('index.js') && engine.includes('charts.js'));
    assert.ok(engine.includes(join('kinds', 'registry.js')));
    for (const f of engine) {
      const src = readFileSync(join(dir, f), 'utf8');
      assert.doesNotMatch(src, /require\("node-red"\)|require\('node-red'\)/, f);
    }
  });
});

describe('takt-spc settings', () => {
  it('maps the editor fields to a monitor configuration and names a bad field', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { toMonitorConfig } = require('../../nodes/spc/config') as typeof import('../../nodes/spc/config');
    const base = { id: 'n1', type: 'takt-spc', name: '', z: 't', wires: [] };
    const cfg = toMonitorConfig({
      ...base,
      chartType: 'xbar-r',
      phaseOne: '30',
      grouping: 'count',
      subgroupSize: '4',
      rules: '1, 2,5',
      lsl: '1',
      usl: '',
      r2r: true,
      r2rGain: '2',
    });
    assert.deepEqual(
      [cfg.type, cfg.phaseOne, cfg.subgroupSize, cfg.rules, cfg.spec, cfg.r2r],
      ['xbar-r', 30, 4, [1, 2, 5], { lsl: 1 }, { gain: 2 }],
    );
    assert.throws(() => toMonitorConfig({ ...base, nsigmas: 'three' }), /nsigmas: "three" is not a number/);
    // constants: qcc's tables unless the editor says exact; anything else is refused
    assert.equal(cfg.constants, 'table');
    assert.equal(toMonitorConfig({ ...base, constants: 'exact' }).constants, 'exact');
    assert.throws(() => toMonitorConfig({ ...base, constants: 'rounded' }), /constants: "rounded"/);
  });

  it('freezes limits with the configured constants, and a change of them re-estimates', () => {
    const x = Array.from({ length: 20 }, (_, i) => 10 + Math.sin(i * 1.7));
    const mr = x.slice(1).reduce((a, v, i) => a + Math.abs(v - x[i]), 0) / 19;
    const table = new spc.SpcMonitor({ type: 'imr', phaseOne: 20 });
    const ft = feed(table, x)[19].frozen!;
    assert.ok(Math.abs(ft.sigma - mr / 1.128) < 1e-12);
    const exact = new spc.SpcMonitor({ type: 'imr', phaseOne: 20, constants: 'exact' });
    const fx = feed(exact, x)[19].frozen!;
    assert.ok(Math.abs(fx.sigma - mr / spc.d2(2)) < 1e-12);
    // limits saved with the tables are not restored into a monitor set to exact constants
    const again = new spc.SpcMonitor({ type: 'imr', phaseOne: 20, constants: 'exact' });
    assert.equal(again.loadState(table.saveState()), false);
    assert.equal(new spc.SpcMonitor({ type: 'imr', phaseOne: 20 }).loadState(table.saveState()), true);
    assert.throws(() => new spc.SpcMonitor({ type: 'imr', phaseOne: 20, constants: 'x' as 'table' }), {
      code: 'spc.badOption',
    });
  });
});
