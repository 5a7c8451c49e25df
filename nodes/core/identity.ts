/**
 * Who is behind a message or a request: the authenticated identity a decision (approve, reject, promote,
 * roll back) is bound to, or, when nobody authenticated, the name the message claims (recorded as a claim
 * only, never counted as a person). docs/ARCHITECTURE.md, "Message contracts".
 *
 * Where each source carries its user, and when it is trusted:
 * - **admin**: the admin API's `req.user` (Node-RED sets it from the editor login when `adminAuth` is on,
 *   for endpoints registered with `RED.auth.needsPermission`). Without `adminAuth` there is no user.
 * - **http**: an `http in` node's `msg.req`. `req.user` is set by an `httpNodeMiddleware` (e.g. a passport
 *   login); with `httpNodeAuth` the runtime has checked the Basic credentials before the flow saw the
 *   request, so the Basic user name is the user (`IdentityOptions.httpNodeAuth`). Otherwise the Basic
 *   header is only a claim.
 * - **dashboard**: Dashboard 2 puts `msg._client = { socketId, socketIp }` on a widget's message and a user
 *   plugin (FlowFuse's user addon, through its `onAddConnectionCredentials` hook) adds `_client.user`.
 *   Without such a plugin `_client` is whatever the browser sent, so `_client.user` is trusted only when
 *   `IdentityOptions.dashboardUsers` says a plugin is installed.
 * - **mqtt**: an MQTT message carries no publisher identity; a topic per user (`mqttUserTopic`, e.g.
 *   `plant/approve/{user}`) that the broker's ACL lets only that authenticated user publish to names it,
 *   and only users in `mqttUsers` are accepted.
 * - **message**: a name written in the message (`approval.user`, `approvedBy`, `user`, in the message or
 *   its payload) is a claim: `authenticated: false`.
 */
import { isRecord } from './message';

export type IdentitySource = 'admin' | 'dashboard' | 'http' | 'mqtt' | 'message';

export interface Identity {
  /** The authenticated user name; for an unauthenticated identity the claimed name, or 'anonymous'. */
  user: string;
  authenticated: boolean;
  source: IdentitySource;
  /** The name the message or request claimed, when it named one. */
  claim?: string;
}

export interface IdentityOptions {
  /** Node-RED's `httpNodeAuth` is set: the runtime checked a request's Basic credentials. */
  httpNodeAuth?: boolean;
  /** A Dashboard 2 user plugin is installed, so `msg._client.user` comes from the server, not the browser. */
  dashboardUsers?: boolean;
  /**
   * MQTT topic that names its publisher, with `{user}` for one topic level (`plant/approve/{user}`); the
   * broker's ACL must let only that authenticated user publish there.
   */
  mqttUserTopic?: string;
  /** The users allowed to decide over MQTT (empty or missing: nobody). */
  mqttUsers?: readonly string[];
}

/** The name an unauthenticated identity gets when nothing was claimed. */
export const ANONYMOUS = 'anonymous';

type Obj = Record<string, unknown>;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** A user name from a string or a user record ({ username | name | email | userId | id }). */
export function userName(u: unknown): string | undefined {
  if (typeof u === 'string') return text(u);
  if (!isRecord(u)) return undefined;
  for (const k of ['username', 'name', 'email', 'userId', 'id']) {
    const v = text(u[k]);
    if (v) return v;
  }
  return undefined;
}

/** The name a message claims (approval.user, approvedBy, user; in the message or its payload). */
export function claimOf(msg: Obj): string | undefined {
  const places: unknown[] = [msg.approval, msg, msg.payload];
  for (const p of places) {
    if (!isRecord(p)) continue;
    for (const k of ['user', 'approvedBy', 'who']) {
      const v = userName(p[k]);
      if (v) return v;
    }
  }
  return undefined;
}

/** The user name of a Basic Authorization header, or undefined. */
function basicUser(headers: unknown): string | undefined {
  if (!isRecord(headers)) return undefined;
  const h = headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=._-]+)\s*$/i.exec(h);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return text(colon < 0 ? decoded : decoded.slice(0, colon));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The user an MQTT topic names under the `{user}` pattern, or undefined when it does not match. */
export function mqttTopicUser(topic: unknown, pattern: string | undefined): string | undefined {
  if (typeof topic !== 'string' || !pattern || !pattern.includes('{user}')) return undefined;
  const re = new RegExp(`^${pattern.split('{user}').map(escape).join('([^/#+]+)')}$`);
  const m = re.exec(topic);
  return m ? text(m[1]) : undefined;
}

function unauthenticated(source: IdentitySource, claim: string | undefined): Identity {
  return { user: claim ?? ANONYMOUS, authenticated: false, source, ...(claim ? { claim } : {}) };
}

/**
 * The identity behind an admin API request: the logged-in user (`req.user`, set by Node-RED when
 * `adminAuth` is on), else an unauthenticated claim from `claimed` (e.g. a name in the request body).
 */
export function identityOfRequest(req: unknown, claimed?: unknown): Identity {
  const claim = userName(claimed);
  const r = isRecord(req) ? req : {};
  const user = isRecord(r.user) && r.user.anonymous !== true ? userName(r.user) : undefined;
  if (user)
    return { user, authenticated: true, source: 'admin', ...(claim && claim !== user ? { claim } : {}) };
  return unauthenticated('admin', claim);
}

/** The authenticated identity behind a message, or an unauthenticated claim. */
export function identityOf(msg: Record<string, unknown>, opts: IdentityOptions = {}): Identity | undefined {
  const claim = claimOf(msg);
  const withClaim = (id: Identity): Identity => (claim && claim !== id.user ? { ...id, claim } : id);

  // http in: a login middleware's req.user, or the Basic user the runtime checked (httpNodeAuth).
  if (isRecord(msg.req)) {
    const req = msg.req;
    const user =
      (isRecord(req.user) || typeof req.user === 'string' ? userName(req.user) : undefined) ??
      (opts.httpNodeAuth ? basicUser(req.headers) : undefined);
    if (user) return withClaim({ user, authenticated: true, source: 'http' });
    return unauthenticated('http', claim ?? basicUser(req.headers));
  }

  // Dashboard 2: _client.user only when a user plugin put it there.
  if (isRecord(msg._client)) {
    const user = opts.dashboardUsers ? userName(msg._client.user) : undefined;
    if (user) return withClaim({ user, authenticated: true, source: 'dashboard' });
    return unauthenticated('dashboard', claim ?? userName(msg._client.user));
  }

  // MQTT: a per-user topic under the broker's ACL, for users on the node's list.
  const topicUser = mqttTopicUser(msg.topic, opts.mqttUserTopic);
  if (topicUser) {
    if ((opts.mqttUsers ?? []).includes(topicUser))
      return withClaim({ user: topicUser, authenticated: true, source: 'mqtt' });
    return unauthenticated('mqtt', claim ?? topicUser);
  }

  return claim ? unauthenticated('message', claim) : undefined;
}

/**
 * Whether `who` is on a list of people: entries are a user name (matches only an authenticated identity of
 * that name), "authenticated" (any authenticated user) or "*" (anyone, also unauthenticated or unknown).
 * An empty list allows nobody. One rule for the assistant's permissions, the chat widget and takt-approve.
 */
export function listAllows(list: readonly string[], who: Identity | undefined): boolean {
  const auth = who?.authenticated === true;
  return list.some((e) =>
    e === '*' ? true : e === 'authenticated' ? auth : auth && who !== undefined && e === who.user,
  );
}

/**
 * How an identity is written in a record: the authenticated user's name, or "unauthenticated <source>"
 * with the name it claimed, so a claim never reads as a person.
 */
export function identityLabel(who: Identity | undefined, claim?: string): string {
  if (who?.authenticated) return who.user;
  const c = who?.claim ?? claim;
  return `unauthenticated ${who?.source ?? 'message'}${c ? ` (claimed "${c}")` : ''}`;
}
