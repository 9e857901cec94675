// Kernels for relations packed as bits, 32 entities per u32 word: a row of n entities is
// ceil(n / 32) words, entity j in word j >> 5, bit j & 31, and the unused high bits of a row's last
// word are 0 in every output. A Datalog round over a 4000 x 4000 relation then touches 500K words,
// not 16M floats. pack_bits / unpack_bits convert from / to 0/1 f32, join_bits is join (logic.ts)
// on packed operands, bits_or the union, bits_count the number of facts (to detect a fixpoint).
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP, REDUCE_WG, reduceInto } from './common.ts';
import type { JoinSide } from './logic.ts';

// Packed (m, w) with w = ceil(n / 32) words per row of n entities.
export const packParams = paramsStruct({ m: 'u32', n: 'u32', w: 'u32' });

/**
 * out (m, w) u32: bit b of word (i, wd) is set when x[i][wd * 32 + b] > 0 (x f32 (m, n)); bits at
 * or past n stay 0. One thread per output word, reading its 32 entries in order.
 */
export function packBitsKernel(): Kernel {
  return memo('pack_bits', () => ({
    name: 'pack_bits',
    bindings: ['read', 'read_write', 'uniform'],
    wgsl: `${packParams.wgsl}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let o = ${LINEAR_GROUP} * 64u + lid.x;
  if (o >= p.m * p.w) { return; }
  let i = o / p.w;
  let j0 = (o % p.w) * 32u;
  let count = min(32u, p.n - j0);
  let base = i * p.n + j0;
  var bits = 0u;
  for (var b = 0u; b < count; b++) {
    if (x[base + b] > 0.0) { bits |= 1u << b; }
  }
  out[o] = bits;
}`,
  }));
}

/** out (m, n) f32 = 1 where bit j of row i is set, else 0; the unused high bits are not read. */
export function unpackBitsKernel(): Kernel {
  return memo('unpack_bits', () => ({
    name: 'unpack_bits',
    bindings: ['read', 'read_write', 'uniform'],
    wgsl: `${packParams.wgsl}
@group(0) @binding(0) var<storage, read> bits: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let o = ${LINEAR_GROUP} * 64u + lid.x;
  if (o >= p.m * p.n) { return; }
  let i = o / p.n;
  let j = o % p.n;
  out[o] = f32((bits[i * p.w + (j >> 5u)] >> (j & 31u)) & 1u);
}`,
  }));
}

// Output packed (m, w), w = ceil(n / 32); lists (p, q + 1) as nonzeros makes them; d packed: left
// (k, w), right (m, wk) with wk = ceil(k / 32).
export const joinBitsParams = paramsStruct({ m: 'u32', n: 'u32', w: 'u32', k: 'u32', q: 'u32', wk: 'u32' });

/**
 * join on packed relations (the lists are S's, unpacked as for join).
 * left, S (m, k) by its rows: out word (i, wd) = OR of d's word (kk, wd) over kk in lists[i]; the
 * workgroup's lanes read consecutive words of d's row kk. The scan stops once every bit still
 * wanted is set.
 * right, S (k, n) by its columns: out bit (i, j) = some kk in lists[j] has bit kk of d's row i; a
 * thread per output word loops over its 32 bits, each over its list, stopping at the first hit.
 * Threads run down a column of words (lanes along i), so a workgroup's lanes walk the same 32 lists
 * together (3.5x faster on lavapipe than lanes along the row). This side probes m * n * |list| bits,
 * 32x the left side's word ORs: a right join is better run as a left one on transposed operands,
 * (d S)^T = S^T d^T, whose row lists are S's column lists.
 * With `exclude` (packed like out), excluded bits are 0 (and cost no probes). Counts past q and
 * entries past k are ignored; bits at or past n are 0 whatever d's high bits hold.
 */
export function joinBitsKernel(side: JoinSide, exclude: boolean): Kernel {
  return memo(`join_bits:${side}:${exclude}`, () => {
    const b = exclude ? 3 : 2;
    const body = side === 'left'
      ? `let r = p.n & 31u;
  var keep = select(0xffffffffu, (1u << r) - 1u, r != 0u && wd + 1u == p.w);
  ${exclude ? 'keep &= ~exclude[o];' : ''}
  let row = i * (p.q + 1u);
  let count = select(0u, min(lists[row], p.q), keep != 0u);
  var acc = 0u;
  for (var c = 1u; c <= count; c++) {
    let kk = lists[row + c];
    if (kk < p.k) {
      acc |= d[kk * p.w + wd];
      if ((acc & keep) == keep) { break; }
    }
  }
  out[o] = acc & keep;`
      : `let j0 = wd * 32u;
  let bitsHere = min(32u, p.n - j0);
  let skip = ${exclude ? 'exclude[o]' : '0u'};
  let drow = i * p.wk;
  var acc = 0u;
  for (var bit = 0u; bit < bitsHere; bit++) {
    if (((skip >> bit) & 1u) != 0u) { continue; }
    let row = (j0 + bit) * (p.q + 1u);
    let count = min(lists[row], p.q);
    for (var c = 1u; c <= count; c++) {
      let kk = lists[row + c];
      if (kk < p.k && ((d[drow + (kk >> 5u)] >> (kk & 31u)) & 1u) != 0u) {
        acc |= 1u << bit;
        break;
      }
    }
  }
  out[o] = acc;`;
    return {
      name: `join_bits_${side}${exclude ? '_exclude' : ''}`,
      bindings: exclude ? ['read', 'read', 'read', 'read_write', 'uniform'] : ['read', 'read', 'read_write', 'uniform'],
      wgsl: `${joinBitsParams.wgsl}
@group(0) @binding(0) var<storage, read> lists: array<u32>;
@group(0) @binding(1) var<storage, read> d: array<u32>;
${exclude ? '@group(0) @binding(2) var<storage, read> exclude: array<u32>;' : ''}
@group(0) @binding(${b}) var<storage, read_write> out: array<u32>;
@group(0) @binding(${b + 1}) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let t = ${LINEAR_GROUP} * 64u + lid.x;
  if (t >= p.m * p.w) { return; }
  ${side === 'left' ? 'let i = t / p.w; let wd = t % p.w;' : 'let wd = t / p.m; let i = t % p.m;'}
  let o = i * p.w + wd;
  ${body}
}`,
    };
  });
}

export const wordsParams = paramsStruct({ n: 'u32' });

/**
 * out = a | b over n words. In place (out is a or b, `inPlace`), out |= other: the binding order is
 * then (other, out).
 */
export function bitsOrKernel(inPlace: boolean): Kernel {
  return memo(`bits_or:${inPlace}`, () => ({
    name: inPlace ? 'bits_or_inplace' : 'bits_or',
    bindings: inPlace ? ['read', 'read_write', 'uniform'] : ['read', 'read', 'read_write', 'uniform'],
    wgsl: `${wordsParams.wgsl}
@group(0) @binding(0) var<storage, read> a: array<u32>;
${inPlace ? '' : '@group(0) @binding(1) var<storage, read> b: array<u32>;'}
@group(0) @binding(${inPlace ? 1 : 2}) var<storage, read_write> out: array<u32>;
@group(0) @binding(${inPlace ? 2 : 3}) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let k = ${LINEAR_GROUP} * 64u + lid.x;
  if (k >= p.n) { return; }
  out[k] = ${inPlace ? 'out[k] | a[k]' : 'a[k] | b[k]'};
}`,
  }));
}

/**
 * out[0] (f32) = the number of set bits in a's n words. One workgroup of REDUCE_WG threads, each
 * striding over the words, summed in u32 (exact), then written as f32 (exact up to 2^24).
 */
export function bitsCountKernel(): Kernel {
  return memo('bits_count', () => ({
    name: 'bits_count',
    bindings: ['read', 'read_write', 'uniform'],
    wgsl: `${wordsParams.wgsl}
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> red: array<u32, ${REDUCE_WG}>;
@compute @workgroup_size(${REDUCE_WG}) fn main(${BUILTINS}) {
  var s = 0u;
  for (var k = lid.x; k < p.n; k += ${REDUCE_WG}u) { s += countOneBits(a[k]); }
  red[lid.x] = s;
  ${reduceInto('red', '+')}
  if (lid.x == 0u) { out[0] = f32(red[0]); }
}`,
  }));
}
