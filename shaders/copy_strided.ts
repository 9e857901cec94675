// Materializes a strided view into a contiguous buffer: dst[dst_off + i] = src[src_off + sum_k c_k * strides_k]
// where (c_k) is the row-major index i in `shape`. Strides may be 0 (broadcast). One thread per element.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP } from './common.ts';

export const copyStridedParams = paramsStruct({ src_off: 'u32', dst_off: 'u32' });

export function copyStridedKernel(shape: number[], strides: number[]): Kernel {
  return memo(`copy_strided:${shape}|${strides}`, () => {
    const n = shape.reduce((p, d) => p * d, 1);
    const lines = ['  var r = i;', '  var s = p.src_off;'];
    for (let k = shape.length - 1; k >= 0; k--) {
      lines.push(`  { let c = r % ${shape[k]}u; r /= ${shape[k]}u;${strides[k] ? ` s += c * ${strides[k]}u;` : ''} }`);
    }
    const wgsl = `${copyStridedParams.wgsl}
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${LINEAR_GROUP} * 64u + lid.x;
  if (i >= ${n}u) { return; }
${lines.join('\n')}
  dst[p.dst_off + i] = src[s];
}`;
    return { name: `copy_strided_${shape.join('x')}`, wgsl, bindings: ['read', 'read_write', 'uniform'] };
  });
}
