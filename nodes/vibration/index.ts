/**
 * The vibration engine (exported as `vibration` from the package): condition-monitoring features of a
 * waveform. No Node-RED import.
 *
 *   import { vibration } from '@takt/node-red-mes';
 *   const f = vibration.features(samples, { sampleRateHz: 20480, rpm: 1480, bearing, machineClass: 'II' });
 */
export {
  features,
  timeFeatures,
  powerSpectrum,
  bandPower,
  dominantPeaks,
  envelope,
  hann,
  isoZone,
  numericFeatures,
  ISO_ZONE_LIMITS,
  type BearingSpec,
  type FeatureOptions,
  type IsoZone,
  type MachineClass,
  type Spectrum,
  type VibrationFeatures,
} from './features';
export { WaveformBuffer } from './buffer';
