// SentencePiece (tokenizer.ggml.model = llama) the way llama.cpp runs it: start from single
// characters, keep merging the adjacent pair whose concatenation is the highest-scoring piece (on a
// tie the leftmost pair), then spell each leftover character that is no piece as <0xNN> byte tokens.
import { Heap } from './heap.ts';
import { TokenizerError, type Vocab } from './vocab.ts';

const utf8 = new TextEncoder();

interface Bigram {
  left: number;   // symbol indices
  right: number;
  score: number;
  size: number;   // text length of the pair when it was queued; a merge since then makes it stale
}

/** Appends the tokens of `text` (spaces already written as ▁) to `out`. */
export function spmEncode(vocab: Vocab, text: string, out: number[]): void {
  // Symbols: a doubly linked list over the text, one per code point to start with.
  const len = [...text].map((c) => c.length);  // UTF-16 units: 2 for a character past U+FFFF
  const start: number[] = [];
  let at = 0;
  for (const l of len) {
    start.push(at);
    at += l;
  }
  const n = start.length;
  if (n === 0) return;
  const prev = start.map((_, i) => i - 1);
  const next = start.map((_, i) => (i + 1 < n ? i + 1 : -1));

  const queue = new Heap<Bigram>((a, b) => a.score > b.score || (a.score === b.score && a.left < b.left));
  const tryPair = (left: number, right: number) => {
    if (left < 0 || right < 0) return;
    const size = len[left] + len[right];
    const id = vocab.id(text.slice(start[left], start[left] + size));
    if (id !== undefined) queue.push({ left, right, score: vocab.scores[id], size });
  };
  for (let i = 1; i < n; i++) tryPair(i - 1, i);

  for (let b = queue.pop(); b; b = queue.pop()) {
    if (len[b.left] === 0 || len[b.right] === 0 || len[b.left] + len[b.right] !== b.size) continue;
    len[b.left] += len[b.right];
    len[b.right] = 0;
    next[b.left] = next[b.right];
    if (next[b.right] >= 0) prev[next[b.right]] = b.left;
    tryPair(prev[b.left], b.left);
    tryPair(b.left, next[b.left]);
  }

  for (let i = 0; i !== -1; i = next[i]) {
    const piece = text.slice(start[i], start[i] + len[i]);
    const id = vocab.id(piece);
    if (id !== undefined) out.push(id);
    else out.push(...byteFallback(vocab, piece));
  }
}

/** A character that is no piece: its UTF-8 bytes as byte tokens, or UNK when the vocabulary lacks one of them. */
function byteFallback(vocab: Vocab, char: string): number[] {
  const ids = [...utf8.encode(char)].map((b) => vocab.byteToken(b));
  if (ids.every((id) => id >= 0)) return ids;
  if (vocab.unk < 0) throw new TokenizerError(`${vocab.where}: cannot tokenize ${JSON.stringify(char)}: the vocabulary has neither byte tokens for it nor an unknown token.`);
  return [vocab.unk];
}

/** The bytes a normal SentencePiece token stands for: its text with ▁ as a space. */
export function spmPiece(text: string): Uint8Array {
  return utf8.encode(text.replaceAll('\u2581', ' '));
}
