// Copies new K or V rows into a layer's cache at rows pos0..pos0+seq-1: one thread per element, or
// (packed f16) one per pair of elements, stored as two f16 in a u32.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, ROUND_F16 } from './common.ts';

export const kvWriteParams = paramsStruct({ count: 'u32', dst_off: 'u32' });

/**
 * `roundF16` stores values rounded to f16 precision (still as f32), like llama.cpp's default f16
 * cache; `packF16` stores them as f16 proper, two to a u32 (half the memory, half the loads).
 * The value is rounded by round_f16 first, so pack2x16float gets an exact f16 and its own rounding
 * mode does not matter.
 */
export function kvWriteKernel(mode: boolean | 'packF16'): Kernel {
  const roundF16 = mode !== false;
  return memo(`kv_write:${mode}`, () => {
    if (mode === 'packF16') {
      const wgsl = `${kvWriteParams.wgsl}
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> cache: array<u32>; // f16 pairs
@group(0) @binding(2) var<uniform> p: Params;                    // count and dst_off in f16 values, both even
${ROUND_F16}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${LINEAR_GROUP} * 64u + lid.x;
  if (2u * i < p.count) { cache[p.dst_off / 2u + i] = pack2x16float(vec2f(round_f16(src[2u * i]), round_f16(src[2u * i + 1u]))); }
}`;
      return { name: 'kv_write_f16packed', wgsl, bindings: ['read', 'read_write', 'uniform'] };
    }
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
