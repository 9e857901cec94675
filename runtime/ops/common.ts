// What every op function shares: buffer arguments, aliasing checks, argument errors.
import type { Binding } from '../kernels.ts';
import { TlcError } from '../errors.ts';

/** A tensor argument: a whole buffer, or a binding at a 256-byte-aligned offset. */
export type Buf = GPUBuffer | Binding;

export class OpError extends TlcError {
  override name = 'OpError';
}

export function bufferOf(b: Buf): GPUBuffer {
  return 'buffer' in b ? b.buffer : b;
}

/**
 * True when two arguments are the same GPU buffer. WebGPU forbids binding one buffer both
 * read-only and writable in a dispatch, so ops switch to an in-place kernel variant then.
 */
export function sameBuffer(a: Buf, b: Buf): boolean {
  return bufferOf(a) === bufferOf(b);
}

export function check(cond: boolean, op: string, what: string): asserts cond {
  if (!cond) throw new OpError(`${op}: ${what}`);
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides, in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}
