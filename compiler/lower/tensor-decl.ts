// `tensor w: float32[2, 3] learnable = [[...]]`: a named tensor, checked against its declared shape.
//
// The value becomes a device tensor (so it prints and computes as the original's tensors do). Every
// element type is stored as f32, the only float type of tlc's device graphs: float16 declarations
// keep f32 precision, integers are exact up to 2^24, booleans are 1 and 0; complex tensors are refused.
// Without a value (or with `zeros()` / `ones()` and no shape) the tensor is filled to its declared
// shape, as the original zero-fills. `learnable` is recorded on the Lowerer (L.learnable) for
// `learn` blocks; until those compile, a learnable tensor is an ordinary one with its initial value.
import type * as A from '../ast.ts';
import type { Dim, HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, tensorType, type Val } from './values.ts';
import { tensorOf } from './tensors.ts';

/** A declared size: a number, or undefined for `?` and for sizes known only at run time. */
type Declared = number | undefined;

export function declareTensor(L: Lowerer, s: A.TensorDecl): void {
  const type = s.type;
  const written = `${type.dtype}[${type.dims.join(', ')}]`;
  if (type.dtype === 'complex16') throw new CompileError(`'${s.name}' is ${written}: complex tensors cannot be compiled (tlc's device tensors are real)`, type.span);
  const dims = type.dims.map((d) => declaredSize(L, d, s));
  const val = s.init && !isShapelessFill(L, s.init) ? fromInit(L, s, dims, written) : filled(L, s, dims, written);
  if (type.learnable === 'learnable') L.learnable.set(s.name, s);
  L.declare(s.name, val);
}

/** `2048`, `?`, or a name: a size given by a build-time number in scope (`n` in `float32[n, 4]`). */
function declaredSize(L: Lowerer, d: Dim, s: A.TensorDecl): Declared {
  if (typeof d === 'number' || d === '?') return typeof d === 'number' ? d : undefined;
  let v: Val;
  try {
    v = L.lookup(d, s.type.span);
  } catch {
    return undefined; // a name for a size, like `vocab`: the value decides (filled() asks for one)
  }
  if (v.t === 'static' && typeof v.v === 'number' && Number.isInteger(v.v) && v.v >= 0) return v.v;
  if (v.t === 'sym' || v.t === 'host') return undefined;
  throw new CompileError(`the size '${d}' of '${s.name}' must be a whole number, got ${describe(v)}`, s.type.span);
}

/** `zeros()` / `ones()` with no arguments: the declaration gives the shape. */
function isShapelessFill(L: Lowerer, e: A.Expr): boolean {
  return e.kind === 'Call' && e.callee.kind === 'Ident' && e.args.length === 0 && ['zeros', 'ones'].includes(e.callee.name) && !L.fns.has(e.callee.name);
}

function filled(L: Lowerer, s: A.TensorDecl, dims: Declared[], written: string): Val {
  const unknown = s.type.dims.find((d, i) => dims[i] === undefined);
  if (unknown !== undefined) {
    throw new CompileError(`'${s.name}' is declared ${written} with no value: its size '${unknown}' must be a number known at build time (or give a value)`, s.type.span);
  }
  const fn = s.init?.kind === 'Call' && s.init.callee.kind === 'Ident' ? s.init.callee.name : 'zeros';
  return L.call(fn, [stat(dims as number[])], s.init?.span ?? s.span);
}

function fromInit(L: Lowerer, s: A.TensorDecl, dims: Declared[], written: string): Val {
  const init = s.init!;
  const v = L.expr(init);
  const mismatch = (shape: Dim[]) => new CompileError(`'${s.name}' is declared ${written} but its value has shape [${shape.join(', ')}]`, init.span);
  if (v.t === 'static') {
    const values = asNumbers(v.v);
    if (values === undefined) throw new CompileError(`'${s.name}' is declared ${written} but is given ${describe(v)}`, init.span);
    const shape = nestedShape(values);
    if (fits(dims, shape)) return tensor(L, values, init.span);
    // A flat list fills the declared shape in order (`float32[2, 2] = [1.0, 2.0, 3.0, 4.0]`).
    const count = dims.every((d) => d !== undefined) ? (dims as number[]).reduce((a, b) => a * b, 1) : -1;
    if (shape.length === 1 && shape[0] === count) return tensor(L, unflatten(values as number[], dims as number[]), init.span);
    throw mismatch(shape);
  }
  const shape = shapeOfValue(L, v, init.span);
  if (!shape) throw new CompileError(`'${s.name}' is declared ${written} but is given ${describe(v)}`, init.span);
  if (!fits(dims, shape)) throw mismatch(shape);
  return v.t === 'list' ? { t: 'tensor', g: L.graph(), node: tensorOf(L, v, init.span) } : v;
}

/** The shape of a device value or a list with run-time parts; undefined for anything else. */
function shapeOfValue(L: Lowerer, v: Val, span: A.Span): Dim[] | undefined {
  if (v.t === 'tensor' || v.t === 'dev') return tensorType(v)!.shape;
  if (v.t === 'weight') return [...(L.opts.model?.tensors[v.name]?.shape ?? [])].reverse(); // GGUF lists ne0 first
  if (v.t === 'list') return L.graph().shape(tensorOf(L, v, span));
  return undefined;
}

/** Same rank, and every size both sides know is the same. */
function fits(dims: Declared[], shape: Dim[]): boolean {
  return dims.length === shape.length && dims.every((d, i) => d === undefined || typeof shape[i] !== 'number' || d === shape[i]);
}

/** The list with booleans as 1 and 0; undefined when it holds anything but numbers. */
function asNumbers(v: HostValue): HostValue | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (!Array.isArray(v)) return undefined;
  const out = v.map(asNumbers);
  return out.every((x) => x !== undefined) ? (out as HostValue[]) : undefined;
}

function nestedShape(v: HostValue): number[] {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  return shape;
}

function unflatten(values: number[], dims: number[]): HostValue {
  if (dims.length <= 1) return values;
  const size = values.length / dims[0];
  return Array.from({ length: dims[0] }, (_, i) => unflatten(values.slice(i * size, (i + 1) * size), dims.slice(1)));
}

/** A build-time list (or number) as a constant on the device. */
function tensor(L: Lowerer, values: HostValue, span: A.Span): Val {
  return { t: 'tensor', g: L.graph(), node: tensorOf(L, stat(values), span) };
}
