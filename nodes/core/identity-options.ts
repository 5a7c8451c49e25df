/**
 * The identity options (core/identity.ts) a runtime's settings and plugins imply, for adaptors that bind
 * decisions to people. Sees the runtime through a small structural interface, so it loads no Node-RED.
 */
import type { IdentityOptions } from './identity';

export interface RuntimeLike {
  settings?: unknown;
  plugins?: unknown;
}

/** The httpNodeAuth user name, when the runtime checks Basic credentials on flow endpoints itself. */
export function httpNodeUser(settings: unknown): string | undefined {
  const auth = (settings as { httpNodeAuth?: { user?: unknown } } | undefined)?.httpNodeAuth;
  return typeof auth?.user === 'string' && auth.user ? auth.user : undefined;
}

/**
 * Whether a Dashboard 2 plugin names users (its onAddConnectionCredentials hook, e.g. FlowFuse's user
 * addon), so msg._client.user is the server's word. Without one the browser wrote _client itself
 * (Dashboard 2's socket is not behind httpNodeAuth), so the dashboard user is not authenticated.
 */
export function dashboardUserPlugin(plugins: unknown): boolean {
  const get = (plugins as { getByType?: (t: string) => unknown } | undefined)?.getByType;
  if (typeof get !== 'function') return false;
  const list = get.call(plugins, 'node-red-dashboard-2');
  return (
    Array.isArray(list) &&
    list.some(
      (p) =>
        typeof (p as { hooks?: { onAddConnectionCredentials?: unknown } })?.hooks
          ?.onAddConnectionCredentials === 'function',
    )
  );
}

/** The options for identityOf in a runtime: httpNodeAuth and a dashboard user plugin, read when called. */
export function runtimeIdentityOptions(RED: RuntimeLike, extra: IdentityOptions = {}): IdentityOptions {
  return {
    httpNodeAuth: httpNodeUser(RED.settings) !== undefined,
    dashboardUsers: dashboardUserPlugin(RED.plugins),
    ...extra,
  };
}
