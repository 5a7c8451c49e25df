/**
 * A fake OpenAI-compatible chat-completions server on loopback, for the assistant's language-model tests and
 * the safety bench: each request is answered by a script (a tool call, words, malformed JSON, an HTTP error
 * or silence), so every failure a real model can show is reproducible without a model.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake answers: a parsed body (sent as JSON), raw text, a status, or nothing for `delayMs`. */
export interface FakeReply {
  status?: number;
  body?: unknown;
  raw?: string;
  delayMs?: number;
}
export type FakeScript = (request: Record<string, unknown>) => FakeReply;

export interface FakeLlm {
  url: string;
  requests: Record<string, unknown>[];
  /** Replaces the script. */
  script(s: FakeScript): void;
  close(): Promise<void>;
}

/** A chat-completions answer with these tool calls ([name, arguments as object or raw text]). */
export function toolCalls(...calls: [string, unknown][]): Record<string, unknown> {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: calls.map(([name, args], i) => ({
            id: `call_${i}`,
            type: 'function',
            function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
          })),
        },
      },
    ],
  };
}

/** A chat-completions answer in words (no tool call). */
export function words(text: string): Record<string, unknown> {
  return { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: text } }] };
}

export async function startFakeLlm(first: FakeScript = () => ({ body: words('hello') })): Promise<FakeLlm> {
  let script = first;
  const requests: Record<string, unknown>[] = [];
  const open = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // the request itself is under test too: keep it empty
      }
      requests.push({ ...body, _path: req.url, _auth: req.headers.authorization });
      const r = script(body);
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
        res.end(r.raw ?? JSON.stringify(r.body ?? {}));
      };
      if (r.delayMs) setTimeout(answer, r.delayMs).unref();
      else answer();
    });
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (s) => {
      script = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
