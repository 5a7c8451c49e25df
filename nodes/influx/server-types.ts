import type { Node } from 'node-red';
import type { BackslashMode } from './line-protocol';
import type { ServerOptions } from './transport';
import type { InfluxWriter } from './writer';

export interface InfluxCredentials {
  token?: string;
  username?: string;
  password?: string;
}

/** The takt-influx-server config node as its users see it. */
export interface InfluxServerNode extends Node<InfluxCredentials> {
  /** Undefined when the configuration is invalid (the reason is in `configError`). */
  server?: ServerOptions;
  backslashes: BackslashMode;
  configError?: string;
}

/** A takt-influx-out node as benches and tools see it: its writer, for the counters. */
export interface InfluxOutNode extends Node {
  writer?: InfluxWriter;
}
