// Attention as llama.cpp's CPU path rounds it (f16 q, f16 normalized weights; K and V already
// f16-rounded in the cache), for head dims that are a multiple of 4: every load is a vec4. On
// lavapipe a load costs per lane and per instruction, so this walks keys about four times faster
// than the scalar kernel in attention.ts at long contexts (what keeps the cost per token flat).
// One workgroup per (head, query row):
//   scores: thread t keeps the scores of keys t, t + 64, ... in sc (computed once), then the
//           max and the sum of exp(score - max) over the workgroup;
//   output: threads form G groups of HD/4; thread (g, t) adds w_u * v_u[4t..4t+3] over every G-th
//           key u of each tile, and the groups' sums meet at the end.
import type { Kernel } from './kernel.ts';
import { memo, BUILTINS, ROUND_F16 } from './common.ts';
import { attentionParams } from './attention.ts';

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
    const groups = Math.floor(64 / loads);
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
const G = ${groups}u;     // groups of LOADS threads in the output walk
const SLOTS = ${s.slots}u; // keys (scores) per thread
var<workgroup> qs: array<vec4f, HD4>;
var<workgroup> w: array<f32, TILE>;        // partial maxima and sums, then a tile's weights
var<workgroup> part: array<vec4f, ${s.packed ? 128 : 64}>;   // (G, HD4) output sums of the groups
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

  var sc: array<f32, SLOTS>;
  var ml = -3.0e38;
  for (var s = 0u; s * TILE + lid.x < len; s++) {
    let x = score(&qv, s * TILE + lid.x, kvh);
    sc[s] = x;
    ml = max(ml, x);
  }
  w[lid.x] = ml;
  workgroupBarrier();
  var mx = -3.0e38;
  for (var u = 0u; u < TILE; u++) { mx = max(mx, w[u]); }
  workgroupBarrier();
  var sl = 0.0;
  for (var s = 0u; s * TILE + lid.x < len; s++) { sl += exp(sc[s] - mx); }
  w[lid.x] = sl;
  workgroupBarrier();
  var sum = 0.0;
  for (var u = 0u; u < TILE; u++) { sum += w[u]; }
  let inv = 1.0 / sum;
  workgroupBarrier();

  let t = lid.x % LOADS;
  let g = lid.x / LOADS;
  var acc = vec4f(0.0);${s.packed ? '\n  var acc2 = vec4f(0.0); // values 4..7 of the load' : ''}
  for (var s = 0u; s * TILE < len; s++) {
    let t0 = s * TILE;
    var wj = 0.0;
    if (t0 + lid.x < len) { wj = round_f16(exp(sc[s] - mx) * inv); }
    w[lid.x] = wj;
    workgroupBarrier();
    let n = min(TILE, len - t0);
    if (g < G) {
      for (var u = g; u < n; u += G) {
        let b = v[p.v_off / ${per}u + ((t0 + u) * NKV + kvh) * LOADS + t];
${s.packed ? `        acc += w[u] * vec4f(unpack2x16float(b.x), unpack2x16float(b.y));
        acc2 += w[u] * vec4f(unpack2x16float(b.z), unpack2x16float(b.w));` : `        acc += w[u] * b;`}
      }
    }
    workgroupBarrier();
  }
  part[${s.packed ? '2u * lid.x' : 'lid.x'}] = acc;${s.packed ? '\n  part[2u * lid.x + 1u] = acc2;' : ''}
  workgroupBarrier();
  if (lid.x < HD4) { // output vec4 lid.x: part ${s.packed ? '2 * (g * LOADS + t) + h for t = lid.x / 2, h = lid.x % 2' : 'g * LOADS + lid.x'}
    var o = vec4f(0.0);
    for (var gg = 0u; gg < G; gg++) { o += part[${s.packed ? '2u * gg * LOADS + lid.x' : 'gg * LOADS + lid.x'}]; }
    out[qb + lid.x] = o;
  }
}`;
    return {
      name: `attention_f16${s.packed ? 'kv' : 'v4'}_h${s.nHead}_kv${s.nKvHead}_d${s.headDim}_s${s.slots}`,
      wgsl,
      bindings: ['read', 'read', 'read', 'read_write', 'uniform'],
    };
  });
}
