/**
 * Taps: what takt-guard sees of the servers Takt runs, turned into `GuardEvent`s. Passive: a tap only
 * listens (and wraps the broker's authenticate/preConnect hooks, calling the original and passing its
 * answer on unchanged), never holds a packet back, and hands events to a bounded queue that drops (and
 * counts) what does not fit, so a slow detector cannot slow the broker.
 *
 * - `tapAedes`: an aedes broker in this process (the demo's embedded broker): connects with client id,
 *   user, address, protocol version and keep-alive, authentication failures, subscriptions, publishes
 *   (topic, size, QoS, retain, payload), disconnects and wills.
 * - `tapOpcuaServer`: a node-opcua server in this process (the simulator's): sessions activated and
 *   closed, activations that fail, and each node read, written, called or browsed, with the session's
 *   name, user and address.
 * - `externalEvent`: what a subscription to another broker shows (`$SYS` and the plant's namespace).
 *
 * The servers are seen through the few members used here (no aedes or node-opcua import).
 */
import type { Proposal } from './events';
import type { GuardEvent } from './types';

export type GuardSink = (event: GuardEvent) => void;
export type Clock = () => number;

export interface Tap {
  close(): void;
  /**
   * Carries out an approved response where the server allows it; false when this tap cannot. Only ever
   * called by the flow (takt-approve's approved output sent back with msg.action "respond").
   */
  respond?(p: Proposal): boolean;
}

/** A bounded queue between a tap and the detector: `push` never blocks; what overflows is counted. */
export class EventQueue {
  private items: GuardEvent[] = [];
  private scheduled = false;
  private closed = false;
  dropped = 0;
  delivered = 0;

  constructor(
    private readonly handle: (batch: GuardEvent[]) => void,
    readonly capacity = 10_000,
  ) {}

  get size(): number {
    return this.items.length;
  }

  push(e: GuardEvent): void {
    if (this.closed) return;
    if (this.items.length >= this.capacity) {
      this.dropped++;
      return;
    }
    this.items.push(e);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Hands everything queued to the handler now. */
  drain(): void {
    this.scheduled = false;
    if (this.items.length === 0 || this.closed) return;
    const batch = this.items;
    this.items = [];
    this.delivered += batch.length;
    this.handle(batch);
  }

  close(): void {
    this.closed = true;
    this.items = [];
  }
}

// ---------------------------------------------------------------------------------------------------
// aedes

interface AedesClientLike {
  id: string;
  version?: number;
  conn?: { remoteAddress?: string };
  req?: { socket?: { remoteAddress?: string } };
}

interface AedesPacketLike {
  topic: string;
  payload: Uint8Array | string;
  qos?: number;
  retain?: boolean;
}

type AuthDone = (error: Error | null, success: boolean | null) => void;
type Authenticate = (
  client: AedesClientLike,
  user: string | undefined,
  password: unknown,
  done: AuthDone,
) => void;
type AuthorizePublish = (
  client: AedesClientLike | null,
  packet: AedesPacketLike,
  cb: (err?: Error | null) => void,
) => void;
type PreConnect = (
  client: AedesClientLike,
  packet: { keepalive?: number; username?: string; clientId?: string },
  cb: (err: Error | null, ok: boolean) => void,
) => void;

/** What the tap uses of an aedes broker. */
export interface AedesLike {
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  authenticate: Authenticate;
  preConnect: PreConnect;
  authorizePublish: AuthorizePublish;
  clients?: Record<string, { close(): void } | undefined>;
}

function remote(client: AedesClientLike): string | undefined {
  const a = client.conn?.remoteAddress ?? client.req?.socket?.remoteAddress;
  return a?.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Watches an aedes broker; `close()` removes the listeners and gives the broker its hooks back. */
export function tapAedes(broker: AedesLike, sink: GuardSink, clock: Clock = Date.now): Tap {
  const info = new WeakMap<AedesClientLike, { user?: string; keepalive?: number }>();
  const base = (client: AedesClientLike) => {
    const e: GuardEvent = { ts: clock(), proto: 'mqtt', kind: 'connect', client: client.id ?? '' };
    const i = info.get(client);
    if (i?.user) e.user = i.user;
    const addr = remote(client);
    if (addr) e.addr = addr;
    return { e, i };
  };
  const originalAuth = broker.authenticate;
  const originalPre = broker.preConnect;
  const originalPublish = broker.authorizePublish;
  // filled only by approved responses
  const blockedAddrs = new Set<string>();
  const blockedTopics = new Set<string>();
  const preConnect: PreConnect = (client, packet, cb) => {
    info.set(client, { user: packet.username, keepalive: packet.keepalive });
    const addr = remote(client);
    if (addr && blockedAddrs.has(addr)) return cb(new Error(`guard: ${addr} is blocked`), false);
    originalPre.call(broker, client, packet, cb);
  };
  const authorizePublish: AuthorizePublish = (client, packet, cb) => {
    if (client && blockedTopics.has(packet.topic)) return cb(new Error(`guard: ${packet.topic} is blocked`));
    originalPublish.call(broker, client, packet, cb);
  };
  const authenticate: Authenticate = (client, user, password, done) => {
    originalAuth.call(broker, client, user, password, (err, ok) => {
      if (err || !ok) {
        const { e } = base(client);
        e.kind = 'auth-fail';
        if (user) e.user = user;
        sink(e);
      }
      done(err, ok);
    });
  };
  broker.preConnect = preConnect;
  broker.authenticate = authenticate;
  broker.authorizePublish = authorizePublish;
  const listeners: Record<string, (...args: never[]) => void> = {
    client: (client: AedesClientLike) => {
      const { e, i } = base(client);
      if (i?.keepalive !== undefined) e.keepalive = i.keepalive;
      sink(e);
    },
    clientDisconnect: (client: AedesClientLike) => {
      const { e } = base(client);
      e.kind = 'disconnect';
      sink(e);
    },
    subscribe: (subs: { topic: string; qos?: number }[], client: AedesClientLike) => {
      for (const s of subs) {
        const { e } = base(client);
        e.kind = 'subscribe';
        e.topic = s.topic;
        if (s.qos !== undefined) e.qos = s.qos;
        sink(e);
      }
    },
    publish: (packet: AedesPacketLike, client: AedesClientLike | null) => {
      // the broker's own $SYS messages have no client
      if (!client) return;
      const { e } = base(client);
      const payload =
        typeof packet.payload === 'string' ? new TextEncoder().encode(packet.payload) : packet.payload;
      e.kind = 'publish';
      e.topic = packet.topic;
      e.bytes = payload.length;
      e.qos = packet.qos ?? 0;
      e.retain = packet.retain === true;
      e.payload = payload;
      sink(e);
    },
  };
  for (const [event, l] of Object.entries(listeners)) broker.on(event, l);
  return {
    close() {
      for (const [event, l] of Object.entries(listeners)) broker.removeListener(event, l);
      if (broker.authenticate === authenticate) broker.authenticate = originalAuth;
      if (broker.preConnect === preConnect) broker.preConnect = originalPre;
      if (broker.authorizePublish === authorizePublish) broker.authorizePublish = originalPublish;
    },
    respond(p) {
      if (p.proto !== 'mqtt') return false;
      if (p.action === 'disconnect-client') {
        const c = broker.clients?.[p.client];
        c?.close();
        return c !== undefined;
      }
      if (p.action === 'block-topic' && p.topic) {
        blockedTopics.add(p.topic);
        return true;
      }
      if (p.action === 'block-address' && p.addr) {
        blockedAddrs.add(p.addr);
        return true;
      }
      return false;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// node-opcua server

interface UaSessionLike {
  sessionName?: string;
  userIdentityToken?: { userName?: string } | null;
  channel?: { remoteAddress?: string } | null;
  authenticationToken?: unknown;
}

interface UaRequestLike {
  constructor: { name: string };
  schema?: { name?: string };
  requestHeader?: { authenticationToken?: unknown };
  nodesToRead?: { nodeId?: unknown }[] | null;
  nodesToWrite?: { nodeId?: unknown }[] | null;
  methodsToCall?: { methodId?: unknown; objectId?: unknown }[] | null;
  nodesToBrowse?: { nodeId?: unknown }[] | null;
  userIdentityToken?: { userName?: string } | null;
}

interface UaEndpointLike {
  on(
    event: 'message',
    l: (message: { request: UaRequestLike }, channel: { remoteAddress?: string }) => void,
  ): unknown;
  removeListener(event: 'message', l: (...args: never[]) => void): unknown;
}

/** What the tap uses of a node-opcua OPCUAServer (once started). */
export interface OpcuaServerLike {
  endpoints: UaEndpointLike[];
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  getSession(token: unknown): UaSessionLike | null | undefined;
}

/** Nodes per request counted one by one (a longer request still counts this many: a sweep shows anyway). */
const MAX_NODES_PER_REQUEST = 1000;

/** Watches a started node-opcua server. An activation not followed by success within `failMs` is a failure. */
export function tapOpcuaServer(
  server: OpcuaServerLike,
  sink: GuardSink,
  clock: Clock = Date.now,
  failMs = 1000,
): Tap {
  const pending = new Map<UaSessionLike, NodeJS.Timeout>();
  const ev = (
    kind: GuardEvent['kind'],
    s: UaSessionLike | undefined,
    addr: string | undefined,
  ): GuardEvent => {
    const e: GuardEvent = { ts: clock(), proto: 'opcua', kind, client: s?.sessionName ?? '' };
    const user = s?.userIdentityToken?.userName;
    if (user) e.user = user;
    const a = addr ?? s?.channel?.remoteAddress;
    if (a) e.addr = a.startsWith('::ffff:') ? a.slice(7) : a;
    return e;
  };
  const onActivated = (session: UaSessionLike) => {
    const t = pending.get(session);
    if (t) clearTimeout(t);
    pending.delete(session);
    sink(ev('session', session, undefined));
  };
  const onClosed = (session: UaSessionLike) => sink(ev('disconnect', session, undefined));
  const onMessage = (message: { request: UaRequestLike }, channel: { remoteAddress?: string }) => {
    const r = message.request;
    const name = r.schema?.name ?? r.constructor.name;
    const session =
      r.requestHeader?.authenticationToken !== undefined
        ? (server.getSession(r.requestHeader.authenticationToken) ?? undefined)
        : undefined;
    const each = (kind: GuardEvent['kind'], ids: unknown[]) => {
      for (const id of ids.slice(0, MAX_NODES_PER_REQUEST)) {
        const e = ev(kind, session, channel.remoteAddress);
        e.nodeId = String(id);
        sink(e);
      }
    };
    switch (name) {
      case 'ReadRequest':
        return each(
          'read',
          (r.nodesToRead ?? []).map((n) => n.nodeId),
        );
      case 'WriteRequest':
        return each(
          'write',
          (r.nodesToWrite ?? []).map((n) => n.nodeId),
        );
      case 'CallRequest':
        return each(
          'call',
          (r.methodsToCall ?? []).map((m) => m.methodId),
        );
      case 'BrowseRequest':
        return each(
          'browse',
          (r.nodesToBrowse ?? []).map((n) => n.nodeId),
        );
      case 'ActivateSessionRequest': {
        if (!session || pending.has(session)) return;
        const user = r.userIdentityToken?.userName;
        // stamped when the request came, not when its failure is known
        const ts = clock();
        const t = setTimeout(() => {
          pending.delete(session);
          const e = ev('auth-fail', session, channel.remoteAddress);
          e.ts = ts;
          if (user) e.user = user;
          sink(e);
        }, failMs);
        t.unref();
        pending.set(session, t);
        return;
      }
    }
  };
  server.on('session_activated', onActivated);
  server.on('session_closed', onClosed);
  const endpoints = [...server.endpoints];
  for (const ep of endpoints) ep.on('message', onMessage);
  return {
    close() {
      server.removeListener('session_activated', onActivated);
      server.removeListener('session_closed', onClosed);
      for (const ep of endpoints) ep.removeListener('message', onMessage);
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// another broker, through a subscription

/** The subscriptions an external tap makes: `$SYS/#` and the plant's namespace filters. */
export function externalFilters(namespace: string[]): string[] {
  return ['$SYS/#', ...namespace];
}

/**
 * One message of an external broker's `$SYS` tree or of the plant's namespace as an event, or undefined.
 * What shows: connects and disconnects where the broker publishes them per client (aedes:
 * `$SYS/<id>/new/clients`, `$SYS/<id>/disconnect/clients`), and every publish in the namespace with its
 * topic, size, QoS, retain flag and payload, but not who published it (client ''), nor subscriptions,
 * failed logins or addresses.
 */
export function externalEvent(
  topic: string,
  payload: Uint8Array,
  ts: number,
  qos = 0,
  retain = false,
): GuardEvent | undefined {
  if (topic.startsWith('$SYS/')) {
    const m = /^\$SYS\/[^/]+\/(new|disconnect)\/clients$/.exec(topic);
    if (!m) return undefined;
    const client = new TextDecoder().decode(payload);
    return { ts, proto: 'mqtt', kind: m[1] === 'new' ? 'connect' : 'disconnect', client };
  }
  return {
    ts,
    proto: 'mqtt',
    kind: 'publish',
    client: '',
    topic,
    bytes: payload.length,
    qos,
    retain,
    payload,
  };
}
