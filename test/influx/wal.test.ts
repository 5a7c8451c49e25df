/**
 * The write-ahead log on a temp folder: group commit, replay of what was not confirmed, a record torn by a
 * crash, deletion of confirmed segments only, the former queue's files, and memory mode.
 */
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type WalOptions, WriteAheadLog } from '../../nodes/influx/wal';

const segs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.wal'));

describe('influx write-ahead log', () => {
  let dir: string;
  const open: WriteAheadLog[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'takt-influx-wal-'))));
  afterEach(async () => {
    for (const w of open.splice(0)) await w.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const make = (over: Partial<WalOptions> = {}) => {
    const w = new WriteAheadLog({ dir, segmentBytes: 1 << 20, groupMs: 1, ...over });
    open.push(w);
    return w;
  };
  const durable = (w: WriteAheadLog) =>
    new Promise<void>((res, rej) => w.whenDurable((e) => (e ? rej(e) : res())));
  const lines = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => `m v=${a + i} ${a + i}`);

  it('calls back only after the appends are on disk, with one record for a group of appends', async () => {
    const w = make();
    const seqs = lines(0, 100).map((l) => w.append(l));
    assert.deepEqual(seqs, [...Array(100).keys()]);
    let called = false;
    w.whenDurable(() => (called = true));
    assert.equal(called, false, 'not before the group is written');
    assert.equal(w.durable, 0);
    await durable(w);
    assert.equal(called, true);
    assert.equal(w.durable, 100);
    const [file] = segs(dir);
    const text = lines(0, 100).join('\n');
    // One record: a 28-byte header and the lines.
    assert.equal(statSync(join(dir, file)).size, 28 + Buffer.byteLength(text));
    assert.equal(w.read(10, 13), 'm v=10 10\nm v=11 11\nm v=12 12');
  });

  it('replays every point not confirmed after a restart, and numbers new points after them', async () => {
    const w = make();
    for (const l of lines(0, 50)) w.append(l);
    await durable(w);
    for (const l of lines(50, 80)) w.append(l);
    await durable(w);
    w.ack(0, 20);
    w.ack(60, 70);
    // No close: as after a kill.
    const again = new WriteAheadLog({ dir, segmentBytes: 1 << 20, groupMs: 1 });
    open.push(again);
    assert.deepEqual(
      again.pending().map((r) => [r.from, r.to]),
      [
        [20, 60],
        [70, 80],
      ],
    );
    assert.equal(again.read(20, 60), lines(20, 60).join('\n'));
    assert.equal(again.append('m v=80 80'), 80);
  });

  it('cuts off a record torn by a crash and keeps the records before it', async () => {
    const w = make();
    for (const l of lines(0, 10)) w.append(l);
    await durable(w);
    for (const l of lines(10, 20)) w.append(l);
    await durable(w);
    await w.close();
    open.length = 0;
    const file = join(dir, segs(dir)[0]);
    const full = statSync(file).size;
    truncateSync(file, full - 5); // the second record's write was cut short
    const again = make();
    assert.equal(again.stats().tornRecords, 1);
    assert.deepEqual(
      again.pending().map((r) => [r.from, r.to]),
      [[0, 10]],
    );
    assert.equal(statSync(file).size, 28 + Buffer.byteLength(lines(0, 10).join('\n')));
    assert.equal(again.append('new v=1 1'), 10);
    await durable(again);
    await again.close();
    open.length = 0;
    const third = make();
    assert.equal(third.stats().tornRecords, 0);
    assert.equal(third.read(0, 11), [...lines(0, 10), 'new v=1 1'].join('\n'));
  });

  it('refuses a record whose checksum does not match', async () => {
    const w = make();
    for (const l of lines(0, 10)) w.append(l);
    await durable(w);
    for (const l of lines(10, 20)) w.append(l);
    await durable(w);
    await w.close();
    open.length = 0;
    const file = join(dir, segs(dir)[0]);
    const b = readFileSync(file);
    b[b.length - 3] ^= 0x20; // a flipped bit in the last record's payload
    writeFileSync(file, b);
    const again = make();
    assert.equal(again.stats().tornRecords, 1);
    assert.deepEqual(
      again.pending().map((r) => [r.from, r.to]),
      [[0, 10]],
    );
  });

  it('never reuses the seq of a point confirmed before its record was torn', async () => {
    const w = make();
    for (const l of lines(0, 10)) w.append(l);
    await durable(w);
    for (const l of lines(10, 20)) w.append(l);
    await durable(w);
    w.ack(0, 20);
    const file = join(dir, segs(dir)[0]);
    truncateSync(file, statSync(file).size - 1);
    const again = make();
    assert.deepEqual(again.pending(), []);
    assert.equal(again.append('x v=1 1'), 20);
  });

  it('deletes a segment only when the server confirmed every point in it', async () => {
    const w = make({ segmentBytes: 200 });
    for (let k = 0; k < 6; k++) {
      for (const l of lines(k * 10, k * 10 + 10)) w.append(l);
      await durable(w);
    }
    // Records of 28 + about 100 bytes: two to a segment, so segments start at points 0, 20 and 40.
    assert.deepEqual(segs(dir), ['0000000000000000.wal', '0000000000000020.wal', '0000000000000040.wal']);
    w.ack(0, 10);
    w.ack(11, 20);
    assert.equal(segs(dir).length, 3, 'point 10 is not confirmed yet');
    w.ack(10, 11);
    assert.deepEqual(segs(dir), ['0000000000000020.wal', '0000000000000040.wal']);
    const bytes = w.bytes;
    w.ack(20, 60);
    assert.ok(w.bytes < bytes);
    // The segment being appended to stays until the log closes.
    assert.deepEqual(segs(dir), ['0000000000000040.wal']);
    await w.close();
    open.length = 0;
    assert.deepEqual(segs(dir), []);
    const again = make();
    assert.deepEqual(again.pending(), []);
    assert.equal(again.append('y v=1 1'), 60);
  });

  it('keeps a segment whose points are confirmed out of order until all are', async () => {
    const w = make({ segmentBytes: 100 });
    for (const l of lines(0, 10)) w.append(l);
    await durable(w);
    for (const l of lines(10, 20)) w.append(l);
    await durable(w);
    w.ack(5, 20);
    assert.equal(segs(dir).length, 2);
    const again = new WriteAheadLog({ dir, segmentBytes: 100, groupMs: 1 });
    open.push(again);
    assert.deepEqual(
      again.pending().map((r) => [r.from, r.to]),
      [[0, 5]],
    );
  });

  it('takes batch files of the former queue into the log', () => {
    writeFileSync(join(dir, '000000000001-1700000000000-2.lp'), 'a v=1 1\na v=2 2');
    writeFileSync(join(dir, '000000000002-1700000000001-1.lp'), 'b v=1 1');
    writeFileSync(join(dir, '000000000003-5-1.lp.123.tmp'), 'half');
    const w = make();
    assert.deepEqual(w.pending(), [{ from: 0, to: 3, at: 1700000000000 }]);
    assert.equal(w.read(0, 3), 'a v=1 1\na v=2 2\nb v=1 1');
    assert.deepEqual(
      readdirSync(dir).filter((n) => !n.endsWith('.wal')),
      ['acks'],
    );
  });

  it('without a folder calls back at once and counts bytes', async () => {
    const w = new WriteAheadLog({ segmentBytes: 1000, groupMs: 1 });
    open.push(w);
    assert.equal(w.persistent, false);
    w.append('abc');
    let called = false;
    w.whenDurable(() => (called = true));
    assert.equal(called, true);
    assert.equal(w.bytes, 4);
    await w.flush();
    assert.equal(w.bytes, 28 + 3);
    w.ack(0, 1);
    await w.close();
    assert.equal(w.bytes, 0);
  });

  it('hands out batch bodies as the bytes of the records, from memory or read back from disk', async () => {
    // Non-ASCII lines: byte offsets differ from character offsets.
    const text = (a: number, b: number) =>
      Array.from({ length: b - a }, (_, i) => `m,site=Zürich°${a + i} v=${a + i} ${a + i}`);
    const big = make();
    for (const l of text(0, 10)) big.append(l);
    await durable(big);
    for (const l of text(10, 20)) big.append(l);
    await durable(big);
    const body = big.readBytes(5, 15);
    assert.ok(Buffer.isBuffer(body));
    assert.equal(body.toString('utf8'), text(5, 15).join('\n'));
    assert.equal(big.readBytes(10, 13).toString('utf8'), text(10, 13).join('\n'));
    await big.close();
    // A cache of one byte keeps only the newest record: older ones are read back from disk, same bytes.
    rmSync(dir, { recursive: true, force: true });
    const small = make({ cacheBytes: 1 });
    for (let g = 0; g < 4; g++) {
      for (const l of text(g * 10, g * 10 + 10)) small.append(l);
      await durable(small);
    }
    assert.equal(small.readBytes(3, 37).toString('utf8'), text(3, 37).join('\n'));
    assert.equal(small.read(0, 40), text(0, 40).join('\n'));
    assert.equal(small.readBytes(39, 40).toString('utf8'), text(39, 40)[0]);
  });

  it('writes a group larger than a record as several records, long and non-ASCII lines intact', async () => {
    // About 2.6 MB in one group: more than one record (1 MB), a line longer than a record, lines with
    // 2-, 3- and 4-byte UTF-8 characters.
    const long = `m,site=long v="${'x'.repeat(1_500_000)}" 1`;
    const text = (a: number, b: number) =>
      Array.from({ length: b - a }, (_, i) =>
        a + i === 7000 ? long : `m,site=Zürich€𝄞${a + i} v=${a + i} ${a + i}`,
      );
    const w = make({ segmentBytes: 64 << 20 });
    for (const l of text(0, 20000)) w.append(l);
    await durable(w);
    assert.equal(w.durable, 20000);
    const all = text(0, 20000).join('\n');
    const [file] = segs(dir);
    const size = statSync(join(dir, file)).size;
    // Each record: a 28-byte header and its lines; the newline between two records is in neither.
    const records = (size - Buffer.byteLength(all) - 1) / 27;
    assert.ok(Number.isInteger(records) && records >= 3, `${records} records`);
    assert.equal(w.bytes, size);
    assert.equal(w.read(0, 20000), all);
    assert.equal(w.read(6999, 7001), text(6999, 7001).join('\n'));
    await w.close();
    // Read back from disk by a new log: every point pending, the same lines.
    const again = make({ cacheBytes: 1 });
    assert.deepEqual(
      again.pending().map((r) => [r.from, r.to]),
      [[0, 20000]],
    );
    assert.equal(again.read(0, 20000), all);
    assert.equal(again.read(12345, 12347), text(12345, 12347).join('\n'));
  });

  it('keeps every line whole when ASCII runs and runs with a non-ASCII line are encoded together', async () => {
    // Lines are encoded in runs of up to 256: a run with one non-ASCII line among ASCII ones, runs cut short
    // by a commit, single lines, and a run that would pass the end of a record.
    const line = (i: number) =>
      i % 700 === 3 ? `m,site=Zürich v=${i} ${i}` : `m,site=plant${'x'.repeat(i % 50)} v=${i} ${i}`;
    const w = make({ segmentBytes: 64 << 20 });
    let n = 0;
    for (const burst of [1, 255, 256, 257, 1000, 3, 20000, 7]) {
      for (let k = 0; k < burst; k++) w.append(line(n++));
      await durable(w);
    }
    const text = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => line(a + i)).join('\n');
    assert.equal(w.read(0, n), text(0, n));
    for (const [a, b] of [
      [0, 1],
      [3, 4],
      [255, 513],
      [700, 704],
      [1500, 1800],
      [n - 10, n],
    ])
      assert.equal(w.read(a, b), text(a, b), `points ${a}-${b}`);
    assert.equal(w.bytes, statSync(join(dir, segs(dir)[0])).size);
    await w.close();
    const again = make({ cacheBytes: 1 });
    assert.equal(again.read(0, n), text(0, n));
  });

  it('without a folder keeps the records not yet confirmed readable', async () => {
    const w = new WriteAheadLog({ segmentBytes: 1 << 20, groupMs: 0 });
    open.push(w);
    for (const l of lines(0, 10)) w.append(l);
    await w.flush();
    assert.equal(w.read(2, 6), lines(2, 6).join('\n'));
    w.ack(0, 10);
    await w.close();
  });
});
