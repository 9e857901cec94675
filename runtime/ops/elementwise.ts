// Elementwise ops: unary functions, scalar scale/add, and binary ops with numpy broadcasting.
import type { Dispatch } from '../kernels.ts';
import { unaryKernel, unaryParams, type UnaryOp } from '../../shaders/unary.ts';
import { binaryKernel, binaryParams, type BinaryOp, type BroadcastLayout, type Alias } from '../../shaders/binary.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, sameBuffer, check, product, contiguousStrides } from './common.ts';

export type { UnaryOp, BinaryOp };

/** y = op(x) over n elements; y may be x. `c` is the scalar of scale / add_scalar. */
export function unary(op: UnaryOp, a: { x: Buf; y: Buf; n: number; c?: number }): Dispatch[] {
  if (a.n === 0) return [];
  const inPlace = sameBuffer(a.x, a.y);
  return [{
    kernel: unaryKernel(op, inPlace),
    bindings: inPlace ? [a.y] : [a.x, a.y],
    params: unaryParams.pack({ n: a.n, c: a.c ?? 0 }),
    workgroups: grid1d(Math.ceil(a.n / 64)),
  }];
}

/** y = x * s. */
export function scale(a: { x: Buf; y: Buf; n: number; s: number }): Dispatch[] {
  return unary('scale', { ...a, c: a.s });
}

/** y = x + c. */
export function addScalar(a: { x: Buf; y: Buf; n: number; c: number }): Dispatch[] {
  return unary('add_scalar', a);
}

export interface BinaryArgs {
  a: Buf;
  aShape: number[];
  b: Buf;
  bShape: number[];
  out: Buf;          // the broadcast shape of aShape and bShape; may be a or b when that one has the output's shape
}

/** out = a op b with numpy broadcasting (ranks up to 6). */
export function binary(op: BinaryOp, args: BinaryArgs): Dispatch[] {
  const { aShape, bShape } = args;
  const shape = broadcastShape(aShape, bShape);
  check(shape.length <= 6, op, `rank ${shape.length} above 6`);
  const n = product(shape);
  if (n === 0) return [];
  const inA = sameBuffer(args.out, args.a), inB = sameBuffer(args.out, args.b);
  check(!inA || product(aShape) === n, op, `out is a, but a [${aShape}] is smaller than the result [${shape}]`);
  check(!inB || product(bShape) === n, op, `out is b, but b [${bShape}] is smaller than the result [${shape}]`);
  const alias: Alias = inA && inB ? 'ab' : inA ? 'a' : inB ? 'b' : 'none';
  const same = product(aShape) === n && product(bShape) === n;
  return [{
    kernel: binaryKernel(op, same ? undefined : broadcastLayout(aShape, bShape, shape), alias),
    bindings: [...(inA ? [] : [args.a]), ...(inB ? [] : [args.b]), args.out],
    params: binaryParams.pack({ n }),
    workgroups: grid1d(Math.ceil(n / 64)),
  }];
}

/** out = silu(gate) * up, fused; all three (n). */
export function swiglu(a: { gate: Buf; up: Buf; out: Buf; n: number }): Dispatch[] {
  return binary('swiglu', { a: a.gate, aShape: [a.n], b: a.up, bShape: [a.n], out: a.out });
}

/** numpy broadcasting: shapes aligned at the right, a dim of 1 stretches. */
export function broadcastShape(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    check(da === db || da === 1 || db === 1, 'broadcast', `shapes [${a}] and [${b}] do not broadcast`);
    return da === 1 ? db : da;
  });
}

/** Output shape and operand strides, with size-1 dims dropped and mergeable neighbours merged. */
function broadcastLayout(aShape: number[], bShape: number[], shape: number[]): BroadcastLayout {
  const stridesIn = (s: number[]) => {
    const st = contiguousStrides(s), pad = shape.length - s.length;
    return shape.map((_, i) => (i < pad || s[i - pad] === 1 ? 0 : st[i - pad]));
  };
  const a = stridesIn(aShape), b = stridesIn(bShape);
  const out: BroadcastLayout = { shape: [], aStrides: [], bStrides: [] };
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = out.shape.length - 1;
    // dim i continues the previous one when both operands step through them as one
    if (last >= 0 && out.aStrides[last] === a[i] * d && out.bStrides[last] === b[i] * d) {
      out.shape[last] *= d;
      out.aStrides[last] = a[i];
      out.bStrides[last] = b[i];
    } else {
      out.shape.push(d);
      out.aStrides.push(a[i]);
      out.bStrides.push(b[i]);
    }
  });
  return out;
}
