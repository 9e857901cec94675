import assert from 'node:assert/strict';
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import { linear, grid, tuneWeightKernels, tuningFor, type WeightKernelTuning } from '../../runtime/ops/matmul.ts';
import { quantize } from '../../runtime/quant.ts';
import { refDequantize } from '../reference/quant.ts';
import { Rng } from '../../runtime/rng.ts';
import { linearRef, linearMagnitude } from '../reference/matmul.ts';
import { uploadWeight } from './weight-tensor.ts';
import { gpuRunner, readF32 } from './support.ts';
import type { KernelRunner } from '../../runtime/kernels.ts';

// The expected weights come from the test's own dequantizer (test/reference/quant.ts, written from
// llama.cpp's format definitions; production quantize() only makes the bytes). The kernels
// dequantize exactly (the same f32 products as llama.cpp), so they differ from
// the f64 reference on the dequantized weights only by f32 rounding in the sums, which run in
// another order (and, for Q8_0 and Q4_0, multiply each block's sum by its scale once instead of
// each product). An f32 sum of n terms is within about n * 2^-24 * Σ|terms| of the exact sum in
// the worst case and sqrt(n) * 2^-24 * Σ|terms| typically; we allow 2^-16 * Σ_k |x_k w_k| for
// every type (K <= 512 here; observed errors stay below 2^-23 of it). One wrong weight value
// moves y by about 1/K of that sum, far beyond the tolerance.
const TOLERANCE: Record<string, number> = { F32: 2 ** -16, F16: 2 ** -16, Q8_0: 2 ** -16, Q4_0: 2 ** -16, Q4_K: 2 ** -16, Q6_K: 2 ** -16 };

const TYPES = [T.F32, T.F16, T.Q8_0, T.Q4_0, T.Q4_K, T.Q6_K];
// Every decoder path: F32 units of 4 (K=36) and 16; F16 from u32 (K=36), one vec4 (K=40) or two;
// Q8_0/Q4_0 single blocks (K=32, 96: rows start 2-byte aligned) and pairs (K % 64 = 0).
const KS: Record<string, number[]> = { F32: [36, 64, 512], F16: [36, 40, 64, 512], Q8_0: [32, 96, 64, 512], Q4_0: [32, 96, 64, 512], Q4_K: [256, 512], Q6_K: [256, 512] };
const N = 67; // not a multiple of any workgroup's rows

interface Case { type: T; K: number; N: number; M: number; chunks?: number[]; maxPerDim?: number }

/** Runs linear() on random weights of `type` and compares with the reference on the reference-dequantized weights. */
async function check(r: KernelRunner, c: Case): Promise<void> {
  const rng = new Rng(c.K * 1000 + c.N * 10 + c.M + c.type);
  const bytes = quantize(c.type, rng.floats(c.N * c.K));
  const w = refDequantize(c.type, bytes, c.N * c.K); // (N, K): the weights as the kernel must see them
  const weight = uploadWeight(r, 'w', c.type, c.K, c.N, bytes, c.chunks);
  const x = rng.floats(c.M * c.K);  // (M, K)
  const y = r.storage(c.M * c.N * 4); // (M, N)
  await r.runAll(linear({ x: r.storage(x), w: weight, y, M: c.M, maxWorkgroupsPerDimension: c.maxPerDim }));
  const got = await readF32(r, y, c.M * c.N);
  const want = linearRef(x, w, c.M, c.K, c.N), mag = linearMagnitude(x, w, c.M, c.K, c.N);
  const tol = TOLERANCE[T[c.type]];
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * mag[i], `y[${Math.floor(i / c.N)}, ${i % c.N}] = ${got[i]}, expected ${want[i]} (tolerance ${tol * mag[i]})`);
  }
}

/** Runs `body` with the kernels linear() builds for `t`, then restores the default tuning. */
async function withTuning(t: WeightKernelTuning, body: () => Promise<void>): Promise<void> {
  tuneWeightKernels(t);
  try { await body(); } finally { tuneWeightKernels({ threadsPerRow: 1, subgroups: false }); }
}

describe('matmul kernels: y = x @ W^T with W dequantized inside', function () {
  this.timeout(600_000); // lavapipe compiles each specialization once: a second or more each

  describe('this adapter\'s tuning: every type and shape', () => {
    for (const type of TYPES) {
      for (const K of KS[T[type]]) {
        for (const M of [1, 3, 17]) {
          it(`${T[type]} K=${K} N=${N} M=${M}`, async () => {
            const r = await gpuRunner();
            await withTuning(tuningFor(r.gpu), () => check(r, { type, K, N, M }));
          });
        }
      }
    }
  });

  // The other layouts (their decoders are the ones above): pair types in the GGUF layout and split
  // (K % 256 = 0: runtime/weight-layout.ts), and Q6_K.
  const other: [string, WeightKernelTuning][] = [
    ['one thread per row, plain x loads', { threadsPerRow: 1, subgroups: false }],
    ['16 threads per row (GPUs)', { threadsPerRow: 16, subgroups: false }],
    ['one row a thread, x through subgroups', { threadsPerRow: 1, subgroups: true, rowsPerThread: 1 }],
    ['four rows a thread, plain x loads', { threadsPerRow: 1, subgroups: false, rowsPerThread: 4, prefillRowsPerThread: 4 }],
    ['one row a thread in prefill too', { threadsPerRow: 1, subgroups: true, rowsPerThread: 1, prefillRowsPerThread: 1 }],
  ];
  for (const [name, t] of other) {
    describe(name, () => {
      for (const [type, K] of [[T.Q8_0, 64], [T.Q8_0, 256], [T.Q4_0, 128], [T.Q4_0, 256], [T.Q6_K, 256]]) {
        for (const M of [1, 3, 9]) it(`${T[type]} K=${K} N=${N} M=${M}`, async () => { const r = await gpuRunner(); await withTuning(t, () => check(r, { type, K, N, M })); });
      }
    });
  }

  describe('a chunked weight (rows split over 3 buffers) gives the same result', () => {
    for (const type of [T.F16, T.Q8_0, T.Q4_0, T.Q4_K]) {
      const K = type === T.Q4_K || type === T.Q4_0 ? 256 : 64;
      it(`${T[type]} K=${K} rows 22 + 22 + 22, M=1 and 3`, async () => {
        const r = await gpuRunner();
        await withTuning(tuningFor(r.gpu), async () => {
          await check(r, { type, K, N: 66, M: 1, chunks: [22, 22, 22] });
          await check(r, { type, K, N: 66, M: 3, chunks: [22, 22, 22] });
        });
      });
    }
  });

  it('a grid past maxComputeWorkgroupsPerDimension folds into 2-D (here with a limit of 3)', async () => {
    const r = await gpuRunner();
    await withTuning(tuningFor(r.gpu), () => check(r, { type: T.Q8_0, K: 64, N: 300, M: 20, maxPerDim: 3 }));
  });

  it('grid(): counts over the limit use a second dimension', () => {
    const cases: [number, number, [number, number], number][] = [
      [1, 65535, [1, 1], 1], [65535, 65535, [65535, 1], 65535], [65536, 65535, [65535, 2], 65535], [10, 3, [3, 4], 3],
    ];
    for (const [count, max, wg, gridX] of cases) assert.deepEqual(grid(count, max), [wg, gridX], `grid(${count}, ${max})`);
  });

  // Epilogues (passes/fuse-linear.ts): the residual added to each sum, and silu(gate) * up from two
  // weights. The sums are those of plain linear(), so each is checked against two plain runs.
  describe('epilogues: + residual, and silu(x Wg^T) * (x Wu^T)', () => {
    const tunings: [string, (r: KernelRunner) => WeightKernelTuning][] = [
      ['this adapter', (r) => tuningFor(r.gpu)],
      ['16 threads per row', () => ({ threadsPerRow: 16, subgroups: false })],
    ];
    for (const [name, tuning] of tunings) {
      for (const [type, K] of [[T.Q4_0, 64], [T.Q8_0, 96], [T.F16, 40], [T.Q4_K, 256]] as const) {
        for (const M of [1, 3, 9]) {
          it(`${name}: ${T[type]} K=${K} N=${N} M=${M}, rows in 2 chunks`, async () => {
            const r = await gpuRunner(), rng = new Rng(K + M + type);
            await withTuning(tuning(r), async () => {
              const chunks = [40, N - 40];
              const [gate, up] = [0, 1].map((i) => uploadWeight(r, `w${i}`, type, K, N, quantize(type, rng.floats(N * K)), chunks));
              const x = r.storage(rng.floats(M * K)), res = rng.floats(M * N);
              const run = async (d: ReturnType<typeof linear>, y = r.storage(M * N * 4)) => (await r.runAll(d), readF32(r, y, M * N));
              const yg = r.storage(M * N * 4), yu = r.storage(M * N * 4), ya = r.storage(M * N * 4), ys = r.storage(M * N * 4);
              const g = await run(linear({ x, w: gate, y: yg, M }), yg), u = await run(linear({ x, w: up, y: yu, M }), yu);
              const added = await run(linear({ x, w: gate, y: ya, M, epilogue: { add: r.storage(res) } }), ya);
              const swi = await run(linear({ x, w: gate, y: ys, M, epilogue: { swiglu: up } }), ys);
              for (let i = 0; i < M * N; i++) {
                // the same sum plus r (the shader compiler may contract the last steps into an fma: an ulp of the sum)
                assert.ok(Math.abs(added[i] - (res[i] + g[i])) <= 2 ** -20 * (Math.abs(res[i]) + Math.abs(g[i])), `add ${i}: ${added[i]} vs ${res[i] + g[i]}`);
                const want = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
                assert.ok(Math.abs(swi[i] - want) <= 1e-6 * (1 + Math.abs(want)), `swiglu ${i}: ${swi[i]} vs ${want}`);
              }
            });
          });
        }
      }
    }
    it('refuses an up weight laid out otherwise', async () => {
      const r = await gpuRunner();
      const a = uploadWeight(r, 'gate', T.Q8_0, 64, 8, quantize(T.Q8_0, new Float32Array(512)));
      const b = uploadWeight(r, 'up', T.Q4_0, 64, 8, quantize(T.Q4_0, new Float32Array(512)));
      assert.throws(() => linear({ x: r.storage(256), w: a, y: r.storage(32), M: 1, epilogue: { swiglu: b } }), /up \(Q4_0 \[64, 8\]\) is not laid out as gate/);
    });
  });

  it('kernels are memoized by specialization', async () => {
    const r = await gpuRunner();
    const w = uploadWeight(r, 'w', T.Q8_0, 64, 8, quantize(T.Q8_0, new Float32Array(512)));
    const args = { x: r.storage(64 * 4), w, y: r.storage(8 * 4), M: 1 };
    assert.equal(linear(args)[0].kernel, linear(args)[0].kernel);
  });

  it('a buffer too small for (M, K) is a TlcError naming the tensor', async () => {
    const r = await gpuRunner();
    const w = uploadWeight(r, 'blk.0.attn_q.weight', T.Q8_0, 64, 8, quantize(T.Q8_0, new Float32Array(512)));
    assert.throws(() => linear({ x: r.storage(64 * 4), w, y: r.storage(8 * 4), M: 2 }), /blk\.0\.attn_q\.weight: x \(2, 64\)/);
  });
});
