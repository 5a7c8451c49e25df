/**
 * Debian's Chromium for the browser tests, driven by playwright-core (no browser download): where it is, the
 * flags it needs on a machine with no outside network, and the check that fails under CI=true when it is missing.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.TAKT_CHROMIUM || '/usr/bin/chromium';

/** Headless, and no background connections (this machine's closed network refuses them, many at a time). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether Chromium is there. Under CI=true a missing one throws (.ci/run installs it); elsewhere the reason is
 * printed and false is returned, so the caller skips.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `chromium is not installed at ${CHROMIUM} (set TAKT_CHROMIUM; .ci/run installs it)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true and ${why}`);
  console.warn(`      skipped: ${why}`);
  return false;
}
