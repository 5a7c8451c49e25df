/**
 * Writes and method calls with type coercion: the target's DataType (its built-in base type, read once
 * per session and cached) and ValueRank decide how a JSON value becomes a Variant, so a flow can write
 * "42" to an Int16 or [1, 2] to a Double array. Every item gets its own result.
 */
import {
  AttributeIds,
  BrowseDirection,
  type ClientSession,
  DataType,
  resolveNodeId,
  StatusCodes,
  Variant,
  VariantArrayType,
} from 'node-opcua';
import { TaktError } from '../core/errors';
import { decodeVariant, type Json } from './decode';
import { parseItems, resolveItems } from './items';

const INT_RANGES: Partial<Record<DataType, [number, number]>> = {
  [DataType.SByte]: [-128, 127],
  [DataType.Byte]: [0, 255],
  [DataType.Int16]: [-32768, 32767],
  [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647],
  [DataType.UInt32]: [0, 4294967295],
  [DataType.Int64]: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  [DataType.UInt64]: [0, Number.MAX_SAFE_INTEGER],
};

function coerceScalar(v: unknown, dt: DataType, where: string): unknown {
  const fail = (): never => {
    throw new TaktError(
      'opcua.badValue',
      `${where}: ${JSON.stringify(v)} cannot be written as ${DataType[dt]}`,
      where,
    );
  };
  switch (dt) {
    case DataType.Boolean:
      if (typeof v === 'boolean') return v;
      if (v === 1 || v === 0) return v === 1;
      if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
      return fail();
    case DataType.Float:
    case DataType.Double: {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail();
      return n;
    }
    case DataType.String:
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      return fail();
    case DataType.DateTime: {
      const d =
        typeof v === 'number' || typeof v === 'string' ? new Date(v) : v instanceof Date ? v : undefined;
      if (!d || Number.isNaN(d.getTime())) return fail();
      return d;
    }
    case DataType.ByteString:
      if (typeof v === 'string') return Buffer.from(v, 'base64');
      return fail();
    default: {
      const range = INT_RANGES[dt];
      if (!range) return fail();
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < range[0] || n > range[1]) return fail();
      return n;
    }
  }
}

/** A Variant of the given built-in type (an array when valueRank >= 1) from a JSON value. */
export function coerce(value: unknown, dataType: DataType, valueRank: number, where = 'value'): Variant {
  if (valueRank >= 1 || (valueRank === 0 && Array.isArray(value))) {
    if (!Array.isArray(value))
      throw new TaktError('opcua.badValue', `${where}: the node holds an array, give an array`, where);
    const arr = value.map((x, i) => coerceScalar(x, dataType, `${where}[${i}]`));
    return new Variant({ dataType, arrayType: VariantArrayType.Array, value: arr });
  }
  if (Array.isArray(value))
    throw new TaktError('opcua.badValue', `${where}: the node holds a single value, not an array`, where);
  return new Variant({ dataType, value: coerceScalar(value, dataType, where) });
}

export interface WriteResult {
  item: string;
  nodeId: string;
  statusCode: string;
  good: boolean;
}

/** Writes each { item, value } (item: a NodeId or browse path); one result per item, in order. */
export async function writeItems(
  session: ClientSession,
  writes: { item: string; value: unknown }[],
): Promise<WriteResult[]> {
  const specs = parseItems(writes.map((w) => w.item));
  const resolved = await resolveItems(session, specs);
  const results: WriteResult[] = [];
  const pending: { index: number; nodeId: string; variant: Variant }[] = [];
  for (const [i, r] of resolved.entries()) {
    const item = writes[i].item;
    if (r.error) {
      results[i] = { item, nodeId: r.nodeId, statusCode: r.error, good: false };
      continue;
    }
    try {
      const [dt, rank] = await Promise.all([
        session.getBuiltInDataType(resolveNodeId(r.nodeId)),
        session.read({ nodeId: r.nodeId, attributeId: AttributeIds.ValueRank }),
      ]);
      pending.push({
        index: i,
        nodeId: r.nodeId,
        variant: coerce(writes[i].value, dt, Number(rank.value.value ?? -1), item),
      });
    } catch (err) {
      results[i] = { item, nodeId: r.nodeId, statusCode: (err as Error).message, good: false };
    }
  }
  if (pending.length) {
    const codes = await session.write(
      pending.map((p) => ({
        nodeId: p.nodeId,
        attributeId: AttributeIds.Value,
        value: { value: p.variant },
      })),
    );
    pending.forEach((p, k) => {
      results[p.index] = {
        item: writes[p.index].item,
        nodeId: p.nodeId,
        statusCode: codes[k].name,
        good: codes[k].value === StatusCodes.Good.value,
      };
    });
  }
  return results;
}

/** The built-in type a DataType node derives from (follows HasSubtype up to a type of namespace 0 below 26). */
async function builtInOf(session: ClientSession, dataTypeId: string): Promise<DataType> {
  let id = resolveNodeId(dataTypeId);
  for (let depth = 0; depth < 10; depth++) {
    if (id.namespace === 0 && typeof id.value === 'number' && id.value >= 1 && id.value <= 25)
      return id.value as DataType;
    if (id.namespace === 0 && id.value === 29) return DataType.Int32; // Enumeration
    const up = await session.browse({
      nodeId: id,
      browseDirection: BrowseDirection.Inverse,
      referenceTypeId: 'i=45',
      includeSubtypes: false,
      resultMask: 63,
    });
    const parent = up.references?.[0]?.nodeId;
    if (!parent) break;
    id = parent;
  }
  throw new TaktError('opcua.badDataType', `cannot tell the built-in type of DataType ${dataTypeId}`);
}

export interface CallResult {
  statusCode: string;
  good: boolean;
  outputs: Json[];
  /** The server's reason for a bad result, when it gave one (some servers put it in an output). */
  message?: string;
}

/** Calls a method (object and method as NodeIds or browse paths) with arguments coerced to its InputArguments. */
export async function callMethod(
  session: ClientSession,
  object: string,
  method: string,
  args: unknown[],
): Promise<CallResult> {
  const [o, m] = await resolveItems(session, parseItems([object, method]));
  if (o.error) throw new TaktError('opcua.badObject', `object ${object}: ${o.error}`, 'object');
  if (m.error) throw new TaktError('opcua.badMethod', `method ${method}: ${m.error}`, 'method');
  const def = await session.getArgumentDefinition(resolveNodeId(m.nodeId));
  const inputs = def.inputArguments ?? [];
  if (args.length !== inputs.length) {
    throw new TaktError(
      'opcua.badArguments',
      `${method} takes ${inputs.length} argument(s) (${inputs.map((a) => a.name).join(', ')}), got ${args.length}`,
      'payload',
    );
  }
  const variants: Variant[] = [];
  for (const [i, a] of inputs.entries()) {
    const dt = await builtInOf(session, a.dataType.toString());
    variants.push(coerce(args[i], dt, a.valueRank, `argument ${a.name ?? i}`));
  }
  const r = await session.call({ objectId: o.nodeId, methodId: m.nodeId, inputArguments: variants });
  const outputs = (r.outputArguments ?? []).map((v) => decodeVariant(v));
  const good = r.statusCode.value === StatusCodes.Good.value;
  const message = good ? undefined : outputs.find((x): x is string => typeof x === 'string' && x !== '');
  return { statusCode: r.statusCode.name, good, outputs, ...(message ? { message } : {}) };
}
