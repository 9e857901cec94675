// Host side of the weight kernels: linear (y = x @ W^T) and embedding lookup, as Dispatch lists.
// Kernels are generated once per specialization and memoized: the executor calls these per token.
import type { Dispatch, Workgroups } from '../kernels.ts';
import { rowCount, type WeightTensor } from '../weights.ts';
import type { Kernel } from '../../shaders/kernel.ts';
import { matmulKernel, matmulRowsPerGroup, type MatmulSpec } from '../../shaders/matmul.ts';
import { embeddingKernel, embeddingUnits, EMBEDDING_THREADS, type EmbeddingSpec } from '../../shaders/embedding.ts';
import { TlcError } from '../errors.ts';
import { typeName } from '../quant.ts';
import type { Gpu } from '../device.ts';

/** Rows of x per workgroup when M > 1 (prefill): each decoded weight is reused this many times. */
export const PREFILL_M_TILE = 8;

/** How the matmul kernels lay threads out (see shaders/matmul.ts); pick with tuningFor. */
export interface WeightKernelTuning {
  threadsPerRow: number; // threads splitting one row's K: 1 on CPU adapters, more on GPUs
  subgroups: boolean;    // share x loads with subgroupBroadcast (needs the 'subgroups' feature)
  rowsPerThread?: number; // weight rows per thread in the decode mat-vec (threadsPerRow 1): x loads shared by them
  prefillRowsPerThread?: number; // the same for M > 1 (halved for types with big units: see shaders/matmul.ts)
}

/** What works on any adapter; tuneWeightKernels picks the fast one for a device. */
let tuning: WeightKernelTuning = { threadsPerRow: 1, subgroups: false };

export function tuningFor(gpu: Gpu): WeightKernelTuning {
  const cpu = gpu.info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(gpu.info.adapter);
  if (!cpu) return { threadsPerRow: 16, subgroups: false };
  // The broadcast of x needs 8 lanes per subgroup (lavapipe's are 8 or 16 wide: one SIMD register).
  const minLanes = (gpu.device as { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo?.subgroupMinSize ?? 0;
  // Two rows a thread: one load of x serves both (measured on lavapipe: up to 1.3x for Q4_0 and F16, even for Q8_0).
  // Prefill: four rows a thread (1.7x for Q4_0 at M = 64 on lavapipe, two for Q8_0: 1.3x).
  return { threadsPerRow: 1, subgroups: gpu.hasSubgroups && minLanes >= 8, rowsPerThread: 2, prefillRowsPerThread: 4 };
}

/** Sets the tuning of the kernels linear() makes from now on: call once after opening the device. */
export function tuneWeightKernels(t: Gpu | WeightKernelTuning): void {
  tuning = 'device' in t ? tuningFor(t) : { ...t };
}

/**
 * y = x @ W^T. x: (M, K) f32, w: GGUF shape [K, N] (N rows of K values), y: (M, N) f32.
 * One dispatch per chunk of W, each writing its own column range of y.
 */
export function linear(args: {
  x: GPUBuffer; w: WeightTensor; y: GPUBuffer; M: number; maxWorkgroupsPerDimension?: number;
  /** add: y = r + x @ W^T, r (M, N) f32; swiglu: y = silu(x @ W^T) * (x @ W2^T), W2 of W's type and shape. */
  epilogue?: { add: GPUBuffer } | { swiglu: WeightTensor };
}): Dispatch[] {
  const { x, w, y, M, epilogue } = args;
  const K = w.shape[0], N = rowCount(w.shape);
  checkSize(x, M * K * 4, `linear ${w.name}: x (${M}, ${K}) f32`);
  checkSize(y, M * N * 4, `linear ${w.name}: y (${M}, ${N}) f32`);
  if (epilogue && 'add' in epilogue) checkSize(epilogue.add, M * N * 4, `linear ${w.name}: the residual (${M}, ${N}) f32`);
  const up = epilogue && 'swiglu' in epilogue ? epilogue.swiglu : undefined;
  if (up && (up.type !== w.type || up.shape.join() !== w.shape.join() || up.chunks.map((c) => c.rows).join() !== w.chunks.map((c) => c.rows).join())) {
    throw new TlcError(`linear: ${up.name} (${typeName(up.type)} [${up.shape.join(', ')}]) is not laid out as ${w.name} (${typeName(w.type)} [${w.shape.join(', ')}])`);
  }
  if (M === 0) return [];
  const mTile = M === 1 ? 1 : PREFILL_M_TILE;
  return w.chunks.map((chunk, ci) => {
    const spec: MatmulSpec = { type: w.type, K, N: chunk.rows, yStride: N, mTile, ...tuning, epilogue: epilogue && ('add' in epilogue ? 'add' : 'swiglu') };
    const kernel = memo(`matmul ${JSON.stringify(spec)}`, () => matmulKernel(spec));
    const [workgroups, gridX] = grid(Math.ceil(chunk.rows / matmulRowsPerGroup(spec)) * Math.ceil(M / mTile), args.maxWorkgroupsPerDimension);
    const extra = !epilogue ? [] : 'add' in epilogue ? [epilogue.add] : [up!.chunks[ci].buffer];
    return { kernel, bindings: [x, chunk.buffer, y, ...extra], params: new Uint32Array([M, chunk.rowStart, gridX, 0]), workgroups };
  });
}

/**
 * y[s] = row ids[s] of the table, dequantized. table: GGUF shape [K, vocab], ids: (seq) u32,
 * y: (seq, K) f32. Ids past the vocabulary give rows of zeros.
 */
export function embedding(args: { table: WeightTensor; ids: GPUBuffer; y: GPUBuffer; seq: number; maxWorkgroupsPerDimension?: number }): Dispatch[] {
  const { table, ids, y, seq } = args;
  const K = table.shape[0], vocab = rowCount(table.shape);
  checkSize(ids, seq * 4, `embedding ${table.name}: ids (${seq}) u32`);
  checkSize(y, seq * K * 4, `embedding ${table.name}: y (${seq}, ${K}) f32`);
  if (seq === 0) return [];
  return table.chunks.map((chunk) => {
    const spec: EmbeddingSpec = { type: table.type, K, rows: chunk.rows, vocab };
    const kernel = memo(`embedding ${JSON.stringify(spec)}`, () => embeddingKernel(spec));
    const [workgroups, gridX] = grid(Math.ceil((seq * embeddingUnits(spec)) / EMBEDDING_THREADS), args.maxWorkgroupsPerDimension);
    return { kernel, bindings: [ids, chunk.buffer, y], params: new Uint32Array([seq, chunk.rowStart, gridX, 0]), workgroups };
  });
}

const kernels = new Map<string, Kernel>();

function memo(key: string, make: () => Kernel): Kernel {
  let k = kernels.get(key);
  if (!k) kernels.set(key, (k = make()));
  return k;
}

/** `count` workgroups as a 2-D grid within maxComputeWorkgroupsPerDimension; kernels compute wid.x + wid.y * gridX. */
export function grid(count: number, maxPerDim = 65535): [Workgroups, number] { // 65535: WebGPU's default limit
  const gridX = Math.max(1, Math.min(count, maxPerDim));
  return [[gridX, Math.ceil(count / gridX)], gridX];
}

function checkSize(buffer: GPUBuffer, bytes: number, what: string): void {
  if (buffer.size < bytes) throw new TlcError(`${what} needs ${bytes} bytes, but its buffer has ${buffer.size}`);
}
