/**
 * The chart-kind registry: every chart type the engine knows, by name. The built-in kinds come from the
 * family modules; the record below must name exactly the types in CHART_TYPES (the compiler checks it), so
 * a type without a kind cannot exist. Another module adds a kind with registerChartKind() (after declaring
 * its name in ExtraChartTypes, types.ts); nothing else changes. See docs/ARCHITECTURE.md.
 */
import { TaktError } from '../../core/errors';
import { type BuiltinChartType, CHART_TYPES, type ChartType } from '../types';
import { C_CHART, NP_CHART, P_CHART, U_CHART } from './attributes';
import type { ChartKind, ChartTraits } from './common';
import { IMR } from './individuals';
import { MEWMA, T2 } from './multivariate';
import { XBAR_R, XBAR_S } from './subgroup';
import { CUSUM, EWMA } from './time-weighted';

const BUILTIN: { readonly [T in BuiltinChartType]: ChartKind<T> } = {
  'xbar-r': XBAR_R,
  'xbar-s': XBAR_S,
  imr: IMR,
  p: P_CHART,
  np: NP_CHART,
  c: C_CHART,
  u: U_CHART,
  ewma: EWMA,
  cusum: CUSUM,
  t2: T2,
  mewma: MEWMA,
};

const kinds = new Map<string, ChartKind>(CHART_TYPES.map((t) => [t, BUILTIN[t] as ChartKind]));

/** Adds a chart kind. Its name must be new (a built-in kind cannot be replaced). */
export function registerChartKind(kind: ChartKind): void {
  if (typeof kind?.type !== 'string' || kind.type.length === 0)
    throw new TaktError('spc.badKind', 'kind: a chart kind needs a type name', 'type');
  if (kinds.has(kind.type))
    throw new TaktError('spc.badKind', `kind: ${JSON.stringify(kind.type)} is already registered`, 'type');
  kinds.set(kind.type, kind);
}

/** Removes a kind added with registerChartKind (built-in kinds stay). True if one was removed. */
export function unregisterChartKind(type: string): boolean {
  if ((CHART_TYPES as readonly string[]).includes(type)) return false;
  return kinds.delete(type);
}

/** True when a kind of this name is registered. */
export function isChartType(type: unknown): type is ChartType {
  return typeof type === 'string' && kinds.has(type);
}

/** Every registered chart type: the built-in ones in their order, then the added ones. */
export function chartTypes(): ChartType[] {
  return [...kinds.keys()] as ChartType[];
}

/** The kind of a chart type, or a TaktError (spc.badType) naming the field. */
export function chartKind(type: unknown, field = 'type'): ChartKind {
  const kind = typeof type === 'string' ? kinds.get(type) : undefined;
  if (!kind) {
    throw new TaktError(
      'spc.badType',
      `${field}: ${JSON.stringify(type)} is not a chart type (${chartTypes().join(', ')})`,
      field,
    );
  }
  return kind;
}

/** The traits of every registered kind (what the editor reads). */
export function chartTraits(): { type: ChartType; traits: ChartTraits }[] {
  return [...kinds.values()].map((k) => ({ type: k.type, traits: k.traits }));
}
