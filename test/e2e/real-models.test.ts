// The compiled chat program against llama.cpp's own greedy outputs for the two real tiny models.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requireShared } from '../support/shared.ts';
import { runProgram } from '../support/program.ts';

interface Reference {
  model: string;
  prompt: string;
  n_predict: number;
  llamacpp_default: { input_tokens: number[]; tokens: number[]; text: string };
}

// chat.tl (the compiler derives the KV cache) and chat_kvcache.tl (the program keeps it with KVCache).
for (const program of ['examples/chat.tl', 'examples/chat_kvcache.tl']) describe(`${program} generates what llama.cpp generates (temperature 0)`, () => {
  for (const model of ['stories260K.gguf', 'TinyStories-656K-Q8_0.gguf']) {
    it(`${model}: the first 40 tokens from "Once upon a time"`, async function () {
      const path = requireShared(this, model);
      const refs: Reference[] = JSON.parse(readFileSync(requireShared(this, 'reference/generate_reference.json'), 'utf8'));
      const ref = refs.find((r) => r.model === model)!;
      const r = await runProgram({ file: program }, path, { prompt: ref.prompt, max_tokens: ref.n_predict, temperature: 0 });
      r.program.destroy();
      // llama.cpp's input is [BOS] + tokenize(prompt) with the leading space: the program's too, id
      // for id (the program's tokenizer, called as chat.tl's tokenize(tokenizer, prompt, true) calls it).
      assert.deepEqual(r.program.tokenizer!.encode(ref.prompt, { addBos: true, parseSpecial: true }), ref.llamacpp_default.input_tokens);
      assert.equal(r.prompt_tokens, ref.llamacpp_default.input_tokens.length);
      assert.deepEqual(r.tokens, ref.llamacpp_default.tokens);
      assert.equal(r.output, ref.prompt + ref.llamacpp_default.text + '\n'); // both end with print("")
      assert.equal(r.stopped_by, 'max_tokens');
    });
  }
});
