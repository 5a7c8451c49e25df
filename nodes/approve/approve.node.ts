/**
 * takt-approve: holds proposed actions until people approve or reject them (messages with
 * msg.approval, or the admin HTTP API as the logged-in editor user), with a timeout and a two-person
 * rule for critical actions. Approved on output 1, rejected or expired on output 2. Waiting actions
 * survive a restart; every step goes to a hash-chained audit log.
 */
import { join } from 'node:path';
import type { Node, NodeDef, NodeInitializer, NodeMessage, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { errorMessage, TaktError } from '../core/errors';
import { JsonStore, nodeStateFile } from '../core/state';
import { status } from '../core/status';
import { ApprovalBook, type Decision, type Outcome, type Pending, type Settled } from './approvals';
import { AuditLog, verifyAuditLog } from '../core/audit';

interface ApproveDef extends NodeDef {
  timeout?: string | number;
  timeoutUnit?: 's' | 'min' | 'h';
  onTimeout?: Outcome;
  twoPerson?: boolean;
}
type Held = Record<string, unknown>;
type Msg = NodeMessageInFlow & {
  approval?: { id?: unknown; decision?: unknown; user?: unknown; comment?: unknown };
  critical?: unknown;
  summary?: unknown;
};
interface ApproveNode extends Node {
  book?: ApprovalBook<Held>;
  decideFromApi?: (id: string, decision: Decision, user: string, comment?: string) => void;
  auditFile?: string;
}

const init: NodeInitializer = (RED) => {
  function Approve(this: ApproveNode, def: ApproveDef) {
    RED.nodes.createNode(this, def);
    const userDir = RED.settings.userDir ?? process.cwd();
    const store = new JsonStore<Pending<Held>[]>(nodeStateFile(userDir, 'approve', this.id));
    const auditFile = join(userDir, 'takt', 'approve', `${this.id}-audit.jsonl`);
    this.auditFile = auditFile;
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const unit = cfg.choice('timeoutUnit', ['s', 'min', 'h'], 'min');
      const book = new ApprovalBook<Held>({
        timeoutMs: cfg.duration('timeout', { unit, default: 0, minMs: 0 }),
        onTimeout: cfg.choice('onTimeout', ['rejected', 'approved'], 'rejected'),
        required: cfg.boolean('twoPerson', false) ? 2 : 1,
      });
      const audit = new AuditLog(auditFile);
      book.restore(store.load() ?? []);
      return { book, audit };
    });
    if (!set) return;
    const { book, audit } = set;
    this.book = book;
    const show = () =>
      this.status(book.size ? status.warning(`${book.size} waiting`) : status.idle('none waiting'));
    const save = () => store.save(book.snapshot());
    const settle = (s: Settled<Held>) => {
      audit.append({ event: s.outcome, by: s.by, id: s.id, summary: s.summary, decisions: s.decisions });
      const msg = {
        ...(s.action as object),
        approval: { id: s.id, outcome: s.outcome, by: s.by, decisions: s.decisions, summary: s.summary },
      } as NodeMessage;
      this.send(s.outcome === 'approved' ? [msg, null] : [null, msg]);
    };
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      if (timer) clearTimeout(timer);
      const next = book.nextExpiry();
      if (next === undefined) return;
      timer = setTimeout(
        () => {
          try {
            book.expire(Date.now()).forEach(settle);
            save();
          } catch (err) {
            this.error(errorMessage(err));
          }
          show();
          schedule();
        },
        Math.max(0, Math.min(next - Date.now(), 2 ** 31 - 1)),
      );
    };
    const decide = (id: string, decision: Decision, user: string, comment?: string) => {
      const r = book.decide(id, { user, decision, comment, now: Date.now() });
      audit.append({ event: 'decision', id, user, decision, ...(comment ? { comment } : {}) });
      if (r.settled) settle(r.settled);
      save();
      show();
      schedule();
    };
    this.decideFromApi = decide;
    show();
    schedule();

    onInput<Msg>(this, (msg) => {
      if (msg.approval !== undefined) {
        const a = msg.approval;
        decide(
          String(a.id ?? ''),
          a.decision as Decision,
          typeof a.user === 'string' ? a.user : '',
          typeof a.comment === 'string' ? a.comment : undefined,
        );
      } else {
        const { _msgid, ...held } = msg;
        void _msgid;
        const summary =
          typeof msg.summary === 'string'
            ? msg.summary
            : `${msg.topic ?? 'action'}: ${JSON.stringify(msg.payload)?.slice(0, 120)}`;
        const p = book.propose(JSON.parse(JSON.stringify(held)) as Held, {
          now: Date.now(),
          summary,
          critical: msg.critical === true,
        });
        audit.append({ event: 'proposed', id: p.id, summary, required: p.required, action: p.action });
        save();
        show();
        schedule();
      }
    });

    onClose(this, () => timer && clearTimeout(timer));
  }
  RED.nodes.registerType('takt-approve', Approve);

  const nodeOf = (id: string) => RED.nodes.getNode(id) as ApproveNode | null;
  // The approvals inbox: list, decide as the logged-in user, verify the audit chain.
  RED.httpAdmin.get(
    '/takt-approve/:id/pending',
    RED.auth.needsPermission('takt-approve.read'),
    (req, res) => {
      const n = nodeOf(String(req.params.id));
      if (!n?.book) return void res.status(404).json({ error: 'no such approval node (deployed?)' });
      res.json(
        n.book.list().map((p) => ({
          id: p.id,
          summary: p.summary,
          createdAt: p.createdAt,
          expiresAt: p.expiresAt,
          required: p.required,
          decisions: p.decisions,
        })),
      );
    },
  );
  RED.httpAdmin.post(
    '/takt-approve/:id/decide',
    RED.auth.needsPermission('takt-approve.write'),
    (req, res) => {
      const n = nodeOf(String(req.params.id));
      if (!n?.decideFromApi) return void res.status(404).json({ error: 'no such approval node (deployed?)' });
      const body = (req.body ?? {}) as {
        approvalId?: string;
        decision?: Decision;
        comment?: string;
        user?: string;
      };
      // With adminAuth the decision is the logged-in user's; without it, the name given (an open editor).
      const user = (req as { user?: { username?: string } }).user?.username ?? body.user ?? '';
      try {
        n.decideFromApi(String(body.approvalId ?? ''), body.decision as Decision, user, body.comment);
        res.json({ ok: true });
      } catch (err) {
        res.status(err instanceof TaktError ? 400 : 500).json({ error: errorMessage(err) });
      }
    },
  );
  RED.httpAdmin.get('/takt-approve/:id/verify', RED.auth.needsPermission('takt-approve.read'), (req, res) => {
    const n = nodeOf(String(req.params.id));
    if (!n?.auditFile) return void res.status(404).json({ error: 'no such approval node (deployed?)' });
    res.json(verifyAuditLog(n.auditFile));
  });
};

export = init;
