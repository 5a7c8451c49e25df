/**
 * takt-ui-approvals: a Dashboard 2 widget listing the actions waiting in a takt-approve node, with
 * Approve and Reject buttons. A click sends { approval: { id, decision, user } } on the output: wire it
 * back to the takt-approve node with the dashboard's msg._client. takt-approve takes the dashboard user
 * (msg._client.user) as the decider when a Dashboard 2 user plugin provides it; else the configured
 * approver is recorded as a claim of an anonymous decision. Wire takt-approve's outputs to the input to show
 * recent outcomes; the list also refreshes every second.
 */
import type { Node, NodeInitializer, NodeMessage } from 'node-red';
import { configReader, onClose, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { errorStatus, status } from '../core/status';
import {
  approverName,
  decisionMessage,
  inboxItems,
  inboxSignature,
  type InboxView,
  type PendingLike,
} from './views';
import { everySecond, registerWidget, type WidgetDef } from './widget';

interface ApprovalsDef extends WidgetDef {
  approve?: string;
  approver?: string;
  label?: string;
}
interface ApproveNodeLike {
  book?: { list(): PendingLike[] };
}
const REFRESH = 'takt-ui-approvals/refresh';
const DECIDE = 'takt-ui-approvals/decide';

const init: NodeInitializer = (RED) => {
  function Approvals(this: Node, def: ApprovalsDef) {
    RED.nodes.createNode(this, def);
    const recent: InboxView['recent'] = [];
    let shown = '';
    const pending = (): PendingLike[] => {
      const n = def.approve ? (RED.nodes.getNode(def.approve) as ApproveNodeLike | null) : null;
      return n?.book?.list() ?? [];
    };
    const view = (): InboxView => ({ items: inboxItems(pending()), recent: recent.slice(0, 5) });
    let timer: NodeJS.Timeout | undefined;
    setUp(this, () => {
      if (!def.approve)
        throw new TaktError(
          'config.missing',
          'approve: choose the takt-approve node whose actions to list',
          'approve',
        );
      const approver = configReader(def).string('approver', 'operator');
      registerWidget(RED.nodes.getNode, this, 'takt-ui-approvals', def, {
        onAction: true,
        beforeSend: (msg) => {
          try {
            if (msg.inbox === DECIDE) {
              // takt-approve binds the decision to the dashboard user (msg._client.user) when a Dashboard 2
              // user plugin provides one; otherwise the approver name is only a claim (core/identity.ts).
              const out = decisionMessage(msg.payload, approverName(msg._client, approver));
              return (msg._client ? { ...out, _client: msg._client } : out) as NodeMessage;
            }
            const a = msg.approval as
              { id?: unknown; outcome?: unknown; by?: unknown; summary?: unknown } | undefined;
            if (msg.inbox !== REFRESH && a && typeof a.outcome === 'string') {
              recent.unshift({
                id: String(a.id),
                summary: String(a.summary ?? ''),
                outcome: a.outcome,
                by: String(a.by ?? ''),
                at: Date.now(),
              });
              recent.splice(5);
            }
            const v = view();
            shown = inboxSignature(v.items);
            this.status(
              v.items.length ? status.warning(`${v.items.length} waiting`) : status.idle('none waiting'),
            );
            return { _msgid: msg._msgid, payload: v } as NodeMessage;
          } catch (err) {
            this.status(errorStatus(err));
            throw err;
          }
        },
      });
      timer = everySecond(this, () => {
        if (inboxSignature(inboxItems(pending())) !== shown) this.receive({ inbox: REFRESH } as NodeMessage);
      });
      this.receive({ inbox: REFRESH } as NodeMessage);
    });
    onClose(this, () => timer && clearInterval(timer));
  }
  RED.nodes.registerType('takt-ui-approvals', Approvals);
};

export = init;
