/**
 * Keeps mqtt-packet's length cache from pinning memory. mqtt-packet (the encoder under mqtt.js and the
 * embedded aedes broker) caches the encoded "remaining length" of every packet length under 16,384 it writes,
 * each a 1-2 byte slice of a `Buffer.allocUnsafe` pool. A slice keeps its whole pool alive (64 KiB on Node
 * 24), and the first packet of each new length comes at a random moment, each from a fresh pool: a runtime
 * publishing payloads of varying size (Sparkplug, the UNS) kept a further 64 KiB for every new length, about
 * 11 MB an hour in the 600x soak and up to 1 GiB in all. Writing one packet of every length once, back to
 * back, fills the cache from two or three pools instead, after which it never takes another.
 * No Node-RED import.
 */
import { dirname } from 'node:path';

/** The part of mqtt-packet used here. */
export interface PacketWriter {
  writeToStream(
    packet: { cmd: 'publish'; topic: string; payload: Buffer; qos: 0; retain: boolean; dup: boolean },
    stream: { write(b: Buffer): boolean; destroy(err?: Error): void },
  ): boolean;
}

/** mqtt-packet caches the lengths below this (writeToStream.js). */
export const CACHED_LENGTHS = 16384;

const ZEROS = Buffer.alloc(CACHED_LENGTHS);

/**
 * Writes one QoS 0 publish whose remaining length is `length` (3 to 16,383: 2 for the topic's length, 1 for the
 * topic "w", the rest payload) to `write`; mqtt-packet writes the header byte, then the encoded length.
 */
export function writePublishOfLength(writer: PacketWriter, length: number, write: (b: Buffer) => void): void {
  writer.writeToStream(
    { cmd: 'publish', topic: 'w', payload: ZEROS.subarray(0, length - 3), qos: 0, retain: false, dup: false },
    {
      write: (b) => {
        write(b);
        return true;
      },
      destroy: (err) => {
        if (err) throw err;
      },
    },
  );
}

const warmed = new WeakSet<object>();

/**
 * The mqtt-packet module that mqtt.js itself loads (resolved from mqtt's folder, so the same instance, and
 * with one copy installed the one aedes loads too), or undefined when it cannot be found.
 */
export function mqttPacketOfMqtt(): PacketWriter | undefined {
  try {
    const fromMqtt = dirname(require.resolve('mqtt/package.json'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(require.resolve('mqtt-packet', { paths: [fromMqtt] })) as PacketWriter;
  } catch {
    return undefined;
  }
}

/**
 * Writes a QoS 0 publish of every remaining length from 3 (the shortest publish) to 16,383 into a stream that
 * drops it, once per module (later calls return 0 at once). Returns the packets written. Lengths 0-2 (only a
 * few control packets) are left to fill themselves: at most three more pools, ever.
 */
export function warmPacketLengthCache(writer: PacketWriter | undefined = mqttPacketOfMqtt()): number {
  if (!writer || warmed.has(writer)) return 0;
  warmed.add(writer);
  let written = 0;
  for (let length = 3; length < CACHED_LENGTHS; length++, written++)
    writePublishOfLength(writer, length, () => undefined);
  return written;
}
