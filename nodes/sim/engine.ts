/**
 * The plant simulator: a deterministic, seeded model of a production line advanced in fixed time steps.
 * No I/O: servers (OPC UA, Sparkplug B) and the Node-RED node publish what it computes.
 *
 * Same model, seed and start time give the same data, whatever the time factor or the wall clock: the
 * state advances in fixed steps (`stepMs`), every machine draws from its own random stream, and the
 * vibration waveform of a simulated second is a function of (seed, machine, second, state) computed
 * only when someone reads it.
 */
import { TaktError } from '../core/errors';
import type { Quality } from '../core/sample';
import { bearingFrequencies, type BearingFrequencies } from '../core/bearing';
import {
  FAULT_KINDS,
  RANDOM_FAULT_KINDS,
  type CameraModel,
  type FaultKind,
  type MachineModel,
  type PlantModel,
} from './model';
import { Rng } from '../core/random';
import { DEFECT_KINDS, type DefectKind, type ProductKind } from './synth';
import {
  energyFactor,
  optimum,
  qualityShift,
  type Optimum,
  type ProcessContext,
  type ProcessSpec,
  WANDER_PHI,
} from './process';

export type MachineState = 'Idle' | 'Running' | 'Setup' | 'Down';
export const STATE_CODES: Record<MachineState, number> = { Idle: 0, Running: 1, Setup: 2, Down: 3 };

/** Reason codes for non-running states (ReasonCode variable; 0 while running). */
export const REASONS = {
  none: 0,
  starved: 10,
  changeover: 20,
  mechanical: 101,
  bearingFailure: 102,
  injectedBreakdown: 103,
  overheatTrip: 104,
} as const;

export type TagType = 'Double' | 'Int32' | 'UInt32' | 'String' | 'DoubleArray';

export interface TagInfo {
  machine: string;
  line: string;
  /** Variable name, e.g. "Temperature" (the OPC UA browse name). */
  name: string;
  /** ISA-95 path: enterprise/site/area/line/machine/name (the sample topic). */
  topic: string;
  type: TagType;
  unit?: string;
  /** Engineering range (EURange) for analog values. */
  range?: [number, number];
  description: string;
  /** Clients may write it (a setpoint or offset the machine applies). */
  writable?: boolean;
}

export type TagValue = number | string | number[];

/** One injected or scheduled fault: the ground truth analytics are scored against. */
export interface FaultRecord {
  id: number;
  machine: string;
  kind: FaultKind;
  severity: number;
  /** Simulated epoch ms. */
  start: number;
  /** Simulated epoch ms; absent while the fault lasts. */
  end?: number;
  source: 'method' | 'message' | 'schedule' | 'random';
  /** How it ended: cleared, repaired, tool change, failure (a bearing fault that ran to breakdown). */
  endReason?: string;
}

export interface FaultEvent {
  event: 'start' | 'end';
  fault: FaultRecord;
}

/** A finished part with its quality measurement. */
export interface PartEvent {
  machine: string;
  topic: string;
  ts: number;
  value: number;
  good: boolean;
  /** The camera's shot of the part, on a machine with a camera (render it with `renderShot`). */
  shot?: CameraShot;
}

/**
 * What an inspection camera saw of one part, as a recipe: the image itself is drawn on demand (it costs
 * milliseconds), from the seed, so the same simulator seed gives the same pixels. `defect` is the ground truth.
 */
export interface CameraShot {
  machine: string;
  /** Part number on this machine's camera, from 1. */
  part: number;
  ts: number;
  product: ProductKind;
  size: number;
  seed: number;
  /** The surface defect put on the part (a 'surfaceDefect' fault), or null for a good surface. */
  defect: { kind: DefectKind; severity: number; fault: number } | null;
}

export interface StateEvent {
  machine: string;
  ts: number;
  from: MachineState;
  to: MachineState;
  reason: number;
}

export interface AdvanceResult {
  parts: PartEvent[];
  states: StateEvent[];
  /** Faults that started or ended during the advance, in order (records are those of groundTruth). */
  faults: FaultEvent[];
}

export interface SimOptions {
  seed?: number;
  /** Simulated epoch ms at start; default: the wall clock, rounded down to the second. */
  startTime?: number;
  /** Fixed step of the state machines and physics. */
  stepMs?: number;
  /** Random faults per simulated day over the whole plant (0 = none). */
  faultsPerDay?: number;
  /** Ended faults kept in `groundTruth` (default GROUND_TRUTH_KEEP); active ones always stay. */
  groundTruthKeep?: number;
}

/**
 * Ended faults the simulator keeps in memory; the runner's ground-truth file and the node's second output have
 * every one. Small, so the history is full within days of plant time at the demo's six faults a day (a larger
 * cap reads as steady growth in a soak of a few plant weeks).
 */
export const GROUND_TRUTH_KEEP = 50;

interface ActiveFault {
  record: FaultRecord;
  /** Bearing severity grows from record.severity to 1 over this many seconds. */
  growthPerS?: number;
}

interface ProcessState {
  spec: ProcessSpec;
  /** Its own random stream, so machines without a process draw exactly what they drew before. */
  rng: Rng;
  setpoints: number[];
  lotId: number;
  lotHardness: number;
  lotLeft: number;
  /** Unobserved random-walk drift, quality units. */
  wander: number;
  ambientNoise: number;
  ambientC: number;
  /** kWh used while running, and its value when the current part started. */
  runEnergy: number;
  partStartEnergy: number;
  lastPartEnergy: number;
}

/** Ground truth of a machine's process response at this moment (for benches and tests). */
export interface ProcessTruth {
  machine: string;
  /** Setpoint names and values in force. */
  names: string[];
  setpoints: number[];
  context: ProcessContext;
  /** Everything that shifts the next part apart from the setpoints' own effect (offset, faults, wander). */
  disturbance: number;
  /** Expected quality of the next part at the setpoints in force. */
  expected: number;
  /**
   * The setpoints that put the next part on nominal with the least energy, and their expected energy factor
   * (a grid search over the bounds, tens of thousands of evaluations for three setpoints: worked out on first
   * read).
   */
  readonly optimum: Optimum;
}

function lotLength(spec: ProcessSpec, rng: Rng): number {
  return Math.max(1, Math.round(spec.lotParts * (0.5 + rng.next())));
}

const BEARING_DAYS_TO_FAILURE = 2; // a bearing fault of severity 0 fails in two simulated days
const TOOL_WEAR_SIGMA_PER_PART = 0.02; // mean drift per part at severity 1, in process sigmas
const MEAN_STARVED_S = 180;
const SQRT3_400V_PF = Math.sqrt(3) * 400 * 0.85;

class MachineSim {
  readonly m: MachineModel;
  readonly line: string;
  readonly rng: Rng;
  readonly freqs: BearingFrequencies;
  readonly prefix: string;
  state: MachineState = 'Running';
  reason: number = REASONS.none;
  stateUntil = Infinity;
  good = 0;
  scrap = 0;
  partsSinceSetup = 0;
  progress = 0;
  cycleS: number;
  temperature: number;
  power = 0;
  energyKwh = 0;
  vibrationRms: number;
  lastMeasurement: number;
  toolWearOffset = 0;
  /** Process offset set by a client (e.g. a tool offset from a run-to-run controller), in quality units. */
  offset = 0;
  faults: ActiveFault[] = [];
  stream: number;
  /** The camera's own random stream (so a camera leaves the other figures of the machine as they were). */
  readonly cameraRng: Rng;
  shots = 0;
  /** Process response state (only for a machine whose model has a `process`). */
  proc: ProcessState | undefined;
  /**
   * The last waveform computed and what it was computed from (second, running, bearing severity): the OPC
   * UA server and the sample batches both read the current second's waveform, and it is made once.
   */
  wave: { second: number; running: boolean; severity: number; values: readonly number[] } | undefined;

  constructor(m: MachineModel, line: string, prefix: string, seed: number, stream: number) {
    this.m = m;
    this.line = line;
    this.prefix = prefix;
    this.stream = stream;
    this.rng = new Rng(seed, stream);
    this.cameraRng = new Rng(seed, 30011 + stream);
    this.freqs = bearingFrequencies(m.bearing, m.shaftRpm);
    this.cycleS = m.idealCycleTimeS;
    this.temperature = m.temperature.runningC;
    this.vibrationRms = m.vibration.baselineRmsMmS;
    this.lastMeasurement = m.quality.nominal;
    if (m.process) {
      const rng = new Rng(seed, 30011 + stream);
      this.proc = {
        spec: m.process,
        rng,
        setpoints: m.process.setpoints.map((s) => s.initial),
        lotId: 1,
        lotHardness: rng.normal(),
        lotLeft: lotLength(m.process, rng),
        wander: 0,
        ambientNoise: 0,
        ambientC: m.temperature.ambientC,
        runEnergy: 0,
        partStartEnergy: 0,
        lastPartEnergy: 0,
      };
    }
  }

  fault(kind: FaultKind): ActiveFault | undefined {
    return this.faults.find((f) => f.record.kind === kind);
  }

  bearingSeverity(): number {
    return this.fault('bearing')?.record.severity ?? 0;
  }
}

export class PlantSimulator {
  readonly model: PlantModel;
  readonly seed: number;
  readonly stepMs: number;
  readonly startTime: number;
  /** The faults so far, in start order: every active one and the last `groundTruthKeep` ended ones. */
  readonly groundTruth: FaultRecord[] = [];
  private readonly groundTruthKeep: number;
  private readonly machines = new Map<string, MachineSim>();
  private readonly tagList: TagInfo[] = [];
  private time: number;
  private nextFaultId = 1;
  private scheduleIndex = 0;
  private readonly schedule: { at: number; machine: string; kind: FaultKind; severity: number }[];
  private readonly randomRng: Rng;
  private readonly faultsPerDay: number;
  private nextRandomFault = Infinity;

  constructor(model: PlantModel, opts: SimOptions = {}) {
    this.model = model;
    this.seed = (opts.seed ?? 1) >>> 0;
    this.stepMs = opts.stepMs ?? 100;
    if (!(this.stepMs >= 1 && this.stepMs <= 60000))
      throw new TaktError('sim.badStep', 'stepMs must be 1..60000');
    this.startTime = opts.startTime ?? Math.floor(Date.now() / 1000) * 1000;
    this.time = this.startTime;
    let stream = 0;
    for (const line of model.lines) {
      for (const m of line.machines) {
        const prefix = [model.enterprise, model.site, model.area, line.id, m.id].join('/');
        this.machines.set(m.id, new MachineSim(m, line.id, prefix, this.seed, stream++));
        this.tagList.push(...machineTags(m, line.id, prefix));
      }
    }
    this.schedule = (model.faultSchedule ?? [])
      .map((f) => ({
        at: this.startTime + f.atS * 1000,
        machine: f.machine,
        kind: f.kind,
        severity: f.severity,
      }))
      .sort((a, b) => a.at - b.at);
    this.randomRng = new Rng(this.seed, 10007);
    this.faultsPerDay = opts.faultsPerDay ?? 0;
    this.groundTruthKeep = opts.groundTruthKeep ?? GROUND_TRUTH_KEEP;
    if (this.faultsPerDay > 0)
      this.nextRandomFault = this.time + this.randomRng.exponential(86400000 / this.faultsPerDay);
  }

  /** Simulated time, epoch ms. */
  get now(): number {
    return this.time;
  }

  /** Every tag the plant publishes, in a stable order. */
  tags(): readonly TagInfo[] {
    return this.tagList;
  }

  machineIds(): string[] {
    return [...this.machines.keys()];
  }

  /** The machines with an inspection camera, and each camera. */
  cameras(): { machine: string; topic: string; camera: CameraModel }[] {
    return [...this.machines.values()]
      .filter((ms) => ms.m.camera)
      .map((ms) => ({ machine: ms.m.id, topic: `${ms.prefix}/Camera`, camera: ms.m.camera! }));
  }

  private cameraMachines(): string[] {
    return this.cameras().map((c) => c.machine);
  }

  bearing(machine: string): BearingFrequencies {
    return this.get(machine).freqs;
  }

  /** Advances the simulated time by `ms` (rounded down to whole steps); returns what happened. */
  advance(ms: number): AdvanceResult {
    const out: AdvanceResult = { parts: [], states: [], faults: [] };
    const steps = Math.floor(ms / this.stepMs);
    for (let i = 0; i < steps; i++) this.step(out);
    return out;
  }

  /** Starts a fault; throws TaktError for an unknown machine, kind or a severity outside (0, 1]. */
  inject(
    machine: string,
    kind: string,
    severity: number,
    source: FaultRecord['source'] = 'message',
  ): FaultRecord {
    const ms = this.machines.get(machine);
    if (!ms) {
      throw new TaktError(
        'sim.unknownMachine',
        `unknown machine "${machine}" (machines: ${this.machineIds().join(', ')})`,
        'machine',
        machine,
      );
    }
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new TaktError(
        'sim.unknownFault',
        `unknown fault kind "${kind}" (kinds: ${FAULT_KINDS.join(', ')})`,
        'kind',
      );
    }
    if (typeof severity !== 'number' || !(severity > 0 && severity <= 1)) {
      throw new TaktError(
        'sim.badSeverity',
        `severity must be a number in (0, 1], got ${String(severity)}`,
        'severity',
      );
    }
    const k = kind as FaultKind;
    if (k === 'surfaceDefect' && !ms.m.camera)
      throw new TaktError(
        'sim.noCamera',
        `machine "${machine}" has no camera: surface defects are seen only on machines with one (${this.cameraMachines().join(', ') || 'none in this plant'})`,
        'machine',
      );
    const existing = ms.fault(k);
    if (existing) this.endFault(ms, existing, 'replaced', undefined);
    const record: FaultRecord = {
      id: this.nextFaultId++,
      machine,
      kind: k,
      severity,
      start: this.time,
      source,
    };
    const active: ActiveFault = { record };
    if (k === 'bearing') active.growthPerS = 1 / (BEARING_DAYS_TO_FAILURE * 86400);
    ms.faults.push(active);
    this.groundTruth.push(record);
    this.trimGroundTruth();
    if (k === 'breakdown') this.setState(ms, 'Down', REASONS.injectedBreakdown, severity * 3600, undefined);
    return record;
  }

  /** Sets a machine's process offset (quality units); it shifts every later part's measurement. */
  setOffset(machine: string, offset: number): void {
    const ms = this.get(machine);
    const limit = 10 * ms.m.quality.tolerance;
    if (!Number.isFinite(offset) || Math.abs(offset) > limit) {
      throw new TaktError(
        'sim.badOffset',
        `offset for ${machine} must be a number within ±${limit} ${ms.m.quality.unit}`,
        'offset',
      );
    }
    ms.offset = offset;
  }

  /** Sets one process setpoint of a machine; throws sim.badSetpoint outside its bounds or for an unknown name. */
  setSetpoint(machine: string, name: string, value: number): void {
    const ms = this.get(machine);
    const i = ms.proc?.spec.setpoints.findIndex((s) => s.name === name) ?? -1;
    if (!ms.proc || i < 0) {
      throw new TaktError('sim.unknownSetpoint', `${machine} has no setpoint "${name}"`, 'name');
    }
    const s = ms.proc.spec.setpoints[i];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < s.min || value > s.max) {
      throw new TaktError(
        'sim.badSetpoint',
        `${name} of ${machine} must be a number within ${s.min}..${s.max} ${s.unit}`,
        'value',
      );
    }
    ms.proc.setpoints[i] = value;
  }

  /** Writes a writable tag (the quality offset or a process setpoint) by machine and tag name. */
  write(machine: string, name: string, value: number): void {
    const ms = this.get(machine);
    if (name === `${ms.m.quality.name}Offset`) this.setOffset(machine, value);
    else this.setSetpoint(machine, name, value);
  }

  /** The process setpoints in force on a machine, in the order of its process (empty without one). */
  setpoints(machine: string): number[] {
    return [...(this.get(machine).proc?.setpoints ?? [])];
  }

  /** The process ground truth of a machine with a process response (undefined for one without). */
  processTruth(machine: string): ProcessTruth | undefined {
    const ms = this.get(machine);
    const p = ms.proc;
    if (!p) return undefined;
    const q = ms.m.quality;
    const context = this.context(ms);
    const disturbance =
      ms.offset + ms.toolWearOffset + (ms.fault('shift')?.record.severity ?? 0) * 2 * q.sigma + p.wander;
    // What the optimum needs, as it is now (it is worked out on first read, perhaps later).
    const spec = p.spec;
    const within = q.sigma / 10;
    let best: Optimum | undefined;
    return {
      machine,
      names: p.spec.setpoints.map((s) => s.name),
      setpoints: [...p.setpoints],
      context,
      disturbance,
      expected: q.nominal + disturbance + qualityShift(p.spec, p.setpoints, context),
      get optimum(): Optimum {
        best ??= optimum(spec, context, -disturbance, within);
        return best;
      },
    };
  }

  /** Ends the faults of one machine (or of all); returns the records that ended. */
  clear(machine?: string): FaultRecord[] {
    if (machine !== undefined && !this.machines.has(machine)) {
      throw new TaktError('sim.unknownMachine', `unknown machine "${machine}"`, 'machine', machine);
    }
    const ended: FaultRecord[] = [];
    for (const ms of this.machines.values()) {
      if (machine !== undefined && ms.m.id !== machine) continue;
      for (const f of [...ms.faults]) ended.push(this.endFault(ms, f, 'cleared', undefined));
      if (ms.state === 'Down' && ms.reason === REASONS.injectedBreakdown) ms.stateUntil = this.time;
    }
    return ended;
  }

  /** Current value of every tag except the waveform (read that with `waveform()`), keyed by topic. */
  snapshot(): Map<string, { value: TagValue; ts: number; quality: Quality }> {
    const out = new Map<string, { value: TagValue; ts: number; quality: Quality }>();
    const ts = this.time;
    for (const ms of this.machines.values()) {
      const p = ms.prefix;
      const q = ms.m.quality;
      const set = (name: string, value: TagValue) => out.set(`${p}/${name}`, { value, ts, quality: 'good' });
      set('State', ms.state);
      set('StateCode', STATE_CODES[ms.state]);
      set('ReasonCode', ms.reason);
      set('GoodCount', ms.good);
      set('ScrapCount', ms.scrap);
      set('IdealCycleTime', ms.m.idealCycleTimeS);
      set('ActualCycleTime', round(ms.cycleS, 3));
      set('MotorCurrent', round((ms.power * 1000) / SQRT3_400V_PF, 3));
      set('Temperature', round(ms.temperature, 3));
      set('Power', round(ms.power, 3));
      set('Energy', round(ms.energyKwh, 4));
      set('VibrationRms', round(ms.vibrationRms, 4));
      set('VibrationSampleRate', ms.m.vibration.sampleRateHz);
      set('ShaftSpeed', ms.state === 'Running' ? ms.m.shaftRpm : 0);
      set(q.name, ms.lastMeasurement);
      set(`${q.name}Nominal`, q.nominal);
      set(`${q.name}Tolerance`, q.tolerance);
      set(`${q.name}Offset`, ms.offset);
      const pr = ms.proc;
      if (pr) {
        pr.spec.setpoints.forEach((s, i) => set(s.name, pr.setpoints[i]));
        set('ToolWear', ms.partsSinceSetup);
        set('AmbientTemperature', round(pr.ambientC, 3));
        set('LotId', pr.lotId);
        set('LotHardness', round(200 + 10 * pr.lotHardness, 2));
        set('PartEnergy', round(pr.lastPartEnergy, 5));
      }
    }
    return out;
  }

  /**
   * The vibration waveform (acceleration in standard gravities, gn) of the current simulated second for a machine: shaft 1x
   * and 2x, broadband noise, and, with a bearing fault, impulses at BPFO that ring a structural
   * resonance and grow with severity (plus low-frequency energy late in the fault's life).
   */
  waveform(machine: string): number[] {
    const ms = this.get(machine);
    const second = Math.floor((this.time - this.startTime) / 1000);
    const running = ms.state === 'Running';
    const severity = ms.bearingSeverity();
    const c = ms.wave;
    // Everything the waveform depends on is in the key (the rest of the machine's model is fixed): a
    // second read in the same state is a copy of the first (each reader gets its own array to keep).
    if (c && c.second === second && c.running === running && c.severity === severity) return c.values.slice();
    const values = this.makeWaveform(ms, second, running, severity);
    ms.wave = { second, running, severity, values };
    return values.slice();
  }

  private makeWaveform(ms: MachineSim, second: number, running: boolean, s: number): number[] {
    const { sampleRateHz: fs, samples: n } = ms.m.vibration;
    const rng = new Rng(this.seed ^ (second * 2654435761), 20011 + ms.stream);
    const out = new Array<number>(n);
    const fr = ms.freqs.shaftHz;
    const g = 9.80665;
    // 1x amplitude (g) that gives the baseline velocity RMS: a = v·√2·2πf.
    const a1 = running ? ((ms.m.vibration.baselineRmsMmS / 1000) * Math.SQRT2 * 2 * Math.PI * fr) / g : 0;
    const noise = running ? 0.01 : 0.002;
    const ph1 = rng.next() * 2 * Math.PI;
    const ph2 = rng.next() * 2 * Math.PI;
    for (let i = 0; i < n; i++) {
      const t = i / fs;
      out[i] =
        a1 * Math.sin(2 * Math.PI * fr * t + ph1) +
        0.3 * a1 * Math.sin(4 * Math.PI * fr * t + ph2) +
        noise * rng.normal();
    }
    if (running && s > 0) {
      const resonanceHz = 3500;
      const decayS = 0.0008;
      const amp = 0.05 + 1.5 * s; // g per impact
      const period = 1 / ms.freqs.bpfo;
      const ring = Math.ceil(6 * decayS * fs);
      for (let tk = rng.next() * period; tk < n / fs; tk += period * (1 + 0.01 * rng.normal())) {
        const k0 = Math.ceil(tk * fs);
        const a = amp * (1 + 0.1 * rng.normal());
        for (let k = k0; k < Math.min(n, k0 + ring); k++) {
          const dt = k / fs - tk;
          out[k] += a * Math.exp(-dt / decayS) * Math.sin(2 * Math.PI * resonanceHz * dt);
        }
      }
      // Late stage: the damaged race modulates the load at BPFO (velocity-relevant, low frequency).
      const late = a1 * 4 * s * s;
      for (let i = 0; i < n; i++) out[i] += late * Math.sin((2 * Math.PI * ms.freqs.bpfo * i) / fs);
    }
    return out;
  }

  /** The observable drift of a machine now, normalised (process.ts ProcessContext). */
  private context(ms: MachineSim): ProcessContext {
    const t = ms.m.temperature;
    const p = ms.proc as ProcessState;
    const span = t.runningC - t.ambientC;
    return {
      wear: ms.partsSinceSetup / ms.m.setupEveryParts,
      ambient: (p.ambientC - t.ambientC) / 5,
      lot: p.lotHardness,
      cold: span === 0 ? 0 : Math.min(1, Math.max(0, (t.runningC - ms.temperature) / span)),
    };
  }

  private get(machine: string): MachineSim {
    const ms = this.machines.get(machine);
    if (!ms) throw new TaktError('sim.unknownMachine', `unknown machine "${machine}"`, 'machine', machine);
    return ms;
  }

  private step(out: AdvanceResult): void {
    const dt = this.stepMs / 1000;
    this.time += this.stepMs;
    while (this.scheduleIndex < this.schedule.length && this.schedule[this.scheduleIndex].at <= this.time) {
      const f = this.schedule[this.scheduleIndex++];
      out.faults.push({ event: 'start', fault: this.inject(f.machine, f.kind, f.severity, 'schedule') });
    }
    while (this.time >= this.nextRandomFault) {
      const ids = this.machineIds();
      const machine = ids[Math.floor(this.randomRng.next() * ids.length)];
      const kind = RANDOM_FAULT_KINDS[Math.floor(this.randomRng.next() * RANDOM_FAULT_KINDS.length)]!;
      out.faults.push({
        event: 'start',
        fault: this.inject(machine, kind, 0.3 + 0.7 * this.randomRng.next(), 'random'),
      });
      this.nextRandomFault += this.randomRng.exponential(86400000 / this.faultsPerDay);
    }
    for (const ms of this.machines.values()) this.stepMachine(ms, dt, out);
  }

  private stepMachine(ms: MachineSim, dt: number, out: AdvanceResult): void {
    const m = ms.m;
    const rng = ms.rng;
    // Faults that evolve by themselves.
    const bearing = ms.fault('bearing');
    if (bearing && ms.state === 'Running') {
      bearing.record.severity = Math.min(1, bearing.record.severity + (bearing.growthPerS ?? 0) * dt);
      if (bearing.record.severity >= 1) {
        this.endFault(ms, bearing, 'failure', out);
        this.setState(ms, 'Down', REASONS.bearingFailure, rng.exponential(m.mttrMin * 60) * 3, out);
      }
    }
    // State machine.
    if (ms.state !== 'Running' && this.time >= ms.stateUntil) {
      const breakdown = ms.fault('breakdown');
      if (breakdown) this.endFault(ms, breakdown, 'repaired', out);
      this.setState(ms, 'Running', REASONS.none, Infinity, out);
    }
    if (ms.state === 'Running') {
      const overheat = ms.fault('overheat');
      if (rng.next() < dt / (m.mtbfH * 3600)) {
        this.setState(ms, 'Down', REASONS.mechanical, rng.exponential(m.mttrMin * 60), out);
      } else if (
        overheat &&
        ms.temperature > m.temperature.runningC + 0.9 * 60 * overheat.record.severity + 5
      ) {
        this.setState(ms, 'Down', REASONS.overheatTrip, rng.exponential(m.mttrMin * 60), out);
      } else if (
        m.starvedShare > 0 &&
        rng.next() < (dt * m.starvedShare) / (MEAN_STARVED_S * (1 - m.starvedShare))
      ) {
        this.setState(ms, 'Idle', REASONS.starved, rng.exponential(MEAN_STARVED_S), out);
      } else {
        ms.progress += dt / ms.cycleS;
        if (ms.progress >= 1) {
          ms.progress -= 1;
          this.finishPart(ms, out);
        }
      }
    }
    // Physics.
    const t = m.temperature;
    const overheatC = (ms.fault('overheat')?.record.severity ?? 0) * 60;
    const target =
      ms.state === 'Running'
        ? t.runningC + overheatC
        : ms.state === 'Down'
          ? t.ambientC
          : t.ambientC + 0.6 * (t.runningC - t.ambientC) + overheatC * 0.5;
    ms.temperature +=
      (target - ms.temperature) * (1 - Math.exp(-dt / t.timeConstantS)) + 0.02 * rng.normal() * Math.sqrt(dt);
    const s = ms.bearingSeverity();
    const base =
      m.powerKw[
        ms.state === 'Running'
          ? 'running'
          : ms.state === 'Idle'
            ? 'idle'
            : ms.state === 'Setup'
              ? 'setup'
              : 'down'
      ];
    ms.power = Math.max(0, base * (1 + 0.02 * rng.normal()) * (ms.state === 'Running' ? 1 + 0.08 * s : 1));
    const p = ms.proc;
    if (p && ms.state === 'Running') ms.power *= energyFactor(p.spec, p.setpoints);
    ms.energyKwh += (ms.power * dt) / 3600;
    if (p) {
      if (ms.state === 'Running') p.runEnergy += (ms.power * dt) / 3600;
      // Ambient: a daily cycle and a slow mean-reverting wander.
      p.ambientNoise += -p.ambientNoise * (dt / 3600) + 0.3 * Math.sqrt(dt / 3600) * p.rng.normal();
      const day = ((this.time - this.startTime) / 86400000) * 2 * Math.PI;
      p.ambientC = t.ambientC + p.spec.ambientSwingC * Math.sin(day) + p.ambientNoise;
    }
    const vBase = m.vibration.baselineRmsMmS;
    ms.vibrationRms =
      ms.state === 'Running'
        ? vBase * (1 + 0.03 * rng.normal()) * (1 + 3 * s * s)
        : vBase * 0.05 * (1 + 0.1 * Math.abs(rng.normal()));
  }

  private finishPart(ms: MachineSim, out: AdvanceResult): void {
    const m = ms.m;
    const q = m.quality;
    const wear = ms.fault('toolWear');
    if (wear) ms.toolWearOffset += TOOL_WEAR_SIGMA_PER_PART * wear.record.severity * q.sigma;
    const shift = (ms.fault('shift')?.record.severity ?? 0) * 2 * q.sigma;
    const p = ms.proc;
    const process = p ? qualityShift(p.spec, p.setpoints, this.context(ms)) + p.wander : 0;
    const value = round(
      q.nominal + ms.offset + ms.toolWearOffset + shift + process + q.sigma * ms.rng.normal(),
      6,
    );
    const shot = m.camera ? this.shoot(ms, m.camera) : undefined;
    // A part with a surface defect is scrap whatever its measurement (the camera's ground truth).
    const good = Math.abs(value - q.nominal) <= q.tolerance && ms.rng.next() >= m.scrapRate && !shot?.defect;
    if (good) ms.good++;
    else ms.scrap++;
    ms.lastMeasurement = value;
    if (p) {
      p.lastPartEnergy = p.runEnergy - p.partStartEnergy;
      p.partStartEnergy = p.runEnergy;
      p.wander = WANDER_PHI * p.wander + p.spec.wanderSigma * p.rng.normal();
      if (--p.lotLeft <= 0) {
        p.lotId++;
        p.lotHardness = p.rng.normal();
        p.lotLeft = lotLength(p.spec, p.rng);
      }
    }
    out.parts.push({
      machine: m.id,
      topic: `${ms.prefix}/${q.name}`,
      ts: this.time,
      value,
      good,
      ...(shot ? { shot } : {}),
    });
    // Next cycle: a little slower than ideal, more so as the bearing wears.
    ms.cycleS =
      m.idealCycleTimeS * (1 + Math.abs(0.04 + 0.02 * ms.rng.normal()) + 0.05 * ms.bearingSeverity());
    ms.partsSinceSetup++;
    if (ms.partsSinceSetup >= m.setupEveryParts) {
      ms.partsSinceSetup = 0;
      // A changeover includes a tool change: tool wear ends here.
      if (wear) this.endFault(ms, wear, 'tool change', out);
      ms.toolWearOffset = 0;
      this.setState(ms, 'Setup', REASONS.changeover, m.setupMin * 60, out);
    }
  }

  /** The camera's recipe for the part just finished: a seed, and a defect with the fault's probability. */
  private shoot(ms: MachineSim, camera: CameraModel): CameraShot {
    const r = ms.cameraRng;
    const seed = r.int(1, 2 ** 31 - 1);
    const fault = ms.fault('surfaceDefect');
    // Severity is the share of parts that come out defective while the fault lasts.
    const hit = r.next() < (fault?.record.severity ?? 0);
    const kind = DEFECT_KINDS[r.int(0, DEFECT_KINDS.length - 1)]!;
    const strength = r.uniform(0.5, 1);
    return {
      machine: ms.m.id,
      part: ++ms.shots,
      ts: this.time,
      product: camera.product,
      size: camera.size,
      seed,
      defect: hit && fault ? { kind, severity: round(strength, 3), fault: fault.record.id } : null,
    };
  }

  private setState(
    ms: MachineSim,
    to: MachineState,
    reason: number,
    durationS: number,
    out: AdvanceResult | undefined,
  ): void {
    const from = ms.state;
    ms.state = to;
    ms.reason = reason;
    ms.stateUntil =
      durationS === Infinity ? Infinity : this.time + Math.max(this.stepMs, Math.round(durationS * 1000));
    if (to !== 'Running') ms.progress = 0;
    if (out && from !== to) out.states.push({ machine: ms.m.id, ts: this.time, from, to, reason });
  }

  /** Drops the oldest ended faults beyond the cap (active ones stay, whatever their number). */
  private trimGroundTruth(): void {
    let ended = 0;
    for (const f of this.groundTruth) if (f.end !== undefined) ended++;
    let drop = ended - this.groundTruthKeep;
    if (drop <= 0) return;
    for (let i = 0; i < this.groundTruth.length && drop > 0;)
      if (this.groundTruth[i].end !== undefined) {
        this.groundTruth.splice(i, 1);
        drop--;
      } else i++;
  }

  private endFault(ms: MachineSim, f: ActiveFault, why: string, out: AdvanceResult | undefined): FaultRecord {
    ms.faults = ms.faults.filter((x) => x !== f);
    f.record.end = this.time;
    f.record.endReason = why;
    if (f.record.kind === 'toolWear') ms.toolWearOffset = 0;
    if (out) out.faults.push({ event: 'end', fault: f.record });
    return f.record;
  }
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

function machineTags(m: MachineModel, line: string, prefix: string): TagInfo[] {
  const t = (
    name: string,
    type: TagType,
    description: string,
    unit?: string,
    range?: [number, number],
  ): TagInfo => ({
    machine: m.id,
    line,
    name,
    topic: `${prefix}/${name}`,
    type,
    description,
    ...(unit !== undefined ? { unit } : {}),
    ...(range !== undefined ? { range } : {}),
  });
  const maxKw = Math.max(m.powerKw.running, m.powerKw.idle, m.powerKw.setup) * 1.5;
  const q = m.quality;
  return [
    t('State', 'String', 'Machine state: Running, Idle, Setup or Down'),
    t('StateCode', 'Int32', 'Machine state as a number: 0 Idle, 1 Running, 2 Setup, 3 Down'),
    t(
      'ReasonCode',
      'Int32',
      'Why not running: 0 none, 10 starved, 20 changeover, 101 mechanical, 102 bearing failure, 103 injected breakdown, 104 overheat trip',
    ),
    t('GoodCount', 'UInt32', 'Good parts since start'),
    t('ScrapCount', 'UInt32', 'Scrap parts since start'),
    t('IdealCycleTime', 'Double', 'Ideal cycle time', 's', [0, m.idealCycleTimeS * 3]),
    t('ActualCycleTime', 'Double', 'Cycle time of the current part', 's', [0, m.idealCycleTimeS * 3]),
    t('MotorCurrent', 'Double', 'Main drive current', 'A', [0, (maxKw * 1000) / SQRT3_400V_PF]),
    t('Temperature', 'Double', 'Process temperature', '°C', [
      m.temperature.ambientC - 20,
      m.temperature.runningC + 100,
    ]),
    t('Power', 'Double', 'Electrical power', 'kW', [0, maxKw]),
    t('Energy', 'Double', 'Energy meter', 'kWh', [0, 1e9]),
    t('VibrationRms', 'Double', 'Vibration velocity RMS (ISO 10816)', 'mm/s', [0, 50]),
    t(
      'VibrationWaveform',
      'DoubleArray',
      `Raw acceleration in standard gravities, ${m.vibration.samples} samples, refreshed each second`,
      'gn',
      [-50, 50],
    ),
    t('VibrationSampleRate', 'Double', 'Sampling rate of the waveform', 'Hz', [0, 1e6]),
    t('ShaftSpeed', 'Double', 'Shaft speed', 'rpm', [0, m.shaftRpm * 1.5]),
    t(
      q.name,
      'Double',
      `Quality measurement of the last part (nominal ${q.nominal} ± ${q.tolerance} ${q.unit})`,
      q.unit,
      [q.nominal - 10 * q.tolerance, q.nominal + 10 * q.tolerance],
    ),
    t(`${q.name}Nominal`, 'Double', 'Nominal value of the quality measurement', q.unit),
    t(`${q.name}Tolerance`, 'Double', 'Tolerance (±) of the quality measurement', q.unit),
    {
      ...t(
        `${q.name}Offset`,
        'Double',
        'Process offset applied to every part (writable: a tool offset)',
        q.unit,
        [-10 * q.tolerance, 10 * q.tolerance],
      ),
      writable: true,
    },
    ...processTags(m, t),
  ];
}

/** The setpoints (writable) and observable drift of a machine with a process response. */
function processTags(
  m: MachineModel,
  t: (name: string, type: TagType, description: string, unit?: string, range?: [number, number]) => TagInfo,
): TagInfo[] {
  const p = m.process;
  if (!p) return [];
  return [
    ...p.setpoints.map((s) => ({
      ...t(s.name, 'Double', `Process setpoint (writable, ${s.min}..${s.max} ${s.unit})`, s.unit, [
        s.min,
        s.max,
      ]),
      writable: true,
    })),
    t('ToolWear', 'UInt32', 'Parts made since the last tool change'),
    t('AmbientTemperature', 'Double', 'Ambient temperature at the machine', '°C', [-20, 60]),
    t('LotId', 'UInt32', 'Material lot in use'),
    t('LotHardness', 'Double', 'Incoming inspection hardness of the material lot', 'HB', [100, 300]),
    t('PartEnergy', 'Double', 'Electrical energy of the last part', 'kWh', [0, 100]),
  ];
}
