// gather and scatter along one axis, the original's semantics (PyTorch-style): the index tensor has
// x's shape except along `dim`. Seen as (outer, size, inner), x has `size` entries along dim and the
// index (and src) `count`. Indices are read as f32 (rounded, halves away from zero) or u32; one that
// is not in [0, size) reads 0 (gather) or writes nothing (scatter). The index is read through
// strides (so, sj, si) of (outer, count, inner): (count*inner, inner, 1) for a full index, (0, 1, 0)
// for a 1-D one that names whole slices. One thread per output element.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP } from './common.ts';

export type IndexType = 'f32' | 'u32';

export const gatherScatterParams = paramsStruct({ n: 'u32', size: 'u32', count: 'u32', inner: 'u32', so: 'u32', sj: 'u32', si: 'u32' });

/** WGSL `slot(v) -> i32`: index value v as a position along dim, or -1 when it is not in [0, size). */
function slotFn(t: IndexType): string {
  if (t === 'u32') return 'fn slot(v: u32) -> i32 { return select(-1, i32(v), v < p.size); }';
  // NaN and infinities fail the range test; so does anything rounding to size or past it.
  return `fn slot(v: f32) -> i32 {
  let r = select(floor(v + 0.5), ceil(v - 0.5), v < 0.0);
  return select(-1, i32(r), r >= 0.0 && r < f32(p.size));
}`;
}

/** out (o, count, i): out[o, j, i] = x[o, index[o, j, i], i]; 0 where the index is out of range. */
export function gatherKernel(t: IndexType): Kernel {
  return memo(`gather:${t}`, () => ({
    name: `gather_${t}`,
    bindings: ['read', 'read', 'read_write', 'uniform'],
    wgsl: `${gatherScatterParams.wgsl}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> index: array<${t}>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${slotFn(t)}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let k = ${LINEAR_GROUP} * 64u + lid.x;
  if (k >= p.n) { return; }
  let i = k % p.inner;
  let j = (k / p.inner) % p.count;
  let o = k / (p.inner * p.count);
  let s = slot(index[o * p.so + j * p.sj + i * p.si]);
  out[k] = select(0.0, x[(o * p.size + u32(max(s, 0))) * p.inner + i], s >= 0);
}`,
  }));
}

/**
 * out (x's shape) = x, with src (o, count, i) [o, j, i] written at out[o, index[o, j, i], i]. Each thread owns one
 * output element and scans the index line through it, so the last j that names it wins (the
 * original's order: src in row-major order, later overwrites earlier), with no races.
 */
export function scatterKernel(t: IndexType): Kernel {
  return memo(`scatter:${t}`, () => ({
    name: `scatter_${t}`,
    bindings: ['read', 'read', 'read', 'read_write', 'uniform'],
    wgsl: `${gatherScatterParams.wgsl}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> index: array<${t}>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
${slotFn(t)}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let k = ${LINEAR_GROUP} * 64u + lid.x;
  if (k >= p.n) { return; }
  let i = k % p.inner;
  let c = i32((k / p.inner) % p.size);
  let o = k / (p.inner * p.size);
  var v = x[k];
  for (var j = 0u; j < p.count; j++) {
    if (slot(index[o * p.so + j * p.sj + i * p.si]) == c) { v = src[(o * p.count + j) * p.inner + i]; }
  }
  out[k] = v;
}`,
  }));
}
