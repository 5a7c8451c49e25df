/**
 * The plant model: lines and machines with their physics parameters. A default plant ships
 * (DEFAULT_PLANT); users load their own JSON, checked by `parsePlantModel`, which names the field at
 * fault in its error.
 */
import type { BearingGeometry } from '../core/bearing';
import { TaktError } from '../core/errors';
import { PRODUCT_KINDS, type ProductKind } from './synth';
import { checkProcess, DEFAULT_PROCESSES, type ProcessSpec } from './process';

export type { BearingGeometry };

export interface QualitySpec {
  /** Variable name, e.g. "BoreDiameter". */
  name: string;
  unit: string;
  nominal: number;
  /** Symmetric tolerance: parts outside nominal ± tolerance are scrap. */
  tolerance: number;
  /** Part-to-part standard deviation of a healthy process. */
  sigma: number;
}

export interface MachineModel {
  id: string;
  /** Free text, e.g. "CNC mill". */
  type: string;
  idealCycleTimeS: number;
  /** Electrical power draw by state, kW. */
  powerKw: { idle: number; running: number; setup: number; down: number };
  /** Process temperature: ambient, steady state while running, first-order time constant. */
  temperature: { ambientC: number; runningC: number; timeConstantS: number };
  shaftRpm: number;
  bearing: BearingGeometry;
  vibration: { sampleRateHz: number; samples: number; baselineRmsMmS: number };
  quality: QualitySpec;
  /** Random scrap fraction on top of parts out of tolerance. */
  scrapRate: number;
  /** Mean time between random breakdowns while running (hours) and mean time to repair (minutes). */
  mtbfH: number;
  mttrMin: number;
  /** A setup (changeover) after this many parts, lasting setupMin minutes. */
  setupEveryParts: number;
  setupMin: number;
  /** Share of time the machine waits for material (idle), in [0, 1). */
  starvedShare: number;
  /**
   * An inspection camera over the machine's output: one image per finished part, drawn by the synthetic part
   * generator of the vision engine (lighting changes and slight misplacement are part of normal; a
   * 'surfaceDefect' fault puts scratches, dents, stains or missing features on some parts).
   */
  camera?: CameraModel;
  /** Process response to setpoints with drift (process.ts); without it the machine has no setpoints. */
  process?: ProcessSpec;
}

export interface CameraModel {
  /** What the camera sees: a machined washer, a printed label or a cast surface. */
  product: ProductKind;
  /** Image side in pixels (square), 64..1024. */
  size: number;
}

export interface LineModel {
  id: string;
  machines: MachineModel[];
}

export interface ScheduledFault {
  /** Seconds after the simulation start. */
  atS: number;
  machine: string;
  kind: FaultKind;
  severity: number;
}

export interface PlantModel {
  enterprise: string;
  site: string;
  area: string;
  lines: LineModel[];
  /** Faults that happen at fixed simulated times (ground truth is logged like any other fault). */
  faultSchedule?: ScheduledFault[];
}

export const FAULT_KINDS = [
  'bearing',
  'toolWear',
  'shift',
  'breakdown',
  'overheat',
  'surfaceDefect',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/**
 * The kinds random faults are drawn from (`faultsPerDay`): every kind a machine without a camera can have, in
 * the order the draws have always used, so a seed gives the same random faults as before cameras existed.
 */
export const RANDOM_FAULT_KINDS: readonly FaultKind[] = [
  'bearing',
  'toolWear',
  'shift',
  'breakdown',
  'overheat',
];

const bearing6205: BearingGeometry = {
  balls: 9,
  ballDiameterMm: 7.94,
  pitchDiameterMm: 39.04,
  contactAngleDeg: 0,
};

/** The plant `npm start` and `npx takt-sim` serve: one line of four machines. */
export const DEFAULT_PLANT: PlantModel = {
  enterprise: 'Acme',
  site: 'Plant1',
  area: 'Machining',
  lines: [
    {
      id: 'Line1',
      machines: [
        {
          id: 'CNC1',
          type: 'CNC mill',
          idealCycleTimeS: 45,
          powerKw: { idle: 3.5, running: 18, setup: 4, down: 0.8 },
          temperature: { ambientC: 22, runningC: 38, timeConstantS: 900 },
          shaftRpm: 1800,
          bearing: bearing6205,
          vibration: { sampleRateHz: 20480, samples: 2048, baselineRmsMmS: 1.4 },
          quality: { name: 'BoreDiameter', unit: 'mm', nominal: 25.0, tolerance: 0.025, sigma: 0.005 },
          scrapRate: 0.005,
          mtbfH: 36,
          mttrMin: 25,
          setupEveryParts: 240,
          setupMin: 20,
          starvedShare: 0.05,
        },
        {
          id: 'Press1',
          type: 'Hydraulic press',
          idealCycleTimeS: 12,
          powerKw: { idle: 5, running: 30, setup: 6, down: 1 },
          temperature: { ambientC: 22, runningC: 48, timeConstantS: 1200 },
          shaftRpm: 1480,
          bearing: { balls: 8, ballDiameterMm: 12.7, pitchDiameterMm: 52.5, contactAngleDeg: 0 },
          vibration: { sampleRateHz: 20480, samples: 2048, baselineRmsMmS: 2.2 },
          quality: { name: 'Thickness', unit: 'mm', nominal: 3.2, tolerance: 0.06, sigma: 0.012 },
          scrapRate: 0.008,
          mtbfH: 48,
          mttrMin: 30,
          setupEveryParts: 1200,
          setupMin: 25,
          starvedShare: 0.04,
        },
        {
          id: 'Oven1',
          type: 'Curing oven',
          idealCycleTimeS: 20,
          powerKw: { idle: 12, running: 45, setup: 15, down: 2 },
          temperature: { ambientC: 22, runningC: 180, timeConstantS: 1800 },
          shaftRpm: 960,
          bearing: { balls: 10, ballDiameterMm: 9.53, pitchDiameterMm: 46.4, contactAngleDeg: 0 },
          vibration: { sampleRateHz: 20480, samples: 2048, baselineRmsMmS: 0.9 },
          quality: { name: 'Hardness', unit: 'HRC', nominal: 58, tolerance: 2, sigma: 0.4 },
          scrapRate: 0.003,
          mtbfH: 120,
          mttrMin: 40,
          setupEveryParts: 2000,
          setupMin: 30,
          starvedShare: 0.03,
        },
        {
          id: 'Packer1',
          type: 'Packer',
          idealCycleTimeS: 10,
          powerKw: { idle: 1.5, running: 6, setup: 2, down: 0.3 },
          temperature: { ambientC: 22, runningC: 32, timeConstantS: 600 },
          shaftRpm: 1200,
          bearing: { balls: 7, ballDiameterMm: 6.35, pitchDiameterMm: 28.5, contactAngleDeg: 15 },
          vibration: { sampleRateHz: 20480, samples: 2048, baselineRmsMmS: 1.1 },
          quality: { name: 'Weight', unit: 'g', nominal: 500, tolerance: 6, sigma: 1.2 },
          scrapRate: 0.004,
          mtbfH: 60,
          mttrMin: 15,
          setupEveryParts: 3000,
          setupMin: 10,
          starvedShare: 0.08,
          camera: { product: 'label', size: 256 },
        },
      ],
    },
  ],
};

// ---- validation -----------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function bad(field: string, what: string): never {
  throw new TaktError('sim.badModel', `plant model: ${field} ${what}`, field);
}

function obj(x: unknown, field: string): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad(field, 'must be an object');
  return x as Obj;
}

function str(o: Obj, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') bad(`${field}.${key}`, 'must be a non-empty string');
  if (/[/+#.\s]/.test(v)) bad(`${field}.${key}`, `"${v}" must not contain "/", "+", "#", "." or spaces`);
  return v;
}

function text(o: Obj, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') bad(`${field}.${key}`, 'must be a non-empty string');
  return v;
}

function num(o: Obj, key: string, field: string, min: number, max = Infinity, minExclusive = false): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${field}.${key}`, 'must be a finite number');
  if (minExclusive ? v <= min : v < min)
    bad(`${field}.${key}`, `must be ${minExclusive ? '>' : '>='} ${min}`);
  if (v > max) bad(`${field}.${key}`, `must be <= ${max}`);
  return v;
}

function int(o: Obj, key: string, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = num(o, key, field, min, max);
  if (!Number.isInteger(v)) bad(`${field}.${key}`, 'must be a whole number');
  return v;
}

function arr(o: Obj, key: string, field: string, nonEmpty = true): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) bad(`${field}.${key}`, 'must be an array');
  if (nonEmpty && v.length === 0) bad(`${field}.${key}`, 'must not be empty');
  return v;
}

function parseMachine(x: unknown, f: string): MachineModel {
  const m = obj(x, f);
  const p = obj(m.powerKw, `${f}.powerKw`);
  const t = obj(m.temperature, `${f}.temperature`);
  const b = obj(m.bearing, `${f}.bearing`);
  const v = obj(m.vibration, `${f}.vibration`);
  const q = obj(m.quality, `${f}.quality`);
  const bearing: BearingGeometry = {
    balls: int(b, 'balls', `${f}.bearing`, 3, 100),
    ballDiameterMm: num(b, 'ballDiameterMm', `${f}.bearing`, 0, Infinity, true),
    pitchDiameterMm: num(b, 'pitchDiameterMm', `${f}.bearing`, 0, Infinity, true),
    contactAngleDeg: num(b, 'contactAngleDeg', `${f}.bearing`, 0, 60),
  };
  if (bearing.ballDiameterMm >= bearing.pitchDiameterMm)
    bad(`${f}.bearing.ballDiameterMm`, 'must be below pitchDiameterMm');
  const vibration = {
    sampleRateHz: num(v, 'sampleRateHz', `${f}.vibration`, 100, 1e6),
    samples: int(v, 'samples', `${f}.vibration`, 16, 65536),
    baselineRmsMmS: num(v, 'baselineRmsMmS', `${f}.vibration`, 0, 100),
  };
  const shaftRpm = num(m, 'shaftRpm', f, 1, 100000);
  if (shaftRpm / 60 >= vibration.sampleRateHz / 2)
    bad(`${f}.shaftRpm`, 'is above the Nyquist frequency of the vibration sampling');
  return {
    id: str(m, 'id', f),
    type: text(m, 'type', f),
    idealCycleTimeS: num(m, 'idealCycleTimeS', f, 0, Infinity, true),
    powerKw: {
      idle: num(p, 'idle', `${f}.powerKw`, 0),
      running: num(p, 'running', `${f}.powerKw`, 0),
      setup: num(p, 'setup', `${f}.powerKw`, 0),
      down: num(p, 'down', `${f}.powerKw`, 0),
    },
    temperature: {
      ambientC: num(t, 'ambientC', `${f}.temperature`, -50, 500),
      runningC: num(t, 'runningC', `${f}.temperature`, -50, 1500),
      timeConstantS: num(t, 'timeConstantS', `${f}.temperature`, 0, Infinity, true),
    },
    shaftRpm,
    bearing,
    vibration,
    quality: {
      name: str(q, 'name', `${f}.quality`),
      unit: text(q, 'unit', `${f}.quality`),
      nominal: num(q, 'nominal', `${f}.quality`, -Infinity),
      tolerance: num(q, 'tolerance', `${f}.quality`, 0, Infinity, true),
      sigma: num(q, 'sigma', `${f}.quality`, 0, Infinity, true),
    },
    scrapRate: num(m, 'scrapRate', f, 0, 1),
    mtbfH: num(m, 'mtbfH', f, 0, Infinity, true),
    mttrMin: num(m, 'mttrMin', f, 0, Infinity, true),
    setupEveryParts: int(m, 'setupEveryParts', f, 1),
    setupMin: num(m, 'setupMin', f, 0),
    starvedShare: num(m, 'starvedShare', f, 0, 0.95),
    ...(m.camera === undefined ? {} : { camera: parseCamera(m.camera, `${f}.camera`) }),
    ...(m.process === undefined
      ? {}
      : { process: checkProcess(obj(m.process, `${f}.process`) as unknown as ProcessSpec, `${f}.process`) }),
  };
}

/**
 * The plant with the default process responses (process.ts DEFAULT_PROCESSES) on the machines that have one:
 * CNC1 gets FeedRate and SpindleSpeed, Press1 Pressure and DieTemperature, as writable setpoints.
 */
export function withProcesses(plant: PlantModel, processes = DEFAULT_PROCESSES): PlantModel {
  return {
    ...plant,
    lines: plant.lines.map((l) => ({
      ...l,
      machines: l.machines.map((m) => (processes[m.id] ? { ...m, process: processes[m.id] } : m)),
    })),
  };
}

function parseCamera(x: unknown, f: string): CameraModel {
  const c = obj(x, f);
  const product = text(c, 'product', f);
  if (!(PRODUCT_KINDS as readonly string[]).includes(product))
    bad(`${f}.product`, `must be one of ${PRODUCT_KINDS.join(', ')}`);
  const size = c.size === undefined ? 256 : int(c, 'size', f, 64, 1024);
  return { product: product as ProductKind, size };
}

/** Checks a plant model (parsed JSON) and returns it typed; throws TaktError naming the bad field. */
export function parsePlantModel(x: unknown): PlantModel {
  const o = obj(x, 'plant');
  const model: PlantModel = {
    enterprise: str(o, 'enterprise', 'plant'),
    site: str(o, 'site', 'plant'),
    area: str(o, 'area', 'plant'),
    lines: arr(o, 'lines', 'plant').map((l, i) => {
      const lo = obj(l, `lines[${i}]`);
      return {
        id: str(lo, 'id', `lines[${i}]`),
        machines: arr(lo, 'machines', `lines[${i}]`).map((m, j) =>
          parseMachine(m, `lines[${i}].machines[${j}]`),
        ),
      };
    }),
  };
  const ids = new Set<string>();
  model.lines.forEach((l, i) =>
    l.machines.forEach((m, j) => {
      if (ids.has(m.id))
        bad(`lines[${i}].machines[${j}].id`, `"${m.id}" is used twice (machine ids are unique in a plant)`);
      ids.add(m.id);
    }),
  );
  if (o.faultSchedule !== undefined) {
    model.faultSchedule = arr(o, 'faultSchedule', 'plant', false).map((s, i) => {
      const f = `faultSchedule[${i}]`;
      const so = obj(s, f);
      const machine = text(so, 'machine', f);
      if (!ids.has(machine)) bad(`${f}.machine`, `"${machine}" is not a machine of the plant`);
      const kind = text(so, 'kind', f);
      if (!(FAULT_KINDS as readonly string[]).includes(kind))
        bad(`${f}.kind`, `must be one of ${FAULT_KINDS.join(', ')}`);
      return {
        atS: num(so, 'atS', f, 0),
        machine,
        kind: kind as FaultKind,
        severity: num(so, 'severity', f, 0, 1, true),
      };
    });
  }
  return model;
}
