/**
 * takt-clean: feature rows in, cleaned (and optionally scaled) rows out. A thin adaptor around Cleaner
 * (cleaner.ts). Scaling parameters fitted on the first rows are saved under the userDir (and to
 * `paramsFile` when set, e.g. beside the model) and restored on redeploy; rows carry them as msg.scaling.
 * Output 1: rows; output 2: diagnostics (change counts, issues, newly fitted parameters).
 */
import { existsSync } from 'node:fs';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onInput, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { commandReader, readFeatureRows } from '../core/message';
import { JsonStore, nodeStateFile } from '../core/state';
import { status, throttledStatus } from '../core/status';
import {
  Cleaner,
  type CleanFeatureSpec,
  type MissingPolicy,
  type ScalingMethod,
  type ScalingParams,
} from './cleaner';
import type { FeatureRow } from './types';

interface CleanNodeDef extends NodeDef {
  missing?: MissingPolicy;
  hampelWindow?: string | number;
  hampelThreshold?: string | number;
  maxRate?: string | number;
  deadband?: string | number;
  maxGapRows?: string | number;
  scaling?: ScalingMethod;
  fitRows?: string | number;
  features?: string;
  paramsFile?: string;
}

type Msg = NodeMessageInFlow & { action?: unknown; params?: unknown; euRange?: unknown; scaling?: unknown };

const init: NodeInitializer = (RED) => {
  function CleanNode(this: Node, def: CleanNodeDef) {
    RED.nodes.createNode(this, def);
    const userDir = (RED.settings as { userDir?: string }).userDir;
    const stores = [def.paramsFile, userDir && nodeStateFile(userDir, 'prep-clean', this.id)]
      .filter((f): f is string => Boolean(f))
      .map((f) => new JsonStore<ScalingParams>(f));
    const engine = setUp(this, () => {
      const cfg = configReader(def, { code: 'prep.badConfig' });
      const saved = stores.find((s) => existsSync(s.file))?.load();
      const scaling = def.scaling || 'none';
      const cleaner = new Cleaner({
        missing: def.missing || undefined,
        hampelWindow: cfg.number('hampelWindow', { default: 0 }),
        hampelThreshold: cfg.number('hampelThreshold', { default: 3 }),
        maxRate: cfg.optionalNumber('maxRate'),
        deadband: cfg.number('deadband', { default: 0 }),
        maxGapRows: cfg.number('maxGapRows', { default: 10 }),
        scaling,
        fitRows: cfg.number('fitRows', { default: 400 }),
        features: cfg.json<CleanFeatureSpec[]>('features', [], (v) =>
          Array.isArray(v) ? undefined : 'must be a JSON array',
        ),
        params: saved && saved.method === scaling ? saved : undefined,
      });
      if (saved && cleaner.getParams())
        this.log(`scaling parameters restored (${saved.names.length} features)`);
      return cleaner;
    });
    if (!engine) return;
    const command = commandReader({ actions: ['refit', 'flush'], code: 'prep.badAction' }, (t) =>
      this.warn(t),
    );
    const shown = throttledStatus((s) => this.status(s));
    const show = () => {
      const c = engine.counts;
      const fitting = engine.scaling !== 'none' && !engine.getParams();
      const changed = Object.entries(c).reduce(
        (a, [k, v]) => (k === 'rows' || k === 'rowsOut' || k === 'converted' ? a : a + v),
        0,
      );
      if (fitting) return status.connecting(`fitting ${c.rows}/${engine.fitRows}`);
      return changed ? status.warning(`${c.rowsOut} rows ${changed} chg`) : status.ready(`${c.rowsOut} rows`);
    };
    let lastDiag = 0;
    const save = (p: ScalingParams) => {
      for (const s of stores) {
        try {
          s.save(p);
        } catch (err) {
          this.warn(`scaling parameters not saved to ${s.file}: ${(err as Error).message}`);
        }
      }
    };

    onInput<Msg>(
      this,
      (msg, send) => {
        const action = command(msg);
        if (action === 'refit') {
          engine.refit();
          for (const s of stores) s.remove();
        }
        if (msg.params !== undefined) {
          engine.setParams(msg.params as ScalingParams);
          save(msg.params as ScalingParams);
        }
        if (msg.euRange !== undefined) engine.setRanges(msg.euRange);
        if (action === 'flush') engine.flush();
        else if (msg.payload !== undefined && action === undefined) {
          // One feature row (from takt-align), its ts read by the one timestamp rule (core/message); its
          // per-feature quality is the cleaner's to handle.
          const r = msg.payload as FeatureRow;
          if (
            typeof r !== 'object' ||
            r === null ||
            r.ts === undefined ||
            typeof r.features !== 'object' ||
            r.features === null
          )
            throw new TaktError(
              'prep.badRow',
              'payload: expected a feature row { ts, features, quality?, names? }',
              'payload',
            );
          const ts = readFeatureRows(msg, { now: Date.now() }).rows[0].ts;
          engine.push(ts === r.ts ? r : { ...r, ts });
        }
        const fitted = engine.takeParams();
        if (fitted) save(fitted);
        const params = engine.getParams();
        const rows = engine
          .takeRows()
          .map((r) => ({ ...msg, ts: r.ts, payload: r, scaling: r.scaled ? params : undefined }));
        const now = Date.now();
        const diag =
          fitted || action === 'flush' || (engine.issues.size > 0 && now - lastDiag >= 1000)
            ? {
                topic: 'diagnostics',
                payload: {
                  counts: { ...engine.counts },
                  byFeature: engine.featureCounts(),
                  issuesDropped: engine.issues.dropped,
                  issues: engine.takeIssues(),
                  params: fitted,
                },
              }
            : null;
        if (diag) lastDiag = now;
        if (rows.length || diag) send([rows, diag] as never);
        shown.update(show);
      },
      shown,
    );

    this.on('close', (removed: boolean, done: () => void) => {
      shown.dispose();
      if (removed && userDir) new JsonStore(nodeStateFile(userDir, 'prep-clean', this.id)).remove();
      done();
    });
  }
  RED.nodes.registerType('takt-clean', CleanNode);
};

export = init;
