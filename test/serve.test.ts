// `tlc serve` (cli/openai-server.ts) with the official openai client: chat completions streamed and
// not, completions, /v1/models, 400s with OpenAI-style bodies, a full queue's 503, and a client that
// disconnects stopping its generation. A synthetic model, so it always runs.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { build } from '../compiler/artifact.ts';
import { modelInfo } from '../compiler/model-info.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { CONVERSATION_TL, type ReplyResult } from '../runtime/conversation.ts';
import { readGguf } from '../runtime/gguf.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { Program } from '../runtime/program.ts';
import { startOpenAiServer, type OpenAiServer } from '../cli/openai-server.ts';
import { testGpu } from './support/gpu.ts';

describe('tlc serve: an OpenAI-compatible API', function () {
  this.timeout(120_000);
  let program: Program;
  let server: OpenAiServer;
  let client: OpenAI;
  const ended: ReplyResult[] = [];
  let onEnd: ((r: ReplyResult) => void) | undefined;

  before(async () => {
    const src = bytesSource(synthLlama({ layers: 1, embd: 32, heads: 2, vocab: 300, ctx: 4096, seed: 9 }), 'synthetic.gguf');
    const file = await readGguf(src);
    program = await Program.load(await testGpu(), build(CONVERSATION_TL, 'conversation.tl', modelInfo(file)), src, { file, ctx: 4096 });
    server = await startOpenAiServer({ program, modelName: 'synthetic', port: 0, maxQueue: 0, onGenerationEnd: (r) => (ended.push(r), onEnd?.(r)) });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'binds loopback by default');
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
  });
  after(async () => {
    await server?.close();
    program?.destroy();
  });

  it('lists the model and answers /health', async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['synthetic']);
    const health = await (await fetch(`${server.url}/health`)).json();
    assert.equal(health.status, 'ok');
  });

  it('a chat completion, not streamed', async () => {
    const r = await client.chat.completions.create({ model: 'synthetic', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }], max_tokens: 6, temperature: 0, seed: 1 });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(typeof r.choices[0].message.content, 'string');
    assert.ok(['length', 'stop'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage!.prompt_tokens > 5);
    assert.ok(r.usage!.completion_tokens >= 1 && r.usage!.completion_tokens <= 6);
  });

  it('a chat completion streamed as server-sent events gives the same text', async () => {
    const req = { model: 'synthetic', messages: [{ role: 'user' as const, content: 'Tell me a story' }], max_tokens: 8, temperature: 0 };
    const whole = await client.chat.completions.create(req);
    const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = '', finish: string | null = null, usage;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.deepEqual(usage, whole.usage);
  });

  it('a completion, streamed and not, with stop texts', async () => {
    const r = await client.completions.create({ model: 'synthetic', prompt: 'Once upon a time', max_tokens: 10, temperature: 0 });
    assert.equal(r.object, 'text_completion');
    const text = r.choices[0].text;
    assert.ok(text.length > 0);
    let streamed = '';
    for await (const c of await client.completions.create({ model: 'synthetic', prompt: 'Once upon a time', max_tokens: 10, temperature: 0, stream: true })) streamed += c.choices[0]?.text ?? '';
    assert.equal(streamed, text);
    // A stop text ends the reply before it.
    const stop = text.slice(2, 4);
    if (stop.length === 2 && !/\uFFFD/.test(stop)) {
      const s = await client.completions.create({ model: 'synthetic', prompt: 'Once upon a time', max_tokens: 10, temperature: 0, stop: [stop] });
      assert.equal(s.choices[0].text, text.slice(0, text.indexOf(stop)));
      assert.equal(s.choices[0].finish_reason, 'stop');
    }
  });

  it('bad JSON and bad parameters get 400 with an OpenAI-style error', async () => {
    const post = (body: string) => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const r1 = await post('{"messages": [');
    assert.equal(r1.status, 400);
    const e1 = await r1.json();
    assert.equal(e1.error.type, 'invalid_request_error');
    assert.match(e1.error.message, /not valid JSON/);
    for (const [body, param] of [
      [{ messages: [{ role: 'user', content: 'hi' }], temperature: -1 }, 'temperature'],
      [{ messages: [{ role: 'user', content: 'hi' }], top_p: 2 }, 'top_p'],
      [{ messages: [{ role: 'user', content: 'hi' }], max_tokens: 'ten' }, 'max_tokens'],
      [{ messages: [{ role: 'user', content: 'hi' }], seed: -3 }, 'seed'],
      [{ messages: [{ role: 'user', content: 'hi' }], stop: [1] }, 'stop'],
      [{ messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0]'],
      [{ messages: [] }, 'messages'],
    ] as const) {
      const r = await post(JSON.stringify(body));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((await r.json()).error.param, param);
    }
    // The openai client raises it as a BadRequestError.
    await assert.rejects(client.chat.completions.create({ model: 'synthetic', messages: [{ role: 'user', content: 'hi' }], temperature: 9 }), (e: unknown) => e instanceof OpenAI.BadRequestError && /temperature/.test(e.message));
    assert.equal((await fetch(`${server.url}/v1/nothing`)).status, 404);
  });

  it('a client that disconnects stops its generation; meanwhile a full queue answers 503', async () => {
    const abort = new AbortController();
    const done = new Promise<ReplyResult>((resolve) => (onEnd = resolve));
    const stream = await client.chat.completions.create({ model: 'synthetic', messages: [{ role: 'user', content: 'Go on forever' }], max_tokens: 3000, temperature: 0.8, seed: 3, stream: true }, { signal: abort.signal });
    let chunks = 0;
    try {
      for await (const c of stream) {
        if (c.choices[0]?.delta.content) chunks++;
        if (chunks === 3) {
          // One generation runs and the queue holds none (maxQueue 0): another request is turned away.
          const busy = await fetch(`${server.url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'x', max_tokens: 1 }) });
          assert.equal(busy.status, 503);
          assert.equal((await busy.json()).error.code, 'queue_full');
          abort.abort();
        }
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    }
    const r = await done;
    onEnd = undefined;
    assert.equal(r.stopped_by, 'stopped');
    assert.ok(r.tokens.length < 3000, `stopped after ${r.tokens.length} tokens`);
    // The server takes the next request.
    const next = await client.completions.create({ model: 'synthetic', prompt: 'Hi', max_tokens: 2, temperature: 0 });
    assert.ok(next.choices[0].text !== undefined);
  });
});
