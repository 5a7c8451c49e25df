/**
 * Individuals chart with its moving-range companion: I-MR. σ = MR̄ / d2(2) ("MR"); MR chart centre MR̄,
 * limits MR̄ ± k·d3(2)·σ. Successive moving ranges are correlated, so the MR chart is judged on rule 1 only.
 */
import { type ChartKind, fail, mean, meanStep, toNumber, toObservations } from './common';

export const IMR: ChartKind<'imr', number> = {
  type: 'imr',
  traits: {
    family: 'individuals',
    label: 'I-MR',
    input: 'observation',
    minSubgroup: 1,
    grouping: false,
    sizes: 'none',
    minPhaseOne: 2,
    beyondLimitsOnly: false,
    measured: true,
    iterable: true,
    secondary: { kind: 'MR', beyondLimitsOnly: true },
    cumulative: false,
    capability: true,
    runToRun: true,
    autocorrelation: true,
    tableConstants: true,
    settings: [],
    sameData: 'imr',
  },
  parse(obs, _size, field) {
    return { value: toNumber(obs, field), size: 1 };
  },
  checkBatch(data, field) {
    toObservations(data, field);
  },
  estimate(samples, o, base, K) {
    const known = o.limits;
    const values = samples.map((s) => s.value);
    if (samples.length < 2 && known?.sigma === undefined) {
      fail('spc.noData', 'data', 'an I-MR chart needs at least 2 observations to estimate sigma');
    }
    let mr = 0;
    for (let i = 1; i < values.length; i++) mr += Math.abs(values[i] - values[i - 1]);
    const mrBar = values.length > 1 ? mr / (values.length - 1) : NaN;
    const sigma = known?.sigma ?? mrBar / K.d2(2);
    return {
      ...base,
      center: known?.center ?? mean(values),
      sigma,
      estimator: known?.sigma !== undefined ? 'known' : 'MR',
      secondaryCenter: known?.sigma !== undefined ? K.d2(2) * sigma : mrBar,
      constants: o.constants,
    };
  },
  /** The standard error of a moving range. */
  prepare: (P, K) => K.d3(2) * P.sigma,
  step(P, s, { state, prepared: mrSe }) {
    const out = meanStep(P, s);
    if (state.prev !== null) out.secondary = { stat: Math.abs(s.value - state.prev), se: mrSe };
    state.prev = s.value;
    return out;
  },
  standardError: (P, n) => P.sigma / Math.sqrt(n),
};
