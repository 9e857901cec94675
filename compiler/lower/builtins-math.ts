// Math builtins the original has beyond llama's: extremes, argmin, trigonometry, powers, the
// arithmetic functions and the fused forms. Each is composed of existing device ops where it can
// be; max/min reductions have their own kernel (shaders/reduce.ts). On numbers, they are host
// calls (folded when known at build time).
import type * as A from '../ast.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, type Val } from './values.ts';
import { tensorOf } from './tensors.ts';
import { binary } from './operators.ts';
import { axis, b, flag, isDevice, node, num, rankOf, type Builtin, type Lower } from './builtin-kit.ts';
import { floatStat, numType } from './numbers.ts';

const unary = (L: Lowerer, fn: string, x: Val, span: A.Span): Val => node(L, 'unary', [tensorOf(L, x, span)], { fn }, span);
const scale = (L: Lowerer, x: Val, value: number, bias: number, span: A.Span): Val => node(L, 'scale', [tensorOf(L, x, span)], { value, bias }, span);

/** Elementwise a (fn) b on tensors, broadcasting. */
function elementwise(L: Lowerer, fn: string, a: Val, c: Val, span: A.Span): Val {
  const g = L.graph();
  const x = tensorOf(L, a, span), y = tensorOf(L, c, span);
  return { t: 'tensor', g, node: g.add('binary', [x, g.matchSizes(x, y, span)], { fn }, span) };
}

/** The reduction of x along `ax` (all of it when undefined), keeping a dim of 1 when asked. */
function reduce(L: Lowerer, fn: string, x: Val, ax: number | undefined, keep: boolean, span: A.Span): Val {
  const g = L.graph();
  const n = tensorOf(L, x, span);
  const out = g.add('reduce', [n], { fn, axis: ax }, span);
  if (!keep) return { t: 'tensor', g, node: out };
  const shape = ax === undefined ? g.shape(n).map(() => 1) : g.shape(n).map((d, i) => (i === ax ? 1 : d));
  return { t: 'tensor', g, node: g.add('reshape', [out], { shape }, span) };
}

/**
 * max(x): the largest element; max(x, axis, keepdim?) along a build-time integer axis;
 * max(a, b) of two tensors (or a tensor and a float) elementwise; of two numbers, the larger.
 */
function extreme(fn: 'max' | 'min'): Lower {
  const pick = fn === 'max' ? Math.max : Math.min;
  return (L, [x, y, keep], span) => {
    if (!y) {
      if (!isDevice(x) && !(x.t === 'static' && Array.isArray(x.v))) throw new CompileError(`${fn}(x) takes a tensor; ${fn}(a, b) compares two numbers`, span);
      return reduce(L, fn, x, undefined, false, span);
    }
    if (isDevice(x) && y.t === 'static' && numType(L, y) === 'int') return reduce(L, fn, x, axis(y, rankOf(L, x, span), span), flag(keep), span);
    if (isDevice(x) || isDevice(y)) return elementwise(L, fn, x, y, span);
    if (x.t === 'static' && y.t === 'static') {
      if (typeof x.v !== 'number' || typeof y.v !== 'number') throw new CompileError(`${fn}(a, b) compares two numbers, got ${describe(x)} and ${describe(y)}`, span);
      const v = pick(x.v, y.v);
      return numType(L, x) === 'float' || numType(L, y) === 'float' ? floatStat(v) : stat(v);
    }
    return { t: 'host', e: { k: 'call', fn, args: [L.hostExpr(x, span), L.hostExpr(y, span)] } };
  };
}

/** argmax / argmin: of all elements (one index), or along any axis (keepdim keeps it as 1). */
function argExtreme(fn: 'argmax' | 'argmin'): Lower {
  return (L, [x, dim, keep], span) => {
    let v = fn === 'argmin' ? scale(L, x, -1, 0, span) : x; // the smallest is the largest of -x
    const g = L.graph();
    let n = tensorOf(L, v, span);
    if (!dim) return node(L, 'argmax', [n], { flat: true }, span);
    const rank = g.shape(n).length;
    const k = axis(dim, rank, span);
    if (k !== rank - 1) {
      // The axis moves to the end (the others keep their order), where the kernel looks.
      const perm = [...Array(rank).keys()].filter((i) => i !== k).concat(k);
      n = g.add('transpose', [n], { perm }, span);
    }
    const out = g.add('argmax', [n], {}, span);
    v = { t: 'tensor', g, node: out };
    if (!flag(keep)) return v;
    const shape = g.shape(tensorOf(L, x, span)).map((d, i) => (i === k ? 1 : d));
    return node(L, 'reshape', [out], { shape, dtype: 'u32' }, span); // indices stay u32 through the view
  };
}

/** A function of one number on the host, or elementwise on a tensor (`device` names the unary fn). */
function numeric(fn: string, fold: (x: number) => number, device?: (L: Lowerer, x: Val, span: A.Span) => Val, result?: 'int'): Lower {
  return (L, [x], span) => {
    if (isDevice(x) || (x.t === 'static' && Array.isArray(x.v))) {
      if (!device) throw new CompileError(`${fn} takes a number, not ${describe(x)}`, span);
      return device(L, x, span);
    }
    if (x.t === 'static') {
      if (typeof x.v !== 'number') throw new CompileError(`${fn} takes a number, not ${describe(x)}`, span);
      const v = fold(x.v);
      return result !== 'int' && numType(L, x) === 'float' ? floatStat(v) : stat(v);
    }
    return { t: 'host', e: { k: 'call', fn, args: [L.hostExpr(x, span)] } };
  };
}

const onDevice = (fn: string) => (L: Lowerer, x: Val, span: A.Span) => unary(L, fn, x, span);

/** pow(x, p): x^p elementwise; p = 2 squares, 0.5 takes the root, others go through exp(p log x) (x > 0). */
const pow: Lower = (L, [x, p], span) => {
  if (!isDevice(x) && !isDevice(p)) return binary(L, '**', x, p, span);
  if (p.t === 'static' && typeof p.v === 'number') {
    if (p.v === 1) return scale(L, x, 1, 0, span);
    if (p.v === 2) return unary(L, 'square', x, span);
    if (p.v === 0.5) return unary(L, 'sqrt', x, span);
    if (p.v === -1) return unary(L, 'recip', x, span);
    return unary(L, 'exp', scale(L, unary(L, 'log', x, span), p.v, 0, span), span);
  }
  return unary(L, 'exp', elementwise(L, 'mul', unary(L, 'log', x, span), p, span), span);
};

/** layer_norm(x, shape?, eps?): (x - mean) / sqrt(var + eps) over the last axis, no affine part (as the original). */
const layerNorm: Lower = (L, [x, , eps], span) => {
  const last = rankOf(L, x, span) - 1;
  const e = eps ? num(eps, 'eps', span) : 1e-5;
  const centered = elementwise(L, 'sub', x, reduce(L, 'mean', x, last, true, span), span);
  const variance = reduce(L, 'mean', unary(L, 'square', centered, span), last, true, span);
  return elementwise(L, 'mul', centered, unary(L, 'rsqrt', scale(L, variance, 1, e, span), span), span);
};

/** temperature(logits, t): the logits divided by t. */
const temperature: Lower = (L, [x, t], span) => binary(L, '/', x, t, span);

const arithmetic = (op: A.BinaryOp): Builtin => b(2, 2, (L, [x, y], span) => binary(L, op, x, y, span));

/** batch_norm(x, mean, var, eps?): (x - mean) / sqrt(var + eps), with the statistics given. */
const batchNorm: Lower = (L, [x, mean, variance, eps], span) => {
  const e = eps ? num(eps, 'eps', span) : 1e-5;
  return elementwise(L, 'mul', binary(L, '-', x, mean, span), unary(L, 'rsqrt', binary(L, '+', variance, stat(e), span), span), span);
};

/** dropout(x, p, training): tlc runs inference, where dropout keeps x; training is refused. */
const dropout: Lower = (_L, [x, , training], span) => {
  if (training && !(training.t === 'static' && !training.v)) throw new CompileError('dropout while training cannot be compiled (tlc has no training yet); pass false', span);
  return x;
};

/** sum(x) / mean(x) of all elements; sum(x, dim, keepdim?) along one dim, kept as 1 when asked (the original's older code). */
const total = (fn: 'sum' | 'mean'): Lower => (L, [x, dim, keep], span) =>
  reduce(L, fn, x, dim ? axis(dim, rankOf(L, x, span), span) : undefined, flag(keep), span);

export const MATH_BUILTINS: Record<string, Builtin> = {
  sum: b(1, 3, total('sum')),
  mean: b(1, 3, total('mean')),
  max: b(1, 3, extreme('max')),
  min: b(1, 3, extreme('min')),
  argmax: b(1, 3, argExtreme('argmax')),
  argmin: b(1, 3, argExtreme('argmin')),
  abs: b(1, 1, numeric('abs', Math.abs, onDevice('abs'))),
  // As the original: floor, ceil and round of a number are integers (round: halves away from zero).
  floor: b(1, 1, numeric('floor', Math.floor, undefined, 'int')),
  ceil: b(1, 1, numeric('ceil', Math.ceil, undefined, 'int')),
  round: b(1, 1, numeric('round', (x) => Math.sign(x) * Math.round(Math.abs(x)), undefined, 'int')),
  sin: b(1, 1, numeric('sin', Math.sin, onDevice('sin'))),
  cos: b(1, 1, numeric('cos', Math.cos, onDevice('cos'))),
  tan: b(1, 1, numeric('tan', Math.tan, (L, x, span) => elementwise(L, 'div', unary(L, 'sin', x, span), unary(L, 'cos', x, span), span))),
  pow: b(2, 2, pow),
  add: arithmetic('+'),
  sub: arithmetic('-'),
  mul: arithmetic('*'),
  div: arithmetic('/'),
  layer_norm: b(1, 3, layerNorm),
  batch_norm: b(3, 4, batchNorm),
  dropout: b(2, 3, dropout),
  temperature: b(2, 2, temperature),
  // x * mask: 1 keeps an element, 0 zeroes it.
  apply_mask: b(2, 2, (L, [x, m], span) => elementwise(L, 'mul', x, m, span)),
  fused_add_relu: b(2, 2, (L, [x, y], span) => unary(L, 'relu', binary(L, '+', x, y, span), span)),
  fused_mul_relu: b(2, 2, (L, [x, y], span) => unary(L, 'relu', binary(L, '*', x, y, span), span)),
  fused_affine: b(3, 3, (L, [x, s, c], span) => binary(L, '+', binary(L, '*', x, s, span), c, span)),
  // fused_gelu_linear(x, weight, bias): gelu(x) @ weight + bias, weight (in, out), as the original computes it.
  fused_gelu_linear: b(3, 3, (L, [x, w, c], span) => binary(L, '+', L.call('matmul', [unary(L, 'gelu', x, span), w], span), c, span)),
};
