/**
 * Sparkplug B host-side decoding (the engine behind takt-sparkplug-in): no Node-RED, no I/O.
 *
 * Per edge node it keeps the state a Sparkplug host application needs:
 *   - the metric definitions (name, datatype, alias) from NBIRTH and each DBIRTH, so that data messages
 *     that carry only aliases can be resolved;
 *   - the sequence number (NBIRTH has seq 0, every later NBIRTH/DBIRTH/NDATA/DDATA/DDEATH of the edge node
 *     adds 1 modulo 256) and the bdSeq of the session (an NDEATH counts only when its bdSeq matches);
 *   - the last value of every metric, so that a death can be reported as "bad" samples.
 *
 * A gap in the sequence, data before any birth, data from a device without a DBIRTH or an unknown alias
 * asks for a Rebirth (the caller publishes `rebirthCommand()` on `rebirthTopic()`), at most once per
 * `rebirthIntervalMs` per edge node.
 *
 * Topics: spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|NCMD>/<edge node> and
 *         spBv1.0/<group>/<DBIRTH|DDATA|DDEATH|DCMD>/<edge node>/<device>.
 */
import type { TypeStr, UMetric, UPayload, UTemplate } from 'sparkplug-payload/lib/sparkplugbpayload';
import * as proto from 'sparkplug-payload/lib/sparkplugPayloadProto';
import { TaktError } from '../core/errors';
import type { Quality, Sample, SampleValue } from '../core/sample';
import { MAX_TS } from '../core/time';
import { codec, NAMESPACE, REBIRTH_METRIC } from './codec';

export { NAMESPACE, REBIRTH_METRIC } from './codec';

export const MESSAGE_TYPES = [
  'NBIRTH',
  'NDATA',
  'NDEATH',
  'DBIRTH',
  'DDATA',
  'DDEATH',
  'NCMD',
  'DCMD',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export type DateTimeFormat = 'epoch' | 'iso';

export interface DecoderOptions {
  /** Only emit samples of this device ('+' or undefined: the edge nodes' own metrics and every device). */
  device?: string;
  /** How DateTime metrics are emitted: epoch milliseconds (default) or ISO 8601 text. */
  dateTime?: DateTimeFormat;
  /** Put in front of every sample topic, e.g. "Acme". */
  topicPrefix?: string;
  /** Least time between two Rebirth requests to the same edge node (default 5000 ms). */
  rebirthIntervalMs?: number;
}

/** A sample with where it came from. */
export interface SparkplugSample extends Sample {
  group: string;
  edgeNode: string;
  /** Undefined for the edge node's own metrics. */
  device?: string;
  metric: string;
}

export interface RebirthRequest {
  group: string;
  edgeNode: string;
  /** Why, e.g. "sequence gap: expected 12, got 14". */
  reason: string;
}

export interface ParsedTopic {
  group: string;
  type: MessageType;
  edgeNode: string;
  device?: string;
}

export interface DecodeResult {
  /** Undefined when the topic is not a Sparkplug B message topic. */
  topic?: ParsedTopic;
  samples: SparkplugSample[];
  seq?: number;
  /** Set when the caller should publish a Rebirth command now. */
  rebirth?: RebirthRequest;
  /** A protocol problem found in this message (gap, unknown alias, ...), whether or not a rebirth was sent. */
  problem?: string;
  /** The message calls for a rebirth (sent in `rebirth`, or held back by the rate limit). */
  wantsRebirth?: boolean;
  /** Set when the message could not be used at all (malformed payload or topic). */
  error?: TaktError;
}

/**
 * Edge nodes one decoder follows (live ones and those remembered only to rate-limit rebirth requests). At the
 * cap the oldest offline one is forgotten; with every one online, a birth of one more is refused (counted in
 * `refusedNodes`), so a stream of made-up edge node ids cannot grow the decoder without end.
 */
export const MAX_EDGE_NODES = 10000;

export interface DecoderStats {
  /** Edge nodes with a live birth. */
  nodes: number;
  /** Metrics known from the births of live edge nodes and devices. */
  metrics: number;
  messages: number;
  malformed: number;
  rebirths: number;
  gaps: number;
  /** Births and rebirth requests of new edge nodes refused because MAX_EDGE_NODES were followed. */
  refusedNodes: number;
}

interface MetricState {
  name: string;
  type: TypeStr | undefined;
  value: SampleValue | undefined;
  ts: number;
}

interface ScopeState {
  /** Undefined for the edge node itself. */
  device: string | undefined;
  online: boolean;
  byName: Map<string, MetricState>;
  byAlias: Map<number, MetricState>;
}

interface EdgeNodeState {
  group: string;
  edgeNode: string;
  /** Between NBIRTH and NDEATH. */
  online: boolean;
  bdSeq: number | undefined;
  /** Last sequence number seen; undefined when continuity is unknown (after `invalidate()`). */
  seq: number | undefined;
  node: ScopeState;
  devices: Map<string, ScopeState>;
  lastRebirthAt: number;
}

/** A protobuf 64-bit integer as decoded by sparkplug-payload (long.js), without depending on long.js. */
interface LongLike {
  toNumber(): number;
  high: number;
  low: number;
}

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && 'toNumber' in v && 'high' in v && 'low' in v;
}

/** A number from a number or a long.js Long (64-bit values beyond 2^53 lose precision). */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (isLong(v)) return v.toNumber();
  return undefined;
}

/** A 64-bit Long as a number, read as signed or unsigned from its two 32-bit halves. */
function longValue(v: LongLike, signed: boolean): number {
  const high = signed ? v.high | 0 : v.high >>> 0;
  return high * 2 ** 32 + (v.low >>> 0);
}

/** A Sparkplug timestamp as epoch ms; undefined when absent or out of range (before 1970, after 9999). */
function epochMs(v: unknown): number | undefined {
  const n = toNumber(v);
  return n !== undefined && Number.isFinite(n) && n >= 0 && n <= MAX_TS ? n : undefined;
}

/** Splits a Sparkplug B topic; undefined when it is not one (e.g. STATE or another namespace). */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== NAMESPACE || parts.length < 4 || parts.length > 5) return undefined;
  const [, group, type, edgeNode, device] = parts;
  if (!(MESSAGE_TYPES as readonly string[]).includes(type) || !group || !edgeNode) return undefined;
  const isDevice = type[0] === 'D';
  if (isDevice !== (device !== undefined) || device === '') return undefined;
  return { group, type: type as MessageType, edgeNode, ...(device !== undefined ? { device } : {}) };
}

/** Checks one level of a subscription (group, edge node or device): a name or '+'. */
export function checkIdFilter(value: string, field: string): string {
  const v = value.trim();
  if (v === '' || (v !== '+' && /[/+#]/.test(v))) {
    throw new TaktError(
      'sparkplug.badFilter',
      `${field} "${value}" must be '+' or a name without / + #`,
      field,
    );
  }
  return v;
}

/**
 * The MQTT topic filters that cover every message of the chosen edge nodes. Device messages are always
 * subscribed to with '+': the sequence number runs across the edge node and all its devices, so a host
 * that saw only one device would see gaps everywhere (the device choice filters the samples instead).
 */
export function subscriptionFilters(group: string, edgeNode: string): string[] {
  const g = checkIdFilter(group, 'group');
  const e = checkIdFilter(edgeNode, 'edgeNode');
  return [`${NAMESPACE}/${g}/+/${e}`, `${NAMESPACE}/${g}/+/${e}/+`];
}

export function rebirthTopic(group: string, edgeNode: string): string {
  return `${NAMESPACE}/${group}/NCMD/${edgeNode}`;
}

/** The NCMD payload that asks an edge node to publish its births again. */
export function rebirthCommand(now = Date.now()): Uint8Array {
  return codec.encodePayload({
    timestamp: now,
    metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }],
  });
}

/** Names of metrics that belong to the protocol rather than to the plant; tracked, never emitted. */
function isControlMetric(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/');
}

/** Metric names may contain '/': keep them as path segments, dropping empty ones and MQTT wildcards. */
function pathSegments(name: string): string[] {
  return name
    .split('/')
    .map((s) => s.trim().replace(/[+#]/g, '_'))
    .filter((s) => s !== '');
}

const TYPE_CODES: readonly TypeStr[] = [
  'Int8',
  'Int16',
  'Int32',
  'Int64',
  'UInt8',
  'UInt16',
  'UInt32',
  'UInt64',
  'Float',
  'Double',
  'Boolean',
  'String',
  'DateTime',
  'Text',
  'UUID',
  'DataSet',
  'Bytes',
  'File',
  'Template',
  'PropertySet',
  'PropertySetList',
];

/**
 * sparkplug-payload reads a metric's value by its datatype, so a data metric sent without one comes out
 * as null. Decodes the raw protobuf, fills each missing datatype in from the birth (by name or alias),
 * and decodes again.
 */
function withBirthTypes(payload: Uint8Array, scope: ScopeState): UMetric[] {
  const Payload = proto.org.eclipse.tahu.protobuf.Payload;
  const raw = Payload.decode(payload);
  for (const m of raw.metrics) {
    if (m.datatype) continue;
    const alias = toNumber(m.alias);
    const def = m.name
      ? scope.byName.get(m.name)
      : alias !== undefined
        ? scope.byAlias.get(alias)
        : undefined;
    const code = def?.type ? TYPE_CODES.indexOf(def.type) + 1 : 0;
    if (code > 0) m.datatype = code;
  }
  return codec.decodePayload(Payload.encode(raw).finish()).metrics ?? [];
}

function base64(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function plain(v: unknown): unknown {
  if (isLong(v)) return v.toNumber();
  if (v instanceof Uint8Array) return base64(v);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

export class SparkplugDecoder {
  private readonly opts: Required<Omit<DecoderOptions, 'device'>> & { device: string | undefined };
  private readonly nodes = new Map<string, EdgeNodeState>();
  private counts = { messages: 0, malformed: 0, rebirths: 0, gaps: 0, refusedNodes: 0 };
  /** Set while handling a message when it calls for a rebirth. */
  private rebirthWhy: string | undefined;

  constructor(opts: DecoderOptions = {}) {
    const device = opts.device === undefined || opts.device.trim() === '+' ? undefined : opts.device.trim();
    if (device !== undefined) checkIdFilter(device, 'device');
    const interval = opts.rebirthIntervalMs ?? 5000;
    if (!(interval >= 0)) {
      throw new TaktError(
        'sparkplug.badInterval',
        `rebirth interval must be >= 0 ms, got ${interval}`,
        'rebirthIntervalMs',
      );
    }
    this.opts = {
      device,
      dateTime: opts.dateTime === 'iso' ? 'iso' : 'epoch',
      topicPrefix: (opts.topicPrefix ?? '').trim().replace(/^\/+|\/+$/g, ''),
      rebirthIntervalMs: interval,
    };
  }

  /** Handles one MQTT message. Never throws: problems come back in `error` / `problem`. */
  handle(topic: string, payload: Uint8Array, now = Date.now()): DecodeResult {
    const t = parseTopic(topic);
    if (!t) {
      return {
        samples: [],
        error: new TaktError('sparkplug.badTopic', `${topic} is not a Sparkplug B message topic`),
      };
    }
    if (t.type === 'NCMD' || t.type === 'DCMD') return { topic: t, samples: [] }; // commands come from hosts
    this.counts.messages++;
    let p: UPayload;
    try {
      p = codec.decodePayload(payload);
    } catch (err) {
      this.counts.malformed++;
      return {
        topic: t,
        samples: [],
        error: new TaktError(
          'sparkplug.malformed',
          `malformed Sparkplug B payload on ${topic}: ${(err as Error).message}`,
        ),
      };
    }
    const seq = toNumber(p.seq);
    if (t.type !== 'NDEATH' && (seq === undefined || !Number.isInteger(seq) || seq < 0 || seq > 255)) {
      this.counts.malformed++;
      return {
        topic: t,
        samples: [],
        error: new TaktError(
          'sparkplug.noSeq',
          `Sparkplug B ${t.type} on ${topic} has no valid sequence number (${String(seq)})`,
        ),
      };
    }
    const r: DecodeResult = { topic: t, samples: [], ...(seq !== undefined ? { seq } : {}) };
    const payloadTs = epochMs(p.timestamp) ?? now;
    const metrics = p.metrics ?? [];
    this.rebirthWhy = undefined;
    try {
      switch (t.type) {
        case 'NBIRTH':
          this.onNodeBirth(t, metrics, seq ?? 0, payloadTs, r);
          break;
        case 'NDEATH':
          this.onNodeDeath(t, metrics, payloadTs, r);
          break;
        default:
          this.onSequenced(t, payload, metrics, seq ?? 0, payloadTs, r);
      }
    } catch (err) {
      // Not expected (the payload decoded): reported like a malformed payload, the state stays usable.
      this.counts.malformed++;
      return {
        topic: t,
        samples: [],
        error: new TaktError(
          'sparkplug.malformed',
          `cannot use the Sparkplug B payload on ${topic}: ${(err as Error).message}`,
        ),
      };
    }
    if (this.rebirthWhy !== undefined) {
      r.wantsRebirth = true;
      this.askRebirth(t, this.rebirthWhy, r, now);
    }
    this.rebirthWhy = undefined;
    return r;
  }

  private key(group: string, edgeNode: string): string {
    return `${group}\u0000${edgeNode}`;
  }

  private newScope(device: string | undefined): ScopeState {
    return { device, online: true, byName: new Map(), byAlias: new Map() };
  }

  /**
   * Whether a new edge node may be remembered: below the cap, or once the oldest offline one is forgotten.
   * Counts a refusal.
   */
  private roomFor(key: string): boolean {
    if (this.nodes.has(key) || this.nodes.size < MAX_EDGE_NODES) return true;
    for (const [k, st] of this.nodes)
      if (!st.online) {
        this.nodes.delete(k);
        return true;
      }
    this.counts.refusedNodes++;
    return false;
  }

  private onNodeBirth(t: ParsedTopic, metrics: UMetric[], seq: number, ts: number, r: DecodeResult): void {
    if (!this.roomFor(this.key(t.group, t.edgeNode))) {
      this.problem(
        r,
        `NBIRTH of ${t.group}/${t.edgeNode} refused: ${MAX_EDGE_NODES} edge nodes are online (${this.counts.refusedNodes} refused)`,
        false,
      );
      return;
    }
    const bdSeq = toNumber(metrics.find((m) => m.name === 'bdSeq')?.value);
    const state: EdgeNodeState = {
      group: t.group,
      edgeNode: t.edgeNode,
      online: true,
      bdSeq,
      seq,
      node: this.newScope(undefined),
      devices: new Map(),
      lastRebirthAt: this.nodes.get(this.key(t.group, t.edgeNode))?.lastRebirthAt ?? -Infinity,
    };
    this.nodes.set(this.key(t.group, t.edgeNode), state);
    if (seq !== 0) this.problem(r, `NBIRTH with sequence number ${seq} (expected 0)`, false);
    this.define(state, state.node, metrics, ts, r);
  }

  /** Records a birth's metric definitions and emits their values. */
  private define(
    state: EdgeNodeState,
    scope: ScopeState,
    metrics: UMetric[],
    ts: number,
    r: DecodeResult,
  ): void {
    for (const m of metrics) {
      if (typeof m.name !== 'string' || m.name === '') {
        this.problem(r, `a birth metric without a name (alias ${String(toNumber(m.alias))})`, false);
        continue;
      }
      const ms: MetricState = { name: m.name, type: m.type, value: undefined, ts };
      scope.byName.set(m.name, ms);
      const alias = toNumber(m.alias);
      if (alias !== undefined) scope.byAlias.set(alias, ms);
      this.emitValue(state, scope, ms, m, ts, r);
    }
  }

  private onNodeDeath(t: ParsedTopic, metrics: UMetric[], ts: number, r: DecodeResult): void {
    const state = this.nodes.get(this.key(t.group, t.edgeNode));
    if (!state || !state.online) return;
    const bdSeq = toNumber(metrics.find((m) => m.name === 'bdSeq')?.value);
    if (bdSeq !== undefined && state.bdSeq !== undefined && bdSeq !== state.bdSeq) {
      this.problem(r, `NDEATH for bdSeq ${bdSeq} ignored (the live session has bdSeq ${state.bdSeq})`, false);
      return;
    }
    state.online = false;
    state.seq = undefined;
    this.markBad(state, state.node, ts, r);
    for (const d of state.devices.values()) this.markBad(state, d, ts, r);
  }

  private markBad(state: EdgeNodeState, scope: ScopeState, ts: number, r: DecodeResult): void {
    if (!scope.online) return;
    scope.online = false;
    for (const ms of scope.byName.values()) {
      if (ms.value === undefined || isControlMetric(ms.name)) continue;
      this.push(state, scope, ms, ms.value, ts, 'bad', r);
    }
  }

  /** DBIRTH, NDATA, DDATA, DDEATH: everything that carries the edge node's sequence number. */
  private onSequenced(
    t: ParsedTopic,
    payload: Uint8Array,
    decoded: UMetric[],
    seq: number,
    ts: number,
    r: DecodeResult,
  ): void {
    const state = this.nodes.get(this.key(t.group, t.edgeNode));
    if (!state || !state.online) {
      this.problem(r, `${t.type} before the edge node's NBIRTH`, true);
      return;
    }
    if (state.seq === undefined) {
      this.problem(r, `sequence continuity unknown (got ${seq})`, true);
    } else if (seq !== (state.seq + 1) % 256) {
      this.counts.gaps++;
      this.problem(r, `sequence gap: expected ${(state.seq + 1) % 256}, got ${seq}`, true);
    }
    state.seq = seq;
    if (t.type === 'DBIRTH') {
      const scope = this.newScope(t.device);
      state.devices.set(t.device ?? '', scope);
      this.define(state, scope, decoded, ts, r);
      return;
    }
    const scope = t.device === undefined ? state.node : state.devices.get(t.device);
    if (!scope || !scope.online) {
      if (t.type !== 'DDEATH') this.problem(r, `${t.type} from device ${t.device} without a DBIRTH`, true);
      return;
    }
    if (t.type === 'DDEATH') {
      this.markBad(state, scope, ts, r);
      return;
    }
    // Data metrics may leave out the datatype (the birth has it): decode those again with it filled in.
    const metrics = decoded.some((m) => m.type === undefined) ? withBirthTypes(payload, scope) : decoded;
    for (const m of metrics) {
      const alias = toNumber(m.alias);
      const ms =
        typeof m.name === 'string' && m.name !== ''
          ? scope.byName.get(m.name)
          : alias !== undefined
            ? scope.byAlias.get(alias)
            : undefined;
      if (!ms) {
        this.problem(
          r,
          typeof m.name === 'string' && m.name !== ''
            ? `metric "${m.name}" not in the birth certificate`
            : `unknown alias ${String(alias)}`,
          true,
        );
        continue;
      }
      this.emitValue(state, scope, ms, m, epochMs(m.timestamp) ?? ts, r);
    }
  }

  /** Notes the first problem of a message; `rebirth` when a new birth would put it right. */
  private problem(r: DecodeResult, text: string, rebirth: boolean): void {
    r.problem ??= text;
    if (rebirth) this.rebirthWhy ??= text;
  }

  private askRebirth(t: ParsedTopic, reason: string, r: DecodeResult, now: number): void {
    const key = this.key(t.group, t.edgeNode);
    let state = this.nodes.get(key);
    if (!state) {
      if (!this.roomFor(key)) return;
      // Remember the edge node (offline, no metrics) only to rate-limit the requests.
      state = {
        group: t.group,
        edgeNode: t.edgeNode,
        online: false,
        bdSeq: undefined,
        seq: undefined,
        node: { ...this.newScope(undefined), online: false },
        devices: new Map(),
        lastRebirthAt: -Infinity,
      };
      this.nodes.set(key, state);
    }
    if (now - state.lastRebirthAt < this.opts.rebirthIntervalMs) return;
    state.lastRebirthAt = now;
    this.counts.rebirths++;
    r.rebirth = { group: t.group, edgeNode: t.edgeNode, reason };
  }

  /** Converts one metric's value, remembers it, and emits it as a good sample (a null value as bad). */
  private emitValue(
    state: EdgeNodeState,
    scope: ScopeState,
    ms: MetricState,
    m: UMetric,
    ts: number,
    r: DecodeResult,
  ): void {
    const type = m.type ?? ms.type;
    const metricTs = epochMs(m.timestamp) ?? ts;
    if (type === 'Template') {
      this.emitTemplate(state, scope, ms.name, m.value as UTemplate | null, metricTs, r);
      return;
    }
    if (m.value === null || m.value === undefined) {
      // A null value (is_null): the last known value, if any, marked bad.
      if (ms.value !== undefined && !isControlMetric(ms.name)) {
        this.push(state, scope, ms, ms.value, metricTs, 'bad', r);
      }
      return;
    }
    const value = this.convert(type, m.value);
    if (value === undefined) {
      this.problem(r, `metric "${ms.name}" has a value of unsupported type ${String(type)}`, false);
      return;
    }
    ms.value = value;
    ms.ts = metricTs;
    if (!isControlMetric(ms.name)) this.push(state, scope, ms, value, metricTs, 'good', r);
  }

  /** A template instance: each member metric becomes a path segment below the template's name. */
  private emitTemplate(
    state: EdgeNodeState,
    scope: ScopeState,
    name: string,
    tpl: UTemplate | null,
    ts: number,
    r: DecodeResult,
  ): void {
    if (!tpl || tpl.isDefinition) return;
    for (const member of tpl.metrics ?? []) {
      if (typeof member.name !== 'string' || member.name === '') continue;
      const full = `${name}/${member.name}`;
      let ms = scope.byName.get(full);
      if (!ms) {
        ms = { name: full, type: member.type, value: undefined, ts };
        scope.byName.set(full, ms);
      }
      this.emitValue(state, scope, ms, member, ts, r);
    }
  }

  /** A Sparkplug value as a sample value; undefined for an unsupported one. */
  private convert(type: TypeStr | undefined, v: UMetric['value']): SampleValue | undefined {
    if (type === 'DateTime') {
      const ms = epochMs(v);
      if (ms === undefined) return undefined;
      return this.opts.dateTime === 'iso' ? new Date(ms).toISOString() : ms;
    }
    // sparkplug-payload reads UInt32 as a signed 32-bit integer.
    if (type === 'UInt32' && typeof v === 'number' && v < 0) return v + 2 ** 32;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
    // The wire type is uint64 whatever the metric's type: the sign comes from the datatype.
    if (isLong(v)) return longValue(v, type === 'Int64');
    if (v instanceof Uint8Array) return base64(v);
    if (type === 'DataSet' && typeof v === 'object' && v !== null) return JSON.stringify(plain(v));
    return undefined;
  }

  private push(
    state: EdgeNodeState,
    scope: ScopeState,
    ms: MetricState,
    value: SampleValue,
    ts: number,
    quality: Quality,
    r: DecodeResult,
  ): void {
    if (this.opts.device !== undefined && scope.device !== this.opts.device) return;
    const segments = [
      ...(this.opts.topicPrefix ? [this.opts.topicPrefix] : []),
      state.group,
      state.edgeNode,
      ...(scope.device !== undefined ? [scope.device] : []),
      ...pathSegments(ms.name),
    ];
    r.samples.push({
      topic: segments.join('/'),
      value,
      ts,
      quality,
      group: state.group,
      edgeNode: state.edgeNode,
      ...(scope.device !== undefined ? { device: scope.device } : {}),
      metric: ms.name,
    });
  }

  /**
   * Forgets the sequence positions (call when the host's own connection was lost: messages may have been
   * missed). Aliases stay known; the next message of each edge node asks for a rebirth.
   */
  invalidate(): void {
    for (const s of this.nodes.values()) s.seq = undefined;
  }

  stats(): DecoderStats {
    let nodes = 0;
    let metrics = 0;
    for (const s of this.nodes.values()) {
      if (!s.online) continue;
      nodes++;
      const count = (sc: ScopeState) =>
        sc.online ? [...sc.byName.keys()].filter((n) => !isControlMetric(n)).length : 0;
      metrics += count(s.node);
      for (const d of s.devices.values()) metrics += count(d);
    }
    return { nodes, metrics, ...this.counts };
  }

  /** A serialisable view of the state: per edge node, its session and the metric names per device. */
  snapshot(): {
    group: string;
    edgeNode: string;
    online: boolean;
    bdSeq?: number;
    seq?: number;
    devices: Record<string, { online: boolean; metrics: string[] }>;
  }[] {
    return [...this.nodes.values()].map((s) => ({
      group: s.group,
      edgeNode: s.edgeNode,
      online: s.online,
      ...(s.bdSeq !== undefined ? { bdSeq: s.bdSeq } : {}),
      ...(s.seq !== undefined ? { seq: s.seq } : {}),
      devices: Object.fromEntries(
        [['', s.node] as const, ...s.devices.entries()].map(([d, sc]) => [
          d,
          { online: sc.online, metrics: [...sc.byName.keys()] },
        ]),
      ),
    }));
  }

  reset(): void {
    this.nodes.clear();
    this.counts = { messages: 0, malformed: 0, rebirths: 0, gaps: 0, refusedNodes: 0 };
  }
}
