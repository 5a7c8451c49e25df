/** Energy management engines (no Node-RED): load-shifting MILP, plan evaluation, live demand limiter. */
export { evaluate, optimise, baseline, warmUp } from './optimise';
export { DemandLimiter } from './limiter';
export type { LimiterCommand, LimiterConfig, LimiterLoad, LimiterState } from './limiter';
export { buildLp } from './lp';
export { compileProblem } from './model';
export type * from './types';
