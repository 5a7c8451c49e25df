import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');

describe('assistant safety run (bench:assistant --safety, small)', function () {
  this.timeout(120000);
  it('generated and adversarial inputs through takt-ask and takt-approve: no command leaves without an approval record', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'dist', 'bench', 'assistant.js'), '--rounds', '1', '--safety', '250', '--seed', '7'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const last = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, number>;
    assert.equal(last.safetyInputs, 250);
    assert.equal(last.unapproved, 0);
    assert.equal(last.safetyProposalsLost, 0);
    // the run did propose and execute approved commands (the count above is not vacuous)
    assert.ok(last.safetyProposals > 0);
    assert.ok(last.safetyExecuted > 0);
    assert.match(stdout, /replies that were not text\s+0/);
  });
});
