/**
 * Collects single samples (or short chunks) into fixed-size windows for `features`: `push` returns every
 * window completed by the new samples (hop = window size unless `hop` is smaller, for overlapping windows).
 */
import { TaktError } from '../core/errors';

export class WaveformBuffer {
  readonly size: number;
  readonly hop: number;
  private buf: number[] = [];

  constructor(size: number, hop = size) {
    if (!Number.isInteger(size) || size < 16)
      throw new TaktError(
        'vibration.badWindow',
        `windowSize: must be an integer >= 16, got ${size}`,
        'windowSize',
      );
    if (!Number.isInteger(hop) || hop < 1 || hop > size)
      throw new TaktError('vibration.badWindow', `hop: must be an integer in 1..${size}, got ${hop}`, 'hop');
    this.size = size;
    this.hop = hop;
  }

  get buffered(): number {
    return this.buf.length;
  }

  push(values: number | ArrayLike<number>): number[][] {
    const xs = typeof values === 'number' ? [values] : Array.from(values);
    for (const v of xs)
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new TaktError(
          'vibration.notFinite',
          `payload: sample ${String(v)} is not a finite number`,
          'payload',
        );
    const out: number[][] = [];
    for (const v of xs) {
      this.buf.push(v);
      if (this.buf.length === this.size) {
        out.push(this.buf.slice());
        this.buf = this.buf.slice(this.hop);
      }
    }
    return out;
  }

  reset(): void {
    this.buf = [];
  }
}
