// RMS norm over the last axis: y = x / sqrt(mean(x^2) + eps) * w. One workgroup per row.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, REDUCE_WG, reduceInto } from './common.ts';

export const rmsNormParams = paramsStruct({ rows: 'u32', n: 'u32', eps: 'f32' });

/** x (rows, n), w (n) -> y (rows, n); `inPlace` reads x from y's binding (x and y are one buffer). */
export function rmsNormKernel(inPlace: boolean): Kernel {
  return memo(`rms_norm:${inPlace}`, () => {
    const wg = REDUCE_WG;
    const src = inPlace ? 'y' : 'x';
    const decls = inPlace
      ? `@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;`
      : `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;`;
    const wgsl = `${rmsNormParams.wgsl}
${decls}
var<workgroup> part: array<f32, ${wg}>;

@compute @workgroup_size(${wg}) fn main(${BUILTINS}) {
  let row = ${LINEAR_GROUP};
  if (row >= p.rows) { return; }
  let n = p.n;
  let base = row * n;
  var ss = 0.0;
  for (var i = lid.x; i < n; i += ${wg}u) { let v = ${src}[base + i]; ss += v * v; }
  part[lid.x] = ss;
  ${reduceInto('part', '+')}
  // as llama.cpp: scale = 1/sqrt(mean + eps), then (x * scale) * w
  let scale = 1.0 / sqrt(part[0] / f32(n) + p.eps);
  for (var i = lid.x; i < n; i += ${wg}u) { y[base + i] = (${src}[base + i] * scale) * w[i]; }
}`;
    return { name: `rms_norm${inPlace ? '_inplace' : ''}`, wgsl, bindings: inPlace ? ['read', 'read_write', 'uniform'] : ['read', 'read', 'read_write', 'uniform'] };
  });
}
