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
  /**
   * With llamaCppF16: each thread keeps the scores of its keys (lid, lid + 64, ...) in a private
   * array of this many slots, so they are computed once, not once per walk; a power of two of at
   * least ceil(keys / 64) (see attentionSlots).
   */
  slots?: number;
}

/** Slots for `keys` keys: a power of two, so a growing context compiles few kernels. */
export function attentionSlots(keys: number): number {
  let n = 1;
  while (n * 64 < keys) n *= 2;
  return n;
}

export function attentionKernel(s: AttentionSpec): Kernel {
  const slots = s.llamaCppF16 ? s.slots ?? 1 : 0;
  return memo(`attention:${s.nHead}:${s.nKvHead}:${s.headDim}:${s.llamaCppF16}:${slots}`, () => {
    const tile = 64;
    const dimsPerThread = Math.ceil(s.headDim / tile);
    // Head dims below the tile: the threads split into groups of HDP (head_dim to a power of two),
    // each group walks every G-th key of a tile, and the groups' sums meet at the end.
    const hdp = s.headDim < tile ? 2 ** Math.ceil(Math.log2(s.headDim)) : tile;
    const groups = tile / hdp;
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
const HDP = ${hdp}u;            // threads of a group: one output dim each (when HD < TILE)
const G = ${groups}u;           // groups, each walking every G-th key
${slots ? `const SLOTS = ${slots}u;        // keys (scores) per thread` : ''}
var<workgroup> qs: array<f32, HD>;
var<workgroup> w: array<f32, TILE>;  // the tile's scores, then their weights
${groups > 1 && s.llamaCppF16 ? 'var<workgroup> part: array<f32, TILE>; // (G, HDP) sums of the groups' : ''}
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
${s.llamaCppF16 ? threePass(groups > 1) : ONLINE}
}`;
    return {
      name: `attention_h${s.nHead}_kv${s.nKvHead}_d${s.headDim}${s.llamaCppF16 ? `_f16_s${slots}` : ''}`,
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
  }
  for (var c = 0u; c < DPT; c++) {
    let d = lid.x + c * TILE;
    if (d < HD) { out[qb + d] = acc[c] / l; }
  }`;

/**
 * WGSL: thread lid.x scores keys lid.x, lid.x + TILE, ... below len into sc (SLOTS of them, computed
 * once), then the workgroup's max (mx) and 1 / Σ exp(score - mx) (inv), through w. `score(j)` is
 * the WGSL call that scores key j.
 */
export function scoresAndStats(score: (j: string) => string): string {
  return `
  var sc: array<f32, SLOTS>;
  var ml = -3.0e38;
  for (var s = 0u; s * TILE + lid.x < len; s++) {
    let x = ${score('s * TILE + lid.x')};
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
  workgroupBarrier();`;
}

// llama.cpp's order: the max, the sum of exp(score - max), then f16(exp(score - max) / sum) times V.
// Each thread's scores are computed once, into sc; the walks after the first read them from there.
function threePass(grouped: boolean): string {
  const pv = grouped
    ? `    let d = lid.x % HDP;
    if (d < HD) {
      for (var u = lid.x / HDP; u < n; u += G) { acc[0] += w[u] * v[p.v_off + ((t0 + u) * NKV + kvh) * HD + d]; }
    }`
    : `    for (var u = 0u; u < n; u++) {
      let vb = p.v_off + ((t0 + u) * NKV + kvh) * HD;
      for (var c = 0u; c < DPT; c++) {
        let d = lid.x + c * TILE;
        if (d < HD) { acc[c] += w[u] * v[vb + d]; }
      }
    }`;
  const write = grouped
    ? `  part[lid.x] = acc[0];
  workgroupBarrier();
  if (lid.x < HD) {
    var o = 0.0;
    for (var g = 0u; g < G; g++) { o += part[g * HDP + lid.x]; }
    out[qb + lid.x] = o;
  }`
    : `  for (var c = 0u; c < DPT; c++) {
    let d = lid.x + c * TILE;
    if (d < HD) { out[qb + d] = acc[c]; }
  }`;
  return `${scoresAndStats((j) => `score(${j}, kvh)`)}
  for (var i = 0u; i * TILE < len; i++) {
    let t0 = i * TILE;
    var wj = 0.0;
    if (t0 + lid.x < len) { wj = round_f16(exp(sc[i] - mx) * inv); }
    w[lid.x] = wj;
    workgroupBarrier();
    let n = min(TILE, len - t0);
${pv}
    workgroupBarrier();
  }
${write}`;
}
