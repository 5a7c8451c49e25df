/**
 * ONNX in Takt: writing a graph, reading a file back, and opening it with onnxruntime-node. Every learned model
 * of the pack (anomaly kinds, the SPC pattern network) is built and read through this module.
 *
 * Writing uses onnx-proto (protobufjs classes of the ONNX 1.10 schema). Facts it relies on, checked against
 * onnxruntime-node by test/core/onnx.test.ts and each model's own tests: IR 8 with opset 17 loads; float weights
 * go as `rawData`, the little-endian bytes of a Float32Array sliced by byteOffset/byteLength; `Gemm` with
 * transB = 1 takes weights as [out, in]; from opset 13 `ReduceSum` takes its axes as an int64 input; a batch
 * dimension is `dimParam: 'N'`. There is no ONNX checker in JavaScript: `encodeModel` runs the schema's `verify`,
 * and every graph must be tested against a plain computation of the same model.
 *
 * Reading decodes the whole file with onnx-proto: onnxruntime-node exposes no custom metadata, so metadata_props,
 * declared shapes and initialisers come from here. Opening a session (`openOnnxSession`) uses one thread per
 * session (two halved throughput on the 2-core edge boxes measured), sequential execution and full graph
 * optimisation; onnxruntime-node is loaded on first use, so importing the library stays light.
 *
 * Errors: builders throw `onnx.badGraph`, the reader `onnx.notOnnx`, unless the caller passes `fail`, which
 * turns the reason into the caller's own error (each feature words and codes its own).
 */
import { onnx } from 'onnx-proto';
import type { InferenceSession } from 'onnxruntime-node';
import { TaktError } from './errors';

export type Ort = typeof import('onnxruntime-node');

/** IR version and default opset of every graph Takt writes. */
export const IR_VERSION = 8;
export const OPSET = 17;

/** Element types used by Takt graphs (values of onnx.TensorProto.DataType). */
export const ElemType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  INT64: onnx.TensorProto.DataType.INT64,
  STRING: onnx.TensorProto.DataType.STRING,
  DOUBLE: onnx.TensorProto.DataType.DOUBLE,
} as const;
export type ElemType = (typeof ElemType)[keyof typeof ElemType];

/** Turns a reason into the error to throw. */
export type OnnxFail = (reason: string) => Error;

const badGraph: OnnxFail = (reason) => new TaktError('onnx.badGraph', `onnx: ${reason}`, 'model');
const notOnnx: OnnxFail = (reason) => new TaktError('onnx.notOnnx', `not an ONNX model (${reason})`, 'model');

// ---------------------------------------------------------------- tensors (initialisers)

/** A float32 tensor (values rounded to float32); the value count must match `dims`. */
export function floatTensor(
  name: string,
  dims: readonly number[],
  values: ArrayLike<number>,
  fail: OnnxFail = badGraph,
): onnx.ITensorProto {
  const f = Float32Array.from(values);
  const size = dims.reduce((a, b) => a * b, 1);
  if (f.length !== size) throw fail(`tensor ${name}: ${f.length} values for dims [${dims.join(',')}]`);
  return {
    name,
    dims: [...dims],
    dataType: ElemType.FLOAT,
    rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength),
  };
}

/** An int64 tensor, by default one-dimensional (e.g. the axes input of ReduceSum). */
export function int64Tensor(
  name: string,
  values: readonly number[],
  dims: readonly number[] = [values.length],
  fail: OnnxFail = badGraph,
): onnx.ITensorProto {
  if (dims.reduce((a, b) => a * b, 1) !== values.length)
    throw fail(`tensor ${name}: ${values.length} values for dims [${dims.join(',')}]`);
  const b = BigInt64Array.from(values.map((v) => BigInt(v)));
  return {
    name,
    dims: [...dims],
    dataType: ElemType.INT64,
    rawData: new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  };
}

// ---------------------------------------------------------------- graph inputs and outputs

/** One dimension of a declared shape: a fixed size, or a symbolic name such as 'N'. */
export type Dim = number | string;

/** A tensor graph input or output of the given element type and shape. */
export function tensorInfo(name: string, elemType: ElemType, shape: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A float matrix [N, width] (rows of features). */
export function matrixInfo(name: string, width: number): onnx.IValueInfoProto {
  return tensorInfo(name, ElemType.FLOAT, ['N', width]);
}

// ---------------------------------------------------------------- nodes and attributes

const A = onnx.AttributeProto.AttributeType;

export const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i });
export const floatAttr = (name: string, f: number): onnx.IAttributeProto => ({ name, type: A.FLOAT, f });
export const stringAttr = (name: string, s: string): onnx.IAttributeProto => ({
  name,
  type: A.STRING,
  s: new TextEncoder().encode(s),
});
export const intsAttr = (name: string, ints: readonly number[]): onnx.IAttributeProto => ({
  name,
  type: A.INTS,
  ints: [...ints],
});
export const floatsAttr = (name: string, floats: readonly number[]): onnx.IAttributeProto => ({
  name,
  type: A.FLOATS,
  floats: [...floats],
});
export const stringsAttr = (name: string, strings: readonly string[]): onnx.IAttributeProto => ({
  name,
  type: A.STRINGS,
  strings: strings.map((s) => new TextEncoder().encode(s)),
});

/**
 * A node. Its name defaults to `<opType>_<first output>`; `domain` is set for operators outside the default
 * domain (e.g. 'ai.onnx.ml', whose opset must then be listed in the model's `opsets`).
 */
export function op(
  opType: string,
  input: readonly string[],
  output: readonly string[],
  attribute: onnx.IAttributeProto[] = [],
  o: { name?: string; domain?: string } = {},
): onnx.INodeProto {
  const node: onnx.INodeProto = {
    name: o.name ?? `${opType}_${output[0]}`,
    opType,
    input: [...input],
    output: [...output],
    attribute,
  };
  if (o.domain !== undefined) node.domain = o.domain;
  return node;
}

// ---------------------------------------------------------------- model

/** A graph input or output: a float matrix [N, width], or any declared value info. */
export type GraphValue = { name: string; width: number } | onnx.IValueInfoProto;

export interface ModelSpec {
  /** Graph name. */
  name: string;
  /** The model's doc_string. */
  doc?: string;
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  inputs: GraphValue[];
  outputs: GraphValue[];
  /** metadata_props, written in this order. */
  metadata?: Record<string, string>;
  /** Operator sets imported (default: the default domain at OPSET). */
  opsets?: { domain: string; version: number }[];
}

const valueInfo = (v: GraphValue): onnx.IValueInfoProto =>
  'width' in v && typeof v.width === 'number' ? matrixInfo(v.name as string, v.width) : v;

/** Builds, verifies and encodes a model (IR 8; producer takt, domain org.takt). */
export function encodeModel(g: ModelSpec, fail: OnnxFail = badGraph): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: g.opsets ?? [{ domain: '', version: OPSET }],
    producerName: 'takt',
    producerVersion: '1',
    domain: 'org.takt',
    modelVersion: 1,
    docString: g.doc ?? '',
    graph: {
      name: g.name,
      node: g.nodes,
      initializer: g.initializers,
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
    metadataProps: Object.entries(g.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw fail(err);
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

// ---------------------------------------------------------------- reading

/** A declared graph input or output. */
export interface OnnxValue {
  name: string;
  /** Element type (ElemType values) of a tensor; undefined for non-tensor values (maps, sequences). */
  elemType: number | undefined;
  /** Declared shape: sizes, symbolic names, or undefined for an unknown dimension; undefined if none declared. */
  shape: (number | string | undefined)[] | undefined;
}

/** What a file says about itself, and its initialisers. */
export interface OnnxModelInfo {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  graphName: string;
  metadata: Record<string, string>;
  /** Graph inputs that are not initialisers (what a caller feeds). */
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Operator types of the nodes, in graph order (with `domain:` in front outside the default domain). */
  ops: string[];
  /** Names of the initialisers. */
  initializers: string[];
}

/** A node's attributes, read by name and type (a missing attribute reads as empty). */
export interface OnnxAttributes {
  has(name: string): boolean;
  ints(name: string): number[];
  floats(name: string): number[];
  string(name: string): string;
  strings(name: string): string[];
}

/** A node of the graph as read back. */
export interface OnnxNode {
  opType: string;
  /** '' for the default domain. */
  domain: string;
  input: string[];
  output: string[];
  attributes: OnnxAttributes;
}

export interface OnnxModel extends OnnxModelInfo {
  /** The first node for which `match` holds (e.g. an ONNX-ML operator whose attributes carry the model). */
  findNode(match: (opType: string, domain: string) => boolean): OnnxNode | undefined;
  /** Dimensions of an initialiser. */
  dims(name: string): number[];
  /** A float initialiser's values (from raw_data or float_data). */
  floats(name: string): Float32Array;
  /** An int64 initialiser's values. */
  int64s(name: string): number[];
}

const num = (v: number | { toNumber(): number } | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

function valueOf(v: onnx.IValueInfoProto): OnnxValue {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim;
  return {
    name: v.name ?? '',
    elemType: t ? (t.elemType ?? undefined) : undefined,
    shape: dims
      ? dims.map((d) =>
          d.dimParam
            ? d.dimParam
            : d.dimValue !== null && d.dimValue !== undefined
              ? num(d.dimValue)
              : undefined,
        )
      : undefined,
  };
}

/**
 * Decodes an ONNX file. Bytes that are not a model (not protobuf, no ir_version, no graph) throw what `fail`
 * makes of the reason (default `onnx.notOnnx`).
 */
export function readOnnx(bytes: Uint8Array, fail: OnnxFail = notOnnx): OnnxModel {
  let m: onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const irVersion = num(m.irVersion);
  if (!(irVersion > 0) || !m.graph) throw fail('no ir_version or graph');
  const g = m.graph;
  const metadata: Record<string, string> = {};
  for (const p of m.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  const inits = new Map<string, onnx.ITensorProto>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? '', t);
  const tensor = (name: string, type: number): onnx.ITensorProto => {
    const t = inits.get(name);
    if (!t) throw fail(`no initializer ${name}`);
    if (t.dataType !== type) throw fail(`initializer ${name} has data type ${t.dataType}, expected ${type}`);
    return t;
  };
  const dims = (name: string) => (inits.get(name)?.dims ?? []).map((d) => num(d));
  const count = (name: string) => dims(name).reduce((a, b) => a * b, 1);
  return {
    irVersion,
    opsets: (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: num(o.version) })),
    producer: m.producerName ?? '',
    graphName: g.name ?? '',
    metadata,
    inputs: (g.input ?? []).filter((i) => i.name && !inits.has(i.name)).map(valueOf),
    outputs: (g.output ?? []).map(valueOf),
    ops: (g.node ?? []).map((n) => (n.domain ? `${n.domain}:${n.opType ?? ''}` : (n.opType ?? ''))),
    initializers: [...inits.keys()],
    findNode: (match) => {
      const n = (g.node ?? []).find((x) => match(x.opType ?? '', x.domain ?? ''));
      if (!n) return undefined;
      const at = new Map((n.attribute ?? []).map((a) => [a.name ?? '', a]));
      const text = (b: Uint8Array | null | undefined) => new TextDecoder().decode(b ?? new Uint8Array());
      return {
        opType: n.opType ?? '',
        domain: n.domain ?? '',
        input: [...(n.input ?? [])],
        output: [...(n.output ?? [])],
        attributes: {
          has: (name) => at.has(name),
          ints: (name) => (at.get(name)?.ints ?? []).map((v) => num(v)),
          floats: (name) => [...(at.get(name)?.floats ?? [])],
          string: (name) => text(at.get(name)?.s),
          strings: (name) => (at.get(name)?.strings ?? []).map(text),
        },
      };
    },
    dims: (name) => {
      if (!inits.has(name)) throw fail(`no initializer ${name}`);
      return dims(name);
    },
    floats: (name) => {
      const t = tensor(name, ElemType.FLOAT);
      const raw = t.rawData;
      let out: Float32Array;
      if (raw && raw.byteLength > 0) {
        // copy: the decoded bytes may sit at any offset of a shared buffer
        const copy = new Uint8Array(raw.byteLength);
        copy.set(raw);
        out = new Float32Array(copy.buffer);
      } else out = Float32Array.from(t.floatData ?? []);
      if (out.length !== count(name)) throw fail(`initializer ${name}: ${out.length} values for its dims`);
      return out;
    },
    int64s: (name) => {
      const t = tensor(name, ElemType.INT64);
      const raw = t.rawData;
      let out: number[];
      if (raw && raw.byteLength > 0) {
        const copy = new Uint8Array(raw.byteLength);
        copy.set(raw);
        out = Array.from(new BigInt64Array(copy.buffer), (v) => Number(v));
      } else out = (t.int64Data ?? []).map((v) => num(v));
      if (out.length !== count(name)) throw fail(`initializer ${name}: ${out.length} values for its dims`);
      return out;
    },
  };
}

// ---------------------------------------------------------------- running

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
