// Indexing and slicing tensors: `x[a:b]`, `x[:, i]`, `x[-1]`, `x[a:]`, with bounds known at build
// time or only at run time (`seq - 1`).
//
// Every index is an integer (the dim goes away) or a range (the dim stays, end - start long); dims
// past the last index stay whole. Build-time bounds fold into the node; a run-time bound becomes a
// symbolic dim of the graph, bound by the host when the graph runs, and checked there. `x[-1]` on one
// dim is `slice_last`, which the kv-cache pass knows keeps only the last (always new) row.
import type * as A from '../ast.ts';
import type { Dim } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, type Val } from './values.ts';
import { dimOf, tensorOf } from './tensors.ts';

export type SliceIndex = { at: Val } | { start?: Val; end?: Val };

export function sliceTensor(L: Lowerer, x: Val, indices: SliceIndex[], span: A.Span): Val {
  const g = L.graph();
  const node = tensorOf(L, x, span);
  const shape = g.shape(node);
  if (indices.length > shape.length) throw new CompileError(`a tensor of shape [${shape.join(', ')}] takes at most ${shape.length} indices, got ${indices.length}`, span);

  // x[-1] (or x[:, -1]): the last index along one dim.
  const whole = (ix: SliceIndex) => !('at' in ix) && !ix.start && !ix.end;
  const lastAt = indices.findIndex((ix) => 'at' in ix && ix.at.t === 'static' && ix.at.v === -1);
  if (lastAt >= 0 && indices.every((ix, i) => i === lastAt || whole(ix))) {
    return { t: 'tensor', g, node: g.add('slice_last', [node], { axis: lastAt }, span) };
  }

  const starts: Dim[] = [], sizes: Dim[] = [], keep: boolean[] = [];
  shape.forEach((d, axis) => {
    const ix = indices[axis] ?? {};
    const bound = (v: Val | undefined, dflt: Dim): Dim => {
      if (!v) return dflt;
      if (v.t === 'static') {
        if (typeof v.v !== 'number' || !Number.isInteger(v.v)) throw new CompileError(`an index must be a whole number, got ${describe(v)}`, span);
        if (v.v >= 0) return v.v;
        if (typeof d === 'number') return d + v.v;
        return dimOf(L, { t: 'host', e: { k: 'op', op: '+', args: [L.hostExpr(dimVal(g, d), span), { k: 'const', value: v.v }] } }, span);
      }
      return dimOf(L, v, span);
    };
    if ('at' in ix) {
      starts.push(bound(ix.at, 0));
      sizes.push(1);
      keep.push(false);
      return;
    }
    const start = bound(ix.start, 0), end = bound(ix.end, d);
    starts.push(start);
    keep.push(true);
    if (typeof start === 'number' && typeof end === 'number') {
      if (typeof d === 'number' && (start < 0 || end > d || start > end)) throw new CompileError(`the slice ${start}:${end} is out of range for a dimension of size ${d}`, span);
      sizes.push(end - start);
    } else if (start === 0) sizes.push(end);
    else {
      const e = { k: 'op' as const, op: '-', args: [L.hostExpr(dimVal(g, end), span), L.hostExpr(dimVal(g, start), span)] };
      sizes.push(dimOf(L, { t: 'host', e }, span));
    }
  });
  return { t: 'tensor', g, node: g.add('slice', [node], { starts, sizes, keep }, span) };
}

/** A dim as a value the host can compute with. */
function dimVal(g: ReturnType<Lowerer['graph']>, d: Dim): Val {
  if (typeof d === 'number') return stat(d);
  const e = g.dims.get(d);
  if (!e) throw new CompileError(`the size ${d} is not known to the host here`);
  return { t: 'sym', dim: d, e };
}
