// The pieces every builtin's lowering is made of: arity, device ops, host calls, build-time
// arguments. The builtins themselves are in builtins.ts and the builtins-*.ts files beside it.
import type * as A from '../ast.ts';
import type { HostValue } from '../ir.ts';
import { DEFAULT_LIMITS } from '../passes/check-limits.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, tensorType, type Val } from './values.ts';
import { tensorOf } from './tensors.ts';

export type Lower = (L: Lowerer, args: Val[], span: A.Span, exprs?: A.Expr[]) => Val;

export interface Builtin {
  min: number;
  max: number;
  lower: Lower;
}

export const b = (min: number, max: number, lower: Lower): Builtin => ({ min, max, lower });

/** A device op on tensor arguments. */
export function op(name: string, attrs: (L: Lowerer, args: Val[], span: A.Span) => Record<string, unknown> = () => ({}), nTensors?: number): Lower {
  return (L, args, span) => {
    const tensors = args.slice(0, nTensors ?? args.length);
    const ids = tensors.map((a) => tensorOf(L, a, span));
    const g = L.graph();
    return { t: 'tensor', g, node: g.add(name, ids, attrs(L, args, span), span) };
  };
}

export const unaryOp = (fn: string) => b(1, 1, op('unary', () => ({ fn })));

/** One node added to the current graph, as a value. */
export function node(L: Lowerer, name: string, args: number[], attrs: Record<string, unknown>, span: A.Span): Val {
  const g = L.graph();
  return { t: 'tensor', g, node: g.add(name, args, attrs, span) };
}

/** A host builtin: folded when every argument is known at build time and `fold` is given. */
export function host(fn: string, fold?: (...xs: HostValue[]) => HostValue): Lower {
  return (L, args, span) => {
    if (fold && args.every((a) => a.t === 'static')) return stat(fold(...args.map((a) => (a as { v: HostValue }).v)));
    return { t: 'host', e: { k: 'call', fn, args: args.map((a) => L.hostExpr(a, span)) } };
  };
}

export function num(v: Val, what: string, span: A.Span): number {
  if (v.t === 'static' && typeof v.v === 'number') return v.v;
  throw new CompileError(`${what} must be a number known at build time, got ${describe(v)}`, span);
}

/** A whole number known at build time (a size, a count). */
export function whole(v: Val, what: string, span: A.Span): number {
  const n = num(v, what, span);
  if (!Number.isInteger(n)) throw new CompileError(`${what} must be a whole number, got ${n}`, span);
  return n;
}

export function axis(v: Val | undefined, rank: number, span: A.Span, fallback = rank - 1): number {
  if (!v) return fallback;
  const a = num(v, 'the axis', span);
  const k = a < 0 ? rank + a : a;
  if (!Number.isInteger(k) || k < 0 || k >= Math.max(rank, 1)) throw new CompileError(`axis ${a} is out of range for a ${rank}-D tensor`, span);
  return k;
}

export function rankOf(L: Lowerer, v: Val, span: A.Span): number {
  return (tensorType(v)?.shape ?? L.graph().shape(tensorOf(L, v, span))).length;
}

export function isDevice(v: Val): boolean {
  return v.t === 'tensor' || v.t === 'weight' || v.t === 'dev';
}

/** A build-time keepdim flag: true, or a non-zero number. */
export function flag(v: Val | undefined): boolean {
  return !!v && v.t === 'static' && !!v.v;
}

/** A constant tensor written into the artifact, refused when one GPU buffer cannot hold it. */
export function constant(L: Lowerer, shape: number[], values: number[], span: A.Span): Val {
  checkConstant(shape, values.length, span);
  return node(L, 'const', [], { shape, values }, span);
}

/** Refuses a constant of `count` values one GPU buffer binding cannot hold (before they are computed). */
export function checkConstant(shape: number[], count: number, span: A.Span): void {
  if (count * 4 > DEFAULT_LIMITS.maxStorageBufferBindingSize) {
    throw new CompileError(`a constant of shape [${shape.join(', ')}] needs ${count * 4} bytes, more than one GPU buffer binding holds (${DEFAULT_LIMITS.maxStorageBufferBindingSize})`, span);
  }
}
