// The GGUF tokenizers against llama.cpp: its own test vectors (models/ggml-vocab-*.gguf.inp/.out) and
// the tokenizations node-llama-cpp recorded for the vocab files and the two tiny models
// (../shared/models/reference, see SOURCES.md).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gguf } from '@huggingface/gguf';
import yargs from 'yargs';
import { tokenizeCommand } from '../cli/commands/tokenize.ts';
import { UsageError } from '../cli/report.ts';
import { requireShared } from './support/shared.ts';
import { tokenizerFromGguf, type Tokenizer } from '../runtime/tokenizer/index.ts';

async function load(path: string): Promise<Tokenizer> {
  const { metadata } = await gguf(path, { allowLocalFile: true });
  return tokenizerFromGguf(metadata as Record<string, unknown>, path);
}

/** llama.cpp's tests/test-tokenizer-0 format: strings split by a separator line, one line of ids per string. */
function readVectors(path: string): { text: string; ids: number[] }[] {
  const texts = readFileSync(`${path}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  if (texts.at(-1) === '') texts.pop();
  const lines = readFileSync(`${path}.out`, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  assert.equal(texts.length, lines.length, `${path}: as many .inp strings as .out lines`);
  return texts.map((text, i) => ({ text, ids: lines[i].trim() ? lines[i].trim().split(/\s+/).map(Number) : [] }));
}

// [vocab file, tokenizer kind, bos, eos, add_bos] as llama.cpp reports them
const VOCABS: [string, 'spm' | 'bpe', number, number, boolean][] = [
  ['ggml-vocab-llama-spm.gguf', 'spm', 1, 2, true],
  ['ggml-vocab-deepseek-coder.gguf', 'bpe', 32013, 32014, true],
  ['ggml-vocab-deepseek-llm.gguf', 'bpe', 100000, 100001, true],
];

interface Extra { text: string; parse_special_false: number[]; parse_special_true: number[]; detokenized: string }

describe('tokenizer: llama.cpp vocab files', () => {
  for (const [file, kind, bos, eos, addBos] of VOCABS) {
    describe(file, () => {
      let tok: Tokenizer;
      let vectors: { text: string; ids: number[] }[];
      let extra: Extra[];
      before(async function () {
        const path = requireShared(this, `vocab/${file}`);
        tok = await load(path);
        vectors = readVectors(path);
        const reference = JSON.parse(readFileSync(requireShared(this, 'reference/tokenize_vocab_reference.json'), 'utf8'));
        extra = reference.find((r: { file: string }) => r.file === file).extra;
      });

      it(`is ${kind}, bos ${bos}, eos ${eos}, add_bos ${addBos}`, () => {
        assert.deepEqual([tok.kind, tok.bos, tok.eos, tok.addBos], [kind, bos, eos, addBos]);
      });

      it('matches all 46 llama.cpp test vectors (no BOS, parse_special false)', () => {
        assert.equal(vectors.length, 46);
        const wrong = vectors
          .map(({ text, ids }) => ({ text, expected: ids, got: tok.encode(text, { addBos: false }) }))
          .filter((v) => JSON.stringify(v.got) !== JSON.stringify(v.expected));
        assert.deepEqual(wrong, []);
      });

      it('decodes each test vector back to its text', () => {
        const wrong = vectors.filter(({ text, ids }) => tok.decode(ids) !== text).map(({ text, ids }) => ({ text, decoded: tok.decode(ids) }));
        assert.deepEqual(wrong, []);
      });

      it('matches the recorded extra strings with parse_special false and true, and their detokenization', () => {
        assert.equal(extra.length, 9);
        for (const e of extra) {
          assert.deepEqual(tok.encode(e.text, { addBos: false }), e.parse_special_false, `${JSON.stringify(e.text)}, parse_special false`);
          assert.deepEqual(tok.encode(e.text, { addBos: false, parseSpecial: true }), e.parse_special_true, `${JSON.stringify(e.text)}, parse_special true`);
          assert.equal(tok.decode(e.parse_special_false), e.detokenized, `${JSON.stringify(e.text)}, detokenized`);
        }
      });

      it('prepends BOS by default', () => {
        assert.deepEqual(tok.encode('Hello world'), [bos, ...tok.encode('Hello world', { addBos: false })]);
      });
    });
  }
});

interface Generation {
  model: string;
  prompt: string;
  llamacpp_default: { input_tokens: number[]; tokens: number[]; text: string };
  llamacompletion: { input_tokens: number[] };
  tokenize: { text: string; ids: number[] };
}

describe('tokenizer: the tiny models', () => {
  let generations: Generation[] = [];
  before(function () {
    generations = JSON.parse(readFileSync(requireShared(this, 'reference/generate_reference.json'), 'utf8'));
  });

  for (const model of ['stories260K.gguf', 'TinyStories-656K-Q8_0.gguf']) {
    describe(model, () => {
      let tok: Tokenizer;
      let g: Generation;
      before(async function () {
        tok = await load(requireShared(this, model));
        g = generations.find((x) => x.model === model)!;
      });

      it('tokenizes the prompt as llama.cpp does: BOS, then a leading space (variant A)', () => {
        assert.deepEqual(tok.encode(g.prompt), g.llamacpp_default.input_tokens);
      });

      it("tokenizes it without the leading space as node-llama-cpp's trimLeadingSpace does (variant B)", () => {
        assert.deepEqual(tok.encode(g.prompt, { addSpacePrefix: false }), g.llamacompletion.input_tokens);
      });

      it('tokenizes the recorded sentence without BOS', () => {
        assert.deepEqual(tok.encode(g.tokenize.text, { addBos: false }), g.tokenize.ids);
      });

      it('decodes the generated tokens to the recorded text', () => {
        assert.equal(tok.decode(g.llamacpp_default.tokens), g.llamacpp_default.text);
      });
    });
  }

  it('stories260K: bos 1, eos 2, unk 0, add_bos defaults to true without the key, 512 tokens', async function () {
    const tok = await load(requireShared(this, 'stories260K.gguf'));
    assert.deepEqual([tok.bos, tok.eos, tok.unk, tok.addBos, tok.nVocab], [1, 2, 0, true, 512]);
    assert.deepEqual([tok.isEog?.(2), tok.isEog?.(1)], [true, false]);
  });
});

describe('tlc tokenize', () => {
  /** The command run in this process (the binary costs seconds to start): what it prints. */
  async function tokenize(...args: string[]): Promise<string> {
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: unknown) => printed.push(String(line));
    try {
      await yargs().command(tokenizeCommand).strict().fail((msg, err) => { throw err ?? new UsageError(msg); }).parseAsync(['tokenize', ...args]);
    } finally {
      console.log = log;
    }
    return printed.join('\n');
  }

  it('./bin/tlc.js tokenize prints the ids of a text as JSON', async function () {
    const model = requireShared(this, 'stories260K.gguf');
    const { stdout } = await promisify(execFile)('./bin/tlc.js', ['tokenize', '--model', model, '--text', 'Once upon a time']);
    assert.equal(stdout, '[1,403,407,261,378]\n');
  });

  it('--no-bos, --special and --decode', async function () {
    const model = requireShared(this, 'stories260K.gguf');
    assert.equal(await tokenize('--model', model, '--text', 'Once upon a time', '--no-bos'), '[403,407,261,378]');
    assert.equal(await tokenize('--model', model, '--text', 'a</s>', '--special', '--no-bos'), '[261,2]');
    assert.equal(await tokenize('--model', model, '--decode', '403,407,261,378'), 'Once upon a time');
  });

  it('says which id is not a token id', async function () {
    const model = requireShared(this, 'stories260K.gguf');
    await assert.rejects(tokenize('--model', model, '--decode', '1,512'), (e: Error) =>
      e instanceof UsageError && e.message === "--decode: '512' is not a token id of this model (0..511).");
  });

  it('asks for --text or --decode', async () => {
    await assert.rejects(tokenize('--model', 'm.gguf'), (e: Error) => e instanceof UsageError && /Give --text/.test(e.message));
  });
});
