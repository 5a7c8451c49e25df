/**
 * What a takt-model config node offers the nodes that use it (type-only Node-RED import): its registry and
 * the server of its champion. `modelSource` finds it or explains why it cannot.
 */
import { isAbsolute, join } from 'node:path';
import type { Node } from 'node-red';
import { championFeed } from '../core/adaptor';
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
  const server = championFeed<ChampionServer>(getNode, id);
  return { registry: server.registry, server };
}

/** The registry root: <userDir>/takt/models/registry (beside takt-train's models), or the folder set. */
export function registryRoot(userDir: string, path?: string): string {
  const p = (path ?? '').trim();
  if (!p) return join(userDir, 'takt', 'models', 'registry');
  return isAbsolute(p) ? p : join(userDir, p);
}
