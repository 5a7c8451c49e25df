/**
 * The library API of @takt/node-red-mes: every engine, usable without a Node-RED runtime.
 *
 *   import { core } from '@takt/node-red-mes';
 *   core.toSample({ topic: 'acme/line1/press/temp', value: '71.5' }, { now: Date.now() });
 *
 * Each feature's engine is exported as one namespace (spc, schedule, energy, ... as they land).
 */
export * as anomaly from './anomaly';
export * as approve from './approve';
export * as assistant from './assistant';
export * as core from './core';
export * as dashboard from './dashboard/views';
export * as energy from './energy';
export * as fleet from './fleet';
export * as forecast from './forecast';
export * as guard from './guard';
export * as influx from './influx';
export * as learn from './learn';
export * as models from './models';
export * as mqtt from './mqtt';
export * as oee from './oee';
export * as opcua from './opcua';
export * as prep from './prep';
export * as schedule from './schedule';
export * as sim from './sim';
export * as spc from './spc';
export * as uns from './uns';
export * as vibration from './vibration';
export * as vision from './vision';
