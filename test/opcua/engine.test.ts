/**
 * The OPC UA engine without a server: item lists, endpoint options, error labels, certificates, value
 * decoding and write coercion against known values, and the library export.
 */
import assert from 'node:assert/strict';
import {
  DataType,
  DataValue,
  LocalizedText,
  QualifiedName,
  resolveNodeId,
  StatusCode,
  StatusCodes,
  Variant,
  VariantArrayType,
} from 'node-opcua';
import * as lib from '../../nodes';
import {
  checkEndpointOptions,
  coerce,
  decodeDataValue,
  decodeVariant,
  derCertificate,
  describeError,
  type EndpointOptions,
  OpcuaSubscriber,
  parseItems,
  topicFor,
} from '../../nodes/opcua';
import { TaktError } from '../../nodes/core/errors';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TaktError, `a TaktError, got ${String(err)}`);
    return `${err.code}: ${err.message}`;
  }
  assert.fail('expected a throw');
};

describe('OPC UA engine: library export', () => {
  it('exports the OPC UA engine as the opcua namespace of the library', () => {
    assert.equal(lib.opcua.parseItems, parseItems);
    assert.equal(typeof lib.opcua.OpcuaConnection, 'function');
    assert.equal(typeof lib.opcua.OpcuaSubscriber.readOnce, 'function');
    assert.equal(typeof lib.opcua.writeItems, 'function');
    assert.equal(typeof lib.opcua.callMethod, 'function');
    assert.deepEqual([...lib.opcua.SECURITY_MODES], ['None', 'Sign', 'SignAndEncrypt']);
  });
});

describe('OPC UA engine: item lists', () => {
  it('reads NodeIds and browse paths one per line, skipping blank lines and comments', () => {
    const items = parseItems(
      'ns=1;s=Temperature\r\n# a comment\n\n  /Plant1/Line1/CNC1/Power  \n/Plant1/2:Line1/*\n/Plant1/**\ni=2258\n/*',
    );
    assert.deepEqual(items, [
      { spec: 'ns=1;s=Temperature', kind: 'nodeId', nodeId: 'ns=1;s=Temperature' },
      {
        spec: '/Plant1/Line1/CNC1/Power',
        kind: 'path',
        path: [
          { namespaceIndex: 1, name: 'Plant1' },
          { namespaceIndex: 1, name: 'Line1' },
          { namespaceIndex: 1, name: 'CNC1' },
          { namespaceIndex: 1, name: 'Power' },
        ],
      },
      {
        spec: '/Plant1/2:Line1/*',
        kind: 'children',
        path: [
          { namespaceIndex: 1, name: 'Plant1' },
          { namespaceIndex: 2, name: 'Line1' },
        ],
      },
      { spec: '/Plant1/**', kind: 'descendants', path: [{ namespaceIndex: 1, name: 'Plant1' }] },
      { spec: 'i=2258', kind: 'nodeId', nodeId: 'i=2258' },
      { spec: '/*', kind: 'children', path: [] },
    ]);
    assert.deepEqual(
      parseItems(['ns=2;i=7', '/A']).map((i) => i.kind),
      ['nodeId', 'path'],
    );
  });

  it('refuses an empty list, a line that is neither form, and a path naming no node, by line number', () => {
    assert.match(
      code(() => parseItems('')),
      /^opcua\.noItems: no items/,
    );
    assert.match(
      code(() => parseItems('# only a comment\n  \n')),
      /^opcua\.noItems/,
    );
    assert.match(
      code(() => parseItems('i=1\nPlant1/Line1')),
      /^opcua\.badItem: item 2 "Plant1\/Line1" is neither/,
    );
    assert.match(
      code(() => parseItems('/')),
      /^opcua\.badItem: item 1 "\/" names no node/,
    );
    assert.match(
      code(() => parseItems('ns=x;s=1')),
      /^opcua\.badItem/,
    );
  });

  it('builds ISA-95 topics from a prefix and browse names', () => {
    assert.equal(topicFor('Acme', ['Plant1', 'Line1', 'CNC1', 'Power']), 'Acme/Plant1/Line1/CNC1/Power');
    assert.equal(topicFor('', ['Server', 'ServerStatus']), 'Server/ServerStatus');
  });

  it('sizes the server queue for the sampling/publishing ratio unless given', () => {
    const sub = (samplingIntervalMs: number, publishingIntervalMs: number, queueSize = 0) =>
      new OpcuaSubscriber({
        items: parseItems('i=2258'),
        topicPrefix: '',
        samplingIntervalMs,
        publishingIntervalMs,
        queueSize,
        deadband: { type: 'none', value: 0 },
      }).queueSize();
    // Changes per publish, twice over, plus one.
    assert.equal(sub(100, 1000), 2 * 10 + 1);
    assert.equal(sub(250, 1000), 2 * 4 + 1);
    assert.equal(sub(300, 1000), 2 * 4 + 1, 'a partial interval counts');
    assert.equal(sub(1000, 1000), 3);
    assert.equal(sub(5000, 1000), 3, 'at least 2');
    assert.equal(sub(100, 1000, 7), 7, 'the user’s size wins');
  });
});

describe('OPC UA engine: endpoint options and error labels', () => {
  const ok: EndpointOptions = {
    url: 'opc.tcp://127.0.0.1:4840/UA/Takt',
    securityMode: 'None',
    securityPolicy: 'None',
    auth: { type: 'anonymous' },
    pkiDir: '/tmp/pki',
  };

  it('accepts a valid endpoint and names the bad field of an invalid one', () => {
    assert.equal(checkEndpointOptions(ok), ok);
    const secure = { ...ok, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' } as const;
    assert.equal(checkEndpointOptions(secure), secure);
    assert.match(
      code(() => checkEndpointOptions({ ...ok, url: 'http://host:4840' })),
      /^opcua\.badUrl/,
    );
    assert.match(
      code(() => checkEndpointOptions({ ...ok, url: 'opc.tcp://' })),
      /^opcua\.badUrl/,
    );
    assert.match(
      code(() => checkEndpointOptions({ ...ok, securityMode: 'Encrypt' as never })),
      /^opcua\.badMode: unknown security mode "Encrypt"/,
    );
    assert.match(
      code(() => checkEndpointOptions({ ...ok, securityMode: 'Sign', securityPolicy: 'Basic128' as never })),
      /^opcua\.badPolicy: unknown security policy "Basic128"/,
    );
    assert.match(
      code(() => checkEndpointOptions({ ...ok, securityPolicy: 'Basic256Sha256' })),
      /^opcua\.badSecurity: security mode None does not go with policy Basic256Sha256/,
    );
    assert.match(
      code(() => checkEndpointOptions({ ...ok, securityMode: 'Sign' })),
      /^opcua\.badSecurity/,
    );
    assert.match(
      code(() => checkEndpointOptions({ ...ok, auth: { type: 'username', user: '', password: 'x' } })),
      /^opcua\.badAuth/,
    );
  });

  it('labels connection failures by cause, short enough for a status', () => {
    const cases: [unknown, string][] = [
      [new Error('BadUserAccessDenied (0x801f0000)'), 'user rejected'],
      [new Error('BadIdentityTokenRejected'), 'user rejected'],
      [new Error('the server certificate is not trusted'), 'cert not trusted'],
      [new Error('BadSecurityPolicyRejected'), 'policy rejected'],
      [new Error('connect ECONNREFUSED 127.0.0.1:4840'), 'refused'],
      [new Error('getaddrinfo ENOTFOUND plc.local'), 'host not found'],
      [new Error('connect ETIMEDOUT 10.0.0.9:4840'), 'timed out'],
      [new Error('read ECONNRESET'), 'connection lost'],
      ['socket has been disconnected by third party', 'connection lost'],
    ];
    for (const [err, label] of cases) assert.equal(describeError(err), label, String(err));
    for (const [, label] of cases) assert.ok(label.length < 20);
    const other = describeError(new Error(`${'x'.repeat(200)}\nsecond line`));
    assert.equal(other, 'x'.repeat(120), 'unknown causes: first line, at most 120 characters');
  });

  it('reads a certificate file as DER whether it holds PEM text or DER bytes', () => {
    const der = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
    const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
    const pem = Buffer.from(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
    assert.deepEqual(derCertificate(pem), der);
    assert.deepEqual(derCertificate(der), der);
  });
});

describe('OPC UA engine: decoding values', () => {
  const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const v = (dataType: DataType, value: unknown, arrayType?: VariantArrayType) =>
    new Variant({ dataType, value, arrayType: arrayType ?? VariantArrayType.Scalar });

  it('decodes scalars to JSON values', () => {
    assert.equal(decodeVariant(v(DataType.Double, 21.5)), 21.5);
    assert.equal(decodeVariant(v(DataType.Boolean, true)), true);
    assert.equal(decodeVariant(v(DataType.String, 'Running')), 'Running');
    assert.equal(decodeVariant(v(DataType.UInt32, 42)), 42);
    assert.equal(decodeVariant(v(DataType.DateTime, new Date(T))), '2026-01-02T03:04:05.678Z');
    assert.equal(decodeVariant(v(DataType.ByteString, Buffer.from([1, 2, 3, 250]))), 'AQID+g==');
    assert.equal(
      decodeVariant(v(DataType.LocalizedText, new LocalizedText({ text: 'Hallo', locale: 'de' }))),
      'Hallo',
    );
    assert.equal(
      decodeVariant(v(DataType.QualifiedName, new QualifiedName({ namespaceIndex: 2, name: 'Oven' }))),
      '2:Oven',
    );
    assert.equal(
      decodeVariant(v(DataType.QualifiedName, new QualifiedName({ namespaceIndex: 0, name: 'Server' }))),
      'Server',
    );
    assert.equal(
      decodeVariant(v(DataType.NodeId, resolveNodeId('ns=1;s=Temperature'))),
      'ns=1;s=Temperature',
    );
    assert.equal(decodeVariant(v(DataType.Null, null)), null);
  });

  it('decodes 64-bit integers exactly: numbers within 2^53, text beyond', () => {
    // node-opcua carries them as [high, low] 32-bit words.
    assert.equal(decodeVariant(v(DataType.Int64, [0, 5])), 5);
    assert.equal(decodeVariant(v(DataType.UInt64, [1, 0])), 2 ** 32);
    assert.equal(decodeVariant(v(DataType.Int64, [0x1fffff, 0xffffffff])), Number.MAX_SAFE_INTEGER);
    assert.equal(decodeVariant(v(DataType.UInt64, [0x200000, 0])), '9007199254740992');
    assert.equal(decodeVariant(v(DataType.Int64, [-1, 0xffffffff])), -1);
    assert.equal(decodeVariant(v(DataType.Int64, [0x7fffffff, 0xffffffff])), '9223372036854775807');
    // Arrays of them: one pair per element.
    assert.deepEqual(
      decodeVariant(
        v(
          DataType.UInt64,
          [
            [0, 1],
            [0, 2],
          ],
          VariantArrayType.Array,
        ),
      ),
      [1, 2],
    );
  });

  it('decodes arrays as plain arrays and enumerations by name when the names are known', () => {
    const arr = decodeVariant(v(DataType.Double, [1.5, -2, 3.25], VariantArrayType.Array));
    assert.ok(Array.isArray(arr), 'a plain array, not a Float64Array');
    assert.deepEqual(arr, [1.5, -2, 3.25]);
    assert.deepEqual(
      decodeVariant(v(DataType.DateTime, [new Date(T), new Date(T + 1000)], VariantArrayType.Array)),
      ['2026-01-02T03:04:05.678Z', '2026-01-02T03:04:06.678Z'],
    );
    const names = ['Running', 'Failed', 'NoConfiguration'];
    assert.equal(decodeVariant(v(DataType.Int32, 1), names), 'Failed');
    assert.equal(decodeVariant(v(DataType.Int32, 7), names), 7, 'beyond the names: the number');
    assert.equal(decodeVariant(v(DataType.Int32, 1)), 1);
  });

  it('decodes a DataValue with its source time, quality, status name and overflow bit', () => {
    const dv = (statusCode: StatusCode, ts: { source?: number; server?: number } = { source: T }) =>
      new DataValue({
        value: { dataType: DataType.Double, value: 7.25 },
        statusCode,
        ...(ts.source === undefined ? {} : { sourceTimestamp: new Date(ts.source) }),
        ...(ts.server === undefined ? {} : { serverTimestamp: new Date(ts.server) }),
      });
    assert.deepEqual(decodeDataValue(dv(StatusCodes.Good)), {
      value: 7.25,
      ts: T,
      quality: 'good',
      statusCode: 'Good',
      overflow: false,
    });
    const unc = decodeDataValue(dv(StatusCodes.UncertainLastUsableValue, { server: T + 5 }));
    assert.deepEqual([unc.quality, unc.statusCode, unc.ts], ['uncertain', 'UncertainLastUsableValue', T + 5]);
    const bad = decodeDataValue(dv(StatusCodes.BadSensorFailure));
    assert.deepEqual([bad.quality, bad.statusCode], ['bad', 'BadSensorFailure']);
    // Overflow: InfoType DataValue (0x400) with the Overflow bit (0x80).
    assert.equal(decodeDataValue(dv(StatusCode.makeStatusCode(StatusCodes.Good, 0x480))).overflow, true);
    assert.equal(decodeDataValue(dv(StatusCode.makeStatusCode(StatusCodes.Good, 0x080))).overflow, false);
  });
});

describe('OPC UA engine: write coercion', () => {
  const value = (x: Variant) => x.value as unknown;

  it('turns JSON values into Variants of the target type', () => {
    assert.equal(value(coerce('1.25', DataType.Double, -1)), 1.25);
    assert.equal(value(coerce(3, DataType.Float, -1)), 3);
    assert.equal(value(coerce(1, DataType.Boolean, -1)), true);
    assert.equal(value(coerce(' FALSE ', DataType.Boolean, -1)), false);
    assert.equal(value(coerce('12', DataType.Int16, -1)), 12);
    assert.equal(value(coerce(32767, DataType.Int16, -1)), 32767);
    assert.equal(value(coerce(255, DataType.Byte, -1)), 255);
    assert.equal(value(coerce(7, DataType.String, -1)), '7');
    assert.equal(
      (value(coerce('2026-01-02T03:04:05Z', DataType.DateTime, -1)) as Date).getTime(),
      Date.UTC(2026, 0, 2, 3, 4, 5),
    );
    assert.deepEqual(value(coerce('AQID', DataType.ByteString, -1)), Buffer.from([1, 2, 3]));
    const d = coerce(2.5, DataType.Double, -1);
    assert.deepEqual([d.dataType, d.arrayType], [DataType.Double, VariantArrayType.Scalar]);
  });

  it('refuses values out of the type’s range or of the wrong kind, naming where', () => {
    assert.match(
      code(() => coerce(32768, DataType.Int16, -1, 'Speed')),
      /^opcua\.badValue: Speed: 32768 cannot be written as Int16/,
    );
    assert.match(
      code(() => coerce(-1, DataType.Byte, -1)),
      /cannot be written as Byte/,
    );
    assert.match(
      code(() => coerce(1.5, DataType.Int32, -1)),
      /cannot be written as Int32/,
    );
    assert.match(
      code(() => coerce(4294967296, DataType.UInt32, -1)),
      /UInt32/,
    );
    assert.match(
      code(() => coerce('heavy', DataType.Double, -1)),
      /"heavy" cannot be written as Double/,
    );
    assert.match(
      code(() => coerce(Infinity, DataType.Double, -1)),
      /Double/,
    );
    assert.match(
      code(() => coerce('', DataType.Double, -1)),
      /Double/,
    );
    assert.match(
      code(() => coerce(2, DataType.Boolean, -1)),
      /Boolean/,
    );
    assert.match(
      code(() => coerce({}, DataType.String, -1)),
      /String/,
    );
    assert.match(
      code(() => coerce('not a date', DataType.DateTime, -1)),
      /DateTime/,
    );
    assert.match(
      code(() => coerce(5, DataType.Guid, -1)),
      /cannot be written as Guid/,
    );
  });

  it('writes arrays to array nodes (ValueRank) and refuses the wrong shape', () => {
    const a = coerce(['1', 2, 3.5], DataType.Double, 1, 'Setpoints');
    assert.equal(a.arrayType, VariantArrayType.Array);
    assert.deepEqual(Array.from(a.value as ArrayLike<number>), [1, 2, 3.5]);
    // ValueRank 0: one or more dimensions, so a scalar or an array.
    assert.equal(coerce([1, 2], DataType.Int32, 0).arrayType, VariantArrayType.Array);
    assert.equal(coerce(1, DataType.Int32, 0).arrayType, VariantArrayType.Scalar);
    assert.match(
      code(() => coerce(1, DataType.Double, 1, 'Setpoints')),
      /Setpoints: the node holds an array/,
    );
    assert.match(
      code(() => coerce([1], DataType.Double, -1, 'Speed')),
      /Speed: the node holds a single value/,
    );
    assert.match(
      code(() => coerce([1, 'x'], DataType.Double, 1, 'Setpoints')),
      /Setpoints\[1\]: "x" cannot be written as Double/,
    );
  });
});
