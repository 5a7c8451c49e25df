/**
 * takt-align: samples of many tags (single or batch messages) in, one feature row per time step out.
 * A thin adaptor around Aligner (aligner.ts). Output 1: rows (msg.payload = { ts, features, quality,
 * names, vector }); output 2: diagnostics (counts and what was rejected, at most once per second).
 * A wall-clock timer keeps fixed-period rows coming when data stops. The feature order and last values
 * are saved under the userDir on close and restored on redeploy.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readSamples } from '../core/message';
import { status, throttledStatus } from '../core/status';
import { JsonStore, nodeStateFile } from '../core/state';
import { Aligner, type Aggregation, type AlignSnapshot, type FeatureSpec } from './aligner';
import { parseFeatureLines } from './input';
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
    const engine = setUp(this, () => {
      const cfg = configReader(def, { code: 'prep.badConfig' });
      const trigger = cfg.choice('mode', ['period', 'trigger'], 'period') === 'trigger';
      if (trigger && !def.triggerTopic)
        throw new TaktError(
          'prep.badConfig',
          'triggerTopic: trigger mode needs a trigger topic',
          'triggerTopic',
        );
      return new Aligner({
        periodMs: cfg.number('periodMs', { default: 1000 }),
        triggerTopic: trigger ? cfg.string('triggerTopic') : undefined,
        agg: def.agg || undefined,
        maxAgeMs: cfg.optionalNumber('maxAgeMs'),
        latenessMs: cfg.number('latenessMs', { default: 0 }),
        features: parseFeatureLines(def.features),
        include: def.include || undefined,
        futureMs: cfg.optionalNumber('futureMs'),
        maxPastMs: cfg.optionalNumber('maxPastMs'),
      });
    });
    if (!engine) return;
    const command = commandReader({ actions: ['flush'], code: 'prep.badAction' }, (t) => this.warn(t));
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

    onInput<Msg>(
      this,
      (msg, send) => {
        if (command(msg) === 'flush') {
          engine.flush();
          send([rowMsgs(engine.takeRows()), diagnostics(true)] as never);
          shown.update(show);
          return;
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
          // Every sample read by the one reader (core/message); a bad element is kept marked (its ts NaN,
          // its quality bad) so the engine counts it instead of the whole batch being refused.
          const now = Date.now();
          for (const s of readSamples(msg, { now, onBad: 'mark' })) engine.push(s, now);
        }
        const rows = engine.takeRows();
        const diag = diagnostics();
        if (rows.length || diag) send([rowMsgs(rows), diag] as never);
        shown.update(show);
      },
      shown,
    );

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
