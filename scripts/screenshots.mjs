// npm run screenshots: runs the browser tests (test/browser/dashboard.test.ts, inspection.test.ts) against the real
// runtime and keeps its screenshots in docs/screenshots/, the pictures the README shows. CI=true makes a
// missing chromium an error instead of a skipped test, so this never "succeeds" without pictures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs', 'screenshots');
const tests = ['dashboard.test.js', 'inspection.test.js'].map((f) =>
  join(root, 'dist', 'test', 'browser', f),
);
if (!tests.every((t) => existsSync(t))) {
  console.error('screenshots: the browser tests are missing from dist/test/browser: run npm run build first');
  process.exit(1);
}
mkdirSync(out, { recursive: true });
const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
const started = Date.now();
const r = spawnSync(
  process.execPath,
  [mocha, '--no-config', '--timeout', '20000', '--exit', '--enable-source-maps', ...tests],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TAKT_SCREENSHOTS: out, CI: 'true' } },
);
if (r.status !== 0) process.exit(r.status ?? 1);
const fresh = readdirSync(out).filter((f) => f.endsWith('.png') && statSync(join(out, f)).mtimeMs >= started);
if (fresh.length === 0) {
  console.error('screenshots: the browser test wrote no screenshots');
  process.exit(1);
}
console.log(`screenshots: ${fresh.sort().join(', ')} in docs/screenshots/`);
