/**
 * The view model of the inspection widget (takt-ui-inspection), kept on the runtime side: the last part
 * judged by takt-vision with its heat map and defect boxes, the counts behind the reject rate, and a gallery
 * of recent 'ng' and 'doubt' parts waiting for a person to confirm (a real defect) or overrule (a good part).
 * A decision becomes a takt-model-ops feedback message: `{ action: 'feedback', payload: { key, label } }`
 * with label 'fault' (confirmed) or 'falseAlarm' (overruled). No Node-RED import.
 */
import { TaktError } from '../core/errors';

export type Verdict = 'ok' | 'ng' | 'doubt';
export type Decision = 'confirm' | 'overrule';

export interface PartBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One judged part as the widget draws it. */
export interface PartView {
  /** The key feedback refers to (msg.key, else the camera's part number, else the message id). */
  key: string;
  /** Epoch ms the part was judged (or the camera's time when the message carries one). */
  ts: number;
  verdict: Verdict;
  score: number;
  threshold: number;
  /** The heat map overlay as a data URL (image/png), or '' when takt-vision sent none. */
  image: string;
  /** Width and height of the image the boxes refer to (source pixels). */
  width: number;
  height: number;
  defects: PartBox[];
  /** Ground truth when the message carries one (the simulator's camera): the defect kind, or 'good'. */
  truth?: string;
}

export interface InspectionView {
  last: PartView | null;
  total: number;
  ng: number;
  doubt: number;
  /** ng / total (0 before the first part). */
  rejectRate: number;
  /** Recent ng and doubt parts waiting for a decision, newest first. */
  gallery: PartView[];
  /** Decisions taken so far. */
  confirmed: number;
  overruled: number;
}

/** What a message from takt-vision carries (the fields read here). */
export interface JudgedMessage {
  _msgid?: unknown;
  key?: unknown;
  ts?: unknown;
  vision?: unknown;
  part?: unknown;
}

export interface FeedbackMessage {
  action: 'feedback';
  payload: { key: string; label: 'fault' | 'falseAlarm' };
  user: string;
  /** The part as it was judged, with the decision. */
  inspection: { key: string; verdict: Verdict; score: number; decision: Decision };
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function bad(text: string): never {
  throw new TaktError('inspection.badMessage', text, 'vision');
}

function pngDataUrl(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (v instanceof Uint8Array) return `data:image/png;base64,${Buffer.from(v).toString('base64')}`;
  // A Buffer that went through JSON (a link or a file): { type: 'Buffer', data: [...] }.
  if (isObj(v) && v.type === 'Buffer' && Array.isArray(v.data))
    return `data:image/png;base64,${Buffer.from(v.data as number[]).toString('base64')}`;
  return bad('vision.heatmap: must be PNG bytes');
}

/** Reads one takt-vision message into a part view; throws `inspection.badMessage` naming what is wrong. */
export function readJudged(msg: JudgedMessage, now: number): PartView {
  const v = msg.vision;
  if (!isObj(v)) bad('vision: the message has no msg.vision (wire takt-vision to this widget)');
  const verdict = v.verdict;
  if (verdict !== 'ok' && verdict !== 'ng' && verdict !== 'doubt')
    bad(`vision.verdict: ${String(verdict)} is not ok, ng or doubt`);
  const score = num(v.score);
  const threshold = num(v.threshold);
  if (score === undefined || threshold === undefined)
    bad('vision.score and vision.threshold must be numbers');
  const size = isObj(v.image) ? v.image : {};
  const defects = (Array.isArray(v.defects) ? v.defects : []).filter(isObj).map((d) => ({
    x: num(d.x) ?? 0,
    y: num(d.y) ?? 0,
    w: num(d.w) ?? 0,
    h: num(d.h) ?? 0,
  }));
  const part = isObj(msg.part) ? msg.part : undefined;
  const key =
    msg.key !== undefined && msg.key !== null && msg.key !== ''
      ? String(msg.key)
      : part && num(part.part) !== undefined
        ? `part-${String(part.part)}`
        : String(msg._msgid ?? now);
  const view: PartView = {
    key,
    ts: num(part?.ts) ?? num(msg.ts) ?? now,
    verdict,
    score,
    threshold,
    image: pngDataUrl(v.heatmap),
    width: num(size.width) ?? 0,
    height: num(size.height) ?? 0,
    defects,
  };
  if (part && 'defect' in part)
    view.truth = isObj(part.defect) && typeof part.defect.kind === 'string' ? part.defect.kind : 'good';
  return view;
}

/** The widget's state: counts, the last part and the gallery waiting for decisions. */
export class InspectionBoard {
  private last: PartView | null = null;
  private gallery: PartView[] = [];
  private total = 0;
  private ng = 0;
  private doubt = 0;
  private confirmed = 0;
  private overruled = 0;

  /** `keep`: how many ng and doubt parts the gallery holds (the oldest undecided one leaves first). */
  constructor(readonly keep = 8) {
    if (!(Number.isInteger(keep) && keep >= 1)) throw new RangeError(`gallery size ${keep}`);
  }

  take(part: PartView): void {
    this.total++;
    if (part.verdict === 'ng') this.ng++;
    if (part.verdict === 'doubt') this.doubt++;
    this.last = part;
    if (part.verdict !== 'ok') {
      this.gallery = [part, ...this.gallery.filter((p) => p.key !== part.key)].slice(0, this.keep);
    }
  }

  /** A person's decision on a gallery part: leaves the gallery and becomes takt-model-ops feedback. */
  decide(key: unknown, decision: unknown, user: string): FeedbackMessage {
    if (decision !== 'confirm' && decision !== 'overrule')
      throw new TaktError(
        'inspection.badDecision',
        `decision: ${String(decision)} is not confirm or overrule`,
      );
    const part = this.gallery.find((p) => p.key === String(key));
    if (!part)
      throw new TaktError(
        'inspection.unknownPart',
        `key: no part "${String(key)}" waits for a decision (decided already, or left the gallery)`,
      );
    this.gallery = this.gallery.filter((p) => p !== part);
    if (decision === 'confirm') this.confirmed++;
    else this.overruled++;
    return {
      action: 'feedback',
      payload: { key: part.key, label: decision === 'confirm' ? 'fault' : 'falseAlarm' },
      user,
      inspection: { key: part.key, verdict: part.verdict, score: part.score, decision },
    };
  }

  view(): InspectionView {
    return {
      last: this.last,
      total: this.total,
      ng: this.ng,
      doubt: this.doubt,
      rejectRate: this.total ? this.ng / this.total : 0,
      gallery: this.gallery,
      confirmed: this.confirmed,
      overruled: this.overruled,
    };
  }
}
