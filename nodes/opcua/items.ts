/**
 * What an OPC UA reader node reads: a list of item specs, one per line,
 *   ns=1;s=Temperature          a NodeId (any of the standard string forms)
 *   /Plant1/Line1/CNC1/Power    a browse path from the Objects folder (namespace 1 unless "2:Name")
 *   /Plant1/Line1/CNC1/*        every variable directly under a node
 *   /Plant1/Line1/**            every variable anywhere under a node
 * resolved on a session to NodeIds with their ISA-95 topic (the browse names from Objects down).
 */
import { BrowseDirection, NodeClass, type ClientSession, resolveNodeId, type NodeId } from 'node-opcua';
import { TaktError } from '../core/errors';

export interface ItemSpec {
  /** The line as written. */
  spec: string;
  kind: 'nodeId' | 'path' | 'children' | 'descendants';
  nodeId?: string;
  path?: { namespaceIndex: number; name: string }[];
}

export interface ResolvedItem {
  spec: string;
  nodeId: string;
  /** Browse names from the Objects folder down, e.g. ["Plant1","Line1","CNC1","Power"]. */
  names: string[];
  /** Set when the item could not be resolved: the OPC UA status or the reason. */
  error?: string;
}

const OBJECTS = 'i=85';
const HIERARCHICAL = 'i=33';

/** Parses the item list; throws TaktError naming the bad line. */
export function parseItems(text: string | string[]): ItemSpec[] {
  const lines = (Array.isArray(text) ? text : text.split(/\r?\n/))
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0)
    throw new TaktError(
      'opcua.noItems',
      'no items to read: give NodeIds or browse paths, one per line',
      'items',
    );
  return lines.map((spec, i) => {
    if (spec.startsWith('/')) {
      let kind: ItemSpec['kind'] = 'path';
      let body = spec;
      if (body.endsWith('/**')) {
        kind = 'descendants';
        body = body.slice(0, -3);
      } else if (body.endsWith('/*')) {
        kind = 'children';
        body = body.slice(0, -2);
      }
      const path = body
        .split('/')
        .filter((s) => s !== '')
        .map((seg) => {
          const m = /^(\d+):(.+)$/.exec(seg);
          return m ? { namespaceIndex: Number(m[1]), name: m[2] } : { namespaceIndex: 1, name: seg };
        });
      if (path.length === 0 && kind === 'path')
        throw new TaktError('opcua.badItem', `item ${i + 1} "${spec}" names no node`, 'items');
      return { spec, kind, path };
    }
    try {
      resolveNodeId(spec);
    } catch {
      throw new TaktError(
        'opcua.badItem',
        `item ${i + 1} "${spec}" is neither a NodeId (ns=1;s=...) nor a browse path (/Plant1/...)`,
        'items',
      );
    }
    return { spec, kind: 'nodeId', nodeId: spec };
  });
}

async function browseChildren(session: ClientSession, nodeId: string) {
  const r = await session.browse({
    nodeId,
    browseDirection: BrowseDirection.Forward,
    referenceTypeId: HIERARCHICAL,
    includeSubtypes: true,
    nodeClassMask: NodeClass.Object | NodeClass.Variable,
    resultMask: 63,
  });
  return r.references ?? [];
}

/** Browse names from Objects down to a node, following inverse hierarchical references. */
async function namesOf(session: ClientSession, nodeId: string): Promise<string[]> {
  const names: string[] = [];
  const objects = resolveNodeId(OBJECTS).toString();
  let current = resolveNodeId(nodeId).toString();
  for (let depth = 0; depth < 16 && current !== objects; depth++) {
    const [bn] = await session.read([{ nodeId: current, attributeId: 3 /* BrowseName */ }]);
    names.unshift(String((bn.value.value as { name?: string } | null)?.name ?? current));
    const up = await session.browse({
      nodeId: current,
      browseDirection: BrowseDirection.Inverse,
      referenceTypeId: HIERARCHICAL,
      includeSubtypes: true,
      resultMask: 63,
    });
    const parent = up.references?.[0];
    if (!parent) break;
    current = parent.nodeId.toString();
  }
  return names;
}

/** Resolves item specs to variables on a session; unresolvable items come back with `error`. */
export async function resolveItems(session: ClientSession, specs: ItemSpec[]): Promise<ResolvedItem[]> {
  const out: ResolvedItem[] = [];
  for (const item of specs) {
    if (item.kind === 'nodeId') {
      const nodeId = resolveNodeId(item.nodeId!).toString();
      const [nc] = await session.read([{ nodeId, attributeId: 2 /* NodeClass */ }]);
      if (nc.statusCode.name !== 'Good')
        out.push({ spec: item.spec, nodeId, names: [nodeId], error: nc.statusCode.name });
      else out.push({ spec: item.spec, nodeId, names: await namesOf(session, nodeId) });
      continue;
    }
    const path = item.path ?? [];
    let nodeId: string = OBJECTS;
    if (path.length > 0) {
      const r = await session.translateBrowsePath({
        startingNode: OBJECTS,
        relativePath: {
          elements: path.map((p) => ({
            referenceTypeId: HIERARCHICAL,
            isInverse: false,
            includeSubtypes: true,
            targetName: p,
          })),
        },
      });
      const target = r.targets?.[0]?.targetId as NodeId | undefined;
      if (r.statusCode.name !== 'Good' || !target) {
        out.push({ spec: item.spec, nodeId: '', names: path.map((p) => p.name), error: r.statusCode.name });
        continue;
      }
      nodeId = target.toString();
    }
    const names = path.map((p) => p.name);
    if (item.kind === 'path') {
      out.push({ spec: item.spec, nodeId, names });
      continue;
    }
    // Variables under the node: one level, or all levels (objects are descended, variables collected).
    const queue: { nodeId: string; names: string[] }[] = [{ nodeId, names }];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const cur = queue.shift()!;
      for (const ref of await browseChildren(session, cur.nodeId)) {
        const id = ref.nodeId.toString();
        if (seen.has(id)) continue;
        seen.add(id);
        const childNames = [...cur.names, ref.browseName.name ?? id];
        if (ref.nodeClass === NodeClass.Variable)
          out.push({ spec: item.spec, nodeId: id, names: childNames });
        else if (item.kind === 'descendants') queue.push({ nodeId: id, names: childNames });
      }
    }
  }
  return out;
}

/**
 * Names of enumeration values for variables whose DataType is an enumeration with EnumStrings (or
 * EnumValues), by NodeId; variables of other types are absent. One batched read per call.
 */
export async function enumNames(session: ClientSession, nodeIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (nodeIds.length === 0) return out;
  const types = await session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId: 14 /* DataType */ })));
  const cache = new Map<string, string[] | undefined>();
  for (const [i, dv] of types.entries()) {
    const dt = dv.value.value as NodeId | null;
    // Built-in types (namespace 0, ids up to 25) are never enumerations.
    if (!dt || (dt.namespace === 0 && typeof dt.value === 'number' && dt.value <= 25)) continue;
    const key = dt.toString();
    if (!cache.has(key)) {
      const props = await session.browse({
        nodeId: key,
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: 'i=46',
        resultMask: 63,
      });
      const ref = props.references?.find(
        (r) => r.browseName.name === 'EnumStrings' || r.browseName.name === 'EnumValues',
      );
      let names: string[] | undefined;
      if (ref) {
        const [v] = await session.read([{ nodeId: ref.nodeId, attributeId: 13 /* Value */ }]);
        const arr = (v.value.value ?? []) as {
          text?: string | null;
          value?: unknown;
          displayName?: { text?: string | null };
        }[];
        if (ref.browseName.name === 'EnumStrings') names = arr.map((x) => x.text ?? '');
        else {
          names = [];
          for (const x of arr) names[Number(x.value)] = x.displayName?.text ?? '';
        }
      }
      cache.set(key, names);
    }
    const names = cache.get(key);
    if (names) out.set(nodeIds[i], names);
  }
  return out;
}

export interface BrowseEntry {
  nodeId: string;
  browseName: string;
  namespaceIndex: number;
  nodeClass: 'Object' | 'Variable';
  /** Variables: the DataType's name, e.g. "Double". */
  dataType?: string;
  /** Analog variables: the EngineeringUnits display name, e.g. "°C". */
  unit?: string;
}

/** One level of the address space below a node (objects and variables), for the editor's browse tree. */
export async function browseLevel(session: ClientSession, nodeId: string): Promise<BrowseEntry[]> {
  const refs = await browseChildren(session, nodeId);
  const out: BrowseEntry[] = [];
  const typeNames = new Map<string, string>();
  for (const ref of refs) {
    const entry: BrowseEntry = {
      nodeId: ref.nodeId.toString(),
      browseName: ref.browseName.name ?? '',
      namespaceIndex: ref.browseName.namespaceIndex,
      nodeClass: ref.nodeClass === NodeClass.Variable ? 'Variable' : 'Object',
    };
    if (entry.nodeClass === 'Variable') {
      const [dt] = await session.read([{ nodeId: entry.nodeId, attributeId: 14 /* DataType */ }]);
      const dtId = dt.value.value?.toString() ?? '';
      if (dtId && !typeNames.has(dtId)) {
        const [bn] = await session.read([{ nodeId: dtId, attributeId: 3 /* BrowseName */ }]);
        typeNames.set(dtId, String((bn.value.value as { name?: string } | null)?.name ?? dtId));
      }
      entry.dataType = typeNames.get(dtId);
      const props = await session.browse({
        nodeId: entry.nodeId,
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: 'i=46',
        resultMask: 63,
      });
      const eu = props.references?.find((p) => p.browseName.name === 'EngineeringUnits');
      if (eu) {
        const [v] = await session.read([{ nodeId: eu.nodeId, attributeId: 13 /* Value */ }]);
        const text = (v.value.value as { displayName?: { text?: string | null } } | null)?.displayName?.text;
        if (text) entry.unit = text;
      }
    }
    out.push(entry);
  }
  return out;
}
