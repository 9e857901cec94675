// llama.cpp's tokenizer rules on small hand-made vocabularies: merge order and ties, byte fallback,
// special tokens, the leading space, clean-up of spaces, word splitting, streaming and errors.
import assert from 'node:assert/strict';
import { tokenizerFromGguf, TokenStream, TokenizerError, type Tokenizer } from '../runtime/tokenizer/index.ts';
import { preTokenizer, splitWords, type PreTokenizer } from '../runtime/tokenizer/pretokenize.ts';
import { BpeEncoder, bpePiece } from '../runtime/tokenizer/bpe.ts';
import { spmEncode } from '../runtime/tokenizer/spm.ts';
import { TokenType as T, Vocab } from '../runtime/tokenizer/vocab.ts';

/** A SentencePiece model from [piece, score, type] rows; ids are row numbers. */
function spm(rows: [string, number?, number?][], extra: Record<string, unknown> = {}): Tokenizer {
  return tokenizerFromGguf({
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': rows.map((r) => r[0]),
    'tokenizer.ggml.scores': rows.map((r) => r[1] ?? 0),
    'tokenizer.ggml.token_type': rows.map((r) => r[2] ?? T.NORMAL),
    ...extra,
  });
}

const SPECIALS: [string, number, number][] = [['<unk>', 0, T.UNKNOWN], ['<s>', 0, T.CONTROL], ['</s>', 0, T.CONTROL]];
const BYTES: [string, number, number][] = [['<0xC3>', 0, T.BYTE], ['<0xA9>', 0, T.BYTE]];

/** encode then map ids back to pieces, to read expectations as text. */
function pieces(tok: Tokenizer, rows: [string, ...unknown[]][], text: string, opts = {}): string[] {
  return tok.encode(text, { addBos: false, ...opts }).map((id) => rows[id][0]);
}

describe('tokenizer rules: SentencePiece', () => {
  const rows: [string, number?, number?][] = [
    ...SPECIALS, ...BYTES, ['▁'], ['a'], ['b'], ['ab', -1], ['ba', -1], ['▁a', -5], ['abab', -2], ['<|user|>', 0, T.USER_DEFINED],
  ];
  const tok = spm(rows);
  const ids = (...ps: string[]) => ps.map((p) => rows.findIndex((r) => r[0] === p));

  const cases: [string, string, string[]][] = [
    ['equal scores: the leftmost pair merges first', 'aba', ['▁', 'ab', 'a']],
    ['merged pieces merge again', 'abab', ['▁', 'abab']],
    ['a character that is no piece becomes its UTF-8 bytes', 'é', ['▁', '<0xC3>', '<0xA9>']],
    ['spaces become ▁, and one more goes in front', ' a', ['▁', '▁a']],
    ['user-defined tokens are cut out even without parseSpecial; the text after them gets a ▁ too', 'a<|user|>b', ['▁a', '<|user|>', '▁', 'b']],
    ['control tokens are not read without parseSpecial (here each character is <unk>)', '</s>', ['▁', '<unk>', '<unk>', '<unk>', '<unk>']],
  ];
  for (const [rule, text, expected] of cases) {
    it(`${rule}: ${JSON.stringify(text)} -> ${expected.join(' ')}`, () => assert.deepEqual(pieces(tok, rows, text), expected));
  }

  it('the higher score wins wherever it is', () => {
    const r: [string, number?, number?][] = [...SPECIALS, ['▁'], ['a'], ['b'], ['ab', -2], ['ba', -1]];
    assert.deepEqual(pieces(spm(r), r, 'aba', { addSpacePrefix: false }), ['a', 'ba']);
  });

  it('with parseSpecial, control tokens in the text become tokens and the text after them gets the ▁ again', () => {
    assert.deepEqual(pieces(tok, rows, 'a</s>a', { parseSpecial: true }), ['▁a', '</s>', '▁a']);
  });

  it('a character without byte tokens becomes <unk>', () => {
    assert.deepEqual(pieces(tok, rows, 'x', { addSpacePrefix: false }), ['<unk>']);
  });

  // One symbol per code point: U+FFFF is one UTF-16 unit, U+10000 two (a surrogate pair), and neither
  // takes the 'a' after it along. Neither is a piece, and their UTF-8 bytes have no byte tokens: <unk>.
  const codePoints: [string, string, string[]][] = [
    ['the last one-unit code point', '\uFFFFa', ['<unk>', 'a']],
    ['the first two-unit code point', '\u{10000}a', ['<unk>', 'a']],
    ['a lone surrogate (U+FFFD on its way to UTF-8)', '\uD800a', ['<unk>', 'a']],
  ];
  for (const [what, text, expected] of codePoints) {
    it(`symbols are code points: ${what}: ${JSON.stringify(text)} -> ${expected.join(' ')}`, () => {
      assert.deepEqual(pieces(tok, rows, text, { addSpacePrefix: false }), expected);
    });
  }

  // Byte fallback takes all the bytes of a character or none: é is C3 A9.
  const fallbacks: [string, [string, number?, number?][], string[]][] = [
    ['only <0xC3>: one missing byte token makes the character <unk>', [['<unk>', 0, T.UNKNOWN], ['<0xC3>', 0, T.BYTE], ['a']], ['<unk>']],
    ['byte tokens at ids 0 and 1 are byte tokens like any other', [['<0xC3>', 0, T.BYTE], ['<0xA9>', 0, T.BYTE], ['<unk>', 0, T.UNKNOWN]], ['<0xC3>', '<0xA9>']],
  ];
  for (const [what, r, expected] of fallbacks) {
    it(`byte fallback: ${what}`, () => {
      assert.deepEqual(pieces(spm(r, { 'tokenizer.ggml.unknown_token_id': r.findIndex((x) => x[0] === '<unk>') }), r, 'é', { addSpacePrefix: false }), expected);
    });
  }

  it('a vocabulary without byte tokens and without <unk> (here: no tokens at all) cannot tokenize a character: a TokenizerError', () => {
    const empty = spm([], { 'tokenizer.ggml.add_bos_token': false });
    assert.equal(empty.unk, undefined);
    assert.throws(() => empty.encode('x', { addSpacePrefix: false }), (e: Error) =>
      e instanceof TokenizerError && e.message === 'GGUF: cannot tokenize "x": the vocabulary has neither byte tokens for it nor an unknown token.');
  });

  it('spmEncode of no text appends nothing', () => {
    const vocab = new Vocab({ 'tokenizer.ggml.tokens': ['a'] }, { bos: -1, eos: -1, unk: 0, addBos: false, addSpacePrefix: false });
    const out = [7];
    spmEncode(vocab, '', out);
    assert.deepEqual(out, [7]);
  });

  it('BOS comes first by default, EOS only when asked', () => {
    assert.deepEqual(tok.encode('a'), ids('<s>', '▁a'));
    assert.deepEqual(tok.encode('a', { addBos: false, addEos: true }), ids('▁a', '</s>'));
  });

  const decodes: [string, string[], string, string][] = [
    // [what, tokens, decode, decode with skipSpecial]
    ['the leading space of the first token goes', ['▁a', '▁'], 'a ', 'a '],
    ['but stays after BOS, as in llama.cpp', ['<s>', '▁a'], '<s> a', ' a'],
    ['byte tokens join into one character', ['a', '<0xC3>', '<0xA9>'], 'aé', 'aé'],
    ['control and unknown tokens show unless skipped', ['b', '<unk>', '</s>'], 'b<unk></s>', 'b'],
    ['user-defined tokens always show', ['<|user|>', 'b'], '<|user|>b', '<|user|>b'],
  ];
  for (const [what, tokens, plain, skipped] of decodes) {
    it(`decode: ${what}: ${tokens.join(' ')} -> ${JSON.stringify(plain)}, skipping special ${JSON.stringify(skipped)}`, () => {
      assert.equal(tok.decode(ids(...tokens)), plain);
      assert.equal(tok.decode(ids(...tokens), { skipSpecial: true }), skipped);
    });
  }

  it('decodePiece gives one token’s text, special tokens included, a lone byte as U+FFFD', () => {
    assert.deepEqual(ids('▁a', '<s>', '<0xC3>').map((id) => tok.decodePiece!(id)), [' a', '<s>', '\uFFFD']);
  });

  it('streams whole characters, and holds back a space near the end until it is settled', () => {
    const stream = new TokenStream(tok);
    assert.deepEqual(ids('▁a', '<0xC3>', '<0xA9>', '▁', 'ab').map((id) => stream.push(id)), ['a', '', 'é', '', '']);
    assert.equal(stream.flush(), ' ab');
  });

  it('reads add_bos, add_space_prefix and special ids from the metadata', () => {
    const t = spm(rows, { 'tokenizer.ggml.add_bos_token': false, 'tokenizer.ggml.add_space_prefix': false, 'tokenizer.ggml.eos_token_id': 12 });
    assert.deepEqual([t.addBos, t.eos, t.encode('a')], [false, 12, ids('a')]);
  });

  it('keeps the default special id when the metadata gives one outside the vocabulary', () => {
    assert.equal(spm(rows, { 'tokenizer.ggml.eos_token_id': 4294967295 }).eos, 2);
  });
});

describe('tokenizer rules: byte-level BPE', () => {
  // GPT-2's byte characters: 'Ġ' is the space.
  const merges = ['l l', 'h e', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld', 'Ġ ,', "' s"];
  const tokens = ['!', ',', "'", 's', 'd', 'e', 'h', 'l', 'o', 'r', 'w', 'Ġ', 'll', 'he', 'hell', 'hello', 'Ġw', 'or', 'Ġwor', 'ld', 'Ġworld', 'Ġ,', "'s", '<|end|>'];
  const bpe = (pre: string) => tokenizerFromGguf({
    'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': pre, 'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': tokens.map((t) => (t === '<|end|>' ? T.CONTROL : T.NORMAL)),
    'tokenizer.ggml.merges': merges, 'tokenizer.ggml.eos_token_id': 23,
  });
  const gpt2 = bpe('gpt-2');
  const text = (ids: number[]) => ids.map((id) => tokens[id]);

  const cases: [string, string, string[]][] = [
    ['merges by rank', 'hello world', ['hello', 'Ġworld']],
    ['equal ranks: leftmost first', 'lll', ['ll', 'l']],
    ['words split before merging: contractions, a space joins the next word', "he's ,", ['he', "'s", 'Ġ,']],
  ];
  for (const [rule, input, expected] of cases) {
    it(`${rule}: ${JSON.stringify(input)} -> ${expected.join(' ')}`, () => assert.deepEqual(text(gpt2.encode(input)), expected));
  }

  it('competing merges: the lower rank wins ("abc" is ab c with a b first, a bc with b c first)', () => {
    const abc = (merges: string[]) => {
      const toks = ['a', 'b', 'c', 'ab', 'bc'];
      const t = tokenizerFromGguf({ 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'gpt-2', 'tokenizer.ggml.tokens': toks, 'tokenizer.ggml.merges': merges });
      return t.encode('abc').map((id) => toks[id]);
    };
    assert.deepEqual(abc(['a b', 'b c']), ['ab', 'c']);
    assert.deepEqual(abc(['b c', 'a b']), ['a', 'bc']);
    // A merge listed twice keeps its first rank (0 here, not 2).
    assert.deepEqual(abc(['a b', 'b c', 'a b']), ['ab', 'c']);
  });

  /** A byte-level BPE tokenizer on the given tokens and merges: encode(text) as token texts. */
  const small = (toks: string[], merges: string[], pre = 'gpt-2') => {
    const t = tokenizerFromGguf({ 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': pre, 'tokenizer.ggml.tokens': toks, 'tokenizer.ggml.merges': merges, 'tokenizer.ggml.add_bos_token': false });
    return (text: string) => t.encode(text, { addBos: false }).map((id) => toks[id]);
  };

  it('llama3 takes a word that is a token as it is (ignore_merges); gpt-2 merges it', () => {
    const toks = ['a', 'b', 'ab'];
    assert.deepEqual(small(toks, [], 'gpt-2')('ab'), ['a', 'b']);
    assert.deepEqual(small(toks, [], 'llama3')('ab'), ['ab']);
  });

  // A merged symbol that is no token: llama.cpp looks up each of its bytes alone, so only ASCII ones
  // come out ('é' is the byte characters Ã ©, two non-ASCII characters, and is dropped).
  const leftovers: [string, string, string[]][] = [
    ['its ASCII characters one by one', 'ab', ['a', 'b']],
    ['nothing for its non-ASCII characters', 'é', []],
    ['both in one word', 'abé', ['a', 'b']],
  ];
  for (const [what, input, expected] of leftovers) {
    it(`a merged symbol that is no token gives ${what}: ${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(small(['a', 'b', 'Ã', '©'], ['a b', 'Ã ©'])(input), expected);
    });
  }

  // GPT-2's byte table: printable Latin-1 characters are their own byte; the 68 others (0x00-0x20,
  // 0x7F-0xA0, 0xAD) are U+0100.. in byte order, so U+0100 + 33 + 34 = U+0143 is 0xAD, the last.
  const byteChars: [string, number][] = [
    ['!', 0x21], ['~', 0x7e], ['¡', 0xa1], ['¬', 0xac], ['®', 0xae], ['ÿ', 0xff],
    ['\u0100', 0x00], ['\u0120', 0x20], ['\u0121', 0x7f], ['\u0142', 0xa0], ['\u0143', 0xad],
  ];
  for (const [c, byte] of byteChars) {
    it(`the byte character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}) is byte 0x${byte.toString(16)}`, () => {
      assert.deepEqual([...bpePiece(c)], [byte]);
    });
  }

  it('a character outside the byte table decodes as llama.cpp marks it: [UNK_BYTE_0x<its UTF-8>, the token text]', () => {
    // U+0144 (UTF-8 C5 84) is the first character past the table.
    assert.equal(new TextDecoder().decode(bpePiece('a\u0144')), 'a[UNK_BYTE_0xc584a\u0144]');
    // Two hex digits a byte, as llama.cpp's %02x: a raw tab (byte 09 is written U+0109 in the table).
    assert.equal(new TextDecoder().decode(bpePiece('\t')), '[UNK_BYTE_0x09\t]');
  });

  it('an empty word (a pre-tokenizer without patterns passes the text whole) gives no tokens', () => {
    const out: number[] = [];
    new BpeEncoder({ id: () => 0 } as unknown as Vocab, [], { regexes: [], ignoreMerges: false } as unknown as PreTokenizer).encode('', out);
    assert.deepEqual(out, []);
  });

  it('encodes a byte through its byte character: "®" is C2 AE, "Â®"', () => {
    assert.deepEqual(small(['Â', '®', 'Â®'], ['Â ®'])('®'), ['Â®']);
  });

  it('cleans " ," to "," when decoding for gpt-2, not for deepseek', () => {
    const ids = gpt2.encode('hello , world');
    assert.equal(gpt2.decode(ids), 'hello, world');
    assert.equal(bpe('deepseek-llm').decode(ids), 'hello , world');
  });

  it('marks EOS and end-of-turn tokens as end of generation', () => {
    assert.deepEqual([gpt2.isEog!(23), gpt2.isEog!(5)], [true, false]);
  });
});

describe('tokenizer rules: word splitting', () => {
  const cases: [string, string, string[]][] = [
    ['gpt-2', "Hello world's  end", ['Hello', ' world', "'s", ' ', ' end']],
    ['llama-bpe', "I'M 12345\n\n x", ['I', "'M", ' ', '123', '45', '\n\n', ' x']],
    ['deepseek-coder', 'ab12 c\nd', ['ab', '1', '2', ' c', '\n', 'd']],
    ['deepseek-llm', 'ab12 c  ', ['ab', '12', ' c', '  ']],
    // U+3000 is whitespace to llama.cpp's std::regex, so it leads the word instead of being punctuation
    ['deepseek-llm', 'x\u3000y', ['x', '\u3000y']],
    ['default', 'a+b 1234', ['a', '+', 'b', ' ', '123', '4']],
  ];
  for (const [pre, input, expected] of cases) {
    it(`${pre}: ${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(splitWords(input, preTokenizer(pre, 'test').regexes), expected);
    });
  }
});

describe('tokenizer rules: errors', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no tokenizer at all', {}, /has no tokenizer\.ggml\.model key/],
    ['an unknown tokenizer model', { 'tokenizer.ggml.model': 'rwkv' }, /'llama' \(SentencePiece\) and 'gpt2'/],
    ['tokens missing', { 'tokenizer.ggml.model': 'llama' }, /tokenizer\.ggml\.tokens is missing/],
    ['too few scores', { 'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.tokens': ['a', 'b'], 'tokenizer.ggml.scores': [0] }, /scores should be 2 numbers/],
    ['an unknown pre-tokenizer', { 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'qwen9', 'tokenizer.ggml.tokens': ['a'] }, /pre = 'qwen9'/],
    ['BPE without merges', { 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.tokens': ['a'] }, /merges is missing/],
    ['BPE merges that are not all strings', { 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.tokens': ['a'], 'tokenizer.ggml.merges': ['a b', 7] }, /merges is missing or not an array of strings/],
  ];
  for (const [what, md, message] of cases) {
    it(`${what}: a TokenizerError that says so`, () => {
      assert.throws(() => tokenizerFromGguf(md, 'm.gguf'), (e: Error) => e instanceof TokenizerError && message.test(e.message) && e.message.startsWith('m.gguf'));
    });
  }

  it('decoding an id outside the vocabulary', () => {
    assert.throws(() => spm([...SPECIALS]).decode([3]), /token id 3 is outside the vocabulary \(0\.\.2\)/);
  });
});
