// The original's fused network builtins, as compositions of tlc's own ops (which the passes then
// fuse and the kernels run like any other code).
import type * as A from '../ast.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, stat, type Val } from './values.ts';
import { b, constant, node, num, type Builtin, type Lower } from './builtin-kit.ts';
import { tensorOf } from './tensors.ts';
import { binary } from './operators.ts';
import { shapeVals } from './builtins.ts';

const list = (items: Val[]): Val => ({ t: 'list', items });

/**
 * attention_with_cache(q, k_cache, v_cache, w_o), as the original computes it (builtin_nn.rs):
 * q (seq, n_embd) is split into 32 heads (hard-wired there, for TinyLlama) only to be rotated at
 * positions cache - seq ..; K and V (cache, k_embd) are widened to n_embd by repeating each value
 * n_embd / k_embd times; then one attention over the whole width, scaled by 1/sqrt(n_embd / 32),
 * causal when seq > 1 (which needs cache == seq), and the output projected by w_o (out @ w_o^T).
 */
const attentionWithCache = (L: Lowerer, [q, k, v, wo]: Val[], span: A.Span): Val => {
  const call = (name: string, ...args: Val[]) => L.call(name, args, span);
  const [seq, nEmbd] = shapeVals(L, q, span);
  const [cache, kEmbd] = shapeVals(L, k, span);
  if (nEmbd.t !== 'static' || kEmbd.t !== 'static' || typeof nEmbd.v !== 'number' || typeof kEmbd.v !== 'number') {
    throw new CompileError('attention_with_cache: the widths of q and k must be known at build time', span);
  }
  const [width, kWidth] = [nEmbd.v, kEmbd.v];
  const headDim = width / 32;
  if (!Number.isInteger(headDim) || width % kWidth !== 0) {
    throw new CompileError(`attention_with_cache: q's width ${width} must split into 32 heads and be a multiple of k's ${kWidth}`, span);
  }
  const rep = width / kWidth;
  const pos = seq === cache ? stat(0) : binary(L, '-', cache, seq, span);
  const heads = call('reshape', q, list([seq, stat(32), stat(headDim)]));
  // The original rotates each head's every pair, whatever the model's n_rot.
  const rotated = call('rope', heads, pos);
  if (rotated.t === 'tensor') rotated.g.nodes[rotated.node].attrs.n_rot = headDim;
  const qr = call('reshape', rotated, list([seq, stat(width)]));
  const widen = (t: Val) => rep === 1 ? t
    : call('reshape', call('broadcast_to', call('reshape', t, list([cache, stat(kWidth), stat(1)])), list([cache, stat(kWidth), stat(rep)])), list([cache, stat(width)]));
  let scores = binary(L, '/', call('einsum', stat('ik,jk->ij'), qr, widen(k)), stat(Math.sqrt(headDim)), span);
  if (!(seq.t === 'static' && seq.v === 1)) scores = call('apply_attention_mask', scores, call('causal_mask', seq));
  const out = call('einsum', stat('ij,jk->ik'), call('softmax', scores), widen(v));
  return call('linear', out, wo);
};

/**
 * padding_mask(lengths, max_len): (batch, max_len), 1 where the position is below the length
 * (truncated to a whole number, as the original's `as usize`), 0 past it; batch is the number of
 * lengths. On the device: position p is kept when p + 1 <= length, i.e. 1 - step((p + 1) - length).
 */
const paddingMask: Lower = (L, [lengths, maxLen], span) => {
  const max = Math.trunc(num(maxLen, 'padding_mask: max_len', span));
  if (max < 1) throw new CompileError(`padding_mask: max_len must be at least 1, got ${max}`, span);
  const g = L.graph();
  const n = tensorOf(L, lengths, span);
  const shape = g.shape(n);
  let batch = shape.length === 1 ? shape[0] : undefined;
  if (batch === undefined && shape.every((d): d is number => typeof d === 'number')) batch = shape.reduce((p, q) => p * q, 1);
  if (batch === undefined) throw new CompileError(`padding_mask: the lengths [${shape.join(', ')}] must be a 1-D tensor or of sizes known at build time`, span);
  const column = g.add('reshape', [n], { shape: [batch, 1] }, span);
  const next = tensorOf(L, constant(L, [max], Array.from({ length: max }, (_, p) => p + 1), span), span); // p + 1
  const past = g.add('unary', [g.add('binary', [next, column], { fn: 'sub' }, span)], { fn: 'step' }, span);
  return node(L, 'scale', [past], { value: -1, bias: 1 }, span);
};

export const NN_BUILTINS: Record<string, Builtin> = {
  attention_with_cache: b(4, 4, attentionWithCache),
  padding_mask: b(2, 2, paddingMask),
  // combine_masks(a, b): the positions both keep, a * b (elementwise, as the original).
  combine_masks: b(2, 2, (L, [a, c], span) => binary(L, '*', a, c, span)),
};
