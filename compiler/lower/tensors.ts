// Turning values into device-graph nodes: weights, constants, run-time scalars and token lists.
import type * as A from '../ast.ts';
import type { Dim, HostExpr, HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, type Val } from './values.ts';

/** The node for a value in the current graph. */
export function tensorOf(L: Lowerer, v: Val, span: A.Span): number {
  const g = L.graph();
  switch (v.t) {
    case 'tensor': {
      if (v.g === g) return v.node;
      const n = v.g.nodes[v.node];
      if (n.op === 'weight' || n.op === 'const') return g.leaf(`${n.op}:${JSON.stringify(n.attrs)}`, () => g.add(n.op, [], n.attrs, span));
      // Made by another graph (one that ran already, or runs before this one): it stays on the
      // device and comes in as an input, with no recompute.
      return g.tensorInput(deviceExpr(L, v, span), n.shape, n.dtype, v.g.dims, span);
    }
    case 'dev':
      return g.tensorInput(v.e, v.shape, v.dtype, v.dims, span);
    case 'weight':
      return weightNode(L, v.name, span);
    case 'static': {
      if (typeof v.v === 'number' || typeof v.v === 'boolean') return g.leaf(`const:${Number(v.v)}`, () => g.add('const', [], { shape: [], values: [Number(v.v)] }, span));
      if (Array.isArray(v.v)) {
        const { shape, values } = flatten(v.v, span);
        return g.leaf(`const:${JSON.stringify([shape, values])}`, () => g.add('const', [], { shape, values }, span));
      }
      break;
    }
    case 'host': {
      const here = elementHere(g, v.e, span);
      if (here !== undefined) return here;
      const e = L.snapshot(v.e, 'x'); // may run this graph first (the value reads it): the input goes to the next
      return L.graph().input('scalar', e, {}, span);
    }
    case 'sym': {
      g.dims.set(v.dim, v.e);
      return g.input('scalar', v.e, {}, span);
    }
    case 'list': {
      // [a, b, c] of numbers some known only at run time (elements read back): the original's
      // tensor literal, each number put in place on the device.
      const shape: number[] = [];
      const leaves: Val[] = [];
      if (!numberLeaves(v, 0, shape, leaves)) break;
      const { g: here, nodes } = tensorsOf(L, leaves, span);
      const ones = nodes.map((n) => (here.shape(n).length === 1 ? n : here.add('reshape', [n], { shape: [1] }, span)));
      const joined = ones.reduce((a, b) => here.add('concat', [a, b], { axis: 0 }, span));
      return shape.length === 1 ? joined : here.add('reshape', [joined], { shape }, span);
    }
    case 'model':
      if (v.path.length) throw new CompileError(`the model has no tensor named '${v.path.join('.')}'${suggest(L, v.path.join('.'))}`, v.span ?? span);
  }
  throw new CompileError(`${describe(v)} is not a tensor`, span);
}

/**
 * The nodes of several values in one graph, the one current when all are made: a value computed
 * on the host from one read back from the current graph (`t[0] + 1.0`) runs that graph first, so
 * the values made before it come into the next one as inputs.
 */
export function tensorsOf(L: Lowerer, vals: Val[], span: A.Span): { g: ReturnType<Lowerer['graph']>; nodes: number[] } {
  const made: Val[] = vals.map((x) => {
    const node = tensorOf(L, x, span);
    return { t: 'tensor', g: L.graph(), node };
  });
  const g = L.graph();
  return { g, nodes: made.map((x) => tensorOf(L, x, span)) };
}

/**
 * `x[i, j]` of a tensor this graph makes, used by this graph again (`t * t[1]`, `[t[0], t[1]]`): the
 * element on the device, a slice, rather than a value read back (which would need this graph to
 * run before it is built).
 */
function elementHere(g: ReturnType<Lowerer['graph']>, e: HostExpr, span: A.Span): number | undefined {
  if (e.k !== 'out' || e.graph !== g.id || g.emitted) return undefined;
  const o = g.outputs[e.output];
  if (!o || o.keep || o.element < 0) return undefined;
  const shape = g.shape(o.node);
  if (shape.slice(1).some((d) => typeof d !== 'number')) return undefined;
  const rest = shape.slice(1) as number[];
  let flat = o.element;
  const starts = shape.map((_, i) => {
    const stride = rest.slice(i).reduce((p, q) => p * q, 1);
    const k = Math.floor(flat / stride);
    flat -= k * stride;
    return k;
  });
  return g.add('slice', [o.node], { starts, sizes: shape.map(() => 1), keep: shape.map(() => false) }, span);
}

/** The host expression for a tensor as a device value (an output its graph keeps on the device). */
export function deviceExpr(L: Lowerer, v: Val, span: A.Span): HostExpr {
  if (v.t === 'dev') return v.e;
  if (v.t !== 'tensor') {
    const g = L.graph();
    return deviceExpr(L, { t: 'tensor', g, node: tensorOf(L, v, span) }, span);
  }
  return { k: 'out', graph: v.g.id, output: v.g.keep(v.node) };
}

export function weightNode(L: Lowerer, name: string, span: A.Span): number {
  const model = L.opts.model;
  if (!model) throw new CompileError(`the weight ${name} needs a model: load_model(...) and build with --model`, span);
  const info = model.tensors[name];
  if (!info) throw new CompileError(`the model has no tensor named '${name}'${suggest(L, name)}`, span);
  L.weights.set(name, { name, type: info.type, shape: info.shape });
  const g = L.graph();
  const shape = [...info.shape].reverse(); // GGUF lists ne0 (the contiguous dim) first
  return g.leaf(`weight:${name}`, () => g.add('weight', [], { name, shape }, span));
}

/** A token-id list known at run time, as a graph input with a symbolic length. */
export function idsInput(L: Lowerer, v: Val, span: A.Span): number {
  if (v.t === 'static' && Array.isArray(v.v)) {
    const ids = v.v.map(Number);
    const g = L.graph();
    return g.leaf(`ids:${JSON.stringify(ids)}`, () => g.add('const', [], { shape: [ids.length], values: ids, dtype: 'u32' }, span));
  }
  if (v.t === 'static' && typeof v.v === 'number') return idsInput(L, stat([v.v]), span); // one id: one row
  if (v.t === 'tensor' || v.t === 'dev') {
    const node = tensorOf(L, v, span);
    const g = L.graph();
    return g.shape(node).length ? node : g.add('reshape', [node], { shape: [1] }, span); // one id on the device
  }
  if (v.t !== 'host' && v.t !== 'list') throw new CompileError(`expected token ids, got ${describe(v)}`, span);
  // A list like [next] is read by the host; `ids` makes one id a list of one.
  const e = L.snapshot(v.t === 'host' ? { k: 'call', fn: 'ids', args: [v.e] } : L.hostExpr(v, span), 'ids');
  const g = L.graph();
  const key = JSON.stringify(e);
  const existing = g.inputs.find((inp, i) => inp.kind === 'ids' && JSON.stringify(g.inputExprs[i]) === key);
  if (existing) return existing.node;
  // A list written out ([next]) has its length known now; others get a dim of their own in the
  // program (one name per ids input: graphs share device values).
  const dim = v.t === 'list' ? v.items.length : L.fresh('seq');
  if (typeof dim === 'string') g.dims.set(dim, { k: 'call', fn: 'len', args: [e] });
  return g.input('ids', e, { dim }, span);
}

/**
 * A run-time size or position as a symbolic dim of the current graph. The same host expression
 * gives the same dim while no host variable is assigned in between, so `[n, 1, n]` and
 * `causal_mask(n)` agree.
 */
export function dimOf(L: Lowerer, v: Val, span: A.Span): Dim {
  const g = L.graph();
  if (v.t === 'sym') {
    if (!g.dims.has(v.dim)) g.dims.set(v.dim, v.e);
    return v.dim;
  }
  if (v.t !== 'host') throw new CompileError(`an index must be a number, got ${describe(v)}`, span);
  const key = JSON.stringify(v.e);
  const seen = g.sizes.get(key);
  if (seen && seen.sets === L.sets) return seen.dim;
  const name = L.fresh('i');
  g.dims.set(name, L.snapshot(v.e, name));
  g.sizes.set(key, { dim: name, sets: L.sets });
  return name;
}

/** A shape given as a list: build-time numbers (2048 or 2048.0) and sizes like seq. */
export function shapeOf(L: Lowerer, v: Val, span: A.Span): Dim[] {
  const items: Val[] = v.t === 'list' ? v.items : v.t === 'static' && Array.isArray(v.v) ? v.v.map((x) => ({ t: 'static', v: x })) : [];
  if (items.length === 0 && !(v.t === 'static' && Array.isArray(v.v))) throw new CompileError(`expected a shape like [seq, 32, 64], got ${describe(v)}`, span);
  return items.map((it) => {
    if (it.t === 'sym' || it.t === 'host') return dimOf(L, it, span); // a size known per run
    if (it.t === 'static' && typeof it.v === 'number' && Number.isInteger(it.v) && it.v >= -1) return it.v;
    throw new CompileError(`a shape holds whole numbers and sizes, not ${describe(it)}`, span);
  });
}

function flatten(v: HostValue[], span: A.Span): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  for (let x: HostValue = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  const values = (v as unknown[]).flat(shape.length) as HostValue[];
  if (values.some((x) => typeof x !== 'number') || values.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new CompileError('a tensor literal must be a rectangular list of numbers', span);
  }
  return { shape, values: values as number[] };
}

function suggest(L: Lowerer, name: string): string {
  const names = Object.keys(L.opts.model?.tensors ?? {});
  const tail = name.split('.').slice(-2).join('.');
  const near = names.filter((n) => n.endsWith(tail) || n.startsWith(name.split('.').slice(0, 2).join('.') + '.')).slice(0, 4);
  return near.length ? ` (it has ${near.join(', ')}${near.length === 4 ? ', ...' : ''})` : '';
}

/** A list of numbers (nested, rectangular), some perhaps known only at run time: the original's tensor literal. */
export function isNumberList(v: Val): boolean {
  return (v.t === 'list' || (v.t === 'static' && Array.isArray(v.v))) && numberLeaves(v, 0, [], []);
}

/**
 * The numbers of a rectangular nested list (run-time numbers, build-time numbers, one-element
 * tensors), row-major, with its shape; false when it is not one.
 */
function numberLeaves(v: Val, depth: number, shape: number[], out: Val[]): boolean {
  const items: Val[] | undefined = v.t === 'list' ? v.items : v.t === 'static' && Array.isArray(v.v) ? v.v.map((x) => stat(x)) : undefined;
  if (!items) {
    if (depth !== shape.length) return false;
    const scalar = v.t === 'host' || v.t === 'sym' || (v.t === 'static' && typeof v.v === 'number')
      || (v.t === 'tensor' && v.g.shape(v.node).every((d) => d === 1));
    if (scalar) out.push(v);
    return scalar;
  }
  if (depth === shape.length) shape.push(items.length);
  else if (shape[depth] !== items.length) return false;
  return items.length > 0 && items.every((x) => numberLeaves(x, depth + 1, shape, out));
}
