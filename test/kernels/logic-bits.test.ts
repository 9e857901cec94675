import assert from 'node:assert/strict';
import { refJoin } from '../reference/logic.ts';
import { nonzeros, type JoinSide } from '../../runtime/ops/logic.ts';
import { packBits, unpackBits, joinBits, bitsOr, bitsCount, packedWords } from '../../runtime/ops/logic_bits.ts';
import { GraphExecutor } from '../../runtime/executor.ts';
import { GraphBuilder } from '../../compiler/lower/graph-builder.ts';
import { gradients } from '../../compiler/lower/autodiff.ts';
import { CompileError } from '../../compiler/lower/values.ts';
import { irProblem } from '../../compiler/validate-ir.ts';
import type { Graph } from '../../compiler/ir.ts';
import type { Span } from '../../compiler/ast.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, readU32 } from './support.ts';

// Plain references. A fact is an entry > 0; relations get some negative entries too (not facts).
// Packed: 32 entities per u32 word, entity j at bit j & 31 of word j >> 5, unused high bits 0.

/** (rows, cols) with about `density` of the entries facts (1, or another positive value). */
function relation(rng: Rng, rows: number, cols: number, density: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => {
    if (rng.next() < density) return rng.next() < 0.8 ? 1 : 0.5;
    return rng.next() < 0.8 ? 0 : -1;
  });
}

function refPack(x: ArrayLike<number>, m: number, n: number): Uint32Array {
  const w = packedWords(n), out = new Uint32Array(m * w);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) if (x[i * n + j] > 0) out[i * w + (j >> 5)] |= 1 << (j & 31);
  return out;
}

function refUnpack(bits: Uint32Array, m: number, n: number): Float32Array {
  const w = packedWords(n), out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = (bits[i * w + (j >> 5)] >>> (j & 31)) & 1;
  return out;
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

const GARBAGE = 7; // outputs start as this (and run 8 words past the end), so every word a kernel should write, and none other, is checked
const TAIL = 8;

/** A u32 buffer of `n` words of GARBAGE, plus TAIL more. */
const garbageU32 = (n: number) => new Uint32Array(n + TAIL).fill(GARBAGE);
const withTail = (xs: ArrayLike<number>) => [...Array.from(xs), ...new Array(TAIL).fill(GARBAGE)];

const DENSITIES = [0, 0.05, 0.5, 1];

describe('packed logic kernels: pack_bits and unpack_bits', () => {
  const shapes = [[1, 1], [3, 5], [4, 32], [5, 33], [7, 64], [6, 70], [300, 300]];
  shapes.forEach(([m, n], c) => {
    it(`(${m}, ${n}), densities ${DENSITIES.join(', ')}: pack, unpack, and the round trip`, async () => {
      const r = await gpuRunner(), w = packedWords(n);
      for (const [t, density] of DENSITIES.entries()) {
        const x = relation(new Rng(100 + 10 * c + t), m, n, density);
        const packed = r.storage(garbageU32(m * w));
        const back = r.storage(new Float32Array(m * n + TAIL).fill(GARBAGE));
        await r.runAll([
          ...packBits({ x: r.storage(x), xShape: [m, n], out: packed }),
          ...unpackBits({ bits: packed, bitsShape: [m, w], n, out: back }),
        ]);
        const want = refPack(x, m, n);
        assert.deepEqual([...await readU32(r, packed, m * w + TAIL)], withTail(want), `pack, density ${density}`);
        assert.deepEqual([...await readF32(r, back, m * n + TAIL)], withTail(Float32Array.from(x, (v) => +(v > 0))), `round trip, density ${density}`);
      }
    });
  });

  it('more than 65535 workgroups (the grid folded into y): unpack_bits of (1100, 4000)', async () => {
    const r = await gpuRunner(), rng = new Rng(150), [m, n] = [1100, 4000], w = packedWords(n);
    const x = relation(rng, m, n, 0.3);
    const packed = r.storage(m * w * 4), back = r.storage(m * n * 4);
    await r.runAll([...packBits({ x: r.storage(x), xShape: [m, n], out: packed }), ...unpackBits({ bits: packed, bitsShape: [m, w], n, out: back })]);
    const got = await readF32(r, back, m * n);
    const bad = got.findIndex((v, k) => v !== +(x[k] > 0));
    assert.equal(bad, -1, `[${bad}] is ${got[bad]}, expected ${+(x[bad] > 0)}`);
  });

  it('unpack_bits ignores set bits past n in the last word', async () => {
    const r = await gpuRunner();
    const bits = Uint32Array.from([0xffffffff, 0xfffffff0, 0x80000001, 0xffffffff]); // (2, 2) words for n = 36
    const out = r.storage(new Float32Array(72).fill(GARBAGE));
    await r.runAll(unpackBits({ bits: r.storage(bits), bitsShape: [2, 2], n: 36, out }));
    assert.deepEqual([...await readF32(r, out, 72)], [...refUnpack(Uint32Array.from([0xffffffff, 0, 0x80000001, 0xf]), 2, 36)]);
  });

  it('rejects shapes that do not fit', () => {
    const b = () => ({}) as GPUBuffer;
    assert.throws(() => packBits({ x: b(), xShape: [3], out: b() }), /pack_bits: x must be 2-D/);
    assert.throws(() => unpackBits({ bits: b(), bitsShape: [3, 2], n: 70, out: b() }), /the bits must be \(m, 3\) for n = 70, got \[3,2\]/);
    assert.throws(() => unpackBits({ bits: b(), bitsShape: [3, 1], n: 1.5, out: b() }), /n must be a whole number/);
    const same = b();
    assert.throws(() => packBits({ x: same, xShape: [2, 2], out: same }), /out must be a buffer of its own/);
  });
});

describe('packed logic kernels: join_bits', () => {
  /**
   * S as 0/1 f32, nonzeros'd on the GPU (its rows for left, its columns for right); d and exclude
   * packed on the host. Checks against the f32 join's reference, packed.
   */
  async function runJoin(side: JoinSide, m: number, k: number, n: number, density: number, seed: number) {
    const r = await gpuRunner(), rng = new Rng(seed);
    const [sr, sc] = side === 'left' ? [m, k] : [k, n];
    const [dr, dc] = side === 'left' ? [k, n] : [m, k];
    const s = relation(rng, sr, sc, density), d = relation(rng, dr, dc, density), ex = relation(rng, m, n, 0.3);
    const p = side === 'left' ? m : n, w = packedWords(n);
    const listsBuf = r.storage(new Uint32Array(p * (k + 1)).fill(GARBAGE));
    const db = r.storage(refPack(d, dr, dc)), eb = r.storage(refPack(ex, m, n));
    const plain = r.storage(garbageU32(m * w)), excl = r.storage(garbageU32(m * w));
    const common = { lists: listsBuf, listsShape: [p, k + 1], d: db, dShape: [dr, packedWords(dc)], n, side };
    await r.runAll([
      ...nonzeros({ x: r.storage(s), xShape: [sr, sc], axis: side === 'left' ? 1 : 0, out: listsBuf }),
      ...joinBits({ ...common, out: plain }),
      ...joinBits({ ...common, exclude: eb, excludeShape: [m, w], out: excl }),
    ]);
    const what = `${side}, m=${m} k=${k} n=${n}, density ${density}`;
    assert.deepEqual([...await readU32(r, plain, m * w + TAIL)], withTail(refPack(refJoin(side, s, d, m, k, n), m, n)), what);
    assert.deepEqual([...await readU32(r, excl, m * w + TAIL)], withTail(refPack(refJoin(side, s, d, m, k, n, ex), m, n)), `${what}, with exclude`);
  }

  const shapes = [{ m: 1, k: 1, n: 1 }, { m: 5, k: 7, n: 5 }, { m: 3, k: 33, n: 33 }, { m: 4, k: 64, n: 32 }, { m: 6, k: 32, n: 64 }, { m: 70, k: 40, n: 70 }];
  for (const side of ['left', 'right'] as const) {
    shapes.forEach(({ m, k, n }, c) => {
      it(`${side}: m=${m}, k=${k}, n=${n}, densities ${DENSITIES.join(', ')}, with and without exclude`, async () => {
        for (const [t, density] of DENSITIES.entries()) await runJoin(side, m, k, n, density, 500 + 10 * c + t);
      });
    });
    it(`${side}: 300x300, sparse and dense`, async () => {
      await runJoin(side, 300, 300, 300, 0.01, 601);
      await runJoin(side, 300, 300, 300, 0.5, 602);
    });
  }

  it('reads only the counted entries of a list (at most q), ignores positions past k, and clears bits past n', async () => {
    const r = await gpuRunner();
    // left, S's rows as lists (q = 3): row 0 counts 5 (past q: only its 3 entries, [1, 1, 1], are
    // read, not row 1's); row 1 none (stale 2s after the count); row 2 [0, 9 (past k), 2].
    const l = Uint32Array.from([5, 1, 1, 1, 0, 2, 2, 2, 3, 0, 9, 2]);
    // d (3, n = 5) packed, one word a row, with set bits past n; its buffer goes on with words no
    // probe may reach.
    const d = Uint32Array.from([0xffffffe0, 0xffffffe2, 0x00000011, ...new Array(20).fill(0xffffffff)]);
    const out = r.storage(garbageU32(3));
    await r.runAll(joinBits({ lists: r.storage(l), listsShape: [3, 4], d: r.storage(d), dShape: [3, 1], n: 5, side: 'left', out }));
    assert.deepEqual([...await readU32(r, out, 3 + TAIL)], withTail([0b00010, 0, 0b10001]));
    // right, S's columns as lists (n = 3 columns, q = k = 3); d (2, k = 3) packed with bits past k.
    const d2 = Uint32Array.from([0xfffffff8 | 0b010, 0xfffffff8 | 0b001, ...new Array(20).fill(0xffffffff)]);
    const out2 = r.storage(garbageU32(2));
    await r.runAll(joinBits({ lists: r.storage(l), listsShape: [3, 4], d: r.storage(d2), dShape: [2, 1], n: 3, side: 'right', out: out2 }));
    // column 0 probes kk 1 (x3), column 1 nothing, column 2 kk 0 and 2 (9 skipped: row 0's bit 9 is set)
    assert.deepEqual([...await readU32(r, out2, 2 + TAIL)], withTail([0b001, 0b100]));
  });

  it('rejects operands that do not fit', () => {
    const b = () => ({}) as GPUBuffer;
    const j = (side: JoinSide, listsShape: number[], dShape: number[], n: number, excludeShape?: number[]) =>
      joinBits({ lists: b(), listsShape, d: b(), dShape, n, side, out: b(), ...(excludeShape ? { exclude: b(), excludeShape } : {}) });
    assert.throws(() => j('left', [5, 8], [6, 1], 20), /join_bits: lists \[5,8\] hold positions in 0..6, but d \[6,1\] has 6 rows/);
    assert.throws(() => j('left', [5, 8], [7, 2], 20), /d \[7,2\] should have 1 words per row for n = 20/);
    assert.throws(() => j('right', [4, 8], [5, 1], 20), /there must be n = 20 of them/);
    assert.throws(() => j('right', [20, 41], [5, 1], 20), /d \[5,1\] should have 2 words per row for the lists' k = 40/);
    assert.throws(() => j('left', [5, 8], [7, 1], 20, [5, 2]), /exclude \[5,2\] should be the output's packed shape \[5,1\]/);
    assert.throws(() => j('up' as JoinSide, [5, 8], [7, 1], 20), /side must be 'left' or 'right'/);
  });
});

describe('packed logic kernels: bits_or and bits_count', () => {
  it('bits_or: separate output, and in place over either operand', async () => {
    const r = await gpuRunner(), rng = new Rng(800);
    for (const shape of [[1, 1], [7, 3], [300, 10]]) {
      const n = shape[0] * shape[1];
      const [a, b] = [0, 1].map(() => Uint32Array.from({ length: n }, () => rng.int(2 ** 32)));
      const want = withTail(a.map((v, i) => (v | b[i]) >>> 0));
      const out = r.storage(garbageU32(n));
      await r.runAll(bitsOr({ a: r.storage(a), aShape: shape, b: r.storage(b), bShape: shape, out }));
      assert.deepEqual([...await readU32(r, out, n + TAIL)], want, `[${shape}]`);
      for (const into of ['a', 'b'] as const) {
        const [ab, bb] = [r.storage(Uint32Array.from([...a, ...new Array(TAIL).fill(GARBAGE)])), r.storage(Uint32Array.from([...b, ...new Array(TAIL).fill(GARBAGE)]))];
        const o = into === 'a' ? ab : bb;
        await r.runAll(bitsOr({ a: ab, aShape: shape, b: bb, bShape: shape, out: o }));
        assert.deepEqual([...await readU32(r, o, n + TAIL)], want, `[${shape}], in place into ${into}`);
      }
    }
    // More than 65535 workgroups (the grid folded into y)
    const big = 65536 * 64 + 100;
    const [a, b] = [0, 1].map(() => Uint32Array.from({ length: big }, () => rng.int(2 ** 32)));
    const out = r.storage(big * 4);
    await r.runAll(bitsOr({ a: r.storage(a), aShape: [big], b: r.storage(b), bShape: [big], out }));
    const got = await readU32(r, out, big);
    const bad = got.findIndex((v, k) => v !== (a[k] | b[k]) >>> 0);
    assert.equal(bad, -1, `${big} words: [${bad}] is ${got[bad]}`);
    const buf = r.storage(Uint32Array.from([5, 9]));
    assert.deepEqual(bitsOr({ a: buf, aShape: [2], b: buf, bShape: [2], out: buf }), []); // x | x = x
    assert.throws(() => bitsOr({ a: buf, aShape: [2, 3], b: buf, bShape: [3, 2], out: r.storage(32) }), /bits_or: a \[2,3\] and b \[3,2\] differ/);
  });

  const sizes = [0, 1, 5, 255, 256, 257, 1000, 4000 * 125];
  it(`bits_count over ${sizes.join(', ')} words, random and all ones`, async () => {
    const r = await gpuRunner(), rng = new Rng(900);
    const out = r.storage(new Float32Array(4).fill(GARBAGE));
    for (const words of sizes) {
      const a = Uint32Array.from({ length: words }, () => rng.int(2 ** 32) & (rng.next() < 0.3 ? 0 : 0xffffffff));
      await r.runAll(bitsCount({ a: r.storage(a), words, out }));
      let want = 0;
      for (const v of a) want += popcount(v);
      assert.deepEqual([...await readF32(r, out, 2)], [want, GARBAGE], `${words} words`);
    }
    const ones = 500_000; // 16M bits: still exact in f32
    await r.runAll(bitsCount({ a: r.storage(new Uint32Array(ones).fill(0xffffffff)), words: ones, out }));
    assert.equal((await readF32(r, out, 1))[0], ones * 32);
  });
});

describe('packed logic ops in a device graph', () => {
  const span = { file: 'logic.tl', line: 1, col: 1 } as Span;

  /**
   * S (5, 7) and D (7, 40) from offsets, E (5, 40) to exclude, T (3, 5); left: S @ D packed, minus
   * E; right: T @ S packed; their union with packed E, its count, and the result unpacked.
   */
  function build() {
    const g = new GraphBuilder(0, 'bits');
    const rel = (offsets: number[], shape: number[]) => g.add('indicator', [g.add('const', [], { shape: [offsets.length], values: offsets, dtype: 'u32' })], { shape });
    const s = rel([0, 9, 9, 16, 30, 34, 99], [5, 7]);
    const d = rel([2, 41, 79, 80, 119, 200, 239, 279, 5, 38], [7, 40]);
    const e = rel([2, 79, 81, 199], [5, 40]);
    const t = rel([1, 5, 8, 9, 0, 14], [3, 5]);
    const dp = g.add('pack_bits', [d], {}), ep = g.add('pack_bits', [e], {}), tp = g.add('pack_bits', [t], {});
    const left = g.add('join_bits', [g.add('nonzeros', [s], { axis: 1 }), dp, ep], { side: 'left', n: 40 });
    const right = g.add('join_bits', [g.add('nonzeros', [s], { axis: 0 }), tp], { side: 'right', n: 7 });
    const union = g.add('bits_or', [left, ep], {});
    const count = g.add('bits_count', [union], {});
    const back = g.add('unpack_bits', [union], { n: 40 });
    for (const node of [left, right, union, count, back]) g.output(node, -1);
    const graph: Graph = { id: 0, name: 'bits', dims: [], inputs: [], nodes: g.nodes, outputs: g.outputs };
    return { g, graph, s, d, e, t, dp, left, right, union, count, back };
  }
  const dense = (offsets: number[], n: number) => {
    const x = new Float32Array(n);
    for (const o of offsets) if (o < n) x[o] = 1;
    return x;
  };

  it('shape rules: types and shapes', () => {
    const { g, dp, left, right, union, count, back } = build();
    const sig = (id: number) => [g.nodes[id].shape, g.nodes[id].dtype];
    assert.deepEqual(sig(dp), [[7, 2], 'u32']);
    assert.deepEqual(sig(left), [[5, 2], 'u32']);
    assert.deepEqual(sig(right), [[3, 1], 'u32']);
    assert.deepEqual(sig(union), [[5, 2], 'u32']);
    assert.deepEqual(sig(count), [[], 'f32']);
    assert.deepEqual(sig(back), [[5, 40], 'f32']);
  });

  it('shape rules: clear errors', () => {
    const { g, s, dp, union } = build();
    const rows = g.add('nonzeros', [s], { axis: 1 }), cols = g.add('nonzeros', [s], { axis: 0 });
    assert.throws(() => g.add('pack_bits', [g.add('tensor', [], { shape: ['a', 'b'] })], {}), /pack_bits: the relation \[a, b\] needs a column count known when compiling/);
    assert.throws(() => g.add('pack_bits', [g.add('const', [], { shape: [3], values: [0] })], {}), /pack_bits: expects a 2-D relation/);
    assert.throws(() => g.add('unpack_bits', [dp], { n: 70 }), /unpack_bits: 70 entities per row take 3 words, but the bits are \[7, 2\]/);
    assert.throws(() => g.add('unpack_bits', [dp], {}), /attrs.n must be a whole number/);
    assert.throws(() => g.add('join_bits', [rows, dp], { side: 'left', n: 70 }), /n = 70 entities take 3 words per row, but the relation is \[7, 2\]/);
    assert.throws(() => g.add('join_bits', [rows, union], { side: 'left', n: 40 }), /the lists \[5, 8\] hold positions below 7, but the relation \[5, 2\] has 5 rows/);
    assert.throws(() => g.add('join_bits', [cols, dp], { side: 'right', n: 8 }), /there must be n = 8 of them/);
    assert.throws(() => g.add('join_bits', [cols, dp], { side: 'right', n: 7 }), /hold positions below 5, which take 1 words per row, but the relation is \[7, 2\]/);
    assert.throws(() => g.add('join_bits', [rows, dp, dp], { side: 'left', n: 40 }), /exclude \[7, 2\] differs from the output \[5, 2\]/);
    assert.throws(() => g.add('join_bits', [rows, dp], { side: 'up', n: 40 }), /side must be 'left' or 'right'/);
    assert.throws(() => g.add('bits_or', [dp, union], {}), /bits_or: \[7, 2\] and \[5, 2\] differ/);
    // Sizes known only at run time: rows may be named.
    const x = g.add('tensor', [], { shape: ['a', 40] });
    assert.deepEqual(g.nodes[g.add('pack_bits', [x], {})].shape, ['a', 2]);
    const y = g.add('tensor', [], { shape: ['a', 2], dtype: 'u32' });
    assert.deepEqual(g.nodes[g.add('unpack_bits', [y], { n: 33 })].shape, ['a', 33]);
    assert.deepEqual(g.nodes[g.add('bits_or', [y, g.add('tensor', [], { shape: ['b', 2], dtype: 'u32' })], {})].shape, ['a', 2]);
  });

  it('runs through the executor, and IR checks accept it', async () => {
    const { graph } = build();
    assert.equal(irProblem({ host: [], graphs: [graph], weights: [] }), undefined);
    const r = await gpuRunner();
    const ex = new GraphExecutor(r, graph, new Map(), { ctx: 16 });
    ex.warm();
    await ex.run({}, []);
    const S = dense([0, 9, 9, 16, 30, 34, 99], 35), D = dense([2, 41, 79, 80, 119, 200, 239, 279, 5, 38], 280);
    const E = dense([2, 79, 81, 199], 200), T = dense([1, 5, 8, 9, 0, 14], 15);
    const left = refPack(refJoin('left', S, D, 5, 7, 40, E), 5, 40), right = refPack(refJoin('right', S, T, 3, 5, 7), 3, 7);
    assert.ok(left.some((v) => v !== 0) && right.some((v) => v !== 0), 'the example has facts');
    const union = left.map((v, i) => (v | refPack(E, 5, 40)[i]) >>> 0);
    assert.deepEqual(ex.output(0), [...left]);
    assert.deepEqual(ex.output(1), [...right]);
    assert.deepEqual(ex.output(2), [...union]);
    assert.deepEqual([ex.output(3)].flat(), [union.reduce((c, v) => c + popcount(v), 0)]);
    assert.deepEqual(ex.output(4), [...refUnpack(union, 5, 40)]);
    ex.destroy();
  });

  it('the executor refuses f32 where packed bits belong, and u32 where pack_bits wants f32', async () => {
    const r = await gpuRunner();
    const run = async (make: (g: GraphBuilder) => number, message: RegExp) => {
      const g = new GraphBuilder(0, 'bad');
      g.output(make(g), -1);
      const ex = new GraphExecutor(r, { id: 0, name: 'bad', dims: [], inputs: [], nodes: g.nodes, outputs: g.outputs }, new Map(), { ctx: 16 });
      await assert.rejects(ex.run({}, []), message);
      ex.destroy();
    };
    const f32 = (g: GraphBuilder) => g.add('const', [], { shape: [2, 1], values: [1, 0] });
    await run((g) => g.add('bits_count', [f32(g)], {}), /bits_count: the packed bits must be u32, got f32/);
    await run((g) => g.add('bits_or', [f32(g), f32(g)], {}), /bits_or: the packed bits must be u32, got f32/);
    await run((g) => g.add('unpack_bits', [f32(g)], { n: 3 }), /unpack_bits: the packed bits must be u32, got f32/);
    await run((g) => g.add('pack_bits', [g.add('const', [], { shape: [2, 1], values: [1, 0], dtype: 'u32' })], {}), /pack_bits: the relation must be f32, got u32/);
    await run((g) => {
      const lists = g.add('nonzeros', [g.add('const', [], { shape: [2, 2], values: [1, 0, 0, 1] })], { axis: 1 });
      return g.add('join_bits', [lists, g.add('const', [], { shape: [2, 1], values: [1, 2] })], { side: 'left', n: 2 });
    }, /join_bits: the packed relation must be u32, got f32/);
  });

  it('autodiff refuses them by name', () => {
    // The refusal names the op nearest the loss on the path from the leaf.
    for (const op of ['unpack_bits', 'bits_count']) {
      const g = new GraphBuilder(0, 'learn');
      const w = g.add('tensor', [], { shape: [3, 40] });
      const packed = g.add('pack_bits', [w], {});
      const loss = op === 'bits_count' ? g.add('bits_count', [packed], {}) : g.add('reduce', [g.add('unpack_bits', [packed], { n: 40 })], { fn: 'sum' });
      assert.throws(() => gradients(g, loss, [w], span), (e: Error) => e instanceof CompileError && new RegExp(`cannot differentiate the logic op ${op} `).test(e.message), op);
    }
  });
});
