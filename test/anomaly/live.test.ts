import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveAnomaly, modelToOnnx, trainModel } from '../../nodes/anomaly';
import { Rng } from '../../nodes/core/random';

function model(names: string[], seed: number): Uint8Array {
  const rng = new Rng(seed);
  const d = names.length;
  const X = Array.from({ length: 100 * d }, () => rng.normal());
  return modelToOnnx(trainModel(X, 100, names, { kind: 'pca', smoothing: 2 }));
}

describe('live anomaly scoring', () => {
  let dir: string;
  let live: LiveAnomaly | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'takt-live-'));
  });
  after(async () => {
    await live?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads the model when its file changes and keeps the last good one on a bad file', async () => {
    const file = join(dir, 'm.onnx');
    writeFileSync(file, model(['a', 'b'], 1));
    live = new LiveAnomaly(file);
    await live.load();
    assert.deepEqual(live.loaded?.features, ['a', 'b']);
    // The watcher takes its baseline asynchronously: keep rewriting the file until it reports a reload.
    const next = async (bytes: Uint8Array | string) => {
      const got = new Promise<Error | undefined>((resolve) => live?.watch(resolve, 50));
      const writer = setInterval(() => writeFileSync(file, bytes), 60);
      try {
        return await got;
      } finally {
        clearInterval(writer);
      }
    };
    assert.equal(await next(model(['a', 'b', 'c'], 2)), undefined);
    assert.deepEqual(live.loaded?.features, ['a', 'b', 'c']);
    const err = await next('garbage that is not a model');
    assert.match(String(err?.message), /not an ONNX model/);
    assert.deepEqual(live.loaded?.features, ['a', 'b', 'c'], 'the last good model stays');
    const r = await live.score({ a: 0, b: 0, c: 0 }, 0);
    assert.ok(!Array.isArray(r) && r.healthIndex >= 0 && r.isAnomaly === false);
  });
});
