// Tensors made from nothing: filled, ranges, position encodings, rope tables, flat lists. All are
// constants computed while building (their sizes must be known then), written into the artifact.
//
// f16 and f32: the original makes `f16::zeros(...)` a half-precision tensor and `f32::zeros(...)`
// a single-precision one. tlc computes every activation in f32, so the `f16::` forms give f32
// tensors with the same values (the values of ones, zeros and small integer ranges are exact in
// both); only the rounding of later arithmetic differs.
import type * as A from '../ast.ts';
import type { HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, type Val } from './values.ts';
import { shapeOf, tensorOf } from './tensors.ts';
import { b, checkConstant, constant, node, num, whole, type Builtin, type Lower } from './builtin-kit.ts';
import { DEFAULT_LIMITS } from '../passes/check-limits.ts';
import { fromBuffer } from './tensor-buffer.ts';

function sizes(L: Lowerer, s: Val, what: string, span: A.Span): number[] {
  const shape = shapeOf(L, s, span);
  if (!shape.every((d): d is number => typeof d === 'number' && d >= 0)) throw new CompileError(`${what} needs sizes known at build time`, span);
  return shape;
}

/**
 * zeros / ones of a shape. A fill too big to store as one constant (more than one GPU buffer
 * binding holds) is its one value broadcast to the shape: it costs nothing until something needs
 * it on the device (`shape(x)` and views of it do not; a graph's unused nodes are dropped), where
 * the build then says it is too big.
 */
function filled(value: number): Lower {
  return (L, [s], span) => {
    const shape = sizes(L, s, value ? 'ones' : 'zeros', span);
    const count = shape.reduce((p, q) => p * q, 1);
    if (count * 4 <= DEFAULT_LIMITS.maxStorageBufferBindingSize) return constant(L, shape, new Array(count).fill(value), span);
    const one = tensorOf(L, constant(L, shape.map(() => 1), [value], span), span);
    return node(L, 'broadcast_to', [one], { shape }, span);
  };
}

/** arange(n): 0, 1, ..., n-1; arange(start, end): start, ..., end-1 (end must be larger, as in the original). */
const arange: Lower = (L, [a, c], span) => {
  const [start, end] = c ? [whole(a, 'arange: start', span), whole(c, 'arange: end', span)] : [0, whole(a, 'arange: n', span)];
  if (end <= start) throw new CompileError(`arange: the end (${end}) must be larger than the start (${start})`, span);
  checkConstant([end - start], end - start, span);
  return constant(L, [end - start], Array.from({ length: end - start }, (_, i) => start + i), span);
};

/**
 * positional_encoding(seq_len, d_model): (seq_len, d_model), element (pos, i) is
 * sin(pos / 10000^(i / d_model)) for even i and cos(...) for odd i, as the original computes it.
 */
const positionalEncoding: Lower = (L, [n, d], span) => {
  const [seq, dim] = [whole(n, 'positional_encoding: seq_len', span), whole(d, 'positional_encoding: d_model', span)];
  const values: number[] = [];
  for (let pos = 0; pos < seq; pos++) {
    for (let i = 0; i < dim; i++) {
      const angle = pos / Math.exp((i / dim) * Math.log(10000));
      values.push(i % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
    }
  }
  return constant(L, [seq, dim], values, span);
};

/** precompute_rope_cos/sin(head_dim, max_seq, base): (max_seq, head_dim), each pair's angle pos * base^(-2j/head_dim), twice. */
function ropeTable(fn: 'cos' | 'sin'): Lower {
  return (L, [h, n, base], span) => {
    const [headDim, seq, theta] = [whole(h, 'head_dim', span), whole(n, 'max_seq_len', span), num(base, 'the rope base', span)];
    if (headDim % 2) throw new CompileError(`precompute_rope_${fn}: head_dim must be even, got ${headDim}`, span);
    const values: number[] = [];
    for (let pos = 0; pos < seq; pos++) {
      for (let j = 0; j < headDim / 2; j++) {
        const v = Math[fn](pos * theta ** (-(2 * j) / headDim));
        values.push(v, v);
      }
    }
    return constant(L, [seq, headDim], values, span);
  };
}

/** from_vec(values, shape): a flat list of numbers known at build time, in that shape. */
const fromVec: Lower = (L, [xs, s], span) => {
  if (xs.t !== 'static' || !Array.isArray(xs.v)) throw new CompileError('from_vec takes a list of numbers known at build time', span);
  const values = (xs.v as HostValue[]).flat(8);
  if (!values.every((v): v is number => typeof v === 'number')) throw new CompileError('from_vec takes a list of numbers', span);
  const shape = sizes(L, s, 'from_vec', span);
  const count = shape.reduce((p, q) => p * q, 1);
  if (count !== values.length) throw new CompileError(`from_vec: ${values.length} values do not fill the shape [${shape.join(', ')}] (${count})`, span);
  return constant(L, shape, values, span);
};

/** zeros(shape) and ones(shape); with two arguments, `buf.zeros(shape)` of a TensorBuffer (./tensor-buffer.ts). */
function constructor(value: number): Lower {
  const fill = filled(value);
  return (L, args, span) => {
    if (args.length === 1) return fill(L, args, span);
    return fromBuffer(L, args[0], args[1], value ? 'ones' : 'zeros', (shape) => fill(L, [shape], span), span);
  };
}

const CONSTRUCTORS: Record<string, Builtin> = {
  zeros: b(1, 2, constructor(0)),
  ones: b(1, 2, constructor(1)),
  arange: b(1, 2, arange),
};

export const CREATE_BUILTINS: Record<string, Builtin> = {
  ...CONSTRUCTORS,
  'Tensor::zeros': CONSTRUCTORS.zeros,
  'Tensor::ones': CONSTRUCTORS.ones,
  // The typed forms: the same constants (tlc computes in f32, see above).
  ...Object.fromEntries(['f32', 'f16'].flatMap((t) => Object.entries(CONSTRUCTORS).map(([name, v]) => [`${t}::${name}`, v]))),
  positional_encoding: b(2, 2, positionalEncoding),
  precompute_rope_cos: b(3, 3, ropeTable('cos')),
  precompute_rope_sin: b(3, 3, ropeTable('sin')),
  from_vec: b(2, 2, fromVec),
  // A tensor a `learn` block would train; tlc has no training yet, so it is the tensor itself.
  learnable: b(1, 1, (_L, [x]) => x),
};
