/** The registry's on-disk documents: version cards, the champion pointer, audit entries, reference samples. */
import type { LearnCard } from '../learn/model';
import type { QualityEvaluation } from '../learn/registry';

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
   * What the model is (see MODEL_DOMAINS); absent on the cards of anomaly models written before it existed.
   * 'anomaly': a scorer with an alarm threshold, scored by the registry itself. 'vision': an image model
   * (input [1, C, H, W], no feature list) opened by takt-vision. 'quality-regression' and
   * 'quality-classification': a quality model from takt-predict-train (features in, value or class out) that
   * takt-predict opens; its card has `quality` and no alarm threshold.
   */
  domain?: ModelDomain;
  /** Image input of a vision model. */
  image?: { channels: number; height?: number; width?: number };
  /** ONNX input that takes the feature matrix [N, features.length]. */
  input?: string;
  /** Feature names in input order: the input signature. */
  features: string[];
  /** Per-feature mean and standard deviation of the training rows (the model normalises inside its graph). */
  normalisation?: { mean: number[]; sd: number[] };
  /** Alarm threshold on the score (anomaly and vision models; a quality model has none). */
  threshold?: number;
  /** What a quality model predicts and how well (quality domains only). */
  quality?: QualityInfo;
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

/** The kinds of model a registry holds; a card says which one it is in `domain`. */
export const MODEL_DOMAINS = ['anomaly', 'vision', 'quality-regression', 'quality-classification'] as const;
export type ModelDomain = (typeof MODEL_DOMAINS)[number];
/** The quality domains, as the learn folder names them (models/ builds on learn/). */
export type { QualityDomain } from '../learn/registry';

/** A quality model's card section: target, task, intervals or classes, held-out metrics. */
export interface QualityInfo {
  task: 'regression' | 'classification';
  /** What is predicted (e.g. "bore diameter"). */
  target: string;
  /** Split conformal interval of a regression model: half-width and the coverage it was built for. */
  conformal?: NonNullable<LearnCard['conformal']>;
  /** Class labels in probability order (classification). */
  classes?: number[];
  /** Held-out comparison made when the version was retrained (see lifecycle.ts). */
  evaluation?: { challenger: QualityEvaluation; champion?: QualityEvaluation };
}

/** A quality model on held-out labelled rows (learn/registry.ts, where takt-predict-train compares too). */
export type { QualityEvaluation };

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
  /** What `score` holds: the anomaly score (default) or a quality model's held-out residuals. */
  scoreName?: 'score' | 'residual';
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
