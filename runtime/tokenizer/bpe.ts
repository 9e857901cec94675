// GPT-2-style byte-level BPE (tokenizer.ggml.model = gpt2) the way llama.cpp runs it: cut the text
// into words, write each word's UTF-8 bytes as GPT-2's printable byte characters, then keep merging
// the adjacent pair with the lowest merge rank (on a tie the leftmost pair).
import { Heap } from './heap.ts';
import { splitWords, type PreTokenizer } from './pretokenize.ts';
import { TokenizerError, type Vocab } from './vocab.ts';

const utf8 = new TextEncoder();

// GPT-2's byte <-> character table: printable Latin-1 bytes stand for themselves, the other 68 bytes
// (controls, space, 0x7F-0xA0, 0xAD) take the characters from U+0100 on, in byte order.
const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
const OTHERS = Array.from({ length: 256 }, (_, b) => b).filter((b) => !printable(b));
const BYTE_CHAR = Array.from({ length: 256 }, (_, b) => String.fromCharCode(printable(b) ? b : 256 + OTHERS.indexOf(b)));
const CHAR_BYTE = new Map(BYTE_CHAR.map((c, b) => [c, b]));

interface Bigram {
  left: number;   // symbol indices
  right: number;
  rank: number;
  text: string;   // the pair's text when it was queued; a merge since then makes it stale
}

export class BpeEncoder {
  private readonly ranks = new Map<string, number>();  // "left right" -> merge rank

  constructor(private readonly vocab: Vocab, merges: readonly string[], private readonly pre: PreTokenizer) {
    merges.forEach((m, i) => { if (!this.ranks.has(m)) this.ranks.set(m, i); });
  }

  /** Appends the tokens of `text` to `out`. */
  encode(text: string, out: number[]): void {
    for (const word of splitWords(text, this.pre.regexes)) {
      this.encodeWord([...utf8.encode(word)].map((b) => BYTE_CHAR[b]).join(''), out);
    }
  }

  private encodeWord(word: string, out: number[]): void {
    if (this.pre.ignoreMerges) {
      const id = this.vocab.id(word);
      if (id !== undefined) return void out.push(id);
    }
    // Symbols: a doubly linked list of texts, one byte character each to start with.
    const sym = [...word];
    const n = sym.length;
    const prev = sym.map((_, i) => i - 1);
    const next = sym.map((_, i) => (i + 1 < n ? i + 1 : -1));

    const queue = new Heap<Bigram>((a, b) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left));
    const tryPair = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const rank = this.ranks.get(`${sym[left]} ${sym[right]}`);
      if (rank !== undefined) queue.push({ left, right, rank, text: sym[left] + sym[right] });
    };
    for (let i = 1; i < n; i++) tryPair(i - 1, i);

    for (let b = queue.pop(); b; b = queue.pop()) {
      if (!sym[b.left] || !sym[b.right] || sym[b.left] + sym[b.right] !== b.text) continue;
      sym[b.left] = b.text;
      sym[b.right] = '';
      next[b.left] = next[b.right];
      if (next[b.right] >= 0) prev[next[b.right]] = b.left;
      tryPair(prev[b.left], b.left);
      tryPair(b.left, next[b.left]);
    }

    for (let i = n > 0 ? 0 : -1; i !== -1; i = next[i]) {
      const id = this.vocab.id(sym[i]);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      // Not a token: llama.cpp looks up each byte of the symbol's text alone, which only an ASCII one can match.
      for (const c of sym[i]) {
        const single = c < '\x80' ? this.vocab.id(c) : undefined;
        if (single !== undefined) out.push(single);
      }
    }
  }
}

/** The bytes a normal byte-level BPE token stands for. */
export function bpePiece(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const c of text) {
    const b = CHAR_BYTE.get(c);
    if (b !== undefined) bytes.push(b);
    // A character outside GPT-2's table: llama.cpp prints this marker instead.
    else bytes.push(...utf8.encode(`[UNK_BYTE_0x${[...utf8.encode(c)].map((x) => x.toString(16).padStart(2, '0')).join('')}${text}]`));
  }
  return Uint8Array.from(bytes);
}

/** Merges as GGUF stores them ("Ġ t"), checked. */
export function mergesOf(md: Record<string, unknown>, where: string): string[] {
  const merges = md['tokenizer.ggml.merges'];
  if (!Array.isArray(merges) || merges.some((m) => typeof m !== 'string')) {
    throw new TokenizerError(`${where}: tokenizer.ggml.merges is missing or not an array of strings, which a BPE (gpt2) tokenizer needs.`);
  }
  return merges;
}
