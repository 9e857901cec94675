// Finds causal self-attention written out with einsum and rewrites it to one `attention` op:
//
//   softmax(mask(einsum("ihd,jhd->ihj", Q, expand(K)) * s, causal_mask(seq)), 2)  ->  weights
//   einsum("ihj,jhd->ihd", weights, expand(V))                                    ->  attention(Q, K, V)
//
// and, for one query row (a decode step over K and V the program keeps itself), the same without
// the mask -> attention_kv(Q, K, V). expand() is the grouped-query broadcast reshape(broadcast_to(reshape(K, [seq, kv, 1, d]),
// [seq, kv, g, d]), [seq, kv*g, d]) or nothing. The fused op never builds the (seq, heads, seq)
// scores, reads K and V once per KV head, and is what the kv-cache pass needs.
import type { Graph, IR, Node } from '../ir.ts';
import type { Pass } from './index.ts';
import { removeDeadNodes, throughViews } from './graph-utils.ts';

/** "ihj,jhd->ihd" and "ihd,jhd->ihj" up to renaming of the letters. */
function einsumForm(eq: unknown): 'scores' | 'mix' | undefined {
  const m = String(eq).replace(/\s+/g, '').match(/^(\w)(\w)(\w),(\w)(\w)(\w)->(\w)(\w)(\w)$/);
  if (!m) return undefined;
  const [, a, b, c, d, e, f, g, h, k] = m;
  if (new Set([a, b, c]).size !== 3 || b !== e) return undefined;
  // scores: i h d , j h d -> i h j  (contract the last index)
  if (c === f && d !== a && d !== c && g === a && h === b && k === d) return 'scores';
  // mix: i h j , j h d -> i h d  (contract j)
  if (c === d && f !== a && f !== c && g === a && h === b && k === f) return 'mix';
  return undefined;
}

/** Undoes the grouped-query expansion: the (seq, n_kv_head, head_dim) tensor it started from. */
function unexpand(g: Graph, id: number): Node | undefined {
  const n = g.nodes[id];
  if (n.op === 'reshape' && n.shape.length === 3) {
    const b = g.nodes[n.args[0]];
    if (b.op === 'broadcast_to' && b.shape.length === 4) {
      const r = g.nodes[b.args[0]];
      const src = g.nodes[r.args[0]];
      const [seq, kv, one, d] = r.shape;
      if (r.op === 'reshape' && one === 1 && src.shape.length === 3 && src.shape[0] === seq && src.shape[1] === kv && src.shape[2] === d) {
        if (b.shape[1] === kv && n.shape[1] === (b.shape[1] as number) * (b.shape[2] as number)) return src;
      }
    }
  }
  return n.shape.length === 3 ? n : undefined;
}

function isCausalMask(g: Graph, id: number, seq: unknown): boolean {
  const m = throughViews(g, id);
  return m.op === 'causal_mask' && m.attrs.n === seq;
}

function fuse(g: Graph): Graph {
  let changed = false;
  for (const out of g.nodes) {
    if (out.op !== 'einsum' || einsumForm(out.attrs.eq) !== 'mix') continue;
    const [wId, vxId] = out.args;
    const soft = g.nodes[wId];
    if (soft.op !== 'softmax' || soft.attrs.axis !== 2) continue;
    const masked = g.nodes[soft.args[0]];
    const seq = out.shape[0];
    let scoresId: number | undefined;
    if (masked.op === 'binary' && masked.attrs.fn === 'add') {
      const [m0, m1] = masked.args;
      scoresId = isCausalMask(g, m1, seq) ? m0 : isCausalMask(g, m0, seq) ? m1 : undefined;
    } else if (seq === 1) scoresId = soft.args[0]; // one query row with no mask: it sees every key
    if (scoresId === undefined) continue;
    let scores = g.nodes[scoresId];
    let scale = 1;
    if (scores.op === 'scale' && !scores.attrs.bias) {
      scale = scores.attrs.value as number;
      scores = g.nodes[scores.args[0]];
    }
    if (scores.op !== 'einsum' || einsumForm(scores.attrs.eq) !== 'scores') continue;
    const q = g.nodes[scores.args[0]];
    const k = unexpand(g, scores.args[1]);
    const v = unexpand(g, vxId);
    if (!k || !v || k.shape.join() !== v.shape.join() || q.shape[0] !== seq) continue;
    const [, nHead, headDim] = q.shape as number[];
    const nKv = k.shape[1] as number;
    if (nHead % nKv !== 0 || k.shape[2] !== headDim) continue;
    // K and V of this call's rows (the executor caches them), or all rows so far (a cache the
    // program keeps itself: the query row is the last position).
    if (k.shape[0] === seq && masked !== g.nodes[scoresId]) Object.assign(out, { op: 'attention', args: [q.id, k.id, v.id], attrs: { scale } });
    else if (seq === 1) Object.assign(out, { op: 'attention_kv', args: [q.id, k.id, v.id], attrs: { scale } });
    else continue;
    changed = true;
  }
  return changed ? removeDeadNodes(g) : g;
}

export const fuseAttention: Pass = {
  name: 'fuse-attention',
  run: (ir: IR) => ({ ...ir, graphs: ir.graphs.map(fuse) }),
};
