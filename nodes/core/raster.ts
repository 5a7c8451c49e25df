/**
 * Raw image frames and PNG encoding, shared by the vision engine (heat maps, tests) and the simulator's
 * camera (docs/ARCHITECTURE.md: the simulator draws its parts without importing analytics). sharp (libvips)
 * is loaded on first use, so importing the library stays light.
 */
import type SharpFn from 'sharp';

/** A raw frame: `data` is row-major, `channels` interleaved bytes. */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export async function sharpLib(): Promise<typeof SharpFn> {
  return (await import('sharp')).default as unknown as typeof SharpFn;
}

/** Encodes a raw frame as PNG (for generated images, the heat map overlay and tests); `fast` trades size for time. */
export async function encodePng(
  img: RawImage | { width: number; height: number; channels: number; data: Uint8Array | number[] },
  fast = false,
): Promise<Uint8Array> {
  const sharp = await sharpLib();
  const data = img.data instanceof Uint8Array ? img.data : Uint8Array.from(img.data);
  const buf = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 },
  })
    .toColourspace(img.channels === 1 ? 'b-w' : 'srgb')
    .png(fast ? { compressionLevel: 1, adaptiveFiltering: false } : { compressionLevel: 3 })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
