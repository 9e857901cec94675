// linear(x, Wg) and linear(x, Wu) feeding only swiglu -> one linear with a swiglu epilogue;
// add(r, linear(x, W)) where the linear feeds only the add -> one linear with an add epilogue.
// Each saves a dispatch and a trip of the activations through memory; the swiglu pair also reads
// x once for both weights. The sums are the same (the shader compiler may round the last step
// differently: an ulp).
import type { Graph, IR, Node } from '../ir.ts';
import type { Pass } from './index.ts';
import { removeDeadNodes, useCounts } from './graph-utils.ts';

function fuse(g: Graph, weightType: Map<string, string>): Graph {
  const uses = useCounts(g);
  const plain = (id: number): Node | undefined => {
    const n = g.nodes[id];
    // a weight-backed linear with no epilogue yet, used by nothing else
    return n.op === 'linear' && n.args.length === 2 && g.nodes[n.args[1]].op === 'weight' && uses[id] === 1 ? n : undefined;
  };
  const sameShape = (a: Node, b: Node) => a.shape.join() === b.shape.join();
  for (const n of g.nodes) {
    if (n.op === 'swiglu') {
      const [gate, up] = n.args.map(plain);
      if (!gate || !up || gate.args[0] !== up.args[0] || !sameShape(gate, n) || !sameShape(up, n)) continue;
      const [wg, wu] = [gate, up].map((l) => g.nodes[l.args[1]]);
      const same = wg.shape.join() === wu.shape.join() && weightType.get(wg.attrs.name as string) === weightType.get(wu.attrs.name as string);
      if (!same) continue;
      Object.assign(n, { op: 'linear', args: [gate.args[0], wg.id, wu.id], attrs: { epilogue: 'swiglu' } });
    } else if (n.op === 'binary' && n.attrs.fn === 'add') {
      const side = n.args.findIndex((a) => plain(a) && sameShape(g.nodes[a], n));
      if (side < 0) continue;
      const lin = g.nodes[n.args[side]], r = g.nodes[n.args[1 - side]];
      if (!sameShape(r, n) || r.dtype !== 'f32') continue; // a broadcast residual stays an add
      Object.assign(n, { op: 'linear', args: [lin.args[0], lin.args[1], r.id], attrs: { epilogue: 'add' } });
    }
  }
  return removeDeadNodes(g);
}

export const fuseLinear: Pass = {
  name: 'fuse-linear',
  run: (ir: IR) => {
    const types = new Map(ir.weights.map((w) => [w.name, w.type]));
    return { ...ir, graphs: ir.graphs.map((g) => fuse(g, types)) };
  },
};
