// Copies new K or V rows into a layer's cache at rows pos0..pos0+seq-1: one thread per element.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, INF_DECL } from './common.ts';

export const kvWriteParams = paramsStruct({ count: 'u32', dst_off: 'u32' });

/** `roundF16` stores values rounded to f16 precision (still as f32), like llama.cpp's default f16 cache. */
export function kvWriteKernel(roundF16: boolean): Kernel {
  return memo(`kv_write:${roundF16}`, () => {
    const value = roundF16 ? 'round_f16(src[i])' : 'src[i]';
    const wgsl = `${kvWriteParams.wgsl}
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> cache: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${roundF16 ? ROUND_F16 : ''}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${LINEAR_GROUP} * 64u + lid.x;
  if (i < p.count) { cache[p.dst_off + i] = ${value}; }
}`;
    return { name: `kv_write${roundF16 ? '_f16round' : ''}`, wgsl, bindings: ['read', 'read_write', 'uniform'] };
  });
}

// Round to the nearest f16 value (ties to even) with integer ops: needs no shader-f16, and compilers
// fold unpack2x16float(pack2x16float(x)) back to x.
const ROUND_F16 = `
${INF_DECL}
fn round_f16(x: f32) -> f32 {
  let a = abs(x);
  var r: f32;
  if (a < 6.103515625e-5) {
    r = round(a * 16777216.0) / 16777216.0;    // subnormal f16: steps of 2^-24
  } else if (a >= 65520.0) {
    r = bitcast<f32>(INF_BITS);                  // past the largest f16 (65504): inf
  } else {
    let b = bitcast<u32>(a);                    // keep 10 of 23 mantissa bits, rounding to even
    r = bitcast<f32>((b + 0xfffu + ((b >> 13u) & 1u)) & 0xffffe000u);
  }
  return select(r, -r, x < 0.0);
}
`;
