/**
 * The layer rules of docs/ARCHITECTURE.md over the real import graph (every .ts file under nodes/, test/ and
 * bench/), and the checker itself on small graphs that break one rule each, so a forbidden import or a cycle
 * is shown to fail. The last test runs ESLint's own config on the same cases.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from '../helpers/paths';
import {
  checkLayers,
  cycles,
  type ImportEdge,
  type ImportGraph,
  importsOf,
  type Layout,
  readImportGraph,
  readLayout,
  type Rule,
} from './layers';

const rulesOf = (g: ImportGraph, layout: Layout): Rule[] => checkLayers(g, layout).map((v) => v.rule);

describe('arch/import graph of the repository', () => {
  const layout = readLayout(ROOT);
  const graph = readImportGraph(ROOT, ['nodes', 'test', 'bench']);

  it('parses every source file and resolves every relative import to a file', () => {
    assert.ok(graph.files.filter((f) => f.startsWith('nodes/')).length > 100);
    const relativeEdges = graph.edges.filter((e) => /^(\.|nodes\/|test\/|bench\/)/.test(e.to));
    assert.ok(relativeEdges.length > 500);
    assert.deepEqual(
      relativeEdges.filter((e) => !graph.files.includes(e.to) && !existsSync(join(ROOT, e.to))),
      [],
    );
  });

  it('names the adaptors from package.json, and each is a file', () => {
    assert.ok(layout.adaptors.has('nodes/spc/spc.node.ts'));
    assert.ok(layout.adaptors.has('nodes/forecast/inventory.node.ts'));
    assert.ok(!layout.adaptors.has('nodes/spc/charts.ts'));
    for (const a of layout.adaptors) assert.ok(graph.files.includes(a), `${a} (package.json) does not exist`);
  });

  it('holds every layer rule, with no cycle between folders or files', () => {
    const found = checkLayers(graph, layout);
    assert.deepEqual(found, [], found.map((v) => `${v.rule}: ${v.detail}`).join('\n'));
  });

  it('fails once a forbidden import is added to the real graph', () => {
    const add = (from: string, to: string): ImportGraph => ({
      files: graph.files,
      edges: [...graph.edges, { from, to, typeOnly: false, line: 1 }],
    });
    assert.deepEqual(rulesOf(add('nodes/vibration/features.ts', 'nodes/sim/engine.ts'), layout), [
      'analytics-imports-simulator',
    ]);
    assert.deepEqual(rulesOf(add('nodes/sim/camera.ts', 'nodes/vision/model.ts'), layout), [
      'io-imports-analytics',
    ]);
    assert.deepEqual(rulesOf(add('nodes/spc/charts.ts', 'node-red'), layout), [
      'node-red-in-engine',
      'node-red-in-library',
    ]);
    // core importing a feature is also a folder cycle (every feature imports core).
    assert.deepEqual(rulesOf(add('nodes/core/errors.ts', 'nodes/spc/charts.ts'), layout), [
      'core-imports-feature',
      'folder-cycle',
      'file-cycle',
    ]);
    assert.deepEqual(rulesOf(add('nodes/anomaly/anomaly.node.ts', 'nodes/models/source.ts'), layout), [
      'folder-cycle',
    ]);
  });
});

describe('arch/checkLayers on small graphs', () => {
  const layout: Layout = {
    layers: { core: ['core'], io: ['sim', 'mqtt'], analytics: ['spc', 'anomaly', 'models'] },
    simulator: 'sim',
    adaptors: new Set(['nodes/spc/spc.ts', 'nodes/sim/sim.node.ts']),
  };
  const files = [
    'nodes/index.ts',
    'nodes/core/errors.ts',
    'nodes/core/time.ts',
    'nodes/sim/engine.ts',
    'nodes/sim/sim.node.ts',
    'nodes/mqtt/codec.ts',
    'nodes/spc/charts.ts',
    'nodes/spc/config.ts',
    'nodes/spc/spc.ts',
    'nodes/anomaly/live.ts',
    'nodes/models/registry.ts',
    'test/helpers/net.ts',
    'test/spc/charts.test.ts',
    'bench/lib/cli.ts',
    'bench/spc.ts',
  ];
  const e = (from: string, to: string, typeOnly = false): ImportEdge => ({ from, to, typeOnly, line: 1 });
  const clean: ImportEdge[] = [
    e('nodes/index.ts', 'nodes/spc/charts.ts'),
    e('nodes/index.ts', 'nodes/sim/engine.ts'),
    e('nodes/core/time.ts', 'nodes/core/errors.ts'),
    e('nodes/sim/engine.ts', 'nodes/core/time.ts'),
    e('nodes/sim/engine.ts', 'nodes/mqtt/codec.ts'),
    e('nodes/sim/sim.node.ts', 'node-red'),
    e('nodes/sim/sim.node.ts', 'nodes/sim/engine.ts'),
    e('nodes/spc/charts.ts', 'nodes/core/errors.ts'),
    e('nodes/spc/config.ts', 'node-red', true),
    e('nodes/spc/spc.ts', 'node-red'),
    e('nodes/spc/spc.ts', 'nodes/spc/config.ts'),
    e('nodes/spc/spc.ts', 'nodes/spc/charts.ts'),
    e('nodes/models/registry.ts', 'nodes/anomaly/live.ts'),
    e('test/spc/charts.test.ts', 'nodes/spc/charts.ts'),
    e('test/spc/charts.test.ts', 'test/helpers/net.ts'),
    e('test/spc/charts.test.ts', 'bench/lib/cli.ts'),
    e('bench/spc.ts', 'bench/lib/cli.ts'),
    e('bench/spc.ts', 'test/helpers/net.ts'),
    e('bench/spc.ts', 'nodes/sim/engine.ts'),
  ];
  const withEdge = (x: ImportEdge): ImportGraph => ({ files, edges: [...clean, x] });

  it('finds nothing in a graph that keeps the rules (type-only Node-RED imports outside the library allowed)', () => {
    assert.deepEqual(checkLayers({ files, edges: clean }, layout), []);
  });

  const cases: [string, ImportEdge, Rule[]][] = [
    [
      'an engine loading Node-RED',
      e('nodes/spc/charts.ts', 'node-red'),
      ['node-red-in-engine', 'node-red-in-library'],
    ],
    [
      'an engine loading @node-red/util',
      e('nodes/anomaly/live.ts', '@node-red/util'),
      ['node-red-in-engine'],
    ],
    [
      'a library engine importing Node-RED types',
      e('nodes/spc/charts.ts', 'node-red', true),
      ['node-red-in-library'],
    ],
    [
      'a library engine importing an adaptor helper',
      e('nodes/spc/charts.ts', 'nodes/spc/config.ts'),
      ['node-red-in-library'],
    ],
    ['core importing a feature', e('nodes/core/errors.ts', 'nodes/mqtt/codec.ts'), ['core-imports-feature']],
    [
      'an analytics engine importing the simulator',
      e('nodes/anomaly/live.ts', 'nodes/sim/engine.ts'),
      ['analytics-imports-simulator'],
    ],
    [
      'an analytics adaptor importing the simulator (types too)',
      e('nodes/spc/spc.ts', 'nodes/sim/engine.ts', true),
      ['analytics-imports-simulator'],
    ],
    [
      'nodes importing a test helper',
      e('nodes/mqtt/codec.ts', 'test/helpers/net.ts'),
      ['nodes-import-test-or-bench'],
    ],
    ['nodes importing a bench', e('nodes/mqtt/codec.ts', 'bench/lib/cli.ts'), ['nodes-import-test-or-bench']],
    ['a bench importing a test', e('bench/spc.ts', 'test/spc/charts.test.ts'), ['bench-imports-test']],
    ['a test importing a bench script', e('test/spc/charts.test.ts', 'bench/spc.ts'), ['test-imports-bench']],
    [
      'two feature folders importing each other',
      e('nodes/anomaly/live.ts', 'nodes/models/registry.ts'),
      ['folder-cycle', 'file-cycle'],
    ],
    ['two files importing each other', e('nodes/core/errors.ts', 'nodes/core/time.ts'), ['file-cycle']],
  ];
  for (const [what, edge, rules] of cases)
    it(`reports ${what}`, () => {
      assert.deepEqual(rulesOf(withEdge(edge), layout), rules);
    });

  it('reports a folder cycle through three folders, naming the edges', () => {
    const g = {
      files,
      edges: [
        ...clean,
        e('nodes/mqtt/codec.ts', 'nodes/spc/charts.ts'),
        e('nodes/spc/charts.ts', 'nodes/sim/engine.ts', true),
      ],
    };
    const found = checkLayers(g, layout);
    assert.deepEqual(
      found.map((v) => v.rule),
      ['io-imports-analytics', 'analytics-imports-simulator', 'folder-cycle', 'file-cycle'],
    );
    assert.match(found[2].detail, /mqtt, sim, spc/);
    assert.match(found[2].detail, /nodes\/spc\/charts\.ts:1 imports nodes\/sim\/engine\.ts/);
  });

  it('reports a folder under nodes/ that is in no layer', () => {
    const g = { files: [...files, 'nodes/fleet/lease.ts'], edges: clean };
    assert.deepEqual(rulesOf(g, layout), ['unclassified-folder']);
  });

  it('finds strongly connected components (Tarjan)', () => {
    const next: Record<string, string[]> = {
      a: ['b'],
      b: ['c'],
      c: ['a', 'd'],
      d: ['e'],
      e: ['d'],
      f: ['f', 'a'],
    };
    assert.deepEqual(
      cycles(Object.keys(next), (n) => next[n] ?? []),
      [
        ['d', 'e'],
        ['a', 'b', 'c'],
      ],
    );
  });
});

describe('arch/importsOf', () => {
  it('finds every kind of import and tells type-only ones apart', () => {
    const src = [
      "import a from './a';",
      "import type { B } from './b';",
      "import { type C1, type C2 } from './c';",
      "import { type D1, D2 } from './d';",
      "import './e';",
      "export * from './f';",
      "export type { G } from './g';",
      "import h = require('./h');",
      'const i = require("./i");',
      "const j = await import('./j');",
      "let k: typeof import('./k');",
      "// import { x } from './not-an-import';",
    ].join('\n');
    assert.deepEqual(importsOf('x.ts', src), [
      { specifier: './a', typeOnly: false, line: 1 },
      { specifier: './b', typeOnly: true, line: 2 },
      { specifier: './c', typeOnly: true, line: 3 },
      { specifier: './d', typeOnly: false, line: 4 },
      { specifier: './e', typeOnly: false, line: 5 },
      { specifier: './f', typeOnly: false, line: 6 },
      { specifier: './g', typeOnly: true, line: 7 },
      { specifier: './h', typeOnly: false, line: 8 },
      { specifier: './i', typeOnly: false, line: 9 },
      { specifier: './j', typeOnly: false, line: 10 },
      { specifier: './k', typeOnly: true, line: 11 },
    ]);
  });
});

describe('arch/eslint import rules (eslint.config.mjs)', function () {
  this.timeout(120_000);
  const cases: [file: string, code: string, errors: number][] = [
    ['nodes/spc/x.ts', "import { a } from 'node-red';", 1],
    ['nodes/spc/x.ts', "import type { NodeAPI } from 'node-red';", 0],
    ['nodes/spc/spc.node.ts', "import { a } from 'node-red';", 0],
    ['nodes/vision/camera.node.ts', "import { a } from 'node-red';", 0],
    ['nodes/spc/x.ts', "import { a } from '../sim/engine';", 1],
    ['nodes/spc/spc.node.ts', "import { a } from '../sim/engine';", 1],
    ['nodes/vision/camera.node.ts', "import { a } from '../sim/engine';", 1],
    ['nodes/uns/x.ts', "import { a } from '../sim/engine';", 0],
    ['nodes/sim/x.ts', "import { a } from '../vision/synth';", 1],
    ['nodes/sim/sim.node.ts', "import { a } from '../vision/model';", 1],
    ['nodes/mqtt/x.ts', "import { a } from '../mqtt/codec';", 0],
    ['nodes/core/x.ts', "import { a } from '../spc/charts';", 1],
    ['nodes/core/x.ts', "import { a } from './errors';", 0],
    ['nodes/core/onnx/x.ts', "import { a } from '../errors';", 0],
    ['nodes/core/onnx/x.ts', "import { a } from '../../spc/charts';", 1],
    ['nodes/uns/x.ts', "import { a } from '../../test/helpers/net';", 1],
    ['bench/x.ts', "import { a } from '../test/influx/out.node.test';", 1],
    ['bench/x.ts', "import { a } from '../test/helpers/net';", 0],
    ['test/spc/x.ts', "import { a } from '../../bench/spc';", 1],
    ['test/spc/x.ts', "import { a } from '../../bench/lib/cli';", 0],
  ];
  it('reports the same forbidden imports as the graph check', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const got: [string, string, number][] = [];
    for (const [file, code] of cases) {
      const [r] = await eslint.lintText(`${code}\nexport const used = a;\n`, { filePath: join(ROOT, file) });
      got.push([
        file,
        code,
        r.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').length,
      ]);
    }
    assert.deepEqual(got, cases);
  });
});
