/**
 * The Node-RED editor in a real browser over the runtime `npm start` runs (flows/settings.js), with an
 * empty flow file so that nothing else is on the workspace. For the browser tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_FLAGS } from './browser';
import { waitUntil } from './net';
import { startTaktRuntime, type Runtime } from './runtime';

export interface Editor {
  page: Page;
  /** Page errors seen while the editor loaded. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * How long each stage of opening the editor may take: the runtime starting its flows, the page loading, the
 * editor loading every node type's HTML. Generous: on a loaded two-core machine (other suites, benches) each
 * has taken over a minute. A suite's hook allows `OPEN_EDITOR_MS`, the sum of the stages and a margin, so a
 * slow stage fails with its own message rather than mocha's hook timeout.
 */
const STAGE_MS = 120000;
export const OPEN_EDITOR_MS = 3 * STAGE_MS + 60000;

/** Starts the runtime and a browser, and waits until the editor has loaded the takt node types. */
export async function openEditor(prefix: string): Promise<Editor> {
  const userDir = mkdtempSync(join(tmpdir(), prefix));
  let rt: Runtime | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await rt?.stop();
    rmSync(userDir, { recursive: true, force: true });
  };
  try {
    const flowFile = join(userDir, 'empty.json');
    writeFileSync(flowFile, '[]');
    rt = await startTaktRuntime({ userDir, flowFile, startTimeoutMs: STAGE_MS });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Playwright's own default (30 s) for the page load is too short under load; the wait below then
    // waits for the editor itself.
    await page.goto(rt.url, { timeout: STAGE_MS, waitUntil: 'domcontentloaded' });
    await waitUntil(
      () =>
        page.evaluate(() => {
          const red = (window as unknown as { RED?: { nodes?: { getType(t: string): unknown } } }).RED;
          return (
            Boolean(red?.nodes?.getType('takt-spc')) && document.querySelector('#red-ui-workspace-chart')
          );
        }),
      'the editor to load the takt node types',
      STAGE_MS,
      250,
    );
    return { page, errors, close };
  } catch (err) {
    await close();
    throw err;
  }
}
