// einsum over one or two operands with static shapes: one thread per output element, looping
// over the summed letters. The loop bounds come from Params rather than constants: lavapipe
// unrolls constant loops and then compiles for seconds.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP } from './common.ts';

/** A parsed, checked einsum: letters per operand, output letters, and each letter's size. */
export interface EinsumPlan {
  inputs: string[];           // "ihd", "jhd"
  output: string;             // "ihj"
  summed: string[];           // letters not in the output, looped over
  size: Record<string, number>;
}

export function einsumKernel(plan: EinsumPlan, shapes: number[][]): Kernel {
  return memo(`einsum:${plan.inputs.join(',')}->${plan.output}:${JSON.stringify(shapes)}`, () => {
    const { inputs, output, summed, size } = plan;
    const outN = [...output].reduce((p, l) => p * size[l], 1);
    const v = (l: string) => `v_${l}`;
    const index = (ix: string, shape: number[]) => {
      let stride = 1;
      const terms: string[] = [];
      for (let k = ix.length - 1; k >= 0; k--) {
        if (shape[k] > 1) terms.push(stride === 1 ? v(ix[k]) : `${v(ix[k])} * ${stride}u`);
        stride *= shape[k];
      }
      return terms.length ? terms.join(' + ') : '0u';
    };
    const decode = [...output].reverse().map((l) => `  let ${v(l)} = r % ${size[l]}u; r /= ${size[l]}u;`);
    const product = inputs.map((ix, t) => `in${t}[${index(ix, shapes[t])}]`).join(' * ');
    let body = `acc += ${product};`;
    for (const [k, l] of [...summed.entries()].reverse()) {
      body = `for (var ${v(l)} = 0u; ${v(l)} < p.n${k}; ${v(l)}++) {\n    ${body}\n  }`;
    }
    const fields = summed.map((_, k) => `n${k}: u32,`).join(' ') || 'unused: u32,';
    const wgsl = `struct Params { ${fields} }
${inputs.map((_, t) => `@group(0) @binding(${t}) var<storage, read> in${t}: array<f32>;`).join('\n')}
@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<f32>;
@group(0) @binding(${inputs.length + 1}) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let o = ${LINEAR_GROUP} * 64u + lid.x;
  if (o >= ${outN}u) { return; }
  var r = o;
${decode.join('\n')}
  var acc = 0.0;
  ${summed.length ? body : `acc = ${product};${fields.startsWith('unused') ? ' _ = p.unused;' : ''}`}
  out[o] = acc;
}`;
    return {
      name: `einsum_${inputs.join('_')}_to_${output || 'scalar'}`,
      wgsl,
      bindings: [...inputs.map(() => 'read' as const), 'read_write', 'uniform'],
    };
  });
}

/**
 * The batched-matmul forms ("ihd,jhd->ihj", "ihj,jhd->ihd", "ij,jk->ik", "bij,bjk->bik"):
 * out[batch][m][n] = sum_k A[batch][m][k] * B[batch][k][n], each of m, n, k a single letter (m, n
 * may be absent: size 1, stride 0) at any stride, up to 3 batch letters. 16x16 output tiles per
 * workgroup, K in steps of 16 through workgroup memory: each loaded value serves 16 outputs.
 * Sizes and strides all come through Params, so one compiled kernel serves every form.
 */
export const MATMUL_MAX_BATCH = 3;

export const matmulParams = paramsStruct({
  m: 'u32', n: 'u32', k: 'u32',
  a_m: 'u32', a_k: 'u32', b_k: 'u32', b_n: 'u32', o_m: 'u32', o_n: 'u32',
  // batch letters, outermost first: sizes (1 when unused) and strides in A, B and out
  b0: 'u32', b1: 'u32', b2: 'u32',
  a_b0: 'u32', a_b1: 'u32', a_b2: 'u32',
  b_b0: 'u32', b_b1: 'u32', b_b2: 'u32',
  o_b0: 'u32', o_b1: 'u32', o_b2: 'u32',
});

const T = 16;

export function einsumMatmulKernel(): Kernel {
  return memo('einsum_matmul', () => ({
    name: 'einsum_matmul',
    bindings: ['read', 'read', 'read_write', 'uniform'],
    wgsl: `${matmulParams.wgsl}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> at: array<array<f32, ${T}>, ${T}>;  // at[m][k]
var<workgroup> bt: array<array<f32, ${T}>, ${T}>;  // bt[k][n]

@compute @workgroup_size(${T}, ${T}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  // batch offsets of A, B and out from the batch index wid.z
  let c2 = wid.z % p.b2;
  let c1 = (wid.z / p.b2) % p.b1;
  let c0 = wid.z / (p.b2 * p.b1);
  let ao = c0 * p.a_b0 + c1 * p.a_b1 + c2 * p.a_b2;
  let bo = c0 * p.b_b0 + c1 * p.b_b1 + c2 * p.b_b2;
  let oo = c0 * p.o_b0 + c1 * p.o_b1 + c2 * p.o_b2;
  let m = wid.y * ${T}u + lid.y;
  let n = wid.x * ${T}u + lid.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.k; k0 += ${T}u) {
    let ka = k0 + lid.x;  // this thread loads at[lid.y][lid.x] and bt[lid.y][lid.x]
    let kb = k0 + lid.y;
    at[lid.y][lid.x] = select(0.0, a[ao + min(m, p.m - 1u) * p.a_m + min(ka, p.k - 1u) * p.a_k], m < p.m && ka < p.k);
    bt[lid.y][lid.x] = select(0.0, b[bo + min(kb, p.k - 1u) * p.b_k + min(n, p.n - 1u) * p.b_n], kb < p.k && n < p.n);
    workgroupBarrier();
    let kn = min(${T}u, p.k - k0);
    for (var kk = 0u; kk < kn; kk++) { acc += at[lid.y][kk] * bt[kk][lid.x]; }
    workgroupBarrier();
  }
  if (m < p.m && n < p.n) { out[oo + m * p.o_m + n * p.o_n] = acc; }
}`,
  }));
}
