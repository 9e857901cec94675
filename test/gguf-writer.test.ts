// The GGUF writer and synthetic llama models: what is written reads back the same, through
// @huggingface/gguf and through readGguf, for every weight type.
import assert from 'node:assert/strict';
import { gguf, GGMLQuantizationType as T, GGUFValueType as V } from '@huggingface/gguf';
import { bytesSource } from '../runtime/bytes.ts';
import { readGguf, ggmlTypeName, type GgufFile } from '../runtime/gguf.ts';
import { llamaHParams } from '../runtime/hparams.ts';
import { writeGguf, synthLlama, spmVocab, kv, type SynthOptions, type GgufValue } from '../runtime/gguf-writer.ts';
import { quantize, dequantize } from '../runtime/quant.ts';
import { Rng } from '../runtime/rng.ts';
import { TlcError } from '../runtime/errors.ts';

const open = (bytes: Uint8Array, name = 'synth.gguf') => readGguf(bytesSource(bytes, name));

async function values(file: GgufFile, name: string): Promise<Float32Array> {
  const t = file.tensor(name)!;
  const count = t.shape.reduce((a, b) => a * b, 1);
  return dequantize(t.type, await file.source.read(t.offset, t.byteLength), count);
}

/** Parses bytes with @huggingface/gguf alone, serving its Range requests from memory. */
async function hfParse(bytes: Uint8Array) {
  const fetch = (async (_url: unknown, init?: RequestInit) => {
    const [, a, b] = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('range')!)!.map(Number);
    return new Response(bytes.slice(a, b + 1), { status: 206, headers: { 'Content-Range': `bytes ${a}-${Math.min(b, bytes.length - 1)}/${bytes.length}` } });
  }) as typeof globalThis.fetch;
  return gguf('https://example.invalid/x.gguf', { fetch, typedMetadata: true });
}

describe('GGUF writer', () => {
  it('writes every metadata value type and reads it back', async () => {
    const table: [string, ReturnType<typeof kv.u8>, unknown][] = [
      ['u8', kv.u8(250), 250],
      ['i8', kv.i8(-100), -100],
      ['u16', kv.u16(65000), 65000],
      ['i16', kv.i16(-30000), -30000],
      ['u32', kv.u32(4294967295), 4294967295],
      ['i32', kv.i32(-2000000000), -2000000000],
      ['u64 small', kv.u64(2 ** 40), 2 ** 40],
      ['u64 huge', kv.u64(2n ** 63n + 5n), 2n ** 63n + 5n],
      ['i64', kv.i64(-(2 ** 50)), -(2 ** 50)],
      // Integers stay numbers exactly where a number holds them: -(2^53 - 1) ..= 2^53 - 1.
      ['i64 at -(2^53 - 1)', kv.i64(-(2 ** 53 - 1)), -(2 ** 53 - 1)],
      ['i64 at -2^53', kv.i64(-(2n ** 53n)), -(2n ** 53n)],
      ['i64 far below', kv.i64(-(2n ** 60n)), -(2n ** 60n)],
      ['u64 at 2^53 - 1', kv.u64(2 ** 53 - 1), 2 ** 53 - 1],
      ['u64 at 2^53', kv.u64(2n ** 53n), 2n ** 53n],
      ['u64s, element by element', kv.array(V.UINT64, [7, 2n ** 60n]), [7, 2n ** 60n]],
      ['f32', kv.f32(0.1), Math.fround(0.1)],
      ['f64', kv.f64(0.1), 0.1],
      ['bool', kv.bool(true), true],
      ['string', kv.str('héllo ▁wörld 🦙'), 'héllo ▁wörld 🦙'],
      ['empty string', kv.str(''), ''],
      ['strings', kv.strs(['a', '', '<0x0A>']), ['a', '', '<0x0A>']],
      ['f32s', kv.f32s([1.5, -2, 0]), [1.5, -2, 0]],
      ['i32s', kv.i32s([1, -1, 6]), [1, -1, 6]],
      ['empty array', kv.array(V.UINT8, []), []],
    ];
    const file = await open(writeGguf({ metadata: Object.fromEntries(table.map(([k, v]) => [k, v])), tensors: [] }));
    for (const [key, , want] of table) assert.deepEqual(file.metadata[key], want, key);
    assert.equal(Object.keys(file.metadata).length, table.length);
  });

  it('aligns tensor data to general.alignment and keeps the bytes', async () => {
    for (const alignment of [32, 64]) {
      const tensors = [
        { name: 'a', type: T.F32, shape: [3], data: new Uint8Array(new Float32Array([1, 2, 3]).buffer) },
        { name: 'b', type: T.Q8_0, shape: [32, 3], data: quantize(T.Q8_0, new Rng(3).floats(96)) },
        { name: 'c', type: T.F16, shape: [5], data: quantize(T.F16, new Float32Array([0.5, 1, 2, 4, 8])) },
      ];
      const metadata: Record<string, GgufValue> = alignment === 32 ? {} : { 'general.alignment': kv.u32(alignment) };
      const file = await open(writeGguf({ metadata, tensors }));
      assert.equal(file.dataOffset % alignment, 0);
      for (const t of tensors) {
        const info = file.tensor(t.name)!;
        assert.equal(info.offset % alignment, 0, `${t.name} at ${info.offset}`);
        assert.deepEqual([info.type, info.shape, info.byteLength], [t.type, t.shape, t.data.length]);
        assert.deepEqual(await file.source.read(info.offset, info.byteLength), t.data);
      }
    }
  });

  it('refuses tensor data of the wrong size', () => {
    assert.throws(() => writeGguf({ metadata: {}, tensors: [{ name: 'w', type: T.Q8_0, shape: [32, 2], data: new Uint8Array(60) }] }),
      /tensor w \(Q8_0 \[32, 2\]\) needs 68 bytes, got 60/);
  });
});

// One option set per weight type; K-quants pack 256 values per block, so their widths are 256.
const MODELS: [string, SynthOptions, number][] = [
  // [what, options, max |dequantized - original| relative to the tensor's max |value|]: half a step
  // of f16 or of the block scale (Q4_0 a whole step: +max clamps to 7 when -max sets the scale).
  ['F32, separate head', { type: T.F32, layers: 2, embd: 64, heads: 4, kvHeads: 2, ff: 96, vocab: 300, ctx: 128 }, 0],
  ['F16, tied head', { type: T.F16, layers: 1, embd: 32, heads: 2, ff: 64, vocab: 270, ctx: 64, tied: true }, 2 ** -11],
  ['Q8_0, GQA 4:1', { type: T.Q8_0, layers: 2, embd: 64, heads: 8, kvHeads: 2, ff: 128, vocab: 320, ctx: 256 }, 1 / 254 + 1e-6],
  ['Q4_0, MHA', { type: T.Q4_0, layers: 1, embd: 64, heads: 2, ff: 64, vocab: 260, ctx: 32 }, 1 / 8],
  ['Q4_K, tied head', { type: T.Q4_K, layers: 1, embd: 256, heads: 4, kvHeads: 1, ff: 256, vocab: 259, ctx: 64, tied: true }, 0.1],
  ['Q6_K, separate head', { type: T.Q6_K, layers: 1, embd: 256, heads: 2, ff: 256, vocab: 259, ctx: 64 }, 0.03],
];

describe('synthetic llama models', function () {
  this.timeout(20000);

  for (const [what, opts, tolerance] of MODELS) {
    describe(what, () => {
      let bytes: Uint8Array, file: GgufFile;
      before(async () => {
        bytes = synthLlama(opts);
        file = await open(bytes);
      });

      it('has the hyperparameters it was asked for', () => {
        const h = llamaHParams(file);
        const heads = opts.heads!, kvHeads = opts.kvHeads ?? heads;
        assert.deepEqual(
          [h.arch, h.n_layer, h.n_embd, h.n_head, h.n_head_kv, h.head_dim, h.n_rot, h.n_ff, h.n_vocab, h.n_ctx_train, h.tied_output, h.rope_freq_base, h.rms_eps],
          ['llama', opts.layers, opts.embd, heads, kvHeads, opts.embd! / heads, opts.embd! / heads, opts.ff, opts.vocab, opts.ctx, !!opts.tied, 10000, Math.fround(1e-5)],
        );
        assert.deepEqual([h.bos_id, h.eos_id, h.unk_id, h.add_bos, h.add_eos, h.tokenizer_model], [1, 2, 0, true, false, 'llama']);
      });

      it('has the llama tensors, matrices in the asked type and norms in F32, aligned to 32', () => {
        const e = opts.embd!, kvDim = (opts.kvHeads ?? opts.heads!) * (e / opts.heads!), W = ggmlTypeName(opts.type!);
        const want: [string, string, number[]][] = [['token_embd.weight', W, [e, opts.vocab!]], ['output_norm.weight', 'F32', [e]]];
        if (!opts.tied) want.push(['output.weight', W, [e, opts.vocab!]]);
        for (let l = 0; l < opts.layers!; l++) {
          want.push(
            [`blk.${l}.attn_norm.weight`, 'F32', [e]], [`blk.${l}.attn_q.weight`, W, [e, e]], [`blk.${l}.attn_k.weight`, W, [e, kvDim]],
            [`blk.${l}.attn_v.weight`, W, [e, kvDim]], [`blk.${l}.attn_output.weight`, W, [e, e]], [`blk.${l}.ffn_norm.weight`, 'F32', [e]],
            [`blk.${l}.ffn_gate.weight`, W, [e, opts.ff!]], [`blk.${l}.ffn_up.weight`, W, [e, opts.ff!]], [`blk.${l}.ffn_down.weight`, W, [opts.ff!, e]],
          );
        }
        assert.deepEqual(file.tensors.map((t) => [t.name, ggmlTypeName(t.type), t.shape]), want);
        for (const t of file.tensors) assert.equal(t.offset % 32, 0, t.name);
        assert.equal(file.metadata['general.alignment'], 32);
      });

      it('reads back the same through @huggingface/gguf, with the usual metadata types', async () => {
        const hf = await hfParse(bytes);
        assert.deepEqual(hf.tensorInfos.map((t) => [t.name, Number(t.dtype), t.shape.map(Number), Number(hf.tensorDataOffset + t.offset)]),
          file.tensors.map((t) => [t.name, t.type, t.shape, t.offset]));
        const types: [string, V, V?][] = [
          ['llama.context_length', V.UINT32], ['llama.block_count', V.UINT32], ['llama.rope.freq_base', V.FLOAT32],
          ['llama.attention.layer_norm_rms_epsilon', V.FLOAT32], ['tokenizer.ggml.model', V.STRING], ['general.alignment', V.UINT32],
          ['tokenizer.ggml.tokens', V.ARRAY, V.STRING], ['tokenizer.ggml.scores', V.ARRAY, V.FLOAT32], ['tokenizer.ggml.token_type', V.ARRAY, V.INT32],
          ['tokenizer.ggml.bos_token_id', V.UINT32], ['tokenizer.ggml.add_bos_token', V.BOOL],
        ];
        const typed = hf.typedMetadata as unknown as Record<string, { type: V; subType?: V }>;
        for (const [key, type, subType] of types) assert.deepEqual([typed[key].type, typed[key].subType], [type, subType], key);
      });

      it(`dequantizes to the original random weights (max error ${tolerance.toPrecision(2)} of the range)`, async () => {
        // The same stream the writer drew from: token_embd first.
        const e = opts.embd!, n = e * opts.vocab!, rng = new Rng(opts.seed ?? 1);
        const original = Float32Array.from({ length: n }, () => (2 / Math.sqrt(e)) * rng.normal());
        const got = await values(file, 'token_embd.weight');
        const scale = Math.max(...original.map(Math.abs));
        const maxErr = Math.max(...got.map((v, i) => Math.abs(v - original[i])));
        assert.ok(maxErr <= tolerance * scale + 1e-7, `max error ${maxErr} vs range ${scale}`);
        // And exactly what quant.ts makes of them.
        assert.deepEqual(got, dequantize(opts.type!, quantize(opts.type!, original), n));
      });

      it('has weights of the intended scale: norms near 1, matrices ~ 1/sqrt(fan-in)', async () => {
        const stats = (v: Float32Array) => {
          const mean = v.reduce((a, b) => a + b, 0) / v.length;
          return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
        };
        const norm = stats(await values(file, 'blk.0.attn_norm.weight'));
        assert.ok(Math.abs(norm.mean - 1) < 0.05 && norm.std > 0.05 && norm.std < 0.15, JSON.stringify(norm));
        const q = stats(await values(file, 'blk.0.attn_q.weight'));
        const want = 1 / Math.sqrt(opts.embd!);
        assert.ok(Math.abs(q.mean) < 0.1 * want && Math.abs(q.std / want - 1) < 0.15, JSON.stringify({ ...q, want }));
      });
    });
  }

  it('is deterministic: the same seed gives the same bytes, another seed other weights', () => {
    const opts = { layers: 1, embd: 32, heads: 2, ff: 32, vocab: 260, type: T.Q8_0 };
    const a = synthLlama({ ...opts, seed: 7 }), b = synthLlama({ ...opts, seed: 7 }), c = synthLlama({ ...opts, seed: 8 });
    assert.deepEqual(a, b);
    assert.equal(a.length, c.length);
    assert.notDeepEqual(a, c);
  });

  it('has a SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte tokens, then scored word pieces', () => {
    const { tokens, scores, types } = spmVocab(400);
    assert.equal(tokens.length, 400);
    assert.equal(new Set(tokens).size, 400, 'tokens are unique');
    assert.deepEqual(tokens.slice(0, 5), ['<unk>', '<s>', '</s>', '<0x00>', '<0x01>']);
    assert.deepEqual([tokens[3 + 0x41], tokens[258]], ['<0x41>', '<0xFF>']);
    assert.deepEqual(types.slice(0, 4), [2, 3, 3, 6]);
    assert.ok(types.slice(259).every((t) => t === 1));
    assert.ok(tokens.includes('▁the') && tokens.includes('▁t') && tokens.includes('▁th'), 'a word and its prefixes');
    assert.ok(scores.slice(260).every((s, i) => s < scores[259 + i]), 'word piece scores fall');
  });

  const bad: [SynthOptions, RegExp][] = [
    [{ type: T.Q4_K, embd: 64 }, /Q4_K packs rows in blocks of 256 values, so embd \(64\) and ff \(128\) must be multiples of 256/],
    [{ type: T.Q8_0, embd: 64, ff: 100 }, /embd \(64\) and ff \(100\) must be multiples of 32/],
    [{ type: T.Q5_1 }, /weight type Q5_1 is not one of F32, F16, Q8_0, Q4_0, Q4_K, Q6_K/],
    [{ embd: 64, heads: 5 }, /embd 64 is not a multiple of heads 5/],
    [{ heads: 4, kvHeads: 3 }, /heads 4 is not a multiple of kv-heads 3/],
    [{ vocab: 100 }, /vocab 100 is too small/],
    [{ layers: 0 }, /layers must be a positive integer, got 0/],
    [{ embd: 24, heads: 8 }, /head size 3 must be even/],
  ];
  for (const [opts, message] of bad) {
    it(`refuses ${JSON.stringify({ ...opts, type: opts.type && ggmlTypeName(opts.type) })}`, () => {
      assert.throws(() => synthLlama(opts), (e: Error) => e instanceof TlcError && message.test(e.message));
    });
  }
});
