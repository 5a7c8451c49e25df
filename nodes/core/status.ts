/**
 * Node status in one place (STYLE.md section F). Used by node adaptors only; engines never set status.
 * Texts are kept under 20 characters as the Node-RED docs ask.
 */
export type StatusFill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export type StatusShape = 'ring' | 'dot';

export interface NodeStatus {
  fill?: StatusFill;
  shape?: StatusShape;
  text?: string;
}

const MAX = 19;

/** Shortens a status text to Node-RED's suggested length, marking the cut with an ellipsis. */
export function clip(text: string): string {
  return text.length <= MAX ? text : `${text.slice(0, MAX - 1)}…`;
}

const make =
  (fill: StatusFill, shape: StatusShape) =>
  (text: string): NodeStatus => ({ fill, shape, text: clip(text) });

export const status = {
  ready: make('green', 'dot'),
  connected: make('green', 'dot'),
  connecting: make('yellow', 'ring'),
  warning: make('yellow', 'dot'),
  disconnected: make('red', 'ring'),
  error: make('red', 'dot'),
  busy: make('blue', 'dot'),
  idle: make('grey', 'ring'),
  clear: (): NodeStatus => ({}),
};

/**
 * Plain words for the error codes whose split name reads badly, keyed by the code without its feature
 * (`notNumeric`) or, where one feature means something else, by the whole code (`energy.cannotFit`).
 * Every other code reads as its split name: `badTimeLimit` is "bad time limit".
 */
export const ERROR_WORDS: Readonly<Record<string, string>> = {
  notNumeric: 'not a number',
  notNumber: 'not a number',
  notFinite: 'not a number',
  'energy.cannotFit': 'load too long',
  'energy.cycle': 'loads in a cycle',
  notOnnx: 'not an ONNX model',
  noZone: 'no time zone',
  badTimestamp: 'bad time',
  csv: 'bad CSV',
  noR2R: 'no run-to-run',
  noSeq: 'no sequence',
  badUrl: 'bad URL',
  badApi: 'bad API',
  badTls: 'bad TLS',
  badClientId: 'bad client ID',
  badRoi: 'bad ROI',
  badSparkplugId: 'bad Sparkplug ID',
  badIdent: 'bad name',
  tsRange: 'time out of range',
  internal: 'internal error',
  bad: 'bad message',
  batch: 'batch not allowed',
  unknown: 'unknown request',
  full: 'too many waiting',
  nothing: 'nothing to write',
  newline: 'line break in text',
  signature: 'bad signature',
  worse: 'model is worse',
  gap: 'gap in data',
  constant: 'constant data',
  empty: 'no data',
  broken: 'log broken',
  corrupt: 'corrupt file',
  backwards: 'time went back',
  // System errors (Node's err.code)
  ECONNREFUSED: 'refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EADDRINUSE: 'port in use',
  EACCES: 'no permission',
  ENOENT: 'file not found',
};

/**
 * The short plain words a status shows for an error code ("sample.notNumeric" is "not a number"); a code
 * that is no Takt code (`feature.name`) and not in the table (a system code such as "EPIPE") is shown as is.
 */
export function errorWords(code: string): string {
  const name = code.slice(code.lastIndexOf('.') + 1);
  const known = ERROR_WORDS[code] ?? ERROR_WORDS[name];
  if (known !== undefined) return known;
  if (!/^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/.test(code)) return code;
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .toLowerCase();
}

/**
 * A red dot saying what is wrong in plain words: the error code's words, then what it is about when the
 * error names it ("unknown machine M9"); an error without a code shows its message. The full text goes to
 * done(err).
 */
export function errorStatus(err: unknown): NodeStatus {
  const e = typeof err === 'object' && err !== null ? (err as { code?: unknown; subject?: unknown }) : {};
  if (typeof e.code === 'string' && e.code !== '') {
    const words = errorWords(e.code);
    return status.error(typeof e.subject === 'string' && e.subject !== '' ? `${words} ${e.subject}` : words);
  }
  return status.error(err instanceof Error ? err.message : String(err));
}

/**
 * Whether a running count of drops deserves a log line: the 1st, 10th, 100th, ... (a node that drops at plant
 * rates says so without flooding the log; the status carries the exact count).
 */
export function logWorthy(count: number): boolean {
  if (!Number.isInteger(count) || count < 1) return false;
  let n = count;
  while (n % 10 === 0) n /= 10;
  return n === 1;
}

/**
 * Wraps a status setter so that bursts of updates reach the editor at most once per `intervalMs`
 * (the last one wins). Per-message status would flood the editor's comms link at plant data rates.
 * `flush()` shows a pending update at once; `dispose()` cancels the timer (call it from `close`).
 */
export function throttledStatus(set: (s: NodeStatus) => void, intervalMs = 1000) {
  // A pending update may be a function, evaluated only when shown: building the text (i18n, number
  // formatting) per message would cost more than the node's own work.
  let pending: NodeStatus | (() => NodeStatus) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  const flush = () => {
    timer = undefined;
    if (pending) {
      set(typeof pending === 'function' ? pending() : pending);
      pending = undefined;
      last = Date.now();
    }
  };
  return {
    update(s: NodeStatus | (() => NodeStatus)): void {
      pending = s;
      const wait = intervalMs - (Date.now() - last);
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    /** Shows `s` now (e.g. an error), dropping any pending update. */
    now(s: NodeStatus): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
      set(s);
      last = Date.now();
    },
    flush,
    dispose(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}
