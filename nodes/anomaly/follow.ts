/**
 * Lets a live anomaly scorer (live.ts) follow a registry's champion: each verified champion the server
 * announces is loaded into it (features and threshold from the card unless the node sets its own); a failed
 * load leaves the model it had. No Node-RED import.
 *
 * The champion comes from a takt-model config node (models/). The model lifecycle builds on this feature,
 * so this side only states what it needs, `ChampionFeed`, and models/server.ts's ChampionServer provides
 * it (docs/ARCHITECTURE.md, import rules: no cycles between feature folders).
 */
import { TaktError } from '../core/errors';
import type { LiveAnomaly } from './live';
import { META } from './models';

/** What the server of a model registry announces (models/server.ts, ServerEvent). */
export type ChampionEvent =
  | {
      type: 'champion';
      version: number;
      /** `domain`: what the model is (absent or 'anomaly' for a scorer; models/types.ts MODEL_DOMAINS). */
      card: { name?: string; features: string[]; threshold?: number; domain?: string };
      path: string;
    }
  | { type: 'error'; error: Error };

/** A registry's champion as a node that scores with it sees it: the one served, and its changes. */
export interface ChampionFeed {
  readonly current: { version: number; model: { readonly metadata: Record<string, string> } } | undefined;
  /** The last load error while nothing newer has loaded. */
  readonly error: Error | undefined;
  /** Subscribes; returns the function that unsubscribes. */
  on(fn: (e: ChampionEvent) => void): () => void;
}

export interface FollowCallbacks {
  loading(version: number): void;
  ready(version: number): void;
  failed(err: Error): void;
}

/** Starts following; returns the function that stops it. */
export function followChampion(
  server: ChampionFeed,
  live: LiveAnomaly,
  own: { features?: string[]; threshold?: number },
  cb: FollowCallbacks,
): () => void {
  return server.on((e) => {
    if (e.type === 'error') return cb.failed(e.error);
    if (e.card.domain !== undefined && e.card.domain !== 'anomaly')
      return cb.failed(
        new TaktError(
          'anomaly.notAnomaly',
          `${e.card.name ?? 'the model'} v${e.version} is a ${e.card.domain} model, not an anomaly scorer: choose the takt-model node of an anomaly model`,
          'modelRef',
        ),
      );
    live.options.features = own.features?.length ? own.features : e.card.features;
    // The card's threshold wins over the file's only when they differ (the health index keeps the file's
    // calibrated smoothed threshold otherwise).
    const meta = server.current?.version === e.version ? server.current.model.metadata : {};
    const fileThreshold = Number(meta[META.threshold]);
    live.options.threshold =
      own.threshold ??
      (Number.isFinite(fileThreshold) && fileThreshold === e.card.threshold ? undefined : e.card.threshold);
    cb.loading(e.version);
    live.load(e.path).then(
      () => cb.ready(e.version),
      (err: unknown) => cb.failed(err as Error),
    );
  });
}
