// Attention masks, llama-style and additive: 0 where attending is allowed, -inf where not, added to
// the scores before softmax (exp(-inf) = 0). Every row keeps its diagonal, so no row is all -inf.
import type { Dispatch } from '../kernels.ts';
import { causalMaskKernel, causalMaskParams } from '../../shaders/causal_mask.ts';
import { grid1d } from '../../shaders/common.ts';
import { binary } from './elementwise.ts';
import type { Buf } from './common.ts';

/** mask (rows, cols): 0 where j <= pos0 + i, else -inf. For a prefill after pos0 cached rows, cols = pos0 + rows. */
export function causalMask(a: { mask: Buf; rows: number; cols?: number; pos0?: number }): Dispatch[] {
  const cols = a.cols ?? (a.pos0 ?? 0) + a.rows;
  if (a.rows * cols === 0) return [];
  return [{
    kernel: causalMaskKernel(),
    bindings: [a.mask],
    params: causalMaskParams.pack({ rows: a.rows, cols, pos0: a.pos0 ?? 0 }),
    workgroups: grid1d(Math.ceil((a.rows * cols) / 64)),
  }];
}

/** out = scores + mask, broadcasting mask (e.g. (seq, kv) over (heads, seq, kv)); out may be scores. */
export function applyAttentionMask(a: { scores: Buf; scoresShape: number[]; mask: Buf; maskShape: number[]; out: Buf }): Dispatch[] {
  return binary('add', { a: a.scores, aShape: a.scoresShape, b: a.mask, bShape: a.maskShape, out: a.out });
}
