/**
 * The shapes of takt-guard's engine (docs/ARCHITECTURE.md): what a tap reports (`GuardEvent`), what the
 * detector raises (`GuardAlert`) and its options. No Node-RED import.
 */

export type GuardProto = 'mqtt' | 'opcua';

export const EVENT_KINDS = [
  'connect',
  'auth-fail',
  'subscribe',
  'publish',
  'disconnect',
  'session',
  'read',
  'write',
  'call',
  'browse',
] as const;
export type GuardEventKind = (typeof EVENT_KINDS)[number];

/** One thing a client did on a broker or an OPC UA server, as a tap saw it. */
export interface GuardEvent {
  /** Epoch ms. */
  ts: number;
  proto: GuardProto;
  kind: GuardEventKind;
  /** MQTT client id, or the OPC UA session's name. */
  client: string;
  user?: string;
  /** Remote IP address. */
  addr?: string;
  /** Publish topic or subscription filter (MQTT). */
  topic?: string;
  /** The node read, written, called or browsed (OPC UA). */
  nodeId?: string;
  bytes?: number;
  qos?: number;
  retain?: boolean;
  /** The publish payload (MQTT); only its shape and numbers are kept, never the bytes. */
  payload?: Uint8Array;
  /** Keep-alive of a connect, seconds (optional extension). */
  keepalive?: number;
}

export const ALERT_TYPES = [
  'flood',
  'brute-force',
  'scan',
  'unauthorised-write',
  'replay',
  'malformed',
  'connection-hoarding',
  'new-client',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** A feature that moved, with its learned baseline. */
export interface Evidence {
  feature: string;
  /** Its value in the current window (a count). */
  value: number;
  /** The learned median per window for this subject (0 for novelty counts). */
  baseline: number;
  /** Where the feature starts to alert, in the same unit as value. */
  threshold: number;
  /** value relative to its threshold: 1 = at the threshold. */
  ratio: number;
  /** Who the feature was counted for: `client:<id>`, `addr:<ip>`, `user:<name>` or `all`. */
  subject: string;
  /** For a payload feature: the field, its value and what was learned of it. */
  detail?: string;
}

export interface GuardAlert {
  ts: number;
  client: string;
  user?: string;
  addr?: string;
  proto: GuardProto;
  /** The topic or node of the event that raised it, when it had one. */
  topic?: string;
  nodeId?: string;
  type: AlertType;
  /** The strongest feature's value relative to its threshold (>= 1). */
  score: number;
  evidence: Evidence[];
}

export interface DetectorOptions {
  /** Window length, ms (default 5000). */
  windowMs?: number;
  /** Share of the training time, at its end, held out to set the thresholds (default 0.3). */
  holdout?: number;
  /** Thresholds are the held-out maximum times this margin (default 1.25). */
  margin?: number;
  /**
   * Share of held-out windows a feature may exceed its threshold in (default 0: the held-out maximum).
   * The false-alarm budget.
   */
  alarmBudget?: number;
  /** Smallest threshold of a rate feature, in robust z units (default 4). */
  minZ?: number;
  /**
   * A rate of a subject known to training alerts only at this many times its busiest training window, or
   * more (default 2): a flood, scan or hoard is a multiple of what the subject ever did, not a busy minute.
   */
  minRatio?: number;
  /** Smallest threshold of a novelty count (default 1: the first novel item alerts). */
  minNovel?: number;
  /** A repeated alert of the same type from the same source is held back for this long, ms (default 60000). */
  cooldownMs?: number;
  /**
   * Subjects (clients, addresses, users) followed at once (default 5000). While watching, the oldest
   * subject unknown to training is evicted to make room (counted); learned ones are kept, and when only
   * those are left a new one is counted as dropped.
   */
  maxSubjects?: number;
  /** Entries of each learned set (topics, client ids, writers, filters, Sparkplug nodes), default 50000; more are counted as dropped. */
  maxLearned?: number;
  /** Raise `new-client` alerts for unknown client ids (default true). */
  alertNewClients?: boolean;
}

/** Counts the detector keeps about itself. */
export interface DetectorStats {
  state: 'untrained' | 'learning' | 'watching';
  events: number;
  windows: number;
  flaggedWindows: number;
  alerts: number;
  /** Alerts held back by the cooldown. */
  suppressed: number;
  subjects: number;
  /** Events of subjects over `maxSubjects` (counted for the others they belong to). */
  droppedSubjects: number;
  /** Subjects unknown to training evicted to make room for newer ones. */
  evictedSubjects: number;
  /** Learned entries not kept because their set was full (`maxLearned`). */
  learnedDropped: number;
  /** Thresholds per feature after training. */
  thresholds: Record<string, number>;
}
