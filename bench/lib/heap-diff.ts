/**
 * What grew between two V8 heap snapshots (the soak's --heap-snapshots): objects grouped by constructor (node
 * type and name), the groups whose count or size grew most, and for the top ones a sample retainer path of an
 * object that is new in the second snapshot (its id is not in the first), from the object up towards a root.
 *
 *   node dist/bench/lib/heap-diff.js first.heapsnapshot second.heapsnapshot [--top 25] [--paths 6]
 *
 * Reads the .heapsnapshot JSON as V8 writes it (snapshot.meta names the fields of the flat node and edge arrays).
 */
import { readFileSync } from 'node:fs';
import { numberFlag, parseFlags, printTable } from './cli';

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
}

interface RawSnapshot {
  snapshot: { meta: Meta; node_count: number };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Heap {
  count: number;
  type: string[];
  name: string[];
  id: Float64Array;
  selfSize: Float64Array;
  /** Self size plus the backing stores it owns alone (elements, properties, a Map's table): a list's length. */
  ownSize: Float64Array;
  /** Retainers of node i: retainerStart[i] .. retainerStart[i + 1] in retainerNode / retainerEdge. */
  retainerStart: Uint32Array;
  retainerNode: Uint32Array;
  retainerEdge: string[];
}

/** Parses a snapshot and indexes who retains whom (weak edges left out). */
export function readHeap(file: string): Heap {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const m = raw.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const fType = m.node_fields.indexOf('type');
  const fName = m.node_fields.indexOf('name');
  const fId = m.node_fields.indexOf('id');
  const fSize = m.node_fields.indexOf('self_size');
  const fEdges = m.node_fields.indexOf('edge_count');
  const eType = m.edge_fields.indexOf('type');
  const eName = m.edge_fields.indexOf('name_or_index');
  const eTo = m.edge_fields.indexOf('to_node');
  const nodeTypes = m.node_types[0];
  const edgeTypes = m.edge_types[0];
  const count = raw.nodes.length / nf;
  const type: string[] = new Array<string>(count);
  const name: string[] = new Array<string>(count);
  const id = new Float64Array(count);
  const selfSize = new Float64Array(count);
  const inDegree = new Uint32Array(count + 1);
  const from: number[] = [];
  const to: number[] = [];
  const label: string[] = [];
  const owned: number[] = [];
  let e = 0;
  for (let i = 0; i < count; i++) {
    const b = i * nf;
    type[i] = nodeTypes[raw.nodes[b + fType]];
    name[i] = raw.strings[raw.nodes[b + fName]] ?? '';
    id[i] = raw.nodes[b + fId];
    selfSize[i] = raw.nodes[b + fSize];
    const edges = raw.nodes[b + fEdges];
    for (let k = 0; k < edges; k++, e += ef) {
      const t = edgeTypes[raw.edges[e + eType]];
      if (t === 'weak') continue;
      const target = raw.edges[e + eTo] / nf;
      const n = raw.edges[e + eName];
      from.push(i);
      to.push(target);
      label.push(t === 'element' || t === 'hidden' ? `[${n}]` : (raw.strings[n] ?? String(n)));
      if (t === 'internal' && /^(elements|properties|table)$/.test(raw.strings[n] ?? ''))
        owned.push(i, target);
      inDegree[target]++;
    }
  }
  const ownSize = selfSize.slice();
  for (let k = 0; k < owned.length; k += 2) ownSize[owned[k]] += selfSize[owned[k + 1]];
  const retainerStart = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) retainerStart[i + 1] = retainerStart[i] + inDegree[i];
  const fill = retainerStart.slice(0, count);
  const retainerNode = new Uint32Array(from.length);
  const retainerEdge = new Array<string>(from.length);
  for (let k = 0; k < from.length; k++) {
    const at = fill[to[k]]++;
    retainerNode[at] = from[k];
    retainerEdge[at] = label[k];
  }
  return { count, type, name, id, selfSize, ownSize, retainerStart, retainerNode, retainerEdge };
}

/** The group an object counts in: its constructor name for objects, its node type otherwise. */
export function groupOf(h: Heap, i: number): string {
  const t = h.type[i];
  if (t === 'object' || t === 'native') return `${t} ${h.name[i]}`;
  if (t === 'closure') return `closure ${h.name[i] || '(anonymous)'}`;
  // V8's compiled code by kind: bytecode, feedback vectors, baseline and optimised instruction streams ("for f"
  // dropped, so one kind is one group); a plain name is a function's shared info.
  if (t === 'code') {
    const n = h.name[i];
    return /^(system \/ |\()/.test(n) ? `(code) ${n.replace(/ for .*\)$/, ')')}` : '(code) function info';
  }
  return `(${t})`;
}

export interface Group {
  count: number;
  size: number;
}

export function groups(h: Heap): Map<string, Group> {
  const out = new Map<string, Group>();
  for (let i = 0; i < h.count; i++) {
    const g = groupOf(h, i);
    const v = out.get(g) ?? { count: 0, size: 0 };
    v.count++;
    v.size += h.selfSize[i];
    out.set(g, v);
  }
  return out;
}

/** A retainer path from node i towards a root: the first retainer at each step that was not yet visited. */
export function retainerPath(h: Heap, i: number, depth = 14): string[] {
  const seen = new Set<number>([i]);
  const out: string[] = [];
  let at = i;
  for (let d = 0; d < depth; d++) {
    let next = -1;
    let edge = '';
    for (let k = h.retainerStart[at]; k < h.retainerStart[at + 1]; k++) {
      const r = h.retainerNode[k];
      if (seen.has(r)) continue;
      // Prefer a retainer that is not the GC's own bookkeeping.
      if (next < 0 || (h.type[next] === 'synthetic' && h.type[r] !== 'synthetic')) {
        next = r;
        edge = h.retainerEdge[k];
      }
    }
    if (next < 0) break;
    out.push(`.${edge} in ${groupOf(h, next)}`);
    if (h.type[next] === 'synthetic') break;
    seen.add(next);
    at = next;
  }
  return out;
}

function main(): void {
  const flags = parseFlags();
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--') && /heapsnapshot$/.test(a));
  if (files.length !== 2) {
    console.error('usage: heap-diff first.heapsnapshot second.heapsnapshot [--top 25] [--paths 6]');
    process.exit(2);
  }
  const top = numberFlag(flags, 'top', 25);
  const paths = numberFlag(flags, 'paths', 6);
  const a = readHeap(files[0]);
  const ga = groups(a);
  const idsA = new Set<number>();
  const sizeA = new Map<number, number>();
  for (let i = 0; i < a.count; i++) {
    idsA.add(a.id[i]);
    if (a.type[i] === 'object') sizeA.set(a.id[i], a.ownSize[i]);
  }
  const b = readHeap(files[1]);
  const gb = groups(b);
  const rows = [...gb.entries()]
    .map(([g, v]) => {
      const o = ga.get(g) ?? { count: 0, size: 0 };
      return { g, dCount: v.count - o.count, dSize: v.size - o.size, count: v.count, size: v.size };
    })
    .sort((x, y) => y.dSize - x.dSize);
  const total = (gs: Map<string, Group>) => [...gs.values()].reduce((s, v) => s + v.size, 0);
  console.log(
    `${files[0]}: ${a.count} objects, ${(total(ga) / 1e6).toFixed(2)} MB; ` +
      `${files[1]}: ${b.count} objects, ${(total(gb) / 1e6).toFixed(2)} MB`,
  );
  printTable([
    ['group', 'Δ count', 'Δ kB', 'count', 'kB'],
    ...rows.slice(0, top).map((r) => [r.g, r.dCount, r.dSize / 1e3, r.count, r.size / 1e3]),
  ]);
  // Objects and arrays in both snapshots that grew in place (a list or a map that only gets longer).
  const grown: { i: number; by: number }[] = [];
  for (let i = 0; i < b.count; i++) {
    const before = sizeA.get(b.id[i]);
    if (before !== undefined && b.ownSize[i] > before) grown.push({ i, by: b.ownSize[i] - before });
  }
  grown.sort((x, y) => y.by - x.by);
  console.log(`\n${grown.length} objects grew in place; the largest:`);
  for (const { i, by } of grown.slice(0, 5)) {
    console.log(
      `  ${groupOf(b, i)} +${(by / 1e3).toFixed(1)} kB (now ${(b.ownSize[i] / 1e3).toFixed(1)} kB):`,
    );
    for (const step of retainerPath(b, i, 8)) console.log(`    ${step}`);
  }
  for (const r of rows.slice(0, paths)) {
    if (r.dCount <= 0) continue;
    // The objects of this group that are new in the second snapshot, grouped by where they hang (the first
    // steps of their retainer path, element indexes left out): where the growth is, with a full sample path.
    const fresh: number[] = [];
    for (let i = 0; i < b.count; i++) if (!idsA.has(b.id[i]) && groupOf(b, i) === r.g) fresh.push(i);
    if (fresh.length === 0) continue;
    const bySite = new Map<string, { count: number; size: number; sample: number }>();
    for (const i of fresh) {
      const site = retainerPath(b, i, 4)
        .map((step) => step.replace(/\.\[?\d+\]? in/, '.[i] in'))
        .join(' < ');
      const v = bySite.get(site) ?? { count: 0, size: 0, sample: i };
      v.count++;
      v.size += b.selfSize[i];
      bySite.set(site, v);
    }
    console.log(`\n${r.g}: ${fresh.length} new, by where they hang:`);
    const sites = [...bySite.entries()].sort((x, y) => y[1].size - x[1].size || y[1].count - x[1].count);
    for (const [site, v] of sites.slice(0, 4))
      console.log(`  ${v.count} new, ${(v.size / 1e3).toFixed(1)} kB: ${site}`);
    const first = sites[0][1].sample;
    console.log('  sample path of the first:');
    for (const step of retainerPath(b, first)) console.log(`    ${step}`);
  }
}

if (require.main === module) main();
