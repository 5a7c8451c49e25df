/**
 * Reading labelled feature rows from messages for the learn nodes: a record of named features or a row of the
 * prep nodes (`{ ts, features, ... }`), with the label in msg.label (or payload.label). The first row fixes
 * the feature names when none are configured. No Node-RED import.
 */
import { TaktError } from '../core/errors';
import { rowFeatures } from '../core/sample';

/** The feature vector of a payload in the order of `names` (fixing them from the payload when empty). */
export function featureVector(payload: unknown, names: string[]): number[] {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw new TaktError(
      'learn.badPayload',
      'payload: expected a record of named features or a prep row',
      'payload',
    );
  const rec = rowFeatures(payload as Record<string, unknown>);
  if (names.length === 0)
    names.push(...Object.keys(rec).filter((k) => k !== 'label' && typeof rec[k] === 'number'));
  const bad = names.filter((f) => typeof rec[f] !== 'number' || !Number.isFinite(rec[f]));
  if (bad.length)
    throw new TaktError('learn.badFeatures', `payload: missing or not a number: ${bad.join(', ')}`, bad[0]);
  return names.map((f) => rec[f] as number);
}

/** The label of a message: msg.label, else payload.label; a finite number or a boolean (true = 1). */
export function labelOf(msg: { label?: unknown; payload?: unknown }): number {
  const p = msg.payload as { label?: unknown } | null;
  const v = msg.label !== undefined ? msg.label : p && typeof p === 'object' ? p.label : undefined;
  const n = typeof v === 'boolean' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new TaktError(
      'learn.badLabel',
      `label: ${String(v)} is not a number (msg.label or payload.label)`,
      'label',
    );
  return n;
}
