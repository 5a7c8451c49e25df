/**
 * The identity behind an action that takt-approve released (its msg.approval): the authenticated people
 * who approved it, joined with "+", or undefined when none of them was authenticated (anonymous decisions
 * and timeouts never stand for a person).
 */
export function approvalIdentity(approval: unknown): Identity | undefined {
  if (typeof approval !== 'object' || approval === null) return undefined;
  const a = approval as { outcome?: unknown; by?: unknown; decisions?: unknown };
  if (a.outcome !== 'approved' || a.by !== 'decision' || !Array.isArray(a.decisions)) return undefined;
  const people: string[] = [];
  let source: Identity['source'] | undefined;
  for (const d of a.decisions as {
    user?: unknown;
    decision?: unknown;
    authenticated?: unknown;
    source?: unknown;
  }[]) {
    if (d?.decision !== 'approve' || d.authenticated !== true || typeof d.user !== 'string' || !d.user)
      continue;
    if (!people.includes(d.user)) people.push(d.user);
    source ??= (typeof d.source === 'string' ? d.source : 'message') as Identity['source'];
  }
  return people.length
    ? { user: people.join('+'), authenticated: true, source: source ?? 'message' }
    : undefined;
}

/**
 * The operations of takt-model-ops on one registry (through its ChampionServer): score rows with the champion
 * and, in shadow mode, with a challenger; take operator feedback; record recent rows as normal data (every
 * scored row until an operator confirms it as a fault, which moves it to the fault rows); and run the commands
 * register, shadow, feedback, retrain, promote, rollback and status. No Node-RED import.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { TaktError } from '../core/errors';
import { domainOf, isQualityDomain, qualityDomain } from '../learn/registry';
import { type Identity, identityLabel } from '../core/identity';
import type { ScoreResult } from '../anomaly/scorer';
import { promoteGated, retrain } from './lifecycle';
import { retrainQuality } from './quality';
import { type Decision, ShadowBook, type ShadowSnapshot, toLabel } from './metrics';
import type { RegisterInput } from './registry';
import { type Row, rowsOf, toVector } from './rows';
import type { ChampionServer } from './server';
import type { AuditEntry, QualityInfo } from './types';
import { readSignature, tabular } from './verify';

export const OPS_ACTIONS = [
  'register',
  'shadow',
  'feedback',
  'retrain',
  'promote',
  'rollback',
  'status',
  'reset',
] as const;
export type OpsAction = (typeof OPS_ACTIONS)[number];

export interface OpsOptions {
  /** Recent normal rows kept for retraining (default 2000). */
  keep?: number;
  /** Confirmed fault rows kept for the promotion check (default 500). */
  keepFaults?: number;
  /** Promotion margin (default 0.02). */
  margin?: number;
  holdoutShare?: number;
  /** Fewest rows a retrain accepts (default 50). */
  minRows?: number;
  /** Folder that relative model paths in `register` start from. */
  modelsDir?: string;
}

export interface VersionDecision {
  version: number;
  score: number;
  threshold: number;
  isAnomaly: boolean;
}

export interface ShadowResult {
  key: string;
  champion: VersionDecision;
  challenger?: VersionDecision;
  agree?: boolean;
  challengerError?: string;
}

export interface OpsState {
  shadow?: number;
  counts?: ShadowSnapshot;
}

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function versionOf(v: unknown, field = 'version'): number {
  const n = typeof v === 'string' ? Number(v.replace(/^v/i, '')) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    throw new TaktError('models.badVersion', `${field}: ${JSON.stringify(v)} is not a version number`, field);
  return n;
}

export class ModelOps {
  readonly server: ChampionServer;
  readonly book = new ShadowBook();
  readonly options: Required<Omit<OpsOptions, 'modelsDir'>> & { modelsDir?: string };
  shadow: number | undefined;
  private normal: number[][] = [];
  private times: number[] = [];
  private keys: string[] = [];
  /** Rows seen before the model had a version (features not known yet). */
  private raw: { row: Row; ts: number }[] = [];
  private faults: number[][] = [];
  /** Labelled rows of a quality model (rows, measured labels, times), the latest `keep`. */
  private labelled = { rows: [] as number[][], labels: [] as number[], times: [] as number[] };
  private job: { cancel(): void } | undefined;

  constructor(server: ChampionServer, o: OpsOptions = {}) {
    this.server = server;
    this.options = {
      keep: o.keep ?? 2000,
      keepFaults: o.keepFaults ?? 500,
      margin: o.margin ?? 0.02,
      holdoutShare: o.holdoutShare ?? 0.2,
      minRows: o.minRows ?? 50,
      modelsDir: o.modelsDir,
    };
  }

  get registry() {
    return this.server.registry;
  }

  get recorded(): { normal: number; faults: number; raw: number } {
    return { normal: this.normal.length, faults: this.faults.length, raw: this.raw.length };
  }

  /** Labelled rows recorded for a quality model's retrain. */
  get labelledRows(): number {
    return this.labelled.rows.length;
  }

  /** Whether the champion being served is a quality model (takt-predict predicts with it). */
  get quality(): boolean {
    const s = this.server.current;
    return s !== undefined && isQualityDomain(domainOf(s.card));
  }

  /** Records a quality model's rows with their measured labels (msg.label), for retraining. */
  private recordLabelled(payload: unknown, label: unknown, ts: number): void {
    const s = this.server.current!;
    const { rows, batch } = rowsOf(payload);
    const labels = batch ? label : [label];
    if (
      !Array.isArray(labels) ||
      labels.length !== rows.length ||
      labels.some((v) => v === undefined || v === null)
    )
      throw new TaktError(
        'models.noLabel',
        `label: ${s.card.name} v${s.version} is a quality model; takt-model-ops records its rows with their measured value in msg.label (${rows.length === 1 ? 'one label' : `${rows.length} labels`}) for retraining, and takt-predict predicts`,
        'label',
      );
    const X = rows.map((r, i) => toVector(r, s.card.features, batch ? `payload[${i}]` : 'payload'));
    const y = labels.map((v: unknown, i) => {
      const n = typeof v === 'boolean' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n))
        throw new TaktError(
          'models.noLabel',
          `label${batch ? `[${i}]` : ''}: ${String(v)} is not a number`,
          'label',
        );
      return n;
    });
    const l = this.labelled;
    X.forEach((x, i) => {
      l.rows.push(x);
      l.labels.push(y[i]);
      l.times.push(ts);
    });
    const over = l.rows.length - this.options.keep;
    if (over > 0) {
      l.rows.splice(0, over);
      l.labels.splice(0, over);
      l.times.splice(0, over);
    }
  }

  get retraining(): boolean {
    return this.job !== undefined;
  }

  private remember(key: string, row: number[], ts: number): void {
    this.normal.push(row);
    this.times.push(ts);
    this.keys.push(key);
    if (this.normal.length > this.options.keep) {
      this.normal.shift();
      this.times.shift();
      this.keys.shift();
    }
  }

  /** Moves a confirmed fault's row out of the normal rows. */
  private forget(key: string): void {
    const i = this.keys.lastIndexOf(key);
    if (i < 0) return;
    this.normal.splice(i, 1);
    this.times.splice(i, 1);
    this.keys.splice(i, 1);
  }

  /**
   * Scores rows with the champion (and the shadow challenger), records decisions under `key`. Before the model
   * has a version being served, rows are only recorded (undefined is returned), so the first registration gets
   * them as its reference. A quality model's rows are recorded with their measured labels (`label`, one per
   * row) for retraining, not scored (undefined is returned).
   */
  async score(
    payload: unknown,
    key: string,
    ts: number,
    label?: unknown,
  ): Promise<ShadowResult | ShadowResult[] | undefined> {
    const s = this.server.current;
    if (s && this.quality) {
      this.recordLabelled(payload, label, ts);
      return undefined;
    }
    if (!s && !this.server.error) {
      // No version yet, or the first one still loading.
      for (const row of rowsOf(payload).rows) {
        this.raw.push({ row, ts });
        if (this.raw.length > this.options.keep) this.raw.shift();
      }
      return undefined;
    }
    if (!s)
      throw new TaktError(
        'models.noChampion',
        `${this.registry.name}: no champion is being served${this.server.error ? ` (${this.server.error.message})` : ''}`,
        'model',
      );
    const { rows, batch } = rowsOf(payload);
    const X = rows.map((r, i) => toVector(r, s.card.features, batch ? `payload[${i}]` : 'payload'));
    const champ = await tabular(s.model, `${this.registry.name} v${s.version}`).score(X);
    let chal: ScoreResult[] | undefined;
    let challengerError: string | undefined;
    const sv = this.shadow;
    if (sv !== undefined && sv !== s.version) {
      try {
        const card = this.registry.card(sv);
        const m = await this.server.open(sv);
        chal = await tabular(m, `${this.registry.name} v${sv}`).score(
          rows.map((r) => toVector(r, card.features)),
        );
      } catch (err) {
        challengerError = (err as Error).message;
      }
    }
    const out = X.map((x, i): ShadowResult => {
      const k = batch ? `${key}#${i}` : key;
      const c = champ[i];
      const champion: VersionDecision = {
        version: s.version,
        score: c.score,
        threshold: c.threshold,
        isAnomaly: c.isAnomaly,
      };
      const decisions: Decision[] = [champion];
      const r: ShadowResult = { key: k, champion };
      if (chal && sv !== undefined) {
        const h = chal[i];
        r.challenger = { version: sv, score: h.score, threshold: h.threshold, isAnomaly: h.isAnomaly };
        r.agree = h.isAnomaly === c.isAnomaly;
        decisions.push(r.challenger);
      }
      if (challengerError) r.challengerError = challengerError;
      this.book.record(k, decisions, x);
      this.remember(k, x, ts);
      return r;
    });
    return batch ? out : out[0];
  }

  /**
   * Runs one command; returns its result and the audit entries it wrote. `extra.identity` is the
   * authenticated identity behind the command; `promote` refuses without one.
   */
  async command(
    action: string,
    p: Obj,
    extra: { model?: unknown; card?: unknown; user?: unknown; identity?: Identity } = {},
  ): Promise<{ result: unknown; audit: AuditEntry[] }> {
    if (!(OPS_ACTIONS as readonly string[]).includes(action))
      throw new TaktError(
        'models.badAction',
        `action: "${action}" is not one of ${OPS_ACTIONS.join(', ')}`,
        'action',
      );
    const before = this.registry.audit().length;
    const who = str(p.who) ?? str(p.approvedBy) ?? str(extra.user) ?? 'flow';
    const why = str(p.why) ?? str(p.reason) ?? '';
    const result = await this.run(action as OpsAction, p, extra, who, why);
    const audit: AuditEntry[] = this.registry
      .audit()
      .slice(before)
      .map(({ action: a, who: w, when, from, to, why: y }) => ({
        action: a,
        who: w,
        when,
        from,
        to,
        why: y,
      }));
    return { result, audit };
  }

  private async run(
    action: OpsAction,
    p: Obj,
    extra: { model?: unknown; card?: unknown; identity?: Identity },
    who: string,
    why: string,
  ) {
    const reg = this.registry;
    switch (action) {
      case 'register':
        return this.register(p, extra, who, why || 'registered');
      case 'shadow': {
        const off = p.version === null || p.version === undefined || p.version === 0 || p.version === 'off';
        const champ = reg.champion()?.version ?? null;
        if (off) {
          const was = this.shadow;
          this.shadow = undefined;
          if (was !== undefined)
            reg.record('shadow', champ, null, { who, why: why || `stopped shadowing v${was}` });
          return { shadow: null };
        }
        const v = versionOf(p.version);
        const sm = await this.server.open(v);
        tabular(sm, `${reg.name} v${v}`);
        this.shadow = v;
        reg.record('shadow', champ, v, { who, why: why || `v${v} scores in the shadow of the champion` });
        return { shadow: v };
      }
      case 'feedback': {
        const key = str(String(p.key ?? p.ts ?? p.id ?? ''));
        if (!key)
          throw new TaktError('models.noKey', 'payload.key: feedback needs the key of a scored row', 'key');
        const label = toLabel(p.label);
        const r = this.book.feedback(key, label);
        if (r.row && label === 'fault' && r.previous !== 'fault') {
          this.forget(key);
          this.faults.push(r.row);
          if (this.faults.length > this.options.keepFaults) this.faults.shift();
        }
        return { key, label, decisions: r.decisions, metrics: this.book.metrics() };
      }
      case 'retrain': {
        if (this.job) throw new TaktError('models.busy', 'retrain: a retrain is already running', 'action');
        if (this.quality) return this.retrainQuality(p, who, why);
        const champ = this.server.current;
        const rows = Array.isArray(p.rows)
          ? rowsOf(p.rows, 'payload.rows').rows.map((r) =>
              toVector(r, champ?.card.features ?? [], 'payload.rows'),
            )
          : this.normal.slice();
        const times = Array.isArray(p.rows) ? undefined : this.times.slice();
        const job = retrain(reg, {
          rows,
          ...(times ? { times } : {}),
          faults: this.faults.slice(),
          holdoutShare: this.options.holdoutShare,
          minRows: this.options.minRows,
          who,
          why: why || 'retrain requested',
        });
        return this.running(job);
      }
      case 'promote': {
        const v = versionOf(p.version);
        // A promotion is a person's decision: it needs an authenticated identity (core/identity.ts);
        // payload.approvedBy is only a claim and is recorded as such with the refusal.
        const id = extra.identity;
        if (!id?.authenticated) {
          const whoFrom = identityLabel(id, str(p.approvedBy));
          reg.record('refused', reg.champion()?.version ?? null, v, {
            who: whoFrom,
            why: 'promotion needs an authenticated identity',
          });
          throw new TaktError(
            'models.notAuthenticated',
            `promote v${v}: refused, ${whoFrom}; a promotion needs a logged-in person (admin API, http in with a login, a dashboard user plugin, or an approval from takt-approve)`,
            'approvedBy',
          );
        }
        return promoteGated(reg, v, {
          approvedBy: id.user,
          why: why || 'approved',
          normal: this.normal.slice(-500),
          faults: this.faults.slice(),
          labelled: { rows: this.labelled.rows.slice(-500), labels: this.labelled.labels.slice(-500) },
          margin: this.options.margin,
        });
      }
      case 'rollback': {
        const to = p.version === undefined || p.version === null ? undefined : versionOf(p.version);
        // A rollback returns to a version people promoted before (the safe direction, like a rejection),
        // so it is not refused; it is recorded under the identity behind it, a claimed name as a claim.
        const by = identityLabel(extra.identity, str(p.who) ?? str(p.approvedBy));
        return reg.rollback(to, { who: by, why: why || 'rollback' });
      }
      case 'status':
        return this.status();
      case 'reset':
        this.normal = [];
        this.times = [];
        this.keys = [];
        this.faults = [];
        this.raw = [];
        this.labelled = { rows: [], labels: [], times: [] };
        return { recorded: this.recorded };
    }
  }

  /** Retrains a quality champion on the labelled rows recorded (or payload.rows with payload.labels). */
  private async retrainQuality(p: Obj, who: string, why: string) {
    const champ = this.server.current!;
    let rows = this.labelled.rows.slice();
    let labels = this.labelled.labels.slice();
    let times: number[] | undefined = this.labelled.times.slice();
    if (Array.isArray(p.rows)) {
      rows = rowsOf(p.rows, 'payload.rows').rows.map((r) => toVector(r, champ.card.features, 'payload.rows'));
      labels = Array.isArray(p.labels) ? (p.labels as number[]) : [];
      times = undefined;
    }
    const job = retrainQuality(this.registry, {
      rows,
      labels,
      ...(times ? { times } : {}),
      holdoutShare: this.options.holdoutShare,
      minRows: this.options.minRows,
      who,
      why: why || 'retrain requested',
    });
    return this.running(job);
  }

  /** Waits for a retrain job, marked as running meanwhile. */
  private async running<T>(job: { promise: Promise<T>; cancel(): void }): Promise<T> {
    this.job = job;
    try {
      return await job.promise;
    } finally {
      this.job = undefined;
    }
  }

  private async register(p: Obj, extra: { model?: unknown; card?: unknown }, who: string, why: string) {
    const file = str(p.file) ?? str(extra.model);
    if (!file)
      throw new TaktError(
        'models.noFile',
        'payload.file: register needs the ONNX file (or msg.model, as takt-train sends it)',
        'file',
      );
    const path = isAbsolute(file) || !this.options.modelsDir ? file : join(this.options.modelsDir, file);
    let onnx: Uint8Array;
    try {
      onnx = readFileSync(path);
    } catch (err) {
      throw new TaktError(
        'models.missingFile',
        `file: cannot read ${path}: ${(err as Error).message}`,
        'file',
      );
    }
    const c = (isObj(p.card) ? p.card : isObj(extra.card) ? extra.card : {}) as Obj;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const strs = (v: unknown) =>
      Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
    const features =
      strs(p.features) ?? strs(c.features) ?? (await readSignature(onnx, `register ${file}`)).features;
    const input: RegisterInput = { onnx };
    if (features) input.features = features;
    // takt-predict-train's card (msg.card): a quality model, no threshold.
    if (c.kind === 'gbt' && (c.task === 'regression' || c.task === 'classification')) {
      input.domain = qualityDomain(c.task);
      input.kind = 'gbt';
      input.quality = {
        task: c.task,
        target: str(p.target) ?? 'quality',
        ...(isObj(c.conformal) ? { conformal: c.conformal as NonNullable<QualityInfo['conformal']> } : {}),
        ...(Array.isArray(c.classes) ? { classes: c.classes as number[] } : {}),
      };
      return this.registry.register(input, { who, why });
    }
    const threshold = num(p.threshold) ?? num(c.threshold);
    if (threshold !== undefined) input.threshold = threshold;
    if (typeof c.kind === 'string') input.kind = c.kind;
    const rows = num(c.rows);
    input.training = { rows: rows ?? 0 };
    if (typeof c.trainedAt === 'string') input.training.to = c.trainedAt;
    if (num(c.smoothing) !== undefined) input.smoothing = num(c.smoothing);
    if (num(c.smoothedThreshold) !== undefined) input.smoothedThreshold = num(c.smoothedThreshold);
    input.train = {};
    for (const k of ['thresholdQuantile', 'thresholdFactor', 'smoothing'] as const)
      if (num(c[k]) !== undefined) input.train[k] = num(c[k]);
    if (isObj(c.metrics)) input.metrics = c.metrics as Record<string, number>;
    const champ = this.server.current;
    if (Array.isArray(p.reference) && features)
      input.reference = rowsOf(p.reference, 'payload.reference').rows.map((r) =>
        toVector(r, features, 'payload.reference'),
      );
    else if (
      features &&
      champ &&
      champ.card.features.join('\u0000') === features.join('\u0000') &&
      this.normal.length >= 30
    )
      input.reference = this.normal.slice();
    else if (features && !champ && this.raw.length >= 30) {
      // The first version: the rows recorded so far, those that have its features, are its reference.
      const ok: { x: number[]; ts: number }[] = [];
      for (const r of this.raw) {
        try {
          ok.push({ x: toVector(r.row, features), ts: r.ts });
        } catch {
          // a row without these features
        }
      }
      if (ok.length >= 30) input.reference = ok.map((o) => o.x);
    }
    const out = await this.registry.register(input, { who, why });
    if (out.champion && input.reference && this.raw.length) {
      this.raw.forEach((r, i) => {
        try {
          this.remember(`pre-${i}`, toVector(r.row, out.card.features), r.ts);
        } catch {
          // a row without these features
        }
      });
      this.raw = [];
    }
    return out;
  }

  status() {
    const reg = this.registry;
    return {
      model: reg.name,
      champion: reg.champion() ?? null,
      serving: this.server.current?.version ?? null,
      shadow: this.shadow ?? null,
      versions: reg.cards().map((c) => ({
        version: c.version,
        created: c.created,
        createdBy: c.createdBy,
        kind: c.kind,
        domain: domainOf(c),
        threshold: c.threshold,
        training: c.training,
        approvedBy: c.approvedBy,
        evaluation: c.evaluation ?? c.quality?.evaluation,
        parent: c.parent,
      })),
      metrics: this.book.metrics(),
      recorded: this.recorded,
      ...(this.labelledRows ? { labelled: this.labelledRows } : {}),
      retraining: this.retraining,
      audit: reg.audit().slice(-10),
    };
  }

  snapshot(): OpsState {
    const s: OpsState = { counts: this.book.snapshot() };
    if (this.shadow !== undefined) s.shadow = this.shadow;
    return s;
  }

  restore(s: OpsState | undefined): void {
    this.book.restore(s?.counts);
    this.shadow = s?.shadow;
  }

  dispose(): void {
    this.job?.cancel();
  }
}
