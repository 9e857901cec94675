import type { Dispatch } from '../kernels.ts';
import { softmaxKernel, softmaxParams } from '../../shaders/softmax.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, sameBuffer, check, product } from './common.ts';

/** Softmax over the last axis: x, y (rows, n); y may be x. */
export function softmax(a: { x: Buf; y: Buf; rows: number; n: number }): Dispatch[] {
  return lines(a.x, a.y, a.rows, a.n, 1);
}

/** Softmax over `axis` of a contiguous tensor of `shape` (strided in place of a transpose); y may be x. */
export function softmaxAxis(a: { x: Buf; y: Buf; shape: number[]; axis: number }): Dispatch[] {
  const { shape } = a, axis = a.axis < 0 ? shape.length + a.axis : a.axis;
  check(axis >= 0 && axis < shape.length, 'softmax', `axis ${a.axis} out of range for shape [${shape}]`);
  const inner = product(shape.slice(axis + 1));
  return lines(a.x, a.y, product(shape.slice(0, axis)) * inner, shape[axis], inner);
}

function lines(x: Buf, y: Buf, count: number, n: number, inner: number): Dispatch[] {
  check(n > 0, 'softmax', 'the softmax axis is empty');
  if (count === 0) return [];
  const inPlace = sameBuffer(x, y);
  return [{
    kernel: softmaxKernel(inPlace),
    bindings: inPlace ? [y] : [x, y],
    params: softmaxParams.pack({ lines: count, n, inner }),
    workgroups: grid1d(count),
  }];
}
