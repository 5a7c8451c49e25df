/**
 * The small helper every node adaptor uses (docs/ARCHITECTURE.md "Adaptors"), so that an adaptor holds
 * only what is particular to its node:
 *
 * - `configReader(def)`: the editor's fields, each kind parsed one way with a named error
 *   (`TaktError` whose code says the kind of fault and whose `field` names the config field);
 * - `setUp(node, build)`: builds the node's engine from its config; on a bad config the node is disabled
 *   the one way every Takt node does it: red status with the error in plain words, `node.error` with the
 *   message (naming the field), and every later input ends `done(err)`;
 * - `onInput(node, handler, show)`: the input handler with `done()`/`done(err)` on every path and a red
 *   status on a refused message; `onClose(node, ...cleanups)`: close handling.
 *
 * `done(err)` gets the error's message text with its code (`readableError`), so the debug sidebar shows a
 * readable red line and a Catch node still finds `msg.error.code`.
 *
 * No Node-RED import: the node is seen through the few methods used here.
 */
import { errorMessage, TaktError } from './errors';
import { errorStatus, type NodeStatus, status } from './status';

/** What the helper needs of a Node-RED node. */
export interface AdaptorNode {
  status(s: NodeStatus): void;
  error(text: string): void;
  warn(text: string): void;
  on(
    event: 'input',
    listener: (msg: unknown, send: (m: never) => void, done: (err?: Error) => void) => void,
  ): unknown;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): unknown;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** What `readableError` gives: the message text, with the error's code and field. */
export type ReadableError = Error & { code?: string; field?: string };

/**
 * The error as Node-RED should report it: its message as text (a String object), carrying the error's
 * `code`, `field` and `message` as own properties. Node-RED shows an Error in the debug sidebar as a folded
 * object ({ name, message, code, stack }) but text as a readable red line; for a Catch node it copies
 * `msg.error.message` from the text and `msg.error.code` from an own `code`, so both stay.
 */
export function readableError(err: unknown): ReadableError {
  const e = asError(err) as ReadableError;
  const text = Object.assign(new String(e.message), { message: e.message, name: e.name }) as unknown;
  const out = text as ReadableError & Record<string, unknown>;
  if (typeof e.code === 'string') out.code = e.code;
  if (typeof e.field === 'string') out.field = e.field;
  return out;
}

/**
 * Runs `build` (reading config, making the engine). Its value is returned; on an error the node is
 * disabled (red status, node.error, every input done(err)) and undefined is returned: the adaptor then
 * returns at once.
 */
export function setUp<T>(node: AdaptorNode, build: () => T, opts: DisableOptions = {}): T | undefined {
  try {
    return build();
  } catch (err) {
    disable(node, err, opts);
    return undefined;
  }
}

/** How a node with a bad configuration shows it, where a node keeps its own way. */
export interface DisableOptions {
  /** The status to show (default: a red dot with the error's code, `errorStatus`). */
  status?: (err: Error) => NodeStatus;
  /** The error every later input ends with (default: the configuration error itself). */
  inputError?: (err: Error) => Error;
}

/** Disables a node whose configuration is bad; see `setUp`. */
export function disable(node: AdaptorNode, err: unknown, opts: DisableOptions = {}): void {
  const e = asError(err);
  node.status(opts.status ? opts.status(e) : errorStatus(e));
  node.error(errorMessage(e));
  const toInput = readableError(opts.inputError ? opts.inputError(e) : e);
  node.on('input', (_msg, _send, done) => done(toInput));
}

/** Which config node a node uses: an OPC UA endpoint, an MQTT broker, an InfluxDB server. */
export interface ConfigNodeSpec {
  /** First part of the error codes, e.g. "opcua" gives "opcua.noEndpoint" / "opcua.badEndpoint". */
  feature: string;
  /** The node's config field holding the reference, e.g. "endpoint". */
  field: string;
  /** For messages, e.g. "OPC UA endpoint". */
  label: string;
}

/**
 * What a node needs of its config node (`use`, e.g. the endpoint's connection). Throws
 * `<feature>.no<Field>` when no config node is set or found, and `<feature>.bad<Field>` with the config
 * node's own `configError` when it is there but unusable (`use` gives undefined); `field` names the
 * config field. Pair with `configNodeStatus` in `setUp`.
 */
export function requireConfigNode<N extends { configError?: string }, R>(
  n: N | null | undefined,
  use: (n: N) => R | undefined,
  spec: ConfigNodeSpec,
): R {
  const kind = spec.field.charAt(0).toUpperCase() + spec.field.slice(1);
  if (!n)
    throw new TaktError(
      `${spec.feature}.no${kind}`,
      `${spec.field}: no ${spec.label} configured`,
      spec.field,
    );
  const r = use(n);
  if (r === undefined || r === null)
    throw new TaktError(
      `${spec.feature}.bad${kind}`,
      `${spec.field}: ${n.configError ?? `the ${spec.label} configuration is invalid`}`,
      spec.field,
    );
  return r;
}

/**
 * The served models of the takt-model config node `id` (models/model.node.ts sets `server` once it serves,
 * or `configError`), as the using node sees them (`F`: anomaly/follow.ts `ChampionFeed`, learn/registry.ts
 * `QualityFeed`, models/server.ts `ChampionServer`). Throws `models.noModelNode` when no such node is set or
 * found, `models.badModelNode` with the node's `configError` when it has no server; `field` is "model".
 */
export function championFeed<F>(getNode: (id: string) => unknown, id: string | undefined): F {
  const n = id ? (getNode(id) as { server?: F; configError?: string } | null) : null;
  if (!n) throw new TaktError('models.noModelNode', 'model: choose a takt-model configuration node', 'model');
  if (!n.server)
    throw new TaktError(
      'models.badModelNode',
      `model: ${n.configError ?? 'the takt-model node is not ready'}`,
      'model',
    );
  return n.server;
}

/**
 * The status of a protocol or writer node that cannot start: a red ring, "no <field>" when its config
 * node is missing (`requireConfigNode`), "bad config" for anything else.
 */
export function configNodeStatus(err: Error): NodeStatus {
  const code = err instanceof TaktError ? err.code : '';
  const missing = err instanceof TaktError && err.field !== undefined && /\.no[A-Z]/.test(code);
  return status.disconnected(missing ? `no ${err.field}` : 'bad config');
}

/** Shows a status: a plain setter, or the `now` of a `throttledStatus`. */
export type StatusSink = ((s: NodeStatus) => void) | { now(s: NodeStatus): void };

/**
 * The node's input handler. `handler` does the work (it may return a promise); `done()` follows when it
 * returns or resolves, `done(err)` (`readableError`) with a red status saying the error in plain words when
 * it throws or rejects.
 * A handler that ends the message itself later takes `done` as its third argument and returns `'later'`;
 * that `done(err)` shows the red status too.
 */
export function onInput<M>(
  node: AdaptorNode,
  handler: (
    msg: M,
    send: (m: unknown) => void,
    done: (err?: Error) => void,
  ) => void | 'later' | Promise<void | 'later'>,
  show?: StatusSink,
): void {
  const red = (err: unknown) => {
    const s = errorStatus(err);
    if (show === undefined) node.status(s);
    else if (typeof show === 'function') show(s);
    else show.now(s);
  };
  node.on('input', (m, s, done) => {
    const msg = m as M;
    const send = s as (m: unknown) => void;
    const fail = (err: unknown) => {
      red(err);
      done(readableError(err));
    };
    let r: void | 'later' | Promise<void | 'later'>;
    try {
      r = handler(msg, send, (err) => (err ? fail(err) : done()));
    } catch (err) {
      fail(err);
      return;
    }
    if (r instanceof Promise)
      r.then((v) => {
        if (v !== 'later') done();
      }, fail);
    else if (r !== 'later') done();
  });
}

/**
 * Close handling: runs every cleanup in order (awaiting the async ones), warns about any that fails,
 * then calls Node-RED's done. Each cleanup is told whether the node was removed (not just redeployed or
 * stopped), e.g. to delete its state file.
 */
export function onClose(node: AdaptorNode, ...cleanups: ((removed: boolean) => unknown)[]): void {
  node.on('close', (removed, done) => {
    void (async () => {
      for (const c of cleanups) {
        try {
          await c(removed === true);
        } catch (err) {
          node.warn(errorMessage(err));
        }
      }
    })().finally(() => done());
  });
}

// ---------------------------------------------------------------------------------------------------------
// Config fields

export interface NumberField {
  /** Used when the field is empty ('' / undefined / null); without it an empty field is `config.missing`. */
  default?: number;
  min?: number;
  max?: number;
  /** The value must be above `min` (not equal), e.g. a period > 0. */
  exclusiveMin?: boolean;
  integer?: boolean;
}

export type DurationUnit = 'ms' | 's' | 'min' | 'h' | 'd';
const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1000, min: 60000, h: 3600000, d: 86400000 };

export interface DurationField {
  /** The unit of a bare number (the editor field's unit). */
  unit: DurationUnit;
  /** Default in the field's unit. */
  default?: number;
  /** Bounds in milliseconds. */
  minMs?: number;
  maxMs?: number;
}

export interface ListField {
  /** Item separator; default commas and new lines. */
  separator?: RegExp;
  default?: readonly string[];
  /** At least this many items (`config.tooFew`). */
  minItems?: number;
}

/** Options of a config reader. */
export interface ConfigReaderOptions {
  /**
   * Report every error with this code instead of the kind's own (a node whose existing error code users
   * and tests rely on, e.g. "prep.badConfig"). The message and field are unchanged.
   */
  code?: string;
}

const isEmpty = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/**
 * Reads the fields of a node's config (`def`) by kind; every error is a `TaktError` with a code naming the
 * kind of fault (`config.missing`, `config.notNumber`, `config.notInteger`, `config.tooSmall`,
 * `config.tooLarge`, `config.badChoice`, `config.notBoolean`, `config.badJson`, `config.badDuration`,
 * `config.tooFew`) and `field` naming the config field.
 */
export function configReader<D extends object>(def: D, options: ConfigReaderOptions = {}) {
  const raw = (field: keyof D & string): unknown => (def as Record<string, unknown>)[field];
  const fail = (code: string, field: string, text: string): never => {
    throw new TaktError(options.code ?? code, `${field}: ${text}`, field);
  };
  const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : String(v));

  function checkNumber(n: number, field: string, spec: NumberField): number {
    if (spec.integer && !Number.isInteger(n)) fail('config.notInteger', field, `${n} is not a whole number`);
    if (spec.min !== undefined && (n < spec.min || (spec.exclusiveMin && n === spec.min)))
      fail('config.tooSmall', field, `${n} must be ${spec.exclusiveMin ? 'above' : 'at least'} ${spec.min}`);
    if (spec.max !== undefined && n > spec.max)
      fail('config.tooLarge', field, `${n} must be at most ${spec.max}`);
    return n;
  }

  function toNumber(v: unknown, field: string): number {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (!Number.isFinite(n)) fail('config.notNumber', field, `${show(v)} is not a number`);
    return n;
  }

  return {
    /** A number (numeric text accepted); empty gives the default, or `config.missing` without one. */
    number(field: keyof D & string, spec: NumberField = {}): number {
      const v = raw(field);
      if (isEmpty(v)) {
        if (spec.default === undefined) return fail('config.missing', field, 'a number is required');
        return spec.default;
      }
      return checkNumber(toNumber(v, field), field, spec);
    },

    /** A number, or undefined when the field is empty. */
    optionalNumber(field: keyof D & string, spec: Omit<NumberField, 'default'> = {}): number | undefined {
      const v = raw(field);
      return isEmpty(v) ? undefined : checkNumber(toNumber(v, field), field, spec);
    },

    /** One of `choices`; empty gives `dflt` (or `config.missing` without one). */
    choice<const C extends string>(field: keyof D & string, choices: readonly C[], dflt?: NoInfer<C>): C {
      const v = raw(field);
      if (isEmpty(v)) {
        if (dflt === undefined) return fail('config.missing', field, `choose one of ${choices.join(', ')}`);
        return dflt;
      }
      // A number or boolean field matches its text ("qos": 1 is the choice "1").
      const key = typeof v === 'string' ? v.trim() : String(v);
      const found = choices.find((c) => c === key);
      if (found === undefined)
        return fail('config.badChoice', field, `${show(v)} is not one of ${choices.join(', ')}`);
      return found;
    },

    /** true/false, also as text ("true"/"false"); empty gives `dflt`. */
    boolean(field: keyof D & string, dflt: boolean): boolean {
      const v = raw(field);
      if (isEmpty(v)) return dflt;
      if (typeof v === 'boolean') return v;
      if (v === 'true') return true;
      if (v === 'false') return false;
      return fail('config.notBoolean', field, `${show(v)} is not true or false`);
    },

    /** Text, trimmed; empty gives `dflt` (or `config.missing` without one). */
    string(field: keyof D & string, dflt?: string): string {
      const v = raw(field);
      if (isEmpty(v)) {
        if (dflt === undefined) return fail('config.missing', field, 'is required');
        return dflt;
      }
      return String(v).trim();
    },

    /**
     * JSON text (or an already parsed value); empty gives `dflt` (or `config.missing`). `check` may
     * refuse the parsed value by returning a reason (`config.badJson`).
     */
    json<T>(
      field: keyof D & string,
      dflt?: T,
      check?: (v: unknown) => string | undefined,
      example?: string,
    ): T {
      const v = raw(field);
      if (isEmpty(v)) {
        if (dflt === undefined) return fail('config.missing', field, 'JSON is required');
        return dflt;
      }
      let parsed: unknown = v;
      if (typeof v === 'string')
        try {
          parsed = JSON.parse(v);
        } catch {
          return fail('config.badJson', field, `not valid JSON${example ? `, e.g. ${example}` : ''}`);
        }
      const why = check?.(parsed);
      if (why !== undefined) return fail('config.badJson', field, why);
      return parsed as T;
    },

    /**
     * A duration in milliseconds: a bare number in the field's `unit`, or a number with its own unit
     * ("250ms", "30 s", "5min", "2h", "1d").
     */
    duration(field: keyof D & string, spec: DurationField): number {
      const v = raw(field);
      let ms: number;
      if (isEmpty(v)) {
        if (spec.default === undefined) return fail('config.missing', field, 'a duration is required');
        ms = spec.default * UNIT_MS[spec.unit];
      } else {
        const m = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(ms|s|min|h|d)?\s*$/i.exec(String(v));
        if (!m || typeof v === 'boolean')
          return fail('config.badDuration', field, `${show(v)} is not a duration (e.g. 30, 250ms, 5min)`);
        const unit = (m[2]?.toLowerCase() ?? spec.unit) as DurationUnit;
        ms = Number(m[1]) * UNIT_MS[unit];
      }
      if (spec.minMs !== undefined && ms < spec.minMs)
        fail('config.tooSmall', field, `${ms} ms must be at least ${spec.minMs} ms`);
      if (spec.maxMs !== undefined && ms > spec.maxMs)
        fail('config.tooLarge', field, `${ms} ms must be at most ${spec.maxMs} ms`);
      return ms;
    },

    /** A list of non-empty trimmed items (commas or new lines by default). */
    list(field: keyof D & string, spec: ListField = {}): string[] {
      const v = raw(field);
      const items = Array.isArray(v)
        ? v.map((x) => String(x).trim()).filter((x) => x !== '')
        : isEmpty(v)
          ? [...(spec.default ?? [])]
          : String(v)
              .split(spec.separator ?? /[,\r\n]+/)
              .map((x) => x.trim())
              .filter((x) => x !== '');
      if (spec.minItems !== undefined && items.length < spec.minItems)
        fail('config.tooFew', field, `needs at least ${spec.minItems} item${spec.minItems === 1 ? '' : 's'}`);
      return items;
    },
  };
}

export type ConfigReader<D extends object> = ReturnType<typeof configReader<D>>;
