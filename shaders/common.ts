// Shared pieces of the kernel templates: memoized specialization, Params structs, large 1-D grids.
import type { Kernel } from './kernel.ts';
import type { Workgroups } from '../runtime/kernels.ts';

const kernels = new Map<string, Kernel>();

/** The Kernel for `key`, built once: op functions run per token, WGSL generation should not. */
export function memo(key: string, build: () => Kernel): Kernel {
  let k = kernels.get(key);
  if (!k) kernels.set(key, (k = build()));
  return k;
}

type Scalar = 'u32' | 'i32' | 'f32';

/**
 * A uniform Params struct of 4-byte scalars: the WGSL declaration and a packer that lays the
 * values out in the same order, so the two cannot disagree.
 */
export function paramsStruct<F extends Record<string, Scalar>>(fields: F) {
  const names = Object.keys(fields) as (keyof F & string)[];
  const wgsl = `struct Params { ${names.map((n) => `${n}: ${fields[n]},`).join(' ')} }`;
  const pack = (values: { [K in keyof F]: number }): ArrayBuffer => {
    const buf = new ArrayBuffer(Math.max(16, Math.ceil((names.length * 4) / 16) * 16));
    const view = new DataView(buf);
    names.forEach((n, i) => {
      const v = values[n];
      if (fields[n] === 'f32') view.setFloat32(i * 4, v, true);
      else if (fields[n] === 'i32') view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v, true);
    });
    return buf;
  };
  return { wgsl, pack };
}

const MAX_GROUPS = 65535; // maxComputeWorkgroupsPerDimension

/** Workgroups covering `groups` 1-D groups, folded into y past the 65535 per-dimension limit. */
export function grid1d(groups: number): Workgroups {
  const g = Math.max(1, groups);
  return g <= MAX_GROUPS ? [g] : [MAX_GROUPS, Math.ceil(g / MAX_GROUPS)];
}

/** WGSL: the linear workgroup index under grid1d (needs `@builtin(workgroup_id) wid` and `@builtin(num_workgroups) nwg`). */
export const LINEAR_GROUP = '(wid.y * nwg.x + wid.x)';

/** Workgroup size of the kernels that reduce over a row (see reduceInto). */
export const REDUCE_WG = 256;

/** A WGSL f32 literal that round-trips exactly. */
export function f32Lit(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new Error(`f32Lit: ${x} is not a finite f32`);
  const s = f.toPrecision(9);
  return s.includes('.') || s.includes('e') ? `f32(${s})` : `f32(${s}.0)`;
}

/** The builtins the templates use, as `main`'s parameter list. */
export const BUILTINS =
  '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u';

/**
 * WGSL statements that reduce `arr[0..REDUCE_WG)` into `arr[0]` with `op` ('+' or a two-argument
 * function such as 'max'); callers store their partials first. Thread 0 folds them serially:
 * on lavapipe every barrier site and every fully unrolled loop costs compile time (a tree
 * reduction compiles 2-3x slower; a 32-step fold, unrolled, 5x), and a 256-step fold is noise
 * next to the passes over memory. So reducing kernels use REDUCE_WG threads.
 */
export function reduceInto(arr: string, op: string): string {
  const combine = op === '+' ? `acc + ${arr}[k]` : `${op}(acc, ${arr}[k])`;
  return `workgroupBarrier();
  if (lid.x == 0u) {
    var acc = ${arr}[0];
    for (var k = 1u; k < ${REDUCE_WG}u; k++) { acc = ${combine}; }
    ${arr}[0] = acc;
  }
  workgroupBarrier();`;
}

/**
 * WGSL cannot spell infinity (a constant expression that overflows is an error), so kernels read
 * it through a private variable: `bitcast<f32>(INF_BITS)`.
 */
export const INF_DECL = 'var<private> INF_BITS: u32 = 0x7f800000u;';

/**
 * WGSL `round_f16(x)`: x rounded to the nearest f16 value (ties to even), kept as f32. Integer
 * ops, so it needs no shader-f16; and compilers fold unpack2x16float(pack2x16float(x)) back to x.
 */
export const ROUND_F16 = `
${INF_DECL}
fn round_f16(x: f32) -> f32 {
  let a = abs(x);
  var r: f32;
  if (a < 6.103515625e-5) {
    r = round(a * 16777216.0) / 16777216.0;    // subnormal f16: steps of 2^-24
  } else if (a >= 65520.0) {
    r = bitcast<f32>(INF_BITS);                // past the largest f16 (65504): inf
  } else {
    let b = bitcast<u32>(a);                   // keep 10 of 23 mantissa bits, rounding to even
    r = bitcast<f32>((b + 0xfffu + ((b >> 13u) & 1u)) & 0xffffe000u);
  }
  return select(r, -r, x < 0.0);
}
`;
