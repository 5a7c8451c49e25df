/**
 * A chart kind that lives outside the engine, as the registry's worked example (docs/ARCHITECTURE.md):
 * an individuals chart without the moving-range companion ("I"). Centre = mean, σ = MR̄ / d2(2), limits
 * centre ± k·σ, every run rule applies. This module is the whole change: it declares the name, implements
 * the kind and registers it; nothing in nodes/ mentions it.
 */
import * as spc from '../../nodes/spc';

declare module '../../nodes/spc/types' {
  interface ExtraChartTypes {
    i: true;
  }
}

export const I_CHART: spc.ChartKind<'i'> = {
  type: 'i',
  traits: {
    family: 'individuals',
    label: 'I (no moving range)',
    input: 'observation',
    minSubgroup: 1,
    grouping: false,
    sizes: 'none',
    minPhaseOne: 2,
    beyondLimitsOnly: false,
    measured: true,
    iterable: true,
    cumulative: false,
    capability: true,
    runToRun: true,
    autocorrelation: false,
    tableConstants: true,
    settings: [],
    sameData: 'imr',
  },
  parse: (obs, _size, field) => ({ value: spc.toNumber(obs, field), size: 1 }),
  estimate(samples, o, base) {
    const x = samples.map((s) => s.value);
    return {
      ...base,
      center: o.limits?.center ?? x.reduce((a, b) => a + b, 0) / x.length,
      sigma: o.limits?.sigma ?? spc.mrSigma(x, o.constants),
      estimator: o.limits?.sigma !== undefined ? 'known' : 'MR',
      constants: o.constants,
    };
  },
  step(P, s) {
    const k = P.nsigmas;
    return spc.shewhart(s.value, P.center, P.center - k * P.sigma, P.center + k * P.sigma, P.sigma, 1);
  },
  standardError: (P) => P.sigma,
};

/** Adds the kind to the registry (once). */
export function registerIChart(): void {
  if (!spc.isChartType('i')) spc.registerChartKind(I_CHART);
}
