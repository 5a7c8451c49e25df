/** InfluxDB writing and reading engines (no Node-RED): line protocol, point mapping, queue, writer, query. */
export * from './encoder';
export * from './line-protocol';
export * from './mapping';
export * from './query';
export * from './queue';
export * from './transport';
export * from './writer';
