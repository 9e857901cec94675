// Kernels for logic programming over relations held as 0/1 f32 tensors (a fact is an entry > 0):
// indicator (a relation from a list of flat offsets), nonzeros (each row's or column's nonzero
// positions as a list) and join (a boolean matrix product with one operand given by such lists, so
// a sparse relation costs its nonzeros per output, not its full size).
import type { Kernel } from './kernel.ts';
import { memo, paramsStruct, BUILTINS, LINEAR_GROUP } from './common.ts';

export const fillParams = paramsStruct({ n: 'u32' });
export const markParams = paramsStruct({ n: 'u32', count: 'u32' });

/** out[0..n) = 0: the first half of indicator (the executor's buffers hold the last run's data). */
export function zeroFillKernel(): Kernel {
  return memo('zero_fill', () => ({
    name: 'zero_fill',
    bindings: ['read_write', 'uniform'],
    wgsl: `${fillParams.wgsl}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let k = ${LINEAR_GROUP} * 64u + lid.x;
  if (k >= p.n) { return; }
  out[k] = 0.0;
}`,
  }));
}

/**
 * out[offsets[t]] = 1 for t in [0, count), offsets at or past n ignored. One thread per offset;
 * duplicates race, but every writer stores the same 1.
 */
export function markKernel(): Kernel {
  return memo('indicator_mark', () => ({
    name: 'indicator_mark',
    bindings: ['read', 'read_write', 'uniform'],
    wgsl: `${markParams.wgsl}
@group(0) @binding(0) var<storage, read> offsets: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let t = ${LINEAR_GROUP} * 64u + lid.x;
  if (t >= p.count) { return; }
  let o = offsets[t];
  if (o < p.n) { out[o] = 1.0; }
}`,
  }));
}

// lists: `lists` lists of `len` entries each; entry e of list t is x[t * st + e * se]. Rows of an
// (a, b) matrix: (a, b, b, 1); columns: (b, a, 1, b).
export const nonzerosParams = paramsStruct({ lists: 'u32', len: 'u32', st: 'u32', se: 'u32' });

/**
 * out (lists, len + 1) u32: out[t][0] = how many entries of list t are > 0, out[t][1..] their
 * positions ascending; the rest of the row is left as it was. One thread per list, scanning it in
 * order: on a CPU adapter each lane streams through memory, and no thread needs another's count.
 */
export function nonzerosKernel(): Kernel {
  return memo('nonzeros', () => ({
    name: 'nonzeros',
    bindings: ['read', 'read_write', 'uniform'],
    wgsl: `${nonzerosParams.wgsl}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let t = ${LINEAR_GROUP} * 64u + lid.x;
  if (t >= p.lists) { return; }
  let row = t * (p.len + 1u);
  var c = 0u;
  for (var e = 0u; e < p.len; e++) {
    if (x[t * p.st + e * p.se] > 0.0) {
      c++;
      out[row + c] = e;
    }
  }
  out[row] = c;
}`,
  }));
}

export type JoinSide = 'left' | 'right';

// Output (m, n); the lists are (p, q + 1) as nonzeros makes them; d is (k, n) (left) or (m, k) (right).
export const joinParams = paramsStruct({ m: 'u32', n: 'u32', k: 'u32', q: 'u32' });

/**
 * out[i][j] = 1 when some kk in list L has d at (kk, j) > 0 (left: L = lists[i]) or at (i, kk)
 * (right: L = lists[j]), else 0; with `exclude`, 0 wherever exclude[i][j] > 0 (checked first, so
 * excluded entries cost no probes). One thread per output element, lanes along j (left: the lanes
 * of a workgroup share their list and read d's row kk contiguously); the scan stops at the first
 * hit, so a sparse list costs its length at most. Counts past q and entries past k are ignored, so
 * malformed lists cannot read outside their row or d.
 */
export function joinKernel(side: JoinSide, exclude: boolean): Kernel {
  return memo(`join:${side}:${exclude}`, () => {
    const list = side === 'left' ? 'i' : 'j';
    const probe = side === 'left' ? 'd[kk * p.n + j]' : 'd[i * p.k + kk]';
    const b = exclude ? 3 : 2;
    return {
      name: `join_${side}${exclude ? '_exclude' : ''}`,
      bindings: exclude ? ['read', 'read', 'read', 'read_write', 'uniform'] : ['read', 'read', 'read_write', 'uniform'],
      wgsl: `${joinParams.wgsl}
@group(0) @binding(0) var<storage, read> lists: array<u32>;
@group(0) @binding(1) var<storage, read> d: array<f32>;
${exclude ? '@group(0) @binding(2) var<storage, read> exclude: array<f32>;' : ''}
@group(0) @binding(${b}) var<storage, read_write> out: array<f32>;
@group(0) @binding(${b + 1}) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(${BUILTINS}) {
  let o = ${LINEAR_GROUP} * 64u + lid.x;
  if (o >= p.m * p.n) { return; }
  let i = o / p.n;
  let j = o % p.n;
  ${exclude ? 'if (exclude[o] > 0.0) { out[o] = 0.0; return; }' : ''}
  let row = ${list} * (p.q + 1u);
  let count = min(lists[row], p.q);
  var hit = 0.0;
  for (var c = 1u; c <= count; c++) {
    let kk = lists[row + c];
    if (kk < p.k && ${probe} > 0.0) {
      hit = 1.0;
      break;
    }
  }
  out[o] = hit;
}`,
    };
  });
}
