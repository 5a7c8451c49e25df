/**
 * The scheduling engine (issue 12): `schedule.solve`, `schedule.validate`, `schedule.parseJsplib`,
 * `schedule.parseFjs`, the lower bound and the live rescheduler. No Node-RED import here.
 */
export * from './types';
export { parseFjs, parseJsplib } from './parse';
export { solve } from './solve';
export { validate } from './validate';
export { compile } from './model';
export { lowerBound as modelLowerBound } from './bound';
import { lowerBound as modelBound } from './bound';
import { compile } from './model';
import type { SchedulingProblem } from './types';

/** A lower bound on the makespan of a problem (job, machine and capacity bounds). */
export function lowerBound(problem: SchedulingProblem): number {
  return modelBound(compile(problem)).makespan;
}
export { LivePlanner, parseEvent, stability, views } from './live';
export type {
  DispatchEntry,
  GanttRow,
  Kpis,
  LiveOptions,
  LiveResult,
  ScheduleEvent,
  Stability,
} from './live';
