import assert from 'node:assert/strict';
import { TaktError } from '../../nodes/core/errors';
import { bearingFrequencies } from '../../nodes/core/bearing';
import { type FaultEvent, PlantSimulator, REASONS } from '../../nodes/sim/engine';
import { DEFAULT_PLANT, type MachineModel, parsePlantModel, type PlantModel } from '../../nodes/sim/model';

const START = Date.UTC(2026, 10, 26, 6, 0, 0);
const HOUR = 3600000;

/** The default plant with one machine changed (and optionally without random breakdowns, idles or setups). */
function plant(change: Partial<MachineModel> = {}, quiet = true): PlantModel {
  const m = DEFAULT_PLANT.lines[0].machines[0];
  const calm: Partial<MachineModel> = quiet ? { mtbfH: 1e9, starvedShare: 0, setupEveryParts: 1e9 } : {};
  return { ...DEFAULT_PLANT, lines: [{ id: 'Line1', machines: [{ ...m, ...calm, ...change }] }] };
}

/** Quality measurements of the parts made while advancing `ms`. */
function parts(sim: PlantSimulator, ms: number): number[] {
  return sim.advance(ms).parts.map((p) => p.value);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Power of the squared, mean-removed signal at frequency f (Goertzel), i.e. the squared-envelope spectrum. */
function envelopePower(x: number[], fs: number, f: number): number {
  const m = mean(x);
  const sq = x.map((v) => (v - m) ** 2);
  const sm = mean(sq);
  let re = 0;
  let im = 0;
  for (let i = 0; i < sq.length; i++) {
    re += (sq[i] - sm) * Math.cos((2 * Math.PI * f * i) / fs);
    im -= (sq[i] - sm) * Math.sin((2 * Math.PI * f * i) / fs);
  }
  return re * re + im * im;
}

describe('sim/bearing defect frequencies', () => {
  it('match the published multiples of shaft speed for a 6205 deep-groove bearing', () => {
    // SKF 6205: 9 balls, d = 7.94 mm, D = 39.04 mm, 0°: BPFO 3.585, BPFI 5.415, FTF 0.398, BSF 2.357 × shaft.
    const f = bearingFrequencies(
      { balls: 9, ballDiameterMm: 7.94, pitchDiameterMm: 39.04, contactAngleDeg: 0 },
      1800,
    );
    const close = (a: number, b: number) => assert.ok(Math.abs(a / b - 1) < 1e-3, `${a} vs ${b}`);
    close(f.shaftHz, 30);
    close(f.bpfo, 3.585 * 30);
    close(f.bpfi, 5.415 * 30);
    close(f.ftf, 0.398 * 30);
    close(f.bsf, 2.357 * 30);
  });

  it('spread with the contact angle: BPFO rises and BPFI falls towards n/2 x shaft', () => {
    const g = { balls: 9, ballDiameterMm: 7.94, pitchDiameterMm: 39.04, contactAngleDeg: 0 };
    const a0 = bearingFrequencies(g, 1800);
    const a40 = bearingFrequencies({ ...g, contactAngleDeg: 40 }, 1800);
    assert.ok(a40.bpfo > a0.bpfo && a40.bpfi < a0.bpfi);
    assert.ok(Math.abs(a40.bpfo + a40.bpfi - 9 * 30) < 1e-9); // BPFO + BPFI = n·fr for any angle
  });
});

describe('sim/PlantSimulator', () => {
  it('gives the same data for the same seed and start, and other data for another seed', () => {
    const run = (seed: number) => {
      const sim = new PlantSimulator(DEFAULT_PLANT, { seed, startTime: START, faultsPerDay: 4 });
      const r = sim.advance(6 * HOUR);
      return {
        parts: r.parts,
        snap: [...sim.snapshot()],
        truth: JSON.stringify(sim.groundTruth),
        wave: sim.waveform('CNC1'),
      };
    };
    const a = run(7);
    const b = run(7);
    assert.deepEqual(a, b);
    assert.notDeepEqual(run(8).parts, a.parts);
  });

  it("reads a second's waveform once: a second read is an equal array of its own, a new state a new waveform", () => {
    const sim = new PlantSimulator(plant(), { seed: 3, startTime: START });
    sim.advance(60000);
    const first = sim.waveform('CNC1');
    const again = sim.waveform('CNC1');
    assert.deepEqual(again, first);
    assert.notEqual(again, first);
    first[0] = 1e6; // a reader changing its copy changes no other reader's
    assert.notEqual(sim.waveform('CNC1')[0], 1e6);
    // Same second, other bearing state: computed again, as a fresh simulator in that state computes it.
    sim.inject('CNC1', 'bearing', 0.5);
    const faulty = sim.waveform('CNC1');
    assert.notDeepEqual(faulty, again);
    const fresh = new PlantSimulator(plant(), { seed: 3, startTime: START });
    fresh.advance(60000);
    fresh.inject('CNC1', 'bearing', 0.5);
    assert.deepEqual(fresh.waveform('CNC1'), faulty);
    sim.advance(1000);
    assert.notDeepEqual(sim.waveform('CNC1'), faulty);
  });

  it('makes parts at close to the ideal rate, with counters, energy and state in the snapshot', () => {
    const sim = new PlantSimulator(plant({}, true), { seed: 1, startTime: START });
    const made = parts(sim, 8 * HOUR).length;
    const ideal = (8 * 3600) / DEFAULT_PLANT.lines[0].machines[0].idealCycleTimeS;
    assert.ok(made > 0.85 * ideal && made <= ideal, `${made} parts, ideal ${ideal}`);
    const snap = sim.snapshot();
    const p = 'Acme/Plant1/Machining/Line1/CNC1';
    const good = snap.get(`${p}/GoodCount`)!.value as number;
    const scrap = snap.get(`${p}/ScrapCount`)!.value as number;
    assert.equal(good + scrap, made);
    assert.equal(snap.get(`${p}/State`)!.value, 'Running');
    // ~18 kW for 8 h.
    const kwh = snap.get(`${p}/Energy`)!.value as number;
    assert.ok(kwh > 8 * 18 * 0.95 && kwh < 8 * 18 * 1.05, `${kwh} kWh`);
    assert.equal(snap.get(`${p}/Temperature`)!.ts, START + 8 * HOUR);
  });

  it('lists every tag with type and unit, and the snapshot has a value for each but the waveform', () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 1, startTime: START });
    const tags = sim.tags();
    assert.equal(tags.length, 4 * 19);
    const snap = sim.snapshot();
    for (const t of tags) {
      if (t.type === 'DoubleArray') assert.equal(snap.has(t.topic), false);
      else assert.ok(snap.has(t.topic), t.topic);
    }
    const temp = tags.find((t) => t.topic === 'Acme/Plant1/Machining/Line1/Oven1/Temperature')!;
    assert.deepEqual([temp.type, temp.unit], ['Double', '°C']);
  });

  it('tool wear drifts the quality measurement until the next tool change', () => {
    const q = DEFAULT_PLANT.lines[0].machines[0].quality;
    const sim = new PlantSimulator(plant(), { seed: 3, startTime: START });
    const before = parts(sim, 4 * HOUR);
    sim.inject('CNC1', 'toolWear', 1);
    const after = parts(sim, 4 * HOUR);
    // 0.02 sigma per part at severity 1: after 320 parts the last 50 sit about 6 sigma higher.
    const drift = (mean(after.slice(-50)) - mean(before)) / q.sigma;
    assert.ok(drift > 4.5 && drift < 7.5, `drift ${drift} sigma`);
  });

  it('a mean shift moves the measurement by 2 sigma at severity 1, and clearing ends it', () => {
    const q = DEFAULT_PLANT.lines[0].machines[0].quality;
    const sim = new PlantSimulator(plant(), { seed: 4, startTime: START });
    const before = parts(sim, 6 * HOUR);
    const [f] = [sim.inject('CNC1', 'shift', 1)];
    const during = parts(sim, 6 * HOUR);
    const ended = sim.clear('CNC1');
    const afterwards = parts(sim, 6 * HOUR);
    const shift = (mean(during) - mean(before)) / q.sigma;
    assert.ok(shift > 1.7 && shift < 2.3, `shift ${shift}`);
    assert.ok(Math.abs(mean(afterwards) - mean(before)) / q.sigma < 0.3);
    assert.deepEqual(ended, [f]);
    assert.equal(f.end, START + 12 * HOUR);
    assert.equal(f.endReason, 'cleared');
  });

  it('applies a written process offset to every later part, and refuses one out of range', () => {
    const q = DEFAULT_PLANT.lines[0].machines[0].quality;
    const sim = new PlantSimulator(plant(), { seed: 9, startTime: START });
    const before = parts(sim, 6 * HOUR);
    sim.setOffset('CNC1', -0.01);
    const after = parts(sim, 6 * HOUR);
    assert.ok(Math.abs(mean(after) - mean(before) + 0.01) < 0.3 * q.sigma, `${mean(after) - mean(before)}`);
    assert.equal(sim.snapshot().get('Acme/Plant1/Machining/Line1/CNC1/BoreDiameterOffset')!.value, -0.01);
    assert.throws(() => sim.setOffset('CNC1', 1), /within ±0\.25 mm/);
  });

  it('an injected breakdown stops the machine for severity x 60 min, then it runs again', () => {
    const sim = new PlantSimulator(plant(), { seed: 5, startTime: START });
    sim.advance(HOUR);
    const f = sim.inject('CNC1', 'breakdown', 0.5);
    const r = sim.advance(HOUR);
    assert.deepEqual(
      r.states.map((s) => [s.to, s.ts - START]),
      [['Running', 1.5 * HOUR]],
    );
    assert.equal(f.end, START + 1.5 * HOUR);
    assert.equal(f.endReason, 'repaired');
    assert.deepEqual(
      r.faults.map((e: FaultEvent) => [e.event, e.fault.id]),
      [['end', f.id]],
    );
  });

  it('a bearing fault shows BPFO in the envelope of the waveform, grows, and ends in a bearing failure', () => {
    const m = DEFAULT_PLANT.lines[0].machines[0];
    const fs = m.vibration.sampleRateHz;
    const sim = new PlantSimulator(plant(), { seed: 6, startTime: START });
    sim.advance(60000);
    const bpfo = sim.bearing('CNC1').bpfo;
    // Envelope power at BPFO against its mean over a band of other frequencies (away from BPFO harmonics).
    const others: number[] = [];
    for (let f = 40; f < 600; f += 7.3)
      if (Math.min(...[1, 2, 3, 4, 5].map((k) => Math.abs(f - k * bpfo))) > 15) others.push(f);
    const ratio = (x: number[]) =>
      envelopePower(x, fs, bpfo) / mean(others.map((f) => envelopePower(x, fs, f)));
    const healthy = sim.waveform('CNC1');
    sim.inject('CNC1', 'bearing', 0.3);
    sim.advance(1000);
    const faulty = sim.waveform('CNC1');
    assert.ok(ratio(faulty) > 20, `faulty envelope ratio ${ratio(faulty)}`);
    assert.ok(ratio(healthy) < 5, `healthy envelope ratio ${ratio(healthy)}`);
    const rms = (x: number[]) => Math.sqrt(mean(x.map((v) => v * v)));
    assert.ok(rms(faulty) > rms(healthy));
    // Severity 0.3 grows to 1 in 0.7 x 2 days: the bearing fails then (reason 102).
    const r = sim.advance(36 * HOUR);
    const failed = r.states.find((s) => s.reason === REASONS.bearingFailure);
    assert.ok(failed, 'bearing failure');
    assert.ok(Math.abs(failed.ts - (START + 61000 + 0.7 * 48 * HOUR)) < 2 * HOUR, 'failure time');
    assert.equal(sim.groundTruth[0].endReason, 'failure');
  });

  it('runs the model fault schedule and records it as ground truth', () => {
    const model = parsePlantModel({
      ...plant(),
      faultSchedule: [{ atS: 600, machine: 'CNC1', kind: 'overheat', severity: 0.5 }],
    });
    const sim = new PlantSimulator(model, { seed: 1, startTime: START });
    const r = sim.advance(HOUR);
    assert.equal(r.faults[0].event, 'start');
    assert.deepEqual(
      { ...sim.groundTruth[0] },
      { id: 1, machine: 'CNC1', kind: 'overheat', severity: 0.5, start: START + 600000, source: 'schedule' },
    );
    const t = sim.snapshot().get('Acme/Plant1/Machining/Line1/CNC1/Temperature')!.value as number;
    assert.ok(t > 38 + 10, `overheat raises the temperature (${t})`);
  });

  it('refuses unknown machines, fault kinds and severities with a clear error', () => {
    const sim = new PlantSimulator(DEFAULT_PLANT, { seed: 1, startTime: START });
    assert.throws(
      () => sim.inject('CNC9', 'bearing', 0.5),
      (e: TaktError) => e.code === 'sim.unknownMachine' && /CNC1/.test(e.message),
    );
    assert.throws(
      () => sim.inject('CNC1', 'gremlins', 0.5),
      (e: TaktError) => e.code === 'sim.unknownFault' && /bearing/.test(e.message),
    );
    assert.throws(
      () => sim.inject('CNC1', 'shift', 0),
      (e: TaktError) => e.code === 'sim.badSeverity',
    );
    assert.throws(
      () => sim.inject('CNC1', 'shift', 1.5),
      (e: TaktError) => e.code === 'sim.badSeverity',
    );
    assert.equal(sim.groundTruth.length, 0);
  });
});

describe('sim/parsePlantModel', () => {
  it('accepts the default plant', () => {
    assert.deepEqual(parsePlantModel(JSON.parse(JSON.stringify(DEFAULT_PLANT))), DEFAULT_PLANT);
  });

  const broken = (
    edit: (p: Record<string, unknown> & { lines: { machines: Record<string, unknown>[] }[] }) => void,
  ) => {
    const p = JSON.parse(JSON.stringify(DEFAULT_PLANT));
    edit(p);
    return () => parsePlantModel(p);
  };

  it('names the field at fault', () => {
    assert.throws(
      broken((p) => delete p.lines[0].machines[1].idealCycleTimeS),
      /lines\[0\]\.machines\[1\]\.idealCycleTimeS must be a finite number/,
    );
    assert.throws(
      broken((p) => ((p.lines[0].machines[0].bearing as Record<string, number>).balls = 2.5)),
      /machines\[0\]\.bearing\.balls must be >= 3/,
    );
    assert.throws(
      broken((p) => (p.lines[0].machines[2].id = 'CNC1')),
      /machines\[2\]\.id "CNC1" is used twice/,
    );
    assert.throws(
      broken((p) => (p.site = 'Plant/1')),
      /plant\.site "Plant\/1" must not contain/,
    );
    assert.throws(
      broken((p) => (p.faultSchedule = [{ atS: 1, machine: 'CNC1', kind: 'gremlins', severity: 1 }])),
      /faultSchedule\[0\]\.kind must be one of/,
    );
    assert.throws(() => parsePlantModel(null), /plant must be an object/);
  });
});
