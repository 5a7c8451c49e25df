/**
 * takt-influx-query: reads history back from InfluxDB (v1: InfluxQL, v2: Flux) for training, backtests and
 * dashboards, streaming the result in chunks: one message per chunk with msg.payload as samples, aligned
 * rows or CSV, and msg.chunk = { index, last, rows }. Time range, measurement, tags, raw query and params
 * come from the message or the config; parameters are bound, never pasted into the query (see ./query).
 */
import type { Node, NodeDef, NodeInitializer, NodeMessageInFlow } from 'node-red';
import { configNodeStatus, configReader, onInput, requireConfigNode, setUp } from '../core/adaptor';
import { TaktError } from '../core/errors';
import { status } from '../core/status';
import { parseLevels } from './mapping';
import { queryV1, queryV2, type QueryOutput, type QueryRequest, toCsv, toRows, toSamples } from './query';
import type { InfluxServerNode } from './server-types';
import { isRecord } from '../core/message';

interface QueryDef extends NodeDef {
  server: string;
  start?: string;
  stop?: string;
  measurement?: string;
  fields?: string;
  tags?: string;
  raw?: string;
  output?: QueryOutput;
  chunkSize?: string | number;
  levels?: string;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;

/** "line=l1, cell=c2" -> { line: 'l1', cell: 'c2' } */
function parseTags(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new TaktError('influx.badTags', `tags: "${part}" is not name=value`, 'tags');
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function request(def: QueryDef, chunkSize: number, msg: Msg): QueryRequest {
  const str = (v: unknown, name: string) => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new TaktError('influx.badQuery', `${name}: must be text or a number`, name);
    return v;
  };
  const tags = msg.tags !== undefined ? msg.tags : parseTags(def.tags ?? '');
  if (!isRecord(tags)) throw new TaktError('influx.badTags', 'tags: msg.tags must be an object', 'tags');
  const params = msg.params;
  if (params !== undefined && !isRecord(params))
    throw new TaktError('influx.badParam', 'params: must be an object', 'params');
  const fields =
    msg.fields ??
    (def.fields ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string')) {
    throw new TaktError('influx.badQuery', 'fields: must be an array of names', 'fields');
  }
  const stop = str(msg.stop, 'stop') ?? (def.stop || undefined);
  const measurement = str(msg.measurement, 'measurement') ?? def.measurement;
  const raw = str(msg.query, 'query') ?? def.raw;
  return {
    start: str(msg.start, 'start') ?? (def.start || '-1h'),
    ...(stop !== undefined ? { stop } : {}),
    ...(measurement ? { measurement: String(measurement) } : {}),
    fields: fields as string[],
    tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)])),
    ...(raw ? { raw: String(raw) } : {}),
    ...(params ? { params: params as Record<string, string | number | boolean> } : {}),
    chunkSize,
  };
}

const init: NodeInitializer = (RED) => {
  function InfluxQuery(this: Node, def: QueryDef) {
    RED.nodes.createNode(this, def);
    const set = setUp(
      this,
      () => {
        const cfg = configReader(def);
        return {
          srv: requireConfigNode(RED.nodes.getNode(def.server) as InfluxServerNode | null, (n) => n.server, {
            feature: 'influx',
            field: 'server',
            label: 'InfluxDB server',
          }),
          output: cfg.choice<QueryOutput>('output', ['samples', 'rows', 'csv'], 'samples'),
          levels: parseLevels(cfg.string('levels', 'enterprise/site/area/line/cell/measurement')),
          chunkSize: Math.max(1, Math.round(cfg.number('chunkSize', { default: 10000, min: 1 }))),
        };
      },
      { status: configNodeStatus },
    );
    if (!set) return;
    const { srv, output, levels, chunkSize } = set;
    let running = 0;

    onInput<Msg>(this, async (msg, send) => {
      running++;
      this.status(status.busy(`querying (${running})`));
      try {
        const req = request(def, chunkSize, msg);
        const stream = srv.api === 'v1' ? queryV1(srv, req) : queryV2(srv, req);
        let index = 0;
        let total = 0;
        let columns: string[] | undefined;
        let prev: Msg | undefined;
        for await (const chunk of stream) {
          let payload: unknown;
          let rows = 0;
          if (output === 'samples') {
            const s = toSamples(chunk, levels);
            rows = s.length;
            payload = s;
          } else {
            const r = toRows(chunk);
            rows = r.length;
            if (output === 'rows') payload = r;
            else {
              columns ??= [...new Set(r.flatMap((x) => Object.keys(x)))];
              payload = toCsv(r, columns, index === 0);
            }
          }
          // Each chunk is sent once the next one has arrived, so that the last one can say it is last.
          if (prev) send(prev);
          total += rows;
          prev = { ...msg, payload, chunk: { index: index++, last: false, rows } };
        }
        const last: Msg = prev ?? {
          ...msg,
          payload: output === 'csv' ? '' : [],
          chunk: { index: 0, last: true, rows: 0 },
        };
        (last.chunk as { last: boolean }).last = true;
        send(last);
        this.status(status.ready(`${total} rows`));
      } finally {
        running--;
      }
    });
  }
  RED.nodes.registerType('takt-influx-query', InfluxQuery);
};

export = init;
