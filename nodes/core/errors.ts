/**
 * Errors that engines throw. Engines never translate text (no i18n, no Node-RED): they throw a
 * `TaktError` with a stable `code` and a plain English message naming the offending field; adaptors
 * pass it to `done(err)` and show the code in the node status.
 */
export class TaktError extends Error {
  /** Stable, machine-readable code such as `"sample.badTimestamp"`. */
  readonly code: string;
  /** Where the problem is, e.g. the message property or the config field. */
  readonly field?: string;

  constructor(code: string, message: string, field?: string) {
    super(message);
    this.name = 'TaktError';
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

/** The text of anything thrown, for logs and status. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
