// The largest or smallest element along one axis, viewed as (outer, n, inner) like softmax: one
// workgroup per (outer, inner) line, whose n elements are `inner` apart; the whole tensor is one
// line (inner = 1). Sums and means need no kernel of their own: they are einsums.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, REDUCE_WG, reduceInto } from './common.ts';

export const reduceParams = paramsStruct({ lines: 'u32', n: 'u32', inner: 'u32' });

export type ExtremeOp = 'max' | 'min';

export function reduceKernel(op: ExtremeOp): Kernel {
  return memo(`reduce:${op}`, () => {
    const wg = REDUCE_WG;
    const wgsl = `${reduceParams.wgsl}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> red: array<f32, ${wg}>;

@compute @workgroup_size(${wg}) fn main(${BUILTINS}) {
  let line = ${LINEAR_GROUP};
  if (line >= p.lines) { return; }
  let inner = p.inner;
  let base = (line / inner) * p.n * inner + line % inner;
  // Every thread starts from the line's first element, so threads past n hold a real value.
  var m = x[base];
  for (var i = lid.x; i < p.n; i += ${wg}u) { m = ${op}(m, x[base + i * inner]); }
  red[lid.x] = m;
  ${reduceInto('red', op)}
  if (lid.x == 0u) { y[line] = red[0]; }
}`;
    return { name: `reduce_${op}`, wgsl, bindings: ['read', 'read_write', 'uniform'] };
  });
}
