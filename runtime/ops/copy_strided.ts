// Strided views made contiguous: broadcast_to, transpose, slices, non-contiguous reshapes.
import type { Dispatch } from '../kernels.ts';
import { copyStridedKernel, copyStridedParams } from '../../shaders/copy_strided.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, check, product, contiguousStrides, sameBuffer } from './common.ts';

export interface CopyStridedArgs {
  src: Buf;
  dst: Buf;            // receives product(shape) elements, row-major, from dstOffset
  shape: number[];     // the view's shape
  strides: number[];   // the view's element strides in src (>= 0; 0 repeats an element)
  srcOffset?: number;  // element offset of the view's first element
  dstOffset?: number;
}

/** dst[dstOffset + i] = src[srcOffset + sum_k idx_k * strides_k], i the row-major index of idx in shape. */
export function copyStrided(a: CopyStridedArgs): Dispatch[] {
  check(a.shape.length === a.strides.length, 'copy_strided', `shape [${a.shape}] and strides [${a.strides}] differ in rank`);
  check(a.strides.every((s) => Number.isInteger(s) && s >= 0), 'copy_strided', `strides [${a.strides}] must be non-negative integers`);
  check(!sameBuffer(a.src, a.dst), 'copy_strided', 'src and dst must be different buffers');
  const n = product(a.shape);
  if (n === 0) return [];
  const { shape, strides } = collapse(a.shape, a.strides);
  return [{
    kernel: copyStridedKernel(shape, strides),
    bindings: [a.src, a.dst],
    params: copyStridedParams.pack({ src_off: a.srcOffset ?? 0, dst_off: a.dstOffset ?? 0 }),
    workgroups: grid1d(Math.ceil(n / 64)),
  }];
}

/** src (shape) repeated along broadcast dims to `to` (numpy rules). */
export function broadcastTo(a: { src: Buf; dst: Buf; shape: number[]; to: number[] }): Dispatch[] {
  const st = contiguousStrides(a.shape), pad = a.to.length - a.shape.length;
  const strides = a.to.map((d, i) => {
    const s = a.shape[i - pad];
    check(i < pad || s === d || s === 1, 'broadcast_to', `shape [${a.shape}] does not broadcast to [${a.to}]`);
    return i < pad || s === 1 ? 0 : st[i - pad];
  });
  return copyStrided({ src: a.src, dst: a.dst, shape: a.to, strides });
}

/** Permutes axes: output axis i is input axis perm[i]. */
export function transpose(a: { src: Buf; dst: Buf; shape: number[]; perm: number[] }): Dispatch[] {
  check([...a.perm].sort((x, y) => x - y).every((p, i) => p === i) && a.perm.length === a.shape.length, 'transpose', `[${a.perm}] is not a permutation of the ${a.shape.length} axes`);
  const st = contiguousStrides(a.shape);
  return copyStrided({ src: a.src, dst: a.dst, shape: a.perm.map((p) => a.shape[p]), strides: a.perm.map((p) => st[p]) });
}

/** The last row of src (rows, n) into dst (n): the logits of the last position. rows may change per call. */
export function sliceLast(a: { src: Buf; dst: Buf; rows: number; n: number }): Dispatch[] {
  check(a.rows > 0, 'slice_last', 'no rows');
  return copyStrided({ src: a.src, dst: a.dst, shape: [a.n], strides: [1], srcOffset: (a.rows - 1) * a.n });
}

/** Drops size-1 dims and merges neighbours that step as one (fewer index ops, fewer kernel variants). */
function collapse(shape: number[], strides: number[]): { shape: number[]; strides: number[] } {
  const out = { shape: [] as number[], strides: [] as number[] };
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = out.shape.length - 1;
    if (last >= 0 && out.strides[last] === strides[i] * d) {
      out.shape[last] *= d;
      out.strides[last] = strides[i];
    } else {
      out.shape.push(d);
      out.strides.push(strides[i]);
    }
  });
  return out;
}
