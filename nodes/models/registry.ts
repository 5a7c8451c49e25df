/**
 * A model registry: one folder per model name holding each version as `v<N>.onnx` plus its card `v<N>.json`
 * (and sidecars `v<N>.ref.json`, the drift reference, and `v<N>.holdout.json`, the held-out window),
 * `champion.json` (the version being served) and `audit.jsonl` (an append-only, hash-chained log of every
 * change: who, when, from which version to which, why). No Node-RED import.
 *
 * Registering never makes a champion, except the very first version of a name. Promotion (with an approver)
 * and rollback move the pointer; both verify the target (hash, signature, a test row) first, so a corrupt or
 * mismatched version is refused and the champion stays.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, type AuditRecord } from '../core/audit';
import { TaktError } from '../core/errors';
import { sha256 } from '../core/hash';
import { domainOf, isQualityDomain } from '../learn/registry';
import { JsonStore, writeFileAtomic } from '../core/state';
import type { OnnxAnomalyModel } from '../anomaly/scorer';
import { buildReference, sampleIndices } from './reference';
import type {
  AuditAction,
  AuditEntry,
  ChampionPointer,
  Evaluation,
  ModelDomain,
  QualityInfo,
  ReferenceSample,
  VersionCard,
} from './types';
import {
  checkCard,
  checkSignature,
  openVerified,
  readImageSignature,
  readSignature,
  verifyQuality,
  verifyVision,
  type ServedModel,
} from './verify';

/** Rows in feature order with their measured labels (a quality model's held-out rows). */
export interface LabelledRows {
  rows: number[][];
  labels: number[];
}

export interface RegisterInput {
  onnx: Uint8Array;
  /**
   * What the model is (default 'anomaly'). 'vision' registers an image model (input [1, C, H, W]; a threshold
   * is needed, features are not); a quality domain needs features and `quality`, and no threshold.
   */
  domain?: ModelDomain;
  /** A quality model's target, task, conformal interval or classes. */
  quality?: QualityInfo;
  /** Labels of the held-out rows (a quality model: kept for the promotion check). */
  holdoutLabels?: number[];
  /** Held-out residuals (measured minus predicted) of a quality model: the drift reference of its errors. */
  residuals?: number[];
  /** Feature names in input order; default from the model's metadata. */
  features?: string[];
  /** Alarm threshold; default from the model's metadata. */
  threshold?: number;
  kind?: string;
  training?: { from?: string; to?: string; rows: number };
  normalisation?: { mean: number[]; sd: number[] };
  smoothing?: number;
  smoothedThreshold?: number;
  train?: VersionCard['train'];
  metrics?: Record<string, number>;
  /** Training rows (arrays in feature order): up to 1000 are kept as the drift reference. */
  reference?: number[][];
  /** Held-out rows kept for the promotion check. */
  holdout?: number[][];
  evaluation?: { challenger: Evaluation; champion?: Evaluation };
  parent?: number;
  note?: string;
}

export interface Actor {
  who: string;
  why: string;
}

/** One registration under way: its input, the version it becomes, who registers it. */
interface Registration {
  input: RegisterInput;
  version: number;
  actor: Actor;
  /** "<name> v<N>", for messages. */
  where: string;
}

type Registered = { card: VersionCard; champion: boolean };

export type RegistryListener = (pointer: ChampionPointer | undefined) => void;

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const FILE = /^v(\d+)\.(onnx|json)$/;

export class ModelRegistry {
  readonly name: string;
  readonly dir: string;
  private readonly pointer: JsonStore<ChampionPointer>;
  private log: AuditLog<AuditEntry> | undefined;
  private readonly listeners = new Set<RegistryListener>();
  /** Mutations run one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(root: string, name: string) {
    if (!NAME.test(name))
      throw new TaktError(
        'models.badName',
        `name: "${name}" must be a plain folder name (letters, digits, . _ -)`,
        'name',
      );
    this.name = name;
    this.dir = join(root, name);
    this.pointer = new JsonStore<ChampionPointer>(join(this.dir, 'champion.json'));
  }

  get pointerFile(): string {
    return this.pointer.file;
  }

  get auditFile(): string {
    return join(this.dir, 'audit.jsonl');
  }

  onChange(fn: RegistryListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Every version number with a model file or a card, ascending. */
  versions(): number[] {
    if (!existsSync(this.dir)) return [];
    const set = new Set<number>();
    for (const f of readdirSync(this.dir)) {
      const m = FILE.exec(f);
      if (m) set.add(Number(m[1]));
    }
    return [...set].sort((a, b) => a - b);
  }

  /** The champion pointer, or undefined before the first version. */
  champion(): ChampionPointer | undefined {
    return this.pointer.load();
  }

  path(version: number): string {
    return join(this.dir, `v${version}.onnx`);
  }

  /** A version's card; `models.unknownVersion` or `models.missingCard` when there is none. */
  card(version: number): VersionCard {
    if (!Number.isInteger(version) || version < 1 || !this.versions().includes(version))
      throw new TaktError(
        'models.unknownVersion',
        `version: ${this.name} has no version ${String(version)} (has ${this.versions().join(', ') || 'none'})`,
        'version',
      );
    const file = join(this.dir, `v${version}.json`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new TaktError(
        'models.missingCard',
        `${this.name} v${version}: the card v${version}.json is missing; the model cannot be verified`,
        'card',
      );
    }
    let card: VersionCard;
    try {
      card = JSON.parse(text) as VersionCard;
    } catch {
      throw new TaktError(
        'models.badCard',
        `${this.name} v${version}: v${version}.json is not valid JSON`,
        'card',
      );
    }
    checkCard(card, version, `${this.name} v${version}`);
    return card;
  }

  cards(): VersionCard[] {
    const out: VersionCard[] = [];
    for (const v of this.versions()) {
      try {
        out.push(this.card(v));
      } catch {
        // listed by status as missing; loading it gives the error
      }
    }
    return out;
  }

  /** Verifies an anomaly model's version and opens it for scoring (the caller disposes the model). */
  async open(version: number): Promise<{ card: VersionCard; model: OnnxAnomalyModel }> {
    const card = this.card(version);
    const domain = domainOf(card);
    if (domain !== 'anomaly')
      throw new TaktError(
        domain === 'vision' ? 'models.visionModel' : 'models.qualityModel',
        `${this.name} v${version} is a ${domain} model: ${domain === 'vision' ? 'takt-vision' : 'takt-predict'} uses it, the registry does not score with it`,
        'version',
      );
    const model = await openVerified(this.path(version), card);
    return { card, model };
  }

  /**
   * Verifies any version: an anomaly model opened for scoring, a vision or quality model checked (see
   * verify.ts) for the node that opens it.
   */
  async load(version: number): Promise<{ card: VersionCard; model: ServedModel }> {
    const card = this.card(version);
    const domain = domainOf(card);
    if (domain === 'vision') return { card, model: await verifyVision(this.path(version), card) };
    if (isQualityDomain(domain)) return { card, model: await verifyQuality(this.path(version), card) };
    return this.open(version);
  }

  /** The version's drift reference sample, or undefined when it was registered without one. */
  reference(version: number): ReferenceSample | undefined {
    const card = this.card(version);
    if (!card.reference) return undefined;
    return new JsonStore<ReferenceSample>(join(this.dir, card.reference)).load();
  }

  /** The held-out rows saved with a version (a quality model's without their labels). */
  holdout(version: number): number[][] | undefined {
    const h = this.heldOut(version);
    return Array.isArray(h) ? h : h?.rows;
  }

  /** The labelled held-out rows saved with a quality model's version. */
  labelledHoldout(version: number): LabelledRows | undefined {
    const h = this.heldOut(version);
    return h && !Array.isArray(h) ? h : undefined;
  }

  private heldOut(version: number): number[][] | LabelledRows | undefined {
    const card = this.card(version);
    if (!card.holdout) return undefined;
    return new JsonStore<number[][] | LabelledRows>(join(this.dir, card.holdout)).load();
  }

  /** The audit log's entries with their times (epoch ms), oldest first. */
  audit(): (AuditEntry & { seq: number; ts: number })[] {
    if (!existsSync(this.auditFile)) return [];
    return readFileSync(this.auditFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const r = JSON.parse(l) as AuditRecord<AuditEntry>;
        return { ...r.entry, seq: r.seq, ts: r.ts };
      });
  }

  /** Appends an audit entry (for steps decided outside the registry, e.g. a refused promotion). */
  record(action: AuditAction, from: number | null, to: number | null, actor: Actor): AuditEntry {
    this.log ??= new AuditLog<AuditEntry>(this.auditFile);
    const entry: AuditEntry = {
      action,
      who: actor.who,
      when: new Date().toISOString(),
      from,
      to,
      why: actor.why,
    };
    this.log.append(entry);
    return entry;
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const job = this.tail.then(f);
    this.tail = job.catch(() => undefined);
    return job;
  }

  private emit(): void {
    const p = this.champion();
    for (const fn of this.listeners) fn(p);
  }

  /**
   * Registers a new version (never champion, except the first of this name). The model is verified before
   * anything is kept: bytes that are not ONNX, or whose input does not take the features, are refused.
   */
  register(input: RegisterInput, actor: Actor): Promise<{ card: VersionCard; champion: boolean }> {
    return this.serial(async () => {
      const version = (this.versions().at(-1) ?? 0) + 1;
      const domain = input.domain ?? 'anomaly';
      const where = `${this.name} v${version}`;
      if (domain === 'vision') return this.registerVision({ input, version, actor, where });
      if (isQualityDomain(domain)) return this.registerQuality({ input, version, actor, where });
      if (domain !== 'anomaly')
        throw new TaktError(
          'models.unknownDomain',
          `domain: "${String(domain)}" is not anomaly, vision, quality-regression or quality-classification`,
          'domain',
        );
      const sig = await readSignature(input.onnx, where);
      const features = input.features?.length ? input.features : sig.features;
      if (!features?.length)
        throw new TaktError(
          'models.noFeatures',
          `${where}: the model names no features; give them with the registration`,
          'features',
        );
      const threshold = input.threshold ?? sig.threshold;
      if (threshold === undefined || !Number.isFinite(threshold))
        throw new TaktError(
          'models.noThreshold',
          `${where}: the model has no threshold in its metadata; give one with the registration`,
          'threshold',
        );
      checkSignature(sig, features, where);
      const card: VersionCard = {
        ...this.newCard(version, input, actor, sig.input, threshold, features),
        domain: 'anomaly',
      };
      const kind = input.kind ?? sig.kind;
      if (kind) card.kind = kind;
      if (input.normalisation) card.normalisation = input.normalisation;
      if (input.smoothing !== undefined) card.smoothing = input.smoothing;
      if (input.smoothedThreshold !== undefined) card.smoothedThreshold = input.smoothedThreshold;
      if (input.train) card.train = input.train;
      if (input.evaluation) card.evaluation = input.evaluation;
      await this.writeVersion(card, input.onnx, async (path, put) => {
        const model = await openVerified(path, card);
        try {
          if (input.reference?.length)
            card.reference = put('ref.json', await buildReference(input.reference, card.features, model));
        } finally {
          await model.dispose();
        }
        if (input.holdout?.length) card.holdout = put('holdout.json', input.holdout);
      });
      return { card, champion: this.registered(card, actor) };
    });
  }

  /**
   * Writes a new version's files: the model, then what `check` verifies and adds beside it (`put` writes
   * `v<n>.<suffix>` as JSON and gives the name for the card), the card last. When anything fails, every file
   * written is removed and the error passes on, so a refused version leaves nothing behind.
   */
  private async writeVersion(
    card: VersionCard,
    onnx: Uint8Array,
    check: (path: string, put: (suffix: string, value: unknown) => string) => Promise<unknown>,
  ): Promise<void> {
    const path = this.path(card.version);
    const written: string[] = [path];
    const put = (suffix: string, value: unknown): string => {
      const name = `v${card.version}.${suffix}`;
      written.push(join(this.dir, name));
      writeFileAtomic(join(this.dir, name), JSON.stringify(value));
      return name;
    };
    writeFileAtomic(path, onnx);
    try {
      await check(path, put);
      writeFileAtomic(join(this.dir, `v${card.version}.json`), JSON.stringify(card, null, 2));
    } catch (err) {
      for (const f of written) rmSync(f, { force: true });
      throw err;
    }
  }

  /** The card fields every new version has. */
  private newCard(
    version: number,
    input: RegisterInput,
    actor: Actor,
    onnxInput: string,
    threshold: number | undefined,
    features: readonly string[],
  ): VersionCard {
    const card: VersionCard = {
      name: this.name,
      version,
      file: `v${version}.onnx`,
      sha256: sha256(input.onnx),
      created: new Date().toISOString(),
      createdBy: actor.who,
      input: onnxInput,
      features: [...features],
      training: input.training ?? { rows: 0 },
      metrics: input.metrics ?? {},
      approvedBy: null,
    };
    if (threshold !== undefined) card.threshold = threshold;
    if (input.kind) card.kind = input.kind;
    if (input.parent !== undefined) card.parent = input.parent;
    if (input.note) card.note = input.note;
    return card;
  }

  /** Audits a new version and makes it champion when it is the first of its name. */
  private registered(card: VersionCard, actor: Actor): boolean {
    const version = card.version;
    this.record('register', this.champion()?.version ?? null, version, actor);
    if (this.champion()) return false;
    this.pointer.save({ version, since: card.created, by: actor.who, history: [] });
    this.record('promote', null, version, { who: actor.who, why: 'first version of the model' });
    this.emit();
    return true;
  }

  /** register() for an image model: image input checked, threshold given, no features or drift rows. */
  private async registerVision({ input, version, actor, where }: Registration): Promise<Registered> {
    const sig = readImageSignature(input.onnx, where);
    const threshold = input.threshold;
    if (threshold === undefined || !Number.isFinite(threshold))
      throw new TaktError(
        'models.noThreshold',
        `${where}: give the vision model's threshold with the registration`,
        'threshold',
      );
    const card: VersionCard = {
      ...this.newCard(version, input, actor, sig.input, threshold, []),
      domain: 'vision',
      image: {
        channels: sig.channels,
        ...(sig.height !== undefined ? { height: sig.height } : {}),
        ...(sig.width !== undefined ? { width: sig.width } : {}),
      },
    };
    await this.writeVersion(card, input.onnx, (path) => verifyVision(path, card));
    return { card, champion: this.registered(card, actor) };
  }

  /**
   * register() for a quality model: features and the quality section (target, task, interval or classes)
   * checked against the card rules, the graph verified with a test row; the training rows' sample and the
   * held-out residuals become the drift reference, the labelled held-out rows the promotion check.
   */
  private async registerQuality({ input, version, actor, where }: Registration): Promise<Registered> {
    const sig = await readSignature(input.onnx, where);
    const features = input.features?.length ? input.features : sig.features;
    if (!features?.length)
      throw new TaktError(
        'models.noFeatures',
        `${where}: a quality model needs its feature names with the registration`,
        'features',
      );
    checkSignature(sig, features, where);
    const card: VersionCard = {
      ...this.newCard(version, input, actor, sig.input, undefined, features),
      domain: input.domain,
    };
    if (input.quality) card.quality = input.quality;
    if (input.normalisation) card.normalisation = input.normalisation;
    checkCard(card, version, where);
    const labels = input.holdoutLabels;
    if (input.holdout?.length && labels?.length !== input.holdout.length)
      throw new TaktError(
        'models.badRows',
        `holdoutLabels: ${labels?.length ?? 0} labels for ${input.holdout.length} held-out rows`,
        'holdoutLabels',
      );
    await this.writeVersion(card, input.onnx, async (path, put) => {
      await verifyQuality(path, card);
      if (input.reference?.length) {
        const ref = await buildReference(input.reference, card.features);
        const res = (input.residuals ?? []).filter((r) => Number.isFinite(r));
        // Fewer than 30 errors make no distribution to compare with (drift.ts): then the inputs only.
        if (res.length >= 30) {
          ref.score = sampleIndices(res.length).map((i) => res[i]);
          ref.scoreName = 'residual';
        }
        card.reference = put('ref.json', ref);
      }
      if (input.holdout?.length && labels) {
        const h: LabelledRows = { rows: input.holdout, labels };
        card.holdout = put('holdout.json', h);
      }
    });
    return { card, champion: this.registered(card, actor) };
  }

  /** Makes `version` the champion; needs an approver, verifies the version first. */
  promote(version: number, approvedBy: string, why: string): Promise<ChampionPointer> {
    return this.serial(async () => {
      if (typeof approvedBy !== 'string' || approvedBy.trim() === '')
        throw new TaktError(
          'models.notApproved',
          'approvedBy: promotion needs the name of the person who approves it',
          'approvedBy',
        );
      const cur = this.champion();
      const card = this.card(version);
      if (cur?.version === version)
        throw new TaktError(
          'models.alreadyChampion',
          `${this.name} v${version} is already the champion`,
          'version',
        );
      const { model } = await this.load(version);
      await model.dispose();
      const now = new Date().toISOString();
      const p: ChampionPointer = {
        version,
        since: now,
        by: approvedBy,
        history: cur ? [...cur.history, cur.version] : [],
      };
      this.pointer.save(p);
      writeFileAtomic(
        join(this.dir, `v${version}.json`),
        JSON.stringify({ ...card, approvedBy, approvedAt: now }, null, 2),
      );
      this.record('promote', cur?.version ?? null, version, { who: approvedBy, why });
      this.emit();
      return p;
    });
  }

  /** Serves an earlier version again: `to`, or the champion before the current one. */
  rollback(to: number | undefined, actor: Actor): Promise<ChampionPointer> {
    return this.serial(async () => {
      const cur = this.champion();
      if (!cur)
        throw new TaktError('models.noChampion', `${this.name} has no champion to roll back`, 'version');
      const target = to ?? cur.history.at(-1);
      if (target === undefined)
        throw new TaktError(
          'models.noPrevious',
          `${this.name} v${cur.version} is the first champion; name a version to roll back to`,
          'version',
        );
      if (target === cur.version)
        throw new TaktError(
          'models.alreadyChampion',
          `${this.name} v${target} is already the champion`,
          'version',
        );
      const { model } = await this.load(target);
      await model.dispose();
      const at = cur.history.lastIndexOf(target);
      const p: ChampionPointer = {
        version: target,
        since: new Date().toISOString(),
        by: actor.who,
        history: at >= 0 ? cur.history.slice(0, at) : [...cur.history, cur.version],
      };
      this.pointer.save(p);
      this.record('rollback', cur.version, target, actor);
      this.emit();
      return p;
    });
  }
}
