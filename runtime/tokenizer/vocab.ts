// A GGUF vocabulary read from the tokenizer.ggml.* metadata with llama.cpp's defaults: pieces, scores,
// token types, special ids, add_bos/add_eos, and the split of text around special tokens.
import { TlcError } from '../errors.ts';

export class TokenizerError extends TlcError {
  override name = 'TokenizerError';
}

/** tokenizer.ggml.token_type values (llama.cpp's llama_token_type). */
export const TokenType = { UNDEFINED: 0, NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

// Tokens llama.cpp treats as control (and, for the first group, as end of generation) whatever type
// the file gives them: it recognizes them by their text. (For fill-in-the-middle tokens it stops at
// the first of each kind; vocabularies hardly ever hold two.)
const EOG_TEXTS = [
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<|eom_id|>',
  '<EOT>', '_<EOT>', '</s>', '<｜end▁of▁sentence｜>',
];
const FIM_TEXTS = [
  '<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>',
  '<|fim_suffix|>', '<fim-suffix>', '<fim_suffix>', '<｜fim▁hole｜>', '<SUF>', '▁<SUF>',
  '<|fim_middle|>', '<fim-middle>', '<fim_middle>', '<｜fim▁end｜>', '<MID>', '▁<MID>',
  '<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>',
  '<|file_sep|>',
];

const utf8 = new TextEncoder();

export class Vocab {
  readonly pieces: string[];
  readonly scores: Float32Array;  // (n_vocab)
  readonly types: Uint8Array;     // (n_vocab) TokenType
  readonly bos: number;
  readonly eos: number;
  readonly unk: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** SentencePiece's leading space: added before text by encode, removed from the first token by decode. */
  readonly addSpacePrefix: boolean;
  readonly eog = new Set<number>();
  private readonly ids = new Map<string, number>();
  /** Control, user-defined and unknown tokens, longest text first: the order llama.cpp splits them out in. */
  private readonly specials: number[];
  private byteIds?: Int32Array;

  /**
   * `defaults` are llama.cpp's per-model values for keys the file may leave out.
   * `where` names the file in error messages.
   */
  constructor(
    md: Record<string, unknown>,
    defaults: { bos: number; eos: number; unk: number; addBos: boolean; addSpacePrefix: boolean },
    readonly where = 'GGUF',
  ) {
    const tokens = md['tokenizer.ggml.tokens'];
    if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) {
      throw new TokenizerError(`${where}: tokenizer.ggml.tokens is missing or not an array of strings, so the model has no usable vocabulary.`);
    }
    const n = tokens.length;
    // An empty piece would match everywhere; llama.cpp renames it.
    this.pieces = tokens.map((t: string, i) => t || `[EMPTY_${i}]`);
    this.scores = Float32Array.from(numbers(md, 'tokenizer.ggml.scores', n, 0, where));
    this.types = Uint8Array.from(numbers(md, 'tokenizer.ggml.token_type', n, TokenType.NORMAL, where));
    this.pieces.forEach((p, i) => { if (!this.ids.has(p)) this.ids.set(p, i); });

    const id = (key: string, dflt: number) => {
      const v = integer(md[`tokenizer.ggml.${key}`]);
      if (v !== undefined && v >= 0 && v < n) return v;
      return dflt >= 0 && dflt < n ? dflt : -1;
    };
    this.bos = id('bos_token_id', defaults.bos);
    this.eos = id('eos_token_id', defaults.eos);
    this.unk = id('unknown_token_id', defaults.unk);
    this.addBos = flag(md, 'tokenizer.ggml.add_bos_token') ?? defaults.addBos;
    this.addEos = flag(md, 'tokenizer.ggml.add_eos_token') ?? false;
    this.addSpacePrefix = flag(md, 'tokenizer.ggml.add_space_prefix') ?? defaults.addSpacePrefix;
    if (this.addBos && this.bos < 0) throw new TokenizerError(`${where}: add_bos_token is true but the model has no BOS token.`);
    if (this.addEos && this.eos < 0) throw new TokenizerError(`${where}: add_eos_token is true but the model has no EOS token.`);

    for (const text of [...EOG_TEXTS, ...FIM_TEXTS]) {
      const t = this.ids.get(text);
      if (t !== undefined) this.types[t] = TokenType.CONTROL;
    }
    for (const text of EOG_TEXTS) if (this.ids.has(text)) this.eog.add(this.ids.get(text)!);
    for (const key of ['eot_token_id', 'eom_token_id']) if (id(key, -1) >= 0) this.eog.add(id(key, -1));
    if (this.eos >= 0) this.eog.add(this.eos);

    const special = new Set<number>([TokenType.CONTROL, TokenType.USER_DEFINED, TokenType.UNKNOWN]);
    const byteLength = (i: number) => utf8.encode(this.pieces[i]).length;
    this.specials = [...this.types.keys()].filter((i) => special.has(this.types[i]))
      .map((i) => [i, byteLength(i)]).sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([i]) => i);
  }

  get size(): number {
    return this.pieces.length;
  }

  id(piece: string): number | undefined {
    return this.ids.get(piece);
  }

  /** The token spelling one byte: `<0xNN>`, else (for ASCII) the character itself; -1 when there is none. */
  byteToken(byte: number): number {
    if (!this.byteIds) {
      this.byteIds = new Int32Array(256).map((_, b) =>
        this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`) ?? (b < 0x80 ? this.ids.get(String.fromCharCode(b)) : undefined) ?? -1);
    }
    return this.byteIds[byte];
  }

  /**
   * Text cut around special tokens (llama.cpp's tokenizer_st_partition): each piece is a string to
   * tokenize or a token id. User-defined tokens are always cut out; control and unknown ones only
   * when parseSpecial is set.
   */
  partition(text: string, parseSpecial: boolean): (string | number)[] {
    let parts: (string | number)[] = text ? [text] : [];
    for (const id of this.specials) {
      const type = this.types[id];
      if (!parseSpecial && (type === TokenType.CONTROL || type === TokenType.UNKNOWN)) continue;
      const piece = this.pieces[id];
      if (!parts.some((p) => typeof p === 'string' && p.includes(piece))) continue;
      parts = parts.flatMap((p) => {
        if (typeof p !== 'string') return [p];
        const out: (string | number)[] = [];
        let from = 0;
        for (let at = p.indexOf(piece); at >= 0; at = p.indexOf(piece, from)) {
          if (at > from) out.push(p.slice(from, at));
          out.push(id);
          from = at + piece.length;
        }
        if (from < p.length) out.push(p.slice(from));
        return out;
      });
    }
    return parts;
  }
}

/** An integer metadata value (GGUF integers may arrive as bigint). */
function integer(v: unknown): number | undefined {
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function flag(md: Record<string, unknown>, key: string): boolean | undefined {
  const v = md[key];
  return typeof v === 'boolean' ? v : undefined;
}

/** A numeric array of at least n entries (an array or a typed array), or n copies of dflt when the key is absent. */
function numbers(md: Record<string, unknown>, key: string, n: number, dflt: number, where: string): ArrayLike<number> {
  const v = md[key];
  if (v === undefined) return new Array<number>(n).fill(dflt);
  const ok = (Array.isArray(v) && v.every((x) => typeof x === 'number')) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  if (!ok || (v as ArrayLike<number>).length < n) {
    throw new TokenizerError(`${where}: ${key} should be ${n} numbers, one per token.`);
  }
  return v as ArrayLike<number>;
}
