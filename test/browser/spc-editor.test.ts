/**
 * The takt-spc edit dialog in a real browser: the fields it shows for each chart type come from the
 * runtime's chart-kind registry (GET takt-spc/charts) and must be the ones the dialog showed when it kept
 * its own lists of chart names (listed below). Without chromium the suite is skipped locally and fails
 * under CI=true.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { chromiumAvailable } from '../helpers/browser';
import { type Editor, openEditor } from '../helpers/editor';

const ROWS = ['grouping', 'size', 'ewma', 'cusum', 'imr', 'constants', 'r2r', 'patterns'] as const;

/** The rows the dialog showed per chart type with its former lists of names. */
const EXPECTED: Record<string, (typeof ROWS)[number][]> = {
  'xbar-r': ['grouping', 'constants', 'r2r', 'patterns'],
  'xbar-s': ['grouping', 'r2r', 'patterns'],
  imr: ['imr', 'constants', 'r2r', 'patterns'],
  p: ['size', 'patterns'],
  np: ['size', 'patterns'],
  c: ['size', 'patterns'],
  u: ['size', 'patterns'],
  ewma: ['grouping', 'ewma', 'constants', 'r2r', 'patterns'],
  cusum: ['grouping', 'cusum', 'constants', 'r2r', 'patterns'],
  t2: [],
  mewma: ['ewma'],
};

describe('takt-spc edit dialog (fields from the chart-kind registry)', function () {
  this.timeout(120000);
  let editor: Editor | undefined;
  let page: Page;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    editor = await openEditor('takt-spc-editor-');
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  it('shows, for every chart type, the fields it showed before the registry', async () => {
    const served = page.waitForResponse((r) => r.url().endsWith('/takt-spc/charts'));
    await page.evaluate(() => {
      interface Red {
        view: { importNodes(nodes: unknown[], opts: Record<string, unknown>): void };
        nodes: { eachNode(cb: (n: { id: string; type: string }) => void): void };
        editor: { edit(n: unknown): void };
      }
      const RED = (window as unknown as { RED: Red }).RED;
      RED.view.importNodes([{ id: 'spc1', type: 'takt-spc', chartType: 'imr', x: 200, y: 100, wires: [] }], {
        generateIds: false,
        addFlow: false,
        notify: false,
      });
      let node: unknown;
      RED.nodes.eachNode((n) => {
        if (n.type === 'takt-spc') node = n;
      });
      RED.editor.edit(node);
    });
    assert.equal((await served).status(), 200);
    await page.waitForSelector('#node-input-chartType', { state: 'visible' });
    // until the traits arrive every row shows; an I-MR chart has no grouping row
    await page.waitForSelector('.spc-row-grouping', { state: 'hidden' });
    const shown = await page.evaluate(
      ({ types, rows }) => {
        const $ = (
          window as unknown as {
            $: (s: string) => { val(v?: string): unknown; trigger(e: string): void; is(s: string): boolean };
          }
        ).$;
        const out: Record<string, string[]> = {};
        for (const type of types) {
          $('#node-input-chartType').val(type);
          $('#node-input-chartType').trigger('change');
          out[type] = rows.filter((r) => $(`.spc-row-${r}`).is(':visible'));
        }
        return out;
      },
      { types: Object.keys(EXPECTED), rows: [...ROWS] },
    );
    assert.deepEqual(shown, EXPECTED);
  });
});
