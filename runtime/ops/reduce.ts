// max / min of a tensor along one axis, or of all its elements (one kernel, shaders/reduce.ts).
import type { Dispatch } from '../kernels.ts';
import { reduceKernel, reduceParams, type ExtremeOp } from '../../shaders/reduce.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, check, product } from './common.ts';

export type { ExtremeOp };

/** y = op of x along `axis` of `shape` (that axis removed), or over everything when axis is undefined. */
export function reduceExtreme(op: ExtremeOp, a: { x: Buf; y: Buf; shape: number[]; axis?: number }): Dispatch[] {
  const { shape } = a;
  const n = product(shape);
  check(n > 0, `reduce ${op}`, `the ${op} of an empty tensor [${shape}] is undefined`);
  const axis = a.axis === undefined ? undefined : a.axis < 0 ? shape.length + a.axis : a.axis;
  check(axis === undefined || (axis >= 0 && axis < shape.length), `reduce ${op}`, `axis ${a.axis} out of range for shape [${shape}]`);
  const [len, inner] = axis === undefined ? [n, 1] : [shape[axis], product(shape.slice(axis + 1))];
  const lines = n / len;
  return [{
    kernel: reduceKernel(op),
    bindings: [a.x, a.y],
    params: reduceParams.pack({ lines, n: len, inner }),
    workgroups: grid1d(lines),
  }];
}
