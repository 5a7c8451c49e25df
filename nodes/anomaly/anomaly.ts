/**
 * takt-anomaly: scores feature rows with an ONNX model (LiveAnomaly in live.ts). msg.payload is a record of
 * named features, an array in model order, or an array of records (one batch); msg.anomaly gets
 * { score, threshold, isAnomaly, contributions, driver, healthIndex, healthIndexLog, smoothed, alarm, timeToAlarm?,
 * rul? (deprecated alias of timeToAlarm) }. A message with
 * msg.model (a path, as takt-train sends) loads that model; the node also reloads its file when it changes.
 * A model that fails to load is reported and the last good one stays. With a takt-model node set (modelRef) the
 * node serves that registry's champion and follows it when it changes (promotion, rollback).
 */
import type { Node, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { errorMessage } from '../core/errors';
import { championFeed, type ChampionFeed, followChampion } from './follow';
import { errorStatus, status, throttledStatus } from '../core/status';
import { toEpochMs } from '../core/time';
import { type AnomalyNodeDef, resolveModel, toLiveOptions } from './config';
import { LiveAnomaly, type LiveResult } from './live';

type Msg = NodeMessageInFlow & { ts?: unknown; model?: unknown; action?: unknown; anomaly?: unknown };

const init: NodeInitializer = (RED) => {
  function AnomalyNode(this: Node, def: AnomalyNodeDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    let live: LiveAnomaly;
    let source: { server: ChampionFeed } | undefined;
    try {
      live = new LiveAnomaly(resolveModel(userDir, def.model ?? ''), toLiveOptions(def));
      if (def.modelRef) source = { server: championFeed((id) => RED.nodes.getNode(id), def.modelRef) };
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
    const ready = () => shown.now(status.ready(RED._('anomaly.status.ready')));
    const failed = (err: unknown) => {
      this.error(`model not loaded: ${errorMessage(err)}`);
      shown.now(errorStatus(err));
    };
    let unfollow: (() => void) | undefined;
    if (source) {
      const { features, threshold } = live.options;
      unfollow = followChampion(
        source.server,
        live,
        { features, threshold },
        {
          loading: () => shown.now(status.connecting(RED._('anomaly.status.loading'))),
          ready: (v) => shown.now(status.ready(RED._('anomaly.status.version', { v }))),
          failed,
        },
      );
    } else if (def.model) {
      shown.now(status.connecting(RED._('anomaly.status.loading')));
      live.load().then(ready, failed);
      if (def.watch !== false) live.watch((err) => (err ? failed(err) : ready()));
    } else shown.now(status.idle(RED._('anomaly.status.noModel')));

    this.on('input', (msg: Msg, send, done) => {
      if (typeof msg.model === 'string' && msg.model !== '') {
        shown.now(status.connecting(RED._('anomaly.status.loading')));
        live.load(resolveModel(userDir, msg.model)).then(
          () => {
            ready();
            done();
          },
          (err: unknown) => {
            shown.now(errorStatus(err));
            done(err as Error);
          },
        );
        return;
      }
      if (msg.action === 'reset') {
        live.resetHealth();
        done();
        return;
      }
      if (source && !source.server.current && !source.server.error) {
        // A registry model with no version served yet: nothing to score, not an error (the first is on its way).
        shown.update(() => status.idle(RED._('anomaly.status.noModel')));
        done();
        return;
      }
      let ts: number;
      try {
        ts = msg.ts === undefined || msg.ts === null ? Date.now() : toEpochMs(msg.ts);
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
        return;
      }
      live.score(msg.payload, ts).then(
        (r) => {
          msg.anomaly = r;
          const last: LiveResult = Array.isArray(r) ? r[r.length - 1] : r;
          const text = `${last.alarm ? RED._('anomaly.status.alarm') : 'HI'} ${last.healthIndex.toFixed(2)}`;
          shown.update(() =>
            last.alarm ? status.error(text) : last.isAnomaly ? status.warning(text) : status.ready(text),
          );
          send(msg);
          done();
        },
        (err: unknown) => {
          shown.now(errorStatus(err));
          done(err as Error);
        },
      );
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      unfollow?.();
      shown.dispose();
      live.dispose().then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType('takt-anomaly', AnomalyNode);
};

export = init;
