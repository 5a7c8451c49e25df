/**
 * takt-audit: the hardening audit of the box this runtime runs on (nodes/guard/audit.ts). Any input, or
 * the interval, runs it: msg.audit is the report (findings with IEC 62443-3-3 FR/SR, severity and fix),
 * msg.payload its readable text. The admin endpoint GET /takt-audit/report runs it for a dashboard or the
 * editor (permission takt-audit.read).
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { errorMessage } from '../core/errors';
import { status } from '../core/status';
import { type AuditReport, formatReport } from './audit';
import { auditRuntime } from './audit-runtime';

interface AuditDef extends NodeDef {
  interval?: string | number;
  probeHttp?: boolean;
}

/** A short status: pass, or the count of the worst severity. */
function reportStatus(r: AuditReport) {
  if (r.counts.critical) return status.error(`${r.counts.critical} critical`);
  if (r.counts.high) return status.error(`${r.counts.high} high`);
  if (r.counts.medium) return status.warning(`pass, ${r.counts.medium} medium`);
  return status.ready('pass');
}

const init: NodeInitializer = (RED) => {
  function Audit(this: Node, def: AuditDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(this, () => {
      const cfg = configReader(def);
      return {
        everyMs: cfg.duration('interval', { unit: 'h', default: 0, minMs: 0, maxMs: 2 ** 31 - 1 }),
        probeHttp: cfg.boolean('probeHttp', true),
      };
    });
    if (!set) return;
    this.status(status.idle('not run'));
    let running: Promise<AuditReport> | undefined;
    const run = async (): Promise<AuditReport> => {
      running ??= auditRuntime(RED, { probeHttp: set.probeHttp }).finally(() => (running = undefined));
      this.status(status.busy('auditing'));
      const r = await running;
      this.status(reportStatus(r));
      return r;
    };
    const timer =
      set.everyMs > 0
        ? setInterval(() => {
            run()
              .then((r) => this.send({ topic: 'takt-audit', audit: r, payload: formatReport(r) }))
              .catch((err: unknown) => this.error(errorMessage(err)));
          }, set.everyMs)
        : undefined;

    onInput<NodeMessageInFlow & Record<string, unknown>>(this, async (msg, send) => {
      const r = await run();
      msg.audit = r;
      msg.payload = formatReport(r);
      send(msg);
    });
    onClose(this, () => timer && clearInterval(timer));
  }
  RED.nodes.registerType('takt-audit', Audit);

  // For a dashboard or the editor: the audit of this box as JSON.
  RED.httpAdmin.get('/takt-audit/report', RED.auth.needsPermission('takt-audit.read'), (req, res) => {
    const probeHttp = String(req.query.http ?? '1') !== '0';
    auditRuntime(RED, { probeHttp })
      .then((r) => res.json(r))
      .catch((err: unknown) => res.status(500).json({ error: errorMessage(err) }));
  });
};

export = init;
