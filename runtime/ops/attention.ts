import type { Dispatch } from '../kernels.ts';
import { attentionKernel, attentionParams, attentionSlots } from '../../shaders/attention.ts';
import { attentionF16Kernel } from '../../shaders/attention_f16.ts';
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
  /** K and V hold f16 pairs (kvWrite's packF16; with llamaCppF16, head_dim a multiple of 8). */
  kvF16?: boolean;
  /**
   * Most keys a call will see (the cache's capacity): the kernel is specialized for it, so one
   * kernel serves every position (none compiles in the middle of a generation). Default pos0 + seq.
   */
  maxKeys?: number;
}

/** Whether a cache for this head dim can hold packed f16 (what the attention kernel reads as vec4<u32>). */
export function kvF16Fits(headDim: number): boolean {
  return headDim % 8 === 0 && headDim <= 256;
}

/** Causal GQA attention: query row i (position pos0 + i) attends keys 0..pos0+i; head h uses kv head h / (nHead / nKvHead). */
export function attention(a: AttentionArgs): Dispatch[] {
  check(a.nHead % a.nKvHead === 0, 'attention', `n_head ${a.nHead} is not a multiple of n_kv_head ${a.nKvHead}`);
  check(a.seq <= 65535 && a.nHead <= 65535, 'attention', `seq ${a.seq} or n_head ${a.nHead} above 65535`);
  if (a.seq === 0) return [];
  check(a.maxKeys === undefined || a.maxKeys >= a.pos0 + a.seq, 'attention', `${a.pos0 + a.seq} keys, more than maxKeys ${a.maxKeys}`);
  const slots = attentionSlots(a.maxKeys ?? a.pos0 + a.seq);
  // Head dims that are a multiple of 4 (all llama models) take the vec4 kernel; its offsets are in vec4s.
  const vec4 = (a.llamaCppF16 ?? false) && a.headDim % 4 === 0 && a.headDim <= 256;
  check(!a.kvF16 || (vec4 && kvF16Fits(a.headDim)), 'attention', `an f16 KV cache needs llama.cpp rounding and head_dim a multiple of 8, got ${a.headDim}`);
  return [{
    kernel: vec4
      ? attentionF16Kernel({ nHead: a.nHead, nKvHead: a.nKvHead, headDim: a.headDim, slots, packed: a.kvF16 ?? false })
      : attentionKernel({ nHead: a.nHead, nKvHead: a.nKvHead, headDim: a.headDim, llamaCppF16: a.llamaCppF16 ?? false, slots }),
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
  packF16?: boolean;    // store them as f16 pairs in u32s (the cache is then half the size; head_dim even)
}

/** cache rows pos0..pos0+seq-1 = src. */
export function kvWrite(a: KvWriteArgs): Dispatch[] {
  const row = a.nKvHead * a.headDim, count = a.seq * row;
  if (count === 0) return [];
  check(!a.packF16 || a.headDim % 2 === 0, 'kv_write', `f16 pairs need an even head_dim, got ${a.headDim}`);
  return [{
    kernel: kvWriteKernel(a.packF16 ? 'packF16' : a.roundF16 ?? false),
    bindings: [a.src, a.cache],
    params: kvWriteParams.pack({ count, dst_off: (a.cacheOffset ?? 0) + a.pos0 * row }),
    workgroups: grid1d(Math.ceil((a.packF16 ? count / 2 : count) / 64)),
  }];
}
