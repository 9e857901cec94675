// Elementwise unary functions: one template, one thread per element, n dynamic.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP } from './common.ts';

export const unaryParams = paramsStruct({ n: 'u32', c: 'f32' });

/** Each op as a WGSL expression of `x` and the scalar `p.c`. */
export const UNARY_OPS = {
  neg: '-x',
  exp: 'exp(x)',
  log: 'log(x)',
  sqrt: 'sqrt(x)',
  rsqrt: '1.0 / sqrt(x)',
  abs: 'abs(x)',
  square: 'x * x',
  recip: '1.0 / x',
  sin: 'sin(x)',
  cos: 'cos(x)',
  tanh: 'tanh_(x)',
  relu: 'max(x, 0.0)',
  step: 'select(0.0, 1.0, x > 0.0)', // relu's derivative (compiler/lower/autodiff.ts)
  silu: 'x / (1.0 + exp(-x))',      // as ggml
  sigmoid: '1.0 / (1.0 + exp(-x))',
  gelu: '0.5 * x * (1.0 + tanh_(0.7978845608 * (x + 0.044715 * x * x * x)))', // tanh approximation, as ggml
  scale: 'x * p.c',
  add_scalar: 'x + p.c',
} as const;

export type UnaryOp = keyof typeof UNARY_OPS;

// tanh through exp, clamped: some drivers' tanh gives NaN for large |x| (inf / inf).
const TANH = 'fn tanh_(x: f32) -> f32 { let e = exp(2.0 * clamp(x, -15.0, 15.0)); return (e - 1.0) / (e + 1.0); }';

export function unaryKernel(op: UnaryOp, inPlace: boolean): Kernel {
  return memo(`unary:${op}:${inPlace}`, () => {
    const src = inPlace ? 'y' : 'x_in';
    const decls = inPlace
      ? `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;`
      : `@group(0) @binding(0) var<storage, read> x_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;`;
    const wgsl = `${unaryParams.wgsl}
${decls}
${UNARY_OPS[op].includes('tanh_') ? TANH : ''}
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let i = ${LINEAR_GROUP} * 64u + lid.x;
  if (i >= p.n) { return; }
  let x = ${src}[i];
  y[i] = ${UNARY_OPS[op]};
}`;
    return { name: `${op}${inPlace ? '_inplace' : ''}`, wgsl, bindings: inPlace ? ['read_write', 'uniform'] : ['read', 'read_write', 'uniform'] };
  });
}
