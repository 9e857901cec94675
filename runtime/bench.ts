// Kernel benchmarks on the real adapter: a table of cases, each of which sets up its buffers and
// returns the dispatches of one call. To bench another kernel, add a case maker to BENCH_KERNELS.
import { GGMLQuantizationType as T } from '@huggingface/gguf';
import type { Gpu } from './device.ts';
import { KernelRunner, type Dispatch } from './kernels.ts';
import type { GgmlType, WeightTensor } from './weights.ts';
import { blockInfo, quantize, tensorBytes, typeName } from './quant.ts';
import { linear, embedding } from './ops/matmul.ts';
import { TlcError } from './errors.ts';
import { timePass } from './gpu-timer.ts';

export interface BenchCase {
  kernel: string; // "matmul"
  label: string;  // "Q8_0 K=2048 N=2048 M=1"
  bytes: number;  // bytes one call must read at least (weights), for GB/s
  flops: number;  // for GFLOP/s (0 when it means nothing)
  /** Creates the buffers and returns one call's dispatches. */
  setup(runner: KernelRunner): Dispatch[];
}

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
      const w = randomWeight(runner, type, K, N);
      const x = runner.storage(randomFloats(o.M * K, 1)); // (M, K)
      const y = runner.storage(o.M * N * 4);               // (M, N)
      return linear({ x, w, y, M: o.M });
    },
  }))),
  embedding: (o) => o.types.flatMap((type) => o.shapes.map(([K, N]): BenchCase => ({
    kernel: 'embedding',
    label: `${typeName(type)} K=${K} vocab=${N} seq=${o.M}`,
    bytes: o.M * tensorBytes(type, K),
    flops: 0,
    setup(runner) {
      const table = randomWeight(runner, type, K, N);
      const ids = runner.storage(Uint32Array.from({ length: o.M }, (_, i) => (i * 7919) % N)); // (seq)
      const y = runner.storage(o.M * K * 4);                                                    // (seq, K)
      return embedding({ table, ids, y, seq: o.M });
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
    const dispatches = c.setup(runner);
    await runner.runAll(dispatches);
    const uniforms = dispatches.map((d) => (d.params ? runner.uniform(d.params) : undefined));
    const record = (pass: GPUComputePassEncoder) => {
      for (let i = 0; i < iters; i++) {
        dispatches.forEach((d, j) => runner.dispatch(pass, d.kernel, uniforms[j] ? [...d.bindings, uniforms[j]!] : d.bindings, d.workgroups));
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
    for (const u of uniforms) u?.destroy();
  }
  return results;
}

// ---- test data ----

/** N rows of K values of `type` with real-looking data: 64 quantized random rows, repeated. */
function randomWeight(runner: KernelRunner, type: GgmlType, K: number, N: number): WeightTensor {
  const distinct = Math.min(N, 64);
  const pattern = quantize(type, randomFloats(distinct * K, 2)); // (distinct, K)
  const bytes = new Uint8Array(tensorBytes(type, K * N));        // (N, K)
  for (let r = 0; r < N; r += distinct) bytes.set(pattern.subarray(0, Math.min(distinct, N - r) * tensorBytes(type, K)), r * tensorBytes(type, K));
  if (K % blockInfo(type).blockSize !== 0) throw new TlcError(`bench: K=${K} is not a whole number of ${typeName(type)} blocks`);
  return { name: `bench.${typeName(type)}`, type, shape: [K, N], chunks: [{ buffer: runner.storage(bytes), rowStart: 0, rows: N }] };
}

function randomFloats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}
