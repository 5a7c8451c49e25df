/** The registry's on-disk documents: version cards, the champion pointer, audit entries, reference samples. */

/** The JSON card written next to each version's ONNX file (`v<N>.json`). */
export interface VersionCard {
  /** Model name (the registry folder). */
  name: string;
  version: number;
  /** The ONNX file beside the card, `v<N>.onnx`. */
  file: string;
  /** SHA-256 (hex) of the ONNX file; checked on every load. */
  sha256: string;
  /** ISO 8601. */
  created: string;
  createdBy: string;
  /** Model kind when known (pca, autoencoder, mset, ...; for vision: the method, anomalib, classifier). */
  kind?: string;
  /**
   * 'vision' for an image model (input [1, C, H, W], no feature list): verified by hash and image input,
   * opened by takt-vision; absent for the feature models the registry scores itself.
   */
  domain?: 'vision';
  /** Image input of a vision model. */
  image?: { channels: number; height?: number; width?: number };
  /** ONNX input that takes the feature matrix [N, features.length]. */
  input?: string;
  /** Feature names in input order: the input signature. */
  features: string[];
  /** Per-feature mean and standard deviation of the training rows (the model normalises inside its graph). */
  normalisation?: { mean: number[]; sd: number[] };
  /** Alarm threshold on the score. */
  threshold: number;
  smoothing?: number;
  smoothedThreshold?: number;
  /** Training options a retrain reuses. */
  train?: { thresholdQuantile?: number; thresholdFactor?: number; smoothing?: number };
  /** Training data: time range (ISO 8601, when known) and number of rows. */
  training: { from?: string; to?: string; rows: number };
  metrics: Record<string, number>;
  /** Held-out comparison made when the version was retrained (see lifecycle.ts). */
  evaluation?: { challenger: Evaluation; champion?: Evaluation };
  /** Who approved it as champion (null until promoted). */
  approvedBy: string | null;
  approvedAt?: string;
  /** Sidecar files: the training reference sample (drift) and the held-out window (promotion). */
  reference?: string;
  holdout?: string;
  /** The version this one was retrained from. */
  parent?: number;
  note?: string;
}

/** `champion.json`: the version being served and the champions before it (most recent last). */
export interface ChampionPointer {
  version: number;
  since: string;
  by: string;
  history: number[];
}

export type AuditAction = 'register' | 'promote' | 'rollback' | 'refused' | 'shadow' | 'retrain';

/** One audit log entry (the log line adds seq, ts and the hash chain, see ../core/audit.ts). */
export interface AuditEntry {
  action: AuditAction;
  who: string;
  /** ISO 8601. */
  when: string;
  from: number | null;
  to: number | null;
  why: string;
}

/**
 * A bounded sample of the training rows (at most 1000), column by column in the same row order, with the
 * model's scores of those rows: the reference the drift monitor compares live windows with.
 */
export interface ReferenceSample {
  features: string[];
  columns: number[][];
  score?: number[];
}

/** False alarms on held-out normal rows and detections on labelled fault rows, at the version's threshold. */
export interface Evaluation {
  version: number;
  rows: number;
  falseAlarms: number;
  falseAlarmRate: number;
  faults: number;
  detected: number;
  /** detected / faults; absent without fault rows. */
  detectionRate?: number;
}
