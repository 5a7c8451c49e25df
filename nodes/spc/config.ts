/**
 * The takt-spc node's editor settings as an SpcMonitor configuration (no Node-RED import: unit-testable).
 */
import type { NodeDef } from 'node-red';
import { configReader } from '../core/adaptor';
import { toConstantsMode } from './constants';
import type { Grouping, MonitorConfig } from './monitor';
import type { RuleSpec } from './rules';
import type { ChartType } from './types';

export interface SpcNodeDef extends NodeDef {
  chartType?: string;
  phaseOne?: string | number;
  grouping?: string;
  subgroupSize?: string | number;
  windowSec?: string | number;
  groupField?: string;
  property?: string;
  sampleSize?: string | number;
  rules?: string;
  nsigmas?: string | number;
  lambda?: string | number;
  decisionInterval?: string | number;
  shift?: string | number;
  headStart?: string | number;
  iterate?: boolean;
  autocorrelation?: boolean;
  lsl?: string | number;
  usl?: string | number;
  target?: string | number;
  r2r?: boolean;
  r2rGain?: string | number;
  r2rLambda?: string | number;
  /** Classify the recent window with the neural-network pattern model. */
  patterns?: boolean;
  /** Path of a pattern model file; empty = the model shipped with the package. */
  patternModel?: string;
  /** 'table' (qcc's published d2/d3, the default) or 'exact'. */
  constants?: string;
  /** IANA zone for the time in alarm texts; empty = the runtime's local time. */
  timeZone?: string;
}

/** The pattern model to load, or undefined when pattern recognition is off ('' = the shipped model). */
export function patternModelPath(def: SpcNodeDef): string | undefined {
  if (def.patterns !== true) return undefined;
  return typeof def.patternModel === 'string' ? def.patternModel.trim() : '';
}

function parseRules(v: string | undefined): RuleSpec {
  const s = (v ?? 'nelson').trim();
  if (s === 'nelson' || s === 'we' || s === '') return (s || 'nelson') as RuleSpec;
  return s.split(/[\s,]+/).map(Number);
}

/** The node's settings as a monitor configuration; throws naming the field at fault. */
export function toMonitorConfig(def: SpcNodeDef): MonitorConfig {
  const read = configReader(def, { code: 'spc.badConfig' });
  const opt = (field: keyof SpcNodeDef & string) => read.optionalNumber(field);
  const cfg: MonitorConfig = {
    type: (def.chartType || 'imr') as ChartType,
    phaseOne: opt('phaseOne') ?? 25,
    rules: parseRules(def.rules),
    grouping: (def.grouping || 'payload') as Grouping,
    iterate: def.iterate === true,
    autocorrelation: def.autocorrelation === true,
    constants: toConstantsMode(def.constants, 'constants'),
  };
  const zone = read.string('timeZone', '');
  if (zone) cfg.timeZone = zone;
  const num = [
    'nsigmas',
    'lambda',
    'decisionInterval',
    'shift',
    'headStart',
    'subgroupSize',
    'sampleSize',
  ] as const satisfies readonly (keyof MonitorConfig & keyof SpcNodeDef)[];
  for (const k of num) {
    const n = opt(k);
    if (n !== undefined) (cfg as unknown as Record<string, number>)[k] = n;
  }
  const win = opt('windowSec');
  if (win !== undefined) cfg.windowMs = win * 1000;
  const lsl = opt('lsl');
  const usl = opt('usl');
  const target = opt('target');
  if (lsl !== undefined || usl !== undefined) {
    cfg.spec = {
      ...(lsl !== undefined ? { lsl } : {}),
      ...(usl !== undefined ? { usl } : {}),
      ...(target !== undefined ? { target } : {}),
    };
  }
  if (def.r2r) {
    const gain = opt('r2rGain');
    const lambda = opt('r2rLambda');
    cfg.r2r = {
      ...(gain !== undefined ? { gain } : {}),
      ...(lambda !== undefined ? { lambda } : {}),
      ...(target !== undefined ? { target } : {}),
    };
  }
  return cfg;
}
