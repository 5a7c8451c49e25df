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
import { championFeed, onClose, onInput, setUp } from '../core/adaptor';
import { errorMessage } from '../core/errors';
import { commandReader, readFeatureRows, readTimestamp } from '../core/message';
import { followChampion, type ChampionFeed } from './follow';
import { errorStatus, status, throttledStatus } from '../core/status';
import { type AnomalyNodeDef, resolveModel, toLiveOptions } from './config';
import { LiveAnomaly, type LiveResult } from './live';

type Msg = NodeMessageInFlow & {
  ts?: unknown;
  quality?: unknown;
  model?: unknown;
  action?: unknown;
  anomaly?: unknown;
};

const init: NodeInitializer = (RED) => {
  function AnomalyNode(this: Node, def: AnomalyNodeDef) {
    RED.nodes.createNode(this, def);
    const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
    const set = setUp(this, () => ({
      live: new LiveAnomaly(resolveModel(userDir, def.model ?? ''), toLiveOptions(def)),
      source: def.modelRef
        ? { server: championFeed<ChampionFeed>((id) => RED.nodes.getNode(id), def.modelRef) }
        : undefined,
    }));
    if (!set) return;
    const { live, source } = set;
    const shown = throttledStatus((s) => this.status(s));
    const command = commandReader({ actions: ['reset'], code: 'anomaly.badAction' }, (t) => this.warn(t));
    let skipped = 0;
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

    onInput<Msg>(
      this,
      (msg, send, done) => {
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
          return 'later';
        }
        if (command(msg) === 'reset') {
          live.resetHealth();
          return;
        }
        if (source && !source.server.current && !source.server.error) {
          // A registry model with no version served yet: nothing to score, not an error (the first is on its way).
          shown.update(() => status.idle(RED._('anomaly.status.noModel')));
          return;
        }
        // Every row read by the one row reader (core/message): its ts and quality checked. A bad-quality row
        // is not scored (it would raise false alarms and move the health index): a single one is skipped,
        // in a batch its result is null.
        const now = Date.now();
        const { rows, batch } = readFeatureRows(msg, { now });
        const good = rows.filter((r) => r.quality !== 'bad');
        skipped += rows.length - good.length;
        if (good.length === 0) {
          shown.update(() => status.warning(RED._('anomaly.status.skipped', { count: skipped })));
          return;
        }
        const ts = batch ? readTimestamp(msg.ts, now) : rows[0].ts;
        live.score(batch ? good.map((r) => r.features) : good[0].features, ts).then(
          (r) => {
            const results = Array.isArray(r) ? r : [r];
            let k = 0;
            msg.anomaly = batch ? rows.map((row) => (row.quality === 'bad' ? null : results[k++])) : r;
            const last: LiveResult = results[results.length - 1];
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
        return 'later';
      },
      shown,
    );

    onClose(
      this,
      () => unfollow?.(),
      () => shown.dispose(),
      () => live.dispose(),
    );
  }
  RED.nodes.registerType('takt-anomaly', AnomalyNode);
};

export = init;
