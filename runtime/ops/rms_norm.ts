import type { Dispatch } from '../kernels.ts';
import { rmsNormKernel, rmsNormParams } from '../../shaders/rms_norm.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, sameBuffer, check } from './common.ts';

/** y = x / sqrt(mean(x^2) + eps) * w over rows of n. x, y (rows, n); w (n). y may be x. */
export function rmsNorm(a: { x: Buf; w: Buf; y: Buf; rows: number; n: number; eps: number }): Dispatch[] {
  check(a.rows >= 0 && a.n > 0, 'rms_norm', `bad shape (${a.rows}, ${a.n})`);
  if (a.rows === 0) return [];
  const inPlace = sameBuffer(a.x, a.y);
  return [{
    kernel: rmsNormKernel(inPlace),
    bindings: inPlace ? [a.w, a.y] : [a.x, a.w, a.y],
    params: rmsNormParams.pack({ rows: a.rows, n: a.n, eps: a.eps }),
    workgroups: grid1d(a.rows),
  }];
}
