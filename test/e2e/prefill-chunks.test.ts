// A long prompt is read in chunks (runs of the incremental graph on longer and longer prefixes of
// the ids): the same tokens as one read, progress after each chunk, and Stop between chunks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { build } from '../../compiler/artifact.ts';
import { modelInfo } from '../../compiler/model-info.ts';
import { bytesSource } from '../../runtime/bytes.ts';
import { readGguf } from '../../runtime/gguf.ts';
import { synthLlama } from '../../runtime/gguf-writer.ts';
import { Program, type LoadOptions } from '../../runtime/program.ts';
import { TlcError } from '../../runtime/errors.ts';
import { testGpu } from '../support/gpu.ts';

const CHAT = readFileSync(new URL('../../examples/chat.tl', import.meta.url), 'utf8');
const MODEL = synthLlama({ layers: 2, embd: 64, heads: 4, kvHeads: 2, vocab: 320, ctx: 256, type: T.Q8_0, seed: 5 });
const PROMPT = Array.from({ length: 40 }, (_, i) => `w${(i * 37) % 300}`).join(' ');

async function load(opts: LoadOptions): Promise<Program> {
  const src = bytesSource(MODEL, 'synthetic.gguf');
  const file = await readGguf(src);
  return Program.load(await testGpu(), build(CHAT, 'chat.tl', modelInfo(file)), src, { file, ...opts });
}

describe('prefill in chunks', function () {
  this.timeout(120_000);
  const args = { prompt: PROMPT, max_tokens: 6, temperature: 0 };

  it('gives the tokens of a single read, reporting each chunk', async () => {
    const whole = await load({ prefillChunk: 100_000 });
    const one = await whole.run(args, { write: () => {} });
    whole.destroy();
    assert.ok(one.prompt_tokens > 24, `prompt of ${one.prompt_tokens} tokens`);

    for (const chunk of [7, 16]) {
      const chunked = await load({ prefillChunk: chunk });
      const seen: [number, number][] = [];
      const r = await chunked.run(args, { write: () => {}, onPrefill: (d, t) => seen.push([d, t]) });
      chunked.destroy();
      assert.deepEqual(r.tokens, one.tokens, `chunks of ${chunk}`);
      assert.equal(r.prompt_tokens, one.prompt_tokens);
      const n = one.prompt_tokens;
      const expected: [number, number][] = [];
      for (let d = chunk; d < n; d += chunk) expected.push([d, n]);
      expected.push([n, n]);
      assert.deepEqual(seen, expected);
    }
  });

  it('stops between chunks, and the next run reads on from there', async () => {
    const p = await load({ prefillChunk: 8 });
    const abort = new AbortController();
    const seen: number[] = [];
    const r = await p.run(args, { write: () => {}, signal: abort.signal, onPrefill: (d) => (seen.push(d), d >= 16 && abort.abort()) });
    assert.equal(r.stopped_by, 'stopped');
    assert.deepEqual(r.tokens, []);
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(seen, [8, 16], 'no chunk after the stop');
    const again = await p.run(args, { write: () => {} });
    p.destroy();
    const fresh = await load({});
    const ref = await fresh.run(args, { write: () => {} });
    fresh.destroy();
    assert.deepEqual(again.tokens, ref.tokens);
  });

  it('refuses a chunk that is not a whole number >= 1', async () => {
    await assert.rejects(load({ prefillChunk: 0 }), (e: Error) => e instanceof TlcError && /prefillChunk/.test(e.message));
  });
});
