/**
 * Singleton leases for a fleet of edge boxes, kept by the MQTT broker's own store (retained messages and
 * last wills), so they work on any MQTT 3.1.1 broker: Mosquitto, or a nats-server cluster whose retained
 * messages live in replicated JetStream streams. See docs/ARCHITECTURE.md ("Fleet").
 *
 * Topics under a prefix (default `takt/fleet`):
 *   <prefix>/box/<box>      retained heartbeat {box, role, session, leases, at}, refreshed every
 *                           `heartbeatMs`; the box's MQTT last will clears it (empty retained payload).
 *   <prefix>/lease/<name>   retained claim {box, session, at}.
 *
 * A claim is valid while its box is alive (a heartbeat seen within `ttlMs`, not cleared by the will) in the
 * same session (a restarted box starts a new session, so its old claims are void). A vacant lease is
 * claimed by the alive boxes that may hold it, the first by name at once and the others `staggerMs` apart;
 * every subscriber sees one topic's messages in one order, so the last claim wins everywhere, and a box
 * acts as the holder only once its claim has stood for `settleMs` (at most one box holds a lease at any
 * time, with a gap at each handover). A box that loses its broker connection stops holding at once.
 *
 * `LeaseTable` is the pure decision part (fed with messages and the clock); `LeaseKeeper` runs it on an
 * MQTT connection.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { TaktError } from '../core/errors';
import { type NodeStatus, status } from '../core/status';

export interface LeaseTiming {
  /** A heartbeat is published this often. Default 2000. */
  heartbeatMs: number;
  /** A box with no heartbeat for this long is dead (a will that never came). Default 15000. */
  ttlMs: number;
  /** A claim must stand this long before its box acts as the holder. Default 1000. */
  settleMs: number;
  /** Boxes after the first (by name) wait this much longer each before they claim. Default 300. */
  staggerMs: number;
}

// The time to live only covers a will that never comes (its broker node died too); a dead process is
// seen at once through its will. It is long because a loaded broker may hold retained messages for seconds.
export const DEFAULT_TIMING: LeaseTiming = {
  heartbeatMs: 2000,
  ttlMs: 15000,
  settleMs: 1000,
  staggerMs: 300,
};

export interface BoxInfo {
  box: string;
  role: string;
  session: string;
  leases: string[];
  at: number;
}

export interface Claim {
  box: string;
  session: string;
  at: number;
}

/** Who holds what, as a dashboard shows it. */
export interface LeaseView {
  lease: string;
  /** The box whose claim is valid (it acts once the claim has settled), or null: vacant. */
  holder: string | null;
  /** This box holds the lease and may run the job now. */
  mine: boolean;
  /** Since when (epoch ms) the current claim stands. */
  since: number | null;
}

export interface FleetView {
  box: string;
  role: string;
  connected: boolean;
  leases: LeaseView[];
  boxes: { box: string; role: string; alive: boolean; leases: string[] }[];
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Checks a box or lease name (one topic level: letters, digits, _ . -). */
export function checkName(what: 'box' | 'lease', name: string): string {
  const n = name.trim();
  if (!NAME.test(n)) {
    throw new TaktError(
      what === 'box' ? 'fleet.badBox' : 'fleet.badLease',
      `${what} name "${name}" must be letters, digits, _ . or - (one topic level)`,
      what === 'box' ? 'box' : 'leases',
    );
  }
  return n;
}

/** The lease names of a comma or space separated list (checked, each once). */
export function leaseNames(list: string): string[] {
  return [...new Set(list.split(/[\s,]+/).filter((s) => s.length > 0))].map((n) => checkName('lease', n));
}

function parseJson(payload: Buffer): unknown {
  if (payload.length === 0) return undefined;
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isBox(v: unknown): v is BoxInfo {
  const o = v as Partial<BoxInfo> | undefined;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.box === 'string' &&
    typeof o.session === 'string' &&
    Array.isArray(o.leases)
  );
}

function isClaim(v: unknown): v is Claim {
  const o = v as Partial<Claim> | undefined;
  return typeof o === 'object' && o !== null && typeof o.box === 'string' && typeof o.session === 'string';
}

/** The pure lease table of one box: fed with heartbeats, claims and the time; says what to claim. */
export class LeaseTable {
  private readonly boxes = new Map<string, { info: BoxInfo; seenAt: number }>();
  private readonly claims = new Map<string, { claim: Claim; seenAt: number }>();
  /** When each lease was first seen vacant (for the stagger), and when this box last claimed it. */
  private readonly vacantSince = new Map<string, number>();
  private readonly claimedAt = new Map<string, number>();
  /** Since when this box has seen the retained state (subscribed); undefined while not. */
  private readyAt: number | undefined;

  constructor(
    readonly me: BoxInfo,
    readonly timing: LeaseTiming = DEFAULT_TIMING,
  ) {}

  /**
   * The subscription was acknowledged at `now` (the retained heartbeats and claims follow at once), or, with
   * undefined, the connection was lost. No claim is made before the state has been seen for `settleMs`:
   * a box that just started must not take a lease it has not yet seen held.
   */
  subscribed(now: number | undefined): void {
    this.readyAt = now;
  }

  /** A heartbeat (or, with an empty payload, a will / a clean stop) of a box. */
  onBox(box: string, payload: Buffer, now: number): void {
    const v = parseJson(payload);
    if (isBox(v) && v.box === box) this.boxes.set(box, { info: v, seenAt: now });
    else this.boxes.delete(box);
  }

  /** A claim (or, with an empty payload, a release) of a lease. */
  onClaim(lease: string, payload: Buffer, now: number): void {
    const v = parseJson(payload);
    if (!isClaim(v)) return void this.claims.delete(lease);
    const old = this.claims.get(lease)?.claim;
    // The same claim repeated (a retained copy after a reconnect) keeps its time.
    if (old && old.box === v.box && old.session === v.session && old.at === v.at) return;
    this.claims.set(lease, { claim: v, seenAt: now });
  }

  private alive(box: string, now: number): BoxInfo | undefined {
    const b = this.boxes.get(box);
    return b && now - b.seenAt <= this.timing.ttlMs ? b.info : undefined;
  }

  private valid(lease: string, now: number): { claim: Claim; seenAt: number } | undefined {
    const c = this.claims.get(lease);
    if (!c) return undefined;
    const box = this.alive(c.claim.box, now);
    return box && box.session === c.claim.session ? c : undefined;
  }

  /** Does this box hold the lease now (its valid claim has settled, and it is connected)? */
  holds(lease: string, now: number, connected: boolean): boolean {
    const c = this.valid(lease, now);
    return (
      connected &&
      c !== undefined &&
      c.claim.box === this.me.box &&
      c.claim.session === this.me.session &&
      now - c.seenAt >= this.timing.settleMs
    );
  }

  /** The leases this box should claim now (vacant, its turn in the stagger, not claimed just before). */
  toClaim(now: number): string[] {
    const out: string[] = [];
    if (this.readyAt === undefined || now - this.readyAt < this.timing.settleMs) return out;
    for (const lease of this.me.leases) {
      if (this.valid(lease, now)) {
        this.vacantSince.delete(lease);
        continue;
      }
      const since = this.vacantSince.get(lease) ?? now;
      this.vacantSince.set(lease, since);
      // Rank among the alive boxes that may hold this lease (this one included), by name.
      const candidates = [...this.boxes.keys()]
        .filter((b) => b !== this.me.box && this.alive(b, now)?.leases.includes(lease))
        .concat(this.me.box)
        .sort();
      const rank = candidates.indexOf(this.me.box);
      const last = this.claimedAt.get(lease);
      const retry =
        last !== undefined && now - last < 2 * this.timing.settleMs + rank * this.timing.staggerMs;
      if (now - since >= rank * this.timing.staggerMs && !retry) {
        this.claimedAt.set(lease, now);
        out.push(lease);
      }
    }
    return out;
  }

  /** The claim this box publishes. */
  claim(now: number): Claim {
    return { box: this.me.box, session: this.me.session, at: now };
  }

  view(now: number, connected: boolean): FleetView {
    const names = [...new Set([...this.me.leases, ...this.claims.keys()])].sort();
    return {
      box: this.me.box,
      role: this.me.role,
      connected,
      leases: names.map((lease) => {
        const c = this.valid(lease, now);
        return {
          lease,
          holder: c?.claim.box ?? null,
          mine: this.holds(lease, now, connected),
          since: c?.claim.at ?? null,
        };
      }),
      boxes: [...this.boxes.values()]
        .map(({ info }) => ({
          box: info.box,
          role: info.role,
          alive: this.alive(info.box, now) !== undefined,
          leases: info.leases,
        }))
        .sort((a, b) => a.box.localeCompare(b.box)),
    };
  }
}

/** What LeaseKeeper needs of an MQTT connection (MqttBrokerConnection has it). */
export interface LeaseTransport {
  readonly connected: boolean;
  subscribe(
    user: object,
    filters: string[],
    handler: (topic: string, payload: Buffer) => void,
    qos: 0 | 1 | 2,
  ): void;
  publish(
    topic: string,
    payload: Buffer | string,
    opts: { qos?: 0 | 1 | 2; retain?: boolean },
  ): Promise<void>;
  on(event: 'state', listener: (state: string) => void): unknown;
  off(event: 'state', listener: (state: string) => void): unknown;
  on(event: 'subscribed', listener: (user: object, err: Error | undefined) => void): unknown;
  off(event: 'subscribed', listener: (user: object, err: Error | undefined) => void): unknown;
  close(): Promise<void>;
}

export interface KeeperOptions {
  box: string;
  role?: string;
  leases: string[];
  prefix?: string;
  timing?: Partial<LeaseTiming>;
}

export interface KeeperEvents {
  /** The view changed (a holder, a box, the connection). */
  change: [FleetView];
  /** Publishing a heartbeat or claim failed (retried on the next tick). */
  warning: [string];
}

/** The topics of a fleet prefix. */
export function fleetTopics(prefix: string, box: string) {
  return { box: `${prefix}/box/${box}`, boxes: `${prefix}/box/+`, leases: `${prefix}/lease/+` };
}

/** Runs a LeaseTable on an MQTT connection whose last will clears this box's heartbeat. */
export class LeaseKeeper extends EventEmitter<KeeperEvents> {
  readonly table: LeaseTable;
  private readonly prefix: string;
  private timer: NodeJS.Timeout | undefined;
  private lastBeat = 0;
  private lastView = '';
  private readonly onState = (state: string) => {
    if (state !== 'connected') this.table.subscribed(undefined);
    this.tick();
  };
  private readonly onSubscribed = (user: object, err: Error | undefined) => {
    if (user === this && !err) this.table.subscribed(this.clock());
  };

  constructor(
    private readonly transport: LeaseTransport,
    opts: KeeperOptions,
    private readonly clock: () => number = Date.now,
  ) {
    super();
    const timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.prefix = (opts.prefix ?? 'takt/fleet').replace(/\/+$/, '');
    const me: BoxInfo = {
      box: checkName('box', opts.box),
      role: opts.role ?? '',
      session: randomBytes(6).toString('hex'),
      leases: opts.leases.map((l) => checkName('lease', l)),
      at: 0,
    };
    this.table = new LeaseTable(me, timing);
  }

  /** The will a connection for this keeper must carry: it clears the heartbeat when the box vanishes. */
  static will(prefix: string, box: string) {
    return {
      topic: fleetTopics(prefix.replace(/\/+$/, ''), box).box,
      payload: new Uint8Array(0),
      qos: 1 as const,
      retain: true,
    };
  }

  start(): void {
    const t = fleetTopics(this.prefix, this.table.me.box);
    this.transport.subscribe(
      this,
      [t.boxes, t.leases],
      (topic, payload) => {
        const [kind, name] = topic.slice(this.prefix.length + 1).split('/');
        if (kind === 'box') this.table.onBox(name, payload, this.clock());
        else if (kind === 'lease') this.table.onClaim(name, payload, this.clock());
        this.tick();
      },
      1,
    );
    this.transport.on('state', this.onState);
    this.transport.on('subscribed', this.onSubscribed);
    const every = Math.max(50, Math.min(this.table.timing.staggerMs, this.table.timing.settleMs) / 2);
    this.timer = setInterval(() => this.tick(), every);
    this.tick();
  }

  holds(lease: string): boolean {
    return this.table.holds(lease, this.clock(), this.transport.connected);
  }

  view(): FleetView {
    return this.table.view(this.clock(), this.transport.connected);
  }

  private tick(): void {
    const now = this.clock();
    const connected = this.transport.connected;
    if (connected) {
      if (now - this.lastBeat >= this.table.timing.heartbeatMs) {
        this.lastBeat = now;
        const me = { ...this.table.me, at: now };
        this.send(fleetTopics(this.prefix, me.box).box, JSON.stringify(me));
      }
      for (const lease of this.table.toClaim(now)) {
        this.send(`${this.prefix}/lease/${lease}`, JSON.stringify(this.table.claim(now)));
      }
    } else {
      this.lastBeat = 0; // beat at once on the next connection
    }
    const v = this.view();
    const key = JSON.stringify(v);
    if (key !== this.lastView) {
      this.lastView = key;
      this.emit('change', v);
    }
  }

  private send(topic: string, payload: string): void {
    this.transport
      .publish(topic, payload, { qos: 1, retain: true })
      .catch((err: unknown) =>
        this.emit('warning', `${topic}: ${err instanceof Error ? err.message : String(err)}`),
      );
  }

  /** Releases the leases this box holds and clears its heartbeat (a clean stop hands over at once). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.transport.off('state', this.onState);
    this.transport.off('subscribed', this.onSubscribed);
    if (this.transport.connected) {
      const now = this.clock();
      const mine = this.table.me.leases.filter((l) => this.table.holds(l, now, true));
      const opts = { qos: 1 as const, retain: true };
      await Promise.all([
        ...mine.map((l) => this.transport.publish(`${this.prefix}/lease/${l}`, '', opts)),
        this.transport.publish(fleetTopics(this.prefix, this.table.me.box).box, '', opts),
      ]).catch(() => undefined);
    }
  }
}

/** The status of a lease as this box sees it. */
export function leaseStatus(v: LeaseView | undefined, connected: boolean): NodeStatus {
  if (!connected) return status.disconnected('no broker');
  if (!v?.holder) return status.warning('vacant');
  if (v.mine) return status.connected('held');
  return status.idle(`held by ${v.holder}`);
}
