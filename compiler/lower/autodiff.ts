// Reverse-mode differentiation of a device graph: for a one-element node (the objective), appends
// the nodes that compute its gradient with respect to chosen leaves, in the same graph. Each rule
// composes existing ops (einsum for matmuls and sums, binary/unary/scale elementwise, reshape and
// broadcast_to for shapes), so the backward pass compiles to WGSL like the forward one. An op with
// no rule on a path from a leaf to the objective is a CompileError naming it and its place.
import type * as A from '../ast.ts';
import type { Dim } from '../ir.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { CompileError } from './values.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** The ops and functions with a rule here (docs and error messages list them). */
export const DIFFERENTIABLE = [
  'add', 'sub', 'mul', 'div', 'max', 'min', 'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'square', 'recip', 'abs', 'sin', 'cos',
  'tanh', 'relu', 'sigmoid', 'silu', 'scale', 'sum', 'mean', 'reshape', 'broadcast_to', 'transpose', 'linear', 'einsum', 'softmax',
];

/**
 * Appends to `g` the gradient of `loss` (a node whose every dim is 1) with respect to each of `wrt`
 * (leaf nodes); a leaf the loss does not depend on gets no entry.
 */
export function gradients(g: GraphBuilder, loss: number, wrt: number[], span: A.Span): Map<number, number> {
  const add = (op: string, args: number[], attrs: Record<string, unknown> = {}) => g.add(op, args, attrs, span);
  const shape = (n: number) => g.shape(n);
  const count = g.nodes.length; // nodes of the forward pass; those appended below are the backward pass

  // Nodes that depend on a leaf we differentiate for (node ids are in topological order).
  const live = new Set<number>(wrt);
  for (let i = 0; i <= loss; i++) if (g.nodes[i].args.some((a) => live.has(a))) live.add(i);
  const grads = new Map<number, number>();
  if (!live.has(loss)) return grads;
  const accumulate = (n: number, d: number) => {
    if (!live.has(n)) return;
    const prev = grads.get(n);
    grads.set(n, prev === undefined ? d : add('binary', [prev, d], { fn: 'add' }));
  };
  const ones = (s: Dim[]) => add('const', [], { shape: s, values: [1] });
  const mul = (a: number, b: number) => add('binary', [a, b], { fn: 'mul' });
  const scale = (a: number, value: number, bias = 0) => add('scale', [a], { value, bias });
  const un = (fn: string, a: number) => add('unary', [a], { fn });

  /** `d` (of a broadcast result) summed down to `target`'s shape. */
  const sumTo = (d: number, target: Dim[]): number => {
    const s = shape(d);
    if (sameDims(s, target)) return d;
    const extra = s.length - target.length;
    const letters = LETTERS.slice(0, s.length);
    const kept = [...letters].filter((_, i) => i >= extra && !(target[i - extra] === 1 && s[i] !== 1)).join('');
    const summed = add('einsum', [d], { eq: `${letters}->${kept}` });
    return add('reshape', [summed], { shape: target });
  };
  /** `d` with the dims `keptMask` marks false put back (size 1), broadcast to `target`. */
  const expand = (d: number, target: Dim[], kept: boolean[]): number => {
    const r = add('reshape', [d], { shape: target.map((t, i) => (kept[i] ? t : 1)) });
    return sameDims(shape(r), target) ? r : add('broadcast_to', [r], { shape: target });
  };

  grads.set(loss, ones(shape(loss)));
  for (let id = loss; id >= 0; id--) {
    const d = grads.get(id);
    if (d === undefined || id >= count) continue;
    const n = g.nodes[id];
    const [x, y] = n.args;
    const a = n.attrs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const refuse = (what: string): never => {
      throw new CompileError(`learn: cannot differentiate ${what}${n.at ? ` (made at ${n.at})` : ''}; gradients are compiled for ${DIFFERENTIABLE.join(', ')}`, span);
    };
    switch (n.op) {
      case 'const': case 'scalar': case 'tensor': case 'weight': case 'ids':
        break; // leaves
      case 'binary': {
        const [sx, sy] = [shape(x), shape(y)];
        switch (a.fn) {
          case 'add':
            accumulate(x, sumTo(d, sx));
            accumulate(y, sumTo(d, sy));
            break;
          case 'sub':
            accumulate(x, sumTo(d, sx));
            if (live.has(y)) accumulate(y, sumTo(scale(d, -1), sy));
            break;
          case 'mul':
            if (live.has(x)) accumulate(x, sumTo(mul(d, y), sx));
            if (live.has(y)) accumulate(y, sumTo(mul(d, x), sy));
            break;
          case 'div':
            if (live.has(x)) accumulate(x, sumTo(add('binary', [d, y], { fn: 'div' }), sx));
            // d(x / y)/dy = -(x / y) / y
            if (live.has(y)) accumulate(y, sumTo(scale(add('binary', [mul(d, id), y], { fn: 'div' }), -1), sy));
            break;
          case 'max':
          case 'min': {
            // The gradient goes to the operand chosen (y on ties).
            const pick = un('step', add('binary', a.fn === 'max' ? [x, y] : [y, x], { fn: 'sub' }));
            if (live.has(x)) accumulate(x, sumTo(mul(d, pick), sx));
            if (live.has(y)) accumulate(y, sumTo(mul(d, scale(pick, -1, 1)), sy));
            break;
          }
          default:
            refuse(`the binary op ${a.fn}`);
        }
        break;
      }
      case 'unary': {
        const local = (): number => {
          switch (a.fn) {
            case 'neg': return scale(d, -1);
            case 'exp': return mul(d, id);
            case 'log': return add('binary', [d, x], { fn: 'div' });
            case 'sqrt': return mul(d, scale(un('recip', id), 0.5));
            case 'rsqrt': return mul(d, scale(mul(id, un('square', id)), -0.5));
            case 'square': return mul(d, scale(x, 2));
            case 'recip': return mul(d, scale(un('square', id), -1));
            case 'abs': return mul(d, scale(un('step', x), 2, -1));
            case 'sin': return mul(d, un('cos', x));
            case 'cos': return mul(d, scale(un('sin', x), -1));
            case 'tanh': return mul(d, scale(un('square', id), -1, 1));
            case 'relu': return mul(d, un('step', x));
            case 'sigmoid': return mul(d, mul(id, scale(id, -1, 1)));
            case 'silu': {
              // s (1 + x (1 - s)) with s = sigmoid(x)
              const s = un('sigmoid', x);
              return mul(d, mul(s, scale(mul(x, scale(s, -1, 1)), 1, 1)));
            }
            default:
              return refuse(`the function ${a.fn}`);
          }
        };
        accumulate(x, local());
        break;
      }
      case 'scale':
        accumulate(x, scale(d, a.value as number));
        break;
      case 'reduce': {
        if (a.fn !== 'sum' && a.fn !== 'mean') refuse(`the reduction ${a.fn}`);
        const sx = shape(x);
        const kept = sx.map((_, i) => a.axis !== undefined && i !== a.axis);
        let back = expand(d, sx, kept);
        if (a.fn === 'mean') {
          const reduced = sx.filter((_, i) => !kept[i]);
          if (reduced.some((s) => typeof s !== 'number')) refuse('a mean over a size known only at run time');
          back = scale(back, 1 / (reduced as number[]).reduce((p, q) => p * q, 1));
        }
        accumulate(x, back);
        break;
      }
      case 'reshape':
        accumulate(x, add('reshape', [d], { shape: shape(x) }));
        break;
      case 'broadcast_to':
        accumulate(x, sumTo(d, shape(x)));
        break;
      case 'transpose': {
        const perm = a.perm as number[];
        const inverse = perm.map((_, i) => perm.indexOf(i));
        accumulate(x, add('transpose', [d], { perm: inverse }));
        break;
      }
      case 'linear': {
        if (a.epilogue) refuse(`linear with a fused ${a.epilogue}`);
        // out[..., n] = sum_k x[..., k] W[n, k]
        const pre = LETTERS.slice(2, 2 + shape(x).length - 1);
        if (live.has(x)) accumulate(x, add('einsum', [d, y], { eq: `${pre}n,nk->${pre}k` }));
        if (live.has(y)) accumulate(y, add('einsum', [d, x], { eq: `${pre}n,${pre}k->nk` }));
        break;
      }
      case 'einsum': {
        const [lhs, out] = String(a.eq).replace(/\s+/g, '').split('->');
        const ins = lhs.split(',');
        if (out === undefined) refuse('an einsum without an explicit output ("ij,jk->ik")');
        n.args.forEach((arg, i) => {
          if (!live.has(arg)) return;
          const idx = ins[i];
          if (new Set(idx).size !== idx.length || new Set(out).size !== out.length) refuse(`the einsum "${a.eq}" (a repeated index)`);
          const others = n.args.filter((_, j) => j !== i);
          const known = new Set([...out, ...ins.filter((_, j) => j !== i).join('')]);
          // Indices of this operand summed by the einsum and in no other operand: broadcast back.
          const present = [...idx].filter((c) => known.has(c)).join('');
          let back = add('einsum', [d, ...others], { eq: `${[out, ...ins.filter((_, j) => j !== i)].join(',')}->${present}` });
          const target = shape(arg);
          if (present.length !== idx.length) {
            const kept = [...idx].map((c) => known.has(c));
            back = expand(back, target.map((t, j) => (kept[j] ? shape(back)[present.indexOf(idx[j])] : t)), kept);
          }
          accumulate(arg, sumTo(back, target));
        });
        break;
      }
      case 'softmax': {
        // x' = y (d - sum(d y, axis))
        const dy = mul(d, id);
        const sy = shape(id);
        const total = expand(add('reduce', [dy], { fn: 'sum', axis: a.axis }), sy, sy.map((_, i) => i !== a.axis));
        accumulate(x, mul(id, add('binary', [d, total], { fn: 'sub' })));
        break;
      }
      case 'indicator': case 'nonzeros': case 'join':
      case 'pack_bits': case 'unpack_bits': case 'join_bits': case 'bits_or': case 'bits_count':
        // Relations are 0/1 (facts, not quantities): there is no gradient to pass through them.
        refuse(`the logic op ${n.op} (its result is a 0/1 relation, packed bits, a count of facts or index lists, with no gradient)`);
        break;
      default:
        refuse(`the op ${n.op}`);
    }
  }
  const out = new Map<number, number>();
  for (const w of wrt) {
    const d = grads.get(w);
    if (d !== undefined) out.set(w, d);
  }
  return out;
}

function sameDims(a: Dim[], b: Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
