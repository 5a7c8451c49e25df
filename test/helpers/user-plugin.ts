/**
 * Stands in a Dashboard 2 user plugin (as FlowFuse's user addon is) in the runtime's plugin table, for node
 * tests of adaptors that ask core/identity-options whether a dashboard user is signed in. Load it as a node
 * module and put one `{ type: 'test-user-plugin' }` node in the flow; the plugin table is restored when the
 * flow stops.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';

export const userPlugin: NodeInitializer = (RED) => {
  const plugins = RED.plugins as unknown as { getByType: (type: string) => unknown[] };
  const original = plugins.getByType;
  plugins.getByType = (type) =>
    type === 'node-red-dashboard-2'
      ? [{ hooks: { onAddConnectionCredentials: (_c: unknown, m: unknown) => m } }]
      : original.call(plugins, type);
  RED.nodes.registerType('test-user-plugin', function (this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    this.on('close', () => {
      plugins.getByType = original;
    });
  });
};

/** The flow node that goes with userPlugin. */
export const userPluginNode = (z = 'tab') => ({ id: 'user-plugin', type: 'test-user-plugin', z });
