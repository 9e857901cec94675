// What every tokenizer offers: the GGUF ones (SentencePiece, byte-level BPE) and the Hugging Face one.

export interface EncodeOptions {
  /** Prepend BOS. Default: the model's add_bos (llama.cpp's default is true for SentencePiece). */
  addBos?: boolean;
  /** Append EOS. Default: the model's add_eos (almost always false). */
  addEos?: boolean;
  /** Text such as `</s>` or `<|user|>` becomes that control token. User-defined tokens are always matched, as in llama.cpp. Default false. */
  parseSpecial?: boolean;
  /**
   * SentencePiece only: prepend a space (`▁`) to the text and after each special token. Default true,
   * as llama.cpp does; false gives node-llama-cpp's "trimLeadingSpace" tokenization.
   */
  addSpacePrefix?: boolean;
}

export interface DecodeOptions {
  /** Drop control and unknown tokens (BOS, EOS, `<unk>`) instead of printing their text. Default false. */
  skipSpecial?: boolean;
}

export interface Tokenizer {
  readonly kind: 'spm' | 'bpe' | 'hf';
  readonly nVocab: number;
  /** Token ids, or -1 when the model has none. */
  readonly bos: number;
  readonly eos: number;
  readonly unk?: number;
  /** Whether encode() prepends BOS unless told otherwise. */
  readonly addBos: boolean;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  /** The text of one token, special tokens included. A lone byte token decodes to U+FFFD: stream with TokenStream. */
  decodePiece?(id: number): string;
  /** Whether generation should stop at this token (EOS, end-of-turn and the like). */
  isEog?(id: number): boolean;
}
