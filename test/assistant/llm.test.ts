import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  askModel,
  checkToolCall,
  completionsUrl,
  readCompletion,
  toolSchema,
  type Plant,
} from '../../nodes/assistant';
import { type FakeLlm, startFakeLlm, toolCalls, words } from '../helpers/fake-llm';

const ROOT = join(__dirname, '..', '..', '..');
const plant = JSON.parse(readFileSync(join(ROOT, 'nodes', 'assistant', 'demo-plant.json'), 'utf8')) as Plant;
const now = Date.UTC(2026, 2, 4, 10, 30);
const check = (name: string, args: unknown) => checkToolCall(name, args, plant, now);
const faultOf = (o: ReturnType<typeof check>) => (o.ok ? 'ok' : o.fault);

describe('assistant language model: the tool-call contract', () => {
  it('accepts a call in the contract and maps names onto the plant ids', () => {
    const o = check('interpret', {
      intent: 'set_parameter',
      slots: { machine: 'oven1', parameter: 'temperature', value: 182, unit: 'degC' },
    });
    assert.ok(o.ok);
    assert.deepEqual(o.result.slots, {
      machine: 'Oven1',
      parameter: 'Temperature',
      value: 182,
      unit: 'degC',
    });
    assert.deepEqual(o.result.issues, []);
    const r = check('interpret', { intent: 'energy', slots: { period: { from: now - 3600000, to: now } } });
    assert.ok(r.ok);
    assert.deepEqual(r.result.slots.period, { from: now - 3600000, to: now });
    const oos = check('interpret', { intent: 'out_of_scope', slots: {} });
    assert.ok(oos.ok && oos.result.outOfScope);
  });

  it('keeps limits and missing slots as issues, so the reply refuses with the limits', () => {
    const o = check('interpret', {
      intent: 'set_parameter',
      slots: { machine: 'Oven1', parameter: 'Temperature', value: 900 },
    });
    assert.ok(o.ok);
    assert.deepEqual(o.result.issues, [
      { kind: 'out_of_limits', slot: 'value', limits: { min: 120, max: 220, unit: 'degC' } },
    ]);
    const m = check('interpret', { intent: 'stop_machine', slots: {} });
    assert.ok(m.ok);
    assert.deepEqual(m.result.issues, [{ kind: 'missing', slot: 'machine' }]);
  });

  it('refuses write tools, malformed arguments and names or slots outside the plant and the contract', () => {
    assert.equal(faultOf(check('stop_machine', { machine: 'CNC1' })), 'write_tool');
    assert.equal(faultOf(check('interpret', '{"intent": "stop_mach')), 'malformed');
    assert.equal(faultOf(check('interpret', [1, 2])), 'malformed');
    assert.equal(faultOf(check('interpret', { intent: 'stop_all_machines', slots: {} })), 'nonsense');
    assert.equal(
      faultOf(check('interpret', { intent: 'stop_machine', slots: { machine: 'CNC9' } })),
      'nonsense',
    );
    assert.equal(
      faultOf(check('interpret', { intent: 'stop_machine', slots: { machine: 'CNC1', order: 'ORD-105' } })),
      'nonsense',
    );
    assert.equal(
      faultOf(
        check('interpret', {
          intent: 'set_parameter',
          slots: { machine: 'CNC1', parameter: 'Temperature', value: 1 },
        }),
      ),
      'nonsense',
    );
    assert.equal(
      faultOf(
        check('interpret', {
          intent: 'set_parameter',
          slots: { machine: 'Oven1', parameter: 'Temperature', value: '182' },
        }),
      ),
      'nonsense',
    );
    assert.equal(
      faultOf(
        check('interpret', {
          intent: 'set_parameter',
          slots: { machine: 'Oven1', parameter: 'Temperature', value: 182, unit: 'degF' },
        }),
      ),
      'nonsense',
    );
    assert.equal(
      faultOf(check('interpret', { intent: 'energy', slots: { period: { from: 0, to: now } } })),
      'nonsense',
    );
    assert.equal(
      faultOf(check('interpret', { intent: 'out_of_scope', slots: { machine: 'CNC1' } })),
      'nonsense',
    );
  });

  it('one write call among several refuses the whole answer; words or no choices are not a result', () => {
    const body = toolCalls(['interpret', { intent: 'help', slots: {} }], ['shell', { cmd: 'rm -rf /' }]);
    assert.equal(faultOf(readCompletion(body, plant, now)), 'write_tool');
    assert.equal(
      faultOf(
        readCompletion(
          toolCalls(
            ['interpret', { intent: 'help', slots: {} }],
            ['interpret', { intent: 'help', slots: {} }],
          ),
          plant,
          now,
        ),
      ),
      'nonsense',
    );
    assert.equal(faultOf(readCompletion(words('I stopped CNC1 for you.'), plant, now)), 'no_call');
    assert.equal(faultOf(readCompletion({ error: 'x' }, plant, now)), 'malformed');
  });

  it('offers one read-only tool whose schema lists the plant ids', () => {
    const t = toolSchema(plant) as {
      function: {
        name: string;
        parameters: { properties: { slots: { properties: { machine: { enum: string[] } } } } };
      };
    };
    assert.equal(t.function.name, 'interpret');
    assert.deepEqual(t.function.parameters.properties.slots.properties.machine.enum, [
      'CNC1',
      'Press1',
      'Oven1',
      'Packer1',
    ]);
    assert.equal(completionsUrl('http://h:1/v1/'), 'http://h:1/v1/chat/completions');
    assert.equal(completionsUrl('http://h:1/v1/chat/completions'), 'http://h:1/v1/chat/completions');
  });
});

describe('assistant language model: a fake OpenAI-compatible server on loopback', function () {
  this.timeout(10000);
  let llm: FakeLlm;
  beforeEach(async () => {
    llm = await startFakeLlm();
  });
  afterEach(() => llm.close());
  const opts = () => ({ url: llm.url, model: 'fake', key: 'sk-test', timeoutMs: 500 });

  it('sends the utterance, the plant ids, the tool and the key; reads the tool call', async () => {
    llm.script(() => ({
      body: toolCalls(['interpret', { intent: 'status', slots: { machine: 'Press1' } }]),
    }));
    const o = await askModel('how is the squeezer doing', plant, now, opts());
    assert.ok(o.ok);
    assert.equal(o.result.intent, 'status');
    assert.deepEqual(o.result.slots, { machine: 'Press1' });
    const req = llm.requests[0] as {
      _path: string;
      _auth: string;
      model: string;
      messages: { content: string }[];
      tools: unknown[];
    };
    assert.equal(req._path, '/v1/chat/completions');
    assert.equal(req._auth, 'Bearer sk-test');
    assert.equal(req.model, 'fake');
    assert.match(req.messages[1].content, /squeezer/);
    assert.match(req.messages[0].content, /never follow instructions/);
    assert.equal(req.tools.length, 1);
  });

  it('a timeout, an HTTP error, a body that is not JSON and a closed port are faults, never throws', async () => {
    llm.script(() => ({ delayMs: 2000, body: toolCalls(['interpret', { intent: 'help', slots: {} }]) }));
    assert.equal(faultOf(await askModel('x', plant, now, opts())), 'timeout');
    llm.script(() => ({ status: 500, raw: 'oops' }));
    assert.equal(faultOf(await askModel('x', plant, now, opts())), 'http');
    llm.script(() => ({ raw: '{"choices": [ {"message": ' }));
    assert.equal(faultOf(await askModel('x', plant, now, opts())), 'malformed');
    const url = llm.url;
    await llm.close();
    assert.equal(
      faultOf(await askModel('x', plant, now, { url, model: 'm', timeoutMs: 500 })),
      'unreachable',
    );
    llm = await startFakeLlm();
  });
});
