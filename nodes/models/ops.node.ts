/**
 * takt-model-ops: the lifecycle of the model of a takt-model node in one node. Feature rows are scored by the
 * champion and, in shadow mode, by a challenger (output 1: the message with msg.shadow, the champion's
 * decision first). Commands (msg.action: register, shadow, feedback, retrain, promote, rollback, status,
 * reset; the old msg.payload.action still works, deprecated) answer on output 2 with the result and the
 * audit entries they wrote. promote needs an authenticated identity: the user of an http in request or a
 * dashboard user plugin (core/identity.ts), or the authenticated approvers takt-approve put on
 * msg.approval; payload.approvedBy alone is a claim and is refused. For a quality model (takt-predict-train's)
 * the rows are recorded with their measured value (msg.label) for retraining rather than scored. A row of
 * quality "bad" (msg.quality, core/message) is neither scored nor recorded. Metrics and the shadow version
 * survive a restart; recorded rows do not.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { resolveModel } from '../anomaly/config';
import { configReader, onClose, onInput, setUp } from '../core/adaptor';
import { identityOf } from '../core/identity';
import { runtimeIdentityOptions } from '../core/identity-options';
import { commandReader, readTimestamp, toQuality, isRecord } from '../core/message';
import { JsonStore, nodeStateFile } from '../core/state';
import { errorStatus, status, throttledStatus } from '../core/status';
import { approvalIdentity, ModelOps, OPS_ACTIONS, type OpsState, type ShadowResult } from './ops';
import { modelSource } from './source';

interface OpsDef extends NodeDef {
  modelRef?: string;
  keep?: string | number;
  margin?: string | number;
  holdoutShare?: string | number;
  minRows?: string | number;
}
type Msg = NodeMessageInFlow & {
  action?: unknown;
  ts?: unknown;
  quality?: unknown;
  key?: unknown;
  model?: unknown;
  card?: unknown;
  user?: unknown;
  approval?: unknown;
  label?: unknown;
  shadow?: ShadowResult | ShadowResult[];
};

const init: NodeInitializer = (RED) => {
  function OpsNode(this: Node, def: OpsDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = RED.settings.userDir ?? process.cwd();
    const store = new JsonStore<OpsState>(nodeStateFile(userDir, 'models', this.id));
    const set = setUp(this, () => {
      const cfg = configReader(def);
      const src = modelSource((id) => RED.nodes.getNode(id), def.modelRef);
      const ops = new ModelOps(src.server, {
        keep: cfg.number('keep', { default: 2000 }),
        margin: cfg.number('margin', { default: 0.02 }),
        holdoutShare: cfg.number('holdoutShare', { default: 0.2 }),
        minRows: cfg.number('minRows', { default: 50 }),
        modelsDir: resolveModel(userDir, ''),
      });
      ops.restore(store.load());
      return ops;
    });
    if (!set) return;
    const ops = set;
    const command = commandReader({ actions: OPS_ACTIONS, payloadAction: true }, (t) => this.warn(t));
    function show() {
      const v = ops.server.current?.version;
      shown.now(
        v === undefined
          ? status.idle('no champion')
          : status.ready(`v${v}${ops.shadow !== undefined && ops.shadow !== v ? ` vs v${ops.shadow}` : ''}`),
      );
    }
    const save = () => store.save(ops.snapshot());
    const stop = ops.server.on((e) => (e.type === 'champion' ? show() : shown.now(errorStatus(e.error))));

    onInput<Msg>(
      this,
      async (msg, send) => {
        const p = msg.payload;
        const action = command(msg);
        if (action !== undefined) {
          if (action === 'retrain' && !ops.retraining) shown.now(status.busy('retraining'));
          try {
            // Who is behind it: the request's authenticated user, or the people takt-approve recorded.
            const direct = identityOf(msg as Record<string, unknown>, runtimeIdentityOptions(RED));
            const identity = direct?.authenticated ? direct : (approvalIdentity(msg.approval) ?? direct);
            const { result, audit } = await ops.command(action, isRecord(p) ? p : {}, {
              model: msg.model,
              card: msg.card,
              user: msg.user,
              ...(identity ? { identity } : {}),
            });
            save();
            show();
            send([null, { topic: `model/${action}`, action, payload: result, audit }]);
          } catch (err) {
            if (action === 'retrain') show();
            throw err;
          }
          return;
        }
        const ts = readTimestamp(msg.ts, Date.now());
        if (toQuality(msg.quality) === 'bad') {
          shown.update(() => status.warning('bad quality skipped'));
          return;
        }
        const key = String(msg.key ?? msg.ts ?? msg._msgid);
        const r = await ops.score(p, key, ts, msg.label);
        if (r) msg.shadow = r;
        else if (ops.quality)
          shown.update(() =>
            status.ready(`v${ops.server.current?.version ?? '?'}, ${ops.labelledRows} labelled`),
          );
        else shown.update(() => status.idle(`recording ${ops.recorded.raw}`));
        send([msg, null]);
      },
      shown,
    );

    onClose(
      this,
      stop,
      () => ops.dispose(),
      () => shown.dispose(),
      save,
    );
  }
  RED.nodes.registerType('takt-model-ops', OpsNode);
};

export = init;
