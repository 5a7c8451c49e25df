/**
 * One MQTT client shared by every node that uses a broker (the takt-mqtt-broker config node owns it).
 * An explicit state machine around mqtt.js:
 *
 *   idle -> connecting -> connected -> (lost) -> backoff -> connecting -> connected ... -> closed
 *
 * mqtt.js's own reconnect timer is off (reconnectPeriod 0): after a failed attempt or a lost connection
 * this class waits `reconnectInitialMs`, doubling per failed attempt up to `reconnectMaxMs` (with
 * jitter), then calls `client.reconnect()`. Users are reference-counted (the first `register` connects,
 * the last `deregister` ends the client). Subscriptions are kept here, once per distinct topic filter,
 * and made again on every new connection, so users never resubscribe themselves.
 *
 * Failover: `url` may list several brokers (a cluster's nodes, separated by commas or spaces); each new
 * attempt goes to the next one, on the same mqtt.js client, so QoS 1 publishes still waiting for their
 * PUBACK are sent again on the next broker. With `cleanSession: false` (and a fixed client id) the broker
 * keeps the session: subscriptions and the QoS 1 messages that arrived while this client was away.
 * A handler may return a promise: the message's PUBACK then waits for it (and the next message for the
 * PUBACK), so a message is acknowledged only once the handler has stored it (see docs/ARCHITECTURE.md).
 *
 * A subscription the broker refuses (SUBACK 0x80) is reported (`subscribed` with the error) and asked for
 * again after the back-off, while connected, until it is granted: a nats-server cluster refuses one while
 * the JetStream consumer it needs waits for a leader (a node died), and the box must not stay deaf.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { TaktError } from '../core/errors';
import { warmPacketLengthCache } from './packet-cache';

export interface BrokerTls {
  /** PEM file paths on the edge box. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized: boolean;
}

export interface BrokerOptions {
  /** mqtt://, mqtts://, ws:// or wss://; several (comma or space separated) to fail over between them. */
  url: string;
  /** False: the broker keeps the session while away (needs a fixed client id). Default true. */
  cleanSession?: boolean;
  /** Empty: one is generated ("takt_" and random hex). */
  clientId?: string;
  username?: string;
  password?: string;
  keepaliveSec?: number;
  /** MQTT protocol version: 4 (3.1.1, default) or 5. */
  protocolVersion?: 4 | 5;
  tls?: BrokerTls;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  /** The MQTT last will, published by the broker if this client vanishes (Sparkplug's NDEATH). */
  will?: BrokerWill;
}

export interface BrokerWill {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export type BrokerState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

/** A handler returning a promise holds the message's PUBACK until the promise settles. */
export type MessageHandler = (topic: string, payload: Buffer) => void | Promise<unknown>;

export interface BrokerEvents {
  /** Every state change, with a short cause for `backoff` (e.g. "refused", "not authorised"). */
  state: [BrokerState, string | undefined];
  /** A user's subscriptions were acknowledged on the current connection (or refused: the error; asked again). */
  subscribed: [object, Error | undefined];
  /** A user's handler threw (the message is dropped for that user only). */
  handlerError: [object, Error];
}

const SCHEMES = /^(mqtts?|wss?):\/\/[^/\s]+/;

/** The broker URLs of a failover list ("mqtt://a:1883, mqtt://b:1883" or one URL). */
export function brokerUrls(url: string): string[] {
  return url.split(/[\s,]+/).filter((u) => u.length > 0);
}

/** Checks and completes broker options; throws TaktError naming the field. */
export function checkBrokerOptions(o: BrokerOptions): BrokerOptions {
  const urls = brokerUrls(o.url);
  const bad = urls.find((u) => !SCHEMES.test(u));
  if (urls.length === 0 || bad !== undefined) {
    throw new TaktError(
      'mqtt.badUrl',
      `broker URL "${bad ?? o.url}" must look like mqtt://host:1883, mqtts://, ws:// or wss://`,
      'url',
    );
  }
  const url = urls.join(', ');
  const keepalive = o.keepaliveSec ?? 60;
  if (!(Number.isInteger(keepalive) && keepalive >= 0 && keepalive <= 65535)) {
    throw new TaktError('mqtt.badKeepalive', `keepalive must be 0..65535 s, got ${keepalive}`, 'keepalive');
  }
  const initial = o.reconnectInitialMs ?? 1000;
  const max = o.reconnectMaxMs ?? 30000;
  if (!(initial > 0 && max >= initial)) {
    throw new TaktError(
      'mqtt.badBackoff',
      `reconnect back-off must be > 0 ms and its cap at least as long (${initial} / ${max})`,
      'reconnectMaxMs',
    );
  }
  const fixedId = (o.clientId ?? '').trim();
  if (o.cleanSession === false && !fixedId) {
    throw new TaktError(
      'mqtt.sessionNeedsId',
      'a kept session (clean session off) needs a fixed client id, one per box',
      'clientId',
    );
  }
  const clientId = fixedId || `takt_${randomBytes(6).toString('hex')}`;
  if (/[+#]/.test(clientId)) throw new TaktError('mqtt.badClientId', 'client id must not contain + or #');
  return {
    ...o,
    url,
    clientId,
    cleanSession: o.cleanSession ?? true,
    keepaliveSec: keepalive,
    reconnectInitialMs: initial,
    reconnectMaxMs: max,
  };
}

/** True when an MQTT topic matches a subscription filter ('+', '#', and $share/<group>/ prefixes). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
  const fp = f.split('/');
  const tp = topic.split('/');
  // Wildcards at the first level do not match topics starting with '$' (MQTT 4.7.2).
  if (topic.startsWith('$') && (fp[0] === '+' || fp[0] === '#')) return false;
  for (let i = 0; i < fp.length; i++) {
    if (fp[i] === '#') return true;
    if (i >= tp.length) return false;
    if (fp[i] !== '+' && fp[i] !== tp[i]) return false;
  }
  return fp.length === tp.length;
}

/** A short, named cause for a failed or lost connection (shown in node status, under 20 characters). */
export function describeMqttError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const known: [RegExp, string][] = [
    [/Not authorized|Bad username or password|not authori[sz]ed/i, 'not authorised'],
    [/identifier rejected|Client Identifier not valid/i, 'client id rejected'],
    [/self[- ]signed|unable to verify|certificate|CERT_|UNABLE_TO_GET_ISSUER/i, 'cert not trusted'],
    [/ECONNREFUSED/, 'refused'],
    [/ENOTFOUND|EAI_AGAIN/, 'host not found'],
    [/ETIMEDOUT|timeout/i, 'timed out'],
    [/ECONNRESET|EPIPE|connection closed|socket/i, 'connection lost'],
  ];
  for (const [re, label] of known) if (re.test(text) || re.test(code)) return label;
  return text.split('\n')[0].slice(0, 120);
}

/** An mqtt.js `servers` entry for one URL of a failover list. */
function serverOf(url: string): { host: string; port: number; protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss' } {
  const u = new URL(url);
  const protocol = u.protocol.replace(':', '') as 'mqtt' | 'mqtts' | 'ws' | 'wss';
  const ports = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };
  return { host: u.hostname, port: Number(u.port) || ports[protocol], protocol };
}

/**
 * The wait before retry `attempt` (0-based): the initial back-off, doubling up to its cap, ±20 %. With a
 * failover list of `servers` brokers it doubles once per round of the list, so every node is tried at the
 * short wait first: a cluster that lost a node answers again after its leader elections (nats-server 2.9:
 * about 5-10 s, each attempt on a node still electing failing after its 4 s JetStream timeout), not after a
 * wait grown by the failures on the way.
 */
export function backoffDelay(
  attempt: number,
  o: Pick<BrokerOptions, 'reconnectInitialMs' | 'reconnectMaxMs'>,
  servers = 1,
): number {
  const initial = o.reconnectInitialMs ?? 1000;
  const max = o.reconnectMaxMs ?? 30000;
  const doublings = Math.min(Math.floor(attempt / Math.max(1, servers)), 16);
  return Math.min(max, initial * 2 ** doublings) * (0.8 + Math.random() * 0.4);
}

interface UserEntry {
  filters: string[];
  handler: MessageHandler;
  qos: 0 | 1 | 2;
}

export class MqttBrokerConnection extends EventEmitter<BrokerEvents> {
  readonly options: BrokerOptions;
  private readonly clientOptions: IClientOptions;
  private stateValue: BrokerState = 'idle';
  private client: MqttClient | undefined;
  private readonly users = new Set<object>();
  private readonly subs = new Map<object, UserEntry>();
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Filters the broker refused on this connection, per user, asked for again by `resubTimer`. */
  private readonly refused = new Map<object, Set<string>>();
  private resubTimer: NodeJS.Timeout | undefined;
  private resubAttempt = 0;
  private lastError: string | undefined;
  private readonly firstUrl: string;

  /** Validates the options and reads the TLS files (throws TaktError: the config is unusable). */
  constructor(options: BrokerOptions) {
    super();
    this.options = checkBrokerOptions(options);
    const o = this.options;
    const urls = brokerUrls(o.url);
    this.firstUrl = urls[0];
    const tls: IClientOptions = {};
    if (o.tls) {
      const read = (file: string | undefined, what: string) => {
        if (!file) return undefined;
        try {
          return readFileSync(file);
        } catch (err) {
          throw new TaktError('mqtt.badTls', `${what} file ${file}: ${(err as Error).message}`, what);
        }
      };
      const ca = read(o.tls.caFile, 'CA');
      const cert = read(o.tls.certFile, 'certificate');
      const key = read(o.tls.keyFile, 'key');
      if ((cert === undefined) !== (key === undefined)) {
        throw new TaktError(
          'mqtt.badTls',
          'a client certificate needs its key file, and the other way round',
        );
      }
      if (ca) tls.ca = ca;
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
      tls.rejectUnauthorized = o.tls.rejectUnauthorized;
    }
    this.clientOptions = {
      ...tls,
      clientId: o.clientId,
      keepalive: o.keepaliveSec,
      protocolVersion: o.protocolVersion ?? 4,
      clean: o.cleanSession !== false,
      ...(urls.length > 1 ? { servers: urls.map(serverOf) } : {}),
      reconnectPeriod: 0, // ours: see scheduleRetry
      resubscribe: false, // ours: see onConnect
      connectTimeout: o.connectTimeoutMs ?? 10000,
      manualConnect: true,
      ...(o.will ? { will: { ...o.will, payload: Buffer.from(o.will.payload) } } : {}),
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
    };
  }

  get state(): BrokerState {
    return this.stateValue;
  }

  /** The cause of the last failure, while not connected. */
  get cause(): string | undefined {
    return this.stateValue === 'connected' ? undefined : this.lastError;
  }

  get connected(): boolean {
    return this.stateValue === 'connected';
  }

  /** The broker of the current (or last) connection attempt, e.g. "mqtt://127.0.0.1:1883". */
  get server(): string {
    const o = this.client?.options;
    return o?.host ? `${o.protocol ?? 'mqtt'}://${o.host}:${o.port}` : this.firstUrl;
  }

  /** Replaces the last will's payload; the broker gets it with the next CONNECT (this session keeps its own). */
  setWillPayload(payload: Uint8Array): void {
    const will = this.clientOptions.will;
    if (!will) throw new TaktError('mqtt.noWill', 'this connection was made without a last will');
    will.payload = Buffer.from(payload);
    // mqtt.js builds each CONNECT packet, reconnections included, from its client's options.
    if (this.client?.options.will) this.client.options.will.payload = will.payload;
  }

  /** Registers a user; the first one opens the connection. */
  register(user: object): void {
    this.users.add(user);
    if (this.stateValue === 'idle' || this.stateValue === 'closed') this.open();
  }

  /** Removes a user and its subscriptions; the last one ends the connection. */
  async deregister(user: object): Promise<void> {
    this.users.delete(user);
    const entry = this.subs.get(user);
    this.subs.delete(user);
    if (this.users.size === 0) return this.close();
    if (entry && this.client?.connected) {
      const still = new Set([...this.subs.values()].flatMap((e) => e.filters));
      const gone = entry.filters.filter((f) => !still.has(f));
      if (gone.length) await this.client.unsubscribeAsync(gone).catch(() => undefined);
    }
  }

  /**
   * Subscribes a registered user to topic filters (replacing its earlier ones). The handler gets every
   * message whose topic matches one of them; `subscribed` is emitted for the user on each connection.
   */
  subscribe(user: object, filters: string[], handler: MessageHandler, qos: 0 | 1 | 2 = 0): void {
    if (!this.users.has(user)) this.register(user);
    this.subs.set(user, { filters: [...filters], handler, qos });
    if (this.client?.connected) this.subscribeUsers([user]);
  }

  /** Publishes when connected; rejects at once otherwise (nothing is queued across outages). */
  async publish(
    topic: string,
    payload: Buffer | Uint8Array | string,
    opts: { qos?: 0 | 1 | 2; retain?: boolean } = {},
  ): Promise<void> {
    const c = this.client;
    if (!c || !c.connected) {
      throw new TaktError(
        'mqtt.notConnected',
        `not connected to ${this.server}${this.lastError ? `: ${this.lastError}` : ''}`,
      );
    }
    await c.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), {
      qos: opts.qos ?? 0,
      retain: opts.retain ?? false,
    });
  }

  /**
   * Drops the current connection as if it were lost (the next attempt goes to the next broker of the list;
   * QoS 1 publishes without PUBACK are sent again there). For a broker node that keeps the connection but
   * stops acknowledging (e.g. a cluster node whose store lost its quorum).
   */
  dropConnection(why = 'no acknowledgement'): void {
    const c = this.client;
    if (!c || !c.connected) return;
    this.lastError = why;
    c.stream.destroy();
  }

  private setState(s: BrokerState, why?: string): void {
    this.stateValue = s;
    this.emit('state', s, why);
  }

  private open(): void {
    warmPacketLengthCache(); // once per process: see packet-cache.ts
    const client = mqtt.connect(this.firstUrl, this.clientOptions);
    this.client = client;
    // Messages are handed out here rather than on 'message': mqtt.js sends a QoS 1 PUBACK once this
    // callback runs, so a handler's promise (its message is stored) comes first.
    client.handleMessage = (packet, callback) => {
      if (this.client !== client) return callback();
      const pending = this.dispatch(packet.topic, Buffer.from(packet.payload));
      if (pending.length === 0) return callback();
      void Promise.all(pending).then(() => callback());
    };
    client.on('connect', () => {
      if (this.client !== client) return;
      this.attempt = 0;
      this.lastError = undefined;
      this.clearRefused();
      this.setState('connected');
      this.subscribeUsers([...this.subs.keys()]);
    });
    client.on('error', (err) => {
      if (this.client === client) this.lastError = describeMqttError(err);
    });
    client.on('close', () => {
      if (this.client !== client || this.stateValue === 'closed') return;
      this.scheduleRetry(this.lastError ?? 'connection lost');
    });
    this.setState('connecting');
    client.connect();
  }

  /** Hands a message to its users; returns the promises of those that store it asynchronously. */
  private dispatch(topic: string, payload: Buffer): Promise<void>[] {
    const pending: Promise<void>[] = [];
    const failed = (user: object) => (err: unknown) =>
      void this.emit('handlerError', user, err instanceof Error ? err : new Error(String(err)));
    for (const [user, e] of this.subs) {
      if (!e.filters.some((f) => topicMatches(f, topic))) continue;
      try {
        const r = e.handler(topic, payload);
        // A failed store is reported, and the message acknowledged all the same (a message that can
        // never be stored must not block the session).
        if (r instanceof Promise) pending.push(r.then(() => undefined, failed(user)));
      } catch (err) {
        failed(user)(err);
      }
    }
    return pending;
  }

  /**
   * Subscribes the filters of the given users (each filter once, at the highest QoS asked for), or only
   * those of `only` (a retry of refused ones). Refused filters are asked for again after the back-off.
   */
  private subscribeUsers(users: object[], only?: Set<string>): void {
    const client = this.client;
    if (!client) return;
    const wanted = new Map<string, 0 | 1 | 2>();
    for (const u of users) {
      const e = this.subs.get(u);
      for (const f of e?.filters ?? []) {
        if (!only || only.has(f)) wanted.set(f, Math.max(wanted.get(f) ?? 0, e?.qos ?? 0) as 0 | 1 | 2);
      }
    }
    if (wanted.size === 0) return;
    const map = Object.fromEntries([...wanted].map(([f, qos]) => [f, { qos }]));
    const asked = Object.keys(map);
    client.subscribe(map, (err, _granted, suback) => {
      if (this.client !== client) return;
      // A SUBACK's return codes follow the order of the filters asked for; 0x80 is a refusal (mqtt.js
      // then reports an error too; without a SUBACK the error is the connection's, and the next one
      // subscribes everything again).
      const codes = suback?.granted ?? [];
      const refused = new Set(asked.filter((_f, i) => ((codes[i] as number | undefined) ?? 0) >= 0x80));
      const failed = suback ? undefined : (err ?? undefined);
      for (const u of users) {
        const mine = this.subs.get(u)?.filters.filter((f) => refused.has(f));
        if (!mine) continue; // deregistered meanwhile
        const error =
          failed ??
          (mine.length
            ? new TaktError('mqtt.subscribeRefused', `the broker refused ${mine.join(', ')}`)
            : undefined);
        if (mine.length) this.refused.set(u, new Set([...(this.refused.get(u) ?? []), ...mine]));
        this.emit('subscribed', u, error);
      }
      if (refused.size > 0) this.scheduleResubscribe();
      else if (this.refused.size === 0) this.resubAttempt = 0;
    });
  }

  /** Asks again, after the back-off, for the filters the broker refused on this connection. */
  private scheduleResubscribe(): void {
    if (this.resubTimer) return;
    const delay = backoffDelay(this.resubAttempt++, this.options);
    this.resubTimer = setTimeout(() => {
      this.resubTimer = undefined;
      if (!this.client?.connected) return; // a new connection subscribes everything anyway
      const users = [...this.refused.keys()].filter((u) => this.subs.has(u));
      const filters = new Set(users.flatMap((u) => [...(this.refused.get(u) ?? [])]));
      this.refused.clear();
      this.subscribeUsers(users, filters);
    }, delay);
  }

  private clearRefused(): void {
    if (this.resubTimer) clearTimeout(this.resubTimer);
    this.resubTimer = undefined;
    this.resubAttempt = 0;
    this.refused.clear();
  }

  private scheduleRetry(why: string): void {
    if (this.retryTimer) return;
    if (this.users.size === 0) return void this.close();
    const delay = backoffDelay(this.attempt, this.options, brokerUrls(this.options.url).length);
    this.attempt++;
    this.lastError = why;
    this.setState('backoff', why);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const c = this.client;
      if (!c || this.stateValue === 'closed') return;
      this.setState('connecting', `retry ${this.attempt}`);
      // With its stores: mqtt.js's reconnect() without them starts empty ones, and the QoS 1 publishes still
      // waiting for a PUBACK would be neither sent again nor ever settled.
      c.reconnect({ incomingStore: c.incomingStore, outgoingStore: c.outgoingStore });
    }, delay);
  }

  /** Ends the client (used when the last user leaves, and by the config node on close). */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearRefused();
    const c = this.client;
    this.client = undefined;
    this.attempt = 0;
    if (this.stateValue !== 'closed' && this.stateValue !== 'idle') this.setState('closed');
    else this.stateValue = 'closed';
    if (!c) return;
    // A live connection says goodbye (DISCONNECT); a dead one is dropped at once (also one just dropped:
    // mqtt.js still calls it connected until the socket's close event, and a goodbye would wait for PUBACKs).
    await c.endAsync(!c.connected || c.stream?.destroyed === true).catch(() => undefined);
  }
}
