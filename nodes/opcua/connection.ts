/**
 * One OPC UA client session shared by every node that uses an endpoint (the takt-opcua-endpoint config
 * node owns it). An explicit state machine around node-opcua's client:
 *
 *   idle -> connecting -> connected -> (lost) -> backoff -> connecting -> connected ... -> closed
 *
 * A lost connection (network loss, server restart, session expiry or a failed keep-alive) tears the
 * client down and builds a new client and session after an exponential back-off with jitter; users
 * rebuild their subscriptions in their `onSession` callback, so nothing is subscribed twice. Causes
 * (unreachable, wrong password, untrusted certificate, policy rejected) are reported by name.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  type ClientSession,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua';
import { TaktError } from '../core/errors';

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type SecurityModeName = (typeof SECURITY_MODES)[number];
export const SECURITY_POLICIES = [
  'None',
  'Basic256Sha256',
  'Aes128_Sha256_RsaOaep',
  'Aes256_Sha256_RsaPss',
] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];

export type EndpointAuth =
  | { type: 'anonymous' }
  | { type: 'username'; user: string; password: string }
  | { type: 'x509'; certificateFile: string; privateKeyFile: string };

export interface EndpointOptions {
  url: string;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  auth: EndpointAuth;
  /** Client PKI folder (own certificate made on first use, trusted/rejected server certificates). */
  pkiDir: string;
  /** Trust a server certificate the first time it is seen; otherwise it must be trusted explicitly. */
  trustOnFirstUse?: boolean;
  /** Session keep-alive period. */
  keepAliveMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  applicationName?: string;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

export interface ConnectionEvents {
  state: [ConnectionState, string | undefined];
}

/** Checks endpoint options; throws TaktError naming the field. */
export function checkEndpointOptions(o: EndpointOptions): EndpointOptions {
  if (!/^opc\.tcp:\/\/[^/\s]+/.test(o.url))
    throw new TaktError(
      'opcua.badUrl',
      `endpoint URL "${o.url}" must look like opc.tcp://host:port/path`,
      'url',
    );
  if (!(SECURITY_MODES as readonly string[]).includes(o.securityMode)) {
    throw new TaktError(
      'opcua.badMode',
      `unknown security mode "${o.securityMode}" (use ${SECURITY_MODES.join(', ')})`,
      'securityMode',
    );
  }
  if (!(SECURITY_POLICIES as readonly string[]).includes(o.securityPolicy)) {
    throw new TaktError(
      'opcua.badPolicy',
      `unknown security policy "${o.securityPolicy}" (use ${SECURITY_POLICIES.join(', ')})`,
      'securityPolicy',
    );
  }
  if ((o.securityMode === 'None') !== (o.securityPolicy === 'None')) {
    throw new TaktError(
      'opcua.badSecurity',
      `security mode ${o.securityMode} does not go with policy ${o.securityPolicy}`,
      'securityPolicy',
    );
  }
  if (o.auth.type === 'username' && !o.auth.user)
    throw new TaktError('opcua.badAuth', 'username authentication needs a user name', 'user');
  return o;
}

/** A short, named cause for a failed connection attempt. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // Short labels: they are shown in node status (under 20 characters).
  const known: [RegExp, string][] = [
    [/BadUserAccessDenied|BadIdentityToken/i, 'user rejected'],
    [
      /BadCertificateUntrusted|BadSecurityChecksFailed|certificate.*(untrusted|not trusted|rejected)|server certificate is trusted/i,
      'cert not trusted',
    ],
    [/BadSecurityPolicyRejected|security policy/i, 'policy rejected'],
    [/ECONNREFUSED/i, 'refused'],
    [/ENOTFOUND|EAI_AGAIN/i, 'host not found'],
    [/ETIMEDOUT|timeout/i, 'timed out'],
    [/ECONNRESET|socket has been disconnected|closed by server/i, 'connection lost'],
  ];
  for (const [re, label] of known) if (re.test(text)) return label;
  return text.split('\n')[0].slice(0, 120);
}

type SessionUser = (session: ClientSession) => Promise<void> | void;

/** A certificate file's DER bytes, whether the file holds PEM text or DER. */
export function derCertificate(file: Buffer): Buffer {
  const text = file.toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  return m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : file;
}

export class OpcuaConnection extends EventEmitter<ConnectionEvents> {
  readonly options: EndpointOptions;
  private stateValue: ConnectionState = 'idle';
  private client: OPCUAClient | undefined;
  private sessionValue: ClientSession | undefined;
  private users = new Set<object>();
  private sessionUsers = new Map<object, SessionUser>();
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  private certificateManager: OPCUACertificateManager | undefined;
  lastError: string | undefined;

  constructor(options: EndpointOptions) {
    super();
    this.options = checkEndpointOptions(options);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get session(): ClientSession | undefined {
    return this.stateValue === 'connected' ? this.sessionValue : undefined;
  }

  /** Registers a user; the first one opens the connection. `onSession` runs on every new session. */
  register(user: object, onSession?: SessionUser): void {
    this.users.add(user);
    if (onSession) {
      this.sessionUsers.set(user, onSession);
      const s = this.session;
      if (s) void this.runUser(onSession, s);
    }
    if (this.stateValue === 'idle' || this.stateValue === 'closed') {
      this.stateValue = 'idle';
      void this.connect();
    }
  }

  /** Removes a user; the last one closes the connection. */
  async deregister(user: object): Promise<void> {
    this.users.delete(user);
    this.sessionUsers.delete(user);
    if (this.users.size === 0) await this.close();
  }

  /** Resolves with a session when connected (waits up to timeoutMs). */
  async whenConnected(timeoutMs = 10000): Promise<ClientSession> {
    const s = this.session;
    if (s) return s;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('state', onState);
        reject(
          new TaktError(
            'opcua.notConnected',
            `not connected to ${this.options.url}${this.lastError ? `: ${this.lastError}` : ''}`,
          ),
        );
      }, timeoutMs);
      const onState = (st: ConnectionState) => {
        if (st === 'connected' && this.sessionValue) {
          clearTimeout(timer);
          this.off('state', onState);
          resolve(this.sessionValue);
        }
      };
      this.on('state', onState);
    });
  }

  private setState(s: ConnectionState, why?: string): void {
    this.stateValue = s;
    this.emit('state', s, why);
  }

  private identity(): UserIdentityInfo {
    const a = this.options.auth;
    if (a.type === 'username')
      return { type: UserTokenType.UserName, userName: a.user, password: a.password };
    if (a.type === 'x509') {
      return {
        type: UserTokenType.Certificate,
        certificateData: derCertificate(readFileSync(a.certificateFile)),
        privateKey: readFileSync(a.privateKeyFile, 'utf8'),
      };
    }
    return { type: UserTokenType.Anonymous };
  }

  private async connect(): Promise<void> {
    if (this.stateValue === 'connecting' || this.stateValue === 'connected') return;
    const gen = ++this.generation;
    this.setState('connecting', this.attempt > 0 ? `retry ${this.attempt}` : undefined);
    const o = this.options;
    this.certificateManager ??= new OPCUACertificateManager({
      rootFolder: o.pkiDir,
      automaticallyAcceptUnknownCertificate: o.trustOnFirstUse ?? false,
    });
    const client = OPCUAClient.create({
      applicationName: o.applicationName ?? 'Takt',
      endpointMustExist: false,
      securityMode: MessageSecurityMode[o.securityMode],
      securityPolicy: SecurityPolicy[o.securityPolicy],
      clientCertificateManager: this.certificateManager,
      // Reconnection is ours (a new client and session), so node-opcua must not retry on its own.
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      keepSessionAlive: true,
      keepAliveInterval: o.keepAliveMs ?? 5000,
      requestedSessionTimeout: 60000,
    });
    this.client = client;
    try {
      await client.connect(o.url);
      if (gen !== this.generation) return void client.disconnect();
      const session = await client.createSession(this.identity());
      if (gen !== this.generation) return void client.disconnect();
      this.sessionValue = session;
      const lost = (why: string) => {
        if (gen === this.generation && this.stateValue === 'connected') void this.lost(why);
      };
      client.on('close', () => lost('connection lost'));
      client.on('start_reconnection', () => lost('connection lost'));
      session.on('session_closed', () => lost('session closed'));
      session.on('keepalive_failure', () => lost('keep-alive failed'));
      this.attempt = 0;
      this.lastError = undefined;
      this.setState('connected');
      for (const u of this.sessionUsers.values()) await this.runUser(u, session);
    } catch (err) {
      if (gen !== this.generation) return;
      this.lastError = describeError(err);
      await client.disconnect().catch(() => undefined);
      this.scheduleRetry(this.lastError);
    }
  }

  private async runUser(user: SessionUser, session: ClientSession): Promise<void> {
    try {
      await user(session);
    } catch {
      // A user's own failure (e.g. a bad NodeId) is that user's to report; the session stays up.
    }
  }

  private async lost(why: string): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.sessionValue = undefined;
    this.lastError = why;
    this.scheduleRetry(why);
    await client?.disconnect().catch(() => undefined);
  }

  private scheduleRetry(why: string): void {
    if (this.users.size === 0) return void this.setState('closed', why);
    const initial = this.options.reconnectInitialMs ?? 1000;
    const max = this.options.reconnectMaxMs ?? 30000;
    const delay = Math.min(max, initial * 2 ** Math.min(this.attempt, 16)) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.setState('backoff', why);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  /** Trusts the server's certificate (the editor's "trust this server" action). */
  async trustServer(): Promise<string> {
    this.certificateManager ??= new OPCUACertificateManager({
      rootFolder: this.options.pkiDir,
      automaticallyAcceptUnknownCertificate: false,
    });
    await this.certificateManager.initialize();
    const probe = OPCUAClient.create({
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0 },
      clientCertificateManager: this.certificateManager,
    });
    try {
      await probe.connect(this.options.url);
      const endpoints = await probe.getEndpoints();
      const cert = endpoints.find(
        (e) => e.serverCertificate && e.serverCertificate.length > 0,
      )?.serverCertificate;
      if (!cert)
        throw new TaktError('opcua.noCertificate', `${this.options.url} offers no server certificate`);
      await this.certificateManager.trustCertificate(cert);
      // Retry at once with the certificate trusted.
      if (this.stateValue === 'backoff' && this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        void this.connect();
      }
      return `${this.options.url}: server certificate trusted`;
    } finally {
      await probe.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    const session = this.sessionValue;
    this.client = undefined;
    this.sessionValue = undefined;
    this.attempt = 0;
    this.setState('closed');
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
  }
}
