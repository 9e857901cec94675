// Every device-graph op: its arguments, attributes and shape rule. Kernels for them live in
// shaders/ (WGSL) and runtime/ops/ (dispatch); compiler/codegen maps one to the other.
import type { Dim, DType } from './ir.ts';
import { addDims, broadcastShapes, elementCount, sameCount, sameShape, showShape, ShapeError } from './shapes.ts';

type Attrs = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface OpDef {
  /** Output shape from argument shapes; throws ShapeError with a message for the user. */
  shape(args: Dim[][], attrs: Attrs): Dim[];
  dtype?: DType; // default f32
  /** Row-wise: output row r depends only on input rows r (leading dim), so it can run on new rows alone. */
  rowwise?: boolean;
}

const same = (a: Dim[][]) => a[0];
const last = <T>(xs: T[]) => xs[xs.length - 1];

export const OPS: Record<string, OpDef> = {
  // Leaves
  ids: { shape: (_, a) => [a.dim], dtype: 'u32', rowwise: true },
  scalar: { shape: () => [] },
  weight: { shape: (_, a) => a.shape },
  tensor: { shape: (_, a) => a.shape, rowwise: true }, // a device value from an earlier graph run; attrs.dtype
  const: { shape: (_, a) => a.shape },

  // llama building blocks
  embedding: {
    rowwise: true,
    shape: ([table, ids]) => {
      if (table.length !== 2) throw new ShapeError(`embedding table must be 2-D, got ${showShape(table)}`);
      return [...ids, table[1]];
    },
  },
  rms_norm: {
    rowwise: true,
    shape: ([x, w]) => {
      if (w.length !== 1 || last(x) !== w[0]) throw new ShapeError(`rms_norm: weight ${showShape(w)} does not match the last dim of ${showShape(x)}`);
      return x;
    },
  },
  linear: {
    // args: x, W; with attrs.epilogue 'add' also r (added: the residual), 'swiglu' also W2 (the up
    // projection: silu(x W^T) * (x W2^T)); see passes/fuse-linear.ts
    rowwise: true,
    shape: ([x, w, third], a) => {
      if (w.length !== 2) throw new ShapeError(`linear: weight must be 2-D, got ${showShape(w)}`);
      if (last(x) !== w[1]) throw new ShapeError(`linear: input ${showShape(x)} has ${last(x)} features but the weight ${showShape(w)} expects ${w[1]}`);
      const out = [...x.slice(0, -1), w[0]];
      if (a.epilogue === 'swiglu' && !sameShape(third, w)) throw new ShapeError(`linear: the up weight ${showShape(third)} differs from the gate's ${showShape(w)}`);
      if (a.epilogue === 'add' && !sameShape(third, out)) throw new ShapeError(`linear: the residual ${showShape(third)} differs from the output ${showShape(out)}`);
      return out;
    },
  },
  rope: {
    rowwise: true, // row r is rotated by position pos0 + r
    shape: ([x]) => {
      if (x.length !== 3) throw new ShapeError(`rope expects (seq, heads, head_dim), got ${showShape(x)}`);
      return x;
    },
  },
  attention: {
    // (seq, n_head, head_dim) x (seq, n_kv_head, head_dim) x2 -> (seq, n_head, head_dim), causal
    shape: ([q, k, v]) => {
      if (q.length !== 3 || !sameShape(k, v) || k[0] !== q[0] || k[2] !== q[2]) throw new ShapeError(`attention: q ${showShape(q)}, k ${showShape(k)}, v ${showShape(v)} do not fit`);
      return q;
    },
  },

  attention_kv: {
    // (1, n_head, head_dim) x (n, n_kv_head, head_dim) x2 -> (1, n_head, head_dim): the last position attends to all n
    shape: ([q, k, v]) => {
      if (q.length !== 3 || q[0] !== 1 || !sameShape(k, v) || k[2] !== q[2]) throw new ShapeError(`attention_kv: q ${showShape(q)}, k ${showShape(k)}, v ${showShape(v)} do not fit`);
      return q;
    },
  },

  // Views (no kernel unless a consumer needs contiguous data)
  reshape: {
    rowwise: true, // only when the leading dim is kept; the kv-cache pass checks that
    shape: ([x], a) => {
      // Sizes known only at run time may still match (checked when the graph runs).
      if (!sameCount(x, a.shape) && !mayMatch(x, a.shape)) throw new ShapeError(`cannot reshape ${showShape(x)} to ${showShape(a.shape)}`);
      return a.shape;
    },
  },
  broadcast_to: {
    rowwise: true,
    shape: ([x], a) => {
      const out = broadcastShapes(x, a.shape);
      if (!sameShape(out, a.shape)) throw new ShapeError(`cannot broadcast ${showShape(x)} to ${showShape(a.shape)}`);
      return a.shape;
    },
  },
  transpose: {
    shape: ([x], a) => (a.perm as number[]).map((p) => x[p]),
  },
  concat: {
    // along attrs.axis (0: rows appended, written in place when the first operand ends its buffer)
    shape: ([a, b], at) => {
      const k = at.axis as number;
      if (a.length !== b.length || a.some((d, i) => i !== k && d !== b[i])) throw new ShapeError(`concat: ${showShape(a)} and ${showShape(b)} differ in more than dim ${k}`);
      return a.map((d, i) => (i === k ? addDims(d, b[k]) : d));
    },
  },
  slice: {
    // attrs.starts / sizes per dim (numbers or dims bound per call); dims with keep false go away
    shape: (_, a) => (a.sizes as Dim[]).filter((_d, i) => a.keep[i]),
  },
  slice_last: {
    // the last index along `axis`, which is removed
    shape: ([x], a) => x.filter((_, i) => i !== a.axis),
  },

  // Math
  einsum: { shape: (args, a) => einsumShape(a.eq, args) },
  unary: { rowwise: true, shape: same }, // attrs.fn: silu sigmoid exp neg relu gelu tanh sqrt log
  binary: { rowwise: true, shape: ([a, b]) => broadcastShapes(a, b) }, // attrs.fn: add sub mul div max min
  scale: { rowwise: true, shape: same }, // x * attrs.value (+ attrs.bias)
  swiglu: { rowwise: true, shape: ([g, u]) => broadcastShapes(g, u) },
  softmax: {
    shape: ([x], a) => {
      if (a.axis < 0 || a.axis >= x.length) throw new ShapeError(`softmax: axis ${a.axis} is out of range for ${showShape(x)}`);
      return x;
    },
  },
  causal_mask: { shape: (_, a) => [a.n, a.n] },
  // along attrs.dim; the index (f32, rounded, or u32) has x's shape except at dim (the original's
  // rule), or is 1-D: positions of whole slices along dim
  gather: { shape: ([x, index], a) => gatherShape('gather', x, index, a.dim) },
  scatter: {
    shape: ([x, index, src], a) => {
      const want = gatherShape('scatter', x, index, a.dim);
      if (!sameShape(want, src)) throw new ShapeError(`scatter: src ${showShape(src)} should be ${showShape(want)} for the index ${showShape(index)}`);
      return x;
    },
  },
  reduce: { shape: ([x], a) => (a.axis === undefined ? [] : x.filter((_, i) => i !== a.axis)) }, // attrs.fn: sum mean max min

  // Logic programming: relations as 0/1 f32 tensors (a fact is an entry > 0); see runtime/ops/logic.ts
  indicator: {
    // args: offsets (u32, 1-D); attrs.shape -> 1 at each flat (row-major) offset, 0 elsewhere; offsets past the end ignored
    shape: ([offsets], a) => {
      if (offsets?.length !== 1) throw new ShapeError(`indicator: the offsets must be a 1-D list, got ${offsets ? showShape(offsets) : 'none'}`);
      const ok = (d: unknown) => (Number.isInteger(d) && (d as number) >= 0) || (typeof d === 'string' && d.length > 0);
      if (!Array.isArray(a.shape) || !a.shape.every(ok)) throw new ShapeError(`indicator: attrs.shape must be a list of sizes, got ${JSON.stringify(a.shape)}`);
      return a.shape;
    },
  },
  nonzeros: {
    // x (a, b) f32; attrs.axis 1: (a, b + 1), per row its count of entries > 0, then their columns
    // ascending; axis 0: (b, a + 1), the same per column. The rest of each row is unspecified.
    dtype: 'u32',
    shape: ([x], a) => {
      if (x?.length !== 2) throw new ShapeError(`nonzeros: expects a 2-D relation, got ${x ? showShape(x) : 'none'}`);
      if (a.axis === 1) return [x[0], addDims(x[1], 1)];
      if (a.axis === 0) return [x[1], addDims(x[0], 1)];
      throw new ShapeError(`nonzeros: axis must be 0 (lists per column) or 1 (per row), got ${a.axis}`);
    },
  },
  join: {
    // args: lists (p, q + 1) u32 from nonzeros, d f32 2-D, exclude? f32 (the output's shape) -> f32 0/1.
    // side 'left': S (m, k) by its rows (p = m) @ d (k, n); 'right': d (m, k) @ S (k, n) by its columns
    // (p = n). out[i][j] = 1 when some kk in the list has d > 0 there, 0 where exclude > 0.
    shape: ([lists, d, exclude], a) => {
      if (a.side !== 'left' && a.side !== 'right') throw new ShapeError(`join: side must be 'left' or 'right', got ${a.side}`);
      if (lists?.length !== 2) throw new ShapeError(`join: the lists must be 2-D (p, q + 1) as nonzeros makes them, got ${lists ? showShape(lists) : 'none'}`);
      if (d?.length !== 2) throw new ShapeError(`join: the relation must be 2-D, got ${d ? showShape(d) : 'none'}`);
      const k = a.side === 'left' ? d[0] : d[1];
      // Sizes known only at run time are checked when the graph runs (runtime/ops/logic.ts).
      const differ = (x: Dim, y: Dim) => x !== y && typeof x === 'number' && typeof y === 'number';
      if (differ(addDims(k, 1), lists[1])) {
        throw new ShapeError(`join: the lists ${showShape(lists)} hold positions below ${Number(lists[1]) - 1}, but the relation ${showShape(d)} has ${k} along its ${a.side === 'left' ? 'first' : 'last'} dim`);
      }
      const out = a.side === 'left' ? [lists[0], d[1]] : [d[0], lists[0]];
      if (exclude && (exclude.length !== 2 || exclude.some((e, i) => differ(e, out[i])))) throw new ShapeError(`join: exclude ${showShape(exclude)} differs from the output ${showShape(out)}`);
      return out;
    },
  },
  // Relations packed as bits (runtime/ops/logic_bits.ts): 32 entities per u32 word, a row of n in
  // ceil(n / 32) words, entity j at bit j & 31 of word j >> 5; unused high bits are 0.
  pack_bits: {
    // x (m, n) f32, n known when compiling -> (m, ceil(n / 32)) u32, a bit set where x > 0
    dtype: 'u32',
    shape: ([x]) => {
      if (x?.length !== 2) throw new ShapeError(`pack_bits: expects a 2-D relation, got ${x ? showShape(x) : 'none'}`);
      if (typeof x[1] !== 'number') throw new ShapeError(`pack_bits: the relation ${showShape(x)} needs a column count known when compiling`);
      return [x[0], packedWords(x[1])];
    },
  },
  unpack_bits: {
    // bits (m, ceil(n / 32)) u32; attrs.n -> (m, n) f32 0/1
    shape: ([b], a) => {
      if (!(Number.isInteger(a.n) && a.n >= 0)) throw new ShapeError(`unpack_bits: attrs.n must be a whole number >= 0, got ${JSON.stringify(a.n)}`);
      if (b?.length !== 2) throw new ShapeError(`unpack_bits: expects 2-D packed bits, got ${b ? showShape(b) : 'none'}`);
      if (typeof b[1] === 'number' && b[1] !== packedWords(a.n)) throw new ShapeError(`unpack_bits: ${a.n} entities per row take ${packedWords(a.n)} words, but the bits are ${showShape(b)}`);
      return [b[0], a.n];
    },
  },
  join_bits: {
    // args: lists (p, q + 1) u32 from nonzeros, d packed u32, exclude? packed like the output; attrs
    // side, n -> (m, ceil(n / 32)) u32: join on packed relations. left: S (m, k) by its rows @ d
    // (k, n) packed (k, ceil(n / 32)); right: d (m, k) packed (m, ceil(k / 32)) @ S (k, n) by its
    // columns (p = n).
    dtype: 'u32',
    shape: ([lists, d, exclude], a) => {
      if (a.side !== 'left' && a.side !== 'right') throw new ShapeError(`join_bits: side must be 'left' or 'right', got ${a.side}`);
      if (!(Number.isInteger(a.n) && a.n >= 0)) throw new ShapeError(`join_bits: attrs.n must be a whole number >= 0, got ${JSON.stringify(a.n)}`);
      if (lists?.length !== 2) throw new ShapeError(`join_bits: the lists must be 2-D (p, q + 1) as nonzeros makes them, got ${lists ? showShape(lists) : 'none'}`);
      if (d?.length !== 2) throw new ShapeError(`join_bits: the packed relation must be 2-D, got ${d ? showShape(d) : 'none'}`);
      // Sizes known only at run time are checked when the graph runs (runtime/ops/logic_bits.ts).
      const differ = (x: Dim, y: Dim) => x !== y && typeof x === 'number' && typeof y === 'number';
      const w = packedWords(a.n);
      if (a.side === 'left') {
        if (differ(addDims(d[0], 1), lists[1])) throw new ShapeError(`join_bits: the lists ${showShape(lists)} hold positions below ${Number(lists[1]) - 1}, but the relation ${showShape(d)} has ${d[0]} rows`);
        if (differ(d[1], w)) throw new ShapeError(`join_bits: n = ${a.n} entities take ${w} words per row, but the relation is ${showShape(d)}`);
      } else {
        if (differ(lists[0], a.n)) throw new ShapeError(`join_bits: the right side's lists ${showShape(lists)} are S's columns, so there must be n = ${a.n} of them`);
        if (typeof lists[1] === 'number' && differ(d[1], packedWords(lists[1] - 1))) {
          throw new ShapeError(`join_bits: the lists ${showShape(lists)} hold positions below ${lists[1] - 1}, which take ${packedWords(lists[1] - 1)} words per row, but the relation is ${showShape(d)}`);
        }
      }
      const out = [a.side === 'left' ? lists[0] : d[0], w];
      if (exclude && (exclude.length !== 2 || exclude.some((e, i) => differ(e, out[i])))) throw new ShapeError(`join_bits: exclude ${showShape(exclude)} differs from the output ${showShape(out)}`);
      return out;
    },
  },
  bits_or: {
    // a, b packed u32 of one shape -> a | b
    dtype: 'u32',
    shape: ([x, y]) => {
      const differ = (p: Dim, q: Dim) => p !== q && typeof p === 'number' && typeof q === 'number';
      if (!x || !y || x.length !== y.length || x.some((d, i) => differ(d, y[i]))) throw new ShapeError(`bits_or: ${x ? showShape(x) : 'none'} and ${y ? showShape(y) : 'none'} differ`);
      return x;
    },
  },
  bits_count: {
    // a packed u32, any shape -> [] f32: the number of set bits (exact up to 2^24)
    shape: ([x]) => {
      if (!x) throw new ShapeError('bits_count: expects packed bits');
      return [];
    },
  },

  // Choosing tokens
  argmax: { shape: ([x], a) => (a.flat ? [] : x.slice(0, -1)), dtype: 'u32' }, // attrs.flat: over all elements
  sample: { shape: ([x]) => x.slice(0, -1), dtype: 'u32' }, // args: logits, temperature, top_k, top_p, random
};

/** Words per packed row of n entities (pack_bits and the ops on packed relations). */
function packedWords(n: number): number {
  return Math.ceil(n / 32);
}

/** gather's output shape (scatter's src shape), after checking the index against x. */
function gatherShape(op: string, x: Dim[], index: Dim[], dim: number): Dim[] {
  if (!(Number.isInteger(dim) && dim >= 0 && dim < x.length)) throw new ShapeError(`${op}: dim ${dim} is out of range for ${showShape(x)}`);
  if (index.length === 1 && x.length > 1) return x.map((d, i) => (i === dim ? index[0] : d));
  if (index.length !== x.length || x.some((d, i) => i !== dim && d !== index[i])) {
    throw new ShapeError(`${op}: the index ${showShape(index)} must match ${showShape(x)} except at dim ${dim}, or be 1-D`);
  }
  return index;
}

/** Whether two element counts can be equal for some run-time sizes (they name different sizes). */
function mayMatch(a: Dim[], b: Dim[]): boolean {
  const x = elementCount(a), y = elementCount(b);
  return x.syms.join() !== y.syms.join();
}

/** Output shape of an einsum like "ihd,jhd->ihj"; every index must have one size. */
export function einsumShape(eq: string, args: Dim[][]): Dim[] {
  const [lhs, rhs] = eq.replace(/\s+/g, '').split('->');
  const ins = lhs.split(',');
  if (ins.length !== args.length) throw new ShapeError(`einsum "${eq}" names ${ins.length} operands but got ${args.length}`);
  const size = new Map<string, Dim>();
  ins.forEach((idx, n) => {
    if (idx.length !== args[n].length) throw new ShapeError(`einsum "${eq}": operand ${n + 1} has shape ${showShape(args[n])}, not ${idx.length}-D`);
    [...idx].forEach((c, i) => {
      const d = args[n][i];
      const prev = size.get(c);
      if (prev === undefined || prev === 1) size.set(c, d);
      else if (d !== prev && d !== 1) throw new ShapeError(`einsum "${eq}": index ${c} is ${prev} in one operand and ${d} in another`);
    });
  });
  const out = rhs ?? [...new Set(ins.join(''))].filter((c) => ins.join('').split(c).length === 2).sort().join('');
  return [...out].map((c) => {
    const d = size.get(c);
    if (d === undefined) throw new ShapeError(`einsum "${eq}": output index ${c} is in no operand`);
    return d;
  });
}
