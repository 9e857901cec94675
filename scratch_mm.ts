import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { openNodeDevice } from './runtime/node/gpu.ts';
import { KernelRunner } from './runtime/kernels.ts';
import { quantize, dequantize } from './runtime/quant.ts';
import { linear, embedding, tuneWeightKernels } from './runtime/ops/matmul.ts';
import { linearRef, linearMagnitude, embeddingRef } from './test/reference/matmul.ts';
import { uploadWeight } from './test/kernels/weight-tensor.ts';
let s = 7; const rnd = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2**32 * 2 - 1; };
const gpu = await openNodeDevice(); if (process.env.SG) tuneWeightKernels(process.env.SG === 'gpu' ? { threadsPerRow: 16, subgroups: false } : gpu); const runner = new KernelRunner(gpu);
for (const type of (process.env.TYPES ?? 'F32,F16,Q8_0,Q4_0,Q4_K,Q6_K').split(',').map((t) => T[t as 'F32'])) for (const K of (process.env.KS ?? '256,512').split(',').map(Number)) for (const N of [13, 67]) for (const M of [1, 3, 17]) {
  const wf = Float32Array.from({ length: N * K }, rnd);
  const bytes = quantize(type, wf); const wd = dequantize(type, bytes, N * K);
  const x = Float32Array.from({ length: M * K }, rnd);
  const w = uploadWeight(runner, 'w', type, K, N, bytes, N > 20 ? [30, 30, N - 60] : [N]);
  const xb = runner.storage(x), yb = runner.storage(M * N * 4);
  await runner.runAll(linear({ x: xb, w, y: yb, M }));
  const y = new Float32Array(await runner.read(yb, M * N * 4));
  const ref = linearRef(x, wd, M, K, N), mag = linearMagnitude(x, wd, M, K, N);
  let worst = 0; for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]) / mag[i]);
  console.log(T[type], K, N, M, worst.toExponential(2));
  if (M === 3) {
    const ids = new Uint32Array([0, N - 1, 5, 999, 2]);
    const idb = runner.storage(ids), eb = runner.storage(ids.length * K * 4);
    await runner.runAll(embedding({ table: w, ids: idb, y: eb, seq: ids.length }));
    const e = new Float32Array(await runner.read(eb, ids.length * K * 4));
    const er = embeddingRef(wd, ids, K);
    let bad = 0; for (let i = 0; i < e.length; i++) if (e[i] !== er[i]) bad++;
    console.log('  embedding mismatches', bad);
  }
}
