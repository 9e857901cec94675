// Multi-turn chat on a Program: a system prompt and turns, rendered with the model's chat template
// (or a plain `User:` / `Assistant:` transcript), with the KV cache kept across turns.
//
//   const program = await Program.load(gpu, build(CONVERSATION_TL, 'conversation.tl', info), model);
//   const chat = new Conversation(program, { system: 'You are terse.' });
//   const turn = await chat.say('Hello', { write: (t) => out(t) }, { max_tokens: 64 });
//
// The program reads the conversation as token ids (`arg("ids")`). A turn passes the ids of the last
// turn (its prompt and the reply as sampled) plus the tokens of what the template adds after them, so
// the executor finds the whole last turn in its KV cache and reads only the new turn's tokens. When the
// conversation outgrows the context, the oldest turns go (the system prompt stays) and `notice` says so.
// `regenerate` answers the last message again (the chat page's Regenerate), on the same token ids.
import { Template } from '@huggingface/jinja';
import type { HostValue } from '../compiler/ir.ts';
import { TlcError } from './errors.ts';
import type { Program, RunIo, RunOptions, RunResult } from './program.ts';
import type { Tokenizer } from './tokenizer/index.ts';

/**
 * The default chat program: examples/chat.tl's forward pass, reading token ids instead of a prompt,
 * writing only the generated text. A program of one's own must read `arg("ids")` the same way.
 */
export const CONVERSATION_TL = `// The conversation program of runtime/conversation.ts: chat.tl on token ids.
let model = load_model(arg("model", "models/model.gguf"))

fn attention(x: float32[?, ?], layer: int) -> float32[?, ?] {
    let blk = model.blk[layer]
    let seq = shape(x)[0]
    let n_head = model.n_head
    let n_kv = model.n_head_kv
    let d = model.head_dim
    let q = rope(reshape(linear(x, blk.attn_q.weight), [seq, n_head, d]))
    let k = rope(reshape(linear(x, blk.attn_k.weight), [seq, n_kv, d]))
    let v = reshape(linear(x, blk.attn_v.weight), [seq, n_kv, d])
    let group = n_head / n_kv
    let k_all = reshape(broadcast_to(reshape(k, [seq, n_kv, 1, d]), [seq, n_kv, group, d]), [seq, n_head, d])
    let v_all = reshape(broadcast_to(reshape(v, [seq, n_kv, 1, d]), [seq, n_kv, group, d]), [seq, n_head, d])
    let scores = einsum("ihd,jhd->ihj", q, k_all) * (1.0 / (d ** 0.5))
    let mask = broadcast_to(reshape(causal_mask(seq), [seq, 1, seq]), [seq, n_head, seq])
    let weights = softmax(apply_attention_mask(scores, mask), 2)
    let out = einsum("ihj,jhd->ihd", weights, v_all)
    linear(reshape(out, [seq, n_head * d]), blk.attn_output.weight)
}

fn feed_forward(x: float32[?, ?], layer: int) -> float32[?, ?] {
    let blk = model.blk[layer]
    linear(silu(linear(x, blk.ffn_gate.weight)) * linear(x, blk.ffn_up.weight), blk.ffn_down.weight)
}

main {
    let tokenizer = load_tokenizer(model)
    let tokens = arg("ids", [1])
    let max_tokens = arg("max_tokens", 256)
    let temperature = arg("temperature", 0.8)
    let top_k = arg("top_k", 40)
    let top_p = arg("top_p", 0.95)
    let head = model.token_embd.weight
    if !model.tied_output {
        head = model.output.weight
    }
    for step in range(max_tokens) {
        let x = embedding(model.token_embd.weight, tokens)
        for layer in range(model.n_layer) {
            let h = x + attention(rms_norm(x, model.blk[layer].attn_norm.weight), layer)
            x = h + feed_forward(rms_norm(h, model.blk[layer].ffn_norm.weight), layer)
        }
        let last = rms_norm(slice_last(x, 0), model.output_norm.weight)
        let logits = linear(reshape(last, [1, model.n_embd]), head)
        let next = temperature_sample(top_p(top_k(logits, top_k), top_p), temperature)
        if next == model.eos_token_id {
            break
        }
        tokens = append(tokens, next)
        write(token_text(tokenizer, next))
    }
}
`;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Sampling parameters of one reply (the program's `arg(...)` names). */
export interface ReplyParams {
  max_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  seed?: number;
  /** Texts that end the reply (not included in it). */
  stop?: string[];
}

export interface ReplyResult extends RunResult {
  /** The reply as shown: the generated text up to a stop text, if one came. */
  reply: string;
  /** 'stop' when a stop text ended the reply; otherwise the run's stopped_by. */
  finish: RunResult['stopped_by'] | 'stop';
}

/** The chat template of the model (GGUF tokenizer.chat_template, or a tokenizer.json's), if any. */
export function chatTemplateOf(program: Program): string | undefined {
  const t = (program.tokenizer as { chatTemplate?: unknown } | undefined)?.chatTemplate ?? program.file?.metadata['tokenizer.chat_template'];
  return typeof t === 'string' ? t : undefined;
}

const templates = new Map<string, Template>();

/**
 * The conversation as the prompt text, ending where the assistant's next reply begins: the model's chat
 * template, or without one a plain transcript (`System: ...`, `User: ...`, `Assistant: ...`).
 */
export function renderChat(messages: readonly ChatMessage[], tokenizer: Tokenizer, template: string | undefined, generated?: WeakSet<ChatMessage>): string {
  if (template === undefined) {
    let s = '';
    for (const m of messages) {
      const who = m.role === 'system' ? 'System' : m.role === 'user' ? 'User' : 'Assistant';
      // A reply the model wrote stays exactly as written, so the next turn continues its tokens.
      const text = generated?.has(m) ? m.content : ` ${m.content.trim()}`;
      s += `${who}:${text}${text.endsWith('\n') ? '' : '\n'}`;
    }
    return s + 'Assistant:';
  }
  let t = templates.get(template);
  try {
    if (!t) templates.set(template, (t = new Template(template)));
    return t.render({ messages, add_generation_prompt: true, bos_token: special(tokenizer, tokenizer.bos), eos_token: special(tokenizer, tokenizer.eos) });
  } catch (e) {
    throw new TlcError(`the model's chat template failed: ${(e as Error).message}`);
  }
}

/** Stop texts a plain transcript needs: the model would otherwise go on to write the user's turn. */
export function defaultStops(template: string | undefined): string[] {
  return template === undefined ? ['\nUser:', '\nSystem:'] : [];
}

function special(tok: Tokenizer, id: number): string {
  if (id < 0) return '';
  return tok.decodePiece ? tok.decodePiece(id) : tok.decode([id]);
}

/** The rendered text as token ids: BOS once (a template that writes it gets no second). */
export function encodePrompt(tokenizer: Tokenizer, text: string): number[] {
  const bos = special(tokenizer, tokenizer.bos);
  const hasBos = tokenizer.bos >= 0 && bos !== '' && text.startsWith(bos);
  return tokenizer.encode(text, { addBos: hasBos ? false : undefined, parseSpecial: true });
}

/**
 * Streams text and holds back what could be the start of a stop text: `push` gives what is safe to
 * show, and says when a stop text came (the text up to it is then all of it).
 */
export class StopFilter {
  private held = '';
  text = '';
  stopped = false;
  constructor(private stops: readonly string[]) {}

  push(t: string): string {
    if (this.stopped) return '';
    const s = this.held + t;
    let cut = -1;
    for (const stop of this.stops) {
      const i = s.indexOf(stop);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      this.held = '';
      this.text += s.slice(0, cut);
      return s.slice(0, cut);
    }
    // Keep the longest tail that is a prefix of a stop text.
    let keep = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, s.length); k > keep; k--) if (s.endsWith(stop.slice(0, k))) { keep = k; break; }
    }
    this.held = s.slice(s.length - keep);
    const out = s.slice(0, s.length - keep);
    this.text += out;
    return out;
  }

  /** The end of the stream: what was held back is text after all. */
  flush(): string {
    if (this.stopped) return '';
    const out = this.held;
    this.held = '';
    this.text += out;
    return out;
  }
}

/**
 * Runs the program on `ids` with the sampling parameters; stop texts end the reply (the run is
 * stopped at once). io.signal stops it too (stopped_by 'stopped'). `opts` as Program.run's (profile).
 */
export async function generate(program: Program, ids: number[], params: ReplyParams, io: RunIo, opts: RunOptions = {}): Promise<ReplyResult & { raw: string }> {
  const stopper = new AbortController();
  const onAbort = () => stopper.abort();
  if (io.signal?.aborted) stopper.abort();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const filter = new StopFilter(params.stop ?? []);
  let raw = '';
  const args: Record<string, HostValue> = { ids };
  for (const k of ['max_tokens', 'temperature', 'top_k', 'top_p', 'seed'] as const) if (params[k] !== undefined) args[k] = params[k]!;
  let r: RunResult;
  try {
    r = await program.run(args, {
      ...io,
      signal: stopper.signal,
      write: (t) => {
        raw += t;
        const out = filter.push(t);
        if (out) io.write(out);
        if (filter.stopped) stopper.abort();
      },
    }, opts);
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
  if (!filter.stopped) {
    const rest = filter.flush();
    if (rest) io.write(rest);
  }
  const finish = filter.stopped ? 'stop' : r.stopped_by;
  return { ...r, reply: filter.text, finish, raw };
}

export interface ConversationOptions {
  system?: string;
  /** The conversation so far (no system message: that is `system`). */
  messages?: ChatMessage[];
  /** Told when the oldest turns are dropped to fit the context. */
  notice?(message: string): void;
}

export interface TurnResult extends ReplyResult {
  /** The conversation as the program read it: the prompt's token ids. */
  ids: number[];
  /** Tokens this turn added to the conversation (the template's text around the message, and the message). */
  new_tokens: number;
  /** Turns (a user message and its reply) dropped before this one to fit the context. */
  dropped_turns: number;
}

/** A conversation with a model: what `tlc chat` and the page drive. */
export class Conversation {
  system: string;
  messages: ChatMessage[];
  private template: string | undefined;
  /** Replies the model wrote (kept as written in a plain transcript). */
  private generated = new WeakSet<ChatMessage>();
  /** The rendered text and token ids of the last turn, prompt and reply: the next turn continues them. */
  private last?: { text: string; ids: number[] };
  /** What `last` was when the last turn's ids were made: regenerate makes the same ids again. */
  private beforeLast?: { text: string; ids: number[] };

  constructor(readonly program: Program, private opts: ConversationOptions = {}) {
    if (!program.tokenizer) throw new TlcError('a conversation needs a model with a tokenizer');
    this.system = opts.system ?? '';
    this.messages = [...(opts.messages ?? [])];
    this.template = chatTemplateOf(program);
  }

  get hasTemplate(): boolean {
    return this.template !== undefined;
  }

  /** Forgets the turns (the system prompt stays). */
  reset(): void {
    this.messages = [];
    this.last = this.beforeLast = undefined;
  }

  /** The conversation as JSON: { system, messages }. */
  toJSON(): { system: string; messages: ChatMessage[] } {
    return { system: this.system, messages: this.messages.map((m) => ({ ...m })) };
  }

  private all(): ChatMessage[] {
    return [...(this.system ? [{ role: 'system' as const, content: this.system }] : []), ...this.messages];
  }

  /** The token ids of the conversation, continuing the last turn's when the text does. */
  private encode(): { ids: number[]; text: string } {
    const tok = this.program.tokenizer!;
    const text = renderChat(this.all(), tok, this.template, this.generated);
    if (this.last && text.startsWith(this.last.text)) {
      const rest = tok.encode(text.slice(this.last.text.length), { addBos: false, parseSpecial: true, addSpacePrefix: false });
      return { ids: [...this.last.ids, ...rest], text };
    }
    return { ids: encodePrompt(tok, text), text };
  }

  /**
   * Adds the user's message, generates the reply (streamed to io.write) and adds it. When the run
   * fails, the message goes again, so the conversation is as it was.
   */
  async say(user: string, io: RunIo, params: ReplyParams = {}, opts: RunOptions = {}): Promise<TurnResult> {
    this.messages.push({ role: 'user', content: user });
    const ctx = this.program.ctx;
    const room = Math.max(1, Math.min(params.max_tokens ?? 256, Math.floor(ctx / 4)));
    let { ids, text } = this.encode();
    let dropped = 0;
    // Too long: drop the oldest turns (a user message and the replies after it), keep the system prompt.
    while (ids.length + room > ctx && this.messages.length > 1) {
      const next = this.messages.findIndex((m, i) => i > 0 && m.role === 'user');
      this.messages.splice(0, next < 0 ? this.messages.length - 1 : next);
      dropped++;
      this.last = undefined;
      ({ ids, text } = this.encode());
    }
    if (dropped) this.opts.notice?.(`the conversation is longer than the context (${ctx} tokens): dropped the oldest ${dropped === 1 ? 'turn' : `${dropped} turns`}`);
    if (ids.length >= ctx) {
      this.messages.pop();
      throw new TlcError(`the message is too long: the conversation needs ${ids.length} tokens and the context holds ${ctx}`);
    }
    const continued = this.last;
    const before = continued ? continued.ids.length : 0;
    const stop = [...defaultStops(this.template), ...(params.stop ?? [])];
    let r: ReplyResult & { raw: string };
    try {
      r = await generate(this.program, ids, { ...params, stop }, io, opts);
    } catch (e) {
      this.messages.pop();
      throw e;
    }
    const reply: ChatMessage = { role: 'assistant', content: r.reply };
    this.generated.add(reply);
    this.messages.push(reply);
    // The next turn continues these ids only if the reply is all the model wrote (no stop text cut it).
    this.last = r.finish === 'stop' ? undefined : { text: text + r.raw, ids: [...ids, ...r.tokens] };
    this.beforeLast = continued;
    return { ...r, ids, new_tokens: ids.length - before, dropped_turns: dropped };
  }

  /**
   * Takes back the last reply and answers the last user message again (with other sampling
   * parameters, say another seed). When that fails, the conversation is as it was.
   */
  async regenerate(io: RunIo, params: ReplyParams = {}, opts: RunOptions = {}): Promise<TurnResult> {
    let i = this.messages.length - 1;
    while (i >= 0 && this.messages[i].role !== 'user') i--;
    if (i < 0) throw new TlcError('there is no message to answer again');
    const before = this.messages, last = this.last;
    this.messages = before.slice(0, i);
    // The last turn's ids again (a fresh encoding of the text could split the replies differently).
    if (i === before.length - 2) this.last = this.beforeLast;
    try {
      // The KV cache still holds the old reply; the executor keeps only the prefix the new ids share with it.
      return await this.say(before[i].content, io, params, opts);
    } catch (e) {
      this.messages = before;
      this.last = last;
      throw e;
    }
  }
}
