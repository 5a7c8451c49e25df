/**
 * A bounded Nelder-Mead simplex minimiser (Nelder & Mead 1965, with the usual reflection 1,
 * expansion 2, contraction 0.5 and shrink 0.5 coefficients). Points outside the box are clamped to
 * it, so the objective only ever sees admissible parameters.
 */
export interface NelderMeadOptions {
  /** Largest number of objective evaluations. */
  maxEval?: number;
  /** Stop when the spread of objective values over the simplex falls below this. */
  tol?: number;
  /** Initial step per coordinate, as a fraction of the box width (default 0.1). */
  step?: number;
}

export interface NelderMeadResult {
  x: number[];
  value: number;
  evals: number;
}

export function nelderMead(
  f: (x: number[]) => number,
  x0: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
  opts: NelderMeadOptions = {},
): NelderMeadResult {
  const n = x0.length;
  const maxEval = opts.maxEval ?? 200 * (n + 1);
  const tol = opts.tol ?? 1e-8;
  const stepFrac = opts.step ?? 0.1;
  const clamp = (x: number[]) => x.map((v, i) => Math.min(upper[i], Math.max(lower[i], v)));
  let evals = 0;
  const ev = (x: number[]) => {
    evals++;
    const v = f(x);
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  };
  const pts: number[][] = [clamp([...x0])];
  for (let i = 0; i < n; i++) {
    const p = [...pts[0]];
    const w = upper[i] - lower[i];
    const step = Number.isFinite(w) ? stepFrac * w : Math.max(1e-4, 0.1 * Math.abs(p[i]) || 0.1);
    p[i] = p[i] + step <= upper[i] ? p[i] + step : p[i] - step;
    pts.push(clamp(p));
  }
  const vals = pts.map(ev);
  const order = () => {
    const idx = pts.map((_, i) => i).sort((a, b) => vals[a] - vals[b]);
    const p2 = idx.map((i) => pts[i]);
    const v2 = idx.map((i) => vals[i]);
    for (let i = 0; i <= n; i++) {
      pts[i] = p2[i];
      vals[i] = v2[i];
    }
  };
  while (evals < maxEval) {
    order();
    if (Math.abs(vals[n] - vals[0]) <= tol * (Math.abs(vals[0]) + tol)) break;
    const c = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[j] += pts[i][j] / n;
    const along = (t: number) => clamp(c.map((cj, j) => cj + t * (pts[n][j] - cj)));
    const xr = along(-1);
    const fr = ev(xr);
    if (fr < vals[0]) {
      const xe = along(-2);
      const fe = ev(xe);
      if (fe < fr) {
        pts[n] = xe;
        vals[n] = fe;
      } else {
        pts[n] = xr;
        vals[n] = fr;
      }
    } else if (fr < vals[n - 1]) {
      pts[n] = xr;
      vals[n] = fr;
    } else {
      const outside = fr < vals[n];
      const xc = along(outside ? -0.5 : 0.5);
      const fc = ev(xc);
      if (fc < (outside ? fr : vals[n])) {
        pts[n] = xc;
        vals[n] = fc;
      } else {
        for (let i = 1; i <= n; i++) {
          pts[i] = clamp(pts[i].map((v, j) => pts[0][j] + 0.5 * (v - pts[0][j])));
          vals[i] = ev(pts[i]);
        }
      }
    }
  }
  order();
  return { x: pts[0], value: vals[0], evals };
}
