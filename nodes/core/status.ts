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

/** A red dot naming the error's code (the full text goes to done(err)). */
export function errorStatus(err: unknown): NodeStatus {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const text = code !== '' ? code.replace(/^[a-z]+\./, '') : err instanceof Error ? err.message : String(err);
  return status.error(text);
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
