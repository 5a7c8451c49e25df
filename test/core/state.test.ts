import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { JsonStore, nodeStateFile, writeFileAtomic } from '../../nodes/core';

describe('core/state', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'takt-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a document and reports none before the first save', () => {
    const store = new JsonStore<{ ucl: number; n: number[] }>(join(dir, 'a', 'b.json'));
    assert.equal(store.load(), undefined);
    store.save({ ucl: 74.01431, n: [1, 2] });
    assert.deepEqual(store.load(), { ucl: 74.01431, n: [1, 2] });
    store.remove();
    assert.equal(store.load(), undefined);
  });

  it('leaves no temp file behind and replaces the previous content whole', () => {
    const file = join(dir, 'x.json');
    writeFileAtomic(file, '{"v":1}');
    writeFileAtomic(file, '{"v":2}');
    assert.deepEqual(readdirSync(dir), ['x.json']);
    assert.deepEqual(new JsonStore(file).load(), { v: 2 });
  });

  it('reports a corrupt file by name rather than returning nothing', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"v":');
    assert.throws(() => new JsonStore(file).load(), /bad\.json is not valid JSON/);
  });

  it('puts node state under <userDir>/takt/<kind>/ with a safe file name', () => {
    const f = nodeStateFile('/ud', 'spc', 'a1b2.c3/../x');
    assert.equal(dirname(f), join('/ud', 'takt', 'spc'));
    assert.equal(f, join('/ud', 'takt', 'spc', 'a1b2.c3_.._x.json'));
  });
});
