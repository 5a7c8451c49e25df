/** InfluxDB writing and reading engines (no Node-RED): line protocol, point mapping, write-ahead log, writer, query. */
export * from './encoder';
export * from './line-protocol';
export * from './mapping';
export * from './query';
export * from './wal';
export * from './transport';
export * from './writer';
