// The graph passes (compiler/passes/) on small hand-built graphs: what each rewrites, and each
// condition that keeps it from rewriting. Host-only (no device): the passes only transform the IR.
import assert from 'node:assert/strict';
import type { DType, Dim, Graph, HostExpr, HostStmt, IR, Node } from '../compiler/ir.ts';
import { PASSES } from '../compiler/passes/index.ts';
import { fuseElementwise } from '../compiler/passes/fuse-elementwise.ts';
import { fuseAttention } from '../compiler/passes/fuse-attention.ts';
import { fuseLinear } from '../compiler/passes/fuse-linear.ts';
import { kvCache } from '../compiler/passes/kv-cache.ts';
import { removeDeadNodes, throughViews, useCounts } from '../compiler/passes/graph-utils.ts';
import { checkLimits, DEFAULT_LIMITS, tensorBytes, tooBig } from '../compiler/passes/check-limits.ts';

/** A graph under construction: add() appends a node and returns its id. */
class G {
  readonly nodes: Node[] = [];
  readonly inputs: Graph['inputs'] = [];
  readonly outputs: Graph['outputs'] = [];
  constructor(readonly id = 0) {}

  add(op: string, args: number[], attrs: Record<string, unknown>, shape: Dim[], dtype: DType = 'f32'): number {
    this.nodes.push({ id: this.nodes.length, op, args, attrs, shape, dtype });
    return this.nodes.length - 1;
  }
  ids(dim: Dim = 'seq'): number {
    const n = this.add('ids', [], { dim }, [dim], 'u32');
    this.inputs.push({ kind: 'ids', node: n });
    return n;
  }
  tensor(shape: Dim[], dtype: DType = 'f32'): number {
    const n = this.add('tensor', [], { shape, dtype }, shape, dtype);
    this.inputs.push({ kind: 'tensor', node: n });
    return n;
  }
  scalar(): number {
    const n = this.add('scalar', [], {}, []);
    this.inputs.push({ kind: 'scalar', node: n });
    return n;
  }
  weight(name: string, shape: number[]): number {
    return this.add('weight', [], { name, shape }, shape);
  }
  out(node: number, keep = false): this {
    this.outputs.push({ node, element: -1, ...(keep ? { keep } : {}) });
    return this;
  }
  graph(): Graph {
    return { id: this.id, name: `graph${this.id}`, dims: [], inputs: this.inputs, nodes: this.nodes, outputs: this.outputs };
  }
}

const irOf = (graphs: Graph[], host: HostStmt[] = [], weights: IR['weights'] = []): IR => ({ host, graphs, weights });
/** The nodes of a graph as "op(args)" lines, ids as they are after the pass. */
const text = (g: Graph) => g.nodes.map((n) => `${n.op}(${n.args.join(',')})${n.attrs.fn ? ` ${n.attrs.fn}` : ''}${n.attrs.epilogue ? ` +${n.attrs.epilogue}` : ''}`);
const opsOf = (g: Graph) => g.nodes.map((n) => n.op);
const outOp = (g: Graph) => g.nodes[g.outputs[0].node];

describe('graph passes', () => {
  it('run in the order fuse-elementwise, fuse-attention, fuse-linear, kv-cache', () => {
    assert.deepEqual(PASSES.map((p) => p.name), ['fuse-elementwise', 'fuse-attention', 'fuse-linear', 'kv-cache']);
  });

  describe('graph-utils', () => {
    it('throughViews follows reshape and broadcast_to back to the data, and stops at anything else', () => {
      const g = new G();
      const x = g.tensor([2, 4]);
      const e = g.add('unary', [x], { fn: 'exp' }, [2, 4]);
      const r = g.add('reshape', [e], { shape: [8] }, [8]);
      const b = g.add('broadcast_to', [r], { shape: [3, 8] }, [3, 8]);
      const r2 = g.add('reshape', [b], { shape: [24] }, [24]);
      const gr = g.graph();
      assert.deepEqual([r2, b, r, e, x].map((id) => throughViews(gr, id).id), [e, e, e, e, x]);
    });

    it('useCounts counts each argument use and each output', () => {
      const g = new G();
      const x = g.tensor([4]);
      const y = g.add('binary', [x, x], { fn: 'mul' }, [4]);
      const z = g.add('unary', [y], { fn: 'exp' }, [4]);
      g.add('unary', [x], { fn: 'neg' }, [4]); // used by nothing
      g.out(z).out(y);
      assert.deepEqual(useCounts(g.graph()), [3, 2, 1, 0]);
    });

    it('removeDeadNodes drops what no output needs, keeps inputs, and renumbers nodes, args, inputs and outputs', () => {
      const g = new G();
      const dead1 = g.add('const', [], { shape: [4] }, [4]);
      const x = g.tensor([4]);
      const unused = g.scalar(); // an input nothing reads: kept
      const dead2 = g.add('unary', [x], { fn: 'neg' }, [4]);
      const y = g.add('unary', [x], { fn: 'exp' }, [4]);
      const z = g.add('binary', [y, x], { fn: 'add' }, [4]);
      g.add('binary', [dead2, dead1], { fn: 'mul' }, [4]);
      g.out(z).out(y);
      const r = removeDeadNodes(g.graph());
      assert.deepEqual(text(r), ['tensor()', 'scalar()', 'unary(0) exp', 'binary(2,0) add']);
      assert.deepEqual(r.nodes.map((n) => n.id), [0, 1, 2, 3]);
      assert.deepEqual(r.inputs, [{ kind: 'tensor', node: 0 }, { kind: 'scalar', node: 1 }]);
      assert.deepEqual(r.outputs.map((o) => o.node), [3, 2]);
      assert.equal(unused, 2);
    });

    it('removeDeadNodes handles a chain longer than the call stack allows recursion for', () => {
      const g = new G();
      let x = g.tensor([1]);
      for (let i = 0; i < 200_000; i++) x = g.add('unary', [x], { fn: 'neg' }, [1]);
      g.out(x);
      assert.equal(removeDeadNodes(g.graph()).nodes.length, 200_001);
    });
  });

  describe('fuse-elementwise', () => {
    const run = (g: G) => fuseElementwise.run(irOf([g.graph()])).graphs[0];
    /** x (the node a), another tensor b, sigmoid(x); `make` builds the rest and returns the output. */
    const cases: [string, (g: G, x: number, b: number, s: number) => number, string[]][] = [
      ['x * sigmoid(x) -> silu(x)', (g, x, _b, s) => g.add('binary', [x, s], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) silu']],
      ['sigmoid(x) * x -> silu(x)', (g, x, _b, s) => g.add('binary', [s, x], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) silu']],
      ['b * sigmoid(x) stays', (g, _x, b, s) => g.add('binary', [b, s], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) sigmoid', 'binary(1,2) mul']],
      ['sigmoid(x) * b stays', (g, _x, b, s) => g.add('binary', [s, b], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) sigmoid', 'binary(2,1) mul']],
      ['x + sigmoid(x) stays', (g, x, _b, s) => g.add('binary', [x, s], { fn: 'add' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) sigmoid', 'binary(0,2) add']],
      ['x * exp(x) stays', (g, x) => g.add('binary', [x, g.add('unary', [x], { fn: 'exp' }, [2, 4])], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) exp', 'binary(0,2) mul']],
      ['x * sigmoid(x) * b -> swiglu(x, b)', (g, x, b, s) => g.add('binary', [g.add('binary', [x, s], { fn: 'mul' }, [2, 4]), b], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'swiglu(0,1)']],
      ['b * (sigmoid(x) * x) -> swiglu(x, b)', (g, x, b, s) => g.add('binary', [b, g.add('binary', [s, x], { fn: 'mul' }, [2, 4])], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'swiglu(0,1)']],
      ['silu(x) * b -> swiglu(x, b)', (g, x, b) => g.add('binary', [g.add('unary', [x], { fn: 'silu' }, [2, 4]), b], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'swiglu(0,1)']],
      ['b * silu(x) -> swiglu(x, b)', (g, x, b) => g.add('binary', [b, g.add('unary', [x], { fn: 'silu' }, [2, 4])], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'swiglu(0,1)']],
      ['silu(x) + b stays', (g, x, b) => g.add('binary', [g.add('unary', [x], { fn: 'silu' }, [2, 4]), b], { fn: 'add' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) silu', 'binary(2,1) add']],
      ['gelu(x) * b stays', (g, x, b) => g.add('binary', [g.add('unary', [x], { fn: 'gelu' }, [2, 4]), b], { fn: 'mul' }, [2, 4]), ['tensor()', 'tensor()', 'unary(0) gelu', 'binary(2,1) mul']],
      ['silu(x) * c with c broadcast over rows stays (swiglu wants one shape)', (g, x) => {
        const c = g.add('const', [], { shape: [4] }, [4]);
        return g.add('binary', [g.add('unary', [x], { fn: 'silu' }, [2, 4]), c], { fn: 'mul' }, [2, 4]);
      }, ['tensor()', 'tensor()', 'const()', 'unary(0) silu', 'binary(3,2) mul']],
      ['c * silu(x) with c broadcast stays', (g, x) => {
        const c = g.add('const', [], { shape: [4] }, [4]);
        return g.add('binary', [c, g.add('unary', [x], { fn: 'silu' }, [2, 4])], { fn: 'mul' }, [2, 4]);
      }, ['tensor()', 'tensor()', 'const()', 'unary(0) silu', 'binary(2,3) mul']],
    ];
    for (const [name, make, expected] of cases) {
      it(name, () => {
        const g = new G();
        const x = g.tensor([2, 4]), b = g.tensor([2, 4]);
        // sigmoid(x) exists in every case; unused, it goes with the dead nodes.
        const s = g.add('unary', [x], { fn: 'sigmoid' }, [2, 4]);
        g.out(make(g, x, b, s));
        assert.deepEqual(text(run(g)), expected);
      });
    }
  });

  describe('fuse-attention', () => {
    type Expand = 'both' | 'none' | 'k' | 'bad-one' | 'bad-heads' | 'bad-kv' | 'not-reshape' | 'not-broadcast' | 'inner-not-reshape' | '2d'
      | 'src-4d' | 'src-rows' | 'src-kv' | 'src-dim' | 'out-4d' | 'bcast-3d' | '4d';
    interface Opts {
      seq?: Dim; kvRows?: Dim; heads?: number; kvHeads?: number; dim?: number; kDim?: number; vDim?: number; vHeads?: number; qRows?: Dim;
      scores?: string; mix?: string; axis?: number; maskN?: Dim; mask?: 'right' | 'left' | 'none' | 'other' | 'other-n' | 'mul';
      scale?: number | 'bias' | 'none'; expand?: Expand; weights?: 'softmax' | 'exp';
    }
    /**
     * softmax(mask(einsum(scores, Q, expand(K)) * scale, causal_mask(seq)), axis) then einsum(mix, ., expand(V)).
     * Returns the graph and the ids of q, k, v (the unexpanded ones) and of the expanded k.
     */
    function attention(o: Opts = {}) {
      const seq = o.seq ?? 'seq', kvRows = o.kvRows ?? seq, H = o.heads ?? 4, KV = o.kvHeads ?? 2, D = o.dim ?? 8;
      const g = new G();
      const q = g.tensor([o.qRows ?? seq, H, D]);
      const k = g.tensor([kvRows, KV, o.kDim ?? D]);
      const v = g.tensor([kvRows, o.vHeads ?? KV, o.vDim ?? D]);
      const expand = (src: number, kind: Opts['expand']): number => {
        const [rows, kv, d] = g.nodes[src].shape as [Dim, number, number], grp = H / kv;
        switch (kind) {
          case 'none': return src;
          case 'not-reshape': return g.add('unary', [src], { fn: 'neg' }, [rows, kv, d]);
          case '2d': return g.add('reshape', [src], { shape: [rows, kv * d] }, [rows, kv * d]);
          case '4d': return g.add('reshape', [src], { shape: [rows, kv, d, 1] }, [rows, kv, d, 1]);
          case 'not-broadcast': { // another op of the broadcast's shape in its place
            const r = g.add('reshape', [src], { shape: [rows, kv, 1, d] }, [rows, kv, 1, d]);
            const b = g.add('unary', [r], { fn: 'neg' }, [rows, kv, grp, d]);
            return g.add('reshape', [b], { shape: [rows, kv * grp, d] }, [rows, kv * grp, d]);
          }
          case 'bcast-3d': { // a 3-D broadcast_to whose dims 1 and 2 still multiply to the heads
            const r = g.add('reshape', [src], { shape: [rows, kv, 1, d] }, [rows, kv, 1, d]);
            const b = g.add('broadcast_to', [r], { shape: [rows, kv, grp] }, [rows, kv, grp]);
            return g.add('reshape', [b], { shape: [rows, kv * grp, d] }, [rows, kv * grp, d]);
          }
        }
        // A source of another shape in front of the reshape (the pass checks each dim of it).
        const wrong: Partial<Record<Expand, Dim[]>> = {
          'src-4d': [rows, kv, d, 1], 'src-rows': ['other', kv, d], 'src-kv': [rows, kv + 1, d], 'src-dim': [rows, kv, d + 1],
        };
        const from = wrong[kind!] ? g.add('reshape', [src], { shape: wrong[kind!] }, wrong[kind!]!) : src;
        const one = kind === 'bad-one' ? 2 : 1;
        const r = g.add(kind === 'inner-not-reshape' ? 'unary' : 'reshape', [from], { shape: [rows, kv, one, d] }, [rows, kv, one, d]);
        const bShape = kind === 'bad-kv' ? [rows, H, 1, d] : [rows, kv, grp, d]; // bad-kv: H x 1 is still the heads
        const b = g.add('broadcast_to', [r], { shape: bShape }, bShape);
        const heads = kind === 'bad-heads' ? H + 1 : H;
        const nShape = kind === 'out-4d' ? [rows, heads, d, 1] : [rows, heads, d];
        return g.add('reshape', [b], { shape: nShape }, nShape);
      };
      const ex = o.expand ?? 'both';
      const kx = expand(k, ex === 'k' ? 'both' : ex);
      const vx = expand(v, ex === 'k' ? 'none' : ex);
      let s = g.add('einsum', [q, kx], { eq: o.scores ?? 'ihd,jhd->ihj' }, [seq, H, kvRows]);
      if (o.scale !== 'none') s = g.add('scale', [s], { value: typeof o.scale === 'number' ? o.scale : 0.5, ...(o.scale === 'bias' ? { bias: 1 } : {}) }, [seq, H, kvRows]);
      let w = s;
      const maskKind = o.mask ?? 'right';
      if (maskKind !== 'none') {
        const m0 = maskKind === 'other' || maskKind === 'other-n'
          ? g.add('const', [], { shape: [seq, kvRows], ...(maskKind === 'other-n' ? { n: seq } : {}) }, [seq, kvRows])
          : g.add('causal_mask', [], { n: o.maskN ?? seq }, [seq, seq]);
        const m1 = g.add('reshape', [m0], { shape: [seq, 1, seq] }, [seq, 1, seq]);
        const m = g.add('broadcast_to', [m1], { shape: [seq, H, seq] }, [seq, H, seq]);
        w = g.add('binary', maskKind === 'left' ? [m, s] : [s, m], { fn: maskKind === 'mul' ? 'mul' : 'add' }, [seq, H, kvRows]);
      }
      const sm = o.weights === 'exp' ? g.add('unary', [w], { fn: 'exp', axis: 2 }, [seq, H, kvRows]) : g.add('softmax', [w], { axis: o.axis ?? 2 }, [seq, H, kvRows]);
      g.out(g.add('einsum', [sm, vx], { eq: o.mix ?? 'ihj,jhd->ihd' }, [seq, H, D]));
      return { g: g.graph(), q, k, v, kx };
    }
    const run = (gr: Graph) => fuseAttention.run(irOf([gr])).graphs[0];
    /** The output node after the pass, as [op, its args by the names of the input tensors, scale]. */
    function fused(o: Opts): [string, string[], unknown] {
      const { g } = attention(o);
      const r = run(g);
      const n = outOp(r);
      const names = new Map([[0, 'q'], [1, 'k'], [2, 'v']]);
      return [n.op, n.args.map((a) => names.get(a) ?? r.nodes[a].op), n.attrs.scale];
    }

    const cases: [string, Opts, [string, string[], unknown]][] = [
      ['causal self-attention over grouped K and V -> attention(q, k, v) with the scale', {}, ['attention', ['q', 'k', 'v'], 0.5]],
      ['the mask on the left of the add', { mask: 'left' }, ['attention', ['q', 'k', 'v'], 0.5]],
      ['no scale: scale 1', { scale: 'none' }, ['attention', ['q', 'k', 'v'], 1]],
      ['another scale', { scale: 0.125 }, ['attention', ['q', 'k', 'v'], 0.125]],
      ['K and V without the grouped expansion (as many KV heads as heads)', { expand: 'none', kvHeads: 4 }, ['attention', ['q', 'k', 'v'], 0.5]],
      ['letters renamed, spaces in the equations', { scores: 'abc, dbc -> abd', mix: 'xyz,zyw->xyw' }, ['attention', ['q', 'k', 'v'], 0.5]],
      ['one query row over a K/V cache of n rows, no mask -> attention_kv', { seq: 1, kvRows: 'n', mask: 'none' }, ['attention_kv', ['q', 'k', 'v'], 0.5]],
      ['one query row over one K/V row, no mask -> attention_kv', { seq: 1, mask: 'none' }, ['attention_kv', ['q', 'k', 'v'], 0.5]],
      ['one query row with a causal mask of 1 -> attention', { seq: 1 }, ['attention', ['q', 'k', 'v'], 0.5]],
      ['one query row whose mask is no causal mask: stays', { seq: 1, mask: 'other' }, ['einsum', ['softmax', 'reshape'], undefined]],
      // stays an einsum
      ['softmax over another axis', { axis: 1 }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['a mask of another size', { maskN: 'other' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['a mask that is no causal mask', { mask: 'other' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['a mask multiplied, not added', { mask: 'mul' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['no mask over many query rows', { mask: 'none' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['a scale with a bias', { scale: 'bias' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['scores contracting another letter', { scores: 'ihd,jhd->ihd' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['scores einsum of another form', { scores: 'ihd,jhd->hij' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['a mix einsum of another form', { mix: 'ihj,jhd->hid' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['the equations swapped (scores where the mix goes)', { scores: 'ihj,jhd->ihd', mix: 'ihd,jhd->ihj' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['weights that are no softmax', { weights: 'exp' }, ['einsum', ['unary', 'reshape'], undefined]],
      ['query rows that are not the sequence', { qRows: 'other' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['heads that are no multiple of the KV heads', { expand: 'none', heads: 3, kvHeads: 2 }, ['einsum', ['softmax', 'v'], undefined]],
      ['a K head size unlike Q\'s', { expand: 'none', kvHeads: 4, kDim: 4 }, ['einsum', ['softmax', 'v'], undefined]],
      ['K expanded, V (of 4 heads) not: their shapes differ', { expand: 'k', vHeads: 4 }, ['einsum', ['softmax', 'v'], undefined]],
      ['V with other heads than K', { expand: 'none', kvHeads: 4, vHeads: 2 }, ['einsum', ['softmax', 'v'], undefined]],
      ['one query row over a cache of n rows with a causal mask of 1 (which masks nothing) -> attention_kv', { seq: 1, kvRows: 'n' }, ['attention_kv', ['q', 'k', 'v'], 0.5]],
      ['many query rows over a K/V of other rows', { kvRows: 'n' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['K and V 2-D', { expand: '2d' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['K and V 4-D (a reshape that is no expansion)', { expand: '4d' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['K and V expanded to 4-D', { expand: 'out-4d' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['a mask that is no causal mask, though it has the n attribute', { mask: 'other-n' }, ['einsum', ['softmax', 'reshape'], undefined]],
      ['K and V whose head size is not Q\'s', { expand: 'none', kvHeads: 4, kDim: 4, vDim: 4 }, ['einsum', ['softmax', 'v'], undefined]],
    ];
    for (const [name, o, expected] of cases) it(name, () => assert.deepEqual(fused(o), expected));

    // An expansion that is not the grouped-query broadcast is taken as it is: attention over the
    // expanded K and V (as many KV heads as heads), or no fusion where their heads do not fit Q's.
    const unexpanded: [string, Expand, [string, string]][] = [
      ['the middle dim is not 1', 'bad-one', ['attention', 'reshape']],
      ['the heads are not kv x group', 'bad-heads', ['einsum', 'reshape']],
      ['the broadcast changes the KV heads', 'bad-kv', ['attention', 'reshape']],
      ['the source is 4-D', 'src-4d', ['attention', 'reshape']],
      ['the source has other rows', 'src-rows', ['attention', 'reshape']],
      ['the source has other KV heads', 'src-kv', ['attention', 'reshape']],
      ['the source has another head size', 'src-dim', ['attention', 'reshape']],
      ['no broadcast_to in the middle', 'not-broadcast', ['attention', 'reshape']],
      ['the inner view is no reshape', 'inner-not-reshape', ['attention', 'reshape']],
      ['no reshape at all, another op (of KV heads)', 'not-reshape', ['attention', 'unary']],
      ['the broadcast_to is 3-D', 'bcast-3d', ['attention', 'reshape']],
    ];
    for (const [name, expand, [op, kOp]] of unexpanded) {
      it(`K and V are not un-expanded when ${name}: ${op}`, () => {
        const { g, kx } = attention({ expand });
        const r = run(g);
        const n = outOp(r);
        assert.deepEqual([n.op, r.nodes[n.args[1]].op], [op, kOp]);
        if (op === 'attention') assert.deepEqual(r.nodes[n.args[1]].shape, g.nodes[kx].shape);
      });
    }

    // Each condition of the two einsum forms on its own: scores "ihd,jhd->ihj", mix "ihj,jhd->ihd".
    const forms: [string, string, string, boolean][] = [
      ['scores', 'ihd,jhd->ihj', 'the form itself', true],
      ['scores', 'hhd,jhd->hhj', 'a letter twice in the first operand', false],
      ['scores', 'ihd,jkd->ihj', 'another head letter in the second operand', false],
      ['scores', 'ihd,jhe->ihj', 'no common last letter', false],
      ['scores', 'ihd,ihd->ihi', 'the key letter is the query letter', false],
      ['scores', 'ihd,dhd->ihd', 'the key letter is the contracted one', false],
      ['scores', 'ihd,jhd->xhj', 'another first output letter', false],
      ['scores', 'ihd,jhd->ixj', 'another second output letter', false],
      ['scores', 'xihd,jhd->ihj', 'four letters', false],
      ['scores', 'ihd,jhd->ihjx', 'four output letters', false],
      ['mix', 'ihj,jhd->ihd', 'the form itself', true],
      ['mix', 'ihj,khd->ihd', 'the contracted letters differ', false],
      ['mix', 'ihj,jhi->ihi', 'the value letter is the query letter', false],
      ['mix', 'ihj,jhj->ihj', 'the value letter is the contracted one', false],
      ['mix', 'ihj,jhd->xhd', 'another first output letter', false],
      ['mix', 'ihj,jhd->ixd', 'another second output letter', false],
      ['mix', 'ihj,jhd->ihx', 'another last output letter', false],
    ];
    for (const [which, eq, what, ok] of forms) {
      it(`${which} einsum ${eq}: ${what}: ${ok ? 'fused' : 'stays'}`, () => {
        assert.equal(fused(which === 'scores' ? { scores: eq } : { mix: eq })[0], ok ? 'attention' : 'einsum');
      });
    }

    it('the fused graph loses the scores, the mask and the softmax', () => {
      const r = run(attention().g);
      assert.deepEqual(opsOf(r), ['tensor', 'tensor', 'tensor', 'attention']);
      assert.deepEqual(r.outputs, [{ node: 3, element: -1 }]);
    });

    it('a graph with nothing to fuse comes back as it was', () => {
      const g = new G();
      g.out(g.add('unary', [g.tensor([2])], { fn: 'neg' }, [2]));
      const before = g.graph();
      assert.equal(run(before), before);
    });
  });

  describe('fuse-linear', () => {
    interface Opts {
      gateUsedTwice?: boolean; otherX?: boolean; upShape?: number[]; upType?: string; gateNotWeight?: boolean; upNotWeight?: boolean;
      gateEpilogue?: boolean; upEpilogue?: boolean; swigluShape?: number[]; gateShape?: number[]; upOutShape?: number[]; op?: string;
    }
    function swiglu(o: Opts = {}) {
      const g = new G();
      const x = g.tensor([2, 8]), x2 = g.tensor([2, 8]);
      const wg = o.gateNotWeight ? g.tensor([6, 8]) : g.weight('gate', [6, 8]);
      const wu = o.upNotWeight ? g.tensor(o.upShape ?? [6, 8]) : g.weight('up', o.upShape ?? [6, 8]);
      const extra = g.tensor([2, 6]);
      const gate = g.add(o.op ?? 'linear', o.gateEpilogue ? [x, wg, extra] : [x, wg], {}, o.gateShape ?? [2, 6]);
      const up = g.add(o.op ?? 'linear', o.upEpilogue ? [o.otherX ? x2 : x, wu, extra] : [o.otherX ? x2 : x, wu], {}, o.upOutShape ?? [2, 6]);
      g.out(g.add('swiglu', [gate, up], {}, o.swigluShape ?? [2, 6]));
      if (o.gateUsedTwice) g.out(gate);
      const weights = [{ name: 'gate', type: 'Q8_0', shape: [8, 6] }, { name: 'up', type: o.upType ?? 'Q8_0', shape: [8, 6] }];
      return fuseLinear.run(irOf([g.graph()], [], weights)).graphs[0];
    }
    const swigluCases: [string, Opts, string][] = [
      ['swiglu(linear(x, Wg), linear(x, Wu)) -> linear(x, Wg, Wu) +swiglu', {}, 'linear(0,2,3) +swiglu'],
      ['the gate also an output: stays', { gateUsedTwice: true }, 'swiglu'],
      ['two different x: stays', { otherX: true }, 'swiglu'],
      ['weights of other shapes: stays', { upShape: [6, 9], upOutShape: [2, 6] }, 'swiglu'],
      ['weights of other types: stays', { upType: 'Q4_K' }, 'swiglu'],
      ['a gate of a tensor, not a weight: stays', { gateNotWeight: true }, 'swiglu'],
      ['an up of a tensor, not a weight: stays', { upNotWeight: true }, 'swiglu'],
      ['a gate that has an epilogue already: stays', { gateEpilogue: true }, 'swiglu'],
      ['an up that has an epilogue already: stays', { upEpilogue: true }, 'swiglu'],
      ['a swiglu broadcast to more rows than the gate: stays', { swigluShape: [4, 6], gateShape: [2, 6], upOutShape: [4, 6] }, 'swiglu'],
      ['a swiglu broadcast to more rows than the up: stays', { swigluShape: [4, 6], gateShape: [4, 6], upOutShape: [2, 6] }, 'swiglu'],
      ['a gate and an up that are rms_norms of weights, not linears: stays', { op: 'rms_norm' }, 'swiglu'],
    ];
    for (const [name, o, expected] of swigluCases) {
      it(name, () => {
        const r = swiglu(o);
        const t = text(r)[r.outputs[0].node];
        assert.equal(expected === 'swiglu' ? outOp(r).op : t, expected);
      });
    }

    it('the fused swiglu drops the two linears', () => {
      assert.deepEqual(opsOf(swiglu()), ['tensor', 'tensor', 'weight', 'weight', 'tensor', 'linear']);
    });

    interface AddOpts { side?: 0 | 1; rShape?: number[]; rDtype?: DType; linUsedTwice?: boolean; linShape?: number[]; fn?: string; notWeight?: boolean; epilogue?: boolean; op?: string }
    function residual(o: AddOpts = {}) {
      const g = new G();
      const x = g.tensor([2, 8]);
      const w = o.notWeight ? g.tensor([6, 8]) : g.weight('w', [6, 8]);
      const r = g.tensor(o.rShape ?? [2, 6], o.rDtype ?? 'f32');
      const lin = g.add(o.op ?? 'linear', o.epilogue ? [x, w, r] : [x, w], o.epilogue ? { epilogue: 'add' } : {}, o.linShape ?? [2, 6]);
      g.out(g.add('binary', (o.side ?? 1) === 1 ? [r, lin] : [lin, r], { fn: o.fn ?? 'add' }, [2, 6]));
      if (o.linUsedTwice) g.out(lin);
      return fuseLinear.run(irOf([g.graph()], [], [{ name: 'w', type: 'F32', shape: [8, 6] }])).graphs[0];
    }
    const addCases: [string, AddOpts, string][] = [
      ['r + linear(x, W) -> linear(x, W, r) +add', {}, 'linear(0,1,2) +add'],
      ['linear(x, W) + r -> linear(x, W, r) +add', { side: 0 }, 'linear(0,1,2) +add'],
      ['r - linear(x, W): stays', { fn: 'sub' }, 'binary(2,3) sub'],
      ['the linear also an output: stays', { linUsedTwice: true }, 'binary(2,3) add'],
      ['a residual broadcast over rows: stays', { rShape: [6] }, 'binary(2,3) add'],
      ['a u32 residual: stays', { rDtype: 'u32' }, 'binary(2,3) add'],
      ['a linear of a tensor, not a weight: stays', { notWeight: true }, 'binary(2,3) add'],
      ['a linear that has an epilogue: stays', { epilogue: true }, 'binary(2,3) add'],
      ['a linear broadcast by the add (one row): stays', { linShape: [1, 6] }, 'binary(2,3) add'],
      ['a linear broadcast by the add, on the left: stays', { linShape: [1, 6], side: 0 }, 'binary(3,2) add'],
      ['r + rms_norm(x, w), a weight as the second argument but no linear: stays', { op: 'rms_norm' }, 'binary(2,3) add'],
    ];
    for (const [name, o, expected] of addCases) {
      it(name, () => {
        const r = residual(o);
        assert.equal(text(r)[r.outputs[0].node], expected);
      });
    }
  });

  describe('kv-cache', () => {
    /** ids -> embedding -> [x] -> attention(x, x, x) -> output: a stand-in for a forward pass. */
    function forward(o: { seq?: Dim; mid?: (g: G, x: number) => number; out?: (g: G, a: number) => number; attention?: boolean } = {}) {
      const g = new G();
      const seq = o.seq ?? 'seq';
      const ids = g.ids(seq);
      const e = g.add('embedding', [g.weight('token_embd.weight', [16, 100]), ids], {}, [seq, 16]);
      let x = o.mid ? o.mid(g, e) : e;
      if (o.attention ?? true) {
        const q = g.add('reshape', [x], { shape: [seq, 2, 8] }, [seq, 2, 8]);
        x = g.add('reshape', [g.add('attention', [q, q, q], { scale: 1 }, [seq, 2, 8])], { shape: [seq, 16] }, [seq, 16]);
      }
      g.out(o.out ? o.out(g, x) : x);
      return g;
    }
    const incremental = (g: G | Graph, host: HostStmt[] = []) => kvCache.run(irOf([g instanceof G ? g.graph() : g], host)).graphs[0].incremental;
    const ON = { seqDim: 'seq', sources: [0] };

    const cases: [string, Parameters<typeof forward>[0], typeof ON | undefined][] = [
      ['a forward pass with attention: incremental over its ids', {}, ON],
      ['no attention: nothing to cache', { attention: false }, undefined],
      ['the sequence a number, not a symbolic dim', { seq: 5 }, undefined],
      ['rows reduced away (a sum over the sequence)', { out: (g, a) => g.add('reduce', [a], { fn: 'sum', axis: 0 }, [16]) }, undefined],
      ['the last row kept (slice_last over the sequence)', { out: (g, a) => g.add('slice_last', [a], { axis: 0 }, [16]) }, ON],
      ['slice_last over another axis (not in the table of row-wise ops)', { out: (g, a) => g.add('slice_last', [a], { axis: 1 }, ['seq']) }, undefined],
      ['the sequence moved off the leading dim (transpose)', { out: (g, a) => g.add('transpose', [a], { perm: [1, 0] }, [16, 'seq']) }, undefined],
      ['the sequence twice in a shape', { out: (g, a) => g.add('einsum', [a, a], { eq: 'ij,kj->ik' }, ['seq', 'seq']) }, undefined],
      ['an argument with the sequence off its leading dim', { out: (g, a) => g.add('binary', [a, g.add('reshape', [g.add('transpose', [a], { perm: [1, 0] }, [16, 'seq'])], { shape: ['seq', 16] }, ['seq', 16])], { fn: 'add' }, ['seq', 16]) }, undefined],
      ['an op that mixes rows (softmax)', { out: (g, a) => g.add('softmax', [a], { axis: 0 }, ['seq', 16]) }, undefined],
      ['row-wise ops: norm, unary, scale, binary with a row vector', {
        mid: (g, x) => {
          const n = g.add('rms_norm', [x, g.weight('norm', [16])], {}, ['seq', 16]);
          const u = g.add('unary', [n], { fn: 'silu' }, ['seq', 16]);
          return g.add('binary', [g.add('scale', [u], { value: 2 }, ['seq', 16]), g.add('const', [], { shape: [16] }, [16])], { fn: 'add' }, ['seq', 16]);
        },
      }, ON],
      ['a binary with a [1, 16] row broadcast', { mid: (g, x) => g.add('binary', [x, g.add('const', [], { shape: [1, 16] }, [1, 16])], { fn: 'mul' }, ['seq', 16]) }, ON],
      ['a binary with rows of its own (a [4, 16] constant)', { mid: (g, x) => g.add('binary', [x, g.add('const', [], { shape: [4, 16] }, [4, 16])], { fn: 'mul' }, ['seq', 16]) }, undefined],
      ['a binary with rows of its own, on the left', { mid: (g, x) => g.add('binary', [g.add('const', [], { shape: [4, 16] }, [4, 16]), x], { fn: 'mul' }, ['seq', 16]) }, undefined],
      ['a swiglu with rows of its own', { mid: (g, x) => g.add('swiglu', [x, g.add('const', [], { shape: [4, 16] }, [4, 16])], {}, ['seq', 16]) }, undefined],
      ['a swiglu with a 3-D constant of one row', { mid: (g, x) => g.add('reshape', [g.add('swiglu', [g.add('reshape', [x], { shape: ['seq', 2, 8] }, ['seq', 2, 8]), g.add('const', [], { shape: [1, 2, 8] }, [1, 2, 8])], {}, ['seq', 2, 8])], { shape: ['seq', 16] }, ['seq', 16]) }, ON],
      ['a row-wise op the table does not know (an unknown op)', { mid: (g, x) => g.add('frobnicate', [x], {}, ['seq', 16]) }, undefined],
      ['an output with the sequence off its leading dim (a transposed view, itself an output)', { out: (g, a) => g.add('reshape', [a], { shape: [16, 'seq'] }, [16, 'seq']) }, undefined],
    ];
    for (const [name, o, expected] of cases) it(name, () => assert.deepEqual(incremental(forward(o)), expected));

    // A node no output needs is checked too (the passes before kv-cache drop such nodes, but the
    // pass does not rely on it).
    const dead: [string, Dim[]][] = [['the sequence off the leading dim', [16, 'seq']], ['the sequence twice', ['seq', 'seq']]];
    for (const [name, shape] of dead) {
      it(`a row-wise node that nothing uses, with ${name}: not incremental`, () => {
        const g = forward();
        g.add('reshape', [2], { shape }, shape);
        assert.equal(incremental(g), undefined);
      });
    }

    it('an output whose sequence is off its leading dim, though no op moved it there', () => {
      const g = forward();
      // An output node of shape [16, seq] that never touched the sequence through an op: a fresh const.
      g.out(g.add('const', [], { shape: [16, 'seq'] }, [16, 'seq']));
      assert.equal(incremental(g), undefined);
    });

    it('a scalar input is no row source', () => {
      const g = forward();
      g.scalar();
      assert.deepEqual(incremental(g), ON);
    });

    it('a tensor input whose leading dim is another symbolic size is a second sequence: not incremental', () => {
      const g = forward();
      g.tensor(['other', 16]);
      assert.equal(incremental(g), undefined);
    });

    it('a tensor input whose leading dim is a number is no row source', () => {
      const g = forward();
      g.tensor([3, 16]);
      assert.deepEqual(incremental(g), ON);
    });

    it('a tensor input whose rows are the sequence is a row source too', () => {
      const g = new G();
      const t = g.tensor(['seq', 2, 8]);
      g.out(g.add('attention', [t, t, t], { scale: 1 }, ['seq', 2, 8]));
      assert.deepEqual(incremental(g), ON);
    });

    it('two sequences (two ids inputs of different dims): not incremental', () => {
      const g = forward();
      g.ids('other');
      assert.equal(incremental(g), undefined);
    });

    it('two ids inputs of the one sequence: both are row sources', () => {
      const g = forward();
      g.ids('seq');
      assert.deepEqual(incremental(g), { seqDim: 'seq', sources: [0, 1] });
    });

    // A forward pass split in two by a read-back: graph 0 (embedding) keeps its rows on the device,
    // graph 1 takes them as a tensor input and has the attention.
    function split(link: HostExpr, attentionIn = 1) {
      const g0 = new G(0);
      const e = g0.add('embedding', [g0.weight('token_embd.weight', [16, 100]), g0.ids()], {}, ['seq', 16]);
      const q0 = g0.add('reshape', [e], { shape: ['seq', 2, 8] }, ['seq', 2, 8]);
      g0.out(attentionIn === 0 ? g0.add('attention', [q0, q0, q0], { scale: 1 }, ['seq', 2, 8]) : q0, true);
      const g1 = new G(1);
      const t = g1.tensor(['seq', 2, 8]);
      g1.out(attentionIn === 1 ? g1.add('attention', [t, t, t], { scale: 1 }, ['seq', 2, 8]) : g1.add('unary', [t], { fn: 'neg' }, ['seq', 2, 8]));
      const host: HostStmt[] = [
        { k: 'run', graph: 0, dims: {}, inputs: [{ k: 'var', name: 'ids' }] },
        { k: 'for', var: 'i', start: { k: 'const', value: 0 }, end: { k: 'const', value: 1 }, body: [{ k: 'run', graph: 1, dims: {}, inputs: [link] }] },
      ];
      return kvCache.run(irOf([g0.graph(), g1.graph()], host)).graphs.map((g) => g.incremental);
    }

    it('a graph whose rows feed a graph with attention (through a run in a loop) is incremental too', () => {
      assert.deepEqual(split({ k: 'out', graph: 0, output: 0 }), [ON, ON]);
    });

    it('the rows fed the other way: the producer with attention makes its consumer incremental', () => {
      assert.deepEqual(split({ k: 'out', graph: 0, output: 0 }, 0), [ON, ON]);
    });

    it('a tensor input bound to a variable, not to a graph output, links nothing', () => {
      assert.deepEqual(split({ k: 'var', name: 'h' }), [undefined, ON]);
    });

    it('a graph run with no run statement, or with fewer inputs bound, links nothing', () => {
      const g0 = new G(0);
      g0.out(g0.add('embedding', [g0.weight('token_embd.weight', [16, 100]), g0.ids()], {}, ['seq', 16]), true);
      const g1 = new G(1);
      const t = g1.tensor(['seq', 2, 8]);
      g1.out(g1.add('attention', [t, t, t], { scale: 1 }, ['seq', 2, 8]));
      const graphs = [g0.graph(), g1.graph()];
      assert.deepEqual(kvCache.run(irOf(graphs, [])).graphs.map((g) => g.incremental), [undefined, ON]);
      assert.deepEqual(kvCache.run(irOf(graphs, [{ k: 'run', graph: 1, dims: {}, inputs: [] }])).graphs.map((g) => g.incremental), [undefined, ON]);
    });

    it('a producer that is itself not row-wise links nothing', () => {
      const g0 = new G(0);
      const e = g0.add('embedding', [g0.weight('token_embd.weight', [16, 100]), g0.ids()], {}, ['seq', 16]);
      g0.out(g0.add('softmax', [e], { axis: 0 }, ['seq', 16]), true);
      const g1 = new G(1);
      const t = g1.tensor(['seq', 2, 8]);
      g1.out(g1.add('attention', [t, t, t], { scale: 1 }, ['seq', 2, 8]));
      const host: HostStmt[] = [{ k: 'run', graph: 1, dims: {}, inputs: [{ k: 'out', graph: 0, output: 0 }] }];
      assert.deepEqual(kvCache.run(irOf([g0.graph(), g1.graph()], host)).graphs.map((g) => g.incremental), [undefined, ON]);
    });

    it('three graphs in a chain, attention in the last: all incremental', () => {
      const gs = [0, 1, 2].map((id) => new G(id));
      gs[0].out(gs[0].add('embedding', [gs[0].weight('token_embd.weight', [16, 100]), gs[0].ids()], {}, ['seq', 16]), true);
      gs[1].out(gs[1].add('unary', [gs[1].tensor(['seq', 16])], { fn: 'neg' }, ['seq', 16]), true);
      const t = gs[2].add('reshape', [gs[2].tensor(['seq', 16])], { shape: ['seq', 2, 8] }, ['seq', 2, 8]);
      gs[2].out(gs[2].add('attention', [t, t, t], { scale: 1 }, ['seq', 2, 8]));
      const host: HostStmt[] = [
        { k: 'run', graph: 2, dims: {}, inputs: [{ k: 'out', graph: 1, output: 0 }] },
        { k: 'run', graph: 1, dims: {}, inputs: [{ k: 'out', graph: 0, output: 0 }] },
      ];
      assert.deepEqual(kvCache.run(irOf(gs.map((g) => g.graph()), host)).graphs.map((g) => g.incremental), [ON, ON, ON]);
    });
  });

  describe('check-limits', () => {
    it('tensorBytes: 4 bytes a value; a scalar is one value', () => {
      assert.deepEqual([tensorBytes([2, 3]), tensorBytes([]), tensorBytes([5])], [24, 4, 20]);
    });

    const limits = { maxStorageBufferBindingSize: 64 };
    const one = (shape: Dim[], op = 'const', at?: string): IR => {
      const g = new G();
      const n = g.add(op, [], { shape }, shape);
      if (at) g.nodes[n].at = at;
      return irOf([g.out(n).graph()]);
    };
    const cases: [string, IR, string | undefined][] = [
      ['exactly the limit fits', one([16]), undefined],
      ['one value more does not', one([17], 'const', 'a.tl:3:7'), 'a.tl:3:7: the const here makes a tensor of shape [17]: 0.000 MiB, more than one GPU buffer binding holds (0.000 MiB)'],
      ['a weight is not checked (the model file sized it)', one([1000], 'weight'), undefined],
      ['a symbolic size is checked at run time', one(['seq', 1000]), undefined],
    ];
    for (const [name, ir, expected] of cases) {
      it(name, () => {
        const p = checkLimits(ir, limits);
        assert.equal(p && `${p.at}: ${p.message}`, expected);
      });
    }

    it('the first tensor too big, in any graph, is the one reported', () => {
      const g0 = new G(0), g1 = new G(1);
      g0.out(g0.add('const', [], {}, [2]));
      g1.add('scale', [], {}, [20]);
      g1.out(g1.add('unary', [], {}, [30]));
      assert.match(checkLimits(irOf([g0.graph(), g1.graph()]), limits)!.message, /^the scale here makes a tensor of shape \[20\]/);
    });

    it('the default limits are WebGPU\'s 128 MiB', () => {
      assert.equal(DEFAULT_LIMITS.maxStorageBufferBindingSize, 134_217_728);
      assert.equal(checkLimits(one([32, 1024, 1024])), undefined);
      assert.equal(checkLimits(one([32, 1024, 1024 + 1]))?.message,
        'the const here makes a tensor of shape [32, 1024, 1025]: 128 MiB, more than one GPU buffer binding holds (128 MiB)');
    });

    const sizes: [number, string][] = [
      [512 * 1024, '0.500 MiB'], [2 ** 20 - 4, '1.000 MiB'], [2 ** 20, '1 MiB'], [3 * 2 ** 20 + 2 ** 19, '4 MiB'],
    ];
    for (const [bytes, mib] of sizes) {
      it(`tooBig shows ${bytes} bytes as ${mib}: three decimals below 1 MiB, none from 1 MiB`, () => {
        const n: Node = { id: 0, op: 'einsum', args: [], attrs: {}, shape: [bytes / 4], dtype: 'f32' };
        assert.equal(tooBig(n, [bytes / 4], bytes, { maxStorageBufferBindingSize: 2 ** 19 }),
          `the einsum here makes a tensor of shape [${bytes / 4}]: ${mib}, more than one GPU buffer binding holds (0.500 MiB)`);
      });
    }
  });
});
