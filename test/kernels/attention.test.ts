import assert from 'node:assert/strict';
import { attention, kvWrite } from '../../runtime/ops/attention.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

// Outputs are convex combinations of v in [-1, 1]; online softmax in f32 with GPU exp vs an f64
// two-pass reference: errors stay near 1e-6 even over 2000 keys.
const TOL = { atol: 1e-5 };

describe('attention kernel', () => {
  const cases = [
    { seq: 5, pos0: 0, nHead: 4, nKvHead: 2, headDim: 16 },     // prefill, GQA
    { seq: 1, pos0: 70, nHead: 4, nKvHead: 2, headDim: 16 },    // decode across several key tiles
    { seq: 3, pos0: 40, nHead: 2, nKvHead: 2, headDim: 8 },     // prefill after a prompt, MHA
    { seq: 2, pos0: 9, nHead: 8, nKvHead: 1, headDim: 128 },    // two output dims per thread
    { seq: 1, pos0: 2047, nHead: 2, nKvHead: 1, headDim: 64 },  // 2048 keys
    { seq: 4, pos0: 3, nHead: 2, nKvHead: 1, headDim: 8, scale: 0.7 },
  ];
  for (const c of cases) {
    it(JSON.stringify(c), async () => {
      const r = await gpuRunner(), rng = new Rng(c.seq * 100 + c.pos0 + c.headDim);
      const ctx = c.pos0 + c.seq + 3;
      const q = rng.floats(c.seq * c.nHead * c.headDim);
      const k = rng.floats(ctx * c.nKvHead * c.headDim), v = rng.floats(ctx * c.nKvHead * c.headDim);
      const out = r.storage(q.byteLength);
      await r.runAll(attention({ ...c, q: r.storage(q), k: r.storage(k), v: r.storage(v), out }));
      assertClose(await readF32(r, out, q.length), ref.attention(q, k, v, c), TOL, 'out');
    });
  }

  it('kv_write then attention at a layer offset: decode steps equal one prefill', async () => {
    const r = await gpuRunner(), rng = new Rng(5);
    const s = { nHead: 4, nKvHead: 2, headDim: 8 }, seq = 6, ctx = 8, row = s.nKvHead * s.headDim;
    const layerOffset = ctx * row; // layer 1 of a (2, ctx, nKvHead, headDim) cache
    const q = rng.floats(seq * s.nHead * s.headDim), k = rng.floats(seq * row), v = rng.floats(seq * row);
    const kc = r.storage(2 * ctx * row * 4), vc = r.storage(2 * ctx * row * 4), out = r.storage(q.byteLength);
    const qb = r.storage(q), kb = r.storage(k), vb = r.storage(v);
    // prompt of 4 rows, then two single-row decode steps
    for (const [pos0, n] of [[0, 4], [4, 1], [5, 1]]) {
      const kSrc = r.storage(k.subarray(pos0 * row, (pos0 + n) * row)), vSrc = r.storage(v.subarray(pos0 * row, (pos0 + n) * row));
      const qSrc = r.storage(q.subarray(pos0 * s.nHead * s.headDim, (pos0 + n) * s.nHead * s.headDim));
      const o = r.storage(n * s.nHead * s.headDim * 4);
      await r.runAll([
        ...kvWrite({ ...s, src: kSrc, cache: kc, seq: n, pos0, cacheOffset: layerOffset }),
        ...kvWrite({ ...s, src: vSrc, cache: vc, seq: n, pos0, cacheOffset: layerOffset }),
        ...attention({ ...s, q: qSrc, k: kc, v: vc, out: o, seq: n, pos0, kOffset: layerOffset, vOffset: layerOffset }),
      ]);
      const expected = ref.attention(q, k, v, { ...s, seq, pos0: 0 }).subarray(pos0 * s.nHead * s.headDim, (pos0 + n) * s.nHead * s.headDim);
      assertClose(await readF32(r, o, n * s.nHead * s.headDim), expected, TOL, `rows ${pos0}..${pos0 + n - 1}`);
    }
    const cache = await readF32(r, kc, 2 * ctx * row);
    assert.deepEqual([...cache.subarray(0, layerOffset)], new Array(layerOffset).fill(0), 'layer 0 untouched');
    assert.deepEqual([...cache.subarray(layerOffset, layerOffset + seq * row)], [...k]);
    // the whole prefill at once gives the same rows
    await r.runAll(attention({ ...s, q: qb, k: kb, v: vb, out, seq, pos0: 0 }));
    assertClose(await readF32(r, out, q.length), ref.attention(q, k, v, { ...s, seq, pos0: 0 }), TOL, 'prefill');
  });

  // llama.cpp's rounding, same order of operations: within 1e-7 here. (On another adapter an exp
  // an ulp off could round a weight to its other f16 neighbour and move an output by weight * 2^-11.)
  const F16_TOL = { atol: 1e-6 };
  for (const c of [
    { seq: 4, pos0: 0, nHead: 4, nKvHead: 2, headDim: 16 },
    { seq: 1, pos0: 150, nHead: 2, nKvHead: 1, headDim: 64 },
    { seq: 1, pos0: 300, nHead: 4, nKvHead: 2, headDim: 8 },   // 8 groups of 8 threads, 5 slots of scores
    { seq: 3, pos0: 129, nHead: 2, nKvHead: 2, headDim: 128 }, // two output dims per thread
    { seq: 70, pos0: 0, nHead: 2, nKvHead: 1, headDim: 12 },   // 21 groups of 3 (vec4) threads, one idle
    { seq: 2, pos0: 100, nHead: 2, nKvHead: 1, headDim: 256 }, // one group of 64 vec4 threads
    { seq: 3, pos0: 70, nHead: 4, nKvHead: 2, headDim: 6 },    // not a multiple of 4: the scalar kernel, 8 groups of 8
    { seq: 1, pos0: 200, nHead: 1, nKvHead: 1, headDim: 66 },  // scalar, two output dims per thread
  ]) {
    it(`llama.cpp's f16 rounding of q and the weights: ${JSON.stringify(c)}`, async () => {
      const r = await gpuRunner(), rng = new Rng(c.pos0 + 17), ctx = c.pos0 + c.seq;
      const q = rng.floats(c.seq * c.nHead * c.headDim, -2, 2);
      const k = rng.floats(ctx * c.nKvHead * c.headDim, -2, 2).map(ref.f16Round), v = rng.floats(ctx * c.nKvHead * c.headDim).map(ref.f16Round);
      const out = r.storage(q.byteLength);
      await r.runAll(attention({ ...c, q: r.storage(q), k: r.storage(k), v: r.storage(v), out, llamaCppF16: true }));
      const got = await readF32(r, out, q.length);
      assertClose(got, ref.attention(q, k, v, { ...c, llamaCppF16: true }), F16_TOL, 'out');
      // and it is not the unrounded result
      const plain = ref.attention(q, k, v, c);
      assert.ok(got.some((x, i) => Math.abs(x - plain[i]) > 10 * F16_TOL.atol), 'differs from f32 attention by more than the tolerance');
    });
  }

  // The f16 KV cache proper (pairs in u32s, written by kv_write's packF16) holds the same values as
  // the f16-rounded f32 cache, so attention over it gives the same outputs; layers at an offset.
  for (const c of [
    { seq: 1, pos0: 150, nHead: 4, nKvHead: 1, headDim: 64 },
    { seq: 1, pos0: 300, nHead: 8, nKvHead: 4, headDim: 8 },
    { seq: 5, pos0: 0, nHead: 4, nKvHead: 2, headDim: 16 },
    { seq: 3, pos0: 129, nHead: 2, nKvHead: 2, headDim: 128 },
  ]) {
    it(`f16 KV cache (packed pairs): ${JSON.stringify(c)}`, async () => {
      const r = await gpuRunner(), rng = new Rng(c.pos0 + 29), ctx = c.pos0 + c.seq;
      const row = c.nKvHead * c.headDim, layer = (ctx + 2) * row; // the second layer of two
      const q = rng.floats(c.seq * c.nHead * c.headDim, -2, 2);
      const k = rng.floats(ctx * row, -2, 2), v = rng.floats(ctx * row);
      const kc = r.storage(2 * layer * 2), vc = r.storage(2 * layer * 2), out = r.storage(q.byteLength);
      const common = { nKvHead: c.nKvHead, headDim: c.headDim, cacheOffset: layer, roundF16: true, packF16: true };
      await r.runAll([
        ...kvWrite({ ...common, src: r.storage(k), cache: kc, seq: ctx, pos0: 0 }),
        ...kvWrite({ ...common, src: r.storage(v), cache: vc, seq: ctx, pos0: 0 }),
        ...attention({ ...c, q: r.storage(q), k: kc, v: vc, out, kOffset: layer, vOffset: layer, llamaCppF16: true, kvF16: true }),
      ]);
      const expected = ref.attention(q, k.map(ref.f16Round), v.map(ref.f16Round), { ...c, llamaCppF16: true });
      assertClose(await readF32(r, out, q.length), expected, F16_TOL, 'out');
      // the cache holds the f16 values themselves: layer 0 untouched, then pairs
      const words = new Uint32Array(await r.read(kc, 2 * layer * 2));
      assert.ok(words.subarray(0, layer / 2).every((w) => w === 0), 'layer 0 untouched');
      const halves = [...words.subarray(layer / 2, layer / 2 + 4)].flatMap((w) => [w & 0xffff, w >>> 16]);
      assert.deepEqual(halves.map(ref.f16Value), [...k.subarray(0, 8)].map(ref.f16Round));
    });
  }

  it('refuses an f16 KV cache with a head dim that is not a multiple of 8', () => {
    assert.throws(() => attention({ seq: 1, pos0: 0, nHead: 2, nKvHead: 1, headDim: 12, q: {} as GPUBuffer, k: {} as GPUBuffer, v: {} as GPUBuffer, out: {} as GPUBuffer, llamaCppF16: true, kvF16: true }), /multiple of 8/);
  });

  it('f16Round (the reference) agrees with the table of f16 neighbours', () => {
    const table = [[1, 1], [1 / 3, 0.333251953125], [-2.0009765625, -2], [2.0029296875, 2.00390625], [65519, 65504], [65520, Infinity], [3e-7, 2.980232238769531e-7], [1e-8, 0]];
    for (const [x, y] of table) assert.equal(ref.f16Round(x), y, `f16(${x})`);
  });

  it('kv_write can round to f16 precision', async () => {
    const r = await gpuRunner();
    const src = Float32Array.from([1, 1 / 3, -2.0009765625, 65519, 65520, 1e-8, 3e-7, 0.1]);
    const cache = r.storage(src.byteLength);
    await r.runAll(kvWrite({ src: r.storage(src), cache, seq: 1, pos0: 0, nKvHead: 2, headDim: 4, roundF16: true }));
    // nearest f16 values: 2.0009765625 is a tie (goes to even), 65520 overflows, 1e-8 and 3e-7 are in the subnormal range
    assert.deepEqual([...await readF32(r, cache, 8)], [1, 0.333251953125, -2, 65504, Infinity, 0, 2.980232238769531e-7, 0.0999755859375]);
  });
});
