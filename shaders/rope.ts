// Rotary position embedding as llama.cpp's llama architecture applies it. One thread per rotated pair.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, f32Lit } from './common.ts';

export const ropeParams = paramsStruct({ seq: 'u32', pos0: 'u32', theta_scale: 'f32' });

export interface RopeSpec {
  nHead: number;
  headDim: number;
  nRot: number;    // rotated dims per head (even, <= headDim); the rest are copied
  neox: boolean;   // pairs (i, i + nRot/2) instead of (2i, 2i+1)
  inPlace: boolean;
  freqFactors: boolean; // divide pair i's angle by ff[i] (llama 3.1's rope_freqs tensor, as ggml does)
}

const WG = 64;

/** x (seq, nHead, headDim) -> y (same); row s sits at position pos0 + s. */
export function ropeKernel(s: RopeSpec): Kernel {
  return memo(`rope:${s.nHead}:${s.headDim}:${s.nRot}:${s.neox}:${s.inPlace}:${s.freqFactors}`, () => {
    const src = s.inPlace ? 'y' : 'x';
    const vars = [
      ...(s.inPlace ? [] : ['var<storage, read> x: array<f32>;']),
      'var<storage, read_write> y: array<f32>;',
      ...(s.freqFactors ? ['var<storage, read> ff: array<f32>; // (nRot / 2)'] : []),
      'var<uniform> p: Params;',
    ];
    const decls = vars.map((v, i) => `@group(0) @binding(${i}) ${v}`).join('\n');
    const [i0, i1] = s.neox ? ['j', 'j + ROT_HALF'] : ['2u * j', '2u * j + 1u'];
    const wgsl = `${ropeParams.wgsl}
${decls}
const NH = ${s.nHead}u;
const HD = ${s.headDim}u;
const HALF = ${s.headDim / 2}u;
const ROT_HALF = ${s.nRot / 2}u;
${COS_SIN}
@compute @workgroup_size(${WG}) fn main(${BUILTINS}) {
  let idx = ${LINEAR_GROUP} * ${WG}u + lid.x;
  if (idx >= p.seq * NH * HALF) { return; }
  let j = idx % HALF;          // pair within the head
  let base = (idx / HALF) * HD;
  if (j < ROT_HALF) {
    // theta = p * theta_scale^j, the power taken by repeated f32 multiplication as ggml does
    var theta = f32(p.pos0 + idx / (HALF * NH));
    for (var k = 0u; k < j; k++) { theta *= p.theta_scale; }
    let cs = cos_sin(${s.freqFactors ? 'theta / ff[j]' : 'theta'});
    let a = ${src}[base + ${i0}];
    let b = ${src}[base + ${i1}];
    y[base + ${i0}] = a * cs.x - b * cs.y;
    y[base + ${i1}] = a * cs.y + b * cs.x;
  }${s.inPlace ? '' : ` else {
    y[base + 2u * j] = x[base + 2u * j];
    y[base + 2u * j + 1u] = x[base + 2u * j + 1u];
  }`}
}`;
    return {
      name: `rope_h${s.nHead}_d${s.headDim}_r${s.nRot}${s.neox ? '_neox' : ''}${s.freqFactors ? '_ff' : ''}${s.inPlace ? '_inplace' : ''}`,
      wgsl,
      bindings: [...(s.inPlace ? [] : ['read' as const]), 'read_write', ...(s.freqFactors ? ['read' as const] : []), 'uniform'],
    };
  });
}

// Our own cos/sin: GPU builtins are only loosely specified (2^-11 absolute error in [-pi, pi], less
// said outside), and rope angles reach thousands of radians. Cody-Waite reduction by pi/2 with a
// three-part constant (exact products for |theta| < 2^13 * pi/2), then Taylor polynomials on
// [-pi/4, pi/4], whose truncation error (< 2e-9) is below f32 rounding.
const PIO2_1 = 1.5703125;                           // 8 significant bits
const PIO2_2 = 2029 / 2 ** 22;                      // 11 significant bits
const PIO2_3 = Math.PI / 2 - PIO2_1 - PIO2_2;
const COS_SIN = `
// (cos t, sin t)
fn cos_sin(t: f32) -> vec2f {
  let k = round(t * ${f32Lit(2 / Math.PI)});
  let r = ((t - k * ${f32Lit(PIO2_1)}) - k * ${f32Lit(PIO2_2)}) - k * ${f32Lit(PIO2_3)};
  let r2 = r * r;
  let s = r + r * r2 * (${f32Lit(-1 / 6)} + r2 * (${f32Lit(1 / 120)} + r2 * (${f32Lit(-1 / 5040)} + r2 * ${f32Lit(1 / 362880)})));
  let c = 1.0 - 0.5 * r2 + r2 * r2 * (${f32Lit(1 / 24)} + r2 * (${f32Lit(-1 / 720)} + r2 * (${f32Lit(1 / 40320)} - r2 * ${f32Lit(1 / 3628800)})));
  switch (i32(k) & 3) {
    case 0: { return vec2f(c, s); }
    case 1: { return vec2f(-s, c); }
    case 2: { return vec2f(-c, -s); }
    default: { return vec2f(s, -c); }
  }
}
`;
