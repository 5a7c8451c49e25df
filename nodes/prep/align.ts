/**
 * takt-align: samples of many tags (single or batch messages) in, one feature row per time step out.
 * A thin adaptor around Aligner (aligner.ts). Output 1: rows (msg.payload = { ts, features, quality,
 * names, vector }); output 2: diagnostics (counts and what was rejected, at most once per second).
 * A wall-clock timer keeps fixed-period rows coming when data stops. The feature order and last values
 * are saved under the userDir on close and restored on redeploy.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status, throttledStatus } from '../core/status';
import { JsonStore, nodeStateFile } from '../core/state';
import { Aligner, type Aggregation, type AlignSnapshot, type FeatureSpec } from './aligner';
import { configNumber, forEachSample, parseFeatureLines } from './input';
import type { FeatureRow } from './types';

interface AlignNodeDef extends NodeDef {
  mode?: 'period' | 'trigger';
  periodMs?: string | number;
  triggerTopic?: string;
  agg?: Aggregation;
  maxAgeMs?: string | number;
  latenessMs?: string | number;
  features?: string;
  include?: string;
  futureMs?: string | number;
  maxPastMs?: string | number;
  outTopic?: string;
}

type Msg = NodeMessageInFlow & { ts?: unknown; quality?: unknown; action?: unknown; features?: unknown };

const init: NodeInitializer = (RED) => {
  function AlignNode(this: Node, def: AlignNodeDef) {
    RED.nodes.createNode(this, def);
    let engine: Aligner;
    try {
      engine = new Aligner({
        periodMs: configNumber(def.periodMs, 'periodMs', 1000),
        triggerTopic: def.mode === 'trigger' ? def.triggerTopic || undefined : undefined,
        agg: def.agg || undefined,
        maxAgeMs: configNumber(def.maxAgeMs, 'maxAgeMs', undefined),
        latenessMs: configNumber(def.latenessMs, 'latenessMs', 0),
        features: parseFeatureLines(def.features),
        include: def.include || undefined,
        futureMs: configNumber(def.futureMs, 'futureMs', undefined),
        maxPastMs: configNumber(def.maxPastMs, 'maxPastMs', undefined),
      });
      if (def.mode === 'trigger' && !def.triggerTopic)
        throw new TaktError(
          'prep.badConfig',
          'triggerTopic: trigger mode needs a trigger topic',
          'triggerTopic',
        );
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const store = userDir
      ? new JsonStore<AlignSnapshot>(nodeStateFile(userDir, 'prep-align', this.id))
      : undefined;
    try {
      if (store && engine.restore(store.load()))
        this.log(`feature order restored (${engine.featureNames.length})`);
    } catch (err) {
      this.warn((err as Error).message);
    }
    const topic = def.outTopic || 'features';
    const shown = throttledStatus((s) => this.status(s));
    const rejected = () => {
      const c = engine.counts;
      return c.late + c.badQuality + c.notNumeric + c.nan + c.badTs + c.future + c.stale + c.unknownTopic;
    };
    const show = () => {
      const bad = rejected();
      const text = `${engine.counts.rows} rows${bad ? ` ${bad} rej.` : ''}`;
      return bad ? status.warning(text) : status.ready(text);
    };
    const rowMsgs = (rows: FeatureRow[]) => rows.map((r) => ({ topic, ts: r.ts, payload: r }));
    let lastDiag = 0;
    const diagnostics = (force = false) => {
      const now = Date.now();
      if (!force && (engine.issues.size === 0 || now - lastDiag < 1000)) return null;
      lastDiag = now;
      return {
        topic: 'diagnostics',
        payload: {
          counts: { ...engine.counts },
          issuesDropped: engine.issues.dropped,
          issues: engine.takeIssues(),
        },
      };
    };
    const timer =
      engine.triggerTopic === undefined
        ? setInterval(
            () => {
              try {
                engine.tick(Date.now());
                const rows = engine.takeRows();
                const diag = diagnostics();
                if (rows.length || diag) this.send([rowMsgs(rows), diag] as never);
                if (rows.length) shown.update(show);
              } catch (err) {
                this.error(err);
              }
            },
            Math.min(engine.periodMs, 1000),
          )
        : undefined;

    this.on('input', (msg: Msg, send, done) => {
      try {
        if (msg.action === 'flush') {
          engine.flush();
          send([rowMsgs(engine.takeRows()), diagnostics(true)] as never);
          shown.update(show);
          return done();
        }
        if (msg.features !== undefined) {
          if (!Array.isArray(msg.features))
            throw new TaktError(
              'prep.badFeatures',
              'features: msg.features must be an array of { topic, name?, agg? }',
              'features',
            );
          engine.setFeatures(msg.features as FeatureSpec[]);
        }
        if (msg.payload !== undefined) {
          const now = Date.now();
          forEachSample(msg, now, (s) => engine.push(s, now));
        }
        const rows = engine.takeRows();
        const diag = diagnostics();
        if (rows.length || diag) send([rowMsgs(rows), diag] as never);
        shown.update(show);
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      shown.dispose();
      try {
        if (removed) store?.remove();
        else store?.save(engine.snapshot());
      } catch (err) {
        this.warn(`feature order not saved: ${(err as Error).message}`);
      }
      done();
    });
  }
  RED.nodes.registerType('takt-align', AlignNode);
};

export = init;
