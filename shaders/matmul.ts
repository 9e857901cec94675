// y = x @ W^T with the weight dequantized inside the kernel.
//   x: (M, K) f32, W: (N, K) in its GGUF type (a tensor of GGUF shape [K, N]), y: (M, yStride) f32.
// One template for all types (the decoders live in dequant.ts), specialized per (type, K, N, tile).
//
// A workgroup computes a tile of R*TR weight rows × MT rows of x. Its threads form TR groups of TK;
// a group's TK threads split K by units and each thread keeps R × MT partial sums, so every decoded
// weight unit is used MT times and every x load R times. The TK partial sums are then added in
// workgroup memory. Decode (M = 1) uses MT = 1: a mat-vec reading each weight byte once with many
// threads in flight; prefill uses MT = 8.
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
}

export interface MatmulTiling {
  threads: number;      // per workgroup
  rowsPerGroup: number; // weight rows per workgroup
  mTile: number;
}

const THREADS = 64;

export function matmulTiling(spec: MatmulSpec): MatmulTiling {
  const { tk, tr, r } = layout(spec);
  return { threads: tk * tr, rowsPerGroup: tr * r, mTile: spec.mTile };
}

function layout(spec: MatmulSpec) {
  const units = spec.K / codec(spec.type, spec.K).unit;
  const tk = Math.min(THREADS, nextPow2(units)); // threads along K; small K leaves threads for more rows
  const tr = THREADS / tk;
  const r = spec.mTile === 1 ? 4 : 2;            // rows per thread
  return { units, tk, tr, r };
}

export function matmulKernel(spec: MatmulSpec): Kernel {
  const { type, K, N, yStride, mTile: MT } = spec;
  const c = codec(type, K);
  const { units, tk, tr, r: R } = layout(spec);
  const u4 = c.unit / 4;
  const outs = R * MT;
  const idx = (r: number, m: number) => `${r}_${m}`;
  const each = (n: number, f: (i: number) => string, sep = '\n') => Array.from({ length: n }, (_, i) => f(i)).join(sep);
  const dot = (wv: string, xv: (i: number) => string) => `hsum(${each(u4, (i) => `${wv}[${i}] * ${xv(i)}`, ' + ')})`;

  // MT = 1: load the x unit once for all R rows. MT > 1: x loads come from cache, weight decodes do not.
  const body = MT === 1
    ? `    let xv = array<vec4f, ${u4}>(${each(u4, (i) => `x[xr0 + xoff(u, ${i}u) / 4u]`, ', ')});
${each(R, (r) => `    { let wv = decode(rb${r}, u); a${idx(r, 0)} += ${dot('wv', (i) => `xv[${i}]`)}; }`)}`
    : each(R, (r) => `    { let wv = decode(rb${r}, u);
${each(MT, (m) => `      a${idx(r, m)} += ${dot('wv', (i) => `x[xr${m} + xoff(u, ${i}u) / 4u]`)};`)}
    }`);

  const wgsl = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<vec4f>;     // (M, K)
@group(0) @binding(1) var<storage, read> w: array<u32>;       // (N, K) raw ${typeName(type)} bytes
@group(0) @binding(2) var<storage, read_write> y: array<f32>; // (M, ${yStride}); this kernel writes columns col0 .. col0 + ${N}
struct Params { M: u32, col0: u32, gridX: u32, pad: u32 }
@group(0) @binding(3) var<uniform> p: Params;

const N = ${N}u;
const YS = ${yStride}u;
const ROW_BYTES = ${c.rowBytes}u;
const UNITS = ${units}u;
const TK = ${tk}u;
const ROWS = ${tr * R}u; // per workgroup
const ROW_TILES = ${Math.ceil(N / (tr * R))}u;
const MT = ${MT}u;
const OUTS = ${outs}u;   // sums per thread: R rows × MT rows of x
var<workgroup> part: array<f32, ${tk * tr * outs}>;

${c.wgsl}
fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(${tk * tr})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let tile = wid.x + wid.y * p.gridX;
  let m0 = (tile / ROW_TILES) * MT;
  if (m0 >= p.M) { return; }
  let kt = lid % TK;
  let row0 = (tile % ROW_TILES) * ROWS + (lid / TK) * ${R}u;
  // Rows past N (and x rows past M) repeat the last one, keeping the loop branch-free; they are not written.
${each(R, (r) => `  let rb${r} = min(row0 + ${r}u, N - 1u) * ROW_BYTES;`)}
${each(MT, (m) => `  let xr${m} = min(m0 + ${m}u, p.M - 1u) * ${K / 4}u;`)}
${each(R, (r) => each(MT, (m) => `  var a${idx(r, m)} = 0.0;`))}
  for (var u = kt; u < UNITS; u += TK) {
${body}
  }

  // Add the TK partial sums of each output: a tree in workgroup memory.
  let group = (lid / TK) * OUTS * TK;
${each(R, (r) => each(MT, (m) => `  part[group + ${(r * MT + m) * tk}u + kt] = a${idx(r, m)};`))}
  workgroupBarrier();
  for (var s = TK / 2u; s > 0u; s >>= 1u) {
    if (kt < s) {
      for (var i = group + kt; i < group + OUTS * TK; i += TK) { part[i] += part[i + s]; }
    }
    workgroupBarrier();
  }
  for (var i = kt; i < OUTS; i += TK) {
    let r = i / MT;
    let m = i % MT;
    if (row0 + r < N && m0 + m < p.M) {
      y[(m0 + m) * YS + p.col0 + row0 + r] = part[group + i * TK];
    }
  }
}
`;
  return {
    name: `matmul_${typeName(type).toLowerCase()}_k${K}_n${N}${yStride !== N ? `_y${yStride}` : ''}_m${MT}`,
    wgsl,
    bindings: ['read', 'read', 'read_write', 'uniform'],
  };
}

function nextPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}
