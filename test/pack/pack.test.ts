/**
 * What a user gets: `npm pack`, then `npm install <tgz>` into a fresh Node-RED userDir, then Node-RED
 * loads every node type of the pack with its editor file, help, message catalogue and icon.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths';
import { getJson, type NodeSet, type Runtime, startRuntime } from '../helpers/runtime';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg: { name: string; 'node-red': { nodes: Record<string, string> } } = require(
  join(ROOT, 'package.json'),
);

function npm(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300000,
  });
  if (r.status !== 0)
    throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('npm pack installs into a fresh Node-RED userDir', function () {
  this.timeout(360000);
  let work: string;
  let files: string[] = [];
  let rt: Runtime | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'takt-pack-'));
    // The test run has built dist/ already (pretest): pack it as is.
    const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    files = info.files.map((f) => f.path);
    const userDir = join(work, 'userdir');
    mkdirSync(userDir);
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    writeFileSync(join(userDir, '.npmrc'), 'fund=false\naudit=false\n');
    // As the README tells offline users: skip onnxruntime-node's CUDA download.
    npm(['install', '--prefer-offline', join(work, info.filename)], userDir, {
      ONNXRUNTIME_NODE_INSTALL: 'skip',
    });
  });

  after(async () => {
    await rt?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('ships compiled nodes with their editor files, help, catalogues, icons and examples, and no tests', () => {
    for (const file of Object.values(pkg['node-red'].nodes)) {
      const base = file.replace(/\.js$/, '');
      assert.ok(files.includes(file), `${file} in the tarball`);
      assert.ok(files.includes(`${base}.html`), `${base}.html in the tarball`);
    }
    assert.ok(
      files.some((f) => /^dist\/nodes\/[^/]+\/icons\/takt\.svg$/.test(f)),
      'icons next to a node file',
    );
    assert.ok(
      files.some((f) => /^dist\/nodes\/[^/]+\/locales\/en-US\/.+\.html$/.test(f)),
      'help in locales',
    );
    assert.ok(
      files.some((f) => f.startsWith('examples/')),
      'example flows',
    );
    assert.ok(
      !files.some((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/')),
      'no tests or benches',
    );
    assert.ok(!files.some((f) => f.endsWith('.map')), 'no source maps');
    assert.ok(files.includes('LICENSE'), 'the license text package.json names');
  });

  it('publishes no install-time build script (npm warns about prepare on install)', () => {
    const installed = JSON.parse(
      readFileSync(join(work, 'userdir', 'node_modules', ...pkg.name.split('/'), 'package.json'), 'utf8'),
    ) as { scripts?: Record<string, string> };
    for (const s of ['prepare', 'preinstall', 'install', 'postinstall'])
      assert.equal(installed.scripts?.[s], undefined, `no ${s} script`);
  });

  it('loads every node type, serving its editor, help, messages and icon', async () => {
    rt = await startRuntime({ args: ['-u', join(work, 'userdir')] });
    const sets = (await getJson<NodeSet[]>(`${rt.url}/nodes`)).body ?? [];
    const ours = sets.filter((s) => s.module === pkg.name);
    for (const s of ours) assert.equal(s.err, undefined, `${s.id}: ${s.err}`);
    assert.deepEqual(
      ours.flatMap((s) => (s.enabled ? s.types : [])).sort(),
      Object.keys(pkg['node-red'].nodes).sort(),
    );

    for (const set of Object.keys(pkg['node-red'].nodes)) {
      const res = await fetch(`${rt.url}/nodes/${pkg.name}/${set}`, { headers: { Accept: 'text/html' } });
      const html = await res.text();
      assert.match(html, new RegExp(`data-template-name="${set}"`), `${set} editor template`);
      assert.match(html, new RegExp(`data-help-name="${set}"`), `${set} help text`);
      const messages = await getJson<Record<string, unknown>>(
        `${rt.url}/nodes/${pkg.name}/${set}/messages?lng=en-US`,
      );
      assert.ok(messages.body && Object.keys(messages.body).length > 0, `${set} message catalogue`);
    }
    const icon = await fetch(`${rt.url}/icons/${pkg.name}/takt.svg`);
    assert.equal(icon.status, 200);
    assert.match(await icon.text(), /<svg/);
    assert.doesNotMatch(rt.log(), /\[error\]/);
  });
});
