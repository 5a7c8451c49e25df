/** The takt-vibration node's configuration, parsed once into FeatureOptions (a type-only Node-RED import). */
import type { NodeDef } from 'node-red';
import { configReader } from '../core/adaptor';
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
  /** A message whose windows hold at least this many samples is computed in the worker thread. */
  workerSamples?: string | number;
}

export function toFeatureOptions(def: VibrationNodeDef): FeatureOptions & { windowSize: number } {
  const cfg = configReader(def, { code: 'vibration.badConfig' });
  const num = (field: keyof VibrationNodeDef & string) => cfg.optionalNumber(field);
  const o: FeatureOptions & { windowSize: number } = {
    sampleRateHz: cfg.number('sampleRateHz', { min: 0, exclusiveMin: true }),
    windowSize: 0,
  };
  const fft = num('fftSize');
  if (fft !== undefined) o.fftSize = fft;
  o.windowSize = num('windowSize') ?? fft ?? 4096;
  if (fft !== undefined && o.windowSize < fft)
    throw new TaktError(
      'vibration.tooShort',
      `windowSize: ${o.windowSize} samples is shorter than the FFT size ${fft}`,
      'windowSize',
    );
  const rpm = num('rpm');
  if (rpm !== undefined) o.rpm = rpm;
  const balls = num('balls');
  if (balls !== undefined)
    o.bearing = {
      balls,
      ballDiameter: num('ballDiameter') ?? NaN,
      pitchDiameter: num('pitchDiameter') ?? NaN,
      contactAngleDeg: num('contactAngleDeg') ?? 0,
    };
  if (def.bands && def.bands.trim() !== '')
    o.bands = cfg.json<[number, number][]>('bands', undefined, undefined, '[[10,1000],[1000,5000]]');
  if (def.machineClass) o.machineClass = def.machineClass as MachineClass;
  const lo = num('envelopeLo');
  const hi = num('envelopeHi');
  if (lo !== undefined && hi !== undefined) o.envelopeBand = [lo, hi];
  if (def.unit === 'm/s2') o.unit = 'm/s2';
  return o;
}
