/** The offline voice binaries (pocketsphinx, espeak-ng, sox) for the assistant's voice tests. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DEFAULT_MODEL_DIR } from '../../nodes/assistant/voice';

/** Whether the voice binaries and model are installed; under CI=true a missing one fails the suite. */
export function requireVoice(ctx: Mocha.Context): void {
  const missing: string[] = [];
  for (const bin of ['pocketsphinx_batch', 'espeak-ng', 'sox']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      missing.push(bin);
    }
  }
  if (!existsSync(`${DEFAULT_MODEL_DIR}/en-us/mdef`)) missing.push('the pocketsphinx-en-us model');
  if (!missing.length) return;
  const why = `${missing.join(', ')} not installed (Debian: pocketsphinx pocketsphinx-en-us espeak-ng sox)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true and ${why}`);
  ctx.skip();
}
