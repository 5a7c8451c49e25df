/**
 * Image input for the vision engine: decoding (PNG, JPEG, BMP, TIFF bytes, or a raw
 * `{ width, height, channels, data }` frame), a pixel limit, region of interest, resize and conversion to
 * the channel count a model was trained on. Decoding and resampling use sharp (libvips), except BMP, which
 * libvips does not read and is decoded here (uncompressed 8/24/32-bit, the form cameras and Windows tools
 * write).
 */
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { TaktError } from '../core/errors';
import { sharpLib, type RawImage } from '../core/raster';

export { encodePng, type RawImage } from '../core/raster';

/** Default pixel limit: 40 megapixels (a 16-bit 8k x 5k frame); larger images are refused before decoding. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/** A frame as a flow may carry it (data as bytes, Buffer or plain array of 0..255). */
export interface RawFrame {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | number[];
}

export type ImageInput = Uint8Array | RawFrame;

/** Region of interest in source pixels. */
export interface Roi {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A box around map cells, in source pixels (see `cellsBox`). */
export interface CellsBox {
  x: number;
  y: number;
  w: number;
  h: number;
  /** The cells' area in source pixels. */
  area: number;
}

/**
 * The bounding box of some cells of a model's output map (indices into a `grid.width` x `grid.height`
 * row-major map), in source pixels. The map covers the model input (`input.width` x `input.height`), which
 * was made from `roi` of the source image. `toInput` maps a point of the map's frame to the model input
 * (e.g. through a registration pose); each cell's four corners are mapped and the box is clipped to the input.
 */
export function cellsBox(
  cells: readonly number[],
  grid: { width: number; height: number },
  input: { width: number; height: number },
  roi: Roi,
  toInput?: (x: number, y: number) => readonly [number, number],
): CellsBox {
  const cw = input.width / grid.width;
  const ch = input.height / grid.height;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const corner = (u: number, v: number) => {
    const [x, y] = toInput ? toInput(u * cw, v * ch) : [u * cw, v * ch];
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  };
  for (const k of cells) {
    const cx = k % grid.width;
    const cy = (k - cx) / grid.width;
    corner(cx, cy);
    corner(cx + 1, cy + 1);
    if (toInput) {
      corner(cx + 1, cy);
      corner(cx, cy + 1);
    }
  }
  x0 = Math.max(0, x0);
  y0 = Math.max(0, y0);
  x1 = Math.min(input.width, x1);
  y1 = Math.min(input.height, y1);
  const kx = roi.w / input.width;
  const ky = roi.h / input.height;
  return {
    x: Math.round(roi.x + x0 * kx),
    y: Math.round(roi.y + y0 * ky),
    w: Math.round((x1 - x0) * kx),
    h: Math.round((y1 - y0) * ky),
    area: Math.round(cells.length * cw * ch * kx * ky),
  };
}

export interface PrepareOptions {
  /** Output width (and height, unless `height` is given). */
  size: number;
  /** Output height when the model's input is not square. */
  height?: number | undefined;
  /** Output channels: 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  roi?: Roi | undefined;
  maxPixels?: number | undefined;
}

/** A prepared model input and what happened on the way. */
export interface Prepared {
  /** CHW float32 in [0, 1]. */
  tensor: Float32Array;
  /** Source image size and format. */
  source: { width: number; height: number; channels: number; format: string };
  /** The region actually used (source pixels). */
  roi: Roi;
  /** Notes such as an aspect change. */
  warnings: string[];
}

export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'tiff';

/** Detects the format from the magic bytes, or null. */
export function sniffFormat(b: Uint8Array): ImageFormat | null {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42))
  )
    return 'tiff';
  return null;
}

function isRawFrame(x: unknown): x is RawFrame {
  if (typeof x !== 'object' || x === null || x instanceof Uint8Array) return false;
  const f = x as Partial<RawFrame>;
  return (
    typeof f.width === 'number' &&
    typeof f.height === 'number' &&
    typeof f.channels === 'number' &&
    f.data !== undefined
  );
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels)
    throw new TaktError(
      'vision.tooLarge',
      `image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}`,
      'payload',
    );
}

/** Decodes an uncompressed BMP (8-bit palette, 24 or 32 bit) to a raw frame. */
export function decodeBmp(
  b: Uint8Array,
  maxPixels = DEFAULT_MAX_PIXELS,
): RawImage | { width: number; height: number; channels: 3 | 1; data: Uint8Array } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bad = (why: string) => new TaktError('vision.badImage', `BMP: ${why}`, 'payload');
  if (b.length < 54) throw bad('truncated header');
  const offset = dv.getUint32(10, true);
  const width = dv.getInt32(18, true);
  const rawH = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const height = Math.abs(rawH);
  if (width <= 0 || height === 0) throw bad(`bad size ${width}x${rawH}`);
  checkPixels(width, height, maxPixels);
  if (compression !== 0 && !(compression === 3 && bpp === 32))
    throw bad(`compression ${compression} is not supported`);
  if (bpp !== 8 && bpp !== 24 && bpp !== 32) throw bad(`${bpp} bits per pixel is not supported`);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (offset + stride * height > b.length) throw bad('truncated pixel data');
  const grey = bpp === 8;
  const palette: number[] = [];
  if (grey) {
    const headerSize = dv.getUint32(14, true);
    const n = dv.getUint32(46, true) || 256;
    for (let i = 0; i < n; i++) {
      const p = 14 + headerSize + i * 4;
      palette.push(b[p + 2]!, b[p + 1]!, b[p]!);
    }
  }
  const isGreyPalette =
    grey &&
    palette.every((_, i) => i % 3 !== 0 || (palette[i] === palette[i + 1] && palette[i] === palette[i + 2]));
  const channels: 1 | 3 = isGreyPalette ? 1 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawH > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      if (grey) {
        const idx = b[row + x]!;
        if (channels === 1) data[o] = palette[idx * 3] ?? idx;
        else {
          data[o] = palette[idx * 3] ?? 0;
          data[o + 1] = palette[idx * 3 + 1] ?? 0;
          data[o + 2] = palette[idx * 3 + 2] ?? 0;
        }
      } else {
        const p = row + (x * bpp) / 8;
        data[o] = b[p + 2]!;
        data[o + 1] = b[p + 1]!;
        data[o + 2] = b[p]!;
      }
    }
  }
  return { width, height, channels, data };
}

/** Encodes a raw frame as an uncompressed 24-bit (or 8-bit grey palette) BMP; used by tests and tools. */
export function encodeBmp(img: RawImage): Uint8Array {
  const bpp = img.channels === 1 ? 8 : 24;
  const stride = Math.ceil((img.width * bpp) / 32) * 4;
  const pal = bpp === 8 ? 1024 : 0;
  const offset = 54 + pal;
  const out = new Uint8Array(offset + stride * img.height);
  const dv = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  dv.setUint32(2, out.length, true);
  dv.setUint32(10, offset, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, img.width, true);
  dv.setInt32(22, img.height, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, bpp, true);
  dv.setUint32(34, stride * img.height, true);
  if (bpp === 8) {
    dv.setUint32(46, 256, true);
    for (let i = 0; i < 256; i++) out.set([i, i, i, 0], 54 + i * 4);
  }
  for (let y = 0; y < img.height; y++) {
    const row = offset + (img.height - 1 - y) * stride;
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * img.channels;
      if (bpp === 8) out[row + x] = img.data[s]!;
      else {
        out[row + x * 3] = img.data[s + 2]!;
        out[row + x * 3 + 1] = img.data[s + 1]!;
        out[row + x * 3 + 2] = img.data[s]!;
      }
    }
  }
  return out;
}

/** A sharp pipeline over the input and the source's size, after the format and pixel checks. */
async function open(
  input: ImageInput,
  maxPixels: number,
): Promise<{ img: Sharp; width: number; height: number; channels: number; format: string }> {
  const sharp = await sharpLib();
  if (isRawFrame(input)) {
    const { width, height, channels } = input;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0)
      throw new TaktError('vision.badImage', `raw frame: bad size ${width}x${height}`, 'payload');
    if (channels !== 1 && channels !== 3 && channels !== 4)
      throw new TaktError(
        'vision.badImage',
        `raw frame: ${channels} channels (1, 3 or 4 expected)`,
        'payload',
      );
    checkPixels(width, height, maxPixels);
    const data = input.data instanceof Uint8Array ? input.data : Uint8Array.from(input.data);
    if (data.length !== width * height * channels)
      throw new TaktError(
        'vision.badImage',
        `raw frame: ${data.length} bytes for ${width}x${height}x${channels}`,
        'payload',
      );
    const img = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
      raw: { width, height, channels },
    });
    return { img, width, height, channels, format: 'raw' };
  }
  if (!(input instanceof Uint8Array))
    throw new TaktError(
      'vision.badImage',
      'image must be encoded bytes (PNG, JPEG, BMP, TIFF) or a raw frame { width, height, channels, data }',
      'payload',
    );
  const format = sniffFormat(input);
  if (format === null)
    throw new TaktError('vision.unsupportedFormat', 'image bytes are not PNG, JPEG, BMP or TIFF', 'payload');
  if (format === 'bmp') {
    const f = decodeBmp(input, maxPixels);
    return { ...(await open(f, maxPixels)), format };
  }
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  // The header first (no pixel limit there, so the error can name the size), then the pipeline.
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw badBytes(format, err);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  checkPixels(width, height, maxPixels);
  // Pixel values as the camera wrote them: embedded (or default grey) ICC profiles are not applied, so a
  // grey TIFF decodes to its stored values.
  const img = sharp(buf, {
    limitInputPixels: maxPixels,
    failOn: 'error',
    sequentialRead: true,
    ignoreIcc: true,
  });
  return { img, width, height, channels: meta.channels ?? 0, format };
}

function badBytes(format: string, err: unknown): TaktError {
  const msg = (err as Error).message ?? String(err);
  if (/pixel limit/i.test(msg))
    return new TaktError('vision.tooLarge', `image is above the pixel limit (${msg})`, 'payload');
  return new TaktError(
    'vision.badImage',
    `${format.toUpperCase()} bytes are truncated or corrupt (${msg.split('\n')[0]})`,
    'payload',
  );
}

/**
 * Decodes and prepares one image for a model: crop to the ROI, convert to the model's channels, resize to
 * `size` x `size` (stretching; a warning says when the aspect ratio differs), scale to [0, 1], CHW.
 */
export async function prepare(input: ImageInput, opts: PrepareOptions): Promise<Prepared> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const src = await open(input, maxPixels);
  const warnings: string[] = [];
  let roi: Roi = { x: 0, y: 0, w: src.width, h: src.height };
  let img = src.img;
  if (opts.roi) {
    const r = opts.roi;
    if (!(r.w > 0 && r.h > 0 && r.x >= 0 && r.y >= 0 && r.x + r.w <= src.width && r.y + r.h <= src.height))
      throw new TaktError(
        'vision.badRoi',
        `ROI ${r.x},${r.y} ${r.w}x${r.h} is not inside the ${src.width}x${src.height} image`,
        'roi',
      );
    roi = { x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.w), h: Math.round(r.h) };
    img = img.extract({ left: roi.x, top: roi.y, width: roi.w, height: roi.h });
  }
  const height = opts.height ?? opts.size;
  if (Math.abs(Math.log(roi.w / roi.h / (opts.size / height))) > 0.02)
    warnings.push(
      `aspect ${roi.w}x${roi.h} differs from the model's ${opts.size === height ? 'square ' : ''}input: stretched to ${opts.size}x${height}`,
    );
  img = img.resize(opts.size, height, { fit: 'fill', kernel: 'cubic' });
  img = opts.channels === 1 ? img.greyscale() : img.removeAlpha().toColourspace('srgb');
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw badBytes(src.format, err);
  }
  const { data, info } = out;
  const n = opts.size * height;
  const tensor = new Float32Array(n * opts.channels);
  const ic = info.channels;
  for (let c = 0; c < opts.channels; c++) {
    const sc = Math.min(c, ic - 1);
    for (let i = 0; i < n; i++) tensor[c * n + i] = data[i * ic + sc]! / 255;
  }
  return {
    tensor,
    source: { width: src.width, height: src.height, channels: src.channels, format: src.format },
    roi,
    warnings,
  };
}
