/**
 * takt-opcua-write: writes values (coerced to each node's DataType) or calls a method with typed
 * arguments, on the endpoint's shared session. One result per item on msg.payload.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { TaktError } from '../core/errors';
import { errorStatus, status } from '../core/status';
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
    const endpoint = RED.nodes.getNode(def.endpoint) as EndpointNode | null;
    const connection = endpoint?.connection;
    if (!connection) {
      const why = endpoint
        ? (endpoint.configError ?? 'endpoint configuration is invalid')
        : 'no OPC UA endpoint configured';
      this.status(status.disconnected(endpoint ? 'bad config' : 'no endpoint'));
      this.error(why);
      this.on('input', (_m, _s, done) => done(new TaktError('opcua.noEndpoint', why)));
      return;
    }
    const onState = (s: Parameters<typeof connectionStatus>[0], why: string | undefined) =>
      this.status(connectionStatus(s, why, def.mode === 'call' ? 'ready to call' : 'ready to write'));
    connection.on('state', onState);
    onState(connection.state, undefined);
    connection.register(this);

    this.on('input', (msg: Msg, send, done) => {
      const run = async () => {
        const session = await connection.whenConnected(5000);
        if (def.mode === 'call') {
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
          return;
        }
        // One value for the configured item (or msg.item), or an array of { item, value }.
        const writes = Array.isArray(msg.payload)
          ? (msg.payload as { item?: unknown; value?: unknown }[]).map((w, i) => {
              if (typeof w !== 'object' || w === null || typeof w.item !== 'string') {
                throw new TaktError(
                  'opcua.badWrite',
                  `payload[${i}] must be { item, value }`,
                  `payload[${i}]`,
                );
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
          throw new TaktError(
            'opcua.writeFailed',
            failed.map((f) => `${f.item}: ${f.statusCode}`).join('; '),
          );
      };
      run().then(
        () => {
          onState(connection.state, undefined);
          done();
        },
        (err: unknown) => {
          this.status(errorStatus(err));
          done(err as Error);
        },
      );
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      connection.off('state', onState);
      void connection.deregister(this).finally(done);
    });
  }
  RED.nodes.registerType('takt-opcua-write', OpcuaWrite);
};

export = init;
