// Samples one token id from logits (n) in a single workgroup, for n up to 128k and more:
//   z = logits * (1 / temperature); M = max z
//   top-k: the k-th largest z, found by a 32-step binary search over the order-preserving u32 keys
//          of the values (count of keys >= candidate vs k): exact, no sort
//   top-p: likewise the largest key T whose mass sum(exp(z - M) for z >= T, within top-k) reaches
//          top_p of the top-k mass: the fewest top tokens holding that mass (ties all kept)
//   draw:  r = u * (kept mass); the first kept token, in index order, whose cumulative weight passes r
//          (threads sum contiguous chunks; thread 0 prefixes the chunk sums and scans one chunk)
// u is uniform in [0, 1), drawn on the host from a seeded Rng.
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, INF_DECL } from './common.ts';

export const sampleParams = paramsStruct({
  n: 'u32', x_off: 'u32', out_index: 'u32', top_k: 'u32', inv_temp: 'f32', top_p: 'f32', u: 'f32',
});

const WG = 256;

export function sampleKernel(): Kernel {
  return memo('sample', () => ({
    name: 'sample',
    bindings: ['read', 'read_write', 'uniform'],
    wgsl: `${sampleParams.wgsl}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
${INF_DECL}
const WG = ${WG}u;
var<workgroup> part: array<f32, WG>;
var<workgroup> result: f32;

fn z(i: u32) -> f32 { return x[p.x_off + i] * p.inv_temp; }

// u32 keys in the order of the f32 values: flip all bits of negatives, the sign bit of positives.
fn key(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Every thread passes its partial; all get the workgroup's sum (or max), as a uniform value.
fn reduce(lid: u32, v: f32, is_max: bool) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = part[0];
    for (var k = 1u; k < WG; k++) { acc = select(acc + part[k], max(acc, part[k]), is_max); }
    result = acc;
  }
  return workgroupUniformLoad(&result);
}

// Weight of token i when the kept tokens are those with key >= t.
fn weight(i: u32, t: u32, m: f32) -> f32 {
  let zi = z(i);
  return select(0.0, exp(zi - m), key(zi) >= t);
}

@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let n = p.n;
  var mx = -bitcast<f32>(INF_BITS);
  for (var i = lid; i < n; i += WG) { mx = max(mx, z(i)); }
  let m = reduce(lid, mx, true);

  // top-k: the largest key t with count(key >= t) >= k, built bit by bit from the top
  var tk = 0u;
  if (p.top_k > 0u && p.top_k < n) {
    for (var bit = 32u; bit > 0u; bit--) {
      let cand = tk | (1u << (bit - 1u));
      var c = 0.0;  // counts in f32 are exact below 2^24
      for (var i = lid; i < n; i += WG) { c += select(0.0, 1.0, key(z(i)) >= cand); }
      if (reduce(lid, c, false) >= f32(p.top_k)) { tk = cand; }
    }
  }

  // top-p: the largest key t >= tk whose mass reaches top_p of the top-k mass
  var t = tk;
  if (p.top_p < 1.0) {
    var s = 0.0;
    for (var i = lid; i < n; i += WG) { s += weight(i, tk, m); }
    let goal = p.top_p * reduce(lid, s, false);
    t = 0u;
    for (var bit = 32u; bit > 0u; bit--) {
      let cand = t | (1u << (bit - 1u));
      var w = 0.0;
      for (var i = lid; i < n; i += WG) { w += weight(i, max(cand, tk), m); }
      if (reduce(lid, w, false) >= goal) { t = cand; }
    }
    t = min(max(t, tk), key(m)); // the top token is always kept (top_p <= 0 keeps just it)
  }

  // the draw
  let chunk = (n + WG - 1u) / WG;
  let lo = min(lid * chunk, n);
  let hi = min(lo + chunk, n);
  var cs = 0.0;
  for (var i = lo; i < hi; i++) { cs += weight(i, t, m); }
  part[lid] = cs;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var k = 0u; k < WG; k++) { total += part[k]; }
    let r = p.u * total;
    // the chunk holding r: the last non-empty one whose prefix is <= r
    var pre = 0.0;
    var owner = 0u;
    var owner_pre = 0.0;
    for (var k = 0u; k < WG; k++) {
      if (part[k] > 0.0 && pre <= r) { owner = k; owner_pre = pre; }
      pre += part[k];
    }
    let rr = r - owner_pre;
    var run = 0.0;
    var pick = 0xffffffffu;
    var last = 0u;
    for (var i = min(owner * chunk, n); i < min(owner * chunk + chunk, n); i++) {
      let w = weight(i, t, m);
      if (w > 0.0) {
        last = i;
        run += w;
        if (rr < run && pick == 0xffffffffu) { pick = i; }
      }
    }
    out[p.out_index] = select(pick, last, pick == 0xffffffffu); // rounding left r past the end: the last kept token
  }
}`,
  }));
}
