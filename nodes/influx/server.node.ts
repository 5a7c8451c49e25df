/**
 * takt-influx-server (config): one InfluxDB (v2 API: URL, org, bucket, token; v1 API: database,
 * retention policy, user/password), gzip, time-out and TLS (the core tls-config node). Writers and queries
 * on it take its validated `ServerOptions`; each writer keeps its own store-and-forward queue.
 */
import type { Node, NodeDef, NodeInitializer } from 'node-red';
import { configReader } from '../core/adaptor';
import { errorMessage } from '../core/errors';
import type { InfluxCredentials, InfluxServerNode } from './server-types';
import { type ApiVersion, type TlsOptions, validateServer } from './transport';

interface ServerDef extends NodeDef {
  url: string;
  api: ApiVersion;
  org?: string;
  bucket?: string;
  database?: string;
  retentionPolicy?: string;
  gzip?: boolean;
  timeout?: string | number;
  backslashes?: 'auto' | 'escape' | 'literal';
  tls?: string;
}

type TlsConfigNode = Node & { addTLSOptions(opts: TlsOptions): void };

const init: NodeInitializer = (RED) => {
  function InfluxServer(this: InfluxServerNode, def: ServerDef) {
    RED.nodes.createNode(this, def);
    const creds = this.credentials ?? {};
    const api: ApiVersion = def.api === 'v1' ? 'v1' : 'v2';
    this.backslashes =
      def.backslashes === 'escape' || def.backslashes === 'literal'
        ? def.backslashes
        : api === 'v1'
          ? 'literal'
          : 'escape';
    try {
      const cfg = configReader(def);
      let tls: TlsOptions | undefined;
      if (def.tls) {
        const t = RED.nodes.getNode(def.tls) as TlsConfigNode | null;
        if (t) {
          tls = {};
          t.addTLSOptions(tls);
        }
      }
      this.server = validateServer({
        url: (def.url ?? '').trim(),
        api,
        ...(api === 'v2'
          ? { org: def.org ?? '', bucket: def.bucket ?? '', ...(creds.token ? { token: creds.token } : {}) }
          : {
              database: def.database ?? '',
              ...(def.retentionPolicy ? { retentionPolicy: def.retentionPolicy } : {}),
              ...(creds.username ? { username: creds.username, password: creds.password ?? '' } : {}),
            }),
        gzip: def.gzip !== false,
        timeoutMs: cfg.number('timeout', { default: 10000, min: 0, exclusiveMin: true }),
        ...(tls ? { tls } : {}),
      });
    } catch (err) {
      this.configError = errorMessage(err);
      this.error(this.configError);
    }
  }
  RED.nodes.registerType<InfluxServerNode, ServerDef, unknown, InfluxCredentials>(
    'takt-influx-server',
    InfluxServer,
    {
      credentials: {
        token: { type: 'password' },
        username: { type: 'text' },
        password: { type: 'password' },
      },
    },
  );
};

export = init;
