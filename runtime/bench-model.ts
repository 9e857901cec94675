// End-to-end benchmark of a model: chat.tl compiled for it, a prompt of about N tokens read, T
// tokens decoded greedily, side by side with the adapter's streaming-read roofline measured in the
// same run. The same code runs under `tlc bench --model` and in the page.
import { build } from '../compiler/artifact.ts';
import { modelInfo } from '../compiler/model-info.ts';
import type { ByteSource } from './bytes.ts';
import type { Gpu } from './device.ts';
import type { GgufFile } from './gguf.ts';
import { Program } from './program.ts';
import { measureRoofline } from './roofline.ts';
import { TlcError } from './errors.ts';

export interface ModelBenchOptions {
  promptTokens: number; // about this many (the tokenizer decides the exact count, which is reported)
  tokens: number;       // decoded after the prompt
  ctx?: number;
  /** Also decode after a 16-token prompt, to compare the cost per token there (flatness). */
  short?: boolean;
  say?(line: string): void; // progress
}

export interface ModelBenchResult {
  model: string;
  adapter: string;
  prompt_tokens: number;
  tokens: number;
  prefill_tok_s: number;
  decode_tok_s: number;
  decode_ms_per_token: number;
  weight_bytes_per_token: number; // what one decode step must read: every weight but the embedding rows it skips
  decode_gb_s: number;            // weight_bytes_per_token / decode time per token
  roofline_gb_s: number;
  roofline_kernel: string;
  roofline_pct: number;           // decode_gb_s / roofline_gb_s, in percent
  prefill_x_decode: number;       // prefill tok/s / decode tok/s
  /** Decode after a 16-token prompt: the cost per token near the start of the context. */
  short?: { prompt_tokens: number; decode_ms_per_token: number; long_over_short: number };
}

export async function benchModel(gpu: Gpu, programText: string, model: ByteSource, file: GgufFile, o: ModelBenchOptions): Promise<ModelBenchResult> {
  for (const [name, v] of [['prompt tokens', o.promptTokens], ['tokens', o.tokens]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new TlcError(`bench: ${name} must be a whole number >= 1, got ${v}`);
  }
  const say = o.say ?? (() => {});
  const artifact = build(programText, 'chat.tl', modelInfo(file));
  say(`loading ${model.name}`);
  const program = await Program.load(gpu, artifact, model, { file, ctx: o.ctx });
  try {
    const tok = program.tokenizer;
    if (!tok) throw new TlcError(`bench: ${model.name} has no tokenizer`);
    const run = (promptTokens: number, tokens: number) =>
      program.run({ prompt: promptOf(promptTokens, (t) => tok.encode(t).length), max_tokens: tokens, temperature: 0 }, { write: () => {} });

    say('warming up (compiling the kernels)');
    await run(Math.min(8, o.promptTokens), 2);
    const weightBytes = weightBytesPerToken(file);
    say('roofline: streaming reads');
    const roofline = await measureRoofline(gpu, Math.max(...file.tensors.map((t) => t.byteLength)));
    say(`prompt ~${o.promptTokens} tokens, then ${o.tokens} tokens`);
    const r = await run(o.promptTokens, o.tokens);
    const decodeTokens = Math.max(0, r.tokens.length - 1); // the first token comes from the prefill
    if (decodeTokens === 0) throw new TlcError(`bench: the model stopped (${r.stopped_by}) before decoding; raise --tokens or change the prompt length`);
    const msPerToken = r.timings.decode_ms / decodeTokens;
    const gbPerS = weightBytes / msPerToken / 1e6;
    const result: ModelBenchResult = {
      model: model.name,
      adapter: gpu.info.adapter,
      prompt_tokens: r.prompt_tokens,
      tokens: decodeTokens,
      prefill_tok_s: r.timings.prefill_tok_s,
      decode_tok_s: round(1000 / msPerToken),
      decode_ms_per_token: round(msPerToken),
      weight_bytes_per_token: weightBytes,
      decode_gb_s: round(gbPerS),
      roofline_gb_s: round(roofline.gbPerS),
      roofline_kernel: roofline.kernel,
      roofline_pct: round((100 * gbPerS) / roofline.gbPerS),
      prefill_x_decode: round(r.timings.prefill_tok_s / (1000 / msPerToken)),
    };
    if (o.short && r.prompt_tokens > 32) {
      say(`prompt ~16 tokens, then ${o.tokens} tokens (the cost per token near the start)`);
      const s = await run(16, o.tokens);
      const n = Math.max(1, s.tokens.length - 1);
      const shortMs = s.timings.decode_ms / n;
      result.short = { prompt_tokens: s.prompt_tokens, decode_ms_per_token: round(shortMs), long_over_short: round(msPerToken / shortMs) };
    }
    return result;
  } finally {
    program.destroy();
  }
}

/** Bytes a decode step reads: all weights, but of the embedding table only one row (unless it is also the output head). */
export function weightBytesPerToken(file: GgufFile): number {
  const tied = !file.tensor('output.weight');
  let bytes = 0;
  for (const t of file.tensors) {
    const all = t.byteLength;
    bytes += t.name === 'token_embd.weight' ? all / (t.shape[1] ?? 1) + (tied ? all : 0) : all;
  }
  return Math.round(bytes);
}

/** A story prompt that tokenizes to about `n` tokens: the most words of filler with at most n tokens. */
export function promptOf(n: number, countTokens: (text: string) => number): string {
  const words = FILLER.split(' ');
  const text = (k: number) => Array.from({ length: k }, (_, i) => words[i % words.length]).join(' ');
  let lo = 1, hi = Math.max(2, n * 2);
  while (countTokens(text(hi)) < n && hi < n * 16) hi *= 2;
  while (lo < hi) { // the largest k with count(text(k)) <= n
    const mid = Math.ceil((lo + hi) / 2);
    if (countTokens(text(mid)) <= n) lo = mid;
    else hi = mid - 1;
  }
  return text(lo);
}

const FILLER = 'Once upon a time there was a little girl named Lily who liked to play in the park with her dog. One day the sun was warm and the birds sang in the trees, so they ran to the pond to see the ducks.';

const round = (x: number) => Math.round(x * 100) / 100;
