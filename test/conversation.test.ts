// Multi-turn chat on a Program (runtime/conversation.ts): the KV cache kept across turns (the second
// turn reads only its own tokens), the context policy, stop texts. Synthetic models: always runs.
import assert from 'node:assert/strict';
import { build } from '../compiler/artifact.ts';
import { modelInfo } from '../compiler/model-info.ts';
import { bytesSource } from '../runtime/bytes.ts';
import { CONVERSATION_TL, Conversation, encodePrompt, generate, renderChat, StopFilter } from '../runtime/conversation.ts';
import { readGguf } from '../runtime/gguf.ts';
import { synthLlama } from '../runtime/gguf-writer.ts';
import { Program } from '../runtime/program.ts';
import { testGpu } from './support/gpu.ts';

async function loadConversationProgram(bytes: Uint8Array, ctx?: number): Promise<Program> {
  const src = bytesSource(bytes, 'synthetic.gguf');
  const file = await readGguf(src);
  return Program.load(await testGpu(), build(CONVERSATION_TL, 'conversation.tl', modelInfo(file)), src, { file, ctx });
}

describe('conversations (runtime/conversation.ts)', function () {
  this.timeout(120_000);
  const bytes = synthLlama({ layers: 2, embd: 64, heads: 4, kvHeads: 2, vocab: 320, ctx: 512, seed: 5 });
  let program: Program;
  before(async () => {
    program = await loadConversationProgram(bytes);
  });
  after(() => program?.destroy());

  it('renders a plain User:/Assistant: transcript for a model without a chat template', () => {
    const text = renderChat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: ' Hello.' }, { role: 'user', content: 'Bye' }], program.tokenizer!, undefined);
    assert.equal(text, 'System: Be brief.\nUser: Hi\nAssistant: Hello.\nUser: Bye\nAssistant:');
  });

  it("renders the model's chat template, and a template that writes BOS gets no second one", () => {
    const tmpl = "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    const tok = program.tokenizer!;
    const text = renderChat([{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }], tok, tmpl);
    assert.equal(text, '<s><|system|>S</s><|user|>Hi</s><|assistant|>');
    const ids = encodePrompt(tok, text);
    assert.equal(ids[0], tok.bos);
    assert.notEqual(ids[1], tok.bos);
  });

  it('a two-turn chat: the second turn reads only its own tokens, and replies as a fresh run would', async () => {
    const chat = new Conversation(program, { system: 'You tell stories.' });
    let streamed = '';
    const t1 = await chat.say('Tell me a story about a girl.', { write: (t) => (streamed += t) }, { max_tokens: 12, temperature: 0 });
    assert.equal(t1.finish, 'max_tokens');
    assert.equal(streamed, t1.reply);
    assert.equal(t1.prompt_read, t1.prompt_tokens, 'the first turn reads its whole prompt');
    const t2 = await chat.say('What was her name?', { write: () => {} }, { max_tokens: 12, temperature: 0 });
    // The last turn's prompt and reply come from the KV cache; the reply's last sampled token was never
    // fed back (the loop ended), so it is read with the new turn's tokens.
    assert.equal(t2.prompt_tokens, t1.prompt_tokens + t1.tokens.length + t2.new_tokens);
    assert.equal(t2.prompt_read, t2.new_tokens + 1, `read ${t2.prompt_read} of ${t2.prompt_tokens} prompt tokens; the turn added ${t2.new_tokens}`);
    assert.ok(t2.prompt_read < t2.prompt_tokens / 2);
    assert.deepEqual(chat.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);

    // The same prompt on a fresh program (nothing cached) is read whole, and gives the same reply.
    const fresh = await loadConversationProgram(bytes);
    try {
      const r = await generate(fresh, t2.ids, { max_tokens: 12, temperature: 0, stop: ['\nUser:', '\nSystem:'] }, { write: () => {} });
      assert.equal(r.prompt_read, r.prompt_tokens);
      assert.deepEqual(r.tokens, t2.tokens);
    } finally {
      fresh.destroy();
    }
  });

  it('drops the oldest turns when the conversation outgrows the context, keeps the system prompt, and says so', async () => {
    const small = await loadConversationProgram(bytes, 96);
    try {
      const notices: string[] = [];
      const chat = new Conversation(small, { system: 'Sys.', notice: (m) => notices.push(m) });
      let dropped = 0;
      for (let i = 0; i < 6; i++) {
        const r = await chat.say(`Message number ${i}.`, { write: () => {} }, { max_tokens: 8, temperature: 0 });
        assert.ok(r.prompt_tokens + r.tokens.length <= 96);
        dropped += r.dropped_turns;
      }
      assert.ok(dropped > 0, 'some turns were dropped');
      assert.equal(notices.length > 0, true);
      assert.match(notices[0], /longer than the context \(96 tokens\): dropped the oldest/);
      assert.equal(chat.system, 'Sys.');
      assert.equal(chat.messages[0].role, 'user');
      assert.notEqual(chat.messages[0].content, 'Message number 0.');
      assert.equal(chat.messages.at(-2)!.content, 'Message number 5.');
    } finally {
      small.destroy();
    }
  });

  it("ends a reply that reaches the end of the context with stopped_by 'context', not an error", async () => {
    const small = await loadConversationProgram(bytes, 48);
    try {
      const chat = new Conversation(small);
      const r = await chat.say('Go on and on.', { write: () => {} }, { max_tokens: 500, temperature: 0 });
      assert.equal(r.stopped_by, 'context');
      assert.equal(r.prompt_tokens + r.tokens.length, 48 + 1); // the last sampled token is not read back
    } finally {
      small.destroy();
    }
  });

  it('regenerate answers the last message again, in place of the last reply', async () => {
    const chat = new Conversation(program, { system: 'Sys.' });
    await assert.rejects(chat.regenerate({ write: () => {} }), /no message to answer again/);
    await chat.say('First.', { write: () => {} }, { max_tokens: 6, temperature: 0 });
    const t = await chat.say('Second.', { write: () => {} }, { max_tokens: 6, temperature: 0 });
    let streamed = '';
    const again = await chat.regenerate({ write: (s) => (streamed += s) }, { max_tokens: 6, temperature: 0 });
    assert.deepEqual(again.ids, t.ids, 'the same conversation read');
    assert.deepEqual(again.tokens, t.tokens, 'greedy: the same reply');
    assert.equal(streamed, again.reply);
    assert.deepEqual(chat.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);
    assert.equal(chat.messages[2].content, 'Second.');
    // A run that fails leaves the conversation as it was.
    const shape = JSON.stringify(chat.toJSON());
    await assert.rejects(chat.regenerate({ write: () => {} }, { temperature: -1 }));
    await assert.rejects(chat.say('Third.', { write: () => {} }, { temperature: -1 }));
    assert.equal(JSON.stringify(chat.toJSON()), shape);
  });

  it('refuses a message longer than the context, and the conversation stays as it was', async () => {
    const small = await loadConversationProgram(bytes, 32);
    try {
      const chat = new Conversation(small);
      await assert.rejects(chat.say('x'.repeat(200), { write: () => {} }, { max_tokens: 4 }), /too long: the conversation needs \d+ tokens and the context holds 32/);
      assert.equal(chat.messages.length, 0);
    } finally {
      small.destroy();
    }
  });

  it('StopFilter holds back a possible stop text and cuts at one', () => {
    const f = new StopFilter(['\nUser:']);
    assert.equal(f.push('Hello'), 'Hello');
    assert.equal(f.push(' there\nUs'), ' there');
    assert.equal(f.push('er: hi'), '');
    assert.equal(f.stopped, true);
    assert.equal(f.text, 'Hello there');
    const g = new StopFilter(['END']);
    assert.equal(g.push('abcE'), 'abc');
    assert.equal(g.push('x'), 'Ex');
    assert.equal(g.flush(), '');
  });
});
