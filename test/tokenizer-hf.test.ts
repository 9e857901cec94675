// Hugging Face tokenizer.json files, run by @huggingface/tokenizers: two tiny ones built here.
import assert from 'node:assert/strict';
import { tokenizerFromHfJson, TokenizerError, type Tokenizer } from '../runtime/tokenizer/index.ts';

const METASPACE = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };

/** A BPE over lowercase letters with ▁ for spaces, a few merges, and a post-processor that adds <s>. */
function bpeJson() {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2, '▁': 3 };
  for (const c of 'abcdefghijklmnopqrstuvwxyz') vocab[c] = Object.keys(vocab).length;
  const merges = ['▁ t', 'h e', '▁t he', '▁ c', 'a t', '▁c at'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content, special: true })),
    normalizer: null,
    pre_tokenizer: METASPACE,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: METASPACE,
    model: { type: 'BPE', vocab, merges, unk_token: '<unk>' },
  };
}

/** A Unigram model: the split with the best total score wins. */
const UNIGRAM = {
  added_tokens: [{ id: 0, content: '<unk>', special: true }],
  normalizer: null,
  pre_tokenizer: METASPACE,
  post_processor: null,
  decoder: METASPACE,
  model: {
    type: 'Unigram',
    unk_id: 0,
    vocab: [['<unk>', 0], ['▁', -3], ['▁the', -1], ['▁t', -2], ['he', -2], ['t', -3], ['h', -3], ['e', -3], ['▁cat', -1.5], ['c', -3], ['a', -3]],
  },
};

describe('tokenizer: Hugging Face tokenizer.json', () => {
  describe('BPE', () => {
    let tok: Tokenizer;
    before(async () => {
      tok = await tokenizerFromHfJson(JSON.stringify(bpeJson()), { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', clean_up_tokenization_spaces: false });
    });

    it('without a tokenizer_config.json, finds <s> and </s> by name (a Llama tokenizer.json alone)', async () => {
      const bare = await tokenizerFromHfJson(JSON.stringify(bpeJson()));
      assert.deepEqual([bare.bos, bare.eos, bare.addBos], [1, 2, true]);
      assert.ok(bare.isEog?.(2));
    });

    it('knows its special tokens and that the post-processor adds BOS', () => {
      assert.deepEqual([tok.kind, tok.nVocab, tok.bos, tok.eos, tok.unk, tok.addBos], ['hf', 36, 1, 2, 0, true]);
    });

    const cases: [string, number[]][] = [
      ['the cat', [32, 35]],           // ▁the ▁cat
      ['at the', [3, 34, 32]],         // ▁ at ▁the: no "▁a" merge
      ['the</s>', [32, 2]],            // added tokens are always matched
      ['THE', [3, 0, 0, 0]],           // no capitals: <unk>
    ];
    for (const [text, ids] of cases) {
      it(`${JSON.stringify(text)} -> [${ids}], with BOS first by default`, () => {
        assert.deepEqual(tok.encode(text, { addBos: false }), ids);
        assert.deepEqual(tok.encode(text), [1, ...ids]);
      });
    }

    for (const text of ['the cat', 'a cat at the hat', 'x y z', 'the</s>']) {
      it(`round trip: ${JSON.stringify(text)}`, () => assert.equal(tok.decode(tok.encode(text, { addBos: false })), text));
    }

    it('decode shows special tokens unless skipSpecial; an empty list is empty text', () => {
      assert.equal(tok.decode([1, 32, 35, 2]), '<s> the cat</s>');
      assert.equal(tok.decode([1, 32, 35, 2], { skipSpecial: true }), 'the cat');
      assert.equal(tok.decode([]), '');
      assert.equal(tok.decodePiece!(35), 'cat');  // Metaspace drops the ▁ of a first token
    });
  });

  describe('Unigram', () => {
    let tok: Tokenizer;
    before(async () => {
      tok = await tokenizerFromHfJson(UNIGRAM);
    });

    const cases: [string, string[]][] = [
      ['the cat', ['▁the', '▁cat']],
      ['tea', ['▁t', 'e', 'a']],
      ['hat', ['▁', 'h', 'a', 't']],
      ['x', ['▁', '<unk>']],
    ];
    for (const [text, pieces] of cases) {
      it(`${JSON.stringify(text)} -> ${pieces.join(' ')}`, () => {
        assert.deepEqual(tok.encode(text).map((id) => UNIGRAM.model.vocab[id][0]), pieces);
      });
    }

    it('round trips what its vocabulary can spell', () => {
      for (const text of ['the cat', 'tea', 'hat', 'the hat ate the cat']) assert.equal(tok.decode(tok.encode(text)), text);
    });

    it('has no BOS, so encode adds none', () => {
      assert.deepEqual([tok.bos, tok.addBos, tok.unk, tok.nVocab], [-1, false, 0, 11]);
    });
  });

  it('a file that is not JSON, or no tokenizer: a TokenizerError', async () => {
    await assert.rejects(tokenizerFromHfJson('{"model":'), (e: Error) => e instanceof TokenizerError && /tokenizer\.json: not valid JSON/.test(e.message));
    await assert.rejects(tokenizerFromHfJson({ model: { type: 'Nope' } }), (e: Error) => e instanceof TokenizerError && /^tokenizer\.json: /.test(e.message));
  });
});
