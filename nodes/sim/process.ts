/**
 * Process response of a machine: how its setpoints (feed, speed, pressure, temperature...) move the quality
 * characteristic and the energy per part, and how the process drifts while it runs (tool wear, warm-up,
 * material lot changes, ambient temperature, and a slow unobserved wander). Pure and seeded; the simulator
 * (engine.ts) applies it to every finished part, publishes the setpoints as writable tags and the observable
 * drift (tool wear counter, ambient, lot hardness) as tags, and `optimum()` gives the ground truth a tuner is
 * scored against (docs/ARCHITECTURE.md, "Layers": the simulator is io, analytics never import it).
 *
 * Setpoints enter in normalised form u = 2(s − min)/(max − min) − 1, so u ∈ [−1, 1] over the bounds.
 */
import { TaktError } from '../core/errors';

export interface ProcessSetpoint {
  /** Tag name, e.g. "FeedRate". */
  name: string;
  unit: string;
  min: number;
  max: number;
  /** The setpoint at start. */
  initial: number;
}

/** Drift inputs, each normalised to about one unit of its typical range. */
export interface ProcessContext {
  /** Parts since the last tool change / setpoint period (setupEveryParts), 0..1. */
  wear: number;
  /** Ambient temperature minus its mean, per 5 °C. */
  ambient: number;
  /** Hardness of the current material lot, standard units (mean 0, sd 1). */
  lot: number;
  /** How cold the machine is: 0 at running temperature, 1 at ambient. */
  cold: number;
}

export const CONTEXT_KEYS = ['wear', 'ambient', 'lot', 'cold'] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

export interface ProcessSpec {
  setpoints: ProcessSetpoint[];
  /** Quality shift (quality units) per unit of each normalised setpoint. */
  linear: number[];
  /** Symmetric curvature and interaction matrix: shift += uᵀ·Q·u. */
  quadratic: number[][];
  /** Quality shift per unit of each drift input at u = 0. */
  drift: Record<ContextKey, number>;
  /** How each drift effect scales with the setpoints: effect·(1 + Σᵢ interaction[key][i]·uᵢ). */
  interaction?: Partial<Record<ContextKey, number[]>>;
  /**
   * Innovation standard deviation per part of an unobserved drift (quality units), a slow AR(1) wander with
   * coefficient WANDER_PHI (its stationary standard deviation is about 7 times this).
   */
  wanderSigma: number;
  /** A new material lot after this many parts (mean; the length varies ±50 %). */
  lotParts: number;
  /** Relative energy per part: factor = 1 + Σ energyLinear·u + uᵀ·energyQuadratic·u (at least 0.2). */
  energyLinear: number[];
  energyQuadratic: number[][];
  /** Ambient temperature swing (°C, amplitude of a daily cycle) around the machine's ambientC. */
  ambientSwingC: number;
}

/** Autocorrelation per part of the unobserved wander: it forgets in about 200 parts. */
export const WANDER_PHI = 0.995;

/** Normalises setpoint values to u ∈ [−1, 1]. */
export function normalise(spec: ProcessSpec, values: readonly number[]): number[] {
  return spec.setpoints.map((s, i) => (2 * (values[i] - s.min)) / (s.max - s.min) - 1);
}

function quad(lin: readonly number[], Q: readonly number[][], u: readonly number[]): number {
  let y = 0;
  for (let i = 0; i < u.length; i++) {
    y += lin[i] * u[i];
    for (let j = 0; j < u.length; j++) y += Q[i][j] * u[i] * u[j];
  }
  return y;
}

/** Expected quality shift (quality units, before noise and wander) at setpoints `values` and context `c`. */
export function qualityShift(spec: ProcessSpec, values: readonly number[], c: ProcessContext): number {
  const u = normalise(spec, values);
  let y = quad(spec.linear, spec.quadratic, u);
  for (const k of CONTEXT_KEYS) {
    const inter = spec.interaction?.[k];
    let scale = 1;
    if (inter) for (let i = 0; i < u.length; i++) scale += (inter[i] ?? 0) * u[i];
    y += spec.drift[k] * c[k] * scale;
  }
  return y;
}

/** Relative energy per part (1 at the centre of the bounds). */
export function energyFactor(spec: ProcessSpec, values: readonly number[]): number {
  return Math.max(0.2, 1 + quad(spec.energyLinear, spec.energyQuadratic, normalise(spec, values)));
}

export interface Optimum {
  /** Setpoint values, in the order of spec.setpoints. */
  setpoints: number[];
  /** Expected quality shift there (0 when the target is reachable). */
  shift: number;
  energyFactor: number;
}

/**
 * Ground truth: the setpoints that put the expected quality on target (shift = `want`, to within `within`
 * quality units) and, among those, use the least energy; when the target is out of reach, the closest. A grid
 * of 41 points per setpoint over the bounds, then two finer grids around the best point (the optimum is
 * exact to about 1/4000 of each range).
 */
export function optimum(spec: ProcessSpec, c: ProcessContext, want: number, within: number): Optimum {
  const d = spec.setpoints.length;
  let lo = spec.setpoints.map((s) => s.min);
  let hi = spec.setpoints.map((s) => s.max);
  let best: Optimum | undefined;
  let bestKey = [Infinity, Infinity];
  for (const g of [41, 21, 21]) {
    const cell = lo.map((l, i) => (hi[i] - l) / (g - 1));
    const idx = new Array<number>(d).fill(0);
    const v = new Array<number>(d);
    for (;;) {
      for (let i = 0; i < d; i++) v[i] = lo[i] + cell[i] * idx[i];
      const shift = qualityShift(spec, v, c);
      const miss = Math.max(0, Math.abs(shift - want) - within);
      const e = energyFactor(spec, v);
      if (miss < bestKey[0] || (miss === bestKey[0] && e < bestKey[1])) {
        bestKey = [miss, e];
        best = { setpoints: [...v], shift, energyFactor: e };
      }
      let i = 0;
      while (i < d && ++idx[i] === g) idx[i++] = 0;
      if (i === d) break;
    }
    const b = (best as Optimum).setpoints;
    lo = b.map((x, i) => Math.max(spec.setpoints[i].min, x - cell[i]));
    hi = b.map((x, i) => Math.min(spec.setpoints[i].max, x + cell[i]));
  }
  return best as Optimum;
}

/** Checks a process spec (e.g. from a plant JSON); throws sim.badModel naming the field. */
export function checkProcess(p: ProcessSpec, field: string): ProcessSpec {
  const bad = (f: string, what: string): never => {
    throw new TaktError('sim.badModel', `plant model: ${field}.${f} ${what}`, `${field}.${f}`);
  };
  const fin = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  if (!Array.isArray(p.setpoints) || p.setpoints.length < 1 || p.setpoints.length > 4)
    bad('setpoints', 'must list 1 to 4 setpoints');
  const d = p.setpoints.length;
  p.setpoints.forEach((s, i) => {
    if (typeof s.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(s.name))
      bad(`setpoints[${i}].name`, 'must be a tag name (letters, digits, _)');
    if (!fin(s.min) || !fin(s.max) || !(s.max > s.min)) bad(`setpoints[${i}]`, 'needs finite min < max');
    if (!fin(s.initial) || s.initial < s.min || s.initial > s.max)
      bad(`setpoints[${i}].initial`, 'must lie within min..max');
  });
  const vec = (x: unknown, f: string) => {
    if (!Array.isArray(x) || x.length !== d || !x.every(fin)) bad(f, `must be ${d} finite numbers`);
  };
  const mat = (x: unknown, f: string) => {
    if (!Array.isArray(x) || x.length !== d) bad(f, `must be a ${d}x${d} matrix`);
    (x as unknown[]).forEach((r, i) => vec(r, `${f}[${i}]`));
  };
  vec(p.linear, 'linear');
  mat(p.quadratic, 'quadratic');
  vec(p.energyLinear, 'energyLinear');
  mat(p.energyQuadratic, 'energyQuadratic');
  for (const k of CONTEXT_KEYS) {
    if (!fin(p.drift?.[k])) bad(`drift.${k}`, 'must be a finite number');
    if (p.interaction?.[k] !== undefined) vec(p.interaction[k], `interaction.${k}`);
  }
  if (!fin(p.wanderSigma) || p.wanderSigma < 0) bad('wanderSigma', 'must be >= 0');
  if (!fin(p.lotParts) || p.lotParts < 1) bad('lotParts', 'must be >= 1');
  if (!fin(p.ambientSwingC) || p.ambientSwingC < 0) bad('ambientSwingC', 'must be >= 0');
  return p;
}

/**
 * Process responses for the default plant's CNC1 (bore diameter from feed and spindle speed) and Press1
 * (thickness from pressure and die temperature), used when the simulator runs with setpoints on
 * (`withProcesses`). Drift is several process sigmas over a tool life, so fixed setpoints lose the target.
 */
export const DEFAULT_PROCESSES: Record<string, ProcessSpec> = {
  CNC1: {
    setpoints: [
      { name: 'FeedRate', unit: 'mm/min', min: 200, max: 600, initial: 400 },
      { name: 'SpindleSpeed', unit: 'rpm', min: 1200, max: 2400, initial: 1800 },
    ],
    linear: [0.02, -0.012],
    quadratic: [
      [0.004, 0.002],
      [0.002, 0.003],
    ],
    drift: { wear: 0.02, ambient: 0.004, lot: 0.006, cold: -0.01 },
    wanderSigma: 0.0005,
    lotParts: 150,
    energyLinear: [-0.15, 0.25],
    energyQuadratic: [
      [0.08, 0],
      [0, 0.05],
    ],
    ambientSwingC: 4,
  },
  Press1: {
    setpoints: [
      { name: 'Pressure', unit: 'bar', min: 120, max: 200, initial: 160 },
      { name: 'DieTemperature', unit: '°C', min: 160, max: 240, initial: 200 },
    ],
    linear: [-0.04, -0.02],
    quadratic: [
      [0.01, 0.004],
      [0.004, 0.006],
    ],
    drift: { wear: 0.03, ambient: 0.006, lot: 0.015, cold: 0.02 },
    wanderSigma: 0.001,
    lotParts: 400,
    energyLinear: [0.2, 0.3],
    energyQuadratic: [
      [0.05, 0],
      [0, 0.05],
    ],
    ambientSwingC: 4,
  },
};
