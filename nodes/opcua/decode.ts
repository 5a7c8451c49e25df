/**
 * OPC UA values to JSON-friendly message values: numbers, booleans and strings as they are, arrays as
 * plain arrays, 64-bit integers as numbers (or text beyond 2^53), DateTime as ISO 8601 text, ByteString
 * as base64, LocalizedText as its text, NodeIds and QualifiedNames as their string forms, enumerations
 * by value (with the name when the DataType has EnumStrings), structures (ExtensionObjects) as objects.
 */
import { DataType, type DataValue, type Variant, VariantArrayType } from 'node-opcua';
import { qualityFromStatusCode, type Quality } from '../core/sample';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function int64(v: unknown): number | string {
  // node-opcua carries Int64/UInt64 as [high, low] 32-bit words.
  if (Array.isArray(v) && v.length === 2) {
    const [hi, lo] = v as [number, number];
    const big = (BigInt(hi) << 32n) + BigInt(lo >>> 0);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(big)
      : big.toString();
  }
  return Number(v);
}

function scalar(dataType: DataType, v: unknown): Json {
  if (v === null || v === undefined) return null;
  switch (dataType) {
    case DataType.Int64:
    case DataType.UInt64:
      return int64(v);
    case DataType.DateTime:
      return v instanceof Date ? v.toISOString() : String(v);
    case DataType.ByteString:
      return Buffer.isBuffer(v) ? v.toString('base64') : String(v);
    case DataType.LocalizedText:
      return (v as { text?: string | null }).text ?? null;
    case DataType.QualifiedName: {
      const q = v as { namespaceIndex: number; name: string };
      return q.namespaceIndex ? `${q.namespaceIndex}:${q.name}` : q.name;
    }
    case DataType.NodeId:
    case DataType.ExpandedNodeId:
    case DataType.Guid:
    case DataType.StatusCode:
      return String(v.toString());
    case DataType.ExtensionObject:
      return toJson(v);
    case DataType.Variant:
      return decodeVariant(v as Variant);
    default:
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
      return toJson(v);
  }
}

/** Plain JSON of an object (ExtensionObjects have toJSON; Buffers become base64). */
function toJson(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(toJson);
  const o = v as { toJSON?: () => unknown };
  const plain = typeof o.toJSON === 'function' ? o.toJSON() : v;
  if (plain === v && typeof plain === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(plain as object))
      if (!k.startsWith('_') && typeof x !== 'function') out[k] = toJson(x);
    return out;
  }
  return toJson(plain);
}

/** A Variant's value as JSON; `enumStrings` names Int32 enumeration values. */
export function decodeVariant(v: Variant, enumStrings?: readonly string[]): Json {
  const raw: unknown = v.value;
  if (raw === null || raw === undefined) return null;
  if (ArrayBuffer.isView(raw) && !Buffer.isBuffer(raw))
    return Array.from(raw as unknown as ArrayLike<number>);
  // A scalar Int64/UInt64 is itself a [high, low] pair: only a Variant of array type is a list.
  if (Array.isArray(raw) && v.arrayType !== VariantArrayType.Scalar)
    return raw.map((x) => scalar(v.dataType, x));
  const value = scalar(v.dataType, raw);
  if (enumStrings && typeof value === 'number' && enumStrings[value] !== undefined) return enumStrings[value];
  return value;
}

export interface Decoded {
  value: Json;
  ts: number;
  quality: Quality;
  /** The StatusCode's name (e.g. "BadSensorFailure"); looked up only for values that are not good. */
  statusCode: string;
  /** The server's queue overflowed: changes were lost before this one (OPC UA Overflow info bit). */
  overflow: boolean;
}

export function decodeDataValue(dv: DataValue, enumStrings?: readonly string[]): Decoded {
  const code = dv.statusCode.value >>> 0;
  const ts = dv.sourceTimestamp ?? dv.serverTimestamp ?? new Date();
  return {
    value: decodeVariant(dv.value, enumStrings),
    ts: ts.getTime(),
    quality: qualityFromStatusCode(code),
    statusCode: code === 0 ? 'Good' : dv.statusCode.name,
    overflow: (code & 0x0c00) === 0x0400 && (code & 0x0080) !== 0,
  };
}
