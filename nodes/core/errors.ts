/**
 * Errors that engines throw. Engines never translate text (no i18n, no Node-RED): they throw a
 * `TaktError` with a stable `code` and a plain English message naming the offending field; adaptors
 * show the code in plain words in the node status (core/status.ts `errorStatus`) and pass the message to
 * `done` (core/adaptor.ts `readableError`).
 */
export class TaktError extends Error {
  /** Stable, machine-readable code such as `"sample.badTimestamp"`. */
  readonly code: string;
  /** Where the problem is, e.g. the message property or the config field. */
  readonly field?: string;
  /** What the error is about, short, for the status: the machine of "unknown machine M9". */
  readonly subject?: string;

  constructor(code: string, message: string, field?: string, subject?: string) {
    super(message);
    this.name = 'TaktError';
    this.code = code;
    if (field !== undefined) this.field = field;
    if (subject !== undefined) this.subject = subject;
  }
}

/** The text of anything thrown, for logs and status. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
