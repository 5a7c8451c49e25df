/**
 * Generic helpers to write ONNX graphs with onnx-proto (protobufjs classes of the ONNX schema) and to read a
 * model's metadata back. Facts these rely on (shared/NOTES.md): IR 8 with opset 17, float weights as rawData
 * little-endian bytes sliced by byteOffset/byteLength, `Gemm` with transB takes [out, in], ReduceSum takes its
 * axes as an int64 input from opset 13, batch dimension `N`.
 *
 * onnx-proto is needed at runtime by training (takt-train), not only at build time.
 */
import { onnx } from 'onnx-proto';
import { TaktError } from '../core/errors';

export const IR_VERSION = 8;
export const OPSET = 17;

/** A float32 initializer (values rounded to float32). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  const f = Float32Array.from(values as ArrayLike<number>);
  const size = dims.reduce((a, b) => a * b, 1);
  if (f.length !== size)
    throw new TaktError(
      'anomaly.badGraph',
      `tensor ${name}: ${f.length} values for dims [${dims.join(',')}]`,
      name,
    );
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength),
  };
}

/** An int64 initializer (e.g. the axes input of ReduceSum). */
export function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  const b = BigInt64Array.from(values.map((v) => BigInt(v)));
  return {
    name,
    dims: [values.length],
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  };
}

/** A float matrix graph input or output [N, width]. */
export function matrixInfo(name: string, width: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] },
      },
    },
  };
}

export const intAttr = (name: string, i: number): onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i,
});

/** Shorthand for a node. */
export function op(
  opType: string,
  input: string[],
  output: string[],
  attribute: onnx.IAttributeProto[] = [],
): onnx.INodeProto {
  return { name: `${opType}_${output[0]}`, opType, input, output, attribute };
}

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
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'takt',
    producerVersion: '1',
    domain: 'org.takt',
    modelVersion: 1,
    docString: g.doc ?? '',
    graph: {
      name: g.name,
      node: g.nodes,
      initializer: g.initializers,
      input: g.inputs.map((i) => matrixInfo(i.name, i.width)),
      output: g.outputs.map((o) => matrixInfo(o.name, o.width)),
    },
    metadataProps: Object.entries(g.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new TaktError('anomaly.badGraph', `onnx: ${err}`, 'model');
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** What a file says about itself: metadata_props plus the graph's input and output names. */
export interface OnnxHeader {
  metadata: Record<string, string>;
  inputs: string[];
  outputs: string[];
}

/** Decodes the header of an ONNX file; anything that is not an ONNX model gives `anomaly.notOnnx`. */
export function readOnnxHeader(bytes: Uint8Array, where = 'model'): OnnxHeader {
  let m: onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new TaktError(
      'anomaly.notOnnx',
      `${where}: not an ONNX model (${(err as Error).message})`,
      'model',
    );
  }
  const ir = Number(m.irVersion ?? 0);
  if (!m.graph || !(ir > 0) || (m.graph.node ?? []).length === 0)
    throw new TaktError('anomaly.notOnnx', `${where}: not an ONNX model (no ir_version or graph)`, 'model');
  const metadata: Record<string, string> = {};
  for (const p of m.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const inits = new Set((m.graph.initializer ?? []).map((i) => i.name));
  return {
    metadata,
    inputs: (m.graph.input ?? []).map((i) => i.name ?? '').filter((n) => n !== '' && !inits.has(n)),
    outputs: (m.graph.output ?? []).map((o) => o.name ?? ''),
  };
}
