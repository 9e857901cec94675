// Numerically stable softmax along one axis, viewed as (outer, n, inner): one workgroup per
// (outer, inner) line, whose n elements are `inner` apart. The last axis is inner = 1.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, REDUCE_WG, reduceInto } from './common.ts';

export const softmaxParams = paramsStruct({ lines: 'u32', n: 'u32', inner: 'u32' });

export function softmaxKernel(inPlace: boolean): Kernel {
  return memo(`softmax:${inPlace}`, () => {
    const wg = REDUCE_WG;
    const src = inPlace ? 'y' : 'x';
    const decls = inPlace
      ? `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;`
      : `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;`;
    const wgsl = `${softmaxParams.wgsl}
${decls}
var<workgroup> red: array<f32, ${wg}>;

@compute @workgroup_size(${wg}) fn main(${BUILTINS}) {
  let line = ${LINEAR_GROUP};
  if (line >= p.lines) { return; }
  let n = p.n;
  let inner = p.inner;
  let base = (line / inner) * n * inner + line % inner;
  var m = ${src}[base];
  for (var i = lid.x; i < n; i += ${wg}u) { m = max(m, ${src}[base + i * inner]); }
  red[lid.x] = m;
  ${reduceInto('red', 'max')}
  m = red[0];
  workgroupBarrier(); // all have read the max before red is reused
  var s = 0.0;
  for (var i = lid.x; i < n; i += ${wg}u) { s += exp(${src}[base + i * inner] - m); }
  red[lid.x] = s;
  ${reduceInto('red', '+')}
  let inv = 1.0 / red[0];
  for (var i = lid.x; i < n; i += ${wg}u) {
    let k = base + i * inner;
    y[k] = exp(${src}[k] - m) * inv;
  }
}`;
    return {
      name: `softmax${inPlace ? '_inplace' : ''}`,
      wgsl,
      bindings: inPlace ? ['read_write', 'uniform'] : ['read', 'read_write', 'uniform'],
    };
  });
}
