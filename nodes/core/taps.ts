/**
 * A process-wide list of the servers Takt runs that a tap may watch (takt-guard, docs/ARCHITECTURE.md):
 * the demo's embedded MQTT broker (flows/settings.js adds it), the simulator's OPC UA server (takt-sim
 * adds it while it runs). Kept on `globalThis` under a registered symbol, so a settings file that loads
 * no Takt code can add its broker with three lines:
 *
 *   const reg = (globalThis[Symbol.for('takt.tapSources')] ??= { sources: new Map(), listeners: new Set() });
 *   reg.sources.set('embedded-mqtt', { name: 'embedded-mqtt', kind: 'aedes', target: broker });
 *   reg.listeners.forEach((l) => l());
 */
export type TapSourceKind = 'aedes' | 'opcua-server';

export interface TapSource {
  name: string;
  kind: TapSourceKind;
  /** The server object (an aedes broker, a node-opcua OPCUAServer). */
  target: unknown;
}

interface Registry {
  sources: Map<string, TapSource>;
  listeners: Set<() => void>;
}

const KEY = Symbol.for('takt.tapSources');

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  g[KEY] ??= { sources: new Map(), listeners: new Set() };
  return g[KEY];
}

function changed(): void {
  for (const l of registry().listeners) l();
}

export function publishTapSource(source: TapSource): void {
  registry().sources.set(source.name, source);
  changed();
}

export function withdrawTapSource(name: string): void {
  if (registry().sources.delete(name)) changed();
}

/** The sources now, of one kind or all. */
export function tapSources(kind?: TapSourceKind): TapSource[] {
  return [...registry().sources.values()].filter((s) => kind === undefined || s.kind === kind);
}

/** Calls `listener` whenever a source comes or goes; returns the function that stops it. */
export function onTapSources(listener: () => void): () => void {
  registry().listeners.add(listener);
  return () => registry().listeners.delete(listener);
}
