// Shape arithmetic with symbolic dims: a dim is a number or the name of a dim bound at run time.
import type { Dim } from './ir.ts';

export class ShapeError extends Error {}

export function showShape(s: Dim[]): string {
  return `[${s.join(', ')}]`;
}

/** Element count as a constant times a product of symbols (sorted), so [seq, 32, 64] == [seq, 2048]. */
export function elementCount(shape: Dim[]): { coef: number; syms: string[] } {
  let coef = 1;
  const syms: string[] = [];
  for (const d of shape) typeof d === 'number' ? (coef *= d) : syms.push(d);
  return { coef, syms: syms.sort() };
}

export function sameCount(a: Dim[], b: Dim[]): boolean {
  const x = elementCount(a), y = elementCount(b);
  return x.coef === y.coef && x.syms.join() === y.syms.join();
}

export function sameShape(a: Dim[], b: Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** numpy broadcasting of two shapes. */
export function broadcastShapes(a: Dim[], b: Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new ShapeError(`shapes ${showShape(a)} and ${showShape(b)} do not broadcast`);
  }
  return out;
}

export function bindDims(shape: Dim[], dims: Record<string, number>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const v = dims[d];
    if (v === undefined) throw new Error(`symbolic dim ${d} is unbound`);
    return v;
  });
}

export { product } from '../runtime/ops/common.ts';
