/**
 * The forecasting and inventory engine (exported as `forecast` from the package). No Node-RED import.
 *
 *   import { forecast } from '@takt/node-red-mes';
 *   const r = forecast.fit(series, { frequency: 12, horizon: 18 });
 */
export * from './engine';
export * from './ets';
export * from './intermittent';
export * from './series';
export { nelderMead, type NelderMeadOptions, type NelderMeadResult } from './optim';
export * from './inventory';
export * from '../core/normal';
export * from './planner';
