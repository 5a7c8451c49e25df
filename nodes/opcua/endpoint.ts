/**
 * takt-opcua-endpoint (config): one OPC UA endpoint and the session every Takt OPC UA node on it shares.
 * Also serves the editor: browse the address space, and "trust this server" (admin HTTP, permission-checked).
 */
import { join } from 'node:path';
import type { NodeDef, NodeInitializer } from 'node-red';
import { BrowseDirection, NodeClass } from 'node-opcua';
import { errorMessage } from '../core/errors';
import {
  type EndpointAuth,
  OpcuaConnection,
  type SecurityModeName,
  type SecurityPolicyName,
} from './connection';
import type { EndpointCredentials, EndpointNode } from './endpoint-node';

interface EndpointDef extends NodeDef {
  url: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  authType: 'anonymous' | 'username' | 'x509';
  certificateFile?: string;
  privateKeyFile?: string;
  trustOnFirstUse?: boolean;
  keepAliveMs?: string | number;
  reconnectMaxMs?: string | number;
}

const init: NodeInitializer = (RED) => {
  function EndpointConfig(this: EndpointNode, def: EndpointDef) {
    RED.nodes.createNode(this, def);
    const creds = this.credentials ?? {};
    const auth: EndpointAuth =
      def.authType === 'username'
        ? { type: 'username', user: creds.user ?? '', password: creds.password ?? '' }
        : def.authType === 'x509'
          ? {
              type: 'x509',
              certificateFile: def.certificateFile ?? '',
              privateKeyFile: def.privateKeyFile ?? '',
            }
          : { type: 'anonymous' };
    try {
      this.connection = new OpcuaConnection({
        url: (def.url ?? '').trim(),
        securityMode: def.securityMode || 'None',
        securityPolicy: def.securityPolicy || 'None',
        auth,
        pkiDir: join(RED.settings.userDir ?? process.cwd(), 'takt', 'opcua', 'pki'),
        trustOnFirstUse: def.trustOnFirstUse === true,
        keepAliveMs: Number(def.keepAliveMs) || 5000,
        reconnectMaxMs: Number(def.reconnectMaxMs) || 30000,
        applicationName: 'Takt Node-RED',
      });
      this.connection.on('state', (s, why) => {
        if (s === 'backoff') this.warn(`${def.url}: ${why ?? 'disconnected'}, retrying`);
        if (s === 'connected') this.log(`connected to ${def.url}`);
      });
    } catch (err) {
      this.configError = errorMessage(err);
      this.error(this.configError);
    }
    this.on('close', (done: () => void) => {
      void (this.connection?.close() ?? Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType<EndpointNode, EndpointDef, unknown, EndpointCredentials>(
    'takt-opcua-endpoint',
    EndpointConfig,
    {
      credentials: { user: { type: 'text' }, password: { type: 'password' } },
    },
  );

  const endpointOf = (id: string) => RED.nodes.getNode(id) as EndpointNode | null;

  // Browse one level of the address space (the editor's tree). The endpoint must be deployed.
  RED.httpAdmin.get(
    '/takt-opcua/:id/browse',
    RED.auth.needsPermission('takt-opcua-endpoint.read'),
    (req, res) => {
      const ep = endpointOf(String(req.params.id));
      if (!ep?.connection) return void res.status(404).json({ error: 'deploy the endpoint first' });
      const nodeId = typeof req.query.nodeId === 'string' && req.query.nodeId ? req.query.nodeId : 'i=85';
      ep.connection.register(req);
      ep.connection
        .whenConnected(10000)
        .then(async (session) => {
          const r = await session.browse({
            nodeId,
            browseDirection: BrowseDirection.Forward,
            referenceTypeId: 'i=33',
            includeSubtypes: true,
            nodeClassMask: NodeClass.Object | NodeClass.Variable,
            resultMask: 63,
          });
          const refs = r.references ?? [];
          const vars = refs.filter((x) => x.nodeClass === NodeClass.Variable);
          const dts = vars.length
            ? await session.read(vars.map((v) => ({ nodeId: v.nodeId, attributeId: 14 /* DataType */ })))
            : [];
          const names = new Map<string, string>();
          for (const [i, v] of vars.entries()) {
            const dtId = dts[i]?.value.value?.toString() ?? '';
            if (dtId && !names.has(dtId)) {
              const [bn] = await session.read([{ nodeId: dtId, attributeId: 3 }]);
              names.set(dtId, String((bn.value.value as { name?: string } | null)?.name ?? dtId));
            }
            names.set(v.nodeId.toString(), names.get(dtId) ?? '');
          }
          res.json(
            refs.map((x) => ({
              nodeId: x.nodeId.toString(),
              browseName: x.browseName.name,
              namespaceIndex: x.browseName.namespaceIndex,
              nodeClass: x.nodeClass === NodeClass.Variable ? 'Variable' : 'Object',
              dataType: x.nodeClass === NodeClass.Variable ? names.get(x.nodeId.toString()) : undefined,
            })),
          );
        })
        .catch((err: unknown) => res.status(502).json({ error: errorMessage(err) }))
        .finally(() => void ep.connection?.deregister(req));
    },
  );

  // "Trust this server": fetch its certificate and add it to the trusted store.
  RED.httpAdmin.post(
    '/takt-opcua/:id/trust',
    RED.auth.needsPermission('takt-opcua-endpoint.write'),
    (req, res) => {
      const ep = endpointOf(String(req.params.id));
      if (!ep?.connection) return void res.status(404).json({ error: 'deploy the endpoint first' });
      ep.connection
        .trustServer()
        .then((message) => res.json({ message }))
        .catch((err: unknown) => res.status(502).json({ error: errorMessage(err) }));
    },
  );
};

export = init;
