// Operators on symbolic values: fold what is known, emit device ops for tensors, host ops otherwise.
import type * as A from '../ast.ts';
import type { HostExpr, HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, type Val } from './values.ts';
import { isNumberList as isNumberTensor, tensorOf, tensorsOf } from './tensors.ts';
import { transposedWeight } from './builtins.ts';
import { binaryOp, truthy } from '../../runtime/host.ts';
import { TlcError } from '../../runtime/errors.ts';
import { floatStat, hostOpFor, numType, resultIsFloat, staticType } from './numbers.ts';

const DEVICE_BINARY: Partial<Record<A.BinaryOp, string>> = { '+': 'add', '-': 'sub', '*': 'mul', '⊙': 'mul', '/': 'div' };

export function binary(L: Lowerer, op: A.BinaryOp, a: Val, b: Val, span: A.Span): Val {
  // Number lists are tensor literals: arithmetic on them is tensor arithmetic.
  const tensorish = (v: Val) => isNumberTensor(v) || isNumeric(v); // numbers known at run time too: [x[0], x[1]]
  if (TENSOR_OPS.has(op) && (isNumberTensor(a) || isNumberTensor(b)) && tensorish(a) && tensorish(b)) return deviceBinary(L, op, a, b, span);
  if (a.t === 'static' && b.t === 'static') return foldTyped(op, a, b, span);
  // `false && x` and `true || x` are known whatever x is (the unrolled `layer == 0 && step == 0`).
  if (a.t === 'static' && (op === '&&' || op === '||') && truthy(a.v) === (op === '||')) return stat(truthy(a.v));
  if (isDevice(a) || isDevice(b)) return deviceBinary(L, op, a, b, span);
  if (a.t === 'sym' || b.t === 'sym') return symBinary(L, op, a, b, span);
  return hostOp(L, hostOpFor(op, numType(L, a), numType(L, b)), [L.hostExpr(a, span), L.hostExpr(b, span)]);
}

/** Two build-time values: folded with the host's rules, integer or float as the operands are. */
function foldTyped(op: A.BinaryOp, a: Extract<Val, { t: 'static' }>, b: Extract<Val, { t: 'static' }>, span: A.Span): Val {
  const [ta, tb] = [staticType(a.v, a.float), staticType(b.v, b.float)];
  const hop = hostOpFor(op, ta, tb);
  const v = fold(hop as A.BinaryOp, a.v, b.v, span);
  return typeof v === 'number' && resultIsFloat(hop, ta, tb) ? floatStat(v) : stat(v);
}

export function unary(L: Lowerer, op: A.Unary['op'], a: Val, span: A.Span): Val {
  if (op === 'inv') throw new CompileError('matrix inverse (inv) cannot be compiled to WebGPU yet', span);
  if (a.t === 'static') {
    if (op === '-') {
      if (typeof a.v !== 'number') throw new CompileError(`cannot negate ${describe(a)}`, span);
      return a.float ? floatStat(-a.v) : stat(-a.v);
    }
    return stat(!a.v);
  }
  if (isDevice(a) && op === '-') {
    const g = L.graph();
    return { t: 'tensor', g, node: g.add('scale', [tensorOf(L, a, span)], { value: -1, bias: 0 }, span) };
  }
  if (a.t === 'sym' && op === '-') return symBinary(L, '-', stat(0), a, span);
  return hostOp(L, op === '-' ? 'neg' : '!', [L.hostExpr(a, span)]);
}

const TENSOR_OPS = new Set<A.BinaryOp>(['+', '-', '*', '/', '@', '⊙']);

function isNumeric(v: Val): boolean {
  return (v.t === 'static' && typeof v.v === 'number') || isDevice(v);
}

function isDevice(v: Val): boolean {
  return v.t === 'tensor' || v.t === 'weight' || v.t === 'dev';
}

function deviceBinary(L: Lowerer, op: A.BinaryOp, a: Val, b: Val, span: A.Span): Val {
  // A comparison with a device scalar (a sampled token vs EOS) is a host question: read it back.
  if (['==', '!=', '<', '<=', '>', '>=', '&&', '||'].includes(op)) {
    return hostOp(L, op, [L.hostExpr(a, span), L.hostExpr(b, span)]);
  }
  if (op === '@') {
    const { g, nodes: [x, y] } = tensorsOf(L, [a, b], span);
    const w = transposedWeight(g, y);
    if (w !== undefined) return { t: 'tensor', g, node: g.add('linear', [x, w], {}, span) }; // x @ W.T
    const [ra, rb] = [g.shape(x).length, g.shape(y).length];
    // A matrix times a vector (numpy's rule): (..., k) @ (k) sums over k, leaving (...).
    if (rb === 1 && ra >= 1 && ra <= 3) return { t: 'tensor', g, node: g.add('einsum', [x, y], { eq: `${'bij'.slice(3 - ra)},j->${'bij'.slice(3 - ra, 2)}` }, span) };
    if (ra < 1 || ra > 3 || rb !== 2) throw new CompileError(`@ multiplies a 1-D, 2-D or 3-D tensor by a 1-D or 2-D one; got ${ra}-D @ ${rb}-D`, span);
    const eq = `${'bij'.slice(3 - ra)},jk->${'bij'.slice(3 - ra, 2)}k`;
    return { t: 'tensor', g, node: g.add('einsum', [x, y], { eq }, span) };
  }
  // tensor (op) build-time number: one fused scale-and-shift
  const num = (v: Val) => (v.t === 'static' && typeof v.v === 'number' ? v.v : undefined);
  const [ca, cb] = [num(a), num(b)];
  const affine = (x: Val, value: number, bias: number): Val => {
    const { g, nodes } = tensorsOf(L, [x], span);
    return { t: 'tensor', g, node: g.add('scale', nodes, { value, bias }, span) };
  };
  if (cb !== undefined) {
    if (op === '*' || op === '⊙') return affine(a, cb, 0);
    if (op === '/') return affine(a, 1 / cb, 0);
    if (op === '+') return affine(a, 1, cb);
    if (op === '-') return affine(a, 1, -cb);
  }
  if (ca !== undefined) {
    if (op === '*' || op === '⊙') return affine(b, ca, 0);
    if (op === '+') return affine(b, 1, ca);
    if (op === '-') return affine(b, -1, ca);
  }
  const fn = DEVICE_BINARY[op];
  if (!fn) throw new CompileError(`operator ${op} on tensors cannot be compiled yet`, span);
  const { g, nodes: [x, y] } = tensorsOf(L, [a, b], span);
  return { t: 'tensor', g, node: g.add('binary', [x, g.matchSizes(x, y, span)], { fn }, span) };
}

/**
 * A host operation. A long chain (`n + n + ... + n`, 20,000 terms) would make an expression that
 * deep, and everything that walks the host program recurses over expressions: past MAX_HOST_DEPTH
 * the chain so far is evaluated into a variable first (host expressions have no side effects).
 */
function hostOp(L: Lowerer, op: string, args: HostExpr[]): Val {
  const e: HostExpr = { k: 'op', op, args };
  const d = 1 + Math.max(...args.map((x) => DEPTH.get(x) ?? 1));
  if (d <= MAX_HOST_DEPTH) {
    DEPTH.set(e, d);
    return { t: 'host', e };
  }
  return { t: 'host', e: L.snapshot(e, 'x') };
}

const MAX_HOST_DEPTH = 200;
const DEPTH = new WeakMap<HostExpr, number>();

/** Arithmetic on a size known per graph call: x * 1 keeps the size, anything else makes a new one. */
function symBinary(L: Lowerer, op: A.BinaryOp, a: Val, b: Val, span: A.Span): Val {
  const one = (v: Val) => v.t === 'static' && v.v === 1;
  if (a.t === 'sym' && (op === '*' || op === '/') && one(b)) return a;
  if (b.t === 'sym' && op === '*' && one(a)) return b;
  // A size with a float is a float (`len(x) / 2.0`), not a size.
  if (numType(L, a) === 'float' || numType(L, b) === 'float') return hostOp(L, op, [L.hostExpr(a, span), L.hostExpr(b, span)]);
  const e: HostExpr = { k: 'op', op, args: [L.hostExpr(a, span), L.hostExpr(b, span)] };
  if (['+', '-', '*', '/', '%'].includes(op)) {
    const dim = L.fresh((a.t === 'sym' ? a : (b as Extract<Val, { t: 'sym' }>)).dim); // one of them is a size
    return { t: 'sym', dim, e: op === '/' ? { k: 'op', op: 'int', args: [e] } : e };
  }
  return { t: 'host', e };
}

export function fold(op: A.BinaryOp, a: HostValue, b: HostValue, span: A.Span): HostValue {
  if (op === '&&') return truthy(a) && truthy(b);
  if (op === '||') return truthy(a) || truthy(b);
  try {
    return binaryOp(op, a, b) as HostValue;
  } catch (e) {
    if (e instanceof TlcError) throw new CompileError(e.message, span);
    throw e;
  }
}
