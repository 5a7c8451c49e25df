import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTapSources, publishTapSource, tapSources, withdrawTapSource } from '../../nodes/core/taps';
import { ROOT } from '../helpers/paths';

interface PlainRegistry {
  publishTapSource(s: { name: string; kind: string; target: unknown }): void;
  withdrawTapSource(name: string): void;
}

// One source of truth for the tap registry: nodes/core/tap-registry.js, plain JS that flows/settings.js
// requires from the source tree (no build) and that the compiled pack ships and re-exports with types.
describe('tap registry (core)', () => {
  it('is one list for the plain module a settings file requires and the compiled pack', () => {
    // the source file itself, as flows/settings.js loads it (not the copy in dist/)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const plain = require(join(ROOT, 'nodes', 'core', 'tap-registry.js')) as PlainRegistry;
    let calls = 0;
    const stop = onTapSources(() => calls++);
    try {
      const broker = { id: 'test-broker' };
      plain.publishTapSource({ name: 'test-embedded', kind: 'aedes', target: broker });
      assert.equal(calls, 1);
      assert.deepEqual(
        tapSources('aedes').filter((s) => s.name === 'test-embedded'),
        [{ name: 'test-embedded', kind: 'aedes', target: broker }],
      );
      assert.deepEqual(
        tapSources('opcua-server').filter((s) => s.name === 'test-embedded'),
        [],
      );
      withdrawTapSource('test-embedded');
      assert.equal(calls, 2);
      assert.equal(
        tapSources().some((s) => s.name === 'test-embedded'),
        false,
      );
      publishTapSource({ name: 'test-sim', kind: 'opcua-server', target: {} });
      plain.withdrawTapSource('test-sim');
      assert.equal(calls, 4);
      assert.equal(
        tapSources().some((s) => s.name === 'test-sim'),
        false,
      );
    } finally {
      stop();
    }
    plain.publishTapSource({ name: 'test-after', kind: 'aedes', target: {} });
    assert.equal(calls, 4, 'a stopped listener is not called');
    plain.withdrawTapSource('test-after');
  });

  it('the demo settings add their broker through that module, not a registry of their own', () => {
    const settings = readFileSync(join(ROOT, 'flows', 'settings.js'), 'utf8');
    assert.match(settings, /require\('\.\.\/nodes\/core\/tap-registry\.js'\)\.publishTapSource\(/);
    assert.doesNotMatch(settings, /takt\.tapSources/);
  });
});
