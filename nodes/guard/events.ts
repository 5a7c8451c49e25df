/**
 * takt-guard's message side, kept pure: events that arrive in messages (`readEvents`), and the response
 * proposals an alert leads to (`proposals`), which go to takt-approve and are never carried out unless a
 * person approves them and the flow sends them back. No Node-RED import.
 */
import { TaktError } from '../core/errors';
import { readTimestamp } from '../core/message';
import { checkEvent } from './detector';
import type { AlertType, GuardAlert, GuardEvent } from './types';

function bytes(v: unknown, field: string): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(v);
  // a Buffer as JSON ({ type: 'Buffer', data: [...] }), e.g. after a file or a link
  if (
    typeof v === 'object' &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  )
    return Uint8Array.from((v as { data: number[] }).data);
  if (typeof v === 'object' || typeof v === 'number' || typeof v === 'boolean')
    return new TextEncoder().encode(JSON.stringify(v));
  throw new TaktError('guard.badEvent', `${field}: payload must be bytes or text`, field);
}

/**
 * One event or an array of them from a message's payload. `ts` follows the one timestamp rule (missing:
 * `now`); a payload may be bytes, text, a Buffer's JSON or any JSON value. Throws `guard.badEvent`
 * naming the first bad element.
 */
export function readEvents(payload: unknown, now: number): GuardEvent[] {
  const list = Array.isArray(payload) ? payload : [payload];
  return list.map((raw, i) => {
    const field = Array.isArray(payload) ? `payload[${i}]` : 'payload';
    if (raw === null || typeof raw !== 'object')
      throw new TaktError('guard.badEvent', `${field}: an event must be an object`, field);
    const r = raw as Record<string, unknown>;
    const e = { ...r, ts: readTimestamp(r.ts, now, `${field}.ts`) } as unknown as GuardEvent;
    const p = bytes(r.payload, `${field}.payload`);
    if (p) e.payload = p;
    else delete e.payload;
    return checkEvent(e, field);
  });
}

export const RESPONSES = ['disconnect-client', 'block-topic', 'block-address', 'reauthenticate'] as const;
export type ResponseAction = (typeof RESPONSES)[number];

/** A response waiting for a person's approval (takt-approve holds it). */
export interface Proposal {
  action: ResponseAction;
  proto: GuardEvent['proto'];
  client: string;
  addr?: string;
  topic?: string;
  /** Why: the alert's type and score. */
  reason: string;
}

const BY_TYPE: Record<AlertType, readonly ResponseAction[]> = {
  flood: ['disconnect-client'],
  'brute-force': ['block-address'],
  scan: ['disconnect-client'],
  'unauthorised-write': ['reauthenticate'],
  replay: ['disconnect-client', 'block-topic'],
  malformed: ['disconnect-client', 'block-topic'],
  'connection-hoarding': ['block-address'],
  'new-client': [],
};

/** The responses an alert suggests (none for a new client: that alone is worth a look, not an action). */
export function proposals(alert: GuardAlert): Proposal[] {
  const topic = alert.topic;
  const reason = `${alert.type} (score ${alert.score.toFixed(1)})`;
  const out: Proposal[] = [];
  for (const action of BY_TYPE[alert.type]) {
    if (action === 'block-topic' && !topic) continue;
    if (action === 'block-address' && !alert.addr) continue;
    if (action !== 'block-address' && action !== 'block-topic' && !alert.client) continue;
    const p: Proposal = { action, proto: alert.proto, client: alert.client, reason };
    if (alert.addr) p.addr = alert.addr;
    if (action === 'block-topic' && topic) p.topic = topic;
    out.push(p);
  }
  return out;
}

/** One line for people (takt-approve's summary). */
export function describeProposal(p: Proposal): string {
  const what =
    p.action === 'disconnect-client'
      ? `disconnect ${p.proto} client "${p.client}"`
      : p.action === 'block-topic'
        ? `block publishing to "${p.topic}"`
        : p.action === 'block-address'
          ? `refuse connections from ${p.addr}`
          : `end the session of "${p.client}" and require a new login`;
  return `guard: ${what}: ${p.reason}`;
}
