// An OpenAI-compatible HTTP API on one Program (node:http): POST /v1/chat/completions and
// /v1/completions (stream: true as server-sent events), GET /v1/models, GET /health. One generation
// runs on the GPU at a time and the others wait in a queue (a full queue answers 503); a client that
// disconnects stops its generation; bad JSON and bad parameters get 400 with an OpenAI-style error.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatTemplateOf, defaultStops, encodePrompt, generate, renderChat, type ChatMessage, type ReplyParams, type ReplyResult } from '../runtime/conversation.ts';
import { TlcError } from '../runtime/errors.ts';
import type { Program } from '../runtime/program.ts';
import { checkRunParam } from '../runtime/run-params.ts';

export interface ServeOptions {
  program: Program;
  /** The model id /v1/models lists and responses name. */
  modelName: string;
  host?: string;
  port?: number;
  /** Requests that may wait while one generates (default 16); more get 503. */
  maxQueue?: number;
  /** One line per request. */
  log?(line: string): void;
  /** Told when a generation ends (tests: a disconnected client's generation stops). */
  onGenerationEnd?(r: ReplyResult): void;
}

export interface OpenAiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type = 'invalid_request_error', readonly param: string | null = null, readonly code: string | null = null) {
    super(message);
  }
}

const MAX_BODY = 8 << 20;

export async function startOpenAiServer(opts: ServeOptions): Promise<OpenAiServer> {
  const { program } = opts;
  const maxQueue = opts.maxQueue ?? 16;
  const template = chatTemplateOf(program);
  const created = Math.floor(Date.now() / 1000);
  let running = 0;
  let waiting = 0;
  let chain: Promise<void> = Promise.resolve();

  /** Runs `fn` when the GPU is free; a full queue is a 503 at once. */
  async function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (running + waiting > maxQueue) throw new HttpError(503, `the server is busy: ${running} generating and ${waiting} waiting; try again later`, 'server_error', null, 'queue_full');
    waiting++;
    const prev = chain;
    let release!: () => void;
    chain = new Promise((r) => (release = r));
    await prev;
    waiting--;
    running++;
    try {
      return await fn();
    } finally {
      running--;
      release();
    }
  }

  const server = http.createServer((req, res) => {
    const t0 = Date.now();
    handle(req, res)
      .catch((e) => {
        const err = e instanceof HttpError ? e : e instanceof TlcError ? new HttpError(400, e.message) : new HttpError(500, `internal error: ${(e as Error).message}`, 'server_error');
        if (!res.headersSent) sendJson(res, err.status, { error: { message: err.message, type: err.type, param: err.param, code: err.code } });
        else if (!res.writableEnded) {
          res.write(`data: ${JSON.stringify({ error: { message: err.message, type: err.type, param: err.param, code: err.code } })}\n\n`);
          res.end();
        }
      })
      .finally(() => opts.log?.(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - t0} ms`));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'GET' && route === '/health') return sendJson(res, 200, { status: 'ok', model: opts.modelName, generating: running, queued: waiting });
    if (req.method === 'GET' && route === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: opts.modelName, object: 'model', created, owned_by: 'tlc' }] });
    }
    if (route === '/v1/chat/completions' || route === '/v1/completions') {
      if (req.method !== 'POST') throw new HttpError(405, `${route} takes POST`);
      const body = await readJson(req);
      return complete(route === '/v1/chat/completions' ? 'chat' : 'text', body, req, res);
    }
    throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname} (there are POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health)`, 'invalid_request_error', null, 'not_found');
  }

  async function complete(kind: 'chat' | 'text', body: Record<string, unknown>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const tok = program.tokenizer;
    if (!tok) throw new HttpError(500, 'the program has no model tokenizer', 'server_error');
    const params = sampling(body);
    let ids: number[];
    if (kind === 'chat') {
      const messages = chatMessages(body.messages);
      ids = encodePrompt(tok, renderChat(messages, tok, template));
      params.stop = [...defaultStops(template), ...(params.stop ?? [])];
    } else {
      const prompt = Array.isArray(body.prompt) && body.prompt.length === 1 ? body.prompt[0] : body.prompt;
      if (typeof prompt !== 'string') throw new HttpError(400, "'prompt': expected a string", 'invalid_request_error', 'prompt');
      ids = encodePrompt(tok, prompt);
    }
    if (ids.length >= program.ctx) {
      throw new HttpError(400, `the prompt is ${ids.length} tokens and the context holds ${program.ctx}; shorten it (or start tlc serve with a larger --ctx)`, 'invalid_request_error', kind === 'chat' ? 'messages' : 'prompt', 'context_length_exceeded');
    }
    params.max_tokens ??= program.ctx;
    const stream = body.stream === true;
    const includeUsage = stream && (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    const now = Math.floor(Date.now() / 1000);
    const object = kind === 'chat' ? (stream ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion';

    // A client that goes away stops its generation (or its place in the queue).
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });

    const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      res.write(`data: ${JSON.stringify({ id, object, created: now, model: opts.modelName, choices: [{ index: 0, ...choice }], ...extra })}\n\n`);
    // A chat reply starts at its first non-space character (a plain transcript's "Assistant:" leaves a space).
    let started = kind === 'text';
    const shown = (t: string) => {
      if (started) return t;
      const s = t.replace(/^\s+/, '');
      if (s) started = true;
      return s;
    };

    const r = await exclusive(async () => {
      if (abort.signal.aborted) return undefined;
      if (stream) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
        if (kind === 'chat') chunk({ delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
      }
      const result = await generate(program, ids, params, {
        signal: abort.signal,
        write: (t) => {
          const s = shown(t);
          if (!stream || !s || res.writableEnded) return;
          chunk(kind === 'chat' ? { delta: { content: s }, logprobs: null, finish_reason: null } : { text: s, logprobs: null, finish_reason: null });
        },
      });
      opts.onGenerationEnd?.(result);
      return result;
    });
    if (!r || abort.signal.aborted) return;
    const finish = r.finish === 'max_tokens' || r.finish === 'context' ? 'length' : 'stop';
    const usage = { prompt_tokens: r.prompt_tokens, completion_tokens: r.tokens.length, total_tokens: r.prompt_tokens + r.tokens.length };
    if (stream) {
      chunk(kind === 'chat' ? { delta: {}, logprobs: null, finish_reason: finish } : { text: '', logprobs: null, finish_reason: finish });
      if (includeUsage) res.write(`data: ${JSON.stringify({ id, object, created: now, model: opts.modelName, choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const text = kind === 'chat' ? r.reply.replace(/^\s+/, '') : r.reply;
    const choice = kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finish }
      : { index: 0, text, logprobs: null, finish_reason: finish };
    sendJson(res, 200, { id, object, created: now, model: opts.modelName, choices: [choice], usage });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `the request body is over ${MAX_BODY >> 20} MiB`);
    parts.push(c as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** The sampling parameters of a request, each checked: a bad one is a 400 that names it. */
function sampling(body: Record<string, unknown>): ReplyParams {
  const p: ReplyParams = {};
  const num = (name: string, param: keyof ReplyParams, check: (v: number) => boolean, rule: string) => {
    const v = body[name];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !check(v)) throw new HttpError(400, `'${name}': expected ${rule}, got ${JSON.stringify(v)}`, 'invalid_request_error', name);
    (p as Record<string, unknown>)[param] = v;
  };
  const rule = (name: string) => (v: number) => !('error' in checkRunParam(name, v));
  num('max_tokens', 'max_tokens', (v) => Number.isSafeInteger(v) && v >= 1, 'a whole number >= 1');
  if (p.max_tokens === undefined) num('max_completion_tokens', 'max_tokens', (v) => Number.isSafeInteger(v) && v >= 1, 'a whole number >= 1');
  num('temperature', 'temperature', (v) => Number.isFinite(v) && v >= 0 && v <= 2, 'a number from 0 to 2');
  num('top_p', 'top_p', rule('top_p'), 'a number in (0, 1]');
  num('top_k', 'top_k', rule('top_k'), 'a whole number >= 0');
  num('seed', 'seed', rule('seed'), 'a whole number from 0 to 4294967295');
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw new HttpError(400, `'n': only 1 is supported, got ${JSON.stringify(body.n)}`, 'invalid_request_error', 'n');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new HttpError(400, "'stream': expected true or false", 'invalid_request_error', 'stream');
  const stop = body.stop;
  if (stop !== undefined && stop !== null) {
    const list = typeof stop === 'string' ? [stop] : stop;
    if (!Array.isArray(list) || list.length > 4 || !list.every((s) => typeof s === 'string' && s !== '')) {
      throw new HttpError(400, "'stop': expected a string or a list of at most 4 non-empty strings", 'invalid_request_error', 'stop');
    }
    p.stop = list as string[];
  }
  return p;
}

function chatMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw new HttpError(400, "'messages': expected a non-empty list of {role, content}", 'invalid_request_error', 'messages');
  return v.map((m, i) => {
    const bad = (why: string) => new HttpError(400, `'messages[${i}]': ${why}`, 'invalid_request_error', `messages[${i}]`);
    if (typeof m !== 'object' || m === null) throw bad('expected an object {role, content}');
    const { role, content } = m as { role?: unknown; content?: unknown };
    const r = role === 'developer' ? 'system' : role;
    if (r !== 'system' && r !== 'user' && r !== 'assistant') throw bad(`role must be system, developer, user or assistant, got ${JSON.stringify(role)}`);
    let text: string;
    if (typeof content === 'string') text = content;
    else if (content === null && r === 'assistant') text = '';
    else if (Array.isArray(content) && content.every((c) => c && typeof c === 'object' && (c as { type?: unknown }).type === 'text' && typeof (c as { text?: unknown }).text === 'string')) {
      text = content.map((c) => (c as { text: string }).text).join('');
    } else throw bad('content must be a string or a list of {type: "text", text} parts');
    return { role: r, content: text };
  });
}
