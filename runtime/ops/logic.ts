// Relations as 0/1 f32 tensors (shaders/logic.ts): indicator, nonzeros and join, the pieces of
// Datalog rules evaluated as joins.
import type { Dispatch } from '../kernels.ts';
import { fillParams, markParams, markKernel, zeroFillKernel, nonzerosKernel, nonzerosParams, joinKernel, joinParams, type JoinSide } from '../../shaders/logic.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, check, sameBuffer } from './common.ts';

export type { JoinSide };

/**
 * out (n elements, f32) = 1 at each of the `count` flat offsets (u32), 0 elsewhere; offsets >= n
 * are ignored. Two dispatches, in order: a zero fill, then one thread per offset.
 */
export function indicator(a: { offsets: Buf; count: number; out: Buf; n: number }): Dispatch[] {
  check(!sameBuffer(a.out, a.offsets), 'indicator', 'out must be a buffer of its own');
  if (a.n === 0) return [];
  const fill: Dispatch = {
    kernel: zeroFillKernel(),
    bindings: [a.out],
    params: fillParams.pack({ n: a.n }),
    workgroups: grid1d(Math.ceil(a.n / 64)),
  };
  if (a.count === 0) return [fill];
  return [fill, {
    kernel: markKernel(),
    bindings: [a.offsets, a.out],
    params: markParams.pack({ n: a.n, count: a.count }),
    workgroups: grid1d(Math.ceil(a.count / 64)),
  }];
}

/** nonzeros' output shape: (rows, cols + 1) for axis 1 (a list per row), (cols, rows + 1) for axis 0. */
export function nonzerosShape(xShape: number[], axis: number): number[] {
  check(xShape.length === 2, 'nonzeros', `x must be 2-D, got [${xShape}]`);
  check(axis === 0 || axis === 1, 'nonzeros', `axis must be 0 or 1, got ${axis}`);
  const [a, b] = xShape;
  return axis === 1 ? [a, b + 1] : [b, a + 1];
}

/**
 * out (u32, nonzerosShape): for each row (axis 1) or column (axis 0) of x (f32, 2-D), the count of
 * entries > 0, then their positions ascending; the rest of each list row is left as it was.
 */
export function nonzeros(a: { x: Buf; xShape: number[]; axis: 0 | 1; out: Buf }): Dispatch[] {
  nonzerosShape(a.xShape, a.axis);
  check(!sameBuffer(a.out, a.x), 'nonzeros', 'out must be a buffer of its own');
  const [rows, cols] = a.xShape;
  const p = a.axis === 1 ? { lists: rows, len: cols, st: cols, se: 1 } : { lists: cols, len: rows, st: 1, se: cols };
  if (p.lists === 0) return [];
  return [{
    kernel: nonzerosKernel(),
    bindings: [a.x, a.out],
    params: nonzerosParams.pack(p),
    workgroups: grid1d(Math.ceil(p.lists / 64)),
  }];
}

export interface JoinArgs {
  lists: Buf;          // (p, q + 1) u32 from nonzeros: left, S's rows (p = m); right, S's columns (p = n)
  listsShape: number[];
  d: Buf;              // (k, n) for left, (m, k) for right; f32, a fact where > 0
  dShape: number[];
  exclude?: Buf;       // (m, n) f32: 0 in the output wherever it is > 0
  excludeShape?: number[]; // checked against (m, n) when given
  side: JoinSide;
  out: Buf;            // (m, n) f32 0/1
}

/** The output shape (m, n) and contracted size k of a join, after checking the operands fit. */
export function joinShape(side: JoinSide, listsShape: number[], dShape: number[]): { m: number; n: number; k: number; q: number } {
  check(side === 'left' || side === 'right', 'join', `side must be 'left' or 'right', got ${String(side)}`);
  check(listsShape.length === 2 && listsShape[1] >= 1, 'join', `the lists must be (p, q + 1) as nonzeros makes them, got [${listsShape}]`);
  check(dShape.length === 2, 'join', `d must be 2-D, got [${dShape}]`);
  const [p, q1] = listsShape;
  const k = side === 'left' ? dShape[0] : dShape[1];
  check(q1 === k + 1, 'join', `lists [${listsShape}] hold positions in 0..${q1 - 2}, but d [${dShape}] has ${k} along the ${side === 'left' ? 'first' : 'last'} dim`);
  return side === 'left' ? { m: p, n: dShape[1], k, q: k } : { m: dShape[0], n: p, k, q: k };
}

/**
 * out (m, n) = the boolean product of S (given by its lists) and d: left, S (m, k) @ d (k, n);
 * right, d (m, k) @ S (k, n). Each output element probes d once per entry of its list, stopping at
 * the first hit.
 */
export function join(a: JoinArgs): Dispatch[] {
  const { m, n, k, q } = joinShape(a.side, a.listsShape, a.dShape);
  const ins = [a.lists, a.d, ...(a.exclude ? [a.exclude] : [])];
  check(ins.every((b) => !sameBuffer(a.out, b)), 'join', 'out must be a buffer of its own');
  const ex = a.excludeShape;
  check(!ex || (ex.length === 2 && ex[0] === m && ex[1] === n), 'join', `exclude [${ex}] should be the output's shape [${m},${n}]`);
  if (m * n === 0) return [];
  return [{
    kernel: joinKernel(a.side, !!a.exclude),
    bindings: [...ins, a.out],
    params: joinParams.pack({ m, n, k, q }),
    workgroups: grid1d(Math.ceil((m * n) / 64)),
  }];
}
