/**
 * The takt-spc edit dialog in a real browser: the fields it shows for each chart type come from the
 * runtime's chart-kind registry (GET takt-spc/charts) and must be the ones the dialog showed when it kept
 * its own lists of chart names (listed below). Without chromium the suite is skipped locally and fails
 * under CI=true.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { chromiumAvailable } from '../helpers/browser';
import { type Editor, OPEN_EDITOR_MS, openEditor } from '../helpers/editor';

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
    this.timeout(OPEN_EDITOR_MS);
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
  it('labels spec limits and the phase I unit, and shows run rules as a closed choice saving the old values', async () => {
    type Jq = (s: string) => {
      val(v?: string): unknown;
      text(): string;
      trigger(e: string): void;
      is(s: string): boolean;
      prop(p: string, v?: boolean): unknown;
      click(): void;
      map(f: (i: number, e: HTMLInputElement) => string): { get(): string[] };
      length: number;
    };
    await page.evaluate(() => {
      const $ = (window as unknown as { $: Jq }).$;
      if ($('#node-dialog-cancel').is(':visible')) $('#node-dialog-cancel').click();
    });
    await page.waitForSelector('#node-input-chartType', { state: 'detached' });
    await page.evaluate(() => {
      interface Red {
        view: { importNodes(nodes: unknown[], opts: Record<string, unknown>): void };
        nodes: { node(id: string): unknown };
        editor: { edit(n: unknown): void };
      }
      const RED = (window as unknown as { RED: Red }).RED;
      RED.view.importNodes(
        [
          {
            id: 'spc2',
            type: 'takt-spc',
            chartType: 'xbar-r',
            property: 'payload',
            phaseOne: 25,
            rules: '1, 5',
            x: 200,
            y: 200,
            wires: [],
          },
        ],
        { generateIds: false, addFlow: false, notify: false },
      );
      RED.editor.edit(RED.nodes.node('spc2'));
    });
    await page.waitForSelector('#spc-rules-set', { state: 'visible' });
    const seen = await page.evaluate(() => {
      const $ = (window as unknown as { $: Jq }).$;
      const label = (f: string) => $(`label[for="node-input-${f}"]`).text().trim();
      const before = {
        set: $('#spc-rules-set').val(),
        boxes: $('.spc-rule:checked')
          .map((_i, e) => e.value)
          .get(),
        unit: $('.spc-phase-unit').text(),
        labels: ['lsl', 'usl', 'target'].map(label),
      };
      $('#node-input-chartType').val('imr');
      $('#node-input-chartType').trigger('change');
      const imrUnit = $('.spc-phase-unit').text();
      $('#spc-rules-set').val('we');
      $('#spc-rules-set').trigger('change');
      const customShownAfterWe = $('.spc-row-rules-custom').is(':visible');
      return { before, imrUnit, customShownAfterWe };
    });
    assert.deepEqual(seen.before, {
      set: 'custom',
      boxes: ['1', '5'],
      unit: 'subgroups',
      labels: ['LSL', 'USL', 'Target'],
    });
    assert.equal(seen.imrUnit, 'samples');
    assert.equal(seen.customShownAfterWe, false);
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#spc-rules-set', { state: 'detached' });
    const saved = await page.evaluate(() => {
      const RED = (
        window as unknown as { RED: { nodes: { node(id: string): { rules: string; valid: boolean } } } }
      ).RED;
      const n = RED.nodes.node('spc2');
      return { rules: n.rules, valid: n.valid };
    });
    assert.deepEqual(saved, { rules: 'we', valid: true });
  });
});
