/**
 * PLACEHOLDER until the audit branch's nodes/core/identity.ts lands (same API); replaced byte-for-byte then.
 * Who is behind a message: an authenticated identity (dashboard client, HTTP request, admin user) or a
 * name merely written in the message (a claim, not authenticated).
 */
export type IdentitySource = 'admin' | 'dashboard' | 'http' | 'mqtt' | 'message';
export interface Identity {
  user: string;
  authenticated: boolean;
  source: IdentitySource;
  claim?: string;
}
export interface IdentityOptions {
  /** Accept a name written in msg.user as an (unauthenticated) claim; default true. */
  claims?: boolean;
}

const nameOf = (u: unknown): string | undefined => {
  if (typeof u === 'string' && u.trim()) return u.trim();
  if (u && typeof u === 'object') {
    const o = u as Record<string, unknown>;
    const n = o.username ?? o.name ?? o.userId ?? o.email;
    if (typeof n === 'string' && n.trim()) return n.trim();
  }
  return undefined;
};

/** The authenticated identity behind a message, or an unauthenticated claim. */
export function identityOf(msg: Record<string, unknown>, opts: IdentityOptions = {}): Identity | undefined {
  const client = msg._client as Record<string, unknown> | undefined;
  const fromClient = nameOf(client?.user);
  if (fromClient) return { user: fromClient, authenticated: true, source: 'dashboard' };
  const req = msg.req as Record<string, unknown> | undefined;
  const fromReq = nameOf(req?.user);
  if (fromReq) return { user: fromReq, authenticated: true, source: 'http' };
  const claim = nameOf(msg.user);
  if (claim && opts.claims !== false) return { user: claim, authenticated: false, source: 'message', claim };
  return undefined;
}
