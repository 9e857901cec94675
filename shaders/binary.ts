// Elementwise binary ops with numpy broadcasting: one thread per output element. Same-shape
// operands take a kernel with n dynamic; broadcasting ones a kernel specialized on the
// (collapsed) output shape and both operands' strides (0 along broadcast dims).
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP } from './common.ts';

export const binaryParams = paramsStruct({ n: 'u32' });

/** Each op as a WGSL expression of `a` and `b`. */
export const BINARY_OPS = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  max: 'max(a, b)',
  min: 'min(a, b)',
  swiglu: '(a / (1.0 + exp(-a))) * b',  // silu(gate = a) * (up = b)
} as const;

export type BinaryOp = keyof typeof BINARY_OPS;

export interface BroadcastLayout {
  shape: number[];     // output shape
  aStrides: number[];  // element strides of a along each output dim (0: broadcast)
  bStrides: number[];
}

/** Which operands' values live in the output buffer (out is the same buffer as them). */
export type Alias = 'none' | 'a' | 'b' | 'ab';

/** `layout` undefined: a, b and out all have n elements, in the same order. */
export function binaryKernel(op: BinaryOp, layout: BroadcastLayout | undefined, alias: Alias): Kernel {
  const key = `binary:${op}:${alias}:${layout ? `${layout.shape}|${layout.aStrides}|${layout.bStrides}` : 'same'}`;
  return memo(key, () => {
    const inputs = (['a', 'b'] as const).filter((t) => alias !== t && alias !== 'ab');
    const names = { a: inputs.includes('a') ? 'a_in' : 'out', b: inputs.includes('b') ? 'b_in' : 'out' };
    const decls = [
      ...inputs.map((t, i) => `@group(0) @binding(${i}) var<storage, read> ${t}_in: array<f32>;`),
      `@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<f32>;`,
      `@group(0) @binding(${inputs.length + 1}) var<uniform> p: Params;`,
    ].join('\n');
    let index = '  let ia = i;\n  let ib = i;';
    if (layout) {
      const { shape, aStrides, bStrides } = layout;
      const lines = ['  var r = i;', '  var ia = 0u;', '  var ib = 0u;'];
      for (let k = shape.length - 1; k >= 0; k--) {
        lines.push(`  { let c = r % ${shape[k]}u; r /= ${shape[k]}u;${aStrides[k] ? ` ia += c * ${aStrides[k]}u;` : ''}${bStrides[k] ? ` ib += c * ${bStrides[k]}u;` : ''} }`);
      }
      index = lines.join('\n');
    }
    const wgsl = `${binaryParams.wgsl}
${decls}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${LINEAR_GROUP} * 64u + lid.x;
  if (i >= p.n) { return; }
${index}
  let a = ${names.a}[ia];
  let b = ${names.b}[ib];
  out[i] = ${BINARY_OPS[op]};
}`;
    const name = `${op}${layout ? `_bcast_${layout.shape.join('x')}` : ''}${alias !== 'none' ? `_inplace_${alias}` : ''}`;
    return { name, wgsl, bindings: [...inputs.map(() => 'read' as const), 'read_write', 'uniform'] };
  });
}
