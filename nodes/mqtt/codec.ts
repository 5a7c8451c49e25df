/**
 * Sparkplug B payloads (Eclipse Tahu's sparkplug-payload) for every Takt part that speaks Sparkplug: the
 * host decoder, the simulator's edge node and takt-uns-out's edge-node mode. No Node-RED import.
 */
import { get as getSparkplug } from 'sparkplug-payload';
import { TaktError } from '../core/errors';

export const NAMESPACE = 'spBv1.0';
export const REBIRTH_METRIC = 'Node Control/Rebirth';

const sp = getSparkplug(NAMESPACE);
if (!sp) throw new Error(`sparkplug-payload does not know the ${NAMESPACE} namespace`);
/** encodePayload / decodePayload for spBv1.0. */
export const codec = sp;

/**
 * A group, edge node or device id as it goes into a topic: non-empty, without the topic separator or MQTT
 * wildcards. Returns it, or throws a TaktError with `code` naming the field.
 */
export function checkSparkplugId(v: string, field: string, code: string): string {
  if (!v || /[/+#]/.test(v))
    throw new TaktError(code, `Sparkplug ${field} "${v}" must be non-empty, without / + #`, field);
  return v;
}
