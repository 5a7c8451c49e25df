/**
 * The local search over a compiled Model: machine assignment + machine sequences (a disjunctive
 * graph), decoded to the earliest start times, improved by tabu search on critical-path blocks.
 *
 * - Decoding: heads (start times) in topological order. The classic case (no windows, setups or
 *   materials) takes a plain longest-path pass; the general case places each operation at the earliest
 *   time its machine window, setup and material supply allow (a semi-active schedule).
 * - Neighbourhood: critical path from a last-finishing operation (or a late job's last operation when
 *   tardiness counts), split into blocks; moves put a block's operation at the block's start or end
 *   or move the first/last operation inside (N7 of Zhang et al.), and, for flexible operations on the
 *   path, moves to another machine at the best position. Only moves that provably keep the graph
 *   acyclic are generated (head-time tests).
 * - Evaluation: classic case, the Balas-Vazacopoulos/Taillard estimate (heads and tails of the moved
 *   segment recomputed locally); general case, an exact decode of each candidate.
 * - Tabu list on reversed operation pairs and on left machines, aspiration by best cost, restarts
 *   from the best plan (own or shared by other workers) with random perturbation after stagnation.
 */
import { mulberry32 } from '../core/random';
import { type Model, setupTime } from './model';

/** A plan in portable form: the alternative of each free op and a priority list of all free ops. */
export interface Solution {
  alt: Int32Array;
  seq: Int32Array;
  cost: number;
}

export const rng = mulberry32;

/** With exact move costs, how many of the best-estimated moves are decoded per iteration. */
const EXACT_K = 8;

interface Move {
  x: number;
  alt: number;
  /** New machine predecessor of x (-1: first on its machine). */
  prev: number;
  est: number;
}

export class Search {
  readonly model: Model;
  readonly n: number;
  readonly alt: Int32Array;
  readonly mach: Int32Array;
  readonly dur: Float64Array;
  readonly mPrev: Int32Array;
  readonly mNext: Int32Array;
  readonly mFirst: Int32Array;
  readonly mLast: Int32Array;
  head: Float64Array;
  readonly tail: Float64Array;
  private scratch: Float64Array;
  private readonly order: Int32Array;
  private readonly indeg: Int32Array;
  private readonly consumed: Float64Array;
  private readonly heapKey: Float64Array;
  private readonly heap: Int32Array;
  private readonly rand: () => number;
  private readonly tabuPair: Int32Array | Map<number, number>;
  private readonly tabuMach: Int32Array;
  /** Current cost and makespan (free + frozen). */
  cost = Infinity;
  makespan = 0;
  iter = 0;
  best: Solution | null = null;
  bestAt = 0;
  private noImprove = 0;
  private restarts = 0;
  private readonly maxNoImprove: number;
  private readonly tenureMin: number;
  private readonly tenureSpan: number;
  private readonly segR: Float64Array;
  private readonly segOps: Int32Array;
  /** Moves are costed by an exact decode (general problems, tardiness) rather than the estimate. */
  private readonly exactEval: boolean;
  /** How often run() asks whether to stop: every iteration when iterations are slow. */
  private readonly checkMask: number;

  constructor(model: Model, seed = 1) {
    this.model = model;
    const n = (this.n = model.n);
    this.alt = new Int32Array(n);
    this.mach = new Int32Array(n);
    this.dur = new Float64Array(n);
    this.mPrev = new Int32Array(n).fill(-1);
    this.mNext = new Int32Array(n).fill(-1);
    this.mFirst = new Int32Array(model.nMach).fill(-1);
    this.mLast = new Int32Array(model.nMach).fill(-1);
    this.head = new Float64Array(n);
    this.scratch = new Float64Array(n);
    this.tail = new Float64Array(n);
    this.order = new Int32Array(n);
    this.indeg = new Int32Array(n);
    this.consumed = new Float64Array(model.materialIds.length);
    this.heapKey = new Float64Array(n);
    this.heap = new Int32Array(n);
    this.segR = new Float64Array(n + 1);
    this.segOps = new Int32Array(n + 1);
    this.rand = rng(seed);
    this.tabuPair = n <= 2500 ? new Int32Array(n * n) : new Map<number, number>();
    this.tabuMach = new Int32Array(n * model.nMach);
    const ratio = model.nJobs / Math.max(1, model.nMach);
    this.tenureMin = Math.round(8 + ratio);
    this.tenureSpan = Math.max(2, Math.round(this.tenureMin * 0.5));
    this.maxNoImprove = 2500 + 15 * n;
    this.exactEval = model.general || model.wTardiness > 0 || model.wMakespan !== 1 || model.wStability > 0;
    this.checkMask = this.exactEval ? 3 : 31;
  }

  // ---- state ---------------------------------------------------------------------------------

  /** Loads a plan: alternatives, then ops appended to their machine in list order. */
  load(sol: { alt: Int32Array; seq: Int32Array }): void {
    this.mFirst.fill(-1);
    this.mLast.fill(-1);
    for (let i = 0; i < this.n; i++) this.setAlt(i, sol.alt[i]);
    for (let k = 0; k < this.n; k++) {
      const i = sol.seq[k];
      const mc = this.mach[i];
      const last = this.mLast[mc];
      this.mPrev[i] = last;
      this.mNext[i] = -1;
      if (last >= 0) this.mNext[last] = i;
      else this.mFirst[mc] = i;
      this.mLast[mc] = i;
    }
    if (!this.evaluate()) throw new Error('internal: loaded plan has a cycle');
  }

  private setAlt(i: number, a: number): void {
    const k = this.model.altStart[i] + a;
    this.alt[i] = a;
    this.mach[i] = this.model.altMach[k];
    this.dur[i] = this.model.altDur[k];
  }

  /** The current plan with ops listed by start time. */
  snapshot(): Solution {
    const seq = Int32Array.from(this.order);
    return { alt: Int32Array.from(this.alt), seq, cost: this.cost };
  }

  /** Moves op x to alternative a, right after `prev` on that machine (-1: first). Returns undo data. */
  relocate(x: number, a: number, prev: number): [number, number] {
    const oldAlt = this.alt[x];
    const oldPrev = this.mPrev[x];
    // unlink
    const p = this.mPrev[x];
    const q = this.mNext[x];
    const m0 = this.mach[x];
    if (p >= 0) this.mNext[p] = q;
    else this.mFirst[m0] = q;
    if (q >= 0) this.mPrev[q] = p;
    else this.mLast[m0] = p;
    if (a !== oldAlt) this.setAlt(x, a);
    const m1 = this.mach[x];
    // link after prev
    const nx = prev >= 0 ? this.mNext[prev] : this.mFirst[m1];
    this.mPrev[x] = prev;
    this.mNext[x] = nx;
    if (prev >= 0) this.mNext[prev] = x;
    else this.mFirst[m1] = x;
    if (nx >= 0) this.mPrev[nx] = x;
    else this.mLast[m1] = x;
    return [oldAlt, oldPrev];
  }

  // ---- decoding -------------------------------------------------------------------------------

  /** Decodes into `head` and computes tails and cost. False when the graph has a cycle. */
  evaluate(): boolean {
    const c = this.decode(this.head, true);
    if (Number.isNaN(c)) return false;
    this.cost = c;
    this.tails();
    return true;
  }

  /** Start times into h; returns the cost or NaN on a cycle. Writes the topological order when asked. */
  decode(h: Float64Array, keepOrder: boolean): number {
    return this.model.general ? this.decodeGeneral(h, keepOrder) : this.decodeClassic(h, keepOrder);
  }

  private decodeClassic(h: Float64Array, keepOrder: boolean): number {
    const { jp, js, lb } = this.model;
    const { mPrev, mNext, dur, indeg } = this;
    const order = keepOrder ? this.order : this.segOps;
    const n = this.n;
    let qh = 0;
    let qt = 0;
    for (let i = 0; i < n; i++) {
      const d = (jp[i] >= 0 ? 1 : 0) + (mPrev[i] >= 0 ? 1 : 0);
      indeg[i] = d;
      if (d === 0) order[qt++] = i;
    }
    while (qh < qt) {
      const i = order[qh++];
      let s = lb[i];
      const a = jp[i];
      if (a >= 0 && h[a] + dur[a] > s) s = h[a] + dur[a];
      const b = mPrev[i];
      if (b >= 0 && h[b] + dur[b] > s) s = h[b] + dur[b];
      h[i] = s;
      const c = js[i];
      if (c >= 0 && --indeg[c] === 0) order[qt++] = c;
      const d = mNext[i];
      if (d >= 0 && --indeg[d] === 0) order[qt++] = d;
    }
    if (qt < n) return NaN;
    return this.costOf(h);
  }

  private decodeGeneral(h: Float64Array, keepOrder: boolean): number {
    const m = this.model;
    const { jp, js, lb, family, needStart, needMat, needQty, supplyAt, supplyCum } = m;
    const { mPrev, mNext, dur, mach, indeg, heap, heapKey, consumed } = this;
    const order = keepOrder ? this.order : this.segOps;
    const n = this.n;
    consumed.set(m.frozenUse);
    let size = 0;
    const push = (i: number, key: number) => {
      heapKey[i] = key;
      let k = size++;
      while (k > 0) {
        const p = (k - 1) >> 1;
        const hp = heap[p];
        if (heapKey[hp] < key || (heapKey[hp] === key && hp < i)) break;
        heap[k] = hp;
        k = p;
      }
      heap[k] = i;
    };
    const pop = () => {
      const top = heap[0];
      const last = heap[--size];
      const key = heapKey[last];
      let k = 0;
      for (;;) {
        let c = 2 * k + 1;
        if (c >= size) break;
        if (
          c + 1 < size &&
          (heapKey[heap[c + 1]] < heapKey[heap[c]] ||
            (heapKey[heap[c + 1]] === heapKey[heap[c]] && heap[c + 1] < heap[c]))
        )
          c++;
        const hc = heap[c];
        if (key < heapKey[hc] || (key === heapKey[hc] && last < hc)) break;
        heap[k] = hc;
        k = c;
      }
      heap[k] = last;
      return top;
    };
    const ready = (i: number) => {
      let s = lb[i];
      const a = jp[i];
      if (a >= 0 && h[a] + dur[a] > s) s = h[a] + dur[a];
      const b = mPrev[i];
      if (b >= 0) {
        const e = h[b] + dur[b] + setupTime(m, mach[i], family[b], family[i]);
        if (e > s) s = e;
      }
      return s;
    };
    for (let i = 0; i < n; i++) {
      const d = (jp[i] >= 0 ? 1 : 0) + (mPrev[i] >= 0 ? 1 : 0);
      indeg[i] = d;
      if (d === 0) push(i, ready(i));
    }
    let k = 0;
    while (size > 0) {
      const i = pop();
      order[k++] = i;
      let t = heapKey[i];
      for (let r = needStart[i]; r < needStart[i + 1]; r++) {
        const mt = needMat[r];
        const need = consumed[mt] + needQty[r];
        const cum = supplyCum[mt];
        let lo = 0;
        while (lo < cum.length && cum[lo] < need - 1e-9) lo++;
        const at = supplyAt[mt][lo];
        if (at > t) t = at;
      }
      const mc = mach[i];
      const b = mPrev[i];
      const su = setupTime(m, mc, b >= 0 ? family[b] : m.initFamily[mc], family[i]);
      t = fitWindow(m.windows[mc], t - su, su + dur[i]) + su;
      h[i] = t;
      for (let r = needStart[i]; r < needStart[i + 1]; r++) consumed[needMat[r]] += needQty[r];
      const c = js[i];
      if (c >= 0 && --indeg[c] === 0) push(c, ready(c));
      const d = mNext[i];
      if (d >= 0 && --indeg[d] === 0) push(d, ready(d));
    }
    if (k < n) return NaN;
    return this.costOf(h);
  }

  private costOf(h: Float64Array): number {
    const m = this.model;
    const dur = this.dur;
    let mk = m.frozenMakespan;
    for (let i = 0; i < this.n; i++) if (h[i] + dur[i] > mk) mk = h[i] + dur[i];
    this.makespan = mk;
    let cost = m.wMakespan * mk;
    if (m.wStability > 0) {
      let shift = 0;
      for (let i = 0; i < this.n; i++) if (m.ref[i] === m.ref[i]) shift += Math.abs(h[i] - m.ref[i]);
      cost += m.wStability * shift;
    }
    if (m.wTardiness === 0) return cost;
    let wt = 0;
    for (let j = 0; j < m.nJobs; j++) {
      const x = m.lastOp[j];
      const c = x >= 0 ? h[x] + dur[x] : m.frozenJobEnd[j];
      if (c > m.due[j]) wt += (c - m.due[j]) * m.weight[j];
    }
    return cost + m.wTardiness * wt;
  }

  /** Tails: longest path from the end of each op to the end (without its own duration). */
  private tails(): void {
    const m = this.model;
    const { js } = m;
    const { mNext, dur, tail, order, mach } = this;
    const general = m.general;
    for (let k = this.n - 1; k >= 0; k--) {
      const i = order[k];
      let t = 0;
      const c = js[i];
      if (c >= 0) t = tail[c] + dur[c];
      const d = mNext[i];
      if (d >= 0) {
        let u = tail[d] + dur[d];
        if (general) u += setupTime(m, mach[i], m.family[i], m.family[d]);
        if (u > t) t = u;
      }
      tail[i] = t;
    }
  }

  /** Which machine predecessor ends exactly when op i starts (tight arc), else -1. */
  private tightPrev(i: number): number {
    const b = this.mPrev[i];
    if (b < 0) return -1;
    const m = this.model;
    const su = m.general ? setupTime(m, this.mach[i], m.family[b], m.family[i]) : 0;
    return this.head[b] + this.dur[b] + su === this.head[i] ? b : -1;
  }

  /** A critical path ending at op `end`, chronological; `viaMach[k]` when path[k-1] -> path[k] is a machine arc. */
  private criticalPath(end: number): { path: number[]; viaMach: boolean[] } {
    const path: number[] = [];
    const via: boolean[] = [];
    const { jp } = this.model;
    let i = end;
    for (;;) {
      path.push(i);
      const a = jp[i];
      const jobTight = a >= 0 && this.head[a] + this.dur[a] === this.head[i];
      const b = this.tightPrev(i);
      if (b >= 0 && (!jobTight || this.rand() < 0.5)) {
        via.push(true);
        i = b;
      } else if (jobTight) {
        via.push(false);
        i = a;
      } else {
        via.push(false);
        break;
      }
    }
    // via[k] says how path[k] was reached from the op before it on the path
    path.reverse();
    via.reverse();
    return { path, viaMach: via };
  }

  /** Picks the op whose path to follow: a last-finishing op, or a late job's last op. */
  private pickEnd(): number {
    const m = this.model;
    const { head, dur } = this;
    if (m.wTardiness > 0 && (m.wMakespan === 0 || this.rand() < 0.6)) {
      const late: number[] = [];
      for (let j = 0; j < m.nJobs; j++) {
        const x = m.lastOp[j];
        if (x >= 0 && head[x] + dur[x] > m.due[j]) late.push(x);
      }
      if (late.length) return late[Math.floor(this.rand() * late.length)];
    }
    let mk = -Infinity;
    for (let i = 0; i < this.n; i++) if (head[i] + dur[i] > mk) mk = head[i] + dur[i];
    const ends: number[] = [];
    for (let i = 0; i < this.n; i++) if (head[i] + dur[i] === mk) ends.push(i);
    return ends[Math.floor(this.rand() * ends.length)];
  }

  // ---- moves ----------------------------------------------------------------------------------

  private moves(): Move[] {
    const out: Move[] = [];
    if (this.n === 0) return out;
    const { path, viaMach } = this.criticalPath(this.pickEnd());
    const { head, dur } = this;
    const { jp, js } = this.model;
    // blocks
    let s = 0;
    for (let k = 1; k <= path.length; k++) {
      if (k < path.length && viaMach[k]) continue;
      const L = k - s;
      if (L >= 2) {
        const b = path.slice(s, k);
        const fwd = (x: number, y: number) => {
          // x after y (x earlier in block)
          const c = js[x];
          if (c >= 0 && head[y] >= head[c] + dur[c]) return;
          out.push({ x, alt: this.alt[x], prev: y, est: 0 });
        };
        const bwd = (x: number, y: number) => {
          // x before y (y earlier)
          const a = jp[x];
          if (a >= 0 && head[a] >= head[y] + dur[y]) return;
          out.push({ x, alt: this.alt[x], prev: this.mPrev[y], est: 0 });
        };
        for (let j = 1; j < L; j++) bwd(b[j], b[0]);
        for (let j = 0; j < L - 1; j++) fwd(b[j], b[L - 1]);
        for (let j = 2; j < L - 1; j++) fwd(b[0], b[j]);
        for (let j = 1; j < L - 2; j++) bwd(b[L - 1], b[j]);
      }
      s = k;
    }
    // machine reassignment of flexible ops on the path
    const m = this.model;
    for (const x of path) {
      const na = m.altStart[x + 1] - m.altStart[x];
      if (na < 2) continue;
      for (let a = 0; a < na; a++) {
        if (a === this.alt[x]) continue;
        const mc = m.altMach[m.altStart[x] + a];
        if (mc === this.mach[x]) continue;
        this.bestInsertion(x, a, mc, out);
      }
    }
    return out;
  }

  /** Adds the move of x to machine mc (alternative a) at the position with the best estimate. */
  private bestInsertion(x: number, a: number, mc: number, out: Move[]): void {
    const m = this.model;
    const { head, tail, dur } = this;
    const d = m.altDur[m.altStart[x] + a];
    const jpx = m.jp[x];
    const jsx = m.js[x];
    const jEnd = jpx >= 0 ? head[jpx] + dur[jpx] : 0;
    const jTail = jsx >= 0 ? tail[jsx] + dur[jsx] : 0;
    const lim = jsx >= 0 ? head[jsx] + dur[jsx] : Infinity;
    let best = Infinity;
    let bestPrev = -2;
    let p = -1;
    let w = this.mFirst[mc];
    for (;;) {
      if (p >= 0 && head[p] >= lim) break; // later positions are all unsafe
      const okW = w < 0 || jpx < 0 || head[jpx] < head[w] + dur[w];
      if (okW) {
        let r = m.lb[x];
        if (jEnd > r) r = jEnd;
        if (p >= 0 && head[p] + dur[p] > r) r = head[p] + dur[p];
        let q = jTail;
        if (w >= 0 && tail[w] + dur[w] > q) q = tail[w] + dur[w];
        const e = r + d + q;
        if (e < best || (e === best && this.rand() < 0.3)) {
          best = e;
          bestPrev = p;
        }
      }
      if (w < 0) break;
      p = w;
      w = this.mNext[w];
    }
    if (bestPrev !== -2) out.push({ x, alt: a, prev: bestPrev, est: best });
  }

  /** Whether a same-machine move puts x later (its new predecessor is after it now). */
  private isForward(mv: Move): boolean {
    const { head, mNext } = this;
    const x = mv.x;
    if (mv.prev < 0) return false;
    if (head[mv.prev] !== head[x]) return head[mv.prev] > head[x];
    // equal heads only with zero durations: walk to find out
    for (let y = mNext[x]; y >= 0; y = mNext[y]) if (y === mv.prev) return true;
    return false;
  }

  /** The estimated cost of a same-machine move (classic case). */
  private estimate(mv: Move): number {
    const x = mv.x;
    if (mv.alt !== this.alt[x]) return mv.est;
    const { head, tail, dur, mPrev, mNext } = this;
    const { jp, js, lb } = this.model;
    const seg = this.segOps;
    const r = this.segR;
    let len = 0;
    let a: number;
    let b: number;
    if (this.isForward(mv)) {
      a = mPrev[x];
      b = mNext[mv.prev];
      for (let y = mNext[x]; ; y = mNext[y]) {
        seg[len++] = y;
        if (y === mv.prev) break;
      }
      seg[len++] = x;
    } else {
      const first = mv.prev >= 0 ? mNext[mv.prev] : this.mFirst[this.mach[x]];
      a = mv.prev;
      b = mNext[x];
      seg[len++] = x;
      for (let y = first; y !== x; y = mNext[y]) seg[len++] = y;
    }
    let end = a >= 0 ? head[a] + dur[a] : 0;
    for (let k = 0; k < len; k++) {
      const y = seg[k];
      let s = lb[y];
      const p = jp[y];
      if (p >= 0 && head[p] + dur[p] > s) s = head[p] + dur[p];
      if (end > s) s = end;
      r[k] = s;
      end = s + dur[y];
    }
    let q = b >= 0 ? tail[b] + dur[b] : 0;
    let est = 0;
    for (let k = len - 1; k >= 0; k--) {
      const y = seg[k];
      let t = q;
      const c = js[y];
      if (c >= 0 && tail[c] + dur[c] > t) t = tail[c] + dur[c];
      if (r[k] + dur[y] + t > est) est = r[k] + dur[y] + t;
      q = t + dur[y];
    }
    return est;
  }

  /** Exact cost of a move (general case): apply, decode into scratch, undo. */
  private exact(mv: Move): number {
    const [oa, op] = this.relocate(mv.x, mv.alt, mv.prev);
    const c = this.decode(this.scratch, false);
    this.relocate(mv.x, oa, op);
    return Number.isNaN(c) ? Infinity : c;
  }

  private tabuGet(a: number, b: number): number {
    const t = this.tabuPair;
    return t instanceof Int32Array ? t[a * this.n + b] : (t.get(a * this.n + b) ?? 0);
  }

  private tabuSet(a: number, b: number, v: number): void {
    const t = this.tabuPair;
    if (t instanceof Int32Array) t[a * this.n + b] = v;
    else t.set(a * this.n + b, v);
  }

  /** Ops that change order with x in a same-machine move, and whether x ends up after them. */
  private crossed(mv: Move, f: (y: number, xAfter: boolean) => boolean): boolean {
    const x = mv.x;
    const { mNext } = this;
    // forward: from mNext[x] up to prev; backward: from first-after-prev up to mPrev[x]
    if (this.isForward(mv)) {
      for (let y = mNext[x]; y >= 0; y = mNext[y]) {
        if (f(y, true)) return true;
        if (y === mv.prev) return false;
      }
      return false;
    }
    const first = mv.prev >= 0 ? mNext[mv.prev] : this.mFirst[this.mach[x]];
    for (let y = first; y >= 0 && y !== x; y = mNext[y]) if (f(y, false)) return true;
    return false;
  }

  private isTabu(mv: Move): boolean {
    if (mv.alt !== this.alt[mv.x])
      return (
        this.tabuMach[mv.x * this.model.nMach + this.model.altMach[this.model.altStart[mv.x] + mv.alt]] >
        this.iter
      );
    // x after y is tabu when "y before x" was forbidden (tabu[y][x]), and vice versa
    return this.crossed(
      mv,
      (y, xAfter) => (xAfter ? this.tabuGet(y, mv.x) : this.tabuGet(mv.x, y)) > this.iter,
    );
  }

  private makeTabu(mv: Move): void {
    const until = this.iter + this.tenureMin + Math.floor(this.rand() * this.tenureSpan);
    if (mv.alt !== this.alt[mv.x]) {
      this.tabuMach[mv.x * this.model.nMach + this.mach[mv.x]] = until;
      return;
    }
    // forbid restoring the old relative order
    this.crossed(mv, (y, xAfter) => {
      if (xAfter) this.tabuSet(mv.x, y, until);
      else this.tabuSet(y, mv.x, until);
      return false;
    });
  }

  /** One tabu-search iteration. False when no move exists. */
  step(): boolean {
    this.iter++;
    let mvs = this.moves();
    for (let t = 0; t < 3 && mvs.length === 0; t++) mvs = this.moves();
    if (mvs.length === 0) return false;
    const exact = this.exactEval;
    const bestCost = this.best ? this.best.cost : Infinity;
    if (exact && mvs.length > EXACT_K) {
      // An exact decode per move is costly: rank by the cheap estimate, decode the most promising.
      for (const mv of mvs) mv.est = this.estimate(mv);
      mvs.sort((a, b) => a.est - b.est);
    }
    let pick: Move | null = null;
    let pickVal = Infinity;
    let ties = 0;
    for (let k = 0; k < mvs.length; k++) {
      if (exact && k >= EXACT_K && pick !== null) break;
      const mv = mvs[k];
      const v = exact ? this.exact(mv) : this.estimate(mv);
      if (this.isTabu(mv) && !(v < bestCost)) continue;
      if (v < pickVal) {
        pick = mv;
        pickVal = v;
        ties = 1;
      } else if (v === pickVal && this.rand() * ++ties < 1) pick = mv;
    }
    if (pick === null) pick = mvs[Math.floor(this.rand() * mvs.length)];
    this.makeTabu(pick);
    const [oa, op] = this.relocate(pick.x, pick.alt, pick.prev);
    if (!this.evaluate()) {
      this.relocate(pick.x, oa, op);
      this.evaluate();
    }
    return true;
  }

  /** Random feasible moves (a kick out of the current valley). */
  perturb(k: number): void {
    for (let t = 0; t < k; t++) {
      const mvs = this.moves();
      if (!mvs.length) return;
      const mv = mvs[Math.floor(this.rand() * mvs.length)];
      const [oa, op] = this.relocate(mv.x, mv.alt, mv.prev);
      if (!this.evaluate()) {
        this.relocate(mv.x, oa, op);
        this.evaluate();
      }
    }
  }

  /** Records the current plan if it is the best so far; true when it improved. */
  record(now: number): boolean {
    if (this.best === null || this.cost < this.best.cost) {
      this.best = this.snapshot();
      this.bestAt = now;
      this.noImprove = 0;
      return true;
    }
    return false;
  }

  /**
   * Runs until `until()` says stop (checked every few iterations) or the target is reached.
   * `incoming` may offer a better plan found elsewhere, adopted at the next restart.
   */
  run(opts: {
    until: () => boolean;
    now: () => number;
    target: number;
    incoming?: () => Solution | null;
    onImprove?: (s: Solution) => void;
  }): 'stopped' | 'target' | 'exhausted' {
    if (this.best === null) this.record(opts.now());
    for (;;) {
      if ((this.iter & this.checkMask) === 0 && opts.until()) return 'stopped';
      if (this.best && this.best.cost <= opts.target) return 'target';
      const moved = this.step();
      if (this.record(opts.now())) opts.onImprove?.(this.best as Solution);
      else this.noImprove++;
      if (!moved) return 'exhausted'; // no critical block and nothing to reassign: nothing left to try
      if (this.noImprove > this.maxNoImprove) {
        this.restarts++;
        let from = this.best as Solution;
        const other = opts.incoming?.();
        if (other && other.cost < from.cost) {
          this.best = other;
          this.bestAt = opts.now();
          from = other;
        }
        this.load(from);
        this.perturb(2 + Math.floor(this.rand() * (4 + Math.min(10, this.restarts))));
        this.noImprove = 0;
      }
    }
  }

  // ---- constructive start ---------------------------------------------------------------------

  /**
   * A dispatch-rule plan: repeatedly schedule, among the jobs' next operations, the one that can
   * finish first on its best machine; ties by priority, then by the rule (most work remaining, or
   * shortest processing time, or random).
   */
  construct(rule: 'mwkr' | 'spt' | 'random'): Solution {
    const m = this.model;
    const n = this.n;
    const alt = new Int32Array(n);
    const seq = new Int32Array(n);
    const work = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let mn = Infinity;
      for (let k = m.altStart[i]; k < m.altStart[i + 1]; k++) mn = Math.min(mn, m.altDur[k]);
      work[i] = mn + (m.js[i] >= 0 ? work[m.js[i]] : 0);
    }
    const next: number[] = [];
    for (let i = 0; i < n; i++) if (m.jp[i] < 0) next.push(i);
    const jobReady = new Float64Array(n);
    const mFree = new Float64Array(m.nMach);
    const mFam = Int32Array.from(m.initFamily);
    for (let i = 0; i < n; i++) jobReady[i] = m.lb[i];
    for (let k = 0; k < n; k++) {
      let bi = -1;
      let ba = 0;
      let bEnd = Infinity;
      let bKey = -Infinity;
      for (let t = 0; t < next.length; t++) {
        const i = next[t];
        for (let a = 0; a < m.altStart[i + 1] - m.altStart[i]; a++) {
          const mc = m.altMach[m.altStart[i] + a];
          const su = setupTime(m, mc, mFam[mc], m.family[i]);
          const st =
            fitWindow(
              m.windows[mc],
              Math.max(jobReady[i], mFree[mc] + su) - su,
              su + m.altDur[m.altStart[i] + a],
            ) + su;
          const end = st + m.altDur[m.altStart[i] + a];
          const key =
            m.priority[m.job[i]] * 1e9 +
            (rule === 'mwkr' ? work[i] : rule === 'spt' ? -m.altDur[m.altStart[i] + a] : this.rand());
          if (end < bEnd || (end === bEnd && key > bKey)) {
            bi = t;
            ba = a;
            bEnd = end;
            bKey = key;
          }
        }
      }
      const i = next[bi];
      const mc = m.altMach[m.altStart[i] + ba];
      alt[i] = ba;
      seq[k] = i;
      mFree[mc] = bEnd;
      mFam[mc] = m.family[i];
      if (m.js[i] >= 0) {
        next[bi] = m.js[i];
        jobReady[m.js[i]] = Math.max(jobReady[m.js[i]], bEnd);
      } else next.splice(bi, 1);
    }
    this.load({ alt, seq });
    return this.snapshot();
  }
}

/** Earliest b >= start such that [b, b + len) misses every window of `w` ([s0, e0, s1, e1, ...], sorted). */
export function fitWindow(w: Float64Array, start: number, len: number): number {
  if (w.length === 0) return start;
  let b = start;
  // first window whose end is after b
  let lo = 0;
  let hi = w.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (w[2 * mid + 1] <= b) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < w.length / 2; k++) {
    if (w[2 * k] >= b + len) break;
    if (w[2 * k + 1] > b) b = w[2 * k + 1];
  }
  return b;
}
