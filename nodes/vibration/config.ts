/** The takt-vibration node's configuration, parsed once into FeatureOptions (a type-only Node-RED import). */
import type { NodeDef } from 'node-red';
import { TaktError } from '../core/errors';
import type { FeatureOptions, MachineClass } from './features';

export interface VibrationNodeDef extends NodeDef {
  sampleRateHz?: string | number;
  windowSize?: string | number;
  fftSize?: string | number;
  rpm?: string | number;
  balls?: string | number;
  ballDiameter?: string | number;
  pitchDiameter?: string | number;
  contactAngleDeg?: string | number;
  bands?: string;
  machineClass?: string;
  envelopeLo?: string | number;
  envelopeHi?: string | number;
  unit?: string;
}

const num = (v: unknown): number | undefined =>
  v === '' || v === undefined || v === null ? undefined : Number(v);

export function toFeatureOptions(def: VibrationNodeDef): FeatureOptions & { windowSize: number } {
  const o: FeatureOptions & { windowSize: number } = {
    sampleRateHz: num(def.sampleRateHz) ?? NaN,
    windowSize: 0,
  };
  if (!(o.sampleRateHz > 0))
    throw new TaktError(
      'vibration.badConfig',
      `sampleRateHz: must be a positive number, got "${String(def.sampleRateHz)}"`,
      'sampleRateHz',
    );
  const fft = num(def.fftSize);
  if (fft !== undefined) o.fftSize = fft;
  o.windowSize = num(def.windowSize) ?? fft ?? 4096;
  if (fft !== undefined && o.windowSize < fft)
    throw new TaktError(
      'vibration.tooShort',
      `windowSize: ${o.windowSize} samples is shorter than the FFT size ${fft}`,
      'windowSize',
    );
  const rpm = num(def.rpm);
  if (rpm !== undefined) o.rpm = rpm;
  if (num(def.balls) !== undefined)
    o.bearing = {
      balls: num(def.balls) as number,
      ballDiameter: num(def.ballDiameter) ?? NaN,
      pitchDiameter: num(def.pitchDiameter) ?? NaN,
      contactAngleDeg: num(def.contactAngleDeg) ?? 0,
    };
  if (def.bands && def.bands.trim() !== '') {
    try {
      o.bands = JSON.parse(def.bands) as [number, number][];
    } catch {
      throw new TaktError(
        'vibration.badConfig',
        'bands: expected JSON such as [[10,1000],[1000,5000]]',
        'bands',
      );
    }
  }
  if (def.machineClass) o.machineClass = def.machineClass as MachineClass;
  const lo = num(def.envelopeLo);
  const hi = num(def.envelopeHi);
  if (lo !== undefined && hi !== undefined) o.envelopeBand = [lo, hi];
  if (def.unit === 'm/s2') o.unit = 'm/s2';
  return o;
}
