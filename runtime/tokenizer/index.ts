// Tokenizers that match llama.cpp: SentencePiece and byte-level BPE from GGUF metadata, and Hugging
// Face tokenizer.json files through @huggingface/tokenizers.
import { BpeEncoder, bpePiece, mergesOf } from './bpe.ts';
import { LlamaTokenizer } from './llama.ts';
import { preTokenizer } from './pretokenize.ts';
import { spmEncode, spmPiece } from './spm.ts';
import { TokenizerError, Vocab } from './vocab.ts';
import type { Tokenizer } from './types.ts';

export type { Tokenizer, EncodeOptions, DecodeOptions } from './types.ts';
export { TokenizerError } from './vocab.ts';
export { tokenizerFromHfJson } from './hf.ts';
export { TokenStream } from './stream.ts';

/**
 * The tokenizer of a GGUF model, from its metadata (the tokenizer.ggml.* keys). `where` names the
 * file in error messages.
 */
export function tokenizerFromGguf(metadata: Record<string, unknown>, where = 'GGUF'): Tokenizer {
  const model = metadata['tokenizer.ggml.model'];
  if (model === 'llama') {
    // llama.cpp's SentencePiece defaults: <unk> 0, <s> 1, </s> 2, BOS added, leading space added.
    const vocab = new Vocab(metadata, { bos: 1, eos: 2, unk: 0, addBos: true, addSpacePrefix: true }, where);
    return new LlamaTokenizer(vocab, {
      kind: 'spm',
      encode: (text, out) => spmEncode(vocab, text, out),
      piece: spmPiece,
      cleanSpaces: false,
    });
  }
  if (model === 'gpt2') {
    const pre = preTokenizer(metadata['tokenizer.ggml.pre'] as string | undefined, where);
    const vocab = new Vocab(metadata, { bos: 11, eos: 11, unk: -1, addBos: pre.addBos, addSpacePrefix: false }, where);
    const bpe = new BpeEncoder(vocab, mergesOf(metadata, where), pre);
    return new LlamaTokenizer(vocab, {
      kind: 'bpe',
      encode: (text, out) => bpe.encode(text, out),
      piece: bpePiece,
      cleanSpaces: pre.cleanSpaces,
    });
  }
  const what = model === undefined ? 'has no tokenizer.ggml.model key' : `has tokenizer.ggml.model = ${JSON.stringify(model)}`;
  throw new TokenizerError(`${where}: the model ${what}; tlc reads 'llama' (SentencePiece) and 'gpt2' (byte-level BPE) tokenizers.`);
}
