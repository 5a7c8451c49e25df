/**
 * External servers for integration tests (Mosquitto now; VictoriaMetrics and InfluxDB with the writers).
 * `.ci/run` installs and starts them and exports their URLs. Locally a missing server skips the test;
 * under CI=true it fails it, so a broken CI set-up can never pass by skipping.
 */
import { canConnect } from './net';

export interface ExternalServer {
  name: string;
  url: string;
  host: string;
  port: number;
}

const isCi = () => process.env.CI === 'true' || process.env.CI === '1';

/**
 * Call from a mocha `before` with its context. Resolves with the server when reachable; otherwise
 * skips the suite, or throws under CI=true.
 */
export async function requireServer(
  ctx: Mocha.Context,
  name: string,
  envVar: string,
  defaultUrl: string,
): Promise<ExternalServer> {
  const url = process.env[envVar] || defaultUrl;
  const u = new URL(url);
  const defaults: Record<string, number> = { 'mqtt:': 1883, 'http:': 80, 'https:': 443 };
  const port = Number(u.port || defaults[u.protocol] || 0);
  const host = u.hostname;
  if (await canConnect(host, port, 2000)) return { name, url, host, port };
  const why = `${name} is not reachable at ${url} (set ${envVar}; .ci/run starts it)`;
  if (isCi()) throw new Error(`CI=true and ${why}`);
  console.warn(`      skipped: ${why}`);
  ctx.skip();
  throw new Error('unreachable');
}
