import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { embedding } from '../../runtime/ops/matmul.ts';
import { quantize } from '../../runtime/quant.ts';
import { refDequantize } from '../reference/quant.ts';
import { Rng } from '../../runtime/rng.ts';
import { embeddingRef } from '../reference/matmul.ts';
import { q4kBlock, q6kBlock } from '../reference/blocks.ts';
import { uploadWeight } from './weight-tensor.ts';
import { gpuRunner, readF32 } from './support.ts';
import type { KernelRunner } from '../../runtime/kernels.ts';
import type { GgmlType } from '../../runtime/weights.ts';

// Decoding is exact on the GPU (the products are exact in f32), so rows must equal the test's own
// dequantizer (test/reference/quant.ts, llama.cpp's definitions) bit for bit: tolerance 0 for every type.

const VOCAB = 37;
const IDS = [0, 36, 5, 5, 1000, 17, 2 ** 32 - 1, 30]; // repeats, and ids past the vocabulary (zeros)

interface Case { type: GgmlType; K: number; chunks?: number[]; maxPerDim?: number }

async function check(r: KernelRunner, c: Case): Promise<void> {
  const rng = new Rng(c.K + c.type * 7);
  const bytes = quantize(c.type, rng.floats(VOCAB * c.K)); // (VOCAB, K)
  const table = uploadWeight(r, 'token_embd.weight', c.type, c.K, VOCAB, bytes, c.chunks);
  const ids = new Uint32Array(IDS); // (seq)
  const y = r.storage(new Float32Array(ids.length * c.K).fill(NaN)); // (seq, K), NaN until written
  await r.runAll(embedding({ table, ids: r.storage(ids), y, seq: ids.length, maxWorkgroupsPerDimension: c.maxPerDim }));
  assert.deepEqual(await readF32(r, y, ids.length * c.K), embeddingRef(refDequantize(c.type, bytes, VOCAB * c.K), ids, c.K));
}

describe('embedding kernel: rows of a GGUF table for token ids', function () {
  this.timeout(300_000);
  const cases: Case[] = [
    { type: T.F32, K: 12 }, { type: T.F32, K: 64 }, { type: T.F16, K: 36 }, { type: T.F16, K: 64 },
    { type: T.Q8_0, K: 32 }, { type: T.Q8_0, K: 128 }, { type: T.Q4_0, K: 96 }, { type: T.Q4_0, K: 64 },
    { type: T.Q8_0, K: 256 }, { type: T.Q4_0, K: 512 }, // stored split (runtime/weight-layout.ts)
    { type: T.Q4_K, K: 256 }, { type: T.Q6_K, K: 512 },
  ];
  for (const c of cases) {
    it(`${T[c.type]} K=${c.K}`, async () => check(await gpuRunner(), c));
  }
  for (const type of [T.F16, T.Q8_0, T.Q4_K, T.Q6_K]) {
    const K = type === T.Q4_K || type === T.Q6_K ? 256 : 64;
    it(`${T[type]}: a table split in 3 buffers (rows 20 + 10 + 7)`, async () => check(await gpuRunner(), { type, K, chunks: [20, 10, 7] }));
  }
  it('a grid past maxComputeWorkgroupsPerDimension folds into 2-D (here with a limit of 2)', async () => {
    await check(await gpuRunner(), { type: T.Q6_K, K: 512, maxPerDim: 2 });
  });

  for (const [name, block, type] of [['Q4_K', q4kBlock(), T.Q4_K], ['Q6_K', q6kBlock(), T.Q6_K]] as const) {
    it(`${name}: a hand-built block decodes on the GPU to its known values`, async () => {
      const r = await gpuRunner();
      const table = uploadWeight(r, 'hand', type, 256, 1, block.bytes);
      const y = r.storage(256 * 4);
      await r.runAll(embedding({ table, ids: r.storage(new Uint32Array([0])), y, seq: 1 }));
      assert.deepEqual(Array.from(await readF32(r, y, 256)), block.values);
    });
  }
});
