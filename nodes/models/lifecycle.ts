/**
 * Retraining and gated promotion.
 *
 * Retrain: recent normal rows (time order) are split into a training part and the latest `holdoutShare`
 * (default 20 %) as the held-out window; a challenger of the champion's kind and settings is trained in a worker
 * thread with the anomaly training code (../anomaly/train-job.ts), both models are evaluated on the held-out
 * window, and the challenger is registered as a new version, never as champion.
 *
 * Promotion metric, at each version's own calibrated threshold: the false-alarm rate on held-out normal rows
 * (rows scoring above the threshold / rows) and, when labelled fault rows exist (operator-confirmed faults),
 * the detection rate on them. A challenger is worse, and its promotion refused, when its false-alarm rate
 * exceeds the champion's by more than `margin` (default 0.02), or its detection rate falls short of the
 * champion's by more than `margin`. Quality models have their own retrain and metric (quality.ts); a
 * promotion checks each version by the metric of its kind. No Node-RED import.
 */
import { readFileSync } from 'node:fs';
import { TaktError } from '../core/errors';
import { domainOf, isQualityDomain, meanSd } from '../learn/registry';
import { modelKind, type TrainOptions } from '../anomaly/models';
import { OnnxAnomalyModel } from '../anomaly/scorer';
import { startTraining } from '../anomaly/train-job';
import type { ModelRegistry } from './registry';
import { checkQualityPromotion } from './quality';
import { checkRows } from './reference';
import { stagedRetrain, trainingCount } from './staging';
import type { ChampionPointer, Evaluation, QualityEvaluation, VersionCard } from './types';

export const PROMOTION_MARGIN = 0.02;
export const MIN_HOLDOUT = 10;

/** Scores held-out normal rows and labelled fault rows at the model's threshold. */
export async function evaluate(
  model: OnnxAnomalyModel,
  version: number,
  normal: readonly number[][],
  faults: readonly number[][] = [],
): Promise<Evaluation> {
  const alarms = async (rows: readonly number[][]) =>
    rows.length ? (await model.score(rows)).filter((r) => r.isAnomaly).length : 0;
  const falseAlarms = await alarms(normal);
  const detected = await alarms(faults);
  const e: Evaluation = {
    version,
    rows: normal.length,
    falseAlarms,
    falseAlarmRate: normal.length ? falseAlarms / normal.length : 0,
    faults: faults.length,
    detected,
  };
  if (faults.length) e.detectionRate = detected / faults.length;
  return e;
}

/** Why `challenger` is worse than `champion` (empty when it is not). */
export function worseBy(challenger: Evaluation, champion: Evaluation, margin = PROMOTION_MARGIN): string[] {
  const why: string[] = [];
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  if (challenger.falseAlarmRate > champion.falseAlarmRate + margin)
    why.push(
      `false-alarm rate ${pct(challenger.falseAlarmRate)} against the champion's ${pct(champion.falseAlarmRate)} on ${challenger.rows} held-out rows`,
    );
  if (
    challenger.detectionRate !== undefined &&
    champion.detectionRate !== undefined &&
    challenger.detectionRate < champion.detectionRate - margin
  )
    why.push(
      `detection ${pct(challenger.detectionRate)} against the champion's ${pct(champion.detectionRate)} on ${challenger.faults} confirmed faults`,
    );
  return why;
}

export interface PromoteRequest {
  approvedBy: string;
  why: string;
  /** Held-out normal rows when the version has none of its own (e.g. recent rows the flow recorded). */
  normal?: number[][];
  /** Operator-confirmed fault rows. */
  faults?: number[][];
  /** A quality model: labelled rows when the version has no held-out rows of its own. */
  labelled?: { rows: number[][]; labels: number[] };
  margin?: number;
}

export interface PromoteResult {
  pointer: ChampionPointer;
  challenger?: Evaluation;
  champion?: Evaluation;
  /** A quality model's comparison (see quality.ts). */
  quality?: { challenger: QualityEvaluation; champion: QualityEvaluation };
}

/**
 * Promotes a version after an explicit approval, refusing it (and recording the refusal in the audit log)
 * when it is worse than the champion on the held-out window.
 */
export async function promoteGated(
  registry: ModelRegistry,
  version: number,
  req: PromoteRequest,
): Promise<PromoteResult> {
  if (typeof req.approvedBy !== 'string' || req.approvedBy.trim() === '')
    throw new TaktError(
      'models.notApproved',
      'approvedBy: promotion needs the name of the person who approves it',
      'approvedBy',
    );
  const card = registry.card(version);
  const cur = registry.champion();
  if (!cur || cur.version === version)
    return { pointer: await registry.promote(version, req.approvedBy, req.why) };
  if (isQualityDomain(domainOf(card))) {
    const quality = await checkQualityPromotion(registry, version, cur.version, {
      approvedBy: req.approvedBy,
      ...(req.margin !== undefined ? { margin: req.margin } : {}),
      ...(req.labelled ? { fallback: req.labelled } : {}),
    });
    return { pointer: await registry.promote(version, req.approvedBy, req.why), quality };
  }
  const normal = registry.holdout(version) ?? req.normal ?? [];
  if (normal.length < MIN_HOLDOUT)
    throw new TaktError(
      'models.noHoldout',
      `${card.name} v${version}: ${normal.length} held-out rows, the comparison with the champion needs at least ${MIN_HOLDOUT}`,
      'holdout',
    );
  checkRows(normal, card.features, 'holdout');
  const faults = req.faults ?? [];
  checkRows(faults, card.features, 'faults');
  const ch = await registry.open(version);
  const cp = await registry.open(cur.version);
  let challenger: Evaluation;
  let champion: Evaluation;
  try {
    challenger = await evaluate(ch.model, version, normal, faults);
    champion = await evaluate(cp.model, cur.version, normal, faults);
  } finally {
    await ch.model.dispose();
    await cp.model.dispose();
  }
  const why = worseBy(challenger, champion, req.margin);
  if (why.length) {
    registry.record('refused', cur.version, version, {
      who: req.approvedBy,
      why: `worse: ${why.join('; ')}`,
    });
    throw new TaktError(
      'models.worse',
      `${card.name} v${version} not promoted: ${why.join('; ')}`,
      'version',
    );
  }
  return { pointer: await registry.promote(version, req.approvedBy, req.why), challenger, champion };
}

export interface RetrainRequest {
  /** Recent normal rows in time order, arrays in the champion's feature order. */
  rows: number[][];
  /** Source times of the rows (epoch ms), for the card's training range. */
  times?: number[];
  faults?: number[][];
  holdoutShare?: number;
  minRows?: number;
  who: string;
  why: string;
  /** Training options over the champion's (kind, epochs, seed, ...). */
  options?: Omit<TrainOptions, 'onProgress'>;
}

export interface RetrainResult {
  card: VersionCard;
  challenger: Evaluation;
  champion?: Evaluation;
}

export interface RetrainHandle {
  promise: Promise<RetrainResult>;
  cancel(): void;
}

/** Trains a challenger off the event loop and registers it (never as champion). */
export function retrain(
  registry: ModelRegistry,
  req: RetrainRequest,
  onProgress?: (fraction: number, text: string) => void,
): RetrainHandle {
  return stagedRetrain(registry, (cur, base) => {
    const d = base.features.length;
    checkRows(req.rows, base.features, 'rows');
    const n = trainingCount(req.rows.length, { ...req, minHoldout: MIN_HOLDOUT, what: 'normal' });
    const trainRows = req.rows.slice(0, n);
    const holdout = req.rows.slice(n);
    const X = new Float64Array(n * d);
    trainRows.forEach((r, i) => r.forEach((v, j) => (X[i * d + j] = v)));
    // A champion of no known kind (an ONNX file from elsewhere) is retrained as PCA; a kind that is named but
    // not registered is refused rather than retrained as another.
    const kind = base.kind ? modelKind(base.kind, 'kind', 'models.unknownKind').kind : 'pca';
    const options: Omit<TrainOptions, 'onProgress'> = { kind, ...base.train, ...req.options };
    return {
      start: (dir, name) => startTraining({ X, n, features: base.features, options, dir, name }, onProgress),
      finish: async (trained, version): Promise<RetrainResult> => {
        const challengerModel = await OnnxAnomalyModel.load(trained.model);
        const faults = req.faults ?? [];
        let challenger: Evaluation;
        let champion: Evaluation | undefined;
        try {
          challenger = await evaluate(challengerModel, version, holdout, faults);
        } finally {
          await challengerModel.dispose();
        }
        const cp = await registry.open(cur.version);
        try {
          champion = await evaluate(cp.model, cur.version, holdout, faults);
        } finally {
          await cp.model.dispose();
        }
        const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
        const training: VersionCard['training'] = { rows: n };
        const from = iso(req.times?.[0]);
        const to = iso(req.times?.[n - 1]);
        if (from) training.from = from;
        if (to) training.to = to;
        const c = trained.card;
        const { card } = await registry.register(
          {
            onnx: readFileSync(trained.model),
            features: base.features,
            threshold: c.threshold,
            kind: c.kind,
            training,
            normalisation: meanSd(trainRows, d),
            smoothing: c.smoothing,
            smoothedThreshold: c.smoothedThreshold,
            train: {
              thresholdQuantile: c.thresholdQuantile,
              thresholdFactor: c.thresholdFactor,
              smoothing: c.smoothing,
            },
            metrics: c.metrics,
            reference: trainRows,
            holdout,
            evaluation: { challenger, champion },
            parent: cur.version,
            note: req.why,
          },
          { who: req.who, why: `retrained from v${cur.version} on ${n} rows: ${req.why}` },
        );
        challenger.version = card.version;
        return { card, challenger, champion };
      },
    };
  });
}
