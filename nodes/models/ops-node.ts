/**
 * takt-model-ops: the lifecycle of the model of a takt-model node in one node. Feature rows are scored by the
 * champion and, in shadow mode, by a challenger (output 1: the message with msg.shadow, the champion's
 * decision first). Commands (msg.action or msg.payload.action: register, shadow, feedback, retrain, promote,
 * rollback, status) answer on output 2 with the result and the audit entries they wrote. Metrics and the
 * shadow version survive a restart; recorded rows do not.
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { resolveModel } from '../anomaly/config';
import { JsonStore, nodeStateFile } from '../core/state';
import { errorStatus, status, throttledStatus } from '../core/status';
import { toEpochMs } from '../core/time';
import { ModelOps, type OpsState, type ShadowResult } from './ops';
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
  key?: unknown;
  model?: unknown;
  card?: unknown;
  user?: unknown;
  shadow?: ShadowResult | ShadowResult[];
};

const numOr = (v: unknown, d: number) => (v === undefined || v === '' ? d : Number(v));
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const init: NodeInitializer = (RED) => {
  function OpsNode(this: Node, def: OpsDef) {
    RED.nodes.createNode(this, def);
    const shown = throttledStatus((s) => this.status(s));
    const userDir = RED.settings.userDir ?? process.cwd();
    let ops: ModelOps;
    let stop: () => void;
    const store = new JsonStore<OpsState>(nodeStateFile(userDir, 'models', this.id));
    try {
      const src = modelSource((id) => RED.nodes.getNode(id), def.modelRef);
      ops = new ModelOps(src.server, {
        keep: numOr(def.keep, 2000),
        margin: numOr(def.margin, 0.02),
        holdoutShare: numOr(def.holdoutShare, 0.2),
        minRows: numOr(def.minRows, 50),
        modelsDir: resolveModel(userDir, ''),
      });
      ops.restore(store.load());
      stop = src.server.on((e) => (e.type === 'champion' ? show() : shown.now(errorStatus(e.error))));
    } catch (err) {
      this.error((err as Error).message);
      this.status(errorStatus(err));
      this.on('input', (_msg, _send, done) => done(err as Error));
      return;
    }
    function show() {
      const v = ops.server.current?.version;
      shown.now(
        v === undefined
          ? status.idle('no champion')
          : status.ready(`v${v}${ops.shadow !== undefined && ops.shadow !== v ? ` vs v${ops.shadow}` : ''}`),
      );
    }
    const save = () => store.save(ops.snapshot());

    this.on('input', (msg: Msg, send, done) => {
      const p = msg.payload;
      const action =
        typeof msg.action === 'string'
          ? msg.action
          : isObj(p) && typeof p.action === 'string'
            ? p.action
            : undefined;
      const fail = (err: unknown) => {
        shown.now(errorStatus(err));
        done(err as Error);
      };
      if (action !== undefined) {
        if (action === 'retrain' && !ops.retraining) shown.now(status.busy('retraining'));
        ops.command(action, isObj(p) ? p : {}, { model: msg.model, card: msg.card, user: msg.user }).then(
          ({ result, audit }) => {
            save();
            show();
            send([null, { topic: `model/${action}`, action, payload: result, audit }]);
            done();
          },
          (err: unknown) => {
            if (action === 'retrain') show();
            fail(err);
          },
        );
        return;
      }
      let ts: number;
      try {
        ts = msg.ts === undefined || msg.ts === null ? Date.now() : toEpochMs(msg.ts);
      } catch (err) {
        return fail(err);
      }
      const key = String(msg.key ?? msg.ts ?? msg._msgid);
      ops.score(p, key, ts).then((r) => {
        if (r) msg.shadow = r;
        else shown.update(() => status.idle(`recording ${ops.recorded.raw}`));
        send([msg, null]);
        done();
      }, fail);
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      stop();
      ops.dispose();
      shown.dispose();
      try {
        save();
      } catch (err) {
        this.warn((err as Error).message);
      }
      done();
    });
  }
  RED.nodes.registerType('takt-model-ops', OpsNode);
};

export = init;
