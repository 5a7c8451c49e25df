/**
 * Rolling-element bearing defect frequencies (the standard kinematic formulas, e.g. Randall,
 * "Vibration-based Condition Monitoring", 2011, section 2.2.5), in Hz for a shaft speed in rpm:
 *   FTF  = fr/2 · (1 − d/D·cos φ)                (cage)
 *   BPFO = n·fr/2 · (1 − d/D·cos φ)              (outer race)
 *   BPFI = n·fr/2 · (1 + d/D·cos φ)              (inner race)
 *   BSF  = D/(2d) · fr · (1 − (d/D·cos φ)²)      (ball spin)
 * In core because two features use them: the simulator's machines (sim/) and the vibration features
 * (vibration/), and analytics may not import the simulator (docs/ARCHITECTURE.md).
 */

/** A rolling-element bearing's geometry (the simulator's machines and the vibration features both use it). */
export interface BearingGeometry {
  /** Number of rolling elements. */
  balls: number;
  ballDiameterMm: number;
  pitchDiameterMm: number;
  contactAngleDeg: number;
}

export interface BearingFrequencies {
  shaftHz: number;
  ftf: number;
  bpfo: number;
  bpfi: number;
  bsf: number;
}

export function bearingFrequencies(g: BearingGeometry, rpm: number): BearingFrequencies {
  const fr = rpm / 60;
  const r = (g.ballDiameterMm / g.pitchDiameterMm) * Math.cos((g.contactAngleDeg * Math.PI) / 180);
  return {
    shaftHz: fr,
    ftf: (fr / 2) * (1 - r),
    bpfo: ((g.balls * fr) / 2) * (1 - r),
    bpfi: ((g.balls * fr) / 2) * (1 + r),
    bsf: (g.pitchDiameterMm / (2 * g.ballDiameterMm)) * fr * (1 - r * r),
  };
}
