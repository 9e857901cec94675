// The original's TensorBuffer: a pool of GPU memory a program reserves, pre-allocates slots of and
// takes zeros/ones tensors from (its Metal backend's allocator, src/device/metal/tensor_buffer.rs).
//
//   let buf = new_tensor_buffer(bytes)     a pool of that capacity, nothing used
//   buf.alloc(shape, count, elem_size)     `count` slots of shape (numel * elem_size bytes each) taken
//                                          from the pool and set aside for that shape (replacing the
//                                          slots set aside for it before)
//   buf.zeros(shape), buf.ones(shape)      a tensor of zeros / ones: a slot set aside for the shape
//                                          when there is one, else numel * 2 bytes (f16) from the pool
//   print(buf)                             TensorBuffer(capacity=100MB, used=3MB) (whole MiB)
//
// Taking more than the capacity is an error, as in the original ("Buffer exhausted: ..."). tlc
// pools GPU memory itself, so the pool is bookkeeping done while building (a hidden variable holds
// [used bytes, [[shape, free slots], ...]]); the tensors are tlc's zeros and ones (f32, the same
// values). Using the pool inside run-time control flow is a build error.
import type * as A from '../ast.ts';
import type { HostValue } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, NONE, describe, stat, type Val } from './values.ts';
import { shapeOf } from './tensors.ts';
import { b, type Builtin, type Lower } from './builtin-kit.ts';

type Buffer = Extract<Val, { t: 'tensorbuffer' }>;
type State = [number, [string, number][]]; // used bytes; free slots per shape

const MiB = 1024 * 1024;

function whole(v: Val | undefined, what: string, span: A.Span): number {
  if (v?.t !== 'static' || typeof v.v !== 'number' || !Number.isInteger(v.v) || v.v < 0) {
    throw new CompileError(`${what} must be a whole number known at build time, got ${v ? describe(v) : 'nothing'}`, span);
  }
  return v.v;
}

function sizes(L: Lowerer, v: Val, what: string, span: A.Span): number[] {
  const shape = shapeOf(L, v, span);
  if (!shape.every((d): d is number => typeof d === 'number' && d >= 0)) throw new CompileError(`${what} needs sizes known at build time`, span);
  return shape;
}

function state(L: Lowerer, buf: Buffer, span: A.Span): State {
  const v = L.lookup(buf.slot, span);
  return structuredClone((v as { v: HostValue }).v) as unknown as State;
}

function store(L: Lowerer, buf: Buffer, s: State, method: string, span: A.Span): void {
  try {
    L.assignName(buf.slot, stat(s as unknown as HostValue), span);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    throw new CompileError(`TensorBuffer.${method} inside run-time control flow cannot be compiled: tlc keeps the pool's accounts while building`, span);
  }
}

/** `bytes` taken from the pool, or the original's error when it has not that many left. */
function take(buf: Buffer, s: State, bytes: number, span: A.Span): void {
  if (s[0] + bytes > buf.capacity) throw new CompileError(`Buffer exhausted: requested ${bytes} bytes, available ${Math.max(0, buf.capacity - s[0])} bytes`, span);
  s[0] += bytes;
}

const newTensorBuffer: Lower = (L, [bytes], span) => {
  const capacity = whole(bytes, 'new_tensor_buffer: the capacity in bytes', span);
  const slot = `${L.fresh('tensor_buffer')} state`; // a name no program can write (it has a space)
  L.declareGlobal(slot, stat([0, []]));
  return { t: 'tensorbuffer', capacity, slot };
};

/** buf.alloc(shape, count, elem_size): count slots of the shape set aside. */
const alloc: Lower = (L, [buf, shape, n, elem], span) => {
  if (buf.t !== 'tensorbuffer') throw new CompileError(`alloc is a method of a TensorBuffer, not of ${describe(buf)}`, span);
  const dims = sizes(L, shape, 'TensorBuffer.alloc', span);
  const count = whole(n, 'TensorBuffer.alloc: count', span), size = whole(elem, 'TensorBuffer.alloc: elem_size', span);
  const s = state(L, buf, span);
  const bytes = dims.reduce((p, q) => p * q, 1) * size;
  for (let i = 0; i < count; i++) take(buf, s, bytes, span);
  const key = JSON.stringify(dims);
  s[1] = [...s[1].filter(([k]) => k !== key), [key, count]];
  store(L, buf, s, 'alloc', span);
  return NONE;
};

/**
 * buf.zeros(shape) / buf.ones(shape): a slot set aside for the shape, or 2 bytes an element (the
 * original makes f16 tensors) from the pool; the tensor is `fill` (zeros or ones) of the shape.
 */
export function fromBuffer(L: Lowerer, buf: Val, shape: Val, method: 'zeros' | 'ones', fill: (shape: Val) => Val, span: A.Span): Val {
  if (buf.t !== 'tensorbuffer') throw new CompileError(`${method} takes one argument, the shape (buf.${method}(shape) takes it from a TensorBuffer)`, span);
  const dims = sizes(L, shape, `TensorBuffer.${method}`, span);
  const s = state(L, buf, span);
  const key = JSON.stringify(dims);
  const free = s[1].find(([k]) => k === key);
  if (free && free[1] > 0) free[1]--;
  else take(buf, s, dims.reduce((p, q) => p * q, 1) * 2, span);
  store(L, buf, s, method, span);
  return fill(shape);
}

/** How print shows a TensorBuffer, as the original's Display: whole MiB, rounded down. */
export function tensorBufferText(L: Lowerer, buf: Buffer, span: A.Span): string {
  return `TensorBuffer(capacity=${Math.floor(buf.capacity / MiB)}MB, used=${Math.floor(state(L, buf, span)[0] / MiB)}MB)`;
}

export const TENSOR_BUFFER_BUILTINS: Record<string, Builtin> = {
  new_tensor_buffer: b(1, 1, newTensorBuffer),
  alloc: b(4, 4, alloc),
};
