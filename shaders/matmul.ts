// y = x @ W^T with the weight dequantized inside the kernel.
//   x: (M, K) f32, W: (N, K) in its GGUF type (a tensor of GGUF shape [K, N]), y: (M, yStride) f32.
// One template for all types (the decoders live in dequant.ts), specialized per (type, K, N, tiling).
//
// A workgroup of 64 threads covers ROWS = 64 / TK weight rows × MT rows of x. Neighbouring threads
// take neighbouring rows; the TK threads of a row split its K units between them (unit u goes to
// thread u % TK) and add their sums in workgroup memory at the end. Each thread decodes a weight
// unit once and uses it for all MT rows of x: MT = 1 for decode (a mat-vec: every weight byte is
// read once), MT = 8 for prefill.
import type { GgmlType } from '../runtime/weights.ts';
import type { Kernel } from './kernel.ts';
import { codec } from './dequant.ts';
import { typeName } from '../runtime/quant.ts';

export interface MatmulSpec {
  type: GgmlType;
  K: number;       // row length of W and x
  N: number;       // rows of W in this buffer
  yStride: number; // row length of y (N of the whole tensor when W is split in chunks)
  mTile: number;   // rows of x per workgroup: 1 for decode
  threadsPerRow: number; // TK: a power of two from 1 to 64
}

export const MATMUL_THREADS = 64;

/** Weight rows one workgroup covers. */
export function matmulRowsPerGroup(spec: MatmulSpec): number {
  return MATMUL_THREADS / spec.threadsPerRow;
}

export function matmulKernel(spec: MatmulSpec): Kernel {
  const { type, K, N, yStride, mTile: MT, threadsPerRow: TK } = spec;
  const c = codec(type, K);
  const u4 = c.unit / 4;
  const rows = MATMUL_THREADS / TK;
  const each = (n: number, f: (i: number) => string, sep = '\n') => Array.from({ length: n }, (_, i) => f(i)).join(sep);
  const sum = (m: number) => `hsum(${each(u4, (i) => `wv[${i}] * x[xr${m} + xoff(u, ${i}u) / 4u]`, ' + ')})`;
  // With TK > 1 the TK partial sums of each output meet in workgroup memory.
  const reduce = TK === 1 ? '' : `
  ${each(MT, (m) => `part[(kt * MT + ${m}u) * ROWS + r] = a${m};`, '\n  ')}
  workgroupBarrier();
  if (kt != 0u) { return; }
  for (var t = 1u; t < TK; t++) {
    ${each(MT, (m) => `a${m} += part[(t * MT + ${m}u) * ROWS + r];`, '\n    ')}
  }`;

  const wgsl = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<vec4f>;     // (M, K)
@group(0) @binding(1) var<storage, read> w: array<u32>;       // (N, K) raw ${typeName(type)} bytes
@group(0) @binding(2) var<storage, read_write> y: array<f32>; // (M, ${yStride}); this kernel writes columns col0 .. col0 + ${N}
struct Params { M: u32, col0: u32, gridX: u32, pad: u32 }
@group(0) @binding(3) var<uniform> p: Params;

const N = ${N}u;
const ROW_BYTES = ${c.rowBytes}u;
const UNITS = ${K / c.unit}u; // per row
const TK = ${TK}u;            // threads per row
const ROWS = ${rows}u;        // rows per workgroup
const ROW_TILES = ${Math.ceil(N / rows)}u;
const MT = ${MT}u;            // rows of x per workgroup
${TK === 1 ? '' : `var<workgroup> part: array<f32, ${MATMUL_THREADS * MT}>; // (TK, MT, ROWS)`}
${c.wgsl}
fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(${MATMUL_THREADS})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let tile = wid.x + wid.y * p.gridX;
  let m0 = (tile / ROW_TILES) * MT;
  if (m0 >= p.M) { return; }
  let r = lid % ROWS;
  let kt = lid / ROWS;
  let row = (tile % ROW_TILES) * ROWS + r;
  // A row past N (or an x row past M) repeats the last one, keeping the loop branch-free; it is not written.
  let rb = min(row, N - 1u) * ROW_BYTES;
${each(MT, (m) => `  let xr${m} = min(m0 + ${m}u, p.M - 1u) * ${K / 4}u;`)}
${each(MT, (m) => `  var a${m} = 0.0;`)}
  for (var u = ${TK === 1 ? '0u' : 'kt'}; u < UNITS; u += TK) { // with TK = 1, u is uniform: x loads are broadcasts
    let wv = decode(rb, u);
${each(MT, (m) => `    a${m} += ${sum(m)};`)}
  }
${reduce}
  if (row >= N) { return; }
  let col = p.col0 + row;
${each(MT, (m) => `  if (m0 + ${m}u < p.M) { y[(m0 + ${m}u) * ${yStride}u + col] = a${m}; }`)}
}
`;
  return {
    name: `matmul_${typeName(type).toLowerCase()}_k${K}_n${N}${yStride !== N ? `_y${yStride}` : ''}_m${MT}_t${TK}`,
    wgsl,
    bindings: ['read', 'read', 'read_write', 'uniform'],
  };
}
