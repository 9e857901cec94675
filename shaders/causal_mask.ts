// The additive causal mask (rows, cols): 0 where key j <= pos0 + query i, -inf above.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, INF_DECL } from './common.ts';

export const causalMaskParams = paramsStruct({ rows: 'u32', cols: 'u32', pos0: 'u32' });

export function causalMaskKernel(): Kernel {
  return memo('causal_mask', () => ({
    name: 'causal_mask',
    bindings: ['read_write', 'uniform'],
    wgsl: `${causalMaskParams.wgsl}
@group(0) @binding(0) var<storage, read_write> mask: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
${INF_DECL}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let k = ${LINEAR_GROUP} * 64u + lid.x;
  if (k >= p.rows * p.cols) { return; }
  let i = k / p.cols;
  let j = k % p.cols;
  mask[k] = select(-bitcast<f32>(INF_BITS), 0.0, j <= p.pos0 + i);
}`,
  }));
}
