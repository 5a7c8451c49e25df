/**
 * The import graph of the repository and the layer rules of docs/ARCHITECTURE.md, checked over it.
 *
 * `readImportGraph` parses every .ts file under the given folders with the TypeScript compiler (static and
 * dynamic imports, `export … from`, `require`, `import('…')` types) and resolves relative imports to repo
 * paths. `checkLayers` is a pure function of a graph and a layout, so the test runs it both on the real
 * graph and on small made-up graphs that contain one forbidden edge or one cycle.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Repo-relative path of the importing file, with forward slashes. */
  from: string;
  /** Repo-relative path of the imported file, or the package specifier (`node-red`, `node:fs`). */
  to: string;
  /** True when the import brings in types only (erased by tsc). */
  typeOnly: boolean;
  /** 1-based line of the import, for messages. */
  line: number;
}

export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
}

export interface Layout {
  /** Layer name to the feature folders under nodes/ that belong to it. */
  layers: Record<string, string[]>;
  /** The simulator's folder: no analytics folder may import it. */
  simulator: string;
  /** Adaptor files (Node-RED node entry points), repo-relative. */
  adaptors: ReadonlySet<string>;
}

export type Rule =
  | 'unclassified-folder'
  | 'node-red-in-engine'
  | 'node-red-in-library'
  | 'core-imports-feature'
  | 'analytics-imports-simulator'
  | 'io-imports-analytics'
  | 'nodes-import-test-or-bench'
  | 'bench-imports-test'
  | 'test-imports-bench'
  | 'folder-cycle'
  | 'file-cycle';

export interface Violation {
  rule: Rule;
  /** What is wrong, with the files (and line) involved. */
  detail: string;
}

/** The layer map of test/arch/layers.json plus the adaptor files named by package.json. */
export function readLayout(root: string): Layout {
  const json = JSON.parse(readFileSync(join(root, 'test', 'arch', 'layers.json'), 'utf8')) as {
    layers: Record<string, string[]>;
    simulator: string;
  };
  const files = listTs(root, ['nodes']);
  return { layers: json.layers, simulator: json.simulator, adaptors: adaptorFiles(root, files) };
}

/**
 * Adaptor files: every entry of package.json's `node-red.nodes` (dist/nodes/x/y.js → nodes/x/y.ts) and every
 * `*.node.ts` file, so the set holds after adaptors are renamed to `<node>.node.ts`.
 */
export function adaptorFiles(root: string, files: readonly string[]): Set<string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    'node-red': { nodes: Record<string, string> };
  };
  const out = new Set<string>();
  for (const js of Object.values(pkg['node-red'].nodes))
    out.add(js.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
  for (const f of files) if (f.endsWith('.node.ts')) out.add(f);
  return out;
}

/** Every .ts file below the given folders of root, repo-relative with forward slashes, sorted. */
export function listTs(root: string, dirs: readonly string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) return walk(full);
      return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
    });
  return dirs
    .filter((d) => existsSync(join(root, d)))
    .flatMap((d) => walk(join(root, d)))
    .map((f) => relative(root, f).split(sep).join('/'))
    .sort();
}

/** The imports of one source text: specifier, type-only or not, line. */
export function importsOf(
  fileName: string,
  text: string,
): { specifier: string; typeOnly: boolean; line: number }[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { specifier: string; typeOnly: boolean; line: number }[] = [];
  const add = (lit: ts.Node, typeOnly: boolean) => {
    if (ts.isStringLiteralLike(lit))
      out.push({
        specifier: lit.text,
        typeOnly,
        line: sf.getLineAndCharacterOfPosition(lit.getStart()).line + 1,
      });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const c = n.importClause;
      const named =
        c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly =
        !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
      const named = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements : undefined;
      add(
        n.moduleSpecifier,
        n.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)),
      );
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      add(n.moduleReference.expression, n.isTypeOnly);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
      add(n.argument.literal, true);
    } else if (ts.isCallExpression(n) && n.arguments.length === 1) {
      const isImport = n.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(n.expression) && n.expression.text === 'require';
      if (isImport || isRequire) add(n.arguments[0], false);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Parses the .ts files below `dirs` of `root` into a graph; relative imports resolve to repo paths. */
export function readImportGraph(root: string, dirs: readonly string[]): ImportGraph {
  const files = listTs(root, dirs);
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const imp of importsOf(from, readFileSync(join(root, from), 'utf8'))) {
      let to = imp.specifier;
      if (to.startsWith('.')) {
        const p = posix.normalize(posix.join(posix.dirname(from), to));
        to = [`${p}.ts`, `${p}/index.ts`, p].find((c) => existsSync(join(root, c))) ?? p;
      }
      edges.push({ from, to, typeOnly: imp.typeOnly, line: imp.line });
    }
  }
  return { files, edges };
}

/** The feature folder of a file under nodes/ (`nodes/spc/charts.ts` → `spc`), or undefined. */
export function folderOf(file: string): string | undefined {
  const m = /^nodes\/([^/]+)\//.exec(file);
  return m ? m[1] : undefined;
}

const isNodeRed = (to: string) => to === 'node-red' || to.startsWith('@node-red/');
const where = (e: ImportEdge) => `${e.from}:${e.line} imports ${e.to}`;

/** The strongly connected components with more than one member (Tarjan), each sorted. */
export function cycles(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const connect = (v: string): void => {
    index.set(v, i);
    low.set(v, i++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) connect(n);
  return out;
}

/** Every breach of the layer rules in a graph (docs/ARCHITECTURE.md, "Import rules"). */
export function checkLayers(graph: ImportGraph, layout: Layout): Violation[] {
  const out: Violation[] = [];
  const layerOf = new Map<string, string>();
  for (const [layer, folders] of Object.entries(layout.layers))
    for (const f of folders) layerOf.set(f, layer);
  const analytics = new Set(layout.layers.analytics ?? []);
  const io = new Set(layout.layers.io ?? []);
  const inNodes = graph.files.filter((f) => f.startsWith('nodes/'));

  for (const folder of new Set(inNodes.map(folderOf)))
    if (folder !== undefined && !layerOf.has(folder))
      out.push({
        rule: 'unclassified-folder',
        detail: `nodes/${folder}/ is in no layer of test/arch/layers.json`,
      });

  const known = new Set(graph.files);
  const internal = graph.edges.filter((e) => known.has(e.to));
  for (const e of graph.edges) {
    const src = folderOf(e.from);
    const dst = folderOf(e.to);
    if (e.from.startsWith('nodes/')) {
      if (isNodeRed(e.to) && !e.typeOnly && !layout.adaptors.has(e.from))
        out.push({ rule: 'node-red-in-engine', detail: `${where(e)} (only adaptors may load Node-RED)` });
      if (src === 'core' && e.to.startsWith('nodes/') && dst !== 'core')
        out.push({ rule: 'core-imports-feature', detail: where(e) });
      if (src !== undefined && analytics.has(src) && dst === layout.simulator)
        out.push({ rule: 'analytics-imports-simulator', detail: where(e) });
      if (src !== undefined && io.has(src) && dst !== undefined && analytics.has(dst))
        out.push({
          rule: 'io-imports-analytics',
          detail: `${where(e)} (readers, writers and the simulator sit below analytics)`,
        });
      if (/^(test|bench)\//.test(e.to)) out.push({ rule: 'nodes-import-test-or-bench', detail: where(e) });
    } else if (e.from.startsWith('bench/') && e.to.startsWith('test/') && !e.to.startsWith('test/helpers/'))
      out.push({ rule: 'bench-imports-test', detail: `${where(e)} (benches may import test/helpers/ only)` });
    else if (e.from.startsWith('test/') && e.to.startsWith('bench/') && !e.to.startsWith('bench/lib/'))
      out.push({ rule: 'test-imports-bench', detail: `${where(e)} (tests may import bench/lib/ only)` });
  }

  // The library API (nodes/index.ts and all it reaches) is Node-RED-free, types included: its .d.ts files must
  // type-check for a user who has no Node-RED installed.
  const out1 = new Map<string, ImportEdge[]>();
  for (const e of graph.edges) out1.set(e.from, [...(out1.get(e.from) ?? []), e]);
  const seen = new Set<string>();
  const todo = known.has('nodes/index.ts') ? ['nodes/index.ts'] : [];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const e of out1.get(f) ?? []) {
      if (isNodeRed(e.to))
        out.push({ rule: 'node-red-in-library', detail: `${where(e)} (reached from nodes/index.ts)` });
      else if (known.has(e.to)) todo.push(e.to);
    }
  }

  const folderEdges = new Map<string, Set<string>>();
  for (const e of internal) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a !== undefined && b !== undefined && a !== b)
      folderEdges.set(a, (folderEdges.get(a) ?? new Set()).add(b));
  }
  for (const c of cycles(folderEdges.keys(), (f) => folderEdges.get(f) ?? []))
    out.push({
      rule: 'folder-cycle',
      detail: `feature folders import each other: ${c.join(', ')} (${internal
        .filter(
          (e) =>
            c.includes(folderOf(e.from) ?? '') &&
            c.includes(folderOf(e.to) ?? '') &&
            folderOf(e.from) !== folderOf(e.to),
        )
        .map(where)
        .join('; ')})`,
    });

  const fileEdges = new Map<string, string[]>();
  for (const e of internal) fileEdges.set(e.from, [...(fileEdges.get(e.from) ?? []), e.to]);
  for (const c of cycles(graph.files, (f) => fileEdges.get(f) ?? []))
    out.push({ rule: 'file-cycle', detail: `files import each other: ${c.join(', ')}` });
  return out;
}
