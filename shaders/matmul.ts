// y = x @ W^T with the weight dequantized inside the kernel.
//   x: (M, K) f32, W: (N, K) in its GGUF type (a tensor of GGUF shape [K, N]), y: (M, yStride) f32.
// One template for all types (the decoders live in dequant.ts), specialized per (type, K, N, tiling).
//
// A workgroup of 64 threads covers 64 / TK weight rows × MT rows of x. The TK threads of a row split
// its K units (unit u goes to thread u % TK) and add their sums in workgroup memory at the end. Each
// thread decodes a weight unit once and uses it for all MT rows of x: MT = 1 for decode (a mat-vec
// reading every weight byte once), MT = 8 for prefill.
//
// Two tunings (see tuningFor in runtime/ops/matmul.ts):
// - TK > 1 (GPUs): neighbouring threads read neighbouring units of one row, so loads coalesce.
// - TK = 1 (CPU adapters such as lavapipe, where a subgroup is one SIMD register and each thread a
//   lane of it): every thread owns a row and all walk K in step, so they all need the same x. With
//   `subgroups`, 8 lanes load a piece of x each and subgroupBroadcast hands it to the rest: on
//   lavapipe that is 2.5 to 4 times faster than every lane loading x (its loads are per-lane loops).
import type { GgmlType } from '../runtime/weights.ts';
import type { Kernel } from './kernel.ts';
import { codec, codecFor } from './dequant.ts';
import { typeName } from '../runtime/quant.ts';

export interface MatmulSpec {
  type: GgmlType;
  K: number;             // row length of W and x
  N: number;             // rows of W in this buffer
  yStride: number;       // row length of y (N of the whole tensor when W is split in chunks)
  mTile: number;         // MT: rows of x per workgroup, 1 for decode
  threadsPerRow: number; // TK: a power of two from 1 to 64
  subgroups: boolean;    // share x loads with subgroupBroadcast (used when TK = 1)
  /**
   * R: weight rows each thread covers when TK = 1 and MT = 1 (default 1). Its x loads and their
   * broadcasts serve all R rows: on lavapipe a load of x costs as much as a load of weights.
   */
  rowsPerThread?: number;
  /** The same for MT > 1 (prefill): each x load then serves MT rows of x times R weight rows. */
  prefillRowsPerThread?: number;
  /**
   * What the kernel does with each sum before it writes it: 'add' adds the residual (binding 3),
   * 'swiglu' also takes x @ W2^T (binding 3: the up projection, same type and shape) and writes
   * silu(x @ W^T) * (x @ W2^T). Both save a dispatch and a pass over the activations; swiglu also
   * shares the loads of x between the two weights.
   */
  epilogue?: 'add' | 'swiglu';
}

export const MATMUL_THREADS = 64;

/** Weight rows one workgroup covers. */
export function matmulRowsPerGroup(spec: MatmulSpec): number {
  return (MATMUL_THREADS / spec.threadsPerRow) * rowsPerThread(spec);
}

function rowsPerThread(spec: MatmulSpec): number {
  if (spec.threadsPerRow !== 1) return 1;
  if (spec.mTile === 1) return spec.rowsPerThread ?? 1;
  // Each row's decoded unit is held across the loop over x rows: units of more than 36 bytes
  // (Q8_0's 68, F32's 64) take half as many rows, or they spill (measured on lavapipe).
  const R = spec.prefillRowsPerThread ?? 1;
  return unitBytes(spec) > 36 ? Math.max(1, R >> 1) : R;
}

function unitBytes(spec: MatmulSpec): number {
  const c = codec(spec.type, spec.K);
  return (c.rowBytes * c.unit) / spec.K;
}

/** Σ_i a(i) * b(i) over vec4s as a chain of fma: one instruction a product where the CPU has FMA. */
function fmaChain(n: number, a: (i: number) => string, b: (i: number) => string): string {
  let e = `${a(0)} * ${b(0)}`;
  for (let i = 1; i < n; i++) e = `fma(${a(i)}, ${b(i)}, ${e})`;
  return e;
}

export function matmulKernel(spec: MatmulSpec): Kernel {
  const { type, K, N, yStride, mTile: MT, threadsPerRow: TK, epilogue } = spec;
  const subgroups = spec.subgroups && TK === 1;
  const c = codec(type, K);
  // The weights each output reads: W, and for swiglu also the up projection (binding w2).
  const mats = epilogue === 'swiglu' ? [c, codecFor(c, 'w2')] : [c];
  const decodeFn = ['decode', 'decode_w2'];
  const u4 = c.unit / 4;
  const R = rowsPerThread(spec);
  const rows = (MATMUL_THREADS / TK) * R;
  const each = (n: number, f: (i: number) => string, sep = '\n') => Array.from({ length: n }, (_, i) => f(i)).join(sep);
  const list = (n: number, f: (i: number) => string) => each(n, f, ', ');
  const forRowsAndMats = (f: (k: number, j: number) => string, sep = '\n') => each(R, (k) => each(mats.length, (j) => f(k, j), sep), sep);

  // x for value(i) of unit u, from the x row starting at xr. With subgroups, lane l < 8 loads
  // values l, 8 + l, ... of the unit (scalar loads are cheaper than vec4 ones on lavapipe) and
  // every lane takes them with subgroupBroadcast (the tuning guarantees 8 lanes per subgroup).
  const floats = 4 * u4;
  const lanes = Math.min(floats, 8);
  const xLoads = subgroups
    ? each(Math.ceil(floats / 8), (h) => `let xl${h} = x[xr + xoff(u, ${2 * h}u + (xlane >> 2u)) + (xlane & 3u)];`, ' ')
    : '';
  const xAt = (i: number) => subgroups
    ? `vec4f(${list(4, (k) => `subgroupBroadcast(xl${i >> 1}, ${4 * (i & 1) + k}u)`)})`
    : `vec4f(${list(4, (k) => `x[xr + xoff(u, ${i}u) + ${k}u]`)})`;
  // Prefill (MT > 1) of units over 16 values reads x as vec4s: lane h loads the unit's vec4s 2h and
  // 2h + 1, and value(i)'s vec4 comes from lane i / 2. Two loads a lane instead of eight: x is the
  // costly part of a prefill tile on lavapipe (1.1x for Q4_0 and Q8_0; for 16-value units, where
  // it saves no load, vec4 loads are slower).
  const x4 = subgroups && MT > 1 && floats > 16;
  const loadX = x4 ? /* wgsl */ `
fn load_x(xr: u32, u: u32, xlane: u32) -> array<vec4f, ${u4}> {
  let xa = x[(xr + xoff(u, 2u * xlane)) >> 2u];${u4 > 1 ? `\n  let xb = x[(xr + xoff(u, min(2u * xlane + 1u, ${u4 - 1}u))) >> 2u];` : ''}
  return array<vec4f, ${u4}>(${list(u4, (i) => `subgroupBroadcast(${i & 1 ? 'xb' : 'xa'}, ${i >> 1}u)`)});
}` : /* wgsl */ `
fn load_x(xr: u32, u: u32${subgroups ? ', xlane: u32' : ''}) -> array<vec4f, ${u4}> {
  ${xLoads}
  return array<vec4f, ${u4}>(${list(u4, xAt)});
}`;
  const xArgs = subgroups ? ', xlane' : '';

  const first = TK === 1 ? '0u' : 'kt'; // with TK = 1 every thread walks the same units: x is uniform
  // Sums: acc<j>_<k> for weight j and row k of the thread (an array over the MT rows of x when MT > 1).
  const acc = (j: number, k: number, m = 'm') => (MT === 1 ? `acc${j}_${k}` : `acc${j}_${k}[${m}]`);
  const reduce = TK === 1 ? '' : each(mats.length, (j) => /* wgsl */ `
  // The TK partial sums of each output meet in workgroup memory.
  for (var m = 0u; m < MT; m++) { part[(m * ROWS + r) * TK + kt] = ${acc(j, 0)}; }
  workgroupBarrier();
  if (kt == 0u) {
    for (var m = 0u; m < MT; m++) {
      for (var t = 1u; t < TK; t++) { ${acc(j, 0)} += part[(m * ROWS + r) * TK + t]; }
    }
  }
  workgroupBarrier();`) + '\n  if (kt != 0u) { return; }';

  // The output from its sums: y = x @ W^T, + r (the residual), or silu(x @ W^T) * (x @ W2^T).
  const out = (k: number, m?: string) => {
    const a = acc(0, k, m);
    if (epilogue === 'add') return `res[i] + ${a}`;
    if (epilogue === 'swiglu') return `(${a} / (1.0 + exp(-${a}))) * ${acc(1, k, m)}`; // as shaders/binary.ts
    return a;
  };
  const params = epilogue ? 4 : 3;

  const wgsl = /* wgsl */ `${subgroups ? 'enable subgroups;\n' : ''}
@group(0) @binding(0) var<storage, read> x: array<${x4 ? 'vec4f' : 'f32'}>;${x4 ? '     ' : '       '}// (M, K)
@group(0) @binding(1) var<storage, read> w: array<${c.word}>; // (N, K) raw ${typeName(type)} bytes
@group(0) @binding(2) var<storage, read_write> y: array<f32>; // (M, ${yStride}); this kernel writes columns col0 .. col0 + ${N}
${epilogue === 'add' ? '@group(0) @binding(3) var<storage, read> res: array<f32>;    // (M, yStride): the residual, added to the product\n' : ''}${
  epilogue === 'swiglu' ? `@group(0) @binding(3) var<storage, read> w2: array<${c.word}>; // (N, K): the up projection; y = silu(x W^T) * (x W2^T)\n` : ''}struct Params { M: u32, col0: u32, gridX: u32, pad: u32 }
@group(0) @binding(${params}) var<uniform> p: Params;

const N = ${N}u;
const ROW_BYTES = ${c.rowBytes}u;
const UNITS = ${K / c.unit}u; // per row
const TK = ${TK}u;            // threads per row
const ROWS = ${rows}u;        // rows per workgroup
const ROW_TILES = ${Math.ceil(N / rows)}u;
const MT = ${MT}u;            // rows of x per workgroup
const K = ${K}u;
const YS = ${yStride}u;       // row length of y
${TK === 1 ? '' : `var<workgroup> part: array<f32, ${MATMUL_THREADS * MT}>; // (MT, ROWS, TK)`}
${c.wgsl}${mats[1]?.wgsl ?? ''}${loadX}
fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(${MATMUL_THREADS})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u${subgroups ? ',\n        @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let tile = wid.x + wid.y * p.gridX;
  let m0 = (tile / ROW_TILES) * MT;
  if (m0 >= p.M) { return; }
  let r = lid / TK;
  let kt = lid % TK;
  // Thread r covers rows row, row + ${MATMUL_THREADS}, ... (R of them). A row past N repeats the
  // last one, so control flow stays uniform; it is not written.
  let row = (tile % ROW_TILES) * ROWS + r;
${each(R, (k) => `  let rb${k} = min(row + ${k * MATMUL_THREADS}u, N - 1u) * ROW_BYTES;`)}
${subgroups ? `  let xlane = lane & ${(x4 ? 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(u4 / 2)))) : lanes) - 1}u;\n` : ''}${MT === 1 ? `  let xr = m0 * K;
${forRowsAndMats((k, j) => `  var ${acc(j, k)} = 0.0;`)}
  for (var u = ${first}; u < UNITS; u += TK) {
    ${xLoads}
${forRowsAndMats((k, j) => `    {\n${mats[j].load(`rb${k}`, 'u')}\n    ${acc(j, k)} += ${mats[j].dot(xAt)};\n    }`)}
  }` : `  // The loop over x rows is not unrolled, so the kernel stays small (lavapipe compiles it fast).
  let mn = min(MT, p.M - m0);
${forRowsAndMats((k, j) => `  var acc${j}_${k}: array<f32, ${MT}>;`)}
  for (var u = ${first}; u < UNITS; u += TK) {
${forRowsAndMats((k, j) => `    let wv${j}_${k} = ${decodeFn[j]}(rb${k}, u);`)}
    for (var m = 0u; m < mn; m++) {
      let xv = load_x((m0 + m) * K, u${xArgs});
${forRowsAndMats((k, j) => `      ${acc(j, k)} += hsum(${fmaChain(u4, (i) => `wv${j}_${k}[${i}]`, (i) => `xv[${i}]`)});`)}
    }
  }`}
${reduce}
${each(R, (k) => MT === 1
    ? `  if (row + ${k * MATMUL_THREADS}u < N) {\n    let i = m0 * YS + p.col0 + row + ${k * MATMUL_THREADS}u;\n    y[i] = ${out(k)};\n  }`
    : `  if (row + ${k * MATMUL_THREADS}u < N) {
    for (var m = 0u; m < mn; m++) {
      let i = (m0 + m) * YS + p.col0 + row + ${k * MATMUL_THREADS}u;
      y[i] = ${out(k)};
    }
  }`)}
}
`;
  return {
    name: `matmul_${typeName(type).toLowerCase()}_k${K}_n${N}${yStride !== N ? `_y${yStride}` : ''}_m${MT}_t${TK}${R > 1 ? `_r${R}` : ''}${subgroups ? '_sg' : ''}${epilogue ? `_${epilogue}` : ''}`,
    wgsl,
    bindings: ['read', 'read', 'read_write', ...(epilogue ? ['read' as const] : []), 'uniform'],
    features: subgroups ? ['subgroups'] : undefined,
  };
}
