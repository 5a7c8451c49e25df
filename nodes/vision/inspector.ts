/**
 * The inspector of the library contract (`vision.Inspector`): loads any vision model Takt can run and judges
 * images with it. A model with the pack's own card (`takt.vision` in its metadata) runs through model.ts; any
 * other is read as an anomalib-style export or a classifier (interop.ts), with its metadata from the load
 * options, from the ONNX metadata, or from a `<name>.metadata.json` or `metadata.json` beside the file.
 * An expected SHA-256 is checked before anything is parsed. No Node-RED import.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { TaktError } from '../core/errors';
import { sha256 } from '../core/hash';
import { readOnnx } from '../core/onnx';
import type { ImageInput } from './image';
import { ForeignModel, type ForeignSpec, type VisionResult } from './interop';
import {
  CARD_KEY,
  Inspector as OwnModel,
  readModelBytes,
  type InspectOptions,
  type VisionCard,
} from './model';
import type { ReferenceSample } from '../models/types';

export interface LoadOptions {
  /** Expected SHA-256 (hex) of the model file; a file that differs is refused (`vision.hashMismatch`). */
  sha256?: string;
  /** Metadata of a foreign model (what its metadata.json says), instead of looking for it. */
  metadata?: Record<string, unknown>;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const j = JSON.parse(text) as unknown;
    if (typeof j === 'object' && j !== null && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new TaktError('vision.badMetadata', `${path} is not a JSON object`, 'metadata');
}

/** The metadata file of a model file: `<name>.metadata.json`, else `metadata.json` in its folder. */
async function sidecar(path: string): Promise<Record<string, unknown> | undefined> {
  const dir = dirname(path);
  const base = basename(path, extname(path));
  return (await readJson(join(dir, `${base}.metadata.json`))) ?? (await readJson(join(dir, 'metadata.json')));
}

export class Inspector {
  private constructor(
    /** 'takt' for the pack's own models, else the foreign kind. */
    readonly kind: 'takt' | ForeignSpec['kind'],
    /** SHA-256 of the model file. */
    readonly sha256: string,
    private readonly own: OwnModel | undefined,
    private readonly foreign: ForeignModel | undefined,
  ) {}

  /** The pack's own model card, for the pack's models. */
  get card(): VisionCard | undefined {
    return this.own?.card;
  }

  /** The training images' statistics (the pack's own models): the reference of image drift. */
  get imageReference(): ReferenceSample | undefined {
    return this.own?.card.imageStats;
  }

  /** How a foreign model is fed and read. */
  get spec(): ForeignSpec | undefined {
    return this.foreign?.spec;
  }

  /** Opens a model from a file path or its bytes (see the file comment). */
  static async load(modelPathOrBytes: string | Uint8Array, opts: LoadOptions = {}): Promise<Inspector> {
    const path = typeof modelPathOrBytes === 'string' ? modelPathOrBytes : undefined;
    const bytes = await readModelBytes(modelPathOrBytes);
    const hash = sha256(bytes);
    if (opts.sha256 !== undefined && opts.sha256.toLowerCase() !== hash)
      throw new TaktError(
        'vision.hashMismatch',
        `model ${path ?? '(bytes)'} has SHA-256 ${hash.slice(0, 12)}…, expected ${opts.sha256.slice(0, 12)}… (file changed or corrupt)`,
        'model',
      );
    const info = readOnnx(bytes, (r) => new TaktError('vision.notOnnx', `not an ONNX model (${r})`, 'model'));
    if (info.metadata[CARD_KEY] !== undefined)
      return new Inspector('takt', hash, await OwnModel.load(bytes), undefined);
    const meta =
      opts.metadata ?? (path !== undefined && !info.metadata.metadata ? await sidecar(path) : undefined);
    const foreign = await ForeignModel.open(bytes, meta);
    return new Inspector(foreign.spec.kind, hash, undefined, foreign);
  }

  /** Judges one image (encoded bytes or a raw frame). */
  async inspect(image: ImageInput, opts: InspectOptions = {}): Promise<VisionResult> {
    if (this.foreign) return this.foreign.inspect(image, opts);
    const r = await this.own!.inspect(image, opts);
    return { kind: 'takt', ...r };
  }

  async close(): Promise<void> {
    await (this.own ?? this.foreign)?.close();
  }
}
