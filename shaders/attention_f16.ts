// Attention as llama.cpp's CPU path rounds it (f16 q, f16 normalized weights; K and V already
// f16-rounded in the cache), for head dims that are a multiple of 4: every load is a vec4 (or a
// vec4<u32> of 8 f16 from an f16 cache). On lavapipe a load costs per lane and per instruction and a
// barrier switches between a workgroup's SIMD groups, so this kernel loads wide and keeps barriers
// to a handful whatever the length: about 4x faster than the scalar kernel in attention.ts at 1000
// positions (what keeps the cost per token flat).
// One workgroup per (head, query row); thread t owns keys t, t + 64, ...:
//   scores: computed once into sc, then the max and the sum of exp(score - max) over the workgroup;
//   output: the thread adds w_j * v_j over its keys for every dim, and the 64 partial sums of each
//           dim meet in workgroup memory at the end.
import type { Kernel } from './kernel.ts';
import { memo, BUILTINS, ROUND_F16 } from './common.ts';
import { attentionParams, scoresAndStats } from './attention.ts';

export interface AttentionF16Spec {
  nHead: number;
  nKvHead: number;
  headDim: number; // a multiple of 4, at most 256
  slots: number;   // keys per thread: at least ceil(keys / 64)
  /** K and V are f16 pairs (vec4<u32>: 8 values a load, half the loads of f32); head_dim a multiple of 8. */
  packed: boolean;
}

export function attentionF16Kernel(s: AttentionF16Spec): Kernel {
  return memo(`attention_f16:${s.nHead}:${s.nKvHead}:${s.headDim}:${s.slots}:${s.packed}`, () => {
    const hd4 = s.headDim / 4;
    if (!Number.isInteger(hd4) || hd4 > 64 || (s.packed && s.headDim % 8 !== 0)) {
      throw new Error(`attention_f16: head_dim ${s.headDim} is not a multiple of ${s.packed ? 8 : 4} up to 256`);
    }
    // A kv load: a vec4 of f32 (4 values) or a vec4<u32> of f16 pairs (8). Thread t of a group adds
    // the values of load t of each row.
    const per = s.packed ? 8 : 4;
    const loads = s.headDim / per; // per K or V row
    const chunk = Math.min(hd4, 8); // output vec4s whose 64 partial sums meet at once (8 KB of workgroup memory)
    const kv = s.packed ? 'vec4u' : 'vec4f';
    const wgsl = `${attentionParams.wgsl}
@group(0) @binding(0) var<storage, read> q: array<vec4f>;         // (seq, NH, HD / 4)
@group(0) @binding(1) var<storage, read> k: array<${kv}>;         // (ctx, NKV, HD / ${per}) from k_off / ${per}
@group(0) @binding(2) var<storage, read> v: array<${kv}>;         // (ctx, NKV, HD / ${per}) from v_off / ${per}
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>; // (seq, NH, HD / 4)
@group(0) @binding(4) var<uniform> p: Params;
const NH = ${s.nHead}u;
const NKV = ${s.nKvHead}u;
const HD4 = ${hd4}u;
const LOADS = ${loads}u;  // loads of a K or V row
const GROUP = ${s.nHead / s.nKvHead}u;
const TILE = 64u;
const CH = ${chunk}u;     // output vec4s reduced at once
const SLOTS = ${s.slots}u; // keys (scores) per thread
var<workgroup> qs: array<vec4f, HD4>;
var<workgroup> w: array<f32, TILE>;        // the threads' maxima, then their sums
var<workgroup> part: array<vec4f, ${64 * chunk}>; // (TILE, CH) the threads' output sums
${ROUND_F16}
fn round4(x: vec4f) -> vec4f { return vec4f(round_f16(x.x), round_f16(x.y), round_f16(x.z), round_f16(x.w)); }

// scale * q . k_j, summed in the order of the dims (as the scalar kernel and llama.cpp do). q is
// the thread's own copy: private memory is read as whole SIMD registers on lavapipe, where a
// read of workgroup memory is a loop over the lanes.
fn score(qv: ptr<function, array<vec4f, HD4>>, j: u32, kvh: u32) -> f32 {
  let kb = p.k_off / ${per}u + (j * NKV + kvh) * LOADS;
  var dot = 0.0;
  // the bound comes from Params: a constant one gets unrolled, and lavapipe then compiles for seconds
  for (var d = 0u; d < p.head_dim / ${per}u; d++) {
${s.packed ? `    let b = k[kb + d];
    dot = dot4(dot, (*qv)[2u * d], vec4f(unpack2x16float(b.x), unpack2x16float(b.y)));
    dot = dot4(dot, (*qv)[2u * d + 1u], vec4f(unpack2x16float(b.z), unpack2x16float(b.w)));`
    : `    dot = dot4(dot, (*qv)[d], k[kb + d]);`}
  }
  return dot * p.scale;
}
fn dot4(acc: f32, a: vec4f, b: vec4f) -> f32 { return (((acc + a.x * b.x) + a.y * b.y) + a.z * b.z) + a.w * b.w; }

@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let h = wid.x;
  let i = wid.y;
  if (i >= p.seq) { return; }
  let kvh = h / GROUP;
  let qb = (i * NH + h) * HD4;
  for (var d = lid.x; d < HD4; d += TILE) { qs[d] = round4(q[qb + d]); }
  workgroupBarrier();
  var qv = qs;
  let len = p.pos0 + i + 1u;   // keys 0..pos0+i

${scoresAndStats((j) => `score(&qv, ${j}, kvh)`)}

  // Output: each thread adds w_j * v_j over its own keys (the ones it scored), every dim, in private
  // memory, with no barrier per key tile (on lavapipe a barrier switches between the workgroup's
  // SIMD groups, which costs more than the work of a tile); then the 64 sums of each dim meet.
  var acc: array<vec4f, HD4>;
  for (var s = 0u; s * TILE + lid.x < len; s++) {
    let wj = round_f16(exp(sc[s] - mx) * inv);
    let vb = p.v_off / ${per}u + ((s * TILE + lid.x) * NKV + kvh) * LOADS;
    for (var d = 0u; d < LOADS; d++) {
      let b = v[vb + d];
${s.packed ? `      acc[2u * d] += wj * vec4f(unpack2x16float(b.x), unpack2x16float(b.y));
      acc[2u * d + 1u] += wj * vec4f(unpack2x16float(b.z), unpack2x16float(b.w));` : '      acc[d] += wj * b;'}
    }
  }
  for (var c0 = 0u; c0 < HD4; c0 += CH) {
    for (var c = 0u; c < CH; c++) { part[lid.x * CH + c] = acc[min(c0 + c, HD4 - 1u)]; }
    workgroupBarrier();
    if (lid.x < CH && c0 + lid.x < HD4) {
      var o = vec4f(0.0);
      for (var t = 0u; t < TILE; t++) { o += part[t * CH + lid.x]; }
      out[qb + c0 + lid.x] = o;
    }
    workgroupBarrier();
  }
}`;
    return {
      name: `attention_f16${s.packed ? 'kv' : 'v4'}_h${s.nHead}_kv${s.nKvHead}_d${s.headDim}_s${s.slots}`,
      wgsl,
      bindings: ['read', 'read', 'read', 'read_write', 'uniform'],
    };
  });
}
