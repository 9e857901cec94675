// Copies new K or V rows into a layer's cache at rows pos0..pos0+seq-1: one thread per element.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, ROUND_F16 } from './common.ts';

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
