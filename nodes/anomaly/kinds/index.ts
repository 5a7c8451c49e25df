/**
 * The registry of anomaly model kinds. The built-in kinds are listed in BUILTIN_KINDS and bound to their modules
 * by an exhaustive switch (a name without a module does not compile); `registerModelKind` adds a kind at run
 * time (a new kind is one module: see docs/ARCHITECTURE.md). Every other part of the anomaly engine reaches a
 * kind through `modelKind(name)`, which refuses a name that is not registered with `anomaly.unknownKind`, so an
 * unknown kind fails loudly instead of training or scoring as another.
 */
import { TaktError } from '../../core/errors';
import { autoencoder, type AeParams } from './autoencoder';
import type { KindParams, ModelKindModule } from './kind';
import { mset, type MsetParams } from './mset';
import { pca, type PcaParams } from './pca';

export type {
  GraphBody,
  KindFit,
  KindOptions,
  KindParams,
  ModelKindModule,
  Normalised,
  Scores,
} from './kind';
export { normaliser, standardise, loadNormalised } from './kind';
export { scorePca, type PcaParams } from './pca';
export type { AeParams } from './autoencoder';
export type { MsetParams } from './mset';

export const BUILTIN_KINDS = ['pca', 'autoencoder', 'mset'] as const;
export type BuiltinKind = (typeof BUILTIN_KINDS)[number];

/** Parameters of the built-in kinds. */
export type ModelParams = PcaParams | AeParams | MsetParams;

/** The module of a built-in kind. */
function builtin(kind: BuiltinKind): ModelKindModule {
  switch (kind) {
    case 'pca':
      return pca;
    case 'autoencoder':
      return autoencoder;
    case 'mset':
      return mset;
    default: {
      const unknown: never = kind;
      throw new TaktError(
        'anomaly.unknownKind',
        `kind: no module for built-in kind "${String(unknown)}"`,
        'kind',
      );
    }
  }
}

const registry = new Map<string, ModelKindModule>(BUILTIN_KINDS.map((k) => [k, builtin(k)]));

/** Names of every registered kind, built-in first. */
export function modelKinds(): string[] {
  return [...registry.keys()];
}

/** True when `name` is a registered kind. */
export function isModelKind(name: unknown): name is string {
  return typeof name === 'string' && registry.has(name);
}

/**
 * The module of a registered kind; any other name throws a TaktError (`code`, default `anomaly.unknownKind`)
 * naming the registered ones.
 */
export function modelKind(name: unknown, field = 'kind', code = 'anomaly.unknownKind'): ModelKindModule {
  const m = typeof name === 'string' ? registry.get(name) : undefined;
  if (!m)
    throw new TaktError(
      code,
      `${field}: "${String(name)}" is not a model kind (registered: ${modelKinds().join(', ')})`,
      field,
    );
  return m;
}

/**
 * Adds a kind for in-process use (trainModel, scoreMatrix, modelToOnnx, loadTrainedModel). Its name must be new
 * (a built-in kind cannot be replaced) and a plain identifier (letters, digits, '-' and '_'). Registration lasts
 * for the process and does not reach worker threads: takt-train and a registry retrain train in a worker and know
 * the built-in kinds only (a kind becomes built-in by its name in BUILTIN_KINDS and a case in `builtin`).
 */
export function registerModelKind<P extends KindParams>(m: ModelKindModule<P>): void {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(m.kind))
    throw new TaktError('anomaly.badOption', `kind: "${m.kind}" is not a plain name`, 'kind');
  if (registry.has(m.kind))
    throw new TaktError('anomaly.badOption', `kind: "${m.kind}" is already registered`, 'kind');
  registry.set(m.kind, m as unknown as ModelKindModule);
}

/** Removes a kind added by registerModelKind (for tests); built-in kinds stay. */
export function unregisterModelKind(kind: string): void {
  if (!(BUILTIN_KINDS as readonly string[]).includes(kind)) registry.delete(kind);
}
