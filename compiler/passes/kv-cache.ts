// Marks graphs that can run incrementally: when the token list only grew since the last call,
// the executor runs the graph on the new rows alone (seq := new rows, positions from pos0) and
// attention reads keys and values of earlier rows from a cache.
//
// That is exact when every op that touches the sequence dim is row-wise (row r of the output
// depends on row r of its inputs: embedding, norms, linear, rope, elementwise ops, views that keep
// the leading dim), causal attention, or slice_last over the sequence (it wants the last row,
// which is always new). The executor checks the token prefix at run time and starts over when it
// differs, so this pass only has to prove the graph's structure.
import type { Graph, IR, Node } from '../ir.ts';
import { OPS } from '../ops.ts';
import type { Pass } from './index.ts';

function incremental(g: Graph): Graph['incremental'] {
  const ids = g.inputs.filter((i) => i.kind === 'ids');
  if (ids.length !== 1) return undefined;
  const seq = g.nodes[ids[0].node].shape[0];
  if (typeof seq !== 'string') return undefined;
  const hasSeq = (n: Node) => n.shape.includes(seq);
  if (!g.nodes.some((n) => n.op === 'attention')) return undefined; // nothing to cache
  for (const n of g.nodes) {
    const args = n.args.map((a) => g.nodes[a]);
    const seqArgs = args.filter(hasSeq);
    if (!hasSeq(n) && seqArgs.length === 0) continue;
    // slice_last over the sequence: its output no longer has the dim.
    if (n.op === 'slice_last' && n.attrs.axis === 0 && args[0].shape[0] === seq && !hasSeq(n)) continue;
    if (!hasSeq(n)) return undefined; // anything else that reduces over the sequence
    // The sequence is the leading dim, once, in the output and in every argument that has it.
    if (n.shape[0] !== seq || n.shape.lastIndexOf(seq) !== 0) return undefined;
    if (seqArgs.some((a) => a.shape[0] !== seq || a.shape.lastIndexOf(seq) !== 0)) return undefined;
    if (n.op === 'attention' || n.op === 'ids') continue;
    if (!OPS[n.op]?.rowwise) return undefined;
    // Broadcasting a non-sequence argument over rows is fine only if it has no rows of its own.
    if (n.op === 'binary' || n.op === 'swiglu') {
      const other = args.find((a) => !hasSeq(a));
      if (other && other.shape.length >= n.shape.length && other.shape[0] !== 1) return undefined;
    }
  }
  // Values read back must not be rows of the sequence (only the new rows exist after a step).
  if (g.outputs.some((o) => hasSeq(g.nodes[o.node]))) return undefined;
  return { seqDim: seq, idsInput: g.inputs.indexOf(ids[0]) };
}

export const kvCache: Pass = {
  name: 'kv-cache',
  run: (ir: IR) => ({
    ...ir,
    graphs: ir.graphs.map((g) => {
      const inc = incremental(g);
      return inc ? { ...g, incremental: inc } : g;
    }),
  }),
};
