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

/** a + b on dims: a number, or a sum of names and one number written "seq+1" (a growing concat). */
export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const parts = [...String(a).split('+'), ...String(b).split('+')];
  const n = parts.filter((p) => /^\d+$/.test(p)).reduce((x, p) => x + Number(p), 0);
  const names = parts.filter((p) => !/^\d+$/.test(p)).sort();
  return [...names, ...(n ? [String(n)] : [])].join('+');
}

export function bindDims(shape: Dim[], dims: Record<string, number>): number[] {
  return shape.map((d) => bindDim(d, dims));
}

function bindDim(d: Dim, dims: Record<string, number>): number {
  if (typeof d === 'number') return d;
  const v = dims[d];
  if (v !== undefined) return v;
  if (d.includes('+')) return d.split('+').reduce((x, p) => x + (/^\d+$/.test(p) ? Number(p) : bindDim(p, dims)), 0);
  throw new Error(`symbolic dim ${d} is unbound`);
}

export { product } from '../runtime/ops/common.ts';
