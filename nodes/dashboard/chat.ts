/**
 * The assistant chat widget's view model (takt-ui-assistant): the conversation, the answer cards, and the
 * commands the assistant proposed with their approval state. Pure: the widget adaptor feeds it the user's
 * questions, takt-ask's replies, takt-approve's pending list and outcomes, and sends what it returns.
 */
import { TaktError } from '../core/errors';
import { listAllows } from '../core/identity';
import { isRecord } from '../core/message';

export interface ChatCard {
  label: string;
  value: string;
  series?: number[];
}

export interface ChatProposal {
  summary: string;
  /** Who may approve (from takt-ask's permissions): names, "authenticated" or "*". */
  approvers: string[];
  /** takt-approve's id, once the proposal is found waiting there. */
  approvalId?: string;
  state: 'waiting' | 'approved' | 'rejected';
  by?: string;
  /** To find it in takt-approve: the proposal's topic and request time. */
  topic: string;
  requestedAt: number;
}

export interface ChatTurn {
  id: number;
  role: 'user' | 'assistant';
  text: string;
  at: number;
  user?: string;
  card?: ChatCard;
  proposal?: ChatProposal;
  /** The assistant refused or did not understand. */
  refused?: boolean;
}

export interface ChatView {
  turns: ChatTurn[];
}

/** What takt-approve's pending list holds of an action (enough to find a proposal in it). */
export interface HeldAction {
  id: string;
  action: unknown;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const bad = (text: string): never => {
  throw new TaktError('dashboard.badChat', text, 'payload');
};
/** Turns kept (oldest dropped). */
export const MAX_TURNS = 60;
/** Longest question the widget passes on (takt-ask reads 500 characters). */
export const MAX_QUESTION = 500;

function cardOf(v: unknown): ChatCard | undefined {
  if (!isRecord(v) || typeof v.label !== 'string' || typeof v.value !== 'string') return undefined;
  const series = Array.isArray(v.series) ? v.series.filter((x): x is number => Number.isFinite(x)) : [];
  return { label: v.label, value: v.value, ...(series.length > 1 ? { series: series.slice(-30) } : {}) };
}

export class ChatState {
  private turns: ChatTurn[] = [];
  private next = 1;

  view(): ChatView {
    return {
      turns: this.turns.map((t) => ({ ...t, ...(t.proposal ? { proposal: { ...t.proposal } } : {}) })),
    };
  }

  private push(t: Omit<ChatTurn, 'id'>): ChatTurn {
    const turn = { id: this.next++, ...t };
    this.turns.push(turn);
    if (this.turns.length > MAX_TURNS) this.turns.splice(0, this.turns.length - MAX_TURNS);
    return turn;
  }

  /** The user's question from the widget's text box; returns the text to send to takt-ask. */
  ask(payload: unknown, user: string | undefined, now: number): string {
    const text = (isRecord(payload) ? str(payload.text) : str(payload))?.trim();
    if (!text) bad('a question needs text');
    const q = (text as string).slice(0, MAX_QUESTION);
    this.push({ role: 'user', text: q, at: now, ...(user ? { user } : {}) });
    return q;
  }

  /** A takt-ask reply (msg.payload text, msg.assistant); returns false when the message is not one. */
  reply(msg: Record<string, unknown>, now: number): boolean {
    const a = msg.assistant;
    if (!isRecord(a) || typeof msg.payload !== 'string') return false;
    const action = isRecord(a.action) ? a.action : undefined;
    const payload = action && isRecord(action.payload) ? action.payload : {};
    const approvers = Array.isArray(msg.approvers)
      ? msg.approvers
      : Array.isArray(a.approvers)
        ? a.approvers
        : ['*'];
    const card = cardOf(a.card);
    this.push({
      role: 'assistant',
      text: msg.payload,
      at: now,
      ...(card ? { card } : {}),
      ...(a.refused || a.outOfScope ? { refused: true } : {}),
      ...(action && typeof action.topic === 'string'
        ? {
            proposal: {
              summary: str(action.summary) ?? action.topic,
              approvers: approvers.filter((x): x is string => typeof x === 'string'),
              state: 'waiting' as const,
              topic: action.topic,
              requestedAt: typeof payload.requestedAt === 'number' ? payload.requestedAt : 0,
            },
          }
        : {}),
    });
    return true;
  }

  /** Links waiting proposals to takt-approve's ids (the same topic and request time). */
  link(pending: readonly HeldAction[]): boolean {
    let changed = false;
    for (const t of this.turns) {
      const p = t.proposal;
      if (!p || p.approvalId || p.state !== 'waiting') continue;
      const hit = pending.find((h) => {
        const act = isRecord(h.action) ? h.action : {};
        const pl = isRecord(act.payload) ? act.payload : {};
        return act.topic === p.topic && pl.requestedAt === p.requestedAt;
      });
      if (hit) {
        p.approvalId = hit.id;
        changed = true;
      }
    }
    return changed;
  }

  /** takt-approve's outcome (msg.approval = { id, outcome, by }); returns false when it is not one. */
  settle(approval: unknown): boolean {
    if (!isRecord(approval) || typeof approval.id !== 'string') return false;
    if (approval.outcome !== 'approved' && approval.outcome !== 'rejected') return false;
    const t = this.turns.find((x) => x.proposal?.approvalId === approval.id);
    if (!t?.proposal) return false;
    t.proposal.state = approval.outcome;
    // who decided (takt-approve's decisions), or how it settled ("timeout")
    const users = Array.isArray(approval.decisions)
      ? approval.decisions.map((d) => (isRecord(d) ? str(d.user) : undefined)).filter((u) => u !== undefined)
      : [];
    const by = users.length ? users.join(', ') : str(approval.by);
    if (by) t.proposal.by = by;
    return true;
  }

  /**
   * A button press: the decision message for takt-approve, or a refusal in the conversation when the user
   * may not approve this command. `signedIn`: the user comes from a dashboard login, not a default name.
   */
  decide(
    payload: unknown,
    user: string,
    signedIn: boolean,
    now: number,
  ): { approval: { id: string; decision: 'approve' | 'reject'; user: string } } | undefined {
    if (!isRecord(payload) || typeof payload.turn !== 'number')
      return bad('a decision needs the turn it is for');
    const decision = payload.decision;
    if (decision !== 'approve' && decision !== 'reject') return bad('decision must be "approve" or "reject"');
    const t = this.turns.find((x) => x.id === payload.turn);
    const p = t?.proposal;
    if (!p) return bad(`no proposal in turn ${String(payload.turn)}`);
    if (p.state !== 'waiting' || !p.approvalId) {
      this.push({
        role: 'assistant',
        text: `"${p.summary}" is not waiting for approval.`,
        at: now,
        refused: true,
      });
      return undefined;
    }
    if (!mayApprove(p.approvers, user, signedIn)) {
      this.push({
        role: 'assistant',
        text: `${user} may not approve "${p.summary}".`,
        at: now,
        refused: true,
      });
      return undefined;
    }
    return { approval: { id: p.approvalId, decision, user } };
  }
}

/** Whether `user` is on an approver list ("*": anyone; "authenticated": a signed-in user; else the name, signed in). */
export function mayApprove(list: readonly string[], user: string, signedIn: boolean): boolean {
  return listAllows(list, { user, authenticated: signedIn, source: 'dashboard' });
}
