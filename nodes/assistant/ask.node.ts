/**
 * takt-ask: the operator's questions and commands in plain words (typed, from a chat bridge or takt-voice-in).
 * Text in msg.payload -> the reply on output 1 (msg.payload text, msg.assistant); a command becomes a proposal
 * on output 2 for takt-approve (with the asker's identity and who may approve it), never executed here.
 * Every proposal and every refused command goes to the node's hash-chained audit log. Other messages (OEE
 * records, machine samples, SPC alarms, inventory plans, msg.assistantState) update the live plant state the
 * answers come from. An optional OpenAI-compatible language model maps wording the parser did not
 * understand onto the same intents (llm.ts); its result passes the same checks.
 */
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { AuditLog } from '../core/audit';
import { TaktError } from '../core/errors';
import { identityOf } from '../core/identity';
import { runtimeIdentityOptions } from '../core/identity-options';
import { status } from '../core/status';
import { zoneOf } from '../core/zone';
import { answer, type Answer, isSampleTopic, PlantState } from './answer';
import { askModel, type ChatModelOptions, faultText } from './llm';
import { parse } from './parse';
import { toPlant } from './plant';
import { type AssistantAuditEntry, guard, type Permissions, permissionsProblem, Policy } from './safety';
import type { ParseResult, Plant } from './types';

interface AskDef extends NodeDef {
  plant?: string;
  threshold?: string | number;
  utcOffsetMin?: string | number;
  timeZone?: string;
  requireUser?: boolean | string;
  permissions?: string;
  llmUrl?: string;
  llmModel?: string;
  llmTimeout?: string | number;
  /** Old flows' checkbox; ignored: a Dashboard 2 user plugin in the runtime decides (core/identity-options). */
  dashboardUsers?: boolean | string;
}
interface AskCredentials {
  llmKey?: string;
}
type Msg = NodeMessageInFlow;
interface AskNode extends Node<AskCredentials> {
  auditFile?: string;
}

/** Parser results the language model may try again: not understood, and not a refusal the parser meant. */
const modelMayTry = (r: ParseResult) =>
  r.outOfScope &&
  !r.issues.some((i) =>
    ['negated', 'unsupported', 'empty', 'too_long', 'unknown', 'ambiguous'].includes(i.kind),
  );

const init: NodeInitializer = (RED) => {
  function Ask(this: AskNode, def: AskDef) {
    RED.nodes.createNode(this, def);
    const userDir = RED.settings.userDir ?? process.cwd();
    this.auditFile = join(userDir, 'takt', 'assistant', `${this.id}-audit.jsonl`);
    const auditFile = this.auditFile;
    const key = this.credentials?.llmKey;
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const url = cfg.string('llmUrl', '');
      if (url && !/^https?:\/\/\S+$/i.test(url))
        throw new TaktError('config.badUrl', `llmUrl: "${url}" is not an http(s) URL`, 'llmUrl');
      const model: ChatModelOptions | undefined = url
        ? {
            url,
            model: cfg.string('llmModel', 'default'),
            key: key || undefined,
            timeoutMs: cfg.duration('llmTimeout', { unit: 's', default: 8, minMs: 100, maxMs: 120000 }),
          }
        : undefined;
      return {
        plant: toPlant(def.plant),
        threshold: cfg.number('threshold', { default: 0.5, min: 0, max: 1 }),
        // the plant's IANA zone (daylight saving) when given, else the fixed offset
        zone: zoneOf(
          cfg.string('timeZone', ''),
          cfg.number('utcOffsetMin', { default: 0, min: -840, max: 840 }),
        ),
        policy: new Policy({
          permissions: cfg.json<Permissions>('permissions', {}, permissionsProblem),
          requireAuthenticated: cfg.boolean('requireUser', false),
        }),
        model,
        audit: new AuditLog<AssistantAuditEntry>(auditFile),
      };
    });
    if (!set) return;
    const { threshold, zone, policy, model, audit } = set;
    if (def.dashboardUsers === true || def.dashboardUsers === 'true')
      this.warn(
        'the "Dashboard users signed in" option is gone: a Dashboard 2 user plugin in the runtime decides, as for takt-approve',
      );
    let plant: Plant = set.plant;
    const state = new PlantState();
    this.status(status.idle(model ? 'ready (with model)' : 'ready'));

    onInput<Msg>(this, async (msg, send) => {
      const now = Date.now();
      if (msg.topic === 'plant') {
        plant = toPlant(msg.payload);
        this.status(status.idle(`${plant.machines.length} machines`));
        return;
      }
      if (typeof msg.payload !== 'string' || isSampleTopic(msg.topic)) {
        if (!state.ingest(msg as unknown as Record<string, unknown>, now))
          throw new TaktError(
            'assistant.badInput',
            'msg.payload must be a question or command (text), or plant state takt-ask knows (an OEE record, …/<machine>/State samples, msg.spc, msg.item with msg.plan, msg.assistantState)',
            'payload',
          );
        return;
      }
      const text = msg.payload;
      // who counts as signed in is the runtime's word, the same for takt-approve (core/identity-options.ts)
      const who = identityOf(msg as unknown as Record<string, unknown>, runtimeIdentityOptions(RED));
      // today's offset: a period reaching back across a daylight-saving change is an hour off at its far end
      const utcOffsetMin = (zone.toLocal(now) - now) / 60000;
      let r = parse(text, { plant, now, threshold, utcOffsetMin });
      let via: 'parser' | 'llm' = 'parser';
      let a: Answer | undefined;
      let note = '';
      if (model && modelMayTry(r)) {
        this.status(status.busy('asking the model'));
        const m = await askModel(text, plant, now, model);
        if (m.ok && !m.result.outOfScope) {
          r = { ...m.result, bestGuess: m.result.intent };
          via = 'llm';
        } else if (!m.ok && m.fault === 'write_tool') {
          via = 'llm';
          a = { text: `${faultText(m.fault)} Nothing was proposed.`, refused: 'model_write' };
        } else if (!m.ok) note = faultText(m.fault);
      }
      a ??= answer(r, { plant, state, now, user: who?.user });
      if (note) a = { ...a, text: `${a.text} ${note}` };
      const g = guard(text, r, a, who, policy, via);
      if (g.audit) audit.append(g.audit, now);
      const assistant = {
        intent: r.intent,
        slots: r.slots,
        confidence: r.confidence,
        outOfScope: r.outOfScope,
        answer: g.answer.text,
        via,
        ...(g.answer.card ? { card: g.answer.card } : {}),
        ...(g.proposal ? { action: g.answer.proposal, approvers: g.proposal.approvers } : {}),
        ...(g.answer.refused ? { refused: g.answer.refused } : {}),
        ...(who ? { user: who.user, identity: who } : {}),
      };
      // the reply keeps the message's own fields, but never an approval record: only takt-approve writes one
      const reply: Msg & { approval?: unknown } = { ...msg, payload: g.answer.text, assistant };
      delete reply.approval;
      send([reply, g.proposal ? { ...g.proposal, assistant } : null]);
      this.status(
        g.proposal
          ? status.busy(`proposed ${r.intent}`)
          : g.answer.refused
            ? status.warning('refused')
            : r.outOfScope
              ? status.warning('not understood')
              : status.ready(r.intent),
      );
    });
    onClose(this);
  }
  RED.nodes.registerType<AskNode, AskDef, unknown, AskCredentials>('takt-ask', Ask, {
    credentials: { llmKey: { type: 'password' } },
  });
};

export = init;
