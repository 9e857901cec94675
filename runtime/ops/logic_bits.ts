// Relations packed as bits (shaders/logic_bits.ts): 32 entities per u32 word, a row of n entities
// in ceil(n / 32) words, the unused high bits of its last word 0. pack_bits, unpack_bits,
// join_bits (join on packed operands), bits_or and bits_count.
import type { Dispatch } from '../kernels.ts';
import { packParams, packBitsKernel, unpackBitsKernel, joinBitsParams, joinBitsKernel, wordsParams, bitsOrKernel, bitsCountKernel } from '../../shaders/logic_bits.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, check, product, sameBuffer } from './common.ts';
import type { JoinSide } from './logic.ts';

/** Words per packed row of n entities. */
export function packedWords(n: number): number {
  return Math.ceil(n / 32);
}

/** out (m, ceil(n / 32)) u32: bit j of row i set where x[i][j] > 0 (x f32 (m, n)). */
export function packBits(a: { x: Buf; xShape: number[]; out: Buf }): Dispatch[] {
  check(a.xShape.length === 2, 'pack_bits', `x must be 2-D, got [${a.xShape}]`);
  check(!sameBuffer(a.out, a.x), 'pack_bits', 'out must be a buffer of its own');
  const [m, n] = a.xShape, w = packedWords(n);
  if (m * w === 0) return [];
  return [{
    kernel: packBitsKernel(),
    bindings: [a.x, a.out],
    params: packParams.pack({ m, n, w }),
    workgroups: grid1d(Math.ceil((m * w) / 64)),
  }];
}

/** out (m, n) f32 0/1 from packed bits (m, ceil(n / 32)) u32. */
export function unpackBits(a: { bits: Buf; bitsShape: number[]; n: number; out: Buf }): Dispatch[] {
  const { n } = a;
  check(Number.isInteger(n) && n >= 0, 'unpack_bits', `n must be a whole number >= 0, got ${n}`);
  check(a.bitsShape.length === 2 && a.bitsShape[1] === packedWords(n), 'unpack_bits', `the bits must be (m, ${packedWords(n)}) for n = ${n}, got [${a.bitsShape}]`);
  check(!sameBuffer(a.out, a.bits), 'unpack_bits', 'out must be a buffer of its own');
  const [m, w] = a.bitsShape;
  if (m * n === 0) return [];
  return [{
    kernel: unpackBitsKernel(),
    bindings: [a.bits, a.out],
    params: packParams.pack({ m, n, w }),
    workgroups: grid1d(Math.ceil((m * n) / 64)),
  }];
}

export interface JoinBitsArgs {
  lists: Buf;          // (p, q + 1) u32 from nonzeros: left, S's rows (p = m, q = k); right, S's columns (p = n, q = k)
  listsShape: number[];
  d: Buf;              // packed u32: left (k, ceil(n / 32)), right (m, ceil(k / 32))
  dShape: number[];
  n: number;           // the output's entities per row (left: d's unpacked columns; right: S's columns)
  exclude?: Buf;       // packed like the output: its set bits are 0 in the output
  excludeShape?: number[];
  side: JoinSide;
  out: Buf;            // (m, ceil(n / 32)) u32
}

/** A packed join's sizes, after checking the operands fit: output (m, w) packed from n entities, k contracted. */
export function joinBitsShape(side: JoinSide, listsShape: number[], dShape: number[], n: number): { m: number; n: number; w: number; k: number; q: number; wk: number } {
  const op = 'join_bits';
  check(side === 'left' || side === 'right', op, `side must be 'left' or 'right', got ${String(side)}`);
  check(Number.isInteger(n) && n >= 0, op, `n must be a whole number >= 0, got ${n}`);
  check(listsShape.length === 2 && listsShape[1] >= 1, op, `the lists must be (p, q + 1) as nonzeros makes them, got [${listsShape}]`);
  check(dShape.length === 2, op, `d must be 2-D (packed), got [${dShape}]`);
  const [p, q1] = listsShape, w = packedWords(n);
  if (side === 'left') {
    const k = dShape[0];
    check(q1 === k + 1, op, `lists [${listsShape}] hold positions in 0..${q1 - 2}, but d [${dShape}] has ${k} rows`);
    check(dShape[1] === w, op, `d [${dShape}] should have ${w} words per row for n = ${n}`);
    return { m: p, n, w, k, q: k, wk: w };
  }
  const k = q1 - 1, wk = packedWords(k);
  check(p === n, op, `the right side's lists [${listsShape}] are S's columns, so there must be n = ${n} of them`);
  check(dShape[1] === wk, op, `d [${dShape}] should have ${wk} words per row for the lists' k = ${k}`);
  return { m: dShape[0], n, w, k, q: k, wk };
}

/**
 * out (m, ceil(n / 32)) packed = the boolean product of S (given by its lists) and packed d, as
 * join: left S (m, k) @ d (k, n), right d (m, k) @ S (k, n); excluded bits 0.
 */
export function joinBits(a: JoinBitsArgs): Dispatch[] {
  const s = joinBitsShape(a.side, a.listsShape, a.dShape, a.n);
  const ins = [a.lists, a.d, ...(a.exclude ? [a.exclude] : [])];
  check(ins.every((b) => !sameBuffer(a.out, b)), 'join_bits', 'out must be a buffer of its own');
  const ex = a.excludeShape;
  check(!ex || (ex.length === 2 && ex[0] === s.m && ex[1] === s.w), 'join_bits', `exclude [${ex}] should be the output's packed shape [${s.m},${s.w}]`);
  if (s.m * s.w === 0) return [];
  return [{
    kernel: joinBitsKernel(a.side, !!a.exclude),
    bindings: [...ins, a.out],
    params: joinBitsParams.pack(s),
    workgroups: grid1d(Math.ceil((s.m * s.w) / 64)),
  }];
}

/** out = a | b, word by word (same shape); out may be a or b (then it is updated in place). */
export function bitsOr(a: { a: Buf; aShape: number[]; b: Buf; bShape: number[]; out: Buf }): Dispatch[] {
  check(a.aShape.length === a.bShape.length && a.aShape.every((d, i) => d === a.bShape[i]), 'bits_or', `a [${a.aShape}] and b [${a.bShape}] differ`);
  const n = product(a.aShape);
  const inA = sameBuffer(a.out, a.a), inB = sameBuffer(a.out, a.b);
  if (n === 0 || (inA && inB)) return []; // x | x = x
  return [{
    kernel: bitsOrKernel(inA || inB),
    bindings: inA ? [a.b, a.out] : inB ? [a.a, a.out] : [a.a, a.b, a.out],
    params: wordsParams.pack({ n }),
    workgroups: grid1d(Math.ceil(n / 64)),
  }];
}

/** out[0] (f32) = the number of set bits in a's `words` u32 words (exact up to 2^24). */
export function bitsCount(a: { a: Buf; words: number; out: Buf }): Dispatch[] {
  check(!sameBuffer(a.out, a.a), 'bits_count', 'out must be a buffer of its own');
  return [{
    kernel: bitsCountKernel(),
    bindings: [a.a, a.out],
    params: wordsParams.pack({ n: a.words }),
    workgroups: [1],
  }];
}
