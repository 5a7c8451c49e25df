import assert from 'node:assert/strict';
import {
  type AdaptorNode,
  championFeed,
  configNodeStatus,
  configReader,
  onClose,
  onInput,
  requireConfigNode,
  readableError,
  setUp,
  TaktError,
} from '../../nodes/core';
import { util } from '@node-red/util';
import type { NodeStatus } from '../../nodes/core/status';

type Listener = (...args: never[]) => unknown;

/** A stand-in node recording what the helper does to it. */
function fakeNode() {
  const listeners: Record<string, Listener[]> = {};
  const seen = { statuses: [] as NodeStatus[], errors: [] as string[], warnings: [] as string[] };
  const node = {
    status: (s: NodeStatus) => void seen.statuses.push(s),
    error: (t: string) => void seen.errors.push(t),
    warn: (t: string) => void seen.warnings.push(t),
    on: (event: string, l: Listener) => {
      (listeners[event] ??= []).push(l);
      return node;
    },
  };
  /** Sends one message; resolves with what done was called with. */
  const input = (msg: unknown) =>
    new Promise<{ err: Error | undefined; sent: unknown[] }>((resolve) => {
      const sent: unknown[] = [];
      for (const l of listeners.input ?? [])
        (l as unknown as (m: unknown, s: (x: unknown) => void, d: (e?: Error) => void) => void)(
          msg,
          (x) => sent.push(x),
          (err) => resolve({ err, sent }),
        );
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const l of listeners.close ?? [])
        (l as unknown as (r: boolean, d: () => void) => void)(false, resolve);
    });
  return { node: node as AdaptorNode, seen, input, close, listeners };
}

function caught(fn: () => unknown): TaktError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TaktError, `expected a TaktError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('core/adaptor', () => {
  describe('setUp: the disabled-on-bad-config path', () => {
    it('returns what build made and leaves the node alone', () => {
      const { node, seen, listeners } = fakeNode();
      assert.equal(
        setUp(node, () => 42),
        42,
      );
      assert.deepEqual(seen, { statuses: [], errors: [], warnings: [] });
      assert.equal(listeners.input, undefined);
    });

    it('on a bad config: red status in words, node.error naming the field, every input done(err)', async () => {
      const f = fakeNode();
      const got = setUp(f.node, () => configReader({ period: 'soon' }).number('period'));
      assert.equal(got, undefined);
      assert.deepEqual(f.seen.statuses, [{ fill: 'red', shape: 'dot', text: 'not a number' }]);
      assert.deepEqual(f.seen.errors, ['period: "soon" is not a number']);
      for (let i = 0; i < 2; i++) {
        const { err } = await f.input({ payload: i });
        assert.equal(String(err), 'period: "soon" is not a number');
        assert.equal((err as TaktError).code, 'config.notNumber');
        assert.equal((err as TaktError).field, 'period');
      }
    });
  });

  it('setUp: a node may keep its own status and input error for a bad config', async () => {
    const f = fakeNode();
    setUp(
      f.node,
      () => {
        throw new TaktError('x.noEndpoint', 'endpoint: none configured', 'endpoint');
      },
      {
        status: () => ({ fill: 'red', shape: 'ring', text: 'no endpoint' }),
        inputError: (e) => new Error(`not configured: ${e.message}`),
      },
    );
    assert.deepEqual(f.seen.statuses, [{ fill: 'red', shape: 'ring', text: 'no endpoint' }]);
    assert.deepEqual(f.seen.errors, ['endpoint: none configured']);
    assert.equal((await f.input({})).err?.message, 'not configured: endpoint: none configured');
  });

  describe('requireConfigNode and configNodeStatus', () => {
    const spec = { feature: 'opcua', field: 'endpoint', label: 'OPC UA endpoint' };
    type Ep = { configError?: string; connection?: string };

    it('gives what the node needs of a usable config node', () => {
      assert.equal(
        requireConfigNode<Ep, string>({ connection: 'c' }, (n) => n.connection, spec),
        'c',
      );
    });

    it('names a missing config node (no<Field>, "no endpoint" red ring)', () => {
      const err = caught(() => requireConfigNode<Ep, string>(null, (n) => n.connection, spec));
      assert.equal(err.code, 'opcua.noEndpoint');
      assert.equal(err.field, 'endpoint');
      assert.equal(err.message, 'endpoint: no OPC UA endpoint configured');
      assert.deepEqual(configNodeStatus(err), { fill: 'red', shape: 'ring', text: 'no endpoint' });
    });

    it("passes on an unusable config node's own error (bad<Field>, 'bad config' red ring)", () => {
      const err = caught(() =>
        requireConfigNode<Ep, string>({ configError: 'url: not opc.tcp' }, (n) => n.connection, spec),
      );
      assert.equal(err.code, 'opcua.badEndpoint');
      assert.equal(err.message, 'endpoint: url: not opc.tcp');
      assert.deepEqual(configNodeStatus(err), { fill: 'red', shape: 'ring', text: 'bad config' });
      const plain = caught(() => requireConfigNode<Ep, string>({}, (n) => n.connection, spec));
      assert.match(plain.message, /the OPC UA endpoint configuration is invalid/);
      assert.deepEqual(configNodeStatus(new Error('x')), { fill: 'red', shape: 'ring', text: 'bad config' });
    });
  });

  describe('championFeed (the takt-model config node a model-using node follows)', () => {
    type Feed = { on(): () => void };
    const feed: Feed = { on: () => () => undefined };
    const nodes: Record<string, unknown> = {
      ready: { server: feed },
      broken: { configError: 'the registry folder is not writable' },
      starting: {},
    };
    const getNode = (id: string) => nodes[id] ?? null;

    it("returns the config node's server", () => {
      assert.equal(championFeed<Feed>(getNode, 'ready'), feed);
    });

    it('names the missing node, or why the node has no server', () => {
      assert.throws(() => championFeed(getNode, undefined), { code: 'models.noModelNode' });
      assert.throws(() => championFeed(getNode, 'gone'), /choose a takt-model configuration node/);
      assert.throws(() => championFeed(getNode, 'broken'), {
        code: 'models.badModelNode',
        message: 'model: the registry folder is not writable',
      });
      assert.throws(() => championFeed(getNode, 'starting'), /the takt-model node is not ready/);
      assert.deepEqual(configNodeStatus(caught(() => championFeed(getNode, 'gone'))), {
        fill: 'red',
        shape: 'ring',
        text: 'no model',
      });
    });
  });

  describe('onInput', () => {
    it('ends with done() after a sync handler, done(err) and a red status when it throws', async () => {
      const f = fakeNode();
      onInput<{ payload: number }>(f.node, (msg, send) => {
        if (msg.payload < 0) throw new TaktError('x.negative', 'payload: negative', 'payload');
        send({ payload: msg.payload * 2 });
      });
      assert.deepEqual(await f.input({ payload: 2 }), { err: undefined, sent: [{ payload: 4 }] });
      const bad = await f.input({ payload: -1 });
      assert.equal((bad.err as TaktError).code, 'x.negative');
      assert.deepEqual(f.seen.statuses, [{ fill: 'red', shape: 'dot', text: 'negative' }]);
    });

    it('ends a refused message with its text, which Node-RED logs as a plain line, code kept for Catch', async () => {
      const f = fakeNode();
      onInput(f.node, () => {
        throw new TaktError('sample.notNumeric', 'payload.value: "n/a" is not a number', 'payload.value');
      });
      const { err } = await f.input({});
      assert.deepEqual(f.seen.statuses, [{ fill: 'red', shape: 'dot', text: 'not a number' }]);
      // What Node-RED does with done(err): the debug sidebar encodes the log line (an Error would be a folded
      // { name, message, code, stack } object), a Catch node gets err.toString() and an own `code`.
      const encoded = util.encodeObject({ msg: err }) as { msg: unknown; format: string };
      assert.notEqual(encoded.format, 'error');
      assert.equal(JSON.parse(JSON.stringify(encoded.msg)), 'payload.value: "n/a" is not a number');
      assert.equal(err!.toString(), 'payload.value: "n/a" is not a number');
      assert.ok(Object.hasOwn(err!, 'code'));
      assert.equal((err as TaktError).code, 'sample.notNumeric');
      assert.equal(err!.message, 'payload.value: "n/a" is not a number');
      assert.equal(readableError(new Error('plain')).toString(), 'plain');
      assert.equal(Object.hasOwn(readableError(new Error('plain')), 'code'), false);
    });

    it('waits for an async handler, shows errors through the given status sink', async () => {
      const f = fakeNode();
      const shown: NodeStatus[] = [];
      onInput<{ payload: number }>(
        f.node,
        async (msg) => {
          await new Promise((r) => setImmediate(r));
          if (msg.payload === 0) throw new Error('zero');
        },
        { now: (s) => shown.push(s) },
      );
      assert.equal((await f.input({ payload: 1 })).err, undefined);
      assert.equal((await f.input({ payload: 0 })).err?.message, 'zero');
      assert.deepEqual(shown, [{ fill: 'red', shape: 'dot', text: 'zero' }]);
      assert.deepEqual(f.seen.statuses, []);
    });

    it("leaves done to a handler that returns 'later'", async () => {
      const f = fakeNode();
      onInput(f.node, (_msg, _send, done) => {
        setImmediate(() => done(new Error('late')));
        return 'later';
      });
      assert.equal((await f.input({})).err?.message, 'late');
      assert.deepEqual(f.seen.statuses, [{ fill: 'red', shape: 'dot', text: 'late' }]);
    });
  });

  describe('onClose', () => {
    it('runs every cleanup in order, warns about a failing one, then done', async () => {
      const f = fakeNode();
      const order: string[] = [];
      onClose(
        f.node,
        () => order.push('a'),
        () => {
          throw new Error('b failed');
        },
        async () => {
          await new Promise((r) => setImmediate(r));
          order.push('c');
        },
      );
      await f.close();
      assert.deepEqual(order, ['a', 'c']);
      assert.deepEqual(f.seen.warnings, ['b failed']);
    });
  });

  describe('configReader', () => {
    const def = {
      n: '12.5',
      i: 3,
      blank: '',
      word: 'pear',
      flag: 'true',
      bool: false,
      text: '  plant ',
      js: '[{"a":1}]',
      badJs: '{a',
      d1: '30',
      d2: '250ms',
      d3: '5 min',
      d4: 'soon',
      l: 'a, b\nc,,',
      neg: -1,
      zero: 0,
      big: 1e9,
      frac: 2.5,
      yes: 'yes',
    };
    const cfg = configReader(def);
    const code = (fn: () => unknown) => caught(fn).code;
    const field = (fn: () => unknown) => caught(fn).field;

    it('numbers: text or number, default when empty, min/max/integer', () => {
      assert.equal(cfg.number('n'), 12.5);
      assert.equal(cfg.number('i', { integer: true, min: 1, max: 3 }), 3);
      assert.equal(cfg.number('blank', { default: 7 }), 7);
      assert.equal(cfg.optionalNumber('blank'), undefined);
      assert.equal(cfg.optionalNumber('n'), 12.5);
      assert.equal(
        code(() => cfg.number('blank')),
        'config.missing',
      );
      assert.equal(
        code(() => cfg.number('word')),
        'config.notNumber',
      );
      assert.equal(
        field(() => cfg.number('word')),
        'word',
      );
      assert.equal(
        code(() => cfg.number('neg', { min: 0 })),
        'config.tooSmall',
      );
      assert.equal(
        code(() => cfg.number('zero', { min: 0, exclusiveMin: true })),
        'config.tooSmall',
      );
      assert.equal(cfg.number('zero', { min: 0 }), 0);
      assert.equal(
        code(() => cfg.number('big', { max: 1e6 })),
        'config.tooLarge',
      );
      assert.equal(
        code(() => cfg.number('frac', { integer: true })),
        'config.notInteger',
      );
      assert.equal(
        code(() => cfg.optionalNumber('word')),
        'config.notNumber',
      );
    });

    it('choices, booleans and strings', () => {
      assert.equal(cfg.choice('word', ['apple', 'pear']), 'pear');
      assert.equal(cfg.choice('blank', ['apple', 'pear'], 'apple'), 'apple');
      assert.equal(cfg.choice('i', ['1', '3']), '3');
      assert.equal(
        code(() => cfg.choice('word', ['apple'])),
        'config.badChoice',
      );
      assert.equal(
        code(() => cfg.choice('blank', ['apple'])),
        'config.missing',
      );
      assert.equal(cfg.boolean('flag', false), true);
      assert.equal(cfg.boolean('bool', true), false);
      assert.equal(cfg.boolean('blank', true), true);
      assert.equal(
        code(() => cfg.boolean('yes', false)),
        'config.notBoolean',
      );
      assert.equal(cfg.string('text'), 'plant');
      assert.equal(cfg.string('blank', 'x'), 'x');
      assert.equal(
        code(() => cfg.string('blank')),
        'config.missing',
      );
    });

    it('JSON with an optional check', () => {
      assert.deepEqual(cfg.json('js'), [{ a: 1 }]);
      assert.deepEqual(cfg.json('blank', []), []);
      assert.equal(
        code(() => cfg.json('badJs', [])),
        'config.badJson',
      );
      assert.match(caught(() => cfg.json('badJs', [], undefined, '[1,2]')).message, /e\.g\. \[1,2\]/);
      assert.equal(
        code(() => cfg.json('js', [], (v) => (Array.isArray(v) && v.length > 1 ? undefined : 'needs two'))),
        'config.badJson',
      );
      assert.equal(
        code(() => cfg.json('blank')),
        'config.missing',
      );
    });

    it('durations in the field unit or with their own', () => {
      assert.equal(cfg.duration('d1', { unit: 's' }), 30000);
      assert.equal(cfg.duration('d2', { unit: 's' }), 250);
      assert.equal(cfg.duration('d3', { unit: 's' }), 300000);
      assert.equal(cfg.duration('blank', { unit: 'min', default: 15 }), 900000);
      assert.equal(
        code(() => cfg.duration('d4', { unit: 's' })),
        'config.badDuration',
      );
      assert.equal(
        code(() => cfg.duration('blank', { unit: 's' })),
        'config.missing',
      );
      assert.equal(
        code(() => cfg.duration('d2', { unit: 's', minMs: 1000 })),
        'config.tooSmall',
      );
      assert.equal(
        code(() => cfg.duration('d3', { unit: 's', maxMs: 60000 })),
        'config.tooLarge',
      );
    });

    it('lists', () => {
      assert.deepEqual(cfg.list('l'), ['a', 'b', 'c']);
      assert.deepEqual(cfg.list('blank', { default: ['x'] }), ['x']);
      assert.equal(
        code(() => cfg.list('blank', { minItems: 1 })),
        'config.tooFew',
      );
    });

    it('can keep a node existing error code', () => {
      const old = configReader(def, { code: 'oee.badConfig' });
      const err = caught(() => old.number('word'));
      assert.equal(err.code, 'oee.badConfig');
      assert.equal(err.field, 'word');
    });
  });
});
