/**
 * Worker-thread entry of the vibration features (offload.ts): computes `features` of each window of a call.
 * Started by the KeptWorker in offload.ts; never imported by the main thread.
 */
import { serveKeptWorker } from '../core/jobs';
import { features, type VibrationFeatures } from './features';
import type { FeatureCall } from './offload';

serveKeptWorker<FeatureCall, VibrationFeatures[]>('vibration', (call) => ({
  result: call.windows.map((w) => features(w, call.options)),
}));
