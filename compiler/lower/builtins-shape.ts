// Shape builtins that are views or permutations: reshape and transpose nodes, no new kernels.
import type * as A from '../ast.ts';
import type { Dim } from '../ir.ts';
import type { Lowerer } from './stage.ts';
import { CompileError, describe, stat, type Val } from './values.ts';
import { tensorOf } from './tensors.ts';
import { sliceTensor } from './slicing.ts';
import { axis, b, node, num, type Builtin, type Lower } from './builtin-kit.ts';

function shapeOfTensor(L: Lowerer, x: Val, span: A.Span): { n: number; shape: Dim[] } {
  const n = tensorOf(L, x, span);
  return { n, shape: L.graph().shape(n) };
}

/** flatten(x): the elements as one dimension (sizes must be known at build time). */
const flatten: Lower = (L, [x], span) => {
  const { n, shape } = shapeOfTensor(L, x, span);
  if (shape.length === 1) return node(L, 'reshape', [n], { shape }, span);
  if (!shape.every((d): d is number => typeof d === 'number')) throw new CompileError(`flatten of [${shape.join(', ')}] needs sizes known at build time`, span);
  return node(L, 'reshape', [n], { shape: [shape.reduce((p, q) => p * q, 1)] }, span);
};

/** squeeze(x): without its dims of size 1; squeeze(x, dim): without that one (which must be 1). */
const squeeze: Lower = (L, [x, d], span) => {
  const { n, shape } = shapeOfTensor(L, x, span);
  const k = d ? axis(d, shape.length, span) : undefined;
  if (k !== undefined && shape[k] !== 1) throw new CompileError(`squeeze: dim ${k} of [${shape.join(', ')}] is not 1`, span);
  const kept = shape.filter((s, i) => (k === undefined ? s !== 1 : i !== k));
  return node(L, 'reshape', [n], { shape: kept }, span);
};

/** unsqueeze(x, dim): a dim of size 1 inserted at dim (-1: at the end). */
const unsqueeze: Lower = (L, [x, d], span) => {
  const { n, shape } = shapeOfTensor(L, x, span);
  const at = num(d, 'unsqueeze: dim', span);
  const k = at < 0 ? shape.length + 1 + at : at;
  if (!Number.isInteger(k) || k < 0 || k > shape.length) throw new CompileError(`unsqueeze: dim ${at} is out of range for a ${shape.length}-D tensor`, span);
  return node(L, 'reshape', [n], { shape: [...shape.slice(0, k), 1, ...shape.slice(k)] }, span);
};

/** permute(x, dims): dimension i of the result is dimension dims[i] of x. */
const permute: Lower = (L, [x, dims], span) => {
  const { n, shape } = shapeOfTensor(L, x, span);
  if (dims.t !== 'static' || !Array.isArray(dims.v)) throw new CompileError(`permute takes a list of dims known at build time, got ${describe(dims)}`, span);
  const perm = dims.v.map((v) => (typeof v === 'number' && v < 0 ? shape.length + v : v));
  const valid = perm.length === shape.length && [...perm].sort((p, q) => Number(p) - Number(q)).every((v, i) => v === i);
  if (!valid) throw new CompileError(`permute: [${dims.v.join(', ')}] does not reorder the ${shape.length} dims of [${shape.join(', ')}]`, span);
  return node(L, 'transpose', [n], { perm }, span);
};

/**
 * gather(x, dim, index) and scatter(x, dim, index, src), as the original's: the index has x's
 * shape except at dim; gather gives the index's shape, scatter x's, src written over x where the
 * index names it (the last duplicate in row-major order wins). Index values are rounded; one out
 * of range reads 0 (gather) or writes nothing (scatter), where the original stops with an error.
 * A 1-D index of a tensor of more dims (which the original refuses) names whole slices along dim:
 * the same positions for every slice, so `scatter(cache, 0, rows, data)` writes rows of data.
 */
const gatherScatter = (name: 'gather' | 'scatter'): Lower => (L, [x, d, index, src], span) => {
  const { n, shape } = shapeOfTensor(L, x, span);
  const dim = axis(d, shape.length, span);
  const args = [n, tensorOf(L, index, span), ...(src ? [tensorOf(L, src, span)] : [])];
  return node(L, name, args, { dim }, span);
};

/** A build-time count or dim given as a number (the original truncates a float, as `as usize`). */
function count(v: Val, what: string, span: A.Span): number {
  const n = Math.trunc(num(v, what, span));
  if (n < 0) throw new CompileError(`${what} must not be negative, got ${n}`, span);
  return n;
}

/**
 * split(x, size, dim) and chunk(x, chunks, dim), as the original's: it cuts x along dim into pieces
 * of `size` (chunk: ceil(dim / chunks)), the last one shorter, and returns only the first piece
 * (its builtins have no list of tensors to return). The first piece is x[0:min(size, n)] along dim:
 * a slice on the device. The size of dim must be known at build time.
 */
const firstPiece = (name: 'split' | 'chunk'): Lower => (L, [x, by, d], span) => {
  const { shape } = shapeOfTensor(L, x, span);
  const k = count(d, `${name}: dim`, span);
  if (k >= shape.length) throw new CompileError(`${name}: dim ${k} is out of range for a ${shape.length}-D tensor`, span);
  const n = shape[k];
  if (typeof n !== 'number') throw new CompileError(`${name}: the size of dim ${k} (${n}) must be known at build time`, span);
  const m = count(by, name === 'split' ? 'split: the piece size' : 'chunk: the number of chunks', span);
  if (m === 0) throw new CompileError(name === 'split' ? 'split: the piece size must be > 0' : 'chunk: the number of chunks must be > 0', span);
  const size = Math.min(name === 'split' ? m : Math.ceil(n / m), n);
  if (size === n) return x; // one piece: the whole tensor
  const ranges = shape.slice(0, k + 1).map((_, i) => (i === k ? { start: stat(0), end: stat(size) } : {}));
  return sliceTensor(L, x, ranges, span);
};

export const SHAPE_BUILTINS: Record<string, Builtin> = {
  split: b(3, 3, firstPiece('split')),
  chunk: b(3, 3, firstPiece('chunk')),
  flatten: b(1, 1, flatten),
  squeeze: b(1, 2, squeeze),
  unsqueeze: b(2, 2, unsqueeze),
  permute: b(2, 2, permute),
  gather: b(3, 3, gatherScatter('gather')),
  scatter: b(4, 4, gatherScatter('scatter')),
};
