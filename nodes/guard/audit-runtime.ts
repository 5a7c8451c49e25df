/**
 * Runs the hardening audit inside a Node-RED runtime: the live settings, the deployed flows' config and
 * nodes, the runtime's own HTTP endpoints. Shared by the takt-audit node and its admin endpoint; an adaptor
 * helper (it sees the runtime through a small structural interface and loads no Node-RED).
 */
import { type AuditReport, auditBox } from './audit';
import { type FlowNode, gatherFacts } from './audit-probe';

export interface AuditRuntime {
  settings: unknown;
  nodes: { eachNode(cb: (n: object) => void): void };
}

export interface RuntimeAuditOptions {
  /** Request the runtime's admin API and dashboard without credentials (default true). */
  probeHttp?: boolean;
  timeoutMs?: number;
}

/** The runtime's settings as a plain object (Node-RED exposes them as getters). */
export function plainSettings(settings: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof settings !== 'object' || settings === null) return out;
  for (const k in settings) {
    const v = (settings as Record<string, unknown>)[k];
    if (typeof v !== 'function') out[k] = v;
  }
  return out;
}

/** Audits the runtime the caller runs in. */
export async function auditRuntime(RED: AuditRuntime, o: RuntimeAuditOptions = {}): Promise<AuditReport> {
  const settings = plainSettings(RED.settings);
  const flows: FlowNode[] = [];
  RED.nodes.eachNode((n) => flows.push(n as FlowNode));
  const facts = await gatherFacts({
    settings,
    flows,
    ...(o.probeHttp === false ? { url: false as const } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    ...(typeof settings.userDir === 'string' ? { pkiDir: `${settings.userDir}/takt/guard/audit-pki` } : {}),
  });
  return auditBox(facts);
}
