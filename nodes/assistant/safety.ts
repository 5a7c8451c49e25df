/**
 * Who may propose which command, who may approve it, and what goes to the audit log. A command leaves the
 * assistant only as a proposal for takt-approve carrying the asker's identity and the people allowed to
 * approve it; every proposal and every refusal of a command is one audit entry. No Node-RED import.
 */
import { TaktError } from '../core/errors';
import { type Identity, listAllows } from '../core/identity';
import type { Answer } from './answer';
import { COMMAND_INTENTS, isCommand } from './parse';
import type { CommandIntent, ParseResult } from './types';

/**
 * One intent's rule. Entries: a user name (matches only an authenticated identity of that name),
 * "authenticated" (any authenticated user) or "*" (anyone, also an unauthenticated or unknown asker unless
 * the node requires an authenticated user). An empty list allows nobody.
 */
export interface IntentPermission {
  propose: string[];
  approve: string[];
}
/** Per command intent; "*" is the rule of every intent not listed. */
export type Permissions = Partial<Record<CommandIntent | '*', Partial<IntentPermission>>>;

const DEFAULT_RULE: IntentPermission = { propose: ['*'], approve: ['*'] };
const KEYS = new Set<string>([...COMMAND_INTENTS, '*']);

/** Checks a permission list (parsed JSON); the reason it is refused, or undefined when it is good. */
export function permissionsProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return 'permissions must be an object { "<intent>" | "*": { "propose": [users], "approve": [users] } }';
  for (const [k, rule] of Object.entries(v as Record<string, unknown>)) {
    if (!KEYS.has(k)) return `permissions: "${k}" is not a command intent (${[...KEYS].join(', ')})`;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
      return `permissions.${k} must be { "propose": [users], "approve": [users] }`;
    for (const [f, list] of Object.entries(rule as Record<string, unknown>)) {
      if (f !== 'propose' && f !== 'approve') return `permissions.${k}.${f}: only propose and approve`;
      if (!Array.isArray(list) || list.some((u) => typeof u !== 'string' || !u.trim()))
        return `permissions.${k}.${f} must be a list of user names, "authenticated" or "*"`;
    }
  }
  return undefined;
}

export interface PolicyOptions {
  permissions?: Permissions;
  /** Commands need an authenticated asker ("*" then means any authenticated user). */
  requireAuthenticated?: boolean;
}

/** The permission rules of one takt-ask node. */
export class Policy {
  private readonly perms: Permissions;
  private readonly requireAuth: boolean;

  constructor(o: PolicyOptions = {}) {
    const why = permissionsProblem(o.permissions ?? {});
    if (why) throw new TaktError('assistant.badPermissions', why, 'permissions');
    this.perms = o.permissions ?? {};
    this.requireAuth = o.requireAuthenticated === true;
  }

  rule(intent: CommandIntent): IntentPermission {
    const own = this.perms[intent];
    const all = this.perms['*'];
    return {
      propose: own?.propose ?? all?.propose ?? DEFAULT_RULE.propose,
      approve: own?.approve ?? all?.approve ?? DEFAULT_RULE.approve,
    };
  }

  /** Whether `who` matches a list (see IntentPermission). */
  matches(list: readonly string[], who: Identity | undefined): boolean {
    if (this.requireAuth && who?.authenticated !== true) return false;
    return listAllows(list, who);
  }

  /** Undefined when `who` may propose `intent`, otherwise the refusal code and the reply. */
  refusal(intent: CommandIntent, who: Identity | undefined): { why: string; text: string } | undefined {
    if (this.requireAuth && who?.authenticated !== true)
      return {
        why: 'no_user',
        text: who
          ? `I can only propose commands for a signed-in user ("${who.user}" is not signed in).`
          : 'I can only propose commands for a signed-in user.',
      };
    if (this.matches(this.rule(intent).propose, who)) return undefined;
    return {
      why: 'not_allowed',
      text: `${who ? who.user : 'An unknown user'} may not propose ${intent.replace('_', ' ')}.`,
    };
  }
}

/** One audit-log entry of the assistant. */
export interface AssistantAuditEntry {
  event: 'proposed' | 'refused';
  intent: string;
  /** What was asked (cut to 500 characters). */
  text: string;
  slots?: Record<string, unknown>;
  user?: string;
  authenticated: boolean;
  source?: string;
  /** Where the intent came from: the local parser or the language model. */
  via: 'parser' | 'llm';
  summary?: string;
  approvers?: string[];
  why?: string;
  /** For a request not understood: the command it looked most like. */
  guess?: string;
}

/** What the node does with one parsed request. */
export interface Guarded {
  answer: Answer;
  /** The proposal message for takt-approve (undefined: nothing leaves). */
  proposal?: Record<string, unknown>;
  /** The audit entry to append (undefined: a plain question, nothing to record). */
  audit?: AssistantAuditEntry;
}

/**
 * Applies the permission rules to an answer: a proposal the asker may not make becomes a refusal; a
 * proposal that stays gets the identity and the approvers. Commands refused earlier (unknown name,
 * limits, negation, a language model's write call) are recorded too.
 */
export function guard(
  text: string,
  r: ParseResult,
  a: Answer,
  who: Identity | undefined,
  policy: Policy,
  via: 'parser' | 'llm' = 'parser',
): Guarded {
  const base = {
    intent: r.intent,
    text: text.slice(0, 500),
    slots: JSON.parse(JSON.stringify(r.slots)) as Record<string, unknown>,
    ...(who ? { user: who.user, source: who.source } : {}),
    authenticated: who?.authenticated === true,
    via,
  };
  if (a.proposal && isCommand(r.intent)) {
    const no = policy.refusal(r.intent, who);
    if (no)
      return {
        answer: { text: `${no.text} Nothing was proposed.`, refused: no.why },
        audit: { event: 'refused', ...base, why: no.why },
      };
    const approvers = policy.rule(r.intent).approve;
    const identity = who ? { ...who } : undefined;
    return {
      answer: a,
      proposal: {
        topic: a.proposal.topic,
        payload: a.proposal.payload,
        summary: a.proposal.summary,
        critical: a.proposal.critical,
        user: a.proposal.requestedBy,
        ...(identity ? { identity } : {}),
        approvers,
      },
      audit: { event: 'proposed', ...base, summary: a.proposal.summary, approvers },
    };
  }
  // A command not proposed: refused outright, or not understood well enough (an unknown name, too unsure).
  const commandLike = isCommand(r.intent) || (r.bestGuess !== undefined && isCommand(r.bestGuess));
  if ((a.refused && via === 'llm') || commandLike) {
    const why = a.refused ?? r.issues[0]?.kind ?? 'not_understood';
    return {
      answer: a,
      audit: { event: 'refused', ...base, ...(isCommand(r.intent) ? {} : { guess: r.bestGuess }), why },
    };
  }
  return { answer: a };
}
