import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNode, helper, load, nextMessages } from '../helpers/nodered';

/* eslint-disable @typescript-eslint/no-require-imports */
const oeeNode = require('../../nodes/oee/oee.node');
const simNode = require('../../nodes/sim/sim.node');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Rec {
  topic: string;
  payload: {
    machine: string;
    shift: string;
    start: number;
    end: number;
    closed: boolean;
    plannedMin: number;
    availability: number;
    performance: number;
    quality: number;
    oee: number;
    good: number;
    scrap: number;
    total: number;
  };
}

// One-hour shifts all day, so the simulator at 3600x closes a shift every wall-clock second.
const hourly = JSON.stringify(
  Array.from({ length: 24 }, (_, h) => ({
    name: `h${h}`,
    start: `${String(h).padStart(2, '0')}:00`,
    end: `${String((h + 1) % 24).padStart(2, '0')}:00`,
  })),
);

/**
 * A 24-hour shift that began two hours before `t` (UTC, the node's default offset), so a
 * test's ten minutes of data never straddle a shift change, whatever the clock says. A
 * fixed "00:00" shift made these tests fail when run just after midnight.
 */
function dayShiftAround(t: number): string {
  const d = new Date(t - 2 * 3600_000);
  const hhmm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return JSON.stringify([{ name: 'day', start: hhmm, end: hhmm }]);
}

describe('takt-oee node', function () {
  this.timeout(30000);
  let userDir: string;
  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'takt-oee-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('closes shift records for every machine of the simulated line', async () => {
    await load(
      [oeeNode, simNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'sim',
          z: 'tab',
          type: 'takt-sim',
          opcuaPort: 0,
          timeFactor: 3600,
          seed: 4,
          wires: [['oee', 'ticks'], []],
        },
        {
          id: 'oee',
          z: 'tab',
          type: 'takt-oee',
          shifts: hourly,
          breaks: '[]',
          liveInterval: 1,
          wires: [['live'], ['shifts']],
        },
        { id: 'live', z: 'tab', type: 'helper' },
        { id: 'shifts', z: 'tab', type: 'helper' },
        { id: 'ticks', z: 'tab', type: 'helper' },
      ],
    );
    // The simulator's batches carry the time of their tick: a sample tells what happened since the one before.
    // On a loaded machine a tick can come hours of simulated time late, so an hour may hold no batch at all.
    const batches: number[] = [];
    getNode('ticks').on('input', (msg: { payload: { ts: number }[] }) => {
      batches.push(Math.max(...msg.payload.map((x) => x.ts)));
    });
    const lastBatchBefore = (t: number) => Math.max(...batches.filter((b) => b < t));
    // The first shift is partial (it counts from the first sample); take each machine's first later one that
    // had a batch in it. A late tick closes several shifts of a machine in one go.
    const seen = new Set<string>();
    const full = new Map<string, Rec['payload']>();
    await nextMessages<Rec>('shifts', 4, 25000, ({ payload: r }) => {
      if (!seen.has(r.machine)) {
        seen.add(r.machine);
        return false;
      }
      if (full.has(r.machine) || !batches.some((b) => b >= r.start && b < r.end)) return false;
      full.set(r.machine, r);
      return true;
    });
    assert.deepEqual([...full.keys()].sort(), ['CNC1', 'Oven1', 'Packer1', 'Press1']);
    for (const r of full.values()) {
      assert.equal(r.plannedMin, 60);
      assert.equal(r.closed, true);
      assert.equal(r.good + r.scrap, r.total);
      assert.ok(r.total > 0, `${r.machine} made parts`);
      for (const k of ['availability', 'performance', 'quality'] as const)
        assert.ok(r[k] > 0 && r[k] <= 1, `${r.machine} ${k} ${r[k]}`);
      assert.ok(Math.abs(r.oee - r.availability * r.performance * r.quality) < 1e-12);
    }
    // The CNC mill (45 s ideal cycle) makes at most 80 parts an hour: its shift counts the parts made between
    // the last batch before the hour and the last batch in it, a little more or less than an hour.
    const cnc = full.get('CNC1')!;
    const spanS = (lastBatchBefore(cnc.end) - lastBatchBefore(cnc.start)) / 1000;
    assert.ok(cnc.total <= Math.floor(spanS / 45) + 1, `CNC1 made ${cnc.total} parts in ${spanS} s`);
  });

  it('sends live values on request and refuses a bad calendar or time zone', async () => {
    await load(
      [oeeNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'oee',
          z: 'tab',
          type: 'takt-oee',
          shifts: dayShiftAround(Date.now()),
          breaks: '[]',
          liveInterval: 60,
          wires: [['live'], ['shifts']],
        },
        { id: 'live', z: 'tab', type: 'helper' },
        { id: 'shifts', z: 'tab', type: 'helper' },
        {
          id: 'bad',
          z: 'tab',
          type: 'takt-oee',
          shifts: '[{"name":"x","start":"25:99","end":"06:00"}]',
          wires: [[], []],
        },
        {
          id: 'badZone',
          z: 'tab',
          type: 'takt-oee',
          shifts: '[{"name":"x","start":"06:00","end":"14:00"}]',
          timeZone: 'Europe/Atlantis',
          wires: [[], []],
        },
        { id: 'c', z: 'tab', type: 'catch', scope: ['bad', 'badZone'], uncaught: false, wires: [['caught']] },
        { id: 'caught', z: 'tab', type: 'helper' },
      ],
    );
    const t = Date.now();
    getNode('oee').receive({
      payload: [
        { topic: 'acme/L1/M1/IdealCycleTime', value: 30, ts: t - 600000 },
        { topic: 'acme/L1/M1/State', value: 'Running', ts: t - 600000 },
        { topic: 'acme/L1/M1/GoodCount', value: 0, ts: t - 600000 },
        { topic: 'acme/L1/M1/GoodCount', value: 18, ts: t },
      ],
    });
    const live = nextMessages<Rec>('live', 1);
    getNode('oee').receive({ action: 'report' });
    const [m] = await live;
    assert.equal(m.topic, 'M1/oee');
    assert.equal(m.payload.total, 18);
    assert.ok(
      Math.abs(m.payload.performance - 0.9) < 1e-9,
      `18 x 30 s in 10 min = 0.9, got ${m.payload.performance}`,
    );
    const caught = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('bad').receive({ payload: 1 });
    assert.match((await caught)[0].error.message, /shifts\[0\]\.start: "25:99" is not HH:MM/);
    const caughtZone = nextMessages<{ error: { message: string } }>('caught', 1);
    getNode('badZone').receive({ payload: 1 });
    assert.match(
      (await caughtZone)[0].error.message,
      /timeZone: "Europe\/Atlantis" is not a known time zone/,
    );
  });

  it('reads ISO and epoch-second timestamps and skips samples of bad quality', async () => {
    await load(
      [oeeNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'oee',
          z: 'tab',
          type: 'takt-oee',
          shifts: dayShiftAround(Date.now()),
          breaks: '[]',
          liveInterval: 60,
          wires: [['live'], ['shifts']],
        },
        { id: 'live', z: 'tab', type: 'helper' },
        { id: 'shifts', z: 'tab', type: 'helper' },
      ],
    );
    const t = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    getNode('oee').receive({
      payload: [
        { topic: 'acme/L1/M1/IdealCycleTime', value: 30, ts: iso(t - 600000) },
        { topic: 'acme/L1/M1/State', value: 'Running', ts: (t - 600000) / 1000 },
        { topic: 'acme/L1/M1/GoodCount', value: 0, ts: iso(t - 600000) },
        // A counter read while the sensor was disconnected: a jump the plant never made.
        { topic: 'acme/L1/M1/GoodCount', value: 500, ts: t - 300000, quality: 'BadNotConnected' },
        { topic: 'acme/L1/M1/GoodCount', value: 18, ts: t / 1000 },
      ],
    });
    const live = nextMessages<Rec>('live', 1);
    getNode('oee').receive({ action: 'report' });
    const [m] = await live;
    assert.equal(m.payload.total, 18);
    assert.ok(
      Math.abs(m.payload.performance - 0.9) < 1e-6,
      `18 x 30 s in 10 min = 0.9, got ${m.payload.performance}`,
    );
  });
});
