/** The takt-opcua-endpoint config node as its users (opcua-in, opcua-write) see it: types only. */
import type { Node } from 'node-red';
import type { OpcuaConnection } from './connection';

export interface EndpointCredentials {
  user?: string;
  password?: string;
}

/** The takt-opcua-endpoint config node as its users see it. */
export interface EndpointNode extends Node<EndpointCredentials> {
  /** Undefined when the configuration is invalid (the reason is in `configError`). */
  connection?: OpcuaConnection;
  configError?: string;
}
