/**
 * What a takt-model config node offers the nodes that use it (type-only Node-RED import): its registry and
 * the server of its champion. `modelSource` finds it or explains why it cannot.
 */
import { isAbsolute, join } from 'node:path';
import type { Node } from 'node-red';
import { TaktError } from '../core/errors';
import type { ModelRegistry } from './registry';
import type { ChampionServer } from './server';

export interface ModelSourceNode extends Node {
  registry?: ModelRegistry;
  server?: ChampionServer;
  configError?: string;
}

export function modelSource(
  getNode: (id: string) => Node | null,
  id: string | undefined,
): { registry: ModelRegistry; server: ChampionServer } {
  const n = id ? (getNode(id) as ModelSourceNode | null) : null;
  if (!n) throw new TaktError('models.noModelNode', 'model: choose a takt-model configuration node', 'model');
  if (!n.registry || !n.server)
    throw new TaktError(
      'models.badModelNode',
      `model: ${n.configError ?? 'the takt-model node is not ready'}`,
      'model',
    );
  return { registry: n.registry, server: n.server };
}

/** The registry root: <userDir>/takt/models/registry (beside takt-train's models), or the folder set. */
export function registryRoot(userDir: string, path?: string): string {
  const p = (path ?? '').trim();
  if (!p) return join(userDir, 'takt', 'models', 'registry');
  return isAbsolute(p) ? p : join(userDir, p);
}
