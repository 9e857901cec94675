import type { Dispatch } from '../kernels.ts';
import { attentionKernel, attentionParams, attentionSlots } from '../../shaders/attention.ts';
import { kvWriteKernel, kvWriteParams } from '../../shaders/kv_write.ts';
import { grid1d } from '../../shaders/common.ts';
import { type Buf, check } from './common.ts';

export interface AttentionArgs {
  q: Buf;            // (seq, nHead, headDim)
  k: Buf;            // cache (ctx, nKvHead, headDim), rows 0..pos0+seq-1 valid
  v: Buf;            // cache (ctx, nKvHead, headDim)
  out: Buf;          // (seq, nHead, headDim)
  seq: number;
  pos0: number;      // position of query row 0
  nHead: number;
  nKvHead: number;
  headDim: number;
  scale?: number;    // default 1/sqrt(headDim)
  kOffset?: number;  // element offset of the layer's cache in k (e.g. layer * ctx * nKvHead * headDim)
  vOffset?: number;
  /** Round q and the softmax weights to f16 as llama.cpp's CPU attention does (with roundF16 K/V from kvWrite). */
  llamaCppF16?: boolean;
}

/** Causal GQA attention: query row i (position pos0 + i) attends keys 0..pos0+i; head h uses kv head h / (nHead / nKvHead). */
export function attention(a: AttentionArgs): Dispatch[] {
  check(a.nHead % a.nKvHead === 0, 'attention', `n_head ${a.nHead} is not a multiple of n_kv_head ${a.nKvHead}`);
  check(a.seq <= 65535 && a.nHead <= 65535, 'attention', `seq ${a.seq} or n_head ${a.nHead} above 65535`);
  if (a.seq === 0) return [];
  return [{
    kernel: attentionKernel({ nHead: a.nHead, nKvHead: a.nKvHead, headDim: a.headDim, llamaCppF16: a.llamaCppF16 ?? false, slots: attentionSlots(a.pos0 + a.seq) }),
    bindings: [a.q, a.k, a.v, a.out],
    params: attentionParams.pack({
      head_dim: a.headDim, seq: a.seq, pos0: a.pos0, k_off: a.kOffset ?? 0, v_off: a.vOffset ?? 0, scale: a.scale ?? 1 / Math.sqrt(a.headDim),
    }),
    workgroups: [a.nHead, a.seq],
  }];
}

export interface KvWriteArgs {
  src: Buf;          // (seq, nKvHead, headDim)
  cache: Buf;        // (ctx, nKvHead, headDim) from cacheOffset
  seq: number;
  pos0: number;      // first cache row written
  nKvHead: number;
  headDim: number;
  cacheOffset?: number; // element offset of the layer's cache
  roundF16?: boolean;   // store f16-rounded values, as llama.cpp's default f16 KV cache holds
}

/** cache rows pos0..pos0+seq-1 = src. */
export function kvWrite(a: KvWriteArgs): Dispatch[] {
  const row = a.nKvHead * a.headDim, count = a.seq * row;
  if (count === 0) return [];
  return [{
    kernel: kvWriteKernel(a.roundF16 ?? false),
    bindings: [a.src, a.cache],
    params: kvWriteParams.pack({ count, dst_off: (a.cacheOffset ?? 0) + a.pos0 * row }),
    workgroups: grid1d(Math.ceil(count / 64)),
  }];
}
