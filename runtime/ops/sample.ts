// Choosing the next token on the GPU: greedy argmax, or sampling with temperature, top-k, top-p.
import type { Dispatch } from '../kernels.ts';
import { argmaxKernel, argmaxParams } from '../../shaders/argmax.ts';
import { sampleKernel, sampleParams } from '../../shaders/sample.ts';
import { type Buf, check } from './common.ts';

export interface ArgmaxArgs {
  logits: Buf;       // (n) from element `offset`
  out: Buf;          // u32 buffer; the token id goes to element `outIndex`
  n: number;
  offset?: number;   // e.g. (seq - 1) * n for the last row of (seq, n) logits
  outIndex?: number;
}

/** out[outIndex] = index of the largest logit, ties to the lowest index. */
export function argmax(a: ArgmaxArgs): Dispatch[] {
  check(a.n > 0, 'argmax', 'no logits');
  return [{
    kernel: argmaxKernel(),
    bindings: [a.logits, a.out],
    params: argmaxParams.pack({ n: a.n, x_off: a.offset ?? 0, out_index: a.outIndex ?? 0 }),
    workgroups: [1],
  }];
}

export interface SampleArgs extends ArgmaxArgs {
  temperature: number; // <= 0: argmax
  topK?: number;       // keep the k largest logits (ties at the k-th all kept); 0 or >= n: all
  topP?: number;       // then the fewest top tokens holding this probability mass; >= 1: all
  u: number;           // uniform in [0, 1), e.g. rng.next() from runtime/rng.ts
}

/**
 * out[outIndex] = a token drawn from softmax(logits / temperature) restricted to top-k, then top-p,
 * by the uniform number u (see shaders/sample.ts). Same u, same token.
 */
export function sample(a: SampleArgs): Dispatch[] {
  if (a.temperature <= 0) return argmax(a);
  check(a.n > 0, 'sample', 'no logits');
  check(a.u >= 0 && a.u < 1, 'sample', `u ${a.u} is not in [0, 1)`);
  const topK = a.topK ?? 0;
  check(Number.isInteger(topK) && topK >= 0, 'sample', `top_k ${topK} must be a non-negative integer`);
  return [{
    kernel: sampleKernel(),
    bindings: [a.logits, a.out],
    params: sampleParams.pack({
      n: a.n, x_off: a.offset ?? 0, out_index: a.outIndex ?? 0, top_k: topK,
      inv_temp: Math.fround(1 / a.temperature), top_p: a.topP ?? 1, u: a.u,
    }),
    workgroups: [1],
  }];
}
