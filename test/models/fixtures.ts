/** Shared fixtures of the model lifecycle tests: seeded pump rows and small PCA models as ONNX bytes. */
import { Rng } from '../../nodes/core/random';
import { modelToOnnx, trainModel } from '../../nodes/anomaly/models';

export const FEATURES = ['temp', 'current', 'flow'];

/**
 * Rows of a pump running normally (three correlated features). `shift` moves `current` alone (0.5 per unit,
 * breaking the correlation: a fault); `load` moves the shared driver by that many sd (a new operating point).
 */
export function pumpRows(rng: Rng, n: number, shift = 0, load = 0): number[][] {
  return Array.from({ length: n }, () => {
    const a = rng.normal() + load;
    return [40 + a, 10 + 0.5 * a + 0.05 * rng.normal() + 0.5 * shift, 30 - a + 0.1 * rng.normal()];
  });
}

/** A PCA model trained on the rows, as ONNX bytes (threshold: max training score x factor). */
export function pcaOnnx(rows: number[][], features = FEATURES, thresholdFactor = 1.2): Uint8Array {
  const X = Float64Array.from(rows.flat());
  return modelToOnnx(trainModel(X, rows.length, features, { kind: 'pca', thresholdFactor }));
}
