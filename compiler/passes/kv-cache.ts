// Marks graphs that can run incrementally: when the sequence only grew since the last call, the
// executor runs the graph on the new rows alone (seq := new rows, positions from pos0); attention
// reads keys and values of earlier rows from a cache, and outputs whose leading dim is the sequence
// keep their earlier rows in a row cache (so a later graph, or the host, can still read them).
//
// That is exact when every op that touches the sequence dim is row-wise (row r of the output
// depends on row r of its inputs: embedding, norms, linear, rope, elementwise ops, views that keep
// the leading dim), causal attention, or slice_last over the sequence (it wants the last row,
// which is always new). The executor compares the token ids behind the rows with the last call's
// at run time and starts over where they differ, so this pass only has to prove the structure.
//
// A graph's row sources are its ids inputs and its tensor inputs whose leading dim is the sequence
// (device values from an earlier graph: a program split by a read-back in the middle). Graphs that
// pass one another such rows form a group, and a group runs incrementally when one of its graphs
// has attention: then every part of a split forward pass keeps its cache.
import type { Graph, HostExpr, IR, Node } from '../ir.ts';
import { OPS } from '../ops.ts';
import type { Pass } from './index.ts';
import { forEachStmt } from '../ir-walk.ts';

function rowwise(g: Graph): NonNullable<Graph['incremental']> | undefined {
  // Each input's leading dim when it is symbolic (a scalar input has no dims).
  const sourceOf = g.inputs.map((inp) => {
    const lead = g.nodes[inp.node].shape[0];
    return typeof lead === 'string' ? lead : undefined;
  });
  const seqs = new Set(sourceOf.filter((s) => s !== undefined));
  if (seqs.size !== 1) return undefined;
  const seq = [...seqs][0]!;
  const hasSeq = (n: Node) => n.shape.includes(seq);
  // Nodes come after their arguments, so an argument with the sequence has passed these checks:
  // the sequence is its leading dim, once. That holds for the outputs too (they are nodes).
  for (const n of g.nodes) {
    const args = n.args.map((a) => g.nodes[a]);
    if (!hasSeq(n) && !args.some(hasSeq)) continue;
    // slice_last that drops the sequence (then its argument's leading dim): the last row, always new.
    if (n.op === 'slice_last' && !hasSeq(n)) continue;
    // The sequence is the leading dim, once; anything else that reduces over it or moves it is out.
    if (n.shape.lastIndexOf(seq) !== 0) return undefined;
    if (n.op === 'attention') continue; // causal: row r reads rows <= r, the new ones or the cache
    if (!OPS[n.op]?.rowwise) return undefined;
    // Broadcasting a non-sequence argument over rows is fine only if it has no rows of its own.
    if (n.op === 'binary' || n.op === 'swiglu') {
      const other = args.find((a) => !hasSeq(a));
      if (other && other.shape.length >= n.shape.length && other.shape[0] !== 1) return undefined;
    }
  }
  return { seqDim: seq, sources: sourceOf.flatMap((s, i) => (s === seq ? [i] : [])) };
}

/** The graph a tensor input's rows come from, when its host expression names one directly. */
function producer(e: HostExpr | undefined): number | undefined {
  return e?.k === 'out' ? e.graph : undefined;
}

function markIncremental(ir: IR, inputsOf: (g: Graph) => HostExpr[]): IR {
  const found = new Map(ir.graphs.map((g) => [g.id, rowwise(g)]));
  // Union-find over graphs that pass rows to one another.
  const parent = new Map(ir.graphs.map((g) => [g.id, g.id]));
  const root = (id: number): number => (parent.get(id) === id ? id : root(parent.get(id)!));
  for (const g of ir.graphs) {
    const inc = found.get(g.id);
    if (!inc) continue;
    const exprs = inputsOf(g);
    for (const i of inc.sources) {
      const p = producer(exprs[i]); // none when no run statement binds the graph
      if (p !== undefined && found.get(p)) parent.set(root(g.id), root(p));
    }
  }
  const withAttention = new Set(ir.graphs.filter((g) => found.get(g.id) && g.nodes.some((n) => n.op === 'attention')).map((g) => root(g.id)));
  return {
    ...ir,
    graphs: ir.graphs.map((g) => {
      const inc = found.get(g.id);
      return inc && withAttention.has(root(g.id)) ? { ...g, incremental: inc } : g;
    }),
  };
}

/** The host expressions each graph's inputs are bound to, from its `run` statements. */
function runInputs(ir: IR): Map<number, HostExpr[]> {
  const out = new Map<number, HostExpr[]>();
  forEachStmt(ir.host, (s) => s.k === 'run' && out.set(s.graph, s.inputs));
  return out;
}

export const kvCache: Pass = {
  name: 'kv-cache',
  run: (ir: IR) => {
    const inputs = runInputs(ir);
    return markIncremental(ir, (g) => inputs.get(g.id) ?? []);
  },
};
