// Kernel benchmarks on the real adapter: a table of cases, each of which sets up its buffers and
// returns the dispatches of one call. To bench another kernel, add a case maker to BENCH_KERNELS.
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { Gpu } from './device.ts';
import { KernelRunner, type Dispatch } from './kernels.ts';
import type { GgmlType, WeightTensor } from './weights.ts';
import { blockInfo, quantize, tensorBytes, typeName } from './quant.ts';
import { linear, embedding } from './ops/matmul.ts';
import { TlcError } from './errors.ts';
import { toGpuLayout } from './weight-layout.ts';
import { timePass } from './gpu-timer.ts';

export interface BenchCase {
  kernel: string; // "matmul"
  label: string;  // "Q8_0 K=2048 N=2048 M=1"
  bytes: number;  // bytes one call must read at least (weights), for GB/s
  flops: number;  // for GFLOP/s (0 when it means nothing)
  /**
   * Creates the buffers and returns the dispatches of one call for each copy of the weights: calls
   * cycle through copies that together exceed the CPU's caches (COLD_BYTES), so every call reads its
   * weights from memory, as a model's layers do.
   */
  setup(runner: KernelRunner): { calls: Dispatch[][]; buffers: GPUBuffer[] };
}

/** Weight copies in a case add up to at least this: more than the last-level cache of a CPU. */
export const COLD_BYTES = 64 << 20;

export interface BenchResult {
  kernel: string;
  label: string;
  msPerCall: number;
  gbPerS: number;
  gflopPerS: number;
  timer: 'timestamp' | 'wall clock';
}

export interface BenchOptions {
  kernels: string[];      // keys of BENCH_KERNELS
  types: GgmlType[];
  shapes: [number, number][]; // (K, N): row length and rows (for embedding: vocabulary rows)
  M: number;              // rows of x (matmul) or tokens (embedding)
  iters: number;          // calls per measurement
}

export const DEFAULT_SHAPES: [number, number][] = [[2048, 2048], [2048, 5632], [5632, 2048]]; // TinyLlama's
export const BENCH_TYPES: GgmlType[] = [T.F32, T.F16, T.Q8_0, T.Q4_0, T.Q4_K, T.Q6_K];

/** Case makers by kernel name: what `tlc bench --kernel` accepts. */
export const BENCH_KERNELS: Record<string, (o: BenchOptions) => BenchCase[]> = {
  matmul: (o) => o.types.flatMap((type) => o.shapes.map(([K, N]): BenchCase => ({
    kernel: 'matmul',
    label: `${typeName(type)} K=${K} N=${N} M=${o.M}`,
    bytes: tensorBytes(type, K * N),
    flops: 2 * o.M * K * N,
    setup(runner) {
      const x = runner.storage(randomFloats(o.M * K, 1)); // (M, K)
      const y = runner.storage(o.M * N * 4);               // (M, N)
      const ws = weightCopies(runner, type, K, N);
      return { calls: ws.map((w) => linear({ x, w, y, M: o.M })), buffers: [x, y, ...ws.map((w) => w.chunks[0].buffer)] };
    },
  }))),
  embedding: (o) => o.types.flatMap((type) => o.shapes.map(([K, N]): BenchCase => ({
    kernel: 'embedding',
    label: `${typeName(type)} K=${K} vocab=${N} seq=${o.M}`,
    bytes: o.M * tensorBytes(type, K),
    flops: 0,
    setup(runner) {
      const ids = runner.storage(Uint32Array.from({ length: o.M }, (_, i) => (i * 7919) % N)); // (seq)
      const y = runner.storage(o.M * K * 4);                                                    // (seq, K)
      const tables = weightCopies(runner, type, K, N);
      return { calls: tables.map((table) => embedding({ table, ids, y, seq: o.M })), buffers: [ids, y, ...tables.map((t) => t.chunks[0].buffer)] };
    },
  }))),
};

export function benchCases(o: BenchOptions): BenchCase[] {
  return o.kernels.flatMap((k) => {
    const make = BENCH_KERNELS[k];
    if (!make) throw new TlcError(`bench: no kernel "${k}" (known: ${Object.keys(BENCH_KERNELS).join(', ')})`);
    return make(o);
  });
}

/**
 * Times each case: one warm-up call (which also compiles the pipeline), then `rounds` submits of
 * `iters` calls, keeping the fastest round (other work on the machine only ever adds time).
 */
export async function runBench(gpu: Gpu, cases: BenchCase[], iters: number, onResult: (r: BenchResult) => void, rounds = 5): Promise<BenchResult[]> {
  const runner = new KernelRunner(gpu);
  const results: BenchResult[] = [];
  for (const c of cases) {
    const { calls, buffers } = c.setup(runner);
    await runner.runAll(calls[0]);
    const uniforms = calls[0].map((d) => (d.params ? runner.uniform(d.params) : undefined)); // the same for every copy
    const record = (pass: GPUComputePassEncoder) => {
      for (let i = 0; i < iters; i++) {
        calls[i % calls.length].forEach((d, j) => runner.dispatch(pass, d.kernel, uniforms[j] ? [...d.bindings, uniforms[j]!] : d.bindings, d.workgroups));
      }
    };
    let best = Infinity;
    for (let r = 0; r < rounds; r++) best = Math.min(best, await timePass(gpu, record));
    const ms = best / iters;
    const result: BenchResult = {
      kernel: c.kernel, label: c.label, msPerCall: ms, gbPerS: c.bytes / ms / 1e6, gflopPerS: c.flops / ms / 1e6,
      timer: gpu.hasTimestamps ? 'timestamp' : 'wall clock',
    };
    results.push(result);
    onResult(result);
    for (const b of [...uniforms, ...buffers]) b?.destroy();
  }
  return results;
}

// ---- test data ----

/**
 * Copies of N rows of K values of `type`, enough to add up to COLD_BYTES (at most 64), with
 * real-looking data: 64 quantized random rows, repeated.
 */
function weightCopies(runner: KernelRunner, type: GgmlType, K: number, N: number): WeightTensor[] {
  if (K % blockInfo(type).blockSize !== 0) throw new TlcError(`bench: K=${K} is not a whole number of ${typeName(type)} blocks`);
  const distinct = Math.min(N, 64);
  const pattern = quantize(type, randomFloats(distinct * K, 2)); // (distinct, K)
  const bytes = new Uint8Array(tensorBytes(type, K * N));        // (N, K)
  for (let r = 0; r < N; r += distinct) bytes.set(pattern.subarray(0, Math.min(distinct, N - r) * tensorBytes(type, K)), r * tensorBytes(type, K));
  const copies = Math.min(64, Math.ceil(COLD_BYTES / bytes.byteLength));
  const gpuBytes = toGpuLayout(type, K, bytes);
  return Array.from({ length: copies }, () => ({ name: `bench.${typeName(type)}`, type, shape: [K, N], chunks: [{ buffer: runner.storage(gpuBytes), rowStart: 0, rows: N }] }));
}

function randomFloats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}
