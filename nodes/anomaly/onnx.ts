/**
 * The anomaly feature's view of the core ONNX builder and reader (../core/onnx.ts): the same functions, with the
 * feature's error codes (`anomaly.badGraph` for a graph that cannot be built, `anomaly.notOnnx` for a file that is
 * not a model). Exported from the library as `anomaly.onnxGraph`.
 */
import { TaktError } from '../core/errors';
import * as core from '../core/onnx';
import type { onnx } from 'onnx-proto';

export { IR_VERSION, OPSET, matrixInfo, intAttr, op } from '../core/onnx';

const badGraph = (reason: string) =>
  new TaktError('anomaly.badGraph', reason.startsWith('tensor ') ? reason : `onnx: ${reason}`, 'model');

/** A float32 initializer (values rounded to float32). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  return core.floatTensor(name, dims, values, badGraph);
}

/** An int64 initializer (e.g. the axes input of ReduceSum). */
export function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  return core.int64Tensor(name, values, [values.length], badGraph);
}

/** An anomaly graph: float matrix inputs and outputs [N, width]. */
export interface GraphSpec {
  name: string;
  doc?: string;
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  inputs: { name: string; width: number }[];
  outputs: { name: string; width: number }[];
  metadata?: Record<string, string>;
}

/** Builds, verifies and encodes a model (IR 8, opset 17). */
export function encodeModel(g: GraphSpec): Uint8Array {
  return core.encodeModel(g, badGraph);
}

/** What a file says about itself: metadata_props plus the graph's input and output names. */
export interface OnnxHeader {
  metadata: Record<string, string>;
  inputs: string[];
  outputs: string[];
}

/** Decodes the header of an ONNX file; anything that is not an ONNX model gives `anomaly.notOnnx`. */
export function readOnnxHeader(bytes: Uint8Array, where = 'model'): OnnxHeader {
  const notOnnx = (reason: string) =>
    new TaktError('anomaly.notOnnx', `${where}: not an ONNX model (${reason})`, 'model');
  const m = core.readOnnx(bytes, notOnnx);
  if (m.ops.length === 0) throw notOnnx('no ir_version or graph');
  return {
    metadata: m.metadata,
    inputs: m.inputs.map((i) => i.name).filter((n) => n !== ''),
    outputs: m.outputs.map((o) => o.name),
  };
}
