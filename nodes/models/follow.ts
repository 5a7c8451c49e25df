/**
 * Lets a live anomaly scorer (../anomaly/live.ts) follow a registry's champion: each verified champion the
 * server announces is loaded into it (features and threshold from the card unless the node sets its own);
 * a failed load leaves the model it had. No Node-RED import.
 */
import { META } from '../anomaly/models';
import type { LiveAnomaly } from '../anomaly/live';
import type { ChampionServer } from './server';

export interface FollowCallbacks {
  loading(version: number): void;
  ready(version: number): void;
  failed(err: Error): void;
}

/** Starts following; returns the function that stops it. */
export function followChampion(
  server: ChampionServer,
  live: LiveAnomaly,
  own: { features?: string[]; threshold?: number },
  cb: FollowCallbacks,
): () => void {
  return server.on((e) => {
    if (e.type === 'error') return cb.failed(e.error);
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
