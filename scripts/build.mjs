// Build: compile TypeScript to dist/ and put each node's editor assets where the Node-RED loader looks
// for them (see STYLE.md section 0): <node>.html and locales/ next to the compiled <node>.js, and an
// icons/ folder next to every compiled node file.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
const tsc = require.resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

/** Every file below dir, as paths relative to dir. */
function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full).map((f) => join(name, f)) : [name];
  });
}

const nodesSrc = join(root, 'nodes');
let copied = 0;
for (const file of walk(nodesSrc)) {
  // Editor templates, message catalogues and help, shipped model files (nodes/<feature>/models/*.onnx|json),
  // and plain JavaScript modules with their hand-written types (nodes/core/tap-registry.js), shipped as they are.
  const parts = file.split(/[\\/]/);
  if (
    file.endsWith('.html') ||
    file.endsWith('.js') ||
    file.endsWith('.d.ts') ||
    parts.includes('locales') ||
    (parts.at(-2) === 'models' && /\.(onnx|json)$/.test(file))
  ) {
    const to = join(dist, 'nodes', file);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(nodesSrc, file), to);
    copied++;
  }
}

// icons/: one copy next to each folder that holds a registered node file.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const nodeDirs = new Set(Object.values(pkg['node-red'].nodes).map((f) => dirname(join(root, f))));
for (const d of nodeDirs) {
  if (!existsSync(d)) {
    console.error(
      `build: package.json lists a node in ${relative(root, d)}, which the build did not produce`,
    );
    process.exit(1);
  }
  cpSync(join(root, 'icons'), join(d, 'icons'), { recursive: true });
}
console.log(`build: compiled, ${copied} editor, locale and model files, icons in ${nodeDirs.size} folder(s)`);
