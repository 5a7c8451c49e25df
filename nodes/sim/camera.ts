/**
 * The simulator's inspection camera: turns a CameraShot (engine.ts) into pixels with the synthetic part
 * generator (synth.ts) and encodes them as PNG, with the part's ground truth (the defect drawn and its box in
 * image pixels).
 */
import { encodePng } from '../core/raster';
import { renderPart, type DefectKind, type SynthPart } from './synth';
import type { CameraShot } from './engine';

/** The ground truth of one camera image, published beside it. */
export interface ShotTruth {
  machine: string;
  part: number;
  /** Simulated epoch ms when the part was finished. */
  ts: number;
  product: string;
  /** The defect on the part with its box in image pixels, or null for a good part. */
  defect: {
    kind: DefectKind;
    severity: number;
    fault: number;
    x: number;
    y: number;
    w: number;
    h: number;
  } | null;
}

/** The raw pixels of a shot (deterministic: the same shot gives the same bytes). */
export function renderShot(shot: CameraShot): SynthPart {
  return renderPart(shot.product, shot.seed, {
    size: shot.size,
    defect: shot.defect?.kind ?? null,
    ...(shot.defect ? { severity: shot.defect.severity } : {}),
  });
}

/** A shot as PNG bytes plus its ground truth. */
export async function shotPng(shot: CameraShot): Promise<{ png: Uint8Array; truth: ShotTruth }> {
  const img = renderShot(shot);
  const png = await encodePng(img, true);
  const box = img.defect;
  return {
    png,
    truth: {
      machine: shot.machine,
      part: shot.part,
      ts: shot.ts,
      product: shot.product,
      defect: shot.defect && box ? { ...shot.defect, x: box.x, y: box.y, w: box.w, h: box.h } : null,
    },
  };
}
