/**
 * takt-opcua-write: writes values (coerced to each node's DataType) or calls a method with typed
 * arguments, on the endpoint's shared session. One result per item on msg.payload.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configNodeStatus, configReader, onClose, onInput, requireConfigNode, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import type { EndpointNode } from './endpoint-types';
import { connectionStatus } from './node-status';
import { callMethod, writeItems } from './write';

interface WriteDef extends NodeDef {
  endpoint: string;
  mode?: 'write' | 'call';
  item?: string;
  object?: string;
  method?: string;
}

type Msg = NodeMessageInFlow & { item?: unknown };

const init: NodeInitializer = (RED) => {
  function OpcuaWrite(this: Node, def: WriteDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(
      this,
      () => ({
        connection: requireConfigNode(
          RED.nodes.getNode(def.endpoint) as EndpointNode | null,
          (n) => n.connection,
          { feature: 'opcua', field: 'endpoint', label: 'OPC UA endpoint' },
        ),
        call: configReader(def).choice('mode', ['write', 'call'], 'write') === 'call',
      }),
      { status: configNodeStatus },
    );
    if (!set) return;
    const { connection, call } = set;
    const onState = (s: Parameters<typeof connectionStatus>[0], why: string | undefined) =>
      this.status(connectionStatus(s, why, call ? 'ready to call' : 'ready to write'));
    connection.on('state', onState);
    onState(connection.state, undefined);
    connection.register(this);

    onInput<Msg>(this, async (msg, send) => {
      const session = await connection.whenConnected(5000);
      if (call) {
        const args =
          msg.payload === undefined ? [] : Array.isArray(msg.payload) ? msg.payload : [msg.payload];
        const r = await callMethod(session, def.object ?? '', def.method ?? '', args);
        msg.payload = r;
        send(msg);
        if (!r.good)
          throw new TaktError(
            'opcua.callFailed',
            `${def.method}: ${r.statusCode}${r.message ? ` (${r.message})` : ''}`,
          );
        onState(connection.state, undefined);
        return;
      }
      // One value for the configured item (or msg.item), or an array of { item, value }.
      const writes = Array.isArray(msg.payload)
        ? (msg.payload as { item?: unknown; value?: unknown }[]).map((w, i) => {
            if (typeof w !== 'object' || w === null || typeof w.item !== 'string') {
              throw new TaktError('opcua.badWrite', `payload[${i}] must be { item, value }`, `payload[${i}]`);
            }
            return { item: w.item, value: w.value };
          })
        : [{ item: typeof msg.item === 'string' ? msg.item : (def.item ?? ''), value: msg.payload }];
      if (writes.some((w) => !w.item))
        throw new TaktError('opcua.noItem', 'no item to write: set one in the node or in msg.item');
      const results = await writeItems(session, writes);
      msg.payload = results;
      send(msg);
      const failed = results.filter((r) => !r.good);
      if (failed.length)
        throw new TaktError('opcua.writeFailed', failed.map((f) => `${f.item}: ${f.statusCode}`).join('; '));
      onState(connection.state, undefined);
    });

    onClose(
      this,
      () => connection.off('state', onState),
      () => connection.deregister(this),
    );
  }
  RED.nodes.registerType('takt-opcua-write', OpcuaWrite);
};

export = init;
