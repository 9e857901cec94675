import type { Dispatch } from '../kernels.ts';
import { einsumKernel, einsumMatmulKernel, matmulParams, MATMUL_MAX_BATCH, type EinsumPlan } from '../../shaders/einsum.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, check, product, contiguousStrides } from './common.ts';

/**
 * out = einsum(spec, operands) with numpy's rules for one or two operands: "ihd,jhd->ihj",
 * "ij,jk->ik", "ii->i", "ij->"; without "->" the output is the letters used once, sorted.
 * No "..." ellipsis. out has the output shape, row-major.
 */
export function einsum(spec: string, a: { operands: Buf[]; shapes: number[][]; out: Buf }): Dispatch[] {
  const plan = planEinsum(spec, a.shapes);
  check(a.operands.length === plan.inputs.length, 'einsum', `"${spec}" takes ${plan.inputs.length} operands, got ${a.operands.length}`);
  const n = product([...plan.output].map((l) => plan.size[l]));
  if (n === 0) return [];
  const mm = matmulForm(plan, a.shapes);
  if (mm) {
    return [{
      kernel: einsumMatmulKernel(),
      bindings: [...a.operands, a.out],
      params: matmulParams.pack(mm.params),
      workgroups: [Math.ceil(mm.params.n / 16), Math.ceil(mm.params.m / 16), mm.batches],
    }];
  }
  const sizes = plan.summed.map((l) => plan.size[l]);
  return [{
    kernel: einsumKernel(plan, a.shapes),
    bindings: [...a.operands, a.out],
    params: new Uint32Array(sizes.length ? sizes : [0]),
    workgroups: grid1d(Math.ceil(n / 64)),
  }];
}

/** The output shape of an einsum, for callers that allocate its buffer. */
export function einsumShape(spec: string, shapes: number[][]): number[] {
  const plan = planEinsum(spec, shapes);
  return [...plan.output].map((l) => plan.size[l]);
}

export function planEinsum(spec: string, shapes: number[][]): EinsumPlan {
  const s = spec.replace(/\s/g, '');
  const fail = (why: string): never => check(false, 'einsum', `"${spec}": ${why}`) as never;
  if (!/^[a-zA-Z]*(,[a-zA-Z]*)?(->[a-zA-Z]*)?$/.test(s)) fail('expected letters, one or two operands, and an optional "->output"');
  const [lhs, rhs] = s.split('->');
  const inputs = lhs.split(',');
  if (inputs.length !== shapes.length) fail(`${inputs.length} operands in the spec, ${shapes.length} shapes given`);
  const size: Record<string, number> = {};
  inputs.forEach((ix, t) => {
    if (ix.length !== shapes[t].length) fail(`operand ${t} "${ix}" has rank ${ix.length}, its shape [${shapes[t]}] rank ${shapes[t].length}`);
    [...ix].forEach((l, k) => {
      if (size[l] !== undefined && size[l] !== shapes[t][k]) fail(`letter ${l} is ${size[l]} in one place and ${shapes[t][k]} in another`);
      size[l] = shapes[t][k];
    });
  });
  const all = inputs.join('');
  const output = rhs ?? [...new Set(all)].filter((l) => all.split(l).length === 2).sort().join('');
  if (new Set(output).size !== output.length) fail(`output "${output}" repeats a letter`);
  for (const l of output) if (size[l] === undefined) fail(`output letter ${l} is in no operand`);
  const summed = [...new Set(all)].filter((l) => !output.includes(l));
  return { inputs, output, summed, size };
}

/**
 * The batched-matmul reading of a two-operand einsum, when there is one: every letter is a batch
 * letter (in A, B and out), m (A and out), n (B and out) or k (A and B, summed), with one k, at
 * most one m and one n, and at most 3 batch letters.
 */
function matmulForm(plan: EinsumPlan, shapes: number[][]) {
  if (plan.inputs.length !== 2) return undefined;
  const [A, B] = plan.inputs, O = plan.output;
  if (new Set(A).size !== A.length || new Set(B).size !== B.length) return undefined;
  const groups = { batch: [] as string[], m: [] as string[], n: [] as string[], k: [] as string[] };
  for (const l of new Set(A + B)) {
    const inA = A.includes(l), inB = B.includes(l), inO = O.includes(l);
    if (inA && inB) (inO ? groups.batch : groups.k).push(l);
    else if (inO) (inA ? groups.m : groups.n).push(l);
    else return undefined; // summed within one operand
  }
  if (groups.k.length !== 1 || groups.m.length > 1 || groups.n.length > 1 || groups.batch.length > MATMUL_MAX_BATCH) return undefined;
  const outShape = [...O].map((l) => plan.size[l]);
  const stride = (ix: string, shape: number[], l: string | undefined) => (l && ix.includes(l) ? contiguousStrides(shape)[ix.indexOf(l)] : 0);
  const sizeOf = (l: string | undefined) => (l ? plan.size[l] : 1);
  const [m, n, k] = [groups.m[0], groups.n[0], groups.k[0]];
  // batch letters in output order, padded at the front to 3 with size 1, stride 0
  const batch: (string | undefined)[] = [...O].filter((l) => groups.batch.includes(l));
  while (batch.length < MATMUL_MAX_BATCH) batch.unshift(undefined);
  const batches = product(batch.map(sizeOf));
  if (batches > 65535 || Math.ceil(sizeOf(m) / 16) > 65535 || Math.ceil(sizeOf(n) / 16) > 65535) return undefined;
  const [a, b] = shapes;
  const params = {
    m: sizeOf(m), n: sizeOf(n), k: sizeOf(k),
    a_m: stride(A, a, m), a_k: stride(A, a, k), b_k: stride(B, b, k), b_n: stride(B, b, n), o_m: stride(O, outShape, m), o_n: stride(O, outShape, n),
    b0: sizeOf(batch[0]), b1: sizeOf(batch[1]), b2: sizeOf(batch[2]),
    a_b0: stride(A, a, batch[0]), a_b1: stride(A, a, batch[1]), a_b2: stride(A, a, batch[2]),
    b_b0: stride(B, b, batch[0]), b_b1: stride(B, b, batch[1]), b_b2: stride(B, b, batch[2]),
    o_b0: stride(O, outShape, batch[0]), o_b1: stride(O, outShape, batch[1]), o_b2: stride(O, outShape, batch[2]),
  };
  return { params, batches };
}
