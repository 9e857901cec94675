// Hyperparameters from GGUF metadata (runtime/hparams.ts), as a table: metadata -> what llamaHParams
// reads, or the error it gives. The metadata here is written by hand, not by the GGUF writer.
import assert from 'node:assert/strict';
import { llamaHParams, type LlamaHParams } from '../runtime/hparams.ts';
import type { GgufFile } from '../runtime/gguf.ts';

/** A small llama's metadata; `extra` adds or replaces keys (undefined removes one). */
function file(extra: Record<string, unknown> = {}): GgufFile {
  const metadata: Record<string, unknown> = {
    'general.architecture': 'llama',
    'llama.embedding_length': 64,
    'llama.attention.head_count': 4,
    'llama.block_count': 2,
    'llama.feed_forward_length': 128,
    'llama.attention.layer_norm_rms_epsilon': 1e-5,
    'llama.context_length': 256,
    'llama.vocab_size': 100,
    ...extra,
  };
  for (const k of Object.keys(metadata)) if (metadata[k] === undefined) delete metadata[k];
  return { metadata, source: { name: 'm.gguf' }, tensor: () => undefined } as unknown as GgufFile;
}

const READS: { name: string; md: Record<string, unknown>; want: Partial<LlamaHParams> }[] = [
  { name: 'defaults: head_dim from the embedding, n_rot = head_dim, no name, no special ids', md: {}, want: { head_dim: 16, n_rot: 16, n_head_kv: 4, rope_freq_base: 10000, name: undefined, pad_id: undefined, add_eos: false, tokenizer_model: undefined } },
  { name: 'attention.key_length gives head_dim, even when the embedding is not a multiple of the heads', md: { 'llama.embedding_length': 66, 'llama.attention.key_length': 8 }, want: { head_dim: 8, n_rot: 8 } },
  { name: 'rope.dimension_count gives n_rot', md: { 'llama.rope.dimension_count': 6 }, want: { head_dim: 16, n_rot: 6 } },
  { name: 'general.name, when it is a string', md: { 'general.name': 'tiny' }, want: { name: 'tiny' } },
  { name: 'general.name that is not a string is left out', md: { 'general.name': 7 }, want: { name: undefined } },
  { name: 'tokenizer.ggml.model, when a string', md: { 'tokenizer.ggml.model': 'gpt2' }, want: { tokenizer_model: 'gpt2' } },
  { name: 'tokenizer.ggml.model that is not a string is left out', md: { 'tokenizer.ggml.model': 3 }, want: { tokenizer_model: undefined, add_bos: false } },
  { name: 'special ids; -1 (0xFFFFFFFF) and negative ones are absent', md: { 'tokenizer.ggml.bos_token_id': 1, 'tokenizer.ggml.eos_token_id': 0xffffffff, 'tokenizer.ggml.padding_token_id': 3, 'tokenizer.ggml.unknown_token_id': -2 }, want: { bos_id: 1, eos_id: undefined, pad_id: 3, unk_id: undefined } },
  { name: 'add_bos defaults to true for SentencePiece (llama) vocabularies only', md: { 'tokenizer.ggml.model': 'llama' }, want: { add_bos: true, add_eos: false } },
  { name: 'add_bos false for a byte-level BPE vocabulary', md: { 'tokenizer.ggml.model': 'gpt2' }, want: { add_bos: false } },
  { name: 'add_bos and add_eos as the file says', md: { 'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.add_bos_token': false, 'tokenizer.ggml.add_eos_token': true }, want: { add_bos: false, add_eos: true } },
];

const REFUSED: { name: string; md: Record<string, unknown>; error: string }[] = [
  { name: 'another architecture', md: { 'general.architecture': 'gpt2' }, error: 'm.gguf: the architecture "gpt2" is not supported; tlc runs "llama" models.' },
  { name: 'an embedding that is not a multiple of the heads', md: { 'llama.embedding_length': 66 }, error: 'm.gguf: embedding_length 66 is not a multiple of head_count 4.' },
  { name: 'a list where a number belongs', md: { 'llama.feed_forward_length': [1, 2, 3] }, error: 'm.gguf: metadata key llama.feed_forward_length is an array of 3, expected a number.' },
  { name: 'a string where a number belongs', md: { 'llama.feed_forward_length': '128' }, error: 'm.gguf: metadata key llama.feed_forward_length is "128", expected a number.' },
  { name: 'a number that is not finite', md: { 'llama.rope.freq_base': NaN }, error: 'm.gguf: metadata key llama.rope.freq_base is NaN, expected a number.' },
  { name: 'a boolean where a number belongs', md: { 'llama.block_count': true }, error: 'm.gguf: metadata key llama.block_count is true, expected a number.' },
];

describe('hyperparameters from GGUF metadata', () => {
  for (const c of READS) {
    it(c.name, () => {
      const h = llamaHParams(file(c.md));
      for (const [k, v] of Object.entries(c.want)) assert.equal(h[k as keyof LlamaHParams], v, k);
    });
  }
  for (const c of REFUSED) {
    it(`refused: ${c.name}`, () => assert.throws(() => llamaHParams(file(c.md)), (e: Error) => (assert.equal(e.message, c.error), true)));
  }
});
