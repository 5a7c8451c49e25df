/**
 * What the HTTP write target puts on the wire, seen by a plain HTTP server on loopback: bodies above 1 kB
 * gzipped at zlib level 1 (the gzip header says "fastest") and unpacking to the same bytes, small bodies and
 * gzip off sent as they are, and a write aborted before its request is made never reaches the server.
 * (That VictoriaMetrics and InfluxDB take these bodies is in write.integration.test.ts.)
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { httpTarget, type ServerOptions } from '../../nodes/influx/transport';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

describe('influx HTTP write target', () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (seen.length = 0));

  const target = (over: Partial<ServerOptions> = {}) =>
    httpTarget({ url, api: 'v2', org: 'o', bucket: 'b', token: 't', gzip: true, ...over });
  const lines = (n: number) =>
    Buffer.from(
      Array.from({ length: n }, (_, i) => `m,line=l${i % 10},site=Zürich v=${i / 10} ${1e12 + i}`).join('\n'),
    );

  it('gzips a large body at level 1, and it unpacks to the same bytes', async () => {
    const body = lines(2000);
    await target().write(body);
    assert.equal(seen.length, 1);
    const [req] = seen;
    assert.match(req.path, /^\/api\/v2\/write\?org=o&bucket=b&precision=ms$/);
    assert.equal(req.headers['content-encoding'], 'gzip');
    assert.equal(req.headers.authorization, 'Token t');
    // Gzip header (RFC 1952): magic 1f 8b, method 8; XFL (byte 8) is 4 when the compressor used its
    // fastest setting, 0 at zlib's default level 6.
    assert.deepEqual([...req.body.subarray(0, 3)], [0x1f, 0x8b, 8]);
    assert.equal(req.body[8], 4, 'compressed at level 1');
    assert.ok(req.body.length < body.length / 5, `${req.body.length} bytes`);
    assert.ok(gunzipSync(req.body).equals(body));
  });

  it('sends a small body, or any body with gzip off, as it is', async () => {
    const small = lines(5);
    assert.ok(small.length <= 1000);
    await target().write(small);
    const big = lines(2000);
    await target({ gzip: false }).write(big);
    assert.equal(seen.length, 2);
    assert.equal(seen[0].headers['content-encoding'], undefined);
    assert.ok(seen[0].body.equals(small));
    assert.equal(seen[1].headers['content-encoding'], undefined);
    assert.ok(seen[1].body.equals(big));
  });

  it('does not send a write aborted while its body was being gzipped', async () => {
    const ctrl = new AbortController();
    const p = target().write(lines(2000), ctrl.signal);
    ctrl.abort();
    await assert.rejects(p, /aborted/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, 0);
  });
});
