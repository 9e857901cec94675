// A GGUF tokenizer with llama.cpp's rules around the SentencePiece or BPE core: BOS/EOS, special
// tokens in the text, SentencePiece's leading space, and detokenization back to UTF-8.
import { TokenizerError, TokenType, type Vocab } from './vocab.ts';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './types.ts';

export interface Core {
  kind: 'spm' | 'bpe';
  /** Appends the tokens of a stretch of text that holds no special token. */
  encode(text: string, out: number[]): void;
  /** The bytes a normal token's text stands for. */
  piece(text: string): Uint8Array;
  /** decode() tidies " ," into "," and the like (llama.cpp's clean_spaces). */
  cleanSpaces: boolean;
}

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF that the text really contains.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const NONE = new Uint8Array(0);

export class LlamaTokenizer implements Tokenizer {
  readonly kind: 'spm' | 'bpe';
  private readonly pieces: (Uint8Array | undefined)[] = [];

  constructor(readonly vocab: Vocab, private readonly core: Core) {
    this.kind = core.kind;
  }

  get nVocab() { return this.vocab.size; }
  get bos() { return this.vocab.bos; }
  get eos() { return this.vocab.eos; }
  get unk() { return this.vocab.unk >= 0 ? this.vocab.unk : undefined; }
  get addBos() { return this.vocab.addBos; }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const { vocab } = this;
    const out: number[] = [];
    if (opts.addBos ?? vocab.addBos) out.push(this.special(vocab.bos, 'BOS'));
    const spacePrefix = this.kind === 'spm' && (opts.addSpacePrefix ?? vocab.addSpacePrefix);
    let afterSpecial = true;
    for (const part of vocab.partition(wellFormed(text), opts.parseSpecial ?? false)) {
      if (typeof part === 'number') {
        out.push(part);
        afterSpecial = true;
        continue;
      }
      if (this.kind === 'spm') this.core.encode(((spacePrefix && afterSpecial ? ' ' : '') + part).replaceAll(' ', '\u2581'), out);
      else this.core.encode(part, out);
      afterSpecial = false;
    }
    if (opts.addEos ?? vocab.addEos) out.push(this.special(vocab.eos, 'EOS'));
    return out;
  }

  /** llama.cpp's llama_detokenize: skipSpecial is its remove_special without unparse_special. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const { vocab } = this;
    const skip = opts.skipSpecial ?? false;
    let first = 0, end = ids.length;
    // The leading space SentencePiece added goes, unless a BOS came first.
    let stripSpace = vocab.addSpacePrefix;
    if (skip && vocab.addBos && ids[0] === vocab.bos) {
      stripSpace = false;
      first = 1;
    }
    if (skip && vocab.addEos && end > first && ids[end - 1] === vocab.eos) end--;

    const bytes: Uint8Array[] = [];
    let total = 0;
    for (let i = first; i < end; i++) {
      let piece = this.pieceBytes(ids[i], !skip);
      if (stripSpace && piece[0] === 0x20) piece = piece.subarray(1);
      stripSpace = false;
      bytes.push(piece);
      total += piece.length;
    }
    const all = new Uint8Array(total);
    bytes.reduce((at, b) => (all.set(b, at), at + b.length), 0);
    const text = utf8Decoder.decode(all);
    return this.core.cleanSpaces ? cleanSpaces(text) : text;
  }

  decodePiece(id: number): string {
    return utf8Decoder.decode(this.pieceBytes(id, true));
  }

  isEog(id: number): boolean {
    return this.vocab.eog.has(id);
  }

  /** The bytes of one token (llama_token_to_piece); control and unknown tokens are empty unless `special`. */
  pieceBytes(id: number, special: boolean): Uint8Array {
    const { vocab } = this;
    if (!Number.isInteger(id) || id < 0 || id >= vocab.size) {
      throw new TokenizerError(`${vocab.where}: token id ${id} is outside the vocabulary (0..${vocab.size - 1}).`);
    }
    const type = vocab.types[id];
    if (!special && (type === TokenType.CONTROL || type === TokenType.UNKNOWN)) return NONE;
    return (this.pieces[id] ??= this.piece(id, type));
  }

  private piece(id: number, type: number): Uint8Array {
    const text = this.vocab.pieces[id];
    switch (type) {
      case TokenType.NORMAL: return this.core.piece(text);
      case TokenType.BYTE: return Uint8Array.of(parseInt(text.slice(3, 5), 16));
      case TokenType.CONTROL: case TokenType.UNKNOWN: case TokenType.USER_DEFINED: return utf8.encode(text);
      default: return NONE;  // unused and undefined tokens print nothing
    }
  }

  private special(id: number, what: string): number {
    if (id < 0) throw new TokenizerError(`${this.vocab.where}: asked to add ${what}, but the model has no ${what} token.`);
    return id;
  }
}

/** Lone surrogates become U+FFFD, as they would on their way to UTF-8. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

// llama.cpp's clean_spaces, for BPE models that ask for it: no space before ? ! . , ; " ' " loses
// its spaces; and " 's", " 'm", " 're", " 've" lose theirs. Each pass rewrites the text in place,
// looking at neighbours in the text as it stood before the pass.
function cleanSpaces(text: string): string {
  let t = [...text];
  // " ?", " !", " .", " ,"
  let out: string[] = t.slice(0, 1);
  for (let i = 1; i < t.length; i++) {
    if (t[i - 1] === ' ' && '?!.,'.includes(t[i])) out.pop();
    out.push(t[i]);
  }
  // " ' "
  t = out;
  out = t.slice(0, 1);
  for (let i = 1; i < t.length; i++) {
    const x = t[i];
    if (x === "'" && i + 1 < t.length && t[i - 1] === ' ' && t[i + 1] === ' ') {
      out.pop();
      t[++i] = '\0';  // the space after is skipped, and no longer counts as a space before the next character
    }
    out.push(x);
  }
  // " 's", " 'm", " 're", " 've"
  t = out;
  out = t.slice(0, 1);
  for (let i = 1; i < t.length; i++) {
    if (t[i - 1] === ' ' && t[i] === "'" && i + 1 < t.length) {
      const [a, b] = [t[i + 1], t[i + 2]];
      if (a === 's' || a === 'm' || (i + 2 < t.length && ((a === 'r' && b === 'e') || (a === 'v' && b === 'e')))) out.pop();
    }
    out.push(t[i]);
  }
  return out.join('');
}
