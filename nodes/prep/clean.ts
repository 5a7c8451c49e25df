/**
 * takt-clean: feature rows in, cleaned (and optionally scaled) rows out. A thin adaptor around Cleaner
 * (cleaner.ts). Scaling parameters fitted on the first rows are saved under the userDir (and to
 * `paramsFile` when set, e.g. beside the model) and restored on redeploy; rows carry them as msg.scaling.
 * Output 1: rows; output 2: diagnostics (change counts, issues, newly fitted parameters).
 */
import { existsSync } from 'node:fs';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { JsonStore, nodeStateFile } from '../core/state';
import { errorStatus, status, throttledStatus } from '../core/status';
import {
  Cleaner,
  type CleanFeatureSpec,
  type MissingPolicy,
  type ScalingMethod,
  type ScalingParams,
} from './cleaner';
import { configNumber, parseJsonList } from './input';
import { isFeatureRow } from './types';

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
    let engine: Cleaner;
    try {
      const saved = stores.find((s) => existsSync(s.file))?.load();
      engine = new Cleaner({
        missing: def.missing || undefined,
        hampelWindow: configNumber(def.hampelWindow, 'hampelWindow', 0),
        hampelThreshold: configNumber(def.hampelThreshold, 'hampelThreshold', 3),
        maxRate: configNumber(def.maxRate, 'maxRate', undefined),
        deadband: configNumber(def.deadband, 'deadband', 0),
        maxGapRows: configNumber(def.maxGapRows, 'maxGapRows', 10),
        scaling: def.scaling || 'none',
        fitRows: configNumber(def.fitRows, 'fitRows', 400),
        features: parseJsonList<CleanFeatureSpec>(def.features, 'features'),
        params: saved && saved.method === (def.scaling || 'none') ? saved : undefined,
      });
      if (saved && engine.getParams())
        this.log(`scaling parameters restored (${saved.names.length} features)`);
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
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

    this.on('input', (msg: Msg, send, done) => {
      try {
        if (msg.action === 'refit') {
          engine.refit();
          for (const s of stores) s.remove();
        } else if (msg.action !== undefined && msg.action !== 'flush') {
          throw new TaktError(
            'prep.badAction',
            `action: "${String(msg.action)}" is not refit or flush`,
            'action',
          );
        }
        if (msg.params !== undefined) {
          engine.setParams(msg.params as ScalingParams);
          save(msg.params as ScalingParams);
        }
        if (msg.euRange !== undefined) engine.setRanges(msg.euRange);
        if (msg.action === 'flush') engine.flush();
        else if (msg.payload !== undefined && msg.action === undefined) {
          if (!isFeatureRow(msg.payload))
            throw new TaktError(
              'prep.badRow',
              'payload: expected a feature row { ts, features, quality?, names? }',
              'payload',
            );
          engine.push(msg.payload);
        }
        const fitted = engine.takeParams();
        if (fitted) save(fitted);
        const params = engine.getParams();
        const rows = engine
          .takeRows()
          .map((r) => ({ ...msg, ts: r.ts, payload: r, scaling: r.scaled ? params : undefined }));
        const now = Date.now();
        const diag =
          fitted || msg.action === 'flush' || (engine.issues.size > 0 && now - lastDiag >= 1000)
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
        done();
      } catch (err) {
        shown.now(errorStatus(err));
        done(err as Error);
      }
    });

    this.on('close', (removed: boolean, done: () => void) => {
      shown.dispose();
      if (removed && userDir) new JsonStore(nodeStateFile(userDir, 'prep-clean', this.id)).remove();
      done();
    });
  }
  RED.nodes.registerType('takt-clean', CleanNode);
};

export = init;
