/**
 * mqtt-packet's length cache (nodes/mqtt/packet-cache.ts): packets of new lengths written at random moments
 * each pin a fresh Buffer pool, unless the cache was filled back to back first. Each test loads its own copy
 * of mqtt-packet, so what other tests in this process wrote does not count.
 */
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { mulberry32 } from '../../nodes/core/random';
import {
  CACHED_LENGTHS,
  mqttPacketOfMqtt,
  type PacketWriter,
  warmPacketLengthCache,
  writePublishOfLength,
} from '../../nodes/mqtt/packet-cache';

/** A copy of the mqtt-packet module that mqtt.js loads, with caches of its own. */
function freshMqttPacket(): PacketWriter {
  const main = require.resolve('mqtt-packet', { paths: [dirname(require.resolve('mqtt/package.json'))] });
  const dir = dirname(main);
  const saved = Object.keys(require.cache).filter((k) => k.startsWith(dir));
  const old = saved.map((k) => [k, require.cache[k]] as const);
  for (const k of saved) delete require.cache[k];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(main) as PacketWriter;
  } finally {
    for (const k of Object.keys(require.cache)) if (k.startsWith(dir)) delete require.cache[k];
    for (const [k, m] of old) require.cache[k] = m;
  }
}

/**
 * Writes a publish of each remaining length as a busy runtime would, with other buffers allocated between
 * (so the Buffer pool moves on), and returns the pools that hold the encoded lengths.
 */
function poolsOfLengths(writer: PacketWriter, lengths: number[]): Set<ArrayBufferLike> {
  const pools = new Set<ArrayBufferLike>();
  const other: Buffer[] = [];
  for (const length of lengths) {
    const writes: Buffer[] = [];
    writePublishOfLength(writer, length, (b) => writes.push(b));
    // header byte, then the remaining length
    assert.ok(writes.length >= 2);
    pools.add(writes[1].buffer);
    // The rest of the runtime takes small buffers from the same pool: a pool's worth between two packets.
    for (let k = 0; k < 3; k++) other.push(Buffer.allocUnsafe(30000));
    other.length = 0;
  }
  return pools;
}

describe('mqtt-packet length cache (packet-cache)', () => {
  const random = mulberry32(26);
  const lengths = Array.from({ length: 300 }, () => 3 + Math.floor(random() * (CACHED_LENGTHS - 3)));

  it('finds the mqtt-packet that mqtt.js uses', () => {
    const w = mqttPacketOfMqtt();
    assert.equal(typeof w?.writeToStream, 'function');
  });

  it('without warming, each new length pins a pool of its own (what grew in the soak)', () => {
    const pools = poolsOfLengths(freshMqttPacket(), lengths);
    assert.ok(pools.size > 100, `${pools.size} pools for ${new Set(lengths).size} lengths`);
  });

  it('warmed, every length under 16,384 is encoded from a few pools, and warming again does nothing', () => {
    const writer = freshMqttPacket();
    assert.equal(warmPacketLengthCache(writer), CACHED_LENGTHS - 3);
    assert.equal(warmPacketLengthCache(writer), 0);
    const pools = poolsOfLengths(writer, lengths);
    assert.ok(pools.size <= 3, `${pools.size} pools`);
  });
});
