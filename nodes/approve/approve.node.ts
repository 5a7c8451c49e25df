/**
 * takt-approve: holds proposed actions until people approve or reject them (messages with
 * msg.approval, or the admin HTTP API as the logged-in editor user), with a timeout and a two-person
 * rule for critical actions. Each decision is bound to the identity behind it (core/identity.ts): the
 * admin login, the http in request's user, the Dashboard 2 user, an MQTT user on the node's list; a name
 * in the message is a claim only, refused unless the node allows anonymous single-person decisions. A
 * proposal may name who may decide on it (`msg.approvers`, as takt-ask's permissions do); anyone else is
 * refused. Approved on output 1, rejected or expired on output 2. Waiting actions
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
import { type Identity, identityOf, identityOfRequest } from '../core/identity';
import { runtimeIdentityOptions } from '../core/identity-options';

interface ApproveDef extends NodeDef {
  timeout?: string | number;
  timeoutUnit?: 's' | 'min' | 'h';
  onTimeout?: Outcome;
  twoPerson?: boolean;
  /** Accept unauthenticated decisions on single-approval actions (recorded as anonymous). */
  anonymous?: boolean;
  /** MQTT topic naming its publisher, `{user}` for the user level (the broker's ACL must enforce it). */
  mqttUserTopic?: string;
  /** Users allowed to decide over MQTT, comma separated. */
  mqttUsers?: string;
}
type Held = Record<string, unknown>;
type Msg = NodeMessageInFlow & {
  approval?: { id?: unknown; decision?: unknown; user?: unknown; comment?: unknown };
  critical?: unknown;
  summary?: unknown;
  approvers?: unknown;
};
interface ApproveNode extends Node {
  book?: ApprovalBook<Held>;
  decideFromApi?: (id: string, decision: Decision, who: Identity, comment?: string) => void;
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
        anonymous: cfg.boolean('anonymous', false),
      });
      const mqttUsers = cfg
        .string('mqttUsers', '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      const mqttUserTopic = cfg.string('mqttUserTopic', '');
      const audit = new AuditLog(auditFile);
      book.restore(store.load() ?? []);
      return { book, audit, mqttUsers, mqttUserTopic };
    });
    if (!set) return;
    const { book, audit } = set;
    const identityOptions = () =>
      runtimeIdentityOptions(
        RED,
        set.mqttUserTopic ? { mqttUserTopic: set.mqttUserTopic, mqttUsers: set.mqttUsers } : {},
      );
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
    const decide = (id: string, decision: Decision, who: Identity | undefined, comment?: string) => {
      const r = book.decide(id, { who, decision, comment, now: Date.now() });
      const d = r.settled?.decisions.at(-1) ?? r.pending?.decisions.at(-1);
      audit.append({
        event: 'decision',
        id,
        user: d?.user ?? '',
        authenticated: d?.authenticated ?? false,
        source: d?.source ?? 'message',
        ...(d?.claim ? { claim: d.claim } : {}),
        decision,
        ...(comment ? { comment } : {}),
      });
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
          identityOf(msg as Record<string, unknown>, identityOptions()),
          typeof a.comment === 'string' ? a.comment : undefined,
        );
      } else {
        const { _msgid, ...held } = msg;
        void _msgid;
        const approvers = msg.approvers;
        if (
          approvers !== undefined &&
          !(Array.isArray(approvers) && approvers.every((a) => typeof a === 'string'))
        )
          throw new TaktError(
            'approve.badApprovers',
            'msg.approvers must be a list of user names ("authenticated" for any signed-in user, "*" for anyone)',
            'approvers',
          );
        const summary =
          typeof msg.summary === 'string'
            ? msg.summary
            : `${msg.topic ?? 'action'}: ${JSON.stringify(msg.payload)?.slice(0, 120)}`;
        const p = book.propose(JSON.parse(JSON.stringify(held)) as Held, {
          now: Date.now(),
          summary,
          critical: msg.critical === true,
          ...(approvers ? { approvers: approvers as string[] } : {}),
        });
        audit.append({
          event: 'proposed',
          id: p.id,
          summary,
          required: p.required,
          ...(p.approvers ? { approvers: p.approvers } : {}),
          action: p.action,
        });
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
          ...(p.approvers ? { approvers: p.approvers } : {}),
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
      // With adminAuth the decision is the logged-in user's; without it, the name given is a claim.
      const who = identityOfRequest(req, body.user);
      try {
        n.decideFromApi(String(body.approvalId ?? ''), body.decision as Decision, who, body.comment);
        res.json({ ok: true });
      } catch (err) {
        const forbidden = ['approve.notAuthenticated', 'approve.notAllowed'];
        const code = err instanceof TaktError ? (forbidden.includes(err.code) ? 403 : 400) : 500;
        res.status(code).json({ error: errorMessage(err) });
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
