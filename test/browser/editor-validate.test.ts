/**
 * Every flow the package ships (flows/plant-demo.json, flows/fleet-box.json and every examples/**\/*.json, found at run time) imported
 * into the Node-RED editor in a real browser, the way a person imports it (Import ▸ paste, defaults not applied),
 * then checked with the editor's own validators: the nodes and config nodes the Deploy button would list under
 * "The workspace contains some nodes that are not properly configured" must be none. A node that adds a field
 * must keep validating flows saved before the field existed. Starts the runtime `npm start` runs
 * (flows/settings.js) with an empty flow file, so nothing else is on the workspace.
 * Without chromium the suite is skipped locally and fails under CI=true.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumAvailable } from '../helpers/browser';
import { type Editor, OPEN_EDITOR_MS, openEditor } from '../helpers/editor';
import { ROOT } from '../helpers/paths';

/** Every .json file under dir, sorted. */
function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return jsonFiles(p);
      return name.endsWith('.json') ? [p] : [];
    });
}

const SHIPPED = [
  join(ROOT, 'flows', 'plant-demo.json'),
  join(ROOT, 'flows', 'fleet-box.json'),
  ...jsonFiles(join(ROOT, 'examples')),
];

/** What the editor says about one imported node. */
interface Finding {
  type: string;
  name: string;
  known: boolean;
  valid: boolean;
  errors: string[];
  props: string[];
}

describe('shipped flows in the editor (Import, then the Deploy check)', function () {
  this.timeout(120000);
  let editor: Editor | undefined;
  let page: Page;

  before(async function () {
    if (!chromiumAvailable()) this.skip();
    this.timeout(OPEN_EDITOR_MS);
    editor = await openEditor('takt-editor-');
    page = editor.page;
    assert.deepEqual(editor.errors, [], 'the editor loads without page errors');
  });

  after(async () => {
    await editor?.close();
  });

  it('every takt node validates with any field missing, except the fields it cannot run without', async () => {
    // One field at a time removed from a node, checked with the editor's validator: a flow saved before a
    // field existed lacks it, so a field the runtime defaults must validate when missing. The fields below
    // have no runtime default (a server address, a config node, a rating): a flow without them is really
    // not configured. A new field that fails here needs a validator that accepts undefined.
    const required = [
      'takt-demand-limit.limitKw',
      'takt-demand-limit.loads',
      'takt-fleet-lease.fleet',
      'takt-fleet.broker',
      'takt-influx-out.server',
      'takt-influx-query.server',
      'takt-influx-server.url',
      'takt-inventory.leadTime',
      'takt-inventory.serviceLevel',
      'takt-model-ops.modelRef',
      'takt-mqtt-broker.url',
      'takt-opcua-endpoint.url',
      'takt-opcua-in.endpoint',
      'takt-opcua-write.endpoint',
      'takt-sparkplug-in.broker',
      'takt-tune.setpoints',
      'takt-tune.target',
      'takt-tune.tolerance',
      'takt-ui-approvals.group',
      'takt-ui-assistant.group',
      'takt-ui-control-chart.group',
      'takt-ui-gantt.group',
      'takt-ui-inspection.group',
      'takt-uns-out.broker',
      'takt-vibration.sampleRateHz',
      'takt-window.size',
    ];
    const failing = await page.evaluate(() => {
      interface Def {
        defaults: Record<string, { value?: unknown }>;
        [k: string]: unknown;
      }
      interface Red {
        nodes: { registry: { getNodeTypes(): string[] }; getType(t: string): Def | undefined };
        editor: { validateNode(n: Record<string, unknown>): boolean };
      }
      const RED = (window as unknown as { RED: Red }).RED;
      const out: string[] = [];
      for (const type of RED.nodes.registry.getNodeTypes().filter((t) => t.startsWith('takt-'))) {
        const def = RED.nodes.getType(type)!;
        for (const [prop, d] of Object.entries(def.defaults)) {
          // The editor's validator on this one field, absent from the node.
          const only: Def = { ...def, defaults: { [prop]: d }, _creds: undefined };
          const node: Record<string, unknown> = { id: `missing-${type}-${prop}`, type, _def: only };
          if (!RED.editor.validateNode(node)) out.push(`${type}.${prop}`);
        }
      }
      return out.sort();
    });
    assert.deepEqual(failing, required);
  });

  for (const file of SHIPPED) {
    const label = relative(ROOT, file);
    it(`${label}: every node and config node is valid`, async () => {
      const flow = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
      const findings = await page.evaluate((nodes) => {
        interface EditorNode {
          id: string;
          type: string;
          name?: string;
          valid?: boolean;
          validationErrors?: string[];
        }
        interface Red {
          nodes: {
            eachNode(cb: (n: EditorNode) => void): void;
            eachConfig(cb: (n: EditorNode) => void): void;
            getType(t: string): unknown;
            remove(id: string): unknown;
            removeWorkspace(id: string): unknown;
            eachWorkspace(cb: (w: { id: string }) => void): void;
          };
          view: { importNodes(nodes: unknown[], opts: Record<string, unknown>): void; redraw(): void };
          editor: { validateNode(n: EditorNode): boolean };
        }
        const RED = (window as unknown as { RED: Red }).RED;
        const seen = new Set<string>();
        const tabs = new Set<string>();
        RED.nodes.eachNode((n) => seen.add(n.id));
        RED.nodes.eachConfig((n) => seen.add(n.id));
        RED.nodes.eachWorkspace((w) => tabs.add(w.id));
        // As Import ▸ paste does it: new ids, no defaults filled in for missing fields.
        RED.view.importNodes(nodes, { generateIds: true, addFlow: false, notify: false });
        const out: {
          type: string;
          name: string;
          known: boolean;
          valid: boolean;
          errors: string[];
          props: string[];
        }[] = [];
        const check = (n: EditorNode) => {
          if (seen.has(n.id)) return;
          // What Deploy does for config nodes it has not validated yet.
          if (n.valid === undefined) RED.editor.validateNode(n);
          // The properties whose own validator refuses the value (the messages above do not name them).
          const def = RED.nodes.getType(n.type) as
            { defaults?: Record<string, { validate?: (v: unknown, o: unknown) => unknown }> } | undefined;
          const props = Object.entries(def?.defaults ?? {})
            .filter(([key, d]) => {
              if (!d.validate) return false;
              const value = (n as unknown as Record<string, unknown>)[key];
              try {
                return d.validate.call(n, value, { label: key }) !== true;
              } catch {
                return true;
              }
            })
            .map(([key]) => {
              const value = (n as unknown as Record<string, unknown>)[key];
              return `${key}=${value === undefined ? 'missing' : JSON.stringify(value)}`;
            });
          out.push({
            props,
            type: n.type,
            name: n.name ?? '',
            known: Boolean(RED.nodes.getType(n.type)),
            valid: n.valid === true,
            errors: n.validationErrors ?? [],
          });
        };
        RED.nodes.eachConfig(check);
        RED.nodes.eachNode(check);
        // Leave the workspace empty for the next flow.
        const added: string[] = [];
        RED.nodes.eachNode((n) => {
          if (!seen.has(n.id)) added.push(n.id);
        });
        RED.nodes.eachConfig((n) => {
          if (!seen.has(n.id)) added.push(n.id);
        });
        for (const id of added) RED.nodes.remove(id);
        const newTabs: string[] = [];
        RED.nodes.eachWorkspace((w) => {
          if (!tabs.has(w.id)) newTabs.push(w.id);
        });
        for (const id of newTabs) RED.nodes.removeWorkspace(id);
        return out;
      }, flow);
      const expected = (flow as { type?: string }[]).filter(
        (n) =>
          n.type &&
          n.type !== 'tab' &&
          n.type !== 'group' &&
          n.type !== 'junction' &&
          !n.type.startsWith('subflow'),
      ).length;
      assert.ok(findings.length >= expected, `imported ${findings.length} of ${expected} nodes`);
      const bad = (findings as Finding[]).filter((f) => !f.known || !f.valid);
      assert.deepEqual(
        bad.map((f) =>
          f.known
            ? `${f.name || '(unnamed)'} (${f.type}): ${f.props.join(', ') || '?'} (${f.errors.join('; ')})`
            : `${f.name || '(unnamed)'}: unknown type ${f.type}`,
        ),
        [],
        `${label} imports with nodes the editor marks invalid`,
      );
    });
  }
});
