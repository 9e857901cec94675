// gather(x, dim, index) and scatter(x, dim, index, src) along one axis (shaders/gather_scatter.ts).
import type { Dispatch } from '../kernels.ts';
import { gatherKernel, scatterKernel, gatherScatterParams, type IndexType } from '../../shaders/gather_scatter.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, check, product, sameBuffer } from './common.ts';

export interface GatherArgs {
  x: Buf;
  xShape: number[];
  index: Buf;          // f32 (rounded) or u32 indices: x's shape except along dim, or 1-D (whole slices)
  indexShape: number[];
  indexType?: IndexType; // default f32
  dim: number;
}

/** x as (outer, size, inner) along dim, the index's count along dim, its strides, and gather's output shape. */
function layout(op: string, xShape: number[], indexShape: number[], dim: number) {
  check(Number.isInteger(dim) && dim >= 0 && dim < xShape.length, op, `dim ${dim} is out of range for shape [${xShape}]`);
  const slices = indexShape.length === 1 && xShape.length > 1;
  check(slices || (indexShape.length === xShape.length && xShape.every((d, i) => i === dim || d === indexShape[i])), op,
    `the index shape [${indexShape}] must match [${xShape}] except at dim ${dim}, or be 1-D`);
  const count = indexShape[dim] ?? indexShape[0], inner = product(xShape.slice(dim + 1));
  const strides = slices ? { so: 0, sj: 1, si: 0 } : { so: count * inner, sj: inner, si: 1 };
  return { size: xShape[dim], count, inner, ...strides, outShape: xShape.map((d, i) => (i === dim ? count : d)) };
}

/** out = x at index along dim (the index's shape, or x's with count at dim); 0 where an index is outside [0, xShape[dim]). */
export function gather(a: GatherArgs & { out: Buf }): Dispatch[] {
  const { outShape, ...p } = layout('gather', a.xShape, a.indexShape, a.dim);
  check(!sameBuffer(a.out, a.x) && !sameBuffer(a.out, a.index), 'gather', 'out must be a buffer of its own');
  const n = product(outShape);
  if (n === 0) return [];
  return [{
    kernel: gatherKernel(a.indexType ?? 'f32'),
    bindings: [a.x, a.index, a.out],
    params: gatherScatterParams.pack({ n, ...p }),
    workgroups: grid1d(Math.ceil(n / 64)),
  }];
}

/**
 * out (xShape) = x with src written at index along dim (src: gather's output shape); out-of-range
 * indices write nothing, and of several naming one element the last in row-major order wins.
 */
export function scatter(a: GatherArgs & { src: Buf; out: Buf }): Dispatch[] {
  const { outShape: _src, ...p } = layout('scatter', a.xShape, a.indexShape, a.dim);
  check([a.x, a.index, a.src].every((b) => !sameBuffer(a.out, b)), 'scatter', 'out must be a buffer of its own');
  const n = product(a.xShape);
  if (n === 0) return [];
  return [{
    kernel: scatterKernel(a.indexType ?? 'f32'),
    bindings: [a.x, a.index, a.src, a.out],
    params: gatherScatterParams.pack({ n, ...p }),
    workgroups: grid1d(Math.ceil(n / 64)),
  }];
}
