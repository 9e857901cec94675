// Codegen: each graph node -> kernel dispatches (WGSL from shaders/, specialized per shape and
// weight type by the op functions in runtime/ops/). Shapes here are bound: numbers only.
import type { Node } from '../ir.ts';
import type { Dispatch } from '../../runtime/kernels.ts';
import type { WeightTensor } from '../../runtime/weights.ts';
import { TlcError } from '../../runtime/errors.ts';
import { contiguousStrides, product } from '../../runtime/ops/common.ts';
import { linear, embedding } from '../../runtime/ops/matmul.ts';
import { rmsNorm } from '../../runtime/ops/rms_norm.ts';
import { rope } from '../../runtime/ops/rope.ts';
import { softmax, softmaxAxis } from '../../runtime/ops/softmax.ts';
import { attention, kvF16Fits, kvWrite } from '../../runtime/ops/attention.ts';
import * as ew from '../../runtime/ops/elementwise.ts';
import { einsum } from '../../runtime/ops/einsum.ts';
import { copyStrided } from '../../runtime/ops/copy_strided.ts';
import { causalMask } from '../../runtime/ops/mask.ts';
import { sample } from '../../runtime/ops/sample.ts';
import { reduceExtreme } from '../../runtime/ops/reduce.ts';
import { gather, scatter } from '../../runtime/ops/gather_scatter.ts';
import { indicator, join, nonzeros } from '../../runtime/ops/logic.ts';
import { packBits, unpackBits, joinBits, bitsOr, bitsCount } from '../../runtime/ops/logic_bits.ts';

export interface NodeContext {
  nodes: Node[];
  shapes: number[][]; // every node's shape with dims bound
  dims: Record<string, number>; // the graph's symbolic dims, bound for this call
  /** The host-side value of a scalar input or constant (sampling settings). */
  scalar(node: number): number;
  buf(node: number): GPUBuffer;
  weight(node: number): WeightTensor;
  pos0: number; // position of row 0 (non-zero when the KV cache holds earlier rows)
  /** The KV cache of an attention node; `bytes` per value: 4 (f32) or 2 (f16 pairs). */
  kvCache(node: number, rows: number, nKvHead: number, headDim: number, bytes: 2 | 4): { k: GPUBuffer; v: GPUBuffer; rows: number };
  /** A concat whose first operand already sits at the front of its output buffer (appended in place). */
  inPlace?(node: number): boolean;
}

/** A reshape of contiguous data needs no kernel: it shares its argument's buffer. */
export function isView(n: Node): boolean {
  return n.op === 'reshape';
}

/** Row-major strides of `shape`, with 0 where `from` broadcasts (numpy rules, right-aligned). */
function broadcastStrides(from: number[], to: number[]): number[] {
  const strides = new Array<number>(to.length).fill(0);
  let acc = 1;
  for (let i = from.length - 1; i >= 0; i--) {
    const j = to.length - from.length + i;
    strides[j] = from[i] === 1 && to[j] !== 1 ? 0 : acc;
    acc *= from[i];
  }
  return strides;
}

export function dispatchesFor(n: Node, c: NodeContext): Dispatch[] {
  const shape = c.shapes[n.id];
  const arg = (i: number) => n.args[i];
  const argShape = (i: number) => c.shapes[n.args[i]];
  const y = () => c.buf(n.id);
  const x = (i = 0) => c.buf(arg(i));
  const last = shape[shape.length - 1] ?? 1;
  const a = n.attrs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  switch (n.op) {
    case 'ids':
    case 'scalar':
    case 'tensor':
    case 'const':
    case 'weight':
      return [];

    case 'reshape':
      if (product(argShape(0)) !== product(shape)) throw new TlcError(`cannot reshape [${argShape(0).join(', ')}] to [${shape.join(', ')}]`);
      return [];

    case 'embedding':
      return embedding({ table: c.weight(arg(0)), ids: x(1), y: y(), seq: product(argShape(1)) });

    case 'rms_norm': {
      const wNode = c.shapes[arg(1)];
      const w = isWeight(c, arg(1)) ? c.weight(arg(1)).chunks[0].buffer : x(1);
      return rmsNorm({ x: x(0), w, y: y(), rows: product(shape) / last, n: wNode[0], eps: a.eps });
    }

    case 'linear': {
      const M = product(argShape(0)) / argShape(0)[argShape(0).length - 1];
      if (a.epilogue === 'swiglu') return linear({ x: x(0), w: c.weight(arg(1)), y: y(), M, epilogue: { swiglu: c.weight(arg(2)) } });
      if (a.epilogue === 'add') return linear({ x: x(0), w: c.weight(arg(1)), y: y(), M, epilogue: { add: x(2) } });
      if (isWeight(c, arg(1))) return linear({ x: x(0), w: c.weight(arg(1)), y: y(), M });
      // A computed matrix: x (M, K) @ W (N, K)^T
      const [N, K] = argShape(1);
      return einsum('mk,nk->mn', { operands: [x(0), x(1)], shapes: [[M, K], [N, K]], out: y() });
    }

    case 'rope': {
      const [seq, nHead, headDim] = shape;
      const offset = n.args.length > 1 ? c.scalar(arg(1)) : 0; // rope(x, pos)
      if (!Number.isInteger(offset) || offset < 0) throw new TlcError(`rope: the position must be a whole number >= 0, got ${offset}`);
      return rope({ x: x(0), y: y(), seq, nHead, headDim, pos0: c.pos0 + offset, nRot: a.n_rot || headDim, base: a.base });
    }

    case 'attention': {
      const [seq, nHead, headDim] = shape;
      const nKvHead = argShape(1)[1];
      // llama.cpp keeps K and V in f16; rounding the same way keeps greedy outputs identical. Where
      // the head dim allows, the cache holds f16 proper: half the memory, half the loads.
      const f16 = kvF16Fits(headDim);
      const cache = c.kvCache(n.id, seq, nKvHead, headDim, f16 ? 2 : 4);
      const common = { seq, pos0: c.pos0, nKvHead, headDim, roundF16: true, packF16: f16 };
      return [
        ...kvWrite({ src: x(1), cache: cache.k, ...common }),
        ...kvWrite({ src: x(2), cache: cache.v, ...common }),
        ...attention({ q: x(0), k: cache.k, v: cache.v, out: y(), seq, pos0: c.pos0, nHead, nKvHead, headDim, scale: a.scale, llamaCppF16: true, kvF16: f16, maxKeys: cache.rows }),
      ];
    }

    case 'attention_kv': {
      const [, nHead, headDim] = shape;
      const [rows, nKvHead] = argShape(1);
      return attention({ q: x(0), k: x(1), v: x(2), out: y(), seq: 1, pos0: rows - 1, nHead, nKvHead, headDim, scale: a.scale, llamaCppF16: true });
    }

    case 'softmax':
      if (a.axis === shape.length - 1) return softmax({ x: x(0), y: y(), rows: product(shape) / last, n: last });
      return softmaxAxis({ x: x(0), y: y(), shape, axis: a.axis });

    case 'unary':
      return ew.unary(a.fn, { x: x(0), y: y(), n: product(shape) });

    case 'scale': {
      // y = x * value + bias: one kernel, or two when both parts are needed
      const n = product(shape);
      if (a.bias === 0 || a.bias === undefined) return ew.scale({ x: x(0), y: y(), n, s: a.value });
      if (a.value === 1) return ew.addScalar({ x: x(0), y: y(), n, c: a.bias });
      return [...ew.scale({ x: x(0), y: y(), n, s: a.value }), ...ew.addScalar({ x: y(), y: y(), n, c: a.bias })];
    }

    case 'binary':
      return ew.binary(a.fn, { a: x(0), aShape: argShape(0), b: x(1), bShape: argShape(1), out: y() });

    case 'swiglu':
      return ew.swiglu({ gate: x(0), up: x(1), out: y(), n: product(shape) });

    case 'reduce': {
      const src = argShape(0);
      if (a.fn === 'max' || a.fn === 'min') return reduceExtreme(a.fn, { x: x(0), y: y(), shape: src, axis: a.axis });
      // sum / mean over one axis (or all): an einsum that drops the index, then a scale for mean.
      const letters = 'abcdefgh'.slice(0, src.length);
      const kept = a.axis === undefined ? '' : [...letters].filter((_, i) => i !== a.axis).join('');
      const sum = einsum(`${letters}->${kept}`, { operands: [x(0)], shapes: [src], out: y() });
      if (a.fn === 'sum') return sum;
      if (a.fn !== 'mean') throw new TlcError(`no kernel for the reduction ${a.fn} yet`);
      const count = product(src) / Math.max(1, product(shape));
      return [...sum, ...ew.scale({ x: y(), y: y(), n: product(shape), s: 1 / count })];
    }

    case 'einsum':
      return einsum(a.eq, { operands: n.args.map((id) => c.buf(id)), shapes: n.args.map((id) => c.shapes[id]), out: y() });

    case 'broadcast_to':
      return copyStrided({ src: x(0), dst: y(), shape, strides: broadcastStrides(argShape(0), shape) });

    case 'transpose': {
      const src = argShape(0);
      const strides = contiguousStrides(src);
      return copyStrided({ src: x(0), dst: y(), shape, strides: (a.perm as number[]).map((p) => strides[p]) });
    }

    case 'slice_last': {
      const src = argShape(0);
      const strides = contiguousStrides(src);
      const keep = src.map((_, i) => i).filter((i) => i !== a.axis);
      return copyStrided({ src: x(0), dst: y(), shape, strides: keep.map((i) => strides[i]), srcOffset: (src[a.axis] - 1) * strides[a.axis] });
    }

    case 'concat': {
      // axis 0 (the lowering moves other axes to the front): a's elements, then b's.
      const [na, nb] = [product(argShape(0)), product(argShape(1))];
      const copy = (src: GPUBuffer, count: number, at: number) => copyStrided({ src, dst: y(), shape: [count], strides: [1], dstOffset: at });
      return [...(c.inPlace?.(n.id) ? [] : copy(x(0), na, 0)), ...copy(x(1), nb, na)];
    }

    case 'slice': {
      const src = argShape(0);
      const strides = contiguousStrides(src);
      const bind = (d: number | string) => (typeof d === 'number' ? d : c.dims[d]);
      const starts = (a.starts as (number | string)[]).map(bind), sizes = (a.sizes as (number | string)[]).map(bind);
      src.forEach((d, i) => {
        if (!(starts[i] >= 0 && sizes[i] >= 0 && starts[i] + sizes[i] <= d)) {
          throw new TlcError(a.keep[i] ? `the slice ${starts[i]}:${starts[i] + sizes[i]} is out of range for a dimension of size ${d}` : `index ${starts[i]} is out of range for a dimension of size ${d}`);
        }
      });
      const kept = src.map((_, i) => i).filter((i) => a.keep[i]);
      const srcOffset = starts.reduce((o, s, i) => o + s * strides[i], 0);
      return copyStrided({ src: x(0), dst: y(), shape, strides: kept.map((i) => strides[i]), srcOffset });
    }

    case 'gather':
    case 'scatter': {
      const common = { x: x(0), xShape: argShape(0), index: x(1), indexShape: argShape(1), indexType: c.nodes[arg(1)].dtype === 'u32' ? 'u32' as const : 'f32' as const, dim: a.dim, out: y() };
      return n.op === 'gather' ? gather(common) : scatter({ ...common, src: x(2) });
    }

    case 'indicator':
      needU32(c, arg(0), 'the offsets');
      return indicator({ offsets: x(0), count: product(argShape(0)), out: y(), n: product(shape) });

    case 'nonzeros':
      return nonzeros({ x: x(0), xShape: argShape(0), axis: a.axis, out: y() });

    case 'join':
      needU32(c, arg(0), 'the lists (from nonzeros)');
      return join({
        lists: x(0), listsShape: argShape(0), d: x(1), dShape: argShape(1), side: a.side, out: y(),
        ...(n.args.length > 2 ? { exclude: x(2), excludeShape: argShape(2) } : {}),
      });

    case 'pack_bits':
      needType(c, arg(0), 'f32', 'the relation');
      return packBits({ x: x(0), xShape: argShape(0), out: y() });

    case 'unpack_bits':
      needU32(c, arg(0), 'the packed bits');
      return unpackBits({ bits: x(0), bitsShape: argShape(0), n: a.n, out: y() });

    case 'join_bits':
      needU32(c, arg(0), 'the lists (from nonzeros)');
      needU32(c, arg(1), 'the packed relation');
      if (n.args.length > 2) needU32(c, arg(2), 'the packed exclude');
      return joinBits({
        lists: x(0), listsShape: argShape(0), d: x(1), dShape: argShape(1), n: a.n, side: a.side, out: y(),
        ...(n.args.length > 2 ? { exclude: x(2), excludeShape: argShape(2) } : {}),
      });

    case 'bits_or':
      needU32(c, arg(0), 'the packed bits');
      needU32(c, arg(1), 'the packed bits');
      return bitsOr({ a: x(0), aShape: argShape(0), b: x(1), bShape: argShape(1), out: y() });

    case 'bits_count':
      needU32(c, arg(0), 'the packed bits');
      return bitsCount({ a: x(0), words: product(argShape(0)), out: y() });

    case 'causal_mask':
      return causalMask({ mask: y(), rows: shape[0], cols: shape[1], pos0: 0 });

    case 'argmax':
    case 'sample': {
      // One token per row of logits (usually one row).
      const n0 = a.flat ? product(argShape(0)) : argShape(0)[argShape(0).length - 1];
      const rows = product(shape);
      const [temperature, topK, topP, u] = n.op === 'sample' ? [1, 2, 3, 4].map((i) => c.scalar(arg(i))) : [0, 0, 1, 0];
      const out: Dispatch[] = [];
      for (let r = 0; r < rows; r++) {
        out.push(...sample({ logits: x(0), out: y(), n: n0, offset: r * n0, outIndex: r, temperature, topK, topP, u }));
      }
      return out;
    }

    default:
      throw new TlcError(`no kernel for the op ${n.op} yet`);
  }
}

/** Kernels that read indices bind them as array<u32>: f32 data there would be read as garbage. */
function needU32(c: NodeContext, id: number, what: string): void {
  needType(c, id, 'u32', what);
}

/** The same for any binding type (pack_bits reads f32: u32 words there would be read as garbage). */
function needType(c: NodeContext, id: number, dtype: Node['dtype'], what: string): void {
  if (c.nodes[id].dtype !== dtype) throw new TlcError(`${what} must be ${dtype}, got ${c.nodes[id].dtype}`);
}

function isWeight(c: NodeContext, id: number): boolean {
  return c.nodes[id].op === 'weight';
}
