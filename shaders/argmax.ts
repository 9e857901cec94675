// Index of the largest of n values in one workgroup; ties go to the lowest index (llama.cpp's
// greedy sampler). Writes one u32.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, INF_DECL } from './common.ts';

export const argmaxParams = paramsStruct({ n: 'u32', x_off: 'u32', out_index: 'u32' });

const WG = 256;

export function argmaxKernel(): Kernel {
  return memo('argmax', () => ({
    name: 'argmax',
    bindings: ['read', 'read_write', 'uniform'],
    wgsl: `${argmaxParams.wgsl}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
${INF_DECL}
var<workgroup> best_v: array<f32, ${WG}>;
var<workgroup> best_i: array<u32, ${WG}>;

// (v, i) beats (bv, bi): larger, or as large and earlier. NaN never wins.
fn beats(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_id) lid: vec3u) {
  var bv = -bitcast<f32>(INF_BITS);
  var bi = 0xffffffffu;
  for (var i = lid.x; i < p.n; i += ${WG}u) {
    let v = x[p.x_off + i];
    if (beats(v, i, bv, bi)) { bv = v; bi = i; }
  }
  best_v[lid.x] = bv;
  best_i[lid.x] = bi;
  workgroupBarrier();
  if (lid.x == 0u) {
    for (var k = 1u; k < ${WG}u; k++) {
      if (beats(best_v[k], best_i[k], bv, bi)) { bv = best_v[k]; bi = best_i[k]; }
    }
    out[p.out_index] = select(bi, 0u, bi == 0xffffffffu); // all NaN: token 0
  }
}`,
  }));
}
