/**
 * takt-guard's detector (docs/ARCHITECTURE.md): unsupervised, trained on normal traffic only.
 *
 * Every event is counted, per window of `windowMs`, for the subjects it belongs to: its client, its
 * address, its user and the whole box (`all`). Two kinds of feature (features.ts):
 * - rates (publishes, bytes, distinct topics, connects, open connections, auth failures, reads, writes,
 *   ...) are compared with the subject's own learned median and robust scale (MAD, at least the Poisson
 *   spread): z = (count - median) / scale. A subject unknown to training is compared with the most
 *   active known subject of its kind, so a new client is judged by the busiest one, never by zero.
 * - novelty counts: topics nobody published, known topics published by a client that never did, new
 *   subscription filters (wildcards, $SYS), OPC UA writes and calls by a client to a node it never
 *   wrote, payloads of a kind the topic never carried or numbers far outside their learned range,
 *   Sparkplug messages from a client that is not the edge node's, replayed Sparkplug payloads and broken
 *   sequence numbers, keep-alives longer than any learned, unknown clients.
 *
 * Training splits the normal events in time: baselines come from the first part; each feature's threshold
 * is the largest value it reached on the held-out last part (or its `alarmBudget` quantile) times a margin,
 * never below `minZ` (rates) or `minNovel` (novelty); a known subject's rate must also reach `minRatio`
 * times its busiest training window. What was learned about a client is keyed by its id and by its
 * family (clientFamily): an id training never saw borrows its family's. A feature's ratio is its value
 * over its threshold; an alert is raised as soon as any ratio reaches 1 (mid-window), typed by the feature
 * that moved most, with the features that moved and their baselines as evidence. Alerts of one type from
 * one source are held back for `cooldownMs`. Memory is bounded: `maxSubjects` subjects (the oldest one
 * unknown to training evicted for a new one, counted), `maxLearned` entries per learned set (drops
 * counted), a capped set of distinct topics per subject and window, no payload kept.
 */
import { TaktError } from '../core/errors';
import {
  clientFamily,
  F,
  FEATURE_NAMES,
  FEATURE_TYPE,
  FEATURES,
  type FieldVerdict,
  inspectPayload,
  IS_RATE,
  isSparkplugTopic,
  NF,
  payloadHash,
  quantileSorted,
  robustStat,
  type RobustStat,
  TopicProfile,
  TYPE_PRECEDENCE,
} from './features';
import {
  type AlertType,
  type DetectorOptions,
  type DetectorStats,
  EVENT_KINDS,
  type Evidence,
  type GuardAlert,
  type GuardEvent,
} from './types';

type SubjectKind = 'client' | 'addr' | 'user' | 'all';
const SUBJECT_KINDS: readonly SubjectKind[] = ['client', 'addr', 'user', 'all'];
const MAX_TOPICS_PER_WINDOW = 256;
const REPLAY_MEMORY = 512;
const MAX_HISTORY = 1024;
const AUTH_HALF_LIFE_MS = 120_000;
/** The rate features come first in FEATURES. */
const NRATE = IS_RATE.filter(Boolean).length;

interface Subject {
  key: string;
  kind: SubjectKind;
  counts: Float64Array;
  topics: Set<string>;
  open: number;
  /** Windows of training this subject has values for (rates only). */
  /** Rate features per training window (decimated to at most MAX_HISTORY rows). */
  history: Float32Array | undefined;
  rows: number;
  /** Held-out maximum per novelty feature, then its threshold for this subject. */
  novel: Float32Array | undefined;
  /** Windows per history row once decimated. */
  stride: number;
  skip: number;
  base: RobustStat[] | undefined;
  lastTs: number;
}

interface SparkplugEdge {
  owners: Set<string>;
  next: number | undefined;
  hashes: Set<number>;
  order: number[];
}

/** Creates a detector; train it (`train`, or `beginTraining`/`learn`/`endTraining`) before `observe`. */
export function createDetector(opts: DetectorOptions = {}): Detector {
  return new Detector(opts);
}

export class Detector {
  readonly windowMs: number;
  private readonly o: Required<DetectorOptions>;
  private state: DetectorStats['state'] = 'untrained';
  private readonly subjects = new Map<string, Subject>();
  private windowStart = Number.NaN;
  private windowFlagged = false;
  private holdoutFrom = Number.POSITIVE_INFINITY;
  private phase: 'fit' | 'holdout' = 'fit';
  /** Held-out maxima per feature and window (rate: max z over subjects; novelty: max count). */
  private heldOut: number[][] = [];
  private thresholds = new Float64Array(NF).fill(Number.POSITIVE_INFINITY);
  private envelope = new Map<SubjectKind, RobustStat[]>();
  private readonly cooldown = new Map<string, number>();
  private readonly touched = new Set<number>();
  private readonly authDecay: number;

  // what training learned
  private readonly topicProfiles = new Map<string, TopicProfile>();
  private readonly published = new Set<string>();
  private readonly subscribed = new Set<string>();
  private readonly allFilters = new Set<string>();
  private readonly written = new Set<string>();
  private readonly called = new Set<string>();
  /** Client identities learned: `proto/id` and their families `proto/~family` (clientFamily). */
  private readonly knownClients = new Set<string>();
  /** Subjects unknown to training, oldest first (the ones evicted when `maxSubjects` is reached). */
  private readonly live = new Map<string, Subject>();
  /** What the current event's payload check found (the evidence's detail). */
  private verdict: FieldVerdict | undefined;
  private readonly keepalive = new Map<string, number>();
  private maxKeepalive = 0;
  private readonly edges = new Map<string, SparkplugEdge>();

  private readonly counters = {
    events: 0,
    windows: 0,
    flaggedWindows: 0,
    alerts: 0,
    suppressed: 0,
    droppedSubjects: 0,
    evictedSubjects: 0,
    learnedDropped: 0,
  };

  constructor(opts: DetectorOptions = {}) {
    this.o = {
      windowMs: opts.windowMs ?? 5000,
      holdout: opts.holdout ?? 0.3,
      margin: opts.margin ?? 1.25,
      alarmBudget: opts.alarmBudget ?? 0,
      minZ: opts.minZ ?? 4,
      minNovel: opts.minNovel ?? 1,
      cooldownMs: opts.cooldownMs ?? 60_000,
      maxSubjects: opts.maxSubjects ?? 5000,
      maxLearned: opts.maxLearned ?? 50_000,
      minRatio: opts.minRatio ?? 2,
      alertNewClients: opts.alertNewClients ?? true,
    };
    const check = (name: keyof DetectorOptions, ok: boolean, what: string) => {
      if (!ok) throw new TaktError('guard.badOption', `${name} must be ${what}`, name);
    };
    const o = this.o;
    check('windowMs', o.windowMs >= 100 && Number.isFinite(o.windowMs), 'at least 100 ms');
    check('holdout', o.holdout > 0 && o.holdout < 1, 'between 0 and 1');
    check('margin', o.margin >= 1 && Number.isFinite(o.margin), 'at least 1');
    check('alarmBudget', o.alarmBudget >= 0 && o.alarmBudget < 0.5, 'between 0 and 0.5');
    check('minZ', o.minZ > 0 && Number.isFinite(o.minZ), 'positive');
    check('minNovel', o.minNovel > 0 && Number.isFinite(o.minNovel), 'positive');
    check('cooldownMs', o.cooldownMs >= 0, 'at least 0');
    check('maxSubjects', Number.isInteger(o.maxSubjects) && o.maxSubjects >= 4, 'an integer >= 4');
    check('maxLearned', Number.isInteger(o.maxLearned) && o.maxLearned >= 1, 'a positive integer');
    check('minRatio', o.minRatio >= 1 && Number.isFinite(o.minRatio), 'at least 1');
    this.windowMs = o.windowMs;
    this.authDecay = 0.5 ** (o.windowMs / AUTH_HALF_LIFE_MS);
  }

  get status(): DetectorStats['state'] {
    return this.state;
  }

  /** Trains on normal events (any order; sorted by time here). The last `holdout` of the time sets the thresholds. */
  train(events: readonly GuardEvent[]): void {
    if (events.length === 0) throw new TaktError('guard.noEvents', 'no events to train on', 'events');
    const sorted = events.map((e, i) => checkEvent(e, `events[${i}]`)).sort((a, b) => a.ts - b.ts);
    const t0 = sorted[0].ts;
    const t1 = sorted[sorted.length - 1].ts;
    this.beginTraining(t0 + (1 - this.o.holdout) * (t1 - t0));
    for (const e of sorted) this.learn(e);
    this.endTraining(t1);
  }

  /** Starts streaming training: events before `holdoutFrom` build baselines, later ones set thresholds. */
  beginTraining(holdoutFrom: number): void {
    this.reset();
    this.state = 'learning';
    this.holdoutFrom = holdoutFrom;
    this.phase = 'fit';
  }

  /** One normal event of a streaming training (in time order). */
  learn(event: GuardEvent): void {
    if (this.state !== 'learning')
      throw new TaktError('guard.notLearning', 'call beginTraining before learn', 'state');
    const e = checkEvent(event, 'event');
    if (this.phase === 'fit' && e.ts >= this.holdoutFrom) this.holdOut();
    this.advance(e.ts);
    this.count(e, this.phase === 'fit');
  }

  /**
   * Ends the fit part at `holdoutFrom`: baselines from its windows; the held-out windows start there, so
   * a silence at the start of the held-out part counts as quiet windows.
   */
  private holdOut(): void {
    this.advance(this.holdoutFrom);
    this.closeWindow();
    this.fitBaselines();
    this.phase = 'holdout';
    this.windowStart = Math.floor(this.holdoutFrom / this.windowMs) * this.windowMs;
  }

  /** Ends training at `now` (default: the last event): thresholds from the held-out windows. */
  endTraining(now?: number): void {
    if (this.state !== 'learning')
      throw new TaktError('guard.notLearning', 'call beginTraining before endTraining', 'state');
    if (now !== undefined && this.phase === 'fit' && now >= this.holdoutFrom) this.holdOut();
    if (now !== undefined) this.advance(now);
    this.closeWindow();
    if (this.phase === 'fit') {
      throw new TaktError(
        'guard.tooLittle',
        'training ended before its held-out part began: train on a longer stretch of normal traffic',
        'events',
      );
    }
    const fitted = this.counters.windows - this.heldOut.length;
    if (this.heldOut.length < 2 || fitted < 2)
      throw new TaktError(
        'guard.tooLittle',
        `training saw ${fitted} baseline and ${this.heldOut.length} held-out windows of ${this.windowMs} ms; at least 2 of each are needed`,
        'events',
      );
    for (let f = 0; f < NF; f++) {
      const v = this.heldOut.map((w) => w[f]).sort((a, b) => a - b);
      const top = quantileSorted(v, 1 - this.o.alarmBudget);
      const floor = IS_RATE[f] ? this.o.minZ : this.o.minNovel;
      this.thresholds[f] = Math.max(floor, top * this.o.margin);
    }
    // novelty thresholds per subject: a client whose values drift does not blunt the others' (the
    // per-subject maximum; the held-out quantile above is what `stats` shows)
    for (const s of this.subjects.values())
      if (s.novel)
        for (let k = 0; k < s.novel.length; k++)
          s.novel[k] = Math.max(this.o.minNovel, s.novel[k] * this.o.margin);
    this.state = 'watching';
    this.windowStart = Number.NaN;
    for (const s of this.subjects.values()) {
      s.counts.fill(0);
      s.topics.clear();
    }
    this.counters.windows = 0;
    this.counters.flaggedWindows = 0;
    this.counters.events = 0;
  }

  /** Scores one event of live traffic; returns the alerts it raised (usually none). */
  observe(event: GuardEvent): GuardAlert[] {
    if (this.state !== 'watching')
      throw new TaktError('guard.notTrained', 'the detector is not trained yet', 'state');
    const e = checkEvent(event, 'event');
    this.advance(e.ts);
    return this.judge(e, this.count(e, false));
  }

  /** Closes the windows that ended before `now` without traffic (a quiet box still counts windows). */
  tick(now: number): void {
    if (this.state !== 'untrained') this.advance(now);
  }

  stats(): DetectorStats {
    return {
      state: this.state,
      ...this.counters,
      subjects: this.subjects.size,
      thresholds: Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, this.thresholds[i]])),
    };
  }

  private reset(): void {
    this.subjects.clear();
    this.heldOut = [];
    this.thresholds.fill(Number.POSITIVE_INFINITY);
    this.envelope.clear();
    this.cooldown.clear();
    for (const s of [this.topicProfiles, this.edges, this.keepalive]) s.clear();
    for (const s of [this.published, this.subscribed, this.allFilters, this.written, this.called]) s.clear();
    this.knownClients.clear();
    this.live.clear();
    this.maxKeepalive = 0;
    this.windowStart = Number.NaN;
    for (const k of Object.keys(this.counters)) this.counters[k as keyof typeof this.counters] = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // windows

  private advance(ts: number): void {
    if (Number.isNaN(this.windowStart)) {
      this.windowStart = Math.floor(ts / this.windowMs) * this.windowMs;
      return;
    }
    if (ts < this.windowStart + this.windowMs) return;
    this.closeWindow();
    const skipped = Math.floor((ts - this.windowStart) / this.windowMs) - 1;
    // quiet windows: all counts zero (open connections stay as they are)
    for (let i = 0; i < Math.min(skipped, 1000); i++) this.closeWindow();
    this.windowStart = Math.floor(ts / this.windowMs) * this.windowMs;
  }

  private closeWindow(): void {
    this.counters.windows++;
    if (this.state === 'learning') {
      if (this.phase === 'fit') {
        for (const s of this.subjects.values()) {
          s.counts[F.open] = Math.max(s.counts[F.open], s.open);
          if (s.skip-- <= 0) this.record(s);
        }
      } else {
        const row = new Array<number>(NF).fill(0);
        for (const s of this.subjects.values()) {
          s.counts[F.open] = Math.max(s.counts[F.open], s.open);
          s.novel ??= new Float32Array(NF - NRATE);
          for (let f = 0; f < NF; f++) {
            const v = this.raw(s, f);
            row[f] = Math.max(row[f], v);
            if (f >= NRATE) s.novel[f - NRATE] = Math.max(s.novel[f - NRATE], v);
          }
        }
        this.heldOut.push(row);
      }
    } else if (this.windowFlagged) this.counters.flaggedWindows++;
    this.windowFlagged = false;
    for (const [key, s] of this.subjects) {
      // refused logins fade (half-life AUTH_HALF_LIFE_MS) rather than reset: a slow guesser adds up
      const fails = s.counts[F.authFail] * this.authDecay;
      s.counts.fill(0);
      s.topics.clear();
      s.counts[F.open] = s.open;
      s.counts[F.authFail] = fails < 0.05 ? 0 : fails;
      // subjects unknown to training that went quiet are forgotten (bounded memory)
      if (this.state === 'watching' && !s.base && s.open === 0 && s.counts[F.authFail] === 0) {
        this.subjects.delete(key);
        this.live.delete(key);
      }
    }
  }

  /** Keeps a fit window's rate features: one flat array per subject, halved (every other row) when full. */
  private record(s: Subject): void {
    s.skip = s.stride - 1;
    if (!s.history || s.history.length < (s.rows + 1) * NRATE) {
      const grown = new Float32Array(Math.min(MAX_HISTORY, Math.max(16, s.rows * 2)) * NRATE);
      if (s.history) grown.set(s.history.subarray(0, s.rows * NRATE));
      s.history = grown;
    }
    s.history.set(s.counts.subarray(0, NRATE), s.rows * NRATE);
    s.rows++;
    if (s.rows >= MAX_HISTORY) {
      for (let r = 0; r < s.rows / 2; r++)
        s.history.copyWithin(r * NRATE, 2 * r * NRATE, (2 * r + 1) * NRATE);
      s.rows = Math.floor(s.rows / 2);
      s.stride *= 2;
    }
  }

  private fitBaselines(): void {
    const per = new Map<SubjectKind, RobustStat[][]>();
    for (const s of this.subjects.values()) {
      const h = s.history ?? new Float32Array(0);
      const col = (f: number) => Array.from({ length: s.rows }, (_, r) => h[r * NRATE + f]);
      const pubs = col(F.pub).reduce((a, b) => a + b, 0);
      const size = pubs > 0 ? col(F.bytes).reduce((a, b) => a + b, 0) / pubs : 1;
      s.base = FEATURES.map((_, f) =>
        IS_RATE[f] ? robustStat(col(f), f === F.bytes ? size : 1) : { median: 0, scale: 1, peak: 0 },
      );
      s.history = undefined;
      s.rows = 0;
      const list = per.get(s.kind) ?? [];
      list.push(s.base);
      per.set(s.kind, list);
    }
    for (const kind of SUBJECT_KINDS) {
      const list = per.get(kind) ?? [];
      this.envelope.set(
        kind,
        FEATURES.map((_, f) => ({
          median: Math.max(0, ...list.map((b) => b[f].median)),
          scale: Math.max(1, ...list.map((b) => b[f].scale)),
          peak: Math.max(0, ...list.map((b) => b[f].peak)),
        })),
      );
    }
  }

  /**
   * A feature's threshold for a subject: for rates the global held-out z, raised for a subject known to
   * training so that the count is at least `minRatio` times its busiest training window (a flood, a scan
   * or a hoard is a multiple of what the subject ever did, not a busier minute; a subject training never
   * saw is judged against the busiest known one, by z alone); for novelty counts the subject's own.
   */
  private threshold(s: Subject, f: number): number {
    if (IS_RATE[f]) {
      const b = s.base?.[f];
      const floor = b && this.state === 'watching' ? (this.o.minRatio * b.peak - b.median) / b.scale : 0;
      return Math.max(this.thresholds[f], floor);
    }
    return s.novel && this.state === 'watching' ? s.novel[f - NRATE] : this.o.minNovel;
  }

  /** A feature's value in the unit its threshold is in: z for rates, the count for novelty. */
  private raw(s: Subject, f: number): number {
    const x = s.counts[f];
    if (!IS_RATE[f]) return x;
    const b = (s.base ?? this.envelope.get(s.kind))?.[f];
    if (!b) return 0;
    return Math.max(0, (x - b.median) / b.scale);
  }

  // ---------------------------------------------------------------------------------------------
  // counting

  private subject(kind: SubjectKind, id: string, ts: number): Subject | undefined {
    const key = kind === 'all' ? 'all' : `${kind}:${id}`;
    let s = this.subjects.get(key);
    if (!s) {
      if (this.subjects.size >= this.o.maxSubjects) {
        // while watching, the oldest subject unknown to training makes room; learned ones stay
        const oldest = this.state === 'watching' ? this.live.keys().next() : undefined;
        if (!oldest || oldest.done) {
          this.counters.droppedSubjects++;
          return undefined;
        }
        this.subjects.delete(oldest.value);
        this.live.delete(oldest.value);
        this.counters.evictedSubjects++;
      }
      s = {
        key,
        kind,
        counts: new Float64Array(NF),
        topics: new Set(),
        open: 0,
        history: undefined,
        novel: undefined,
        rows: 0,
        stride: 1,
        skip: 0,
        base: undefined,
        lastTs: ts,
      };
      // a subject that joins late in the fit phase has zeros for the windows it missed
      this.subjects.set(key, s);
      if (this.state === 'watching') this.live.set(key, s);
    }
    s.lastTs = ts;
    return s;
  }

  private subjectsOf(e: GuardEvent): Subject[] {
    const out: Subject[] = [];
    const add = (s: Subject | undefined) => s && out.push(s);
    add(this.subject('all', '', e.ts));
    add(this.subject('client', `${e.proto}/${e.client}`, e.ts));
    if (e.addr) add(this.subject('addr', e.addr, e.ts));
    if (e.user) add(this.subject('user', `${e.proto}/${e.user}`, e.ts));
    return out;
  }

  private bump(subs: Subject[], f: number, by = 1): void {
    for (const s of subs) s.counts[f] += by;
    this.touched.add(f);
  }

  /**
   * Counts an event's features for its subjects (returned). `learning` (the fit part of training) counts
   * no novelty; the whole of training, held-out part included, adds to what is known.
   */
  private count(e: GuardEvent, learning: boolean): Subject[] {
    this.counters.events++;
    this.touched.clear();
    this.verdict = undefined;
    const subs = this.subjectsOf(e);
    // who the client is for what was learned: its own id when training saw it, else its family (the
    // same program restarted with another pid keeps its rights; a known id keeps only its own)
    const exact = `${e.proto}/${e.client}`;
    const knownExact = this.knownClients.has(exact);
    const learnSets = this.state === 'learning';
    const family = knownExact && !learnSets ? exact : `${e.proto}/~${clientFamily(e.client)}`;
    const known = knownExact || this.knownClients.has(family);
    const who = knownExact ? exact : family;
    /** The identities training adds to what is known: the id and its family. */
    const ids = learnSets ? [exact, family] : [];
    if (!known && e.kind !== 'auth-fail' && !learning && this.o.alertNewClients) this.bump(subs, F.newClient);
    if (e.kind !== 'auth-fail') this.remember(this.knownClients, ids);
    switch (e.kind) {
      case 'connect':
      case 'session':
        this.bump(subs, F.conn);
        for (const s of subs) s.open++;
        this.bump(subs, F.open, 0);
        for (const s of subs) s.counts[F.open] = Math.max(s.counts[F.open], s.open);
        if (e.keepalive !== undefined) {
          const max = this.keepalive.get(who) ?? (known ? 0 : this.maxKeepalive);
          if (!learning && e.keepalive > max * 1.5 + 1) this.bump(subs, F.longKeepalive);
          for (const id of ids)
            if (this.keepalive.has(id) || this.keepalive.size < this.o.maxLearned)
              this.keepalive.set(id, Math.max(this.keepalive.get(id) ?? 0, e.keepalive));
            else this.counters.learnedDropped++;
          if (learnSets) this.maxKeepalive = Math.max(this.maxKeepalive, e.keepalive);
        }
        break;
      case 'disconnect':
        this.bump(subs, F.disc);
        for (const s of subs) s.open = Math.max(0, s.open - 1);
        break;
      case 'auth-fail':
        this.bump(subs, F.authFail);
        break;
      case 'subscribe':
        this.subscribe(e, subs, who, ids, learning);
        break;
      case 'publish':
        this.publish(e, subs, who, ids, learning);
        break;
      case 'read':
        this.bump(subs, F.read);
        break;
      case 'browse':
        this.bump(subs, F.browse);
        break;
      case 'write':
      case 'call': {
        const isWrite = e.kind === 'write';
        this.bump(subs, isWrite ? F.write : F.call);
        const set = isWrite ? this.written : this.called;
        const what = `\u0000${e.user ?? ''}\u0000${e.nodeId ?? ''}`;
        if (!set.has(who + what) && !learning) this.bump(subs, isWrite ? F.newWrite : F.newCall);
        this.remember(
          set,
          ids.map((id) => id + what),
        );
        break;
      }
    }
    return subs;
  }

  /** Adds keys to a learned set, up to `maxLearned` (more are counted as dropped). */
  private remember(set: Set<string>, keys: readonly string[]): void {
    for (const k of keys)
      if (set.has(k)) continue;
      else if (set.size < this.o.maxLearned) set.add(k);
      else this.counters.learnedDropped++;
  }

  private subscribe(e: GuardEvent, subs: Subject[], who: string, ids: string[], learning: boolean): void {
    this.bump(subs, F.subs);
    const filter = e.topic ?? '';
    const mine = this.subscribed.has(`${who}\u0000${filter}`);
    if (!mine && !learning) {
      // a filter this client never used: novel for it; wildcards and $SYS only when nobody used them
      const anyone = this.allFilters.has(filter);
      this.bump(subs, F.newSub);
      if (!anyone && /[#+]/.test(filter)) this.bump(subs, F.wildSub);
      if (!anyone && filter.startsWith('$SYS')) this.bump(subs, F.sysSub);
    }
    this.remember(
      this.subscribed,
      ids.map((id) => `${id}\u0000${filter}`),
    );
    if (ids.length) this.remember(this.allFilters, [filter]);
  }

  private publish(e: GuardEvent, subs: Subject[], who: string, ids: string[], learning: boolean): void {
    const topic = e.topic ?? '';
    const bytes = e.bytes ?? e.payload?.length ?? 0;
    this.bump(subs, F.pub);
    this.bump(subs, F.bytes, bytes);
    for (const s of subs) {
      if (s.topics.size < MAX_TOPICS_PER_WINDOW && !s.topics.has(topic)) {
        s.topics.add(topic);
        s.counts[F.topics] = s.topics.size;
      }
    }
    this.touched.add(F.topics);
    const learnNow = this.state === 'learning';
    let profile = this.topicProfiles.get(topic);
    if (!profile) {
      if (!learning) this.bump(subs, F.newTopic);
      if (learnNow) {
        if (this.topicProfiles.size < this.o.maxLearned) {
          profile = new TopicProfile();
          this.topicProfiles.set(topic, profile);
        } else this.counters.learnedDropped++;
      }
    } else if (!this.published.has(`${who}\u0000${topic}`) && !learning) {
      this.bump(subs, F.foreignTopic);
    }
    this.remember(
      this.published,
      ids.map((id) => `${id}\u0000${topic}`),
    );
    if (!e.payload) return;
    const sp = isSparkplugTopic(topic);
    const shape = inspectPayload(e.payload, sp);
    if (profile) {
      if (!learning && profile.messages > 0) {
        const bad = profile.malformed(shape);
        if (bad) {
          this.verdict = bad;
          this.bump(subs, F.malformed);
        } else {
          const out = profile.outOfRange(shape);
          if (out.length > 0) {
            this.verdict = out[0];
            this.bump(subs, F.outOfRange, out.length);
          }
        }
      }
      if (learnNow) profile.learn(shape);
    }
    if (sp && shape.kind === 'sparkplug')
      this.sparkplug(topic, e.payload, shape.seq, subs, who, ids, learning);
  }

  private sparkplug(
    topic: string,
    payload: Uint8Array,
    seq: number | undefined,
    subs: Subject[],
    who: string,
    ids: string[],
    learning: boolean,
  ): void {
    const parts = topic.split('/');
    const type = parts[2] ?? '';
    const key = `${parts[1]}/${parts[3]}`;
    let edge = this.edges.get(key);
    if (!edge) {
      edge = { owners: new Set(), next: undefined, hashes: new Set(), order: [] };
      if (this.edges.size < this.o.maxLearned) this.edges.set(key, edge);
      else this.counters.learnedDropped++;
    }
    const birth = type === 'NBIRTH';
    if (birth || edge.owners.size === 0) for (const id of ids) edge.owners.add(id);
    const owner = edge.owners.has(who);
    if (!learning && !owner) this.bump(subs, F.spForeign);
    // The last will (NDEATH) is published by the broker for the edge node: no sequence number.
    if (type === 'NDEATH' || type === 'STATE') return;
    const h = payloadHash(payload);
    if (edge.hashes.has(h)) {
      if (!learning) this.bump(subs, F.spReplay);
    } else {
      edge.hashes.add(h);
      edge.order.push(h);
      if (edge.order.length > REPLAY_MEMORY) edge.hashes.delete(edge.order.shift() as number);
    }
    if (!owner && !learning) return;
    if (seq !== undefined) {
      if (!birth && edge.next !== undefined && seq !== edge.next && !learning) this.bump(subs, F.spSeq);
      edge.next = (seq + 1) % 256;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // alerts

  private judge(e: GuardEvent, subs: Subject[]): GuardAlert[] {
    if (this.touched.size === 0) return [];
    let fire = false;
    for (const s of subs)
      for (const f of this.touched) if (this.raw(s, f) >= this.threshold(s, f)) fire = true;
    if (!fire) return [];
    this.windowFlagged = true;
    // every feature of the event's subjects over half its threshold is evidence
    const evidence: (Evidence & { f: number })[] = [];
    for (const s of subs)
      for (let f = 0; f < NF; f++) {
        const ratio = this.raw(s, f) / this.threshold(s, f);
        if (ratio < 0.5 || !Number.isFinite(ratio)) continue;
        if (f === F.newClient && !this.o.alertNewClients) continue;
        const b = IS_RATE[f] ? (s.base ?? this.envelope.get(s.kind))?.[f] : undefined;
        const median = b?.median ?? 0;
        evidence.push({
          f,
          feature: FEATURE_NAMES[f],
          value: s.counts[f],
          baseline: median,
          threshold: b ? median + this.threshold(s, f) * b.scale : this.threshold(s, f),
          ratio: Math.round(ratio * 1000) / 1000,
          subject: s.key,
          ...(this.verdict && (f === F.malformed || f === F.outOfRange)
            ? { detail: describeVerdict(this.verdict) }
            : {}),
        });
      }
    evidence.sort(
      (a, b) =>
        b.ratio - a.ratio ||
        TYPE_PRECEDENCE.indexOf(FEATURE_TYPE[a.f]) - TYPE_PRECEDENCE.indexOf(FEATURE_TYPE[b.f]),
    );
    // one alert per type over its threshold, each with its own evidence
    const alerts: GuardAlert[] = [];
    const types = new Map<AlertType, (Evidence & { f: number })[]>();
    for (const ev of evidence) {
      const t = FEATURE_TYPE[ev.f];
      // only what this event moved raises an alert; features still high from earlier are context
      if (ev.ratio >= 1 && this.touched.has(ev.f) && !types.has(t)) types.set(t, []);
    }
    for (const ev of evidence) types.get(FEATURE_TYPE[ev.f])?.push(ev);
    for (const [type, list] of types) {
      const src = `${type}\u0000${e.addr ?? `${e.proto}/${e.client}`}`;
      const until = this.cooldown.get(src);
      if (until !== undefined && e.ts < until) {
        this.counters.suppressed++;
        continue;
      }
      // bounded: the oldest cooldown makes room
      if (this.cooldown.size >= this.o.maxSubjects) this.cooldown.delete(this.cooldown.keys().next().value!);
      this.cooldown.set(src, e.ts + this.o.cooldownMs);
      // the other features that moved are kept as context
      const context = evidence.filter((ev) => FEATURE_TYPE[ev.f] !== type).slice(0, 3);
      const alert: GuardAlert = {
        ts: e.ts,
        client: e.client,
        proto: e.proto,
        type,
        score: list[0].ratio,
        evidence: [...list.slice(0, 5), ...context].map(({ f: _f, ...rest }) => rest),
      };
      if (e.user !== undefined) alert.user = e.user;
      if (e.addr !== undefined) alert.addr = e.addr;
      if (e.topic !== undefined) alert.topic = e.topic;
      if (e.nodeId !== undefined) alert.nodeId = e.nodeId;
      alerts.push(alert);
    }
    this.counters.alerts += alerts.length;
    return alerts.sort((a, b) => b.score - a.score);
  }
}

function describeVerdict(v: FieldVerdict): string {
  const field = v.field === '' ? 'payload' : `"${v.field}"`;
  return v.why === 'type changed' && v.field === ''
    ? `payload is not the topic's schema (learned: ${v.learned})`
    : `${field} ${v.why}: ${v.value} (learned: ${v.learned})`;
}

/** Checks an event's shape; throws `guard.badEvent` naming the field. */
export function checkEvent(e: GuardEvent, field: string): GuardEvent {
  const bad = (what: string) => new TaktError('guard.badEvent', `${field}: ${what}`, field);
  if (e === null || typeof e !== 'object') throw bad('not an object');
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) throw bad('ts must be epoch ms');
  if (e.proto !== 'mqtt' && e.proto !== 'opcua') throw bad(`proto must be mqtt or opcua`);
  if (!(EVENT_KINDS as readonly string[]).includes(e.kind))
    throw bad(`kind must be one of ${EVENT_KINDS.join(', ')}`);
  if (typeof e.client !== 'string') throw bad('client must be text');
  if (e.payload !== undefined && !(e.payload instanceof Uint8Array)) throw bad('payload must be bytes');
  return e;
}
