/**
 * takt-opcua-endpoint (config): one OPC UA endpoint and the session every Takt OPC UA node on it shares.
 * Also serves the editor: browse the address space, and "trust this server" (admin HTTP, permission-checked).
 */
import { join } from 'node:path';
import type { NodeDef, NodeInitializer } from 'node-red';
import { configReader, onClose } from '../core/adaptor';
import { errorMessage } from '../core/errors';
import {
  type EndpointAuth,
  OpcuaConnection,
  type SecurityModeName,
  type SecurityPolicyName,
} from './connection';
import type { EndpointCredentials, EndpointNode } from './endpoint-types';
import { browseLevel } from './items';

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
      const cfg = configReader(def);
      this.connection = new OpcuaConnection({
        url: (def.url ?? '').trim(),
        securityMode: def.securityMode || 'None',
        securityPolicy: def.securityPolicy || 'None',
        auth,
        pkiDir: join(RED.settings.userDir ?? process.cwd(), 'takt', 'opcua', 'pki'),
        trustOnFirstUse: def.trustOnFirstUse === true,
        keepAliveMs: cfg.number('keepAliveMs', { default: 5000, min: 0, exclusiveMin: true }),
        reconnectMaxMs: cfg.number('reconnectMaxMs', { default: 30000, min: 0, exclusiveMin: true }),
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
    onClose(this, () => this.connection?.close());
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
        .then((session) => browseLevel(session, nodeId))
        .then((entries) => res.json(entries))
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
