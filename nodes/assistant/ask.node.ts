/**
 * takt-ask: the operator's questions and commands in plain words (typed, from a chat bridge or takt-voice-in).
 * Text in msg.payload -> the reply on output 1 (msg.payload text, msg.assistant); a command becomes a proposal
 * on output 2 for takt-approve, never executed here. Other messages (OEE records, machine samples, SPC alarms,
 * inventory plans, msg.assistantState) update the live plant state the answers come from.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { errorMessage, TaktError } from '../core/errors';
import { errorStatus, status } from '../core/status';
import { answer, isSampleTopic, PlantState } from './answer';
import { parse } from './parse';
import { toPlant } from './plant';
import type { Plant } from './types';

interface AskDef extends NodeDef {
  plant?: string;
  threshold?: string | number;
  utcOffsetMin?: string | number;
  requireUser?: boolean;
}
type Msg = NodeMessageInFlow & { user?: unknown; _client?: { user?: Record<string, unknown> } };

/** The asker: msg.user (a name or { username }) or the dashboard client's user. */
function userOf(msg: Msg): string | undefined {
  const u = msg.user ?? msg._client?.user;
  if (typeof u === 'string' && u.trim()) return u.trim();
  if (u && typeof u === 'object') {
    const o = u as Record<string, unknown>;
    const name = o.username ?? o.name ?? o.userId ?? o.email;
    if (typeof name === 'string' && name) return name;
  }
  return undefined;
}

const init: NodeInitializer = (RED) => {
  function Ask(this: Node, def: AskDef) {
    RED.nodes.createNode(this, def);
    let plant: Plant;
    try {
      plant = toPlant(def.plant);
    } catch (err) {
      this.status(errorStatus(err));
      this.error(errorMessage(err));
      this.on('input', (_m, _s, done) => done(err as Error));
      return;
    }
    const state = new PlantState();
    const threshold = Number(def.threshold) || 0.5;
    const utcOffsetMin = Number(def.utcOffsetMin) || 0;
    this.status(status.idle('ready'));

    this.on('input', (msg: Msg, send, done) => {
      try {
        const now = Date.now();
        if (msg.topic === 'plant') {
          plant = toPlant(msg.payload);
          this.status(status.idle(`${plant.machines.length} machines`));
          return done();
        }
        if (typeof msg.payload !== 'string' || isSampleTopic(msg.topic)) {
          if (!state.ingest(msg as unknown as Record<string, unknown>, now))
            throw new TaktError(
              'assistant.badInput',
              'msg.payload must be a question or command (text), or plant state takt-ask knows (an OEE record, …/<machine>/State samples, msg.spc, msg.item with msg.plan, msg.assistantState)',
              'payload',
            );
          return done();
        }
        const r = parse(msg.payload, { plant, now, threshold, utcOffsetMin });
        const user = userOf(msg);
        const a = answer(r, { plant, state, now, user, requireUser: def.requireUser === true });
        const assistant = {
          intent: r.intent,
          slots: r.slots,
          confidence: r.confidence,
          outOfScope: r.outOfScope,
          answer: a.text,
          ...(a.proposal ? { action: a.proposal } : {}),
          ...(a.refused ? { refused: a.refused } : {}),
          ...(user ? { user } : {}),
        };
        const reply = { ...msg, payload: a.text, assistant };
        const proposal = a.proposal
          ? {
              topic: a.proposal.topic,
              payload: a.proposal.payload,
              summary: a.proposal.summary,
              critical: a.proposal.critical,
              user: a.proposal.requestedBy,
              assistant,
            }
          : null;
        send([reply, proposal]);
        this.status(
          r.outOfScope
            ? status.warning('not understood')
            : a.proposal
              ? status.busy(`proposed ${r.intent}`)
              : status.ready(r.intent),
        );
        done();
      } catch (err) {
        this.status(errorStatus(err));
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('takt-ask', Ask);
};

export = init;
