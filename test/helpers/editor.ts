/**
 * The Node-RED editor in a real browser over the runtime `npm start` runs (flows/settings.js), with an
 * empty flow file so that nothing else is on the workspace. For the browser tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_FLAGS } from './browser';
import { freePort, waitUntil } from './net';
import { ROOT } from './paths';
import { startRuntime, type Runtime } from './runtime';

export interface Editor {
  page: Page;
  /** Page errors seen while the editor loaded. */
  errors: string[];
  close(): Promise<void>;
}

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
    rt = await startRuntime({
      args: ['-s', join(ROOT, 'flows', 'settings.js')],
      env: {
        TAKT_USER_DIR: userDir,
        TAKT_FLOW_FILE: flowFile,
        TAKT_OPCUA_PORT: String(await freePort()),
        TAKT_MQTT_PORT: String(await freePort()),
        MQTT_URL: '',
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(rt.url);
    await waitUntil(
      () =>
        page.evaluate(() => {
          const red = (window as unknown as { RED?: { nodes?: { getType(t: string): unknown } } }).RED;
          return (
            Boolean(red?.nodes?.getType('takt-spc')) && document.querySelector('#red-ui-workspace-chart')
          );
        }),
      'the editor to load the takt node types',
      60000,
      250,
    );
    return { page, errors, close };
  } catch (err) {
    await close();
    throw err;
  }
}
