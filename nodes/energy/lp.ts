/**
 * The MILP as CPLEX-LP text (read by HiGHS and by COIN-OR CBC alike).
 *
 * Time-indexed formulation: a binary start s{j}_{t} per contiguous load and feasible start (window
 * narrowed by precedence), a running indicator x{j}_{t} linked by x_t = x_{t-1} + s_t - s_{t-d};
 * binary x{j}_{t} for preemptive loads. Slot balance i_t - e_t - sum P_j x_jt = base_t - ren_t, with
 * a binary z_t only where buying and selling at once would pay (price < exportPrice). Precedence is
 * the strong time-indexed form "j started (or running, if preemptive) by tau => k finished by tau",
 * through cumulative start variables and, for a preemptive k, a monotone "finished" indicator.
 * Peak: peak >= i_t, plus start-indexed cuts (a contiguous load started at s lifts the peak to at
 * least its power plus the highest base-minus-solar of its run) and a constant lower bound,
 * and symmetry breaking between identical contiguous loads.
 */
import type { Model } from './model';

type Term = [string, number];
interface Expr {
  c: number;
  terms: Term[];
}

const num = (v: number): string => {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(15)));
};

export interface Lp {
  text: string;
  /** Lower bound on the peak used in the model (kW). */
  peakLb: number;
}

const lastStart = (m: Model, j: number) => m.loads[j].lf - m.loads[j].dur;

export interface LpOptions {
  /** Leave out the Binaries section: the LP relaxation. */
  relax?: boolean;
  /** Upper bound on the peak variable (a cutoff from an incumbent; only with a demand charge). */
  peakUb?: number;
}

export function buildLp(m: Model, options: LpOptions = {}): Lp {
  const rows: string[] = [];
  const bounds: string[] = [];
  const bins: string[] = [];
  const row = (name: string, terms: Term[], sense: '=' | '<=' | '>=', rhs: number) => {
    const parts: string[] = [];
    for (const [v, a] of terms) if (a !== 0) parts.push(`${a < 0 ? '-' : '+'} ${num(Math.abs(a))} ${v}`);
    if (parts.length === 0) return;
    const lines: string[] = [];
    for (let i = 0; i < parts.length; i += 12) lines.push(parts.slice(i, i + 12).join(' '));
    rows.push(` ${name}: ${lines.join('\n   ')} ${sense} ${num(rhs)}`);
  };
  const net0 = m.base.map((b, t) => b - m.ren[t]);

  // loads
  m.loads.forEach((l, j) => {
    if (!l.preemptive) {
      const ls = lastStart(m, j);
      for (let t = l.es; t <= ls; t++) bins.push(`s${j}_${t}`);
      row(
        `one${j}`,
        Array.from({ length: ls - l.es + 1 }, (_, i): Term => [`s${j}_${l.es + i}`, 1]),
        '=',
        1,
      );
      for (let t = l.es; t < l.lf; t++) {
        const terms: Term[] = [[`x${j}_${t}`, 1]];
        if (t > l.es) terms.push([`x${j}_${t - 1}`, -1]);
        if (t <= ls) terms.push([`s${j}_${t}`, -1]);
        if (t - l.dur >= l.es && t - l.dur <= ls) terms.push([`s${j}_${t - l.dur}`, 1]);
        row(`run${j}_${t}`, terms, '=', 0);
      }
    } else {
      for (let t = l.es; t < l.lf; t++) bins.push(`x${j}_${t}`);
      row(
        `dur${j}`,
        Array.from({ length: l.lf - l.es }, (_, i): Term => [`x${j}_${l.es + i}`, 1]),
        '=',
        l.dur,
      );
    }
  });

  // precedence through cumulative variables, created on demand
  const made = new Set<string>();
  const startedBy = (j: number, tau: number): Expr => {
    const l = m.loads[j];
    if (tau < l.es) return { c: 0, terms: [] };
    if (tau >= lastStart(m, j)) return { c: 1, terms: [] };
    for (let t = l.es; t <= tau; t++) {
      const name = `c${j}_${t}`;
      if (made.has(name)) continue;
      made.add(name);
      const terms: Term[] = [
        [name, 1],
        [`s${j}_${t}`, -1],
      ];
      if (t > l.es) terms.push([`c${j}_${t - 1}`, -1]);
      row(`defc${j}_${t}`, terms, '=', 0);
    }
    return { c: 0, terms: [[`c${j}_${tau}`, 1]] };
  };
  // "k finished before tau" for a preemptive k: f_k,tau in [0, 1], nondecreasing in tau, and
  // x_k,t + f_k,t <= 1, so f_k,tau > 0 only when k runs in no slot from tau on. (Integral x make
  // f a proper indicator; a fractional x of k after tau caps f, which is what makes this form
  // stronger than counting finished slots.)
  const finishedBy = (k: number, tau: number): Expr => {
    const l = m.loads[k];
    const first = l.es + l.dur;
    if (tau < first) return { c: 0, terms: [] };
    if (tau >= l.lf) return { c: 1, terms: [] };
    if (!made.has(`f${k}`)) {
      made.add(`f${k}`);
      for (let t = first; t < l.lf; t++) {
        bounds.push(` 0 <= f${k}_${t} <= 1`);
        row(
          `fx${k}_${t}`,
          [
            [`f${k}_${t}`, 1],
            [`x${k}_${t}`, 1],
          ],
          '<=',
          1,
        );
        if (t > first)
          row(
            `fm${k}_${t}`,
            [
              [`f${k}_${t - 1}`, 1],
              [`f${k}_${t}`, -1],
            ],
            '<=',
            0,
          );
      }
    }
    return { c: 0, terms: [[`f${k}_${tau}`, 1]] };
  };
  // j started (contiguous) or running (preemptive) at tau  =>  k finished by tau
  m.loads.forEach((l, j) => {
    for (const k of l.after) {
      const pk = m.loads[k];
      for (let tau = l.es; tau < Math.min(l.lf, pk.lf); tau++) {
        const a: Expr = l.preemptive ? { c: 0, terms: [[`x${j}_${tau}`, 1]] } : startedBy(j, tau);
        const d: Expr = pk.preemptive ? finishedBy(k, tau) : startedBy(k, tau - pk.dur);
        // a - d <= 0
        const terms: Term[] = [...a.terms, ...d.terms.map(([v, c]): Term => [v, -c])];
        const rhs = d.c - a.c;
        // (no terms: both sides constant, and the windows narrowed by precedence make that hold)
        if (terms.length) row(`prec${j}_${k}_${tau}`, terms, '<=', rhs);
      }
    }
  });

  // symmetry breaking: identical contiguous loads with no precedence start in index order
  const free = m.loads.map(
    (l, j) => !l.preemptive && l.after.length === 0 && !m.loads.some((o) => o.after.includes(j)),
  );
  const keyOf = (j: number) => {
    const l = m.loads[j];
    return `${l.power}|${l.dur}|${l.es}|${l.lf}`;
  };
  const prevOfKey = new Map<string, number>();
  m.loads.forEach((l, j) => {
    if (!free[j]) return;
    const key = keyOf(j);
    const p = prevOfKey.get(key);
    prevOfKey.set(key, j);
    if (p === undefined) return;
    const terms: Term[] = [];
    for (let t = l.es; t <= lastStart(m, j); t++) terms.push([`s${p}_${t}`, t], [`s${j}_${t}`, -t]);
    row(`sym${p}_${j}`, terms, '<=', 0);
  });

  // slot balance, import/export bounds, complementarity where needed
  const obj: Term[] = [];
  let peakLb = 0;
  for (let t = 0; t < m.T; t++) {
    let maxShift = 0;
    const terms: Term[] = [[`i${t}`, 1]];
    m.loads.forEach((l, j) => {
      if (t >= l.es && t < l.lf && l.power > 0) {
        terms.push([`x${j}_${t}`, -l.power]);
        maxShift += l.power;
      }
    });
    const mImp = Math.max(0, net0[t] + maxShift);
    const mExp = Math.max(0, -net0[t]);
    if (mExp > 0) terms.push([`e${t}`, -1]);
    row(`bal${t}`, terms, '=', net0[t]);
    const up = m.cap !== null ? Math.min(m.cap, mImp) : mImp;
    bounds.push(` 0 <= i${t} <= ${num(up)}`);
    if (mExp > 0) bounds.push(` 0 <= e${t} <= ${num(mExp)}`);
    obj.push([`i${t}`, m.hours * m.prices[t]]);
    if (mExp > 0) obj.push([`e${t}`, -m.hours * m.exportPrice]);
    if (mExp > 0 && mImp > 0 && m.prices[t] < m.exportPrice) {
      bins.push(`z${t}`);
      row(
        `zi${t}`,
        [
          [`i${t}`, 1],
          [`z${t}`, -mImp],
        ],
        '<=',
        0,
      );
      row(
        `ze${t}`,
        [
          [`e${t}`, 1],
          [`z${t}`, mExp],
        ],
        '<=',
        mExp,
      );
    }
    // Surplus cut: a load absorbs at most min(P_j, S_t) of the solar surplus S_t in its slot, so
    // e_t + sum_j min(P_j, S_t) x_jt >= S_t. Without it the LP relaxation fills the surplus exactly
    // with fractions of big loads, which is what makes preemptive loads' bound weak.
    if (mExp > 0) {
      const cut: Term[] = [[`e${t}`, 1]];
      let tighter = false;
      m.loads.forEach((l, j) => {
        if (t < l.es || t >= l.lf || l.power <= 0) return;
        if (l.power > mExp) tighter = true;
        cut.push([`x${j}_${t}`, Math.min(l.power, mExp)]);
      });
      if (tighter) row(`sur${t}`, cut, '>=', mExp);
    }
    peakLb = Math.max(peakLb, net0[t]);
  }
  if (m.demandCharge > 0) {
    m.loads.forEach((l, j) => {
      if (l.preemptive) {
        // the load occupies dur distinct slots: at best the dur lowest base-minus-solar slots
        const w = net0.slice(l.es, l.lf).sort((a, b) => a - b);
        peakLb = Math.max(peakLb, w[l.dur - 1] + l.power);
        return;
      }
      // start-indexed peak cut: started at s, the peak is at least P + the highest net0 of the run
      const terms: Term[] = [['peak', 1]];
      let lo = Infinity;
      for (let st = l.es; st <= lastStart(m, j); st++) {
        let hi = -Infinity;
        for (let t = st; t < st + l.dur; t++) hi = Math.max(hi, net0[t]);
        lo = Math.min(lo, hi + l.power);
        terms.push([`s${j}_${st}`, -(hi + l.power)]);
      }
      peakLb = Math.max(peakLb, lo);
      if (l.power > 0) row(`pkl${j}`, terms, '>=', 0);
    });
    if (m.cap !== null) peakLb = Math.min(peakLb, m.cap);
    for (let t = 0; t < m.T; t++)
      row(
        `pk${t}`,
        [
          ['peak', 1],
          [`i${t}`, -1],
        ],
        '>=',
        0,
      );
    const ub = options.peakUb;
    bounds.push(
      ub !== undefined && Number.isFinite(ub)
        ? ` ${num(peakLb)} <= peak <= ${num(Math.max(peakLb, ub))}`
        : ` peak >= ${num(peakLb)}`,
    );
    obj.push(['peak', m.demandCharge]);
  }
  const objParts = obj.map(([v, a]) => `${a < 0 ? '-' : '+'} ${num(Math.abs(a))} ${v}`);
  const objLines: string[] = [];
  for (let i = 0; i < objParts.length; i += 12) objLines.push(objParts.slice(i, i + 12).join(' '));
  const text = [
    '\\ Takt energy load shifting',
    'Minimize',
    ` obj: ${objLines.join('\n   ')}`,
    'Subject To',
    ...rows,
    'Bounds',
    ...bounds,
    // relaxed binaries keep their [0, 1] bounds (a column has [0, inf) by default in LP format)
    ...(options.relax ? bins.map((b) => ` ${b} <= 1`) : []),
    ...(bins.length && !options.relax ? ['Binaries', ...chunk(bins)] : []),
    'End',
    '',
  ].join('\n');
  return { text, peakLb };
}

function chunk(names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length; i += 16) out.push(' ' + names.slice(i, i + 16).join(' '));
  return out;
}

/** Values of every model variable for a plan (slots per load), for a warm start. */
export function variableValues(m: Model, slots: number[][], peakLb: number): Map<string, number> {
  const v = new Map<string, number>();
  const shift = new Float64Array(m.T);
  m.loads.forEach((l, j) => {
    const s = slots[j];
    for (const t of s) shift[t] += l.power;
    const set = new Set(s);
    for (let t = l.es; t < l.lf; t++) v.set(`x${j}_${t}`, set.has(t) ? 1 : 0);
    if (!l.preemptive) {
      const st = s[0];
      for (let t = l.es; t <= l.lf - l.dur; t++) {
        v.set(`s${j}_${t}`, t === st ? 1 : 0);
        v.set(`c${j}_${t}`, st <= t ? 1 : 0);
      }
    } else {
      const end = Math.max(...s) + 1;
      for (let t = l.es + l.dur; t < l.lf; t++) v.set(`f${j}_${t}`, t >= end ? 1 : 0);
    }
  });
  let peak = peakLb;
  for (let t = 0; t < m.T; t++) {
    const net = m.base[t] + shift[t] - m.ren[t];
    v.set(`i${t}`, Math.max(0, net));
    v.set(`e${t}`, Math.max(0, -net));
    v.set(`z${t}`, net > 0 ? 1 : 0);
    peak = Math.max(peak, net);
  }
  v.set('peak', peak);
  return v;
}

/** Slots per load read back from solver values by column name. */
export function slotsFromValues(m: Model, value: (name: string) => number | undefined): number[][] {
  return m.loads.map((l, j) => {
    const out: number[] = [];
    for (let t = l.es; t < l.lf; t++) if ((value(`x${j}_${t}`) ?? 0) > 0.5) out.push(t);
    return out;
  });
}
