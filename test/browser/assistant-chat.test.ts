/**
 * The assistant chat widget in a real browser: starts the runtime `npm start` runs (flows/settings.js) on the
 * example flow examples/assistant/03, opens its dashboard page in Debian's chromium with playwright-core, asks
 * a question (reply with a card and a mini chart), proposes a command and approves it in the chat, and finds
 * the decision in takt-approve's audit log. Screenshot assistant-chat.png goes to $TAKT_SCREENSHOTS, else a
 * temp dir. Without chromium the suite is skipped locally and fails under CI=true.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM, CHROMIUM_FLAGS, chromiumAvailable } from '../helpers/browser';
import { freePort, waitUntil } from '../helpers/net';
import { ROOT } from '../helpers/paths';
import { type Runtime, startRuntime } from '../helpers/runtime';

const EXAMPLE = join(ROOT, 'examples', 'assistant', '03 - Chat on the dashboard.json');
const flow = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as { id: string; type: string }[];
const approveId = flow.find((n) => n.type === 'takt-approve')!.id;

describe('assistant chat widget in chromium (example assistant/03)', function () {
  this.timeout(120000);
  let userDir: string;
  let shots: string;
  let rt: Runtime | undefined;
  let browser: BrowserContext | undefined;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    userDir = mkdtempSync(join(tmpdir(), 'takt-chat-'));
    shots = process.env.TAKT_SCREENSHOTS
      ? resolve(process.env.TAKT_SCREENSHOTS)
      : mkdtempSync(join(tmpdir(), 'takt-shots-'));
    mkdirSync(shots, { recursive: true });
    const flowFile = join(userDir, 'flows.json');
    copyFileSync(EXAMPLE, flowFile);
    rt = await startRuntime({
      args: ['-s', join(ROOT, 'flows', 'settings.js')],
      env: {
        TAKT_USER_DIR: userDir,
        TAKT_FLOW_FILE: flowFile,
        TAKT_MQTT_PORT: String(await freePort()),
        TAKT_OPCUA_PORT: String(await freePort()),
        MQTT_URL: '',
      },
    });
    browser = await chromium.launchPersistentContext(join(userDir, 'chromium'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
      viewport: { width: 900, height: 900 },
    });
  });

  after(async () => {
    await browser?.close();
    await rt?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('answers with a card and a mini chart, and a proposed command is approved in the chat', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${rt!.url}/dashboard/assistant`);
    await page.locator('.takt-chat-input').waitFor({ timeout: 30000 });
    const ask = async (text: string) => {
      await page.locator('.takt-chat-input').fill(text);
      await page.locator('.takt-chat-send').click();
    };

    // The mini chart needs two OEE records (one every 2 s); a loaded machine may not have them yet when the
    // page is up, so the question is asked again until the reply carries its chart (at most 8 times).
    const question = 'what is the OEE of the press?';
    const answers = page.locator('.takt-chat-assistant', { hasText: 'Press1: OEE' });
    let asked = 0;
    let answer = answers.last();
    for (;;) {
      await page.waitForTimeout(2500);
      await ask(question);
      asked += 1;
      await waitUntil(async () => (await answers.count()) === asked, 'the OEE answer', 15000, 100);
      answer = answers.last();
      if ((await answer.locator('.takt-chat-spark polyline').count()) > 0 || asked === 8) break;
    }
    assert.match(await answer.locator('.takt-chat-card').innerText(), /Press1 OEE\s+\d+\.\d %/);
    assert.equal(await answer.locator('.takt-chat-spark polyline').count(), 1);
    assert.equal(await page.locator('.takt-chat-user', { hasText: question }).count(), asked);

    await ask('rush order ORD-105');
    const proposal = page.locator('.takt-chat-proposal', { hasText: 'rush order ORD-105' }).last();
    await proposal.waitFor({ timeout: 15000 });
    const approve = proposal.locator('.takt-chat-approve');
    await waitUntil(() => approve.isEnabled(), 'the proposal to be linked to takt-approve', 15000, 200);
    const box = await page.locator('.nrdb-ui-group:has(.takt-chat)').first().boundingBox();
    assert.ok(box);
    await page.screenshot({ path: join(shots, 'assistant-chat.png'), clip: box });
    await approve.click();
    await proposal.locator('.takt-chat-approved').waitFor({ timeout: 15000 });
    assert.match(await proposal.innerText(), /approved \(\w+\)/);

    const file = join(userDir, 'takt', 'approve', `${approveId}-audit.jsonl`);
    const lines = () =>
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map(
              (l) => (JSON.parse(l) as { entry: { event: string; user?: string; summary?: string } }).entry,
            )
        : [];
    await waitUntil(
      () => lines().some((e) => e.event === 'approved'),
      'the approval in the audit log',
      10000,
    );
    // the decider is the default approver "operator", an unauthenticated claim (no dashboard user plugin)
    assert.ok(
      lines().some((e) => e.event === 'decision' && (e as { decision?: string }).decision === 'approve'),
    );
    assert.ok(lines().some((e) => e.event === 'proposed' && /rush order ORD-105/.test(e.summary ?? '')));
    assert.deepEqual(errors, []);
    assert.doesNotMatch(rt!.log(), /\[error\]/);
  });
});
