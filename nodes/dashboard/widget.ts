/**
 * What the pack's three Dashboard 2 widgets share on the runtime side: finding their ui-group, making
 * their browser component known to the dashboard, and registering with the group.
 *
 * Dashboard 2 learns where a third-party widget's browser code lives from a package.json: the one in
 * each `nodesDir`, in the userDir, or in Node-RED's app root, either holding a `node-red-dashboard-2`
 * section itself or listing dependencies whose *name* contains `node-red-dashboard-2-`. A normal install
 * (`npm install @takt/node-red-mes` in the userDir) matches neither, so the dashboard would fall back to
 * a blank template. The widget therefore adds its own entry (read from this package's package.json) to
 * the dashboard's table of contributed widgets before it registers, when that entry is missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeDef, NodeMessage } from 'node-red';
import { errorMessage } from '../core/errors';

export interface WidgetDef extends NodeDef {
  group?: string;
  width?: string | number;
  height?: string | number;
  order?: number;
  passthru?: boolean;
}

/** The hooks Dashboard 2 calls (nodes/config/ui_base.js). */
export interface WidgetEvents {
  onAction?: boolean;
  beforeSend?: (
    msg: NodeMessage & Record<string, unknown>,
  ) => Promise<NodeMessage | null> | NodeMessage | null;
}

interface Contrib {
  package: string;
  name: string;
  src: string;
  path: string;
  component: string;
}

interface UiBase {
  uiShared?: { contribs?: Record<string, Contrib> };
}

interface UiGroup {
  register(node: Node, config: WidgetDef, evts: WidgetEvents): void;
  getBase?: () => UiBase | null;
}

const ROOT = join(__dirname, '..', '..', '..');
let manifest: Record<string, Contrib> | undefined;

/** This package's widget table, as Dashboard 2 would read it from package.json. */
export function ownContribs(root = ROOT): Record<string, Contrib> {
  if (manifest && root === ROOT) return manifest;
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    'node-red-dashboard-2'?: { widgets?: Record<string, { output: string; component: string }> };
  };
  const out: Record<string, Contrib> = {};
  for (const [name, w] of Object.entries(pkg['node-red-dashboard-2']?.widgets ?? {}))
    out[name] = { package: pkg.name, name, src: w.output, path: root, component: w.component };
  if (root === ROOT) manifest = out;
  return out;
}

/**
 * Finds the widget's group and registers the widget with it. Throws a plain Error when the group is
 * missing (no Dashboard 2 installed, or no group chosen).
 */
export function registerWidget(
  getNode: (id: string) => unknown,
  node: Node,
  type: string,
  def: WidgetDef,
  evts: WidgetEvents,
): void {
  const group = def.group ? (getNode(def.group) as UiGroup | null) : null;
  if (!group || typeof group.register !== 'function')
    throw new Error('no ui-group: choose a Dashboard 2 group (is @flowfuse/node-red-dashboard installed?)');
  const contribs = group.getBase?.()?.uiShared?.contribs;
  if (contribs && !contribs[type]) {
    const own = ownContribs()[type];
    if (own) contribs[type] = own;
  }
  // Inputs are drawn, not passed on: the output carries the widget's own messages only.
  group.register(node, { ...def, passthru: false }, evts);
}

/**
 * Runs `check` every second for a widget that follows another node's state (the approvals inbox and the chat
 * both poll their takt-approve node); an error in it goes to the widget's log instead of stopping the timer.
 * The caller clears the timer when the node closes.
 */
export function everySecond(node: Node, check: () => void): NodeJS.Timeout {
  return setInterval(() => {
    try {
      check();
    } catch (err) {
      node.error(errorMessage(err));
    }
  }, 1000);
}
