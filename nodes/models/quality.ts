/**
 * The lifecycle of quality models (takt-predict-train's gradient-boosted trees, ../learn/): retraining on
 * labelled rows and the promotion check, beside the anomaly models' in lifecycle.ts.
 *
 * Retrain: recent labelled rows (time order) are split into a training part and the latest `holdoutShare`
 * (default 20 %) as the held-out window; a challenger of the champion's task, features and interval coverage
 * is trained in a worker thread with the learn training code (../learn/train-job.ts), both models are measured
 * on the held-out window, and the challenger is registered as a new version, never as champion.
 *
 * Promotion metric on held-out labelled rows: RMSE (regression) or accuracy (classification). A challenger is
 * worse, and its promotion refused, when its RMSE exceeds the champion's by more than `margin` of it (default
 * 2 %), or its accuracy falls short of the champion's by more than `margin` (2 points). No Node-RED import.
 */
import { readFileSync } from 'node:fs';
import { TaktError } from '../core/errors';
import { Predictor } from '../learn/model';
import {
  domainOf,
  evaluateQuality,
  isQualityDomain,
  openServed,
  qualityRegistration,
} from '../learn/registry';
import { startFit } from '../learn/train-job';
import { checkRows } from './reference';
import type { ModelRegistry } from './registry';
import { stagedRetrain, trainingCount } from './staging';
import type { QualityEvaluation, VersionCard } from './types';

export { evaluateQuality };

/** Held-out labelled rows a promotion check needs at least. */
export const MIN_QUALITY_HOLDOUT = 10;

/** Why `challenger` is worse than `champion` (empty when it is not). */
export function qualityWorseBy(
  challenger: QualityEvaluation,
  champion: QualityEvaluation,
  margin = 0.02,
): string[] {
  const why: string[] = [];
  if (
    challenger.rmse !== undefined &&
    champion.rmse !== undefined &&
    challenger.rmse > champion.rmse * (1 + margin)
  )
    why.push(
      `RMSE ${challenger.rmse.toPrecision(4)} against the champion's ${champion.rmse.toPrecision(4)} on ${challenger.rows} held-out rows`,
    );
  if (
    challenger.accuracy !== undefined &&
    champion.accuracy !== undefined &&
    challenger.accuracy < champion.accuracy - margin
  )
    why.push(
      `accuracy ${(100 * challenger.accuracy).toFixed(1)} % against the champion's ${(100 * champion.accuracy).toFixed(1)} % on ${challenger.rows} held-out rows`,
    );
  return why;
}

/** A quality version of the registry opened for prediction (verified by the registry, then by its hash). */
export async function openQuality(registry: ModelRegistry, version: number): Promise<Predictor> {
  const { card, model } = await registry.load(version);
  await model.dispose();
  return openServed(card, registry.path(version));
}

/**
 * Compares a quality version with the champion on held-out labelled rows (the version's own, else `fallback`);
 * returns both evaluations, or throws `models.worse` (recorded in the audit log) when it is worse.
 */
export async function checkQualityPromotion(
  registry: ModelRegistry,
  version: number,
  champion: number,
  o: { approvedBy: string; margin?: number; fallback?: { rows: number[][]; labels: number[] } },
): Promise<{ challenger: QualityEvaluation; champion: QualityEvaluation }> {
  const card = registry.card(version);
  const held = registry.labelledHoldout(version) ?? o.fallback;
  if (!held || held.rows.length < MIN_QUALITY_HOLDOUT)
    throw new TaktError(
      'models.noHoldout',
      `${card.name} v${version}: ${held?.rows.length ?? 0} held-out labelled rows, the comparison with the champion needs at least ${MIN_QUALITY_HOLDOUT}`,
      'holdout',
    );
  checkRows(held.rows, card.features, 'holdout');
  const ch = await evaluateQuality(await openQuality(registry, version), version, held.rows, held.labels);
  const cp = await evaluateQuality(await openQuality(registry, champion), champion, held.rows, held.labels);
  const why = qualityWorseBy(ch, cp, o.margin);
  if (why.length) {
    registry.record('refused', champion, version, { who: o.approvedBy, why: `worse: ${why.join('; ')}` });
    throw new TaktError(
      'models.worse',
      `${card.name} v${version} not promoted: ${why.join('; ')}`,
      'version',
    );
  }
  return { challenger: ch, champion: cp };
}

export interface QualityRetrainRequest {
  /** Recent labelled rows in time order, arrays in the champion's feature order. */
  rows: number[][];
  labels: number[];
  /** Source times of the rows (epoch ms), for the card's training range. */
  times?: number[];
  holdoutShare?: number;
  minRows?: number;
  timeLimitMs?: number;
  who: string;
  why: string;
}

export interface QualityRetrainResult {
  card: VersionCard;
  challenger: QualityEvaluation;
  champion: QualityEvaluation;
}

/** Trains a quality challenger off the event loop and registers it (never as champion). */
export function retrainQuality(
  registry: ModelRegistry,
  req: QualityRetrainRequest,
): { promise: Promise<QualityRetrainResult>; cancel(): void } {
  return stagedRetrain(registry, (cur, base) => {
    const quality = base.quality;
    if (!isQualityDomain(domainOf(base)) || !quality)
      throw new TaktError(
        'models.badCard',
        `${registry.name} v${cur.version} is not a quality model`,
        'card',
      );
    checkRows(req.rows, base.features, 'rows');
    if (req.labels.length !== req.rows.length)
      throw new TaktError(
        'models.badRows',
        `labels: ${req.labels.length} labels for ${req.rows.length} rows`,
        'labels',
      );
    const n = trainingCount(req.rows.length, { ...req, minHoldout: MIN_QUALITY_HOLDOUT, what: 'labelled' });
    const X = req.rows.slice(0, n);
    const y = req.labels.slice(0, n);
    const holdout = { rows: req.rows.slice(n), labels: req.labels.slice(n) };
    return {
      start: (dir, name) =>
        startFit({
          X,
          y,
          features: base.features,
          task: quality.task,
          ...(quality.conformal ? { coverage: quality.conformal.coverage } : {}),
          ...(req.timeLimitMs !== undefined ? { timeLimitMs: req.timeLimitMs } : {}),
          dir,
          name,
        }),
      finish: async (trained, version): Promise<QualityRetrainResult> => {
        const onnx = new Uint8Array(readFileSync(trained.model));
        const challenger = await evaluateQuality(
          Predictor.fromBytes(onnx),
          version,
          holdout.rows,
          holdout.labels,
        );
        const champion = await evaluateQuality(
          await openQuality(registry, cur.version),
          cur.version,
          holdout.rows,
          holdout.labels,
        );
        const reg = qualityRegistration({ onnx, card: trained.card, split: trained.split }, X, y, {
          target: quality.target,
          ...(req.times ? { times: req.times.slice(0, n) } : {}),
          parent: cur.version,
          note: req.why,
        });
        const { card } = await registry.register(
          {
            ...reg,
            quality: { ...reg.quality, evaluation: { challenger, champion } },
            // The promotion check compares on the latest rows, after the training part.
            holdout: holdout.rows,
            holdoutLabels: holdout.labels,
          },
          { who: req.who, why: `retrained from v${cur.version} on ${n} labelled rows: ${req.why}` },
        );
        challenger.version = card.version;
        return { card, challenger, champion };
      },
    };
  });
}
