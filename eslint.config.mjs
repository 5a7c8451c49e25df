import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Layer rules (docs/ARCHITECTURE.md, "Import rules"); test/arch/imports.test.ts checks the same rules, and
// cycles, over the whole import graph. The folders of each layer come from test/arch/layers.json.
const json = (f) => JSON.parse(readFileSync(new URL(f, import.meta.url), 'utf8'));
const { layers, simulator } = json('./test/arch/layers.json');
// Adaptors: package.json's node-red.nodes entries (dist/nodes/x/y.js -> nodes/x/y.ts) and any <node>.node.ts.
const registered = Object.values(json('./package.json')['node-red'].nodes).map((f) =>
  f.replace(/^dist\//, '').replace(/\.js$/, '.ts'),
);
const analytics = layers.analytics;
const io = layers.io;
const glob = (folders, tail) =>
  folders.length === 1 ? `nodes/${folders[0]}/${tail}` : `nodes/{${folders}}/${tail}`;
const inFolders = (folders) => (f) => folders.some((d) => f.startsWith(`nodes/${d}/`));
const restrict = (...patterns) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    { paths: patterns.flatMap((p) => p.paths ?? []), patterns: patterns.flatMap((p) => p.patterns ?? []) },
  ],
});
const noTestOrBench = {
  patterns: [
    { regex: '^(\\.\\./)+(test|bench)(/|$)', message: 'nodes/ imports nothing from test/ or bench/.' },
  ],
};
const noNodeRed = {
  paths: [
    {
      name: 'node-red',
      allowTypeImports: true,
      message: 'Only adaptors load Node-RED; an engine takes typed values.',
    },
  ],
  patterns: [{ group: ['@node-red/*'], allowTypeImports: true, message: 'Only adaptors load Node-RED.' }],
};
const noSimulator = {
  patterns: [
    {
      regex: `^(\\.\\./)+${simulator}(/|$)`,
      message: 'Analytics import nothing from the simulator (move shared pieces to core).',
    },
  ],
};
const noAnalytics = {
  patterns: [
    {
      regex: `^(\\.\\./)+(${analytics.join('|')})(/|$)`,
      message: 'Readers, writers and the simulator import no analytics folder (move shared pieces to core).',
    },
  ],
};
// nodes/core/<file>.ts reaches a feature through one '../', a file one folder deeper through two, and so on.
const coreAt = (depth) => ({
  patterns: [{ regex: `^(\\.\\./){${depth}}(?!core(/|$))`, message: 'core imports no feature folder.' }],
});
const layerRules = [
  { files: ['nodes/**/*.ts'], rules: restrict(noTestOrBench, noNodeRed) },
  { files: [glob(analytics, '**/*.ts')], rules: restrict(noTestOrBench, noNodeRed, noSimulator) },
  { files: [glob(io, '**/*.ts')], rules: restrict(noTestOrBench, noNodeRed, noAnalytics) },
  { files: ['nodes/core/*.ts'], rules: restrict(noTestOrBench, noNodeRed, coreAt(1)) },
  { files: ['nodes/core/*/*.ts'], rules: restrict(noTestOrBench, noNodeRed, coreAt(2)) },
  { files: ['nodes/core/*/*/*.ts'], rules: restrict(noTestOrBench, noNodeRed, coreAt(3)) },
  {
    files: [...registered.filter((f) => !inFolders(analytics)(f)), 'nodes/**/*.node.ts'],
    rules: restrict(noTestOrBench),
  },
  {
    files: [...registered.filter(inFolders(analytics)), glob(analytics, '**/*.node.ts')],
    rules: restrict(noTestOrBench, noSimulator),
  },
  {
    files: [...registered.filter(inFolders(io)), glob(io, '**/*.node.ts')],
    rules: restrict(noTestOrBench, noAnalytics),
  },
  {
    files: ['bench/**/*.ts'],
    rules: restrict({
      patterns: [
        { regex: '^(\\.\\./)+test/(?!helpers/)', message: 'Benches import only test/helpers/ from test/.' },
      ],
    }),
  },
  {
    files: ['test/**/*.ts'],
    rules: restrict({
      patterns: [
        { regex: '^(\\.\\./)+bench/(?!lib/)', message: 'Tests import only bench/lib/ from bench/.' },
      ],
    }),
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.takt/', 'examples/', 'flows/*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  ...layerRules,
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
