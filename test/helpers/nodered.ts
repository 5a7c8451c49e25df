/**
 * node-red-node-test-helper set up once for all node tests, plus small typed helpers around it.
 * Flows load the compiled nodes from dist/, exactly what the runtime loads.
 */
import helper from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';

helper.init(require.resolve('node-red'));

export { helper };

/** A node from the running test flow, with the helper's event additions. */
export type TestNode = Node & {
  on(event: string, listener: (...args: never[]) => void): TestNode;
  receive(msg: object): void;
};

export function getNode(id: string): TestNode {
  const n = helper.getNode(id) as TestNode | null;
  if (!n) throw new Error(`node ${id} is not in the test flow`);
  return n;
}

/**
 * Closes a node as the runtime does on a redeploy (`removed` false) or when the node is deleted from the flow
 * (`removed` true): what a node keeps or deletes on close (a state file) depends on it.
 */
export function closeNode(id: string, removed: boolean): Promise<void> {
  return (getNode(id) as unknown as { close(removed: boolean): Promise<void> }).close(removed);
}

/** Resolves with the next `count` messages a helper node receives (that pass `filter`, when given). */
export function nextMessages<T extends object = NodeMessage>(
  nodeId: string,
  count = 1,
  timeoutMs = 5000,
  filter: (msg: T) => boolean = () => true,
): Promise<T[]> {
  const n = getNode(nodeId);
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(
      () => reject(new Error(`${nodeId} received ${got.length} of ${count} messages in ${timeoutMs} ms`)),
      timeoutMs,
    );
    n.on('input', ((msg: T) => {
      if (!filter(msg)) return;
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    }) as never);
  });
}

/** Resolves with the next status object a node sets that passes `match`. */
export function nextStatus(
  nodeId: string,
  match: (s: { fill?: string; shape?: string; text?: string }) => boolean = () => true,
  timeoutMs = 5000,
): Promise<{ fill?: string; shape?: string; text?: string }> {
  const n = getNode(nodeId);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${nodeId}: no matching status in ${timeoutMs} ms`)),
      timeoutMs,
    );
    n.on('call:status', ((call: { args: [{ fill?: string; shape?: string; text?: string }] }) => {
      if (match(call.args[0])) {
        clearTimeout(timer);
        resolve(call.args[0]);
      }
    }) as never);
  });
}

/**
 * Every status a node has shown so far, in order, including those set while it was constructed (before a
 * `nextStatus` could listen): read from the helper's spy on `status`, which is shared by all nodes.
 */
export function statusesOf(nodeId: string): { fill?: string; shape?: string; text?: string }[] {
  const n = getNode(nodeId);
  const spy = n.status as unknown as {
    getCalls(): { thisValue: unknown; args: [{ fill?: string; shape?: string; text?: string }] }[];
  };
  return spy
    .getCalls()
    .filter((c) => c.thisValue === n)
    .map((c) => c.args[0]);
}

/** Loads node modules and a flow, resolving when the flow has started. */
export function load(nodes: unknown[], flow: object[], credentials?: object): Promise<void> {
  return new Promise((resolve) => {
    if (credentials) helper.load(nodes as never, flow as never, credentials as never, () => resolve());
    else helper.load(nodes as never, flow as never, () => resolve());
  });
}
