// x * sigmoid(x) -> silu(x);  silu(g) * u -> swiglu(g, u): one kernel instead of two or three.
import type { Graph, IR } from '../ir.ts';
import type { Pass } from './index.ts';
import { removeDeadNodes } from './graph-utils.ts';

function fuse(g: Graph): Graph {
  for (const n of g.nodes) {
    if (n.op !== 'binary' || n.attrs.fn !== 'mul') continue;
    const [a, b] = n.args.map((i) => g.nodes[i]);
    const isSigmoidOf = (s: typeof a, x: number) => s.op === 'unary' && s.attrs.fn === 'sigmoid' && s.args[0] === x;
    if (isSigmoidOf(b, a.id) || isSigmoidOf(a, b.id)) {
      const x = isSigmoidOf(b, a.id) ? a.id : b.id;
      Object.assign(n, { op: 'unary', args: [x], attrs: { fn: 'silu' } });
    }
  }
  for (const n of g.nodes) {
    if (n.op !== 'binary' || n.attrs.fn !== 'mul') continue;
    const [a, b] = n.args.map((i) => g.nodes[i]);
    const silu = (s: typeof a) => s.op === 'unary' && s.attrs.fn === 'silu';
    const same = (x: typeof a, y: typeof a) => x.shape.join() === y.shape.join();
    if (silu(a) && same(g.nodes[a.args[0]], b)) Object.assign(n, { op: 'swiglu', args: [a.args[0], b.id], attrs: {} });
    else if (silu(b) && same(g.nodes[b.args[0]], a)) Object.assign(n, { op: 'swiglu', args: [b.args[0], a.id], attrs: {} });
  }
  return removeDeadNodes(g);
}

export const fuseElementwise: Pass = {
  name: 'fuse-elementwise',
  run: (ir: IR) => ({ ...ir, graphs: ir.graphs.map(fuse) }),
};
