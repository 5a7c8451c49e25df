/**
 * takt-model (config): one model name in a registry folder. Serves the champion version (verified), hot-swaps
 * when the champion pointer changes, and tells the nodes that use it (takt-anomaly, takt-drift,
 * takt-model-ops). Admin HTTP (permission-checked): GET /takt-model/:id/status, POST /takt-model/:id/rollback.
 */
import type { NodeDef, NodeInitializer } from 'node-red';
import { configReader, onClose } from '../core/adaptor';
import { errorMessage, TaktError } from '../core/errors';
import { identityLabel, identityOfRequest } from '../core/identity';
import { ModelRegistry } from './registry';
import { ChampionServer } from './server';
import { domainOf } from '../learn/registry';
import { type ModelSourceNode, registryRoot } from './source';

interface ModelDef extends NodeDef {
  model?: string;
  path?: string;
  pollMs?: string | number;
}

const init: NodeInitializer = (RED) => {
  function ModelConfig(this: ModelSourceNode, def: ModelDef) {
    RED.nodes.createNode(this, def);
    const userDir = RED.settings.userDir ?? process.cwd();
    try {
      const pollMs = configReader(def).number('pollMs', { default: 2000, min: 0 });
      this.registry = new ModelRegistry(registryRoot(userDir, def.path), (def.model ?? '').trim());
      this.server = new ChampionServer(this.registry);
      this.server.on((e) => {
        if (e.type === 'champion') this.log(`${def.model}: serving v${e.version}`);
        else this.warn(`${def.model}: ${e.error.message}`);
      });
      void this.server.start(pollMs);
    } catch (err) {
      this.configError = errorMessage(err);
      this.error(this.configError);
    }
    onClose(this, () => this.server?.dispose());
  }
  RED.nodes.registerType('takt-model', ModelConfig);

  const nodeOf = (id: string) => RED.nodes.getNode(id) as ModelSourceNode | null;

  RED.httpAdmin.get('/takt-model/:id/status', RED.auth.needsPermission('takt-model.read'), (req, res) => {
    const n = nodeOf(String(req.params.id));
    if (!n?.registry || !n.server) return void res.status(404).json({ error: 'deploy the model node first' });
    try {
      res.json({
        model: n.registry.name,
        champion: n.registry.champion() ?? null,
        serving: n.server.current?.version ?? null,
        error: n.server.error?.message ?? null,
        versions: n.registry.cards().map((c) => ({
          version: c.version,
          created: c.created,
          approvedBy: c.approvedBy,
          domain: domainOf(c),
          threshold: c.threshold,
          training: c.training,
        })),
        audit: n.registry.audit().slice(-20),
      });
    } catch (err) {
      res.status(500).json({ error: errorMessage(err) });
    }
  });

  // Rollback as the logged-in editor user (with adminAuth); on an open editor it is recorded as unauthenticated.
  RED.httpAdmin.post('/takt-model/:id/rollback', RED.auth.needsPermission('takt-model.write'), (req, res) => {
    const n = nodeOf(String(req.params.id));
    if (!n?.registry) return void res.status(404).json({ error: 'deploy the model node first' });
    const body = (req.body ?? {}) as { version?: unknown; why?: unknown; user?: unknown };
    // The logged-in editor user (adminAuth), else the name given, recorded as a claim.
    const user = identityLabel(identityOfRequest(req, body.user));
    const v =
      body.version === undefined || body.version === '' || body.version === null
        ? undefined
        : Number(body.version);
    if (v !== undefined && !Number.isInteger(v))
      return void res.status(400).json({ error: 'version: must be a version number' });
    n.registry
      .rollback(v, {
        who: user,
        why: typeof body.why === 'string' && body.why ? body.why : 'rollback from the editor',
      })
      .then((p) => res.json(p))
      .catch((err: unknown) =>
        res.status(err instanceof TaktError ? 400 : 500).json({ error: errorMessage(err) }),
      );
  });
};

export = init;
