/**
 * takt-ui-assistant: a Dashboard 2 chat with the assistant. The operator types a question or a command; it
 * leaves on output 1 (wire it to takt-ask, whose reply output comes back to this node's input). Replies show
 * as chat bubbles with a small card (a figure, a mini chart of its recent values); a proposed command shows
 * Approve / Reject for the people takt-ask's permissions allow, and a press leaves on output 2 as a decision
 * for takt-approve (wire takt-approve's outputs back here to show the outcome). The decider is the dashboard
 * user when a Dashboard 2 user plugin names one (msg._client.user), else the configured default approver.
 */
import type { Node, NodeInitializer, NodeMessage } from 'node-red';
import { configReader, onClose, setUp } from '../core/adaptor';
import { dashboardUserPlugin } from '../core/identity-options';
import { errorStatus, status } from '../core/status';
import { ChatState, type HeldAction } from './chat';
import { approverName } from './views';
import { everySecond, registerWidget, type WidgetDef } from './widget';

interface AssistantDef extends WidgetDef {
  approve?: string;
  approver?: string;
  label?: string;
}
interface ApproveNodeLike {
  book?: { list(): HeldAction[] };
}
const ASK = 'takt-ui-assistant/ask';
const DECIDE = 'takt-ui-assistant/decide';
const REFRESH = 'takt-ui-assistant/refresh';
type Msg = NodeMessage & Record<string, unknown>;

const init: NodeInitializer = (RED) => {
  function Assistant(this: Node, def: AssistantDef) {
    RED.nodes.createNode(this, def);
    const chat = new ChatState();
    let timer: NodeJS.Timeout | undefined;
    const pending = (): HeldAction[] => {
      const n = def.approve ? (RED.nodes.getNode(def.approve) as ApproveNodeLike | null) : null;
      return n?.book?.list() ?? [];
    };
    setUp(this, () => {
      const approver = configReader(def).string('approver', 'operator');
      const refresh = () => this.receive({ chat: REFRESH } as NodeMessage);
      registerWidget(RED.nodes.getNode, this, 'takt-ui-assistant', def, {
        onAction: true,
        beforeSend: (msg: Msg) => {
          try {
            const now = Date.now();
            const client = msg._client as { user?: unknown } | undefined;
            if (msg.chat === ASK) {
              const user = approverName(client, '');
              const text = chat.ask(msg.payload, user || undefined, now);
              setImmediate(refresh);
              // to takt-ask, with the dashboard client (takt-ask reads who asks from it)
              return [
                { payload: text, ...(client ? { _client: client } : {}) },
                null,
              ] as unknown as NodeMessage;
            }
            if (msg.chat === DECIDE) {
              chat.link(pending());
              const user = approverName(client, approver);
              // signed in: a dashboard user plugin named the user (core/identity-options), not the browser
              const signedIn = dashboardUserPlugin(RED.plugins) && approverName(client, '') !== '';
              const out = chat.decide(msg.payload, user, signedIn, now);
              setImmediate(refresh);
              if (!out) return null;
              return [null, { ...out, ...(client ? { _client: client } : {}) }] as unknown as NodeMessage;
            }
            if (msg.chat !== REFRESH && !chat.reply(msg, now)) chat.settle(msg.approval);
            chat.link(pending());
            const v = chat.view();
            const waiting = v.turns.filter((t) => t.proposal?.state === 'waiting').length;
            this.status(
              waiting ? status.warning(`${waiting} waiting`) : status.idle(`${v.turns.length} turns`),
            );
            return { _msgid: msg._msgid, payload: v } as NodeMessage;
          } catch (err) {
            this.status(errorStatus(err));
            throw err;
          }
        },
      });
      // proposals are linked to takt-approve's ids as soon as takt-approve holds them
      timer = everySecond(this, () => {
        if (chat.link(pending())) refresh();
      });
      refresh();
    });
    onClose(this, () => timer && clearInterval(timer));
  }
  RED.nodes.registerType('takt-ui-assistant', Assistant);
};

export = init;
