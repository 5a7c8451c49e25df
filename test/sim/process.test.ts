import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { PlantSimulator } from '../../nodes/sim/engine';
import { DEFAULT_PLANT, parsePlantModel, withProcesses } from '../../nodes/sim/model';
import {
  DEFAULT_PROCESSES,
  energyFactor,
  optimum,
  type ProcessContext,
  qualityShift,
} from '../../nodes/sim/process';

const START = Date.UTC(2026, 10, 26, 6, 0, 0);
const PLANT = withProcesses(DEFAULT_PLANT);
const CNC = DEFAULT_PROCESSES.CNC1;
const CALM: ProcessContext = { wear: 0, ambient: 0, lot: 0, cold: 0 };

/** Measurements of one machine's parts over `hours` of simulated time. */
function run(sim: PlantSimulator, machine: string, hours: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < hours * 60; i++)
    for (const p of sim.advance(60000).parts) if (p.machine === machine) out.push(p.value);
  return out;
}

describe('sim process response (setpoints, drift, ground truth)', () => {
  it('gives the same parts for the same seed, and leaves machines without a process exactly as before', () => {
    const a = new PlantSimulator(PLANT, { seed: 7, startTime: START });
    const b = new PlantSimulator(PLANT, { seed: 7, startTime: START });
    const plain = new PlantSimulator(DEFAULT_PLANT, { seed: 7, startTime: START });
    const pa = run(a, 'CNC1', 2);
    assert.ok(pa.length > 100);
    assert.deepEqual(run(b, 'CNC1', 2), pa);
    // Oven1 has no process response: its parts do not change when the others get one.
    const oa = run(new PlantSimulator(PLANT, { seed: 7, startTime: START }), 'Oven1', 2);
    assert.deepEqual(run(plain, 'Oven1', 2), oa);
  });

  it('moves the part by the response of the setpoints, part for part (same seed, same noise)', () => {
    const a = new PlantSimulator(PLANT, { seed: 3, startTime: START });
    const b = new PlantSimulator(PLANT, { seed: 3, startTime: START });
    b.setSetpoint('CNC1', 'FeedRate', 500);
    b.setSetpoint('CNC1', 'SpindleSpeed', 1500);
    const ta = a.processTruth('CNC1')!;
    const tb = b.processTruth('CNC1')!;
    const want = qualityShift(CNC, [500, 1500], ta.context) - qualityShift(CNC, [400, 1800], ta.context);
    assert.ok(Math.abs(tb.expected - ta.expected - want) < 1e-12);
    const [x] = run(a, 'CNC1', 0.02);
    const [y] = run(b, 'CNC1', 0.02);
    assert.ok(Math.abs(y - x - want) < 2e-6, `${y - x} vs ${want}`);
    assert.ok(want > 0.005, 'more feed and less speed make a larger bore');
  });

  it('drifts: tool wear, lots and ambient move fixed setpoints off target, and a tool change resets wear', () => {
    const sim = new PlantSimulator(PLANT, { seed: 11, startTime: START });
    const lots = new Set<number>();
    const wear: number[] = [];
    for (let i = 0; i < 12 * 60; i++) {
      sim.advance(60000);
      const snap = sim.snapshot();
      lots.add(snap.get('Acme/Plant1/Machining/Line1/CNC1/LotId')!.value as number);
      wear.push(snap.get('Acme/Plant1/Machining/Line1/CNC1/ToolWear')!.value as number);
    }
    assert.ok(lots.size >= 3, `lots: ${lots.size}`);
    assert.ok(Math.max(...wear) >= 200 && wear.some((w, i) => i > 0 && w < wear[i - 1]), 'wear saw-tooth');
    const t = sim.processTruth('CNC1')!;
    assert.deepEqual(t.names, ['FeedRate', 'SpindleSpeed']);
    assert.ok(Number.isFinite(t.context.ambient) && t.context.wear >= 0 && t.context.wear <= 1);
  });

  it('ground truth: the optimum is on target and uses no more energy than other on-target setpoints', () => {
    const c: ProcessContext = { wear: 0.6, ambient: 0.5, lot: -1, cold: 0 };
    const o = optimum(CNC, c, 0, 0.0005);
    assert.ok(Math.abs(qualityShift(CNC, o.setpoints, c)) <= 0.0005 + 1e-12);
    // Any other grid point on target uses at least as much energy.
    for (let f = 200; f <= 600; f += 10)
      for (let s = 1200; s <= 2400; s += 20)
        if (Math.abs(qualityShift(CNC, [f, s], c)) <= 0.0005)
          assert.ok(energyFactor(CNC, [f, s]) >= o.energyFactor - 1e-9, `${f},${s}`);
    // Unreachable: the closest setpoint, at a bound.
    const far = optimum(CNC, CALM, 1, 0.0005);
    assert.deepEqual(far.setpoints, [600, 1200]);
    const sim = new PlantSimulator(PLANT, { seed: 5, startTime: START });
    run(sim, 'CNC1', 1);
    const t = sim.processTruth('CNC1')!;
    sim.setSetpoint('CNC1', 'FeedRate', t.optimum.setpoints[0]);
    sim.setSetpoint('CNC1', 'SpindleSpeed', t.optimum.setpoints[1]);
    assert.ok(Math.abs(sim.processTruth('CNC1')!.expected - 25) < 0.001);
  });

  it('publishes setpoints as writable tags and the drift as tags; refuses setpoints out of bounds', () => {
    const sim = new PlantSimulator(PLANT, { seed: 1, startTime: START });
    const tags = sim.tags().filter((t) => t.machine === 'CNC1');
    const feed = tags.find((t) => t.name === 'FeedRate')!;
    assert.equal(feed.writable, true);
    assert.deepEqual(feed.range, [200, 600]);
    for (const n of ['ToolWear', 'AmbientTemperature', 'LotId', 'LotHardness', 'PartEnergy'])
      assert.ok(
        tags.some((t) => t.name === n && !t.writable),
        n,
      );
    assert.ok(!sim.tags().some((t) => t.machine === 'Oven1' && t.name === 'ToolWear'));
    assert.throws(
      () => sim.setSetpoint('CNC1', 'FeedRate', 601),
      (e: unknown) => e instanceof TaktError && e.code === 'sim.badSetpoint',
    );
    assert.throws(() => sim.setSetpoint('CNC1', 'FeedRate', NaN), /200\.\.600/);
    assert.throws(
      () => sim.setSetpoint('Oven1', 'FeedRate', 400),
      (e: unknown) => e instanceof TaktError && e.code === 'sim.unknownSetpoint',
    );
    sim.write('CNC1', 'SpindleSpeed', 2000);
    sim.write('CNC1', 'BoreDiameterOffset', -0.01);
    const snap = sim.snapshot();
    assert.equal(snap.get('Acme/Plant1/Machining/Line1/CNC1/SpindleSpeed')!.value, 2000);
    assert.equal(snap.get('Acme/Plant1/Machining/Line1/CNC1/BoreDiameterOffset')!.value, -0.01);
  });

  it('uses more energy per part at higher spindle speed', () => {
    const a = new PlantSimulator(PLANT, { seed: 2, startTime: START });
    const b = new PlantSimulator(PLANT, { seed: 2, startTime: START });
    b.setSetpoint('CNC1', 'SpindleSpeed', 2400);
    run(a, 'CNC1', 0.5);
    run(b, 'CNC1', 0.5);
    const e = (s: PlantSimulator) =>
      s.snapshot().get('Acme/Plant1/Machining/Line1/CNC1/PartEnergy')!.value as number;
    assert.ok(e(b) > e(a) * 1.1, `${e(b)} vs ${e(a)}`);
  });

  it('checks a process in a plant file and names the bad field', () => {
    const m = { ...DEFAULT_PLANT.lines[0].machines[0], process: { ...CNC, linear: [1] } };
    const model = { ...DEFAULT_PLANT, lines: [{ id: 'L', machines: [m] }] };
    assert.throws(() => parsePlantModel(JSON.parse(JSON.stringify(model))), /machines\[0\]\.process\.linear/);
    const ok = { ...model, lines: [{ id: 'L', machines: [{ ...m, process: CNC }] }] };
    assert.deepEqual(parsePlantModel(JSON.parse(JSON.stringify(ok))).lines[0].machines[0].process, CNC);
  });
});
