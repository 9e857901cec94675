// Small helpers shared by the graph passes.
import type { Graph, Node } from '../ir.ts';

/** Follows reshape/broadcast_to views back to the node that holds the data. */
export function throughViews(g: Graph, id: number): Node {
  let n = g.nodes[id];
  while (n.op === 'reshape' || n.op === 'broadcast_to') n = g.nodes[n.args[0]];
  return n;
}

/** How many nodes use each node (outputs count as uses). */
export function useCounts(g: Graph): number[] {
  const uses = new Array<number>(g.nodes.length).fill(0);
  for (const n of g.nodes) for (const a of n.args) uses[a]++;
  for (const o of g.outputs) uses[o.node]++;
  return uses;
}

/** Drops nodes that no output needs (inputs stay: the host binds them) and renumbers the rest. */
export function removeDeadNodes(g: Graph): Graph {
  const live = new Array<boolean>(g.nodes.length).fill(false);
  // An explicit stack, not recursion: an unrolled loop makes chains thousands of nodes long.
  const stack = [...g.outputs.map((o) => o.node), ...g.inputs.map((i) => i.node)];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (live[id]) continue;
    live[id] = true;
    for (const a of g.nodes[id].args) if (!live[a]) stack.push(a);
  }
  const newId = new Array<number>(g.nodes.length).fill(-1);
  const nodes: Node[] = [];
  g.nodes.forEach((n, i) => {
    if (!live[i]) return;
    newId[i] = nodes.length;
    nodes.push({ ...n, id: nodes.length, args: n.args.map((a) => newId[a]) });
  });
  return {
    ...g,
    nodes,
    inputs: g.inputs.map((i) => ({ ...i, node: newId[i.node] })),
    outputs: g.outputs.map((o) => ({ ...o, node: newId[o.node] })),
  };
}
