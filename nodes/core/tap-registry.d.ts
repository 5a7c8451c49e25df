/** Types of tap-registry.js (plain JavaScript, shipped as it is: see that file). */
export type TapSourceKind = 'aedes' | 'opcua-server';

export interface TapSource {
  name: string;
  kind: TapSourceKind;
  /** The server object (an aedes broker, a node-opcua OPCUAServer). */
  target: unknown;
}

export function publishTapSource(source: TapSource): void;
export function withdrawTapSource(name: string): void;
export function tapSources(kind?: TapSourceKind): TapSource[];
export function onTapSources(listener: () => void): () => void;
