/**
 * Opening an ONNX model with onnxruntime-node the way Takt runs every model: one thread per session
 * (two halved throughput on the 2-core edge boxes measured, see ../shared/NOTES.md), sequential execution,
 * full graph optimisation. onnxruntime-node is loaded on first use, so importing the library stays light.
 */
import type { InferenceSession } from 'onnxruntime-node';

export type Ort = typeof import('onnxruntime-node');

/**
 * Creates a session from model bytes. When onnxruntime refuses the file, throws what `fail` makes of the
 * reason (each feature words and codes its own error).
 */
export async function openOnnxSession(
  bytes: Uint8Array,
  fail: (reason: string) => Error,
): Promise<{ ort: Ort; session: InferenceSession }> {
  const ort = await import('onnxruntime-node');
  try {
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return { ort, session };
  } catch (err) {
    throw fail(`onnxruntime cannot load it: ${(err as Error).message}`);
  }
}
