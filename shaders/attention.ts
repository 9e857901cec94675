// Causal grouped-query attention over a KV cache, flash-attention style: one workgroup per
// (head, query row) walks the valid keys in tiles of TILE, keeping a running max, running sum and
// output accumulator (online softmax), so kv length is bounded only by the cache.
//   thread t scores key tile0 + t (a dot product over head_dim), then accumulates
//   output dims t, t + TILE, ... over the tile's keys.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, ROUND_F16 } from './common.ts';

export const attentionParams = paramsStruct({ head_dim: 'u32', seq: 'u32', pos0: 'u32', k_off: 'u32', v_off: 'u32', scale: 'f32' });

export interface AttentionSpec {
  nHead: number;
  nKvHead: number;
  headDim: number;
  /**
   * Round as llama.cpp's CPU attention does with its f16 KV cache: q to f16 before the scores,
   * and the normalized softmax weights to f16 before they multiply V. Needs the exact max and
   * sum first, so it walks the keys three times (max, sum, output) instead of once.
   */
  llamaCppF16: boolean;
}

export function attentionKernel(s: AttentionSpec): Kernel {
  return memo(`attention:${s.nHead}:${s.nKvHead}:${s.headDim}:${s.llamaCppF16}`, () => {
    const tile = 64;
    const dimsPerThread = Math.ceil(s.headDim / tile);
    const wgsl = `${attentionParams.wgsl}
@group(0) @binding(0) var<storage, read> q: array<f32>;       // (seq, NH, HD)
@group(0) @binding(1) var<storage, read> k: array<f32>;       // (ctx, NKV, HD) from k_off
@group(0) @binding(2) var<storage, read> v: array<f32>;       // (ctx, NKV, HD) from v_off
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // (seq, NH, HD)
@group(0) @binding(4) var<uniform> p: Params;
const NH = ${s.nHead}u;
const NKV = ${s.nKvHead}u;
const HD = ${s.headDim}u;
const GROUP = ${s.nHead / s.nKvHead}u;
const TILE = ${tile}u;
const DPT = ${dimsPerThread}u;  // output dims per thread
var<workgroup> qs: array<f32, HD>;
var<workgroup> w: array<f32, TILE>;  // the tile's scores, then their weights
${s.llamaCppF16 ? ROUND_F16 : ''}
// scale * q . k_j, q from qs
fn score(j: u32, kvh: u32) -> f32 {
  let kb = p.k_off + (j * NKV + kvh) * HD;
  var dot = 0.0;
  // the bound comes from Params: a constant one gets unrolled, and lavapipe then compiles for seconds
  for (var d = 0u; d < p.head_dim; d++) { dot += qs[d] * k[kb + d]; }
  return dot * p.scale;
}

@compute @workgroup_size(${tile}) fn main(${BUILTINS}) {
  let h = wid.x;
  let i = wid.y;
  if (i >= p.seq) { return; }
  let kvh = h / GROUP;
  let qb = (i * NH + h) * HD;
  for (var d = lid.x; d < HD; d += TILE) { qs[d] = ${s.llamaCppF16 ? 'round_f16(q[qb + d])' : 'q[qb + d]'}; }
  workgroupBarrier();
  let len = p.pos0 + i + 1u;   // keys 0..pos0+i
  var acc: array<f32, DPT>;
${s.llamaCppF16 ? THREE_PASS : ONLINE}
  for (var c = 0u; c < DPT; c++) {
    let d = lid.x + c * TILE;
    if (d < HD) { out[qb + d] = ${s.llamaCppF16 ? 'acc[c]' : 'acc[c] / l'}; }
  }
}`;
    return {
      name: `attention_h${s.nHead}_kv${s.nKvHead}_d${s.headDim}${s.llamaCppF16 ? '_f16' : ''}`,
      wgsl,
      bindings: ['read', 'read', 'read', 'read_write', 'uniform'],
    };
  });
}

// One walk over the keys with a running max m, running sum l and rescaled accumulators.
const ONLINE = `
  var m = -3.0e38;             // running max (finite, so m - m' never makes NaN)
  var l = 0.0;                 // running sum of exp(score - m)
  for (var t0 = 0u; t0 < len; t0 += TILE) {
    let j = t0 + lid.x;
    var sc = -3.0e38;
    if (j < len) { sc = score(j, kvh); }
    w[lid.x] = sc;
    workgroupBarrier();
    var mt = m;
    for (var u = 0u; u < TILE; u++) { mt = max(mt, w[u]); }
    workgroupBarrier();
    w[lid.x] = select(0.0, exp(sc - mt), j < len);
    workgroupBarrier();
    let corr = exp(m - mt);
    l *= corr;
    for (var c = 0u; c < DPT; c++) { acc[c] *= corr; }
    let n = min(TILE, len - t0);
    for (var u = 0u; u < n; u++) {
      let wu = w[u];
      l += wu;
      let vb = p.v_off + ((t0 + u) * NKV + kvh) * HD;
      for (var c = 0u; c < DPT; c++) {
        let d = lid.x + c * TILE;
        if (d < HD) { acc[c] += wu * v[vb + d]; }
      }
    }
    m = mt;
    workgroupBarrier(); // the tile's weights are read before the next tile overwrites them
  }`;

// llama.cpp's order: the max, the sum of exp(score - max), then f16(exp(score - max) / sum) times V.
const THREE_PASS = `
  var ml = -3.0e38;
  for (var j = lid.x; j < len; j += TILE) { ml = max(ml, score(j, kvh)); }
  w[lid.x] = ml;
  workgroupBarrier();
  var mx = -3.0e38;
  for (var u = 0u; u < TILE; u++) { mx = max(mx, w[u]); }
  workgroupBarrier();
  var sl = 0.0;
  for (var j = lid.x; j < len; j += TILE) { sl += exp(score(j, kvh) - mx); }
  w[lid.x] = sl;
  workgroupBarrier();
  var sum = 0.0;
  for (var u = 0u; u < TILE; u++) { sum += w[u]; }
  let inv = 1.0 / sum;
  workgroupBarrier();
  for (var t0 = 0u; t0 < len; t0 += TILE) {
    let j = t0 + lid.x;
    var wj = 0.0;
    if (j < len) { wj = round_f16(exp(score(j, kvh) - mx) * inv); }
    w[lid.x] = wj;
    workgroupBarrier();
    let n = min(TILE, len - t0);
    for (var u = 0u; u < n; u++) {
      let vb = p.v_off + ((t0 + u) * NKV + kvh) * HD;
      for (var c = 0u; c < DPT; c++) {
        let d = lid.x + c * TILE;
        if (d < HD) { acc[c] += w[u] * v[vb + d]; }
      }
    }
    workgroupBarrier();
  }`;
