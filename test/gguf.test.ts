// Reading GGUF files: the real tiny models against the reference parse, and bad files of every kind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { bytesSource } from '../runtime/bytes.ts';
import { readGguf, assertSupported, ggmlTypeName, ggmlTypeByName, rowBytes, GgufError, type GgufFile } from '../runtime/gguf.ts';
import { llamaHParams } from '../runtime/hparams.ts';
import { openGguf } from '../runtime/node/gguf.ts';
import { writeGguf, synthLlama, kv, type GgufContents } from '../runtime/gguf-writer.ts';
import { TlcError } from '../runtime/errors.ts';
import { requireShared, sharedModel } from './support/shared.ts';

interface Reference {
  file: string; gguf_version: number; architecture: string; name: string;
  context_length: number; embedding_length: number; block_count: number; feed_forward_length: number;
  head_count: number; head_count_kv: number; rope_dimension_count: number; rope_freq_base?: number; rms_norm_eps: number;
  vocab_size_meta?: number; tokenizer_model: string; n_tokens: number; n_merges?: number;
  bos_token_id: number; eos_token_id: number; add_bos?: boolean; add_eos?: boolean;
  n_tensors: number; tensor_data_offset: number;
  metadata_summary: Record<string, unknown>;
  tensors: { name: string; shape: number[]; type: string; offset: number }[];
}

const REFERENCE_JSON = 'reference/gguf_metadata.json';
const PATHS: Record<string, string> = {
  'stories260K.gguf': 'stories260K.gguf',
  'TinyStories-656K-Q8_0.gguf': 'TinyStories-656K-Q8_0.gguf',
  'ggml-vocab-llama-spm.gguf': 'vocab/ggml-vocab-llama-spm.gguf',
  'ggml-vocab-deepseek-coder.gguf': 'vocab/ggml-vocab-deepseek-coder.gguf',
  'ggml-vocab-deepseek-llm.gguf': 'vocab/ggml-vocab-deepseek-llm.gguf',
};

describe('GGUF reader: the real models match the reference parse', function () {
  const refPath = sharedModel(REFERENCE_JSON);
  const refs: Reference[] = refPath ? JSON.parse(readFileSync(refPath, 'utf8')) : [];
  if (!refPath) it('(skipped: no reference)', function () { requireShared(this, REFERENCE_JSON); });

  for (const ref of refs) {
    describe(ref.file, () => {
      let file: GgufFile;
      before(async function () {
        file = await openGguf(requireShared(this, PATHS[ref.file]));
      });
      after(() => file?.source.close?.());

      it('has the reference version, metadata keys and values', () => {
        assert.equal(file.version, ref.gguf_version);
        const { version: _v, tensor_count: _t, kv_count, ...summary } = ref.metadata_summary;
        assert.equal(Object.keys(file.metadata).length, kv_count);
        assert.deepEqual(Object.keys(file.metadata).sort(), Object.keys(summary).sort());
        for (const [key, want] of Object.entries(summary)) {
          const got = file.metadata[key];
          if (Array.isArray(got)) {
            // The reference summarizes arrays as "array[N] first=[...]".
            const m = /^array\[(\d+)\](?: first=(.*))?$/.exec(want as string)!;
            assert.equal(got.length, Number(m[1]), key);
            if (m[2]) assert.deepEqual(got.slice(0, 5), JSON.parse(m[2]), key);
          } else {
            assert.equal(got, want, key);
          }
        }
      });

      it('has the reference tensors, at absolute offsets', () => {
        assert.equal(file.tensors.length, ref.n_tensors);
        assert.deepEqual(
          file.tensors.map((t) => ({ name: t.name, shape: t.shape, type: ggmlTypeName(t.type), offset: t.offset - ref.tensor_data_offset })),
          ref.tensors,
        );
        for (const t of file.tensors) {
          assert.equal(file.tensor(t.name), t);
          assert.ok(t.offset + t.byteLength <= file.source.size);
        }
      });

      it('gives the reference hyperparameters', () => {
        const h = llamaHParams(file);
        assert.deepEqual(
          [h.arch, h.n_layer, h.n_embd, h.n_ff, h.n_head, h.n_head_kv, h.n_rot, h.n_ctx_train, h.rms_eps, h.rope_freq_base],
          [ref.architecture, ref.block_count, ref.embedding_length, ref.feed_forward_length, ref.head_count,
            ref.head_count_kv, ref.rope_dimension_count, ref.context_length, ref.rms_norm_eps, ref.rope_freq_base ?? 10000],
        );
        assert.equal(h.head_dim, ref.embedding_length / ref.head_count);
        assert.equal(h.n_vocab, ref.vocab_size_meta ?? ref.n_tokens);
        assert.equal(h.tokenizer_model, ref.tokenizer_model);
        assert.deepEqual([h.bos_id, h.eos_id], [ref.bos_token_id, ref.eos_token_id]);
        assert.equal(h.add_bos, ref.add_bos ?? ref.tokenizer_model === 'llama');
        assert.equal(h.add_eos, ref.add_eos ?? false);
      });
    });
  }

  // From SOURCES.md: what the two runnable models are.
  const models: [string, { tied: boolean; byteLengths: Record<string, number> }][] = [
    ['stories260K.gguf', { tied: false, byteLengths: { 'token_embd.weight': 64 * 512 * 4, 'blk.0.ffn_down.weight': 172 * 64 * 4 } }],
    ['TinyStories-656K-Q8_0.gguf', { tied: true, byteLengths: { 'token_embd.weight': (128 / 32) * 34 * 2048, 'output_norm.weight': 128 * 4 } }],
  ];
  for (const [name, want] of models) {
    it(`${name}: output head ${want.tied ? 'tied' : 'separate'}, tensor byte lengths`, async function () {
      const file = await openGguf(requireShared(this, name));
      assert.equal(llamaHParams(file).tied_output, want.tied);
      for (const [t, n] of Object.entries(want.byteLengths)) assert.equal(file.tensor(t)?.byteLength, n, t);
      await file.source.close?.();
    });
  }

  it('a missing file is a TlcError naming the path', async () => {
    await assert.rejects(openGguf('/nonexistent/model.gguf'), (e: Error) => e instanceof TlcError && /\/nonexistent\/model\.gguf: .*no such file/.test(e.message));
  });
});

// ---- bad files ----

const NAME = 'bad/model.gguf';
const read = (bytes: Uint8Array) => readGguf(bytesSource(bytes, NAME));

/** A small valid model: 1 layer, F32, 300 tokens. */
const good = synthLlama({ layers: 1, embd: 32, heads: 2, ff: 64, vocab: 300 });

function setU64(bytes: Uint8Array, at: number, v: number | bigint): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(at, BigInt(v), true);
  return out;
}
/** Byte offset just after the first occurrence of an ASCII string (a key or a token). */
function endOf(bytes: Uint8Array, s: string): number {
  const i = Buffer.from(bytes).indexOf(s);
  assert.ok(i >= 0, s);
  return i + s.length;
}
function oneTensor(type: T, shape: number[], bytes: number, extra: Partial<GgufContents> = {}): Uint8Array {
  return writeGguf({
    metadata: { 'general.architecture': kv.str('llama') },
    tensors: [{ name: 'blk.0.attn_q.weight', type, shape, data: new Uint8Array(bytes) }],
    ...extra,
  });
}

describe('GGUF reader: bad files are GgufErrors that name the file', function () {
  this.timeout(5000); // none may hang

  it('reads the good file these are made from', async () => {
    const f = await read(good);
    assert.equal(f.tensors.length, 2 + 9 + 1);
  });

  const dataOffset = async () => (await read(good)).dataOffset;
  const cases: [string, () => Promise<Uint8Array>, RegExp][] = [
    ['an empty file', async () => new Uint8Array(0), /not a GGUF file \(it is empty/],
    ['a zip file', async () => new Uint8Array([0x50, 0x4b, 3, 4, 20, 0, 0, 0]), /not a GGUF file \(it starts with "PK/],
    ['text', async () => new TextEncoder().encode('hello world, not a model'), /not a GGUF file \(it starts with "hell"/],
    ['only the magic', async () => good.slice(0, 4), /runs past the end of the file \(4 bytes\)/],
    ['cut inside the version', async () => good.slice(0, 6), /runs past the end of the file \(6 bytes\)/],
    ['truncated in the header counts', async () => good.slice(0, 14), /runs past the end of the file \(14 bytes\): the file is truncated/],
    ['truncated in the first key', async () => good.slice(0, 30), /claims 12 tensors and 24 metadata keys, more than fit in the file \(30 bytes\): the file is truncated/],
    ['truncated in the metadata', async () => good.slice(0, 700), /runs past the end of the file \(700 bytes\): the file is truncated/],
    // The counts bound: 12 tensors x 24 bytes + 24 keys x 13 bytes = 600 bytes at least.
    ['cut to 599 bytes, one less than the counts need', async () => good.slice(0, 599), /claims 12 tensors and 24 metadata keys, more than fit in the file \(599 bytes\)/],
    ['cut to the 600 bytes the counts need: parsed, then found short', async () => good.slice(0, 600),
      /^bad\/model\.gguf: the GGUF header runs past the end of the file \(600 bytes\): the file is truncated or its header is corrupt\.$/],
    // The parser reads zeros past the end (empty strings) until it asks for a whole chunk past it.
    ['a string array at the end claiming 900,000 strings', async () => {
      const b = writeGguf({ metadata: { 'x.list': kv.strs([]) }, tensors: [] });
      return setU64(b, endOf(b, 'x.list') + 8, 900_000); // after the key: value type, item type, count
    }, /^bad\/model\.gguf: the GGUF header runs past the end of the file \(64 bytes\): the file is truncated or its header is corrupt\.$/],
    ['truncated inside the token array', async () => good.slice(0, endOf(good, '<0x41>')), /runs past the end of the file/],
    ['truncated in the tensor infos', async () => good.slice(0, (await dataOffset()) - 40), /runs past the end of the file/],
    ['truncated in the tensor data', async () => good.slice(0, (await dataOffset()) + 100),
      /tensor token_embd\.weight \(F32 \[32, 300\]\): its data \(38400 bytes at offset \d+\) runs past the end of the file \(\d+ bytes\): the file is truncated/],
    ['missing its last byte', async () => good.slice(0, good.length - 1), /tensor blk\.0\.ffn_down\.weight \(F32 \[64, 32\]\).* runs past the end/],
    ['a header claiming 50,000 tensors', async () => setU64(good, 8, 50_000), /the GGUF header claims 50000 tensors and 24 metadata keys, more than fit in the file \(\d+ bytes\)/],
    ['a header claiming 2^60 keys', async () => setU64(good, 16, 2n ** 60n), /claims 12 tensors and 1152921504606846976 metadata keys, more than fit/],
    ['a header claiming 2 more tensors than it has', async () => setU64(good, 8, 14), /malformed GGUF header: String length \d+ exceeds/],
    ['a header claiming 2 more keys than it has', async () => setU64(good, 16, 27), /malformed GGUF header/],
    ['a token array claiming 900,000 strings', async () => setU64(good, endOf(good, 'tokenizer.ggml.tokens') + 8, 900_000), /malformed GGUF header: String length \d+ exceeds/],
    ['GGUF version 1', async () => { const b = good.slice(); b[4] = 1; return b; }, /GGUF version 1 is not supported \(2 and 3 are\)/],
    ['an alignment of 48', async () => {
      const bytes = good.slice();
      new DataView(bytes.buffer).setUint32(endOf(good, 'general.alignment') + 4, 48, true);
      return bytes;
    }, /general\.alignment 48 is not a power of two/],
    ['a big-endian file', async () => { const b = good.slice(); b.set([0, 0, 0, 3], 4); return b; }, /big-endian GGUF files are not supported/],
    ['a key written twice', async () => {
      const b = writeGguf({ metadata: { 'general.aa': kv.u32(1), 'general.ab': kv.u32(2) }, tensors: [] });
      b[endOf(b, 'general.ab') - 1] = 'a'.charCodeAt(0);
      return b;
    }, /lists 2 metadata keys, but only 1 distinct ones/],
    ['a string claiming 2^62 bytes', async () => setU64(good, endOf(good, 'general.architecture') + 4, 2n ** 62n), /malformed GGUF header: String length/],
    ['tensor data not aligned to general.alignment', async () => {
      const bytes = good.slice();
      new DataView(bytes.buffer).setUint32(endOf(good, 'general.alignment') + 4, 256, true); // written as 32
      return bytes;
    }, /tensor output\.weight .*data offset 38528 is not a multiple of the alignment 256/],
    ['rows that are not whole blocks', async () => oneTensor(T.Q8_0, [48, 2], 102), /tensor blk\.0\.attn_q\.weight \(Q8_0 \[48, 2\]\): rows of 48 values are not whole blocks of 32/],
    ['an unknown type id', async () => oneTensor(99 as T, [4], 16), /tensor blk\.0\.attn_q\.weight \(type 99 \[4\]\) has an unknown ggml type id 99/],
    ['a tensor of no dimensions', async () => oneTensor(T.F32, [], 4), /tensor blk\.0\.attn_q\.weight \(F32 \[\]\) has no dimensions\.$/],
    ['a tensor of 2^32 x 2^32 values', async () => {
      const b = oneTensor(T.F32, [32, 2], 256);
      const at = endOf(b, 'blk.0.attn_q.weight') + 4; // after the name and the dimension count
      return setU64(setU64(b, at, 2 ** 32), at + 8, 2 ** 32);
    }, /tensor blk\.0\.attn_q\.weight \(F32 \[4294967296, 4294967296\]\) is impossibly large\.$/],
    ['two tensors of one name', async () => writeGguf({
      metadata: {},
      tensors: [1, 2].map(() => ({ name: 'x', type: T.F32, shape: [8], data: new Uint8Array(32) })),
    }), /two tensors are named x/],
  ];
  for (const [what, make, message] of cases) {
    it(`${what} -> ${message.source.slice(0, 60)}`, async () => {
      const bytes = await make();
      await assert.rejects(read(bytes), (e: Error) => {
        assert.ok(e instanceof GgufError, `${e.name}: ${e.message}`);
        assert.equal(e.name, 'GgufError');
        assert.ok(e.message.startsWith(`${NAME}: `), e.message);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  it('the header alone (24 bytes: no keys, no tensors) reads', async () => {
    const f = await read(writeGguf({ metadata: {}, tensors: [] }).slice(0, 24));
    assert.deepEqual([f.version, f.alignment, f.metadata, f.tensors, f.source.size], [3, 32, {}, [], 24]);
  });

  it('GGUF version 2 reads (the same layout as 3)', async () => {
    const b = good.slice();
    b[4] = 2;
    const f = await read(b);
    assert.deepEqual([f.version, f.tensors.length, f.metadata['general.architecture']], [2, 12, 'llama']);
  });

  it('a tensor of a type tlc computes with passes assertSupported', async () => {
    for (const [type, bytes] of [[T.F32, 4 * 64], [T.F16, 2 * 64], [T.Q8_0, 2 * 34], [T.Q4_0, 2 * 18]] as const) {
      const file = await read(oneTensor(type, [64], bytes));
      assert.doesNotThrow(() => assertSupported(file, file.tensors[0]), ggmlTypeName(type));
    }
    const k = await read(oneTensor(T.Q4_K, [256], 144));
    assert.doesNotThrow(() => assertSupported(k, k.tensors[0]));
    const q6 = await read(oneTensor(T.Q6_K, [256], 210));
    assert.doesNotThrow(() => assertSupported(q6, q6.tensors[0]));
  });

  it('a tensor of a type tlc cannot compute with reads, and fails when used, naming file, tensor and type', async () => {
    const file = await read(oneTensor(T.Q5_1, [64, 2], 4 * 24));
    const t = file.tensor('blk.0.attn_q.weight')!;
    assert.deepEqual([t.type, t.byteLength], [T.Q5_1, 96]);
    assert.throws(() => assertSupported(file, t), (e: Error) =>
      e instanceof GgufError && e.message === 'bad/model.gguf: tensor blk.0.attn_q.weight has type Q5_1, which tlc does not support ' +
        '(supported: F32, F16, Q8_0, Q4_0, Q4_K, Q6_K). Requantize the model, e.g. to Q8_0 or Q4_K.');
  });

  it('the vocabulary-only files (0 tensors) read', async function () {
    for (const f of ['vocab/ggml-vocab-llama-spm.gguf', 'vocab/ggml-vocab-deepseek-coder.gguf']) {
      const file = await openGguf(requireShared(this, f));
      assert.equal(file.tensors.length, 0);
      assert.ok((file.metadata['tokenizer.ggml.tokens'] as string[]).length >= 32000);
      await file.source.close?.();
    }
  });
});

describe('ggml types', () => {
  // ggml's type ids (ggml.h): F32 0, F16 1, Q4_0 2, Q8_0 8, Q4_K 12, Q6_K 14.
  const names: [string, number | undefined][] = [['F32', 0], ['q8_0', 8], ['Q4_k', 12], ['q6_K', 14], ['Q9_9', undefined], ['8', undefined], ['', undefined]];
  for (const [name, id] of names) {
    it(`ggmlTypeByName(${JSON.stringify(name)}) is ${id}`, () => assert.equal(ggmlTypeByName(name), id));
  }

  // Bytes of a row of ne0 values: ne0 / values per block x bytes per block (ggml-common.h).
  const rows: [T, number, number][] = [[T.F32, 10, 40], [T.F16, 10, 20], [T.Q8_0, 64, 68], [T.Q4_0, 96, 54], [T.Q4_K, 512, 288], [T.Q6_K, 256, 210]];
  for (const [type, ne0, bytes] of rows) {
    it(`a row of ${ne0} ${ggmlTypeName(type)} values is ${bytes} bytes`, () => assert.equal(rowBytes({ type, shape: [ne0, 3] }), bytes));
  }
});

describe('hyperparameters: missing or inconsistent keys', () => {
  const base: Record<string, unknown> = {
    'general.architecture': 'llama', 'llama.block_count': 2, 'llama.embedding_length': 64, 'llama.feed_forward_length': 128,
    'llama.attention.head_count': 4, 'llama.context_length': 256, 'llama.attention.layer_norm_rms_epsilon': 1e-5, 'llama.vocab_size': 300,
  };
  const fake = (metadata: Record<string, unknown>): GgufFile => ({
    source: bytesSource(new Uint8Array(0), 'fake.gguf'), version: 3, alignment: 32, metadata, tensors: [], dataOffset: 0, tensor: () => undefined,
  });
  const without = (key: string) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));

  it('defaults: head_count_kv = head_count, rope dims = head_dim, freq base 10000', () => {
    const h = llamaHParams(fake(base));
    assert.deepEqual([h.n_head_kv, h.head_dim, h.n_rot, h.rope_freq_base, h.tied_output], [4, 16, 16, 10000, true]);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no architecture', without('general.architecture'), /^fake\.gguf: metadata key general\.architecture is missing/],
    ...['block_count', 'embedding_length', 'feed_forward_length', 'attention.head_count', 'context_length', 'attention.layer_norm_rms_epsilon']
      .map((k): [string, Record<string, unknown>, RegExp] => [`no ${k}`, without(`llama.${k}`), new RegExp(`^fake\\.gguf: metadata key llama\\.${k.replace(/\./g, '\\.')} is missing`)]),
    ['no vocab size and no tokens', without('llama.vocab_size'), /^fake\.gguf: metadata key llama\.vocab_size is missing, and there is no tokenizer\.ggml\.tokens list/],
    ['a string where a count belongs', { ...base, 'llama.block_count': 'two' }, /llama\.block_count is "two", expected a number/],
    ['zero layers', { ...base, 'llama.block_count': 0 }, /llama\.block_count is 0, expected a positive integer/],
    ['KV heads that do not divide the heads', { ...base, 'llama.attention.head_count_kv': 3 }, /4 attention heads cannot be shared by 3 KV heads/],
    ['a width that is not whole heads', { ...base, 'llama.attention.head_count': 5 }, /embedding_length 64 is not a multiple of head_count 5/],
    ['another architecture, with llama-like keys renamed', { ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k.replace(/^llama\./, 'gemma.'), v])), 'general.architecture': 'gemma' },
      /^fake\.gguf: the architecture "gemma" is not supported; tlc runs "llama" models/],
    ['a BOS id past the vocabulary', { ...base, 'tokenizer.ggml.bos_token_id': 300 }, /tokenizer\.ggml\.bos_token_id is 300, past the vocabulary of 300 tokens/],
    ['an EOS id past the vocabulary', { ...base, 'tokenizer.ggml.eos_token_id': 4000 }, /tokenizer\.ggml\.eos_token_id is 4000, past the vocabulary/],
  ];
  for (const [what, md, message] of cases) {
    it(`${what} -> GgufError`, () => {
      assert.throws(() => llamaHParams(fake(md)), (e: Error) => e instanceof GgufError && message.test(e.message));
    });
  }

  it('a vocabulary larger than the embedding table -> GgufError', () => {
    const embd = { name: 'token_embd.weight', shape: [64, 200], type: T.F32, offset: 0 };
    const file = { ...fake(base), tensors: [embd], tensor: (n: string) => (n === embd.name ? embd : undefined) } as unknown as GgufFile;
    assert.throws(() => llamaHParams(file), /the vocabulary has 300 tokens but token_embd\.weight has 200 rows/);
  });

  it('the vocab size falls back to the token list; -1 token ids are absent', () => {
    const h = llamaHParams(fake({ ...without('llama.vocab_size'), 'tokenizer.ggml.tokens': ['a', 'b', 'c'], 'tokenizer.ggml.padding_token_id': 0xffffffff }));
    assert.deepEqual([h.n_vocab, h.pad_id], [3, undefined]);
  });
});
