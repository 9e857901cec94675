import assert from 'node:assert/strict';
import { refJoin } from '../reference/logic.ts';
import { indicator, join, nonzeros, type JoinSide } from '../../runtime/ops/logic.ts';
import { GraphExecutor } from '../../runtime/executor.ts';
import { GraphBuilder } from '../../compiler/lower/graph-builder.ts';
import { gradients } from '../../compiler/lower/autodiff.ts';
import { CompileError } from '../../compiler/lower/values.ts';
import { irProblem } from '../../compiler/validate-ir.ts';
import { nodeLine } from '../../compiler/ir-print.ts';
import { fuseElementwise } from '../../compiler/passes/fuse-elementwise.ts';
import type { Graph } from '../../compiler/ir.ts';
import type { Span } from '../../compiler/ast.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, readU32 } from './support.ts';

// Plain references. A fact is an entry > 0; relations get some negative entries too (not facts).

/** (rows, cols) with about `density` of the entries facts (1, or another positive value). */
function relation(rng: Rng, rows: number, cols: number, density: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => {
    if (rng.next() < density) return rng.next() < 0.8 ? 1 : 0.5;
    return rng.next() < 0.8 ? 0 : -1;
  });
}

function refIndicator(n: number, offsets: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n);
  for (let t = 0; t < offsets.length; t++) if (offsets[t] < n) out[offsets[t]] = 1;
  return out;
}

/** Per row (axis 1) or column (axis 0): the positions of the facts, ascending. */
function refNonzeros(x: Float32Array, rows: number, cols: number, axis: 0 | 1): number[][] {
  const [lists, len] = axis === 1 ? [rows, cols] : [cols, rows];
  return Array.from({ length: lists }, (_, t) => {
    const at = (e: number) => (axis === 1 ? x[t * cols + e] : x[e * cols + t]);
    return Array.from({ length: len }, (_, e) => e).filter((e) => at(e) > 0);
  });
}

/** The meaningful part of nonzeros' output: each list's count and positions. */
function lists(out: Uint32Array, count: number, len: number): number[][] {
  return Array.from({ length: count }, (_, t) => {
    const row = out.subarray(t * (len + 1), (t + 1) * (len + 1));
    assert.ok(row[0] <= len, `list ${t}: count ${row[0]} > ${len}`);
    return [...row.subarray(1, 1 + row[0])];
  });
}

const GARBAGE = 7; // outputs start as this, so every element a kernel should write is checked

describe('logic kernels: indicator', () => {
  const cases = [
    { what: 'duplicates and out-of-range offsets', shape: [5, 7], offsets: [0, 34, 3, 3, 35, 1000, 0xffffffff, 12, 12, 0] },
    { what: 'no offsets (an empty list)', shape: [4, 3], offsets: [] },
    { what: 'a 1-D relation, every offset', shape: [6], offsets: [5, 4, 3, 2, 1, 0] },
    { what: 'random offsets over 300x300', shape: [300, 300], offsets: Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 95000) },
  ];
  cases.forEach(({ what, shape, offsets }) => {
    it(what, async () => {
      const r = await gpuRunner();
      const n = shape.reduce((p, q) => p * q, 1);
      // The buffer is longer than the relation (as the executor's shared slots are): offsets past
      // n must not write into the rest.
      const out = r.storage(new Float32Array(n + 8).fill(GARBAGE));
      await r.runAll(indicator({ offsets: r.storage(Uint32Array.from(offsets)), count: offsets.length, out, n }));
      assert.deepEqual([...await readF32(r, out, n + 8)], [...refIndicator(n, offsets), ...new Array(8).fill(GARBAGE)]);
    });
  });
});

describe('logic kernels: nonzeros', () => {
  const shapes = [[5, 7], [1, 1], [7, 1], [70, 33], [300, 300]];
  shapes.forEach(([rows, cols], c) => {
    it(`(${rows}, ${cols}), both axes, with an all-zero and an all-one row and column`, async () => {
      const r = await gpuRunner(), rng = new Rng(300 + c);
      const x = relation(rng, rows, cols, 0.3);
      if (rows > 2 && cols > 2) {
        for (let j = 0; j < cols; j++) (x[j] = 0, x[cols + j] = 1); // row 0 none, row 1 all
        for (let i = 0; i < rows; i++) (x[i * cols + cols - 2] = -1, x[i * cols + cols - 1] = 0.5); // column cols-2 none, cols-1 all
      }
      const xb = r.storage(x);
      for (const axis of [0, 1] as const) {
        const [count, len] = axis === 1 ? [rows, cols] : [cols, rows];
        const out = r.storage(new Uint32Array(count * (len + 1)).fill(GARBAGE));
        await r.runAll(nonzeros({ x: xb, xShape: [rows, cols], axis, out }));
        assert.deepEqual(lists(await readU32(r, out, count * (len + 1)), count, len), refNonzeros(x, rows, cols, axis), `axis ${axis}`);
      }
    });
  });

  it('rejects what is not 2-D or a bad axis', () => {
    const b = {} as GPUBuffer, o = {} as GPUBuffer;
    assert.throws(() => nonzeros({ x: b, xShape: [3], axis: 1, out: o }), /2-D/);
    assert.throws(() => nonzeros({ x: b, xShape: [3, 3], axis: 2 as 0, out: o }), /axis must be 0 or 1/);
  });
});

describe('logic kernels: join', () => {
  // S is nonzeros'd on the GPU (its rows for left, its columns for right), then joined with d.
  async function runJoin(side: JoinSide, m: number, k: number, n: number, density: number, seed: number) {
    const r = await gpuRunner(), rng = new Rng(seed);
    const [sr, sc] = side === 'left' ? [m, k] : [k, n];
    const [dr, dc] = side === 'left' ? [k, n] : [m, k];
    const s = relation(rng, sr, sc, density), d = relation(rng, dr, dc, density), ex = relation(rng, m, n, 0.3);
    const p = side === 'left' ? m : n;
    const listsBuf = r.storage(new Uint32Array(p * (k + 1)).fill(GARBAGE));
    const [db, eb] = [r.storage(d), r.storage(ex)];
    const plain = r.storage(new Float32Array(m * n).fill(GARBAGE)), excl = r.storage(new Float32Array(m * n).fill(GARBAGE));
    const common = { lists: listsBuf, listsShape: [p, k + 1], d: db, dShape: [dr, dc], side };
    await r.runAll([
      ...nonzeros({ x: r.storage(s), xShape: [sr, sc], axis: side === 'left' ? 1 : 0, out: listsBuf }),
      ...join({ ...common, out: plain }),
      ...join({ ...common, exclude: eb, excludeShape: [m, n], out: excl }),
    ]);
    assert.deepEqual([...await readF32(r, plain, m * n)], [...refJoin(side, s, d, m, k, n)], `${side}, density ${density}`);
    assert.deepEqual([...await readF32(r, excl, m * n)], [...refJoin(side, s, d, m, k, n, ex)], `${side}, density ${density}, with exclude`);
  }

  const shapes = [{ m: 5, k: 7, n: 3 }, { m: 1, k: 1, n: 1 }, { m: 3, k: 1, n: 9 }, { m: 70, k: 33, n: 65 }];
  for (const side of ['left', 'right'] as const) {
    shapes.forEach(({ m, k, n }, c) => {
      it(`${side}: m=${m}, k=${k}, n=${n}, densities 0, 0.05, 0.5, 1, with and without exclude`, async () => {
        for (const [t, density] of [0, 0.05, 0.5, 1].entries()) await runJoin(side, m, k, n, density, 500 + 10 * c + t);
      });
    });
    it(`${side}: 300x300, sparse and dense`, async () => {
      await runJoin(side, 300, 300, 300, 0.01, 601);
      await runJoin(side, 300, 300, 300, 0.5, 602);
    });
  }

  it('2100x2100: more than 65535 workgroups (the grid folded into y), S with 3 facts per row', async () => {
    const r = await gpuRunner(), rng = new Rng(700), N = 2100;
    // S as its row lists (left) and column lists (right), written here; d and exclude sparse.
    const picks = Array.from({ length: N }, () => [...new Set([rng.int(N), rng.int(N), rng.int(N)])].sort((a, b) => a - b));
    const rowLists = new Uint32Array(N * (N + 1)), colLists = new Uint32Array(N * (N + 1));
    picks.forEach((ks, i) => { rowLists[i * (N + 1)] = ks.length; rowLists.set(ks, i * (N + 1) + 1); });
    const byCol: number[][] = Array.from({ length: N }, () => []);
    picks.forEach((ks, i) => ks.forEach((k) => byCol[k].push(i))); // S^T: column k lists the rows i
    byCol.forEach((is, j) => { colLists[j * (N + 1)] = is.length; colLists.set(is, j * (N + 1) + 1); });
    const d = relation(rng, N, N, 0.01), ex = relation(rng, N, N, 0.2);
    const out = r.storage(N * N * 4);
    for (const side of ['left', 'right'] as const) {
      const lists = side === 'left' ? picks : byCol;
      await r.runAll(join({ lists: r.storage(side === 'left' ? rowLists : colLists), listsShape: [N, N + 1], d: r.storage(d), dShape: [N, N], side, exclude: r.storage(ex), out }));
      const got = await readF32(r, out, N * N);
      for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
        const want = ex[i * N + j] > 0 ? 0 : side === 'left' ? +lists[i].some((k) => d[k * N + j] > 0) : +lists[j].some((k) => d[i * N + k] > 0);
        if (got[i * N + j] !== want) assert.fail(`${side}: [${i}, ${j}] is ${got[i * N + j]}, expected ${want}`);
      }
    }
    const offsets = Uint32Array.from({ length: 3000 }, () => rng.int(N * N + 100));
    await r.runAll(indicator({ offsets: r.storage(offsets), count: offsets.length, out, n: N * N }));
    const want = refIndicator(N * N, offsets), got = await readF32(r, out, N * N);
    const bad = got.findIndex((v, k) => v !== want[k]);
    assert.equal(bad, -1, `indicator: [${bad}] is ${got[bad]}, expected ${want[bad]}`);
  });

  it('reads only the counted entries of a list (at most q), and ignores positions past k', async () => {
    const r = await gpuRunner();
    // S's rows as lists (q = 3): row 0 counts 5 (past q: only its 3 entries, [1, 1, 1], are read);
    // row 1 none (stale 0s after the count); row 2 [0, 9 (past k), 2].
    const l = Uint32Array.from([5, 1, 1, 1, 0, 0, 0, 0, 3, 0, 9, 2]);
    // d (3, 3): facts (0, 1) and (2, 2); its buffer goes on with facts that no probe may reach.
    const d = Float32Array.from({ length: 40 }, (_, k) => (k === 1 || k >= 8 ? 1 : 0));
    const out = r.storage(9 * 4);
    await r.runAll(join({ lists: r.storage(l), listsShape: [3, 4], d: r.storage(d), dShape: [3, 3], side: 'left', out }));
    assert.deepEqual([...await readF32(r, out, 9)], [0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('rejects operands that do not fit', () => {
    const b = () => ({}) as GPUBuffer;
    assert.throws(() => join({ lists: b(), listsShape: [5, 8], d: b(), dShape: [6, 3], side: 'left', out: b() }), /has 6 along the first dim/);
    assert.throws(() => join({ lists: b(), listsShape: [3, 8], d: b(), dShape: [5, 6], side: 'right', out: b() }), /has 6 along the last dim/);
    assert.throws(() => join({ lists: b(), listsShape: [5, 8], d: b(), dShape: [7, 3], side: 'left', exclude: b(), excludeShape: [3, 5], out: b() }), /exclude/);
  });
});

describe('logic ops in a device graph', () => {
  const span = { file: 'logic.tl', line: 1, col: 1 } as Span;

  /** S (5, 7) from offsets, lists of its rows and columns, joins both ways, and an empty relation. */
  function build() {
    const g = new GraphBuilder(0, 'logic');
    const sOffsets = [0, 9, 9, 16, 30, 34, 99];
    const sOff = g.add('const', [], { shape: [sOffsets.length], values: sOffsets, dtype: 'u32' });
    const s = g.add('indicator', [sOff], { shape: [5, 7] });
    const dOff = g.add('const', [], { shape: [4], values: [2, 10, 20, 13], dtype: 'u32' }); // d (7, 3)
    const d = g.add('indicator', [dOff], { shape: [7, 3] });
    const eOff = g.add('const', [], { shape: [0], values: [], dtype: 'u32' });
    const e = g.add('indicator', [eOff], { shape: [5, 3] }); // nothing excluded
    const rows = g.add('nonzeros', [s], { axis: 1 });
    const left = g.add('join', [rows, d, e], { side: 'left' });
    const tOff = g.add('const', [], { shape: [5], values: [1, 5, 8, 9, 0], dtype: 'u32' });
    const dT = g.add('indicator', [tOff], { shape: [2, 5] }); // (m 2, k 5) for the right join with S (5, 7)
    const cols = g.add('nonzeros', [s], { axis: 0 });
    const right = g.add('join', [cols, dT], { side: 'right' });
    for (const node of [s, rows, left, right, e]) g.output(node, -1);
    const graph: Graph = { id: 0, name: 'logic', dims: [], inputs: [], nodes: g.nodes, outputs: g.outputs };
    return { g, graph, s, rows, left, right, cols };
  }

  it('shape rules: types and shapes', () => {
    const { g, s, rows, left, right, cols } = build();
    assert.deepEqual(g.nodes[s].shape, [5, 7]);
    assert.equal(g.nodes[s].dtype, 'f32');
    assert.deepEqual([g.nodes[rows].shape, g.nodes[rows].dtype], [[5, 8], 'u32']);
    assert.deepEqual(g.nodes[cols].shape, [7, 6]);
    assert.deepEqual(g.nodes[left].shape, [5, 3]);
    assert.deepEqual(g.nodes[right].shape, [2, 7]);
  });

  it('shape rules: clear errors', () => {
    const { g, s, rows, cols } = build();
    const d = g.add('const', [], { shape: [6, 3], values: [0] });
    assert.throws(() => g.add('join', [rows, d], { side: 'left' }), /join: the lists \[5, 8\] hold positions below 7, but the relation \[6, 3\] has 6 along its first dim/);
    assert.throws(() => g.add('join', [cols, d], { side: 'right' }), /has 3 along its last dim/);
    assert.throws(() => g.add('join', [rows, s], { side: 'up' }), /side must be 'left' or 'right'/);
    const d73 = g.add('const', [], { shape: [7, 3], values: [0] });
    assert.throws(() => g.add('join', [rows, d73, s], { side: 'left' }), /exclude \[5, 7\] differs from the output \[5, 3\]/);
    assert.throws(() => g.add('nonzeros', [rows], { axis: 2 }), /axis must be 0/);
    assert.throws(() => g.add('nonzeros', [g.add('const', [], { shape: [3], values: [0] })], { axis: 1 }), /2-D/);
    assert.throws(() => g.add('indicator', [rows], { shape: [5, 7] }), /offsets must be a 1-D list/);
    assert.throws(() => g.add('indicator', [g.add('const', [], { shape: [1], values: [0], dtype: 'u32' })], { shape: [2, -1] }), /attrs.shape must be a list of sizes, got \[2,-1\]/);
    // Sizes known only at run time: nonzeros adds one to the dim; join accepts matching names.
    const x = g.add('tensor', [], { shape: ['a', 'b'] });
    const l = g.add('nonzeros', [x], { axis: 1 });
    assert.deepEqual(g.nodes[l].shape, ['a', 'b+1']);
    const y = g.add('tensor', [], { shape: ['b', 'c'] });
    assert.deepEqual(g.nodes[g.add('join', [l, y], { side: 'left' })].shape, ['a', 'c']);
  });

  it('runs through the executor (codegen, u32 read-back, an empty const), and IR checks accept it', async () => {
    const { graph } = build();
    assert.equal(irProblem({ host: [], graphs: [graph], weights: [] }), undefined);
    assert.match(nodeLine(graph.nodes[6], graph, new Map()), /^%6 = nonzeros\(%1\) axis=1 \(5, 8\) u32$/);
    assert.match(nodeLine(graph.nodes[7], graph, new Map()), /^%7 = join\(%6, %3, %5\) side=left \(5, 3\) f32$/);
    const fused = fuseElementwise.run({ host: [], graphs: [graph], weights: [] }).graphs[0];
    assert.deepEqual(fused.nodes.map((n) => n.op), graph.nodes.map((n) => n.op));

    const r = await gpuRunner();
    const ex = new GraphExecutor(r, graph, new Map(), { ctx: 16 });
    ex.warm();
    await ex.run({}, []);
    const S = refIndicator(35, [0, 9, 9, 16, 30, 34, 99]), D = refIndicator(21, [2, 10, 20, 13]), DT = refIndicator(10, [1, 5, 8, 9, 0]);
    assert.deepEqual(ex.output(0), [...S]);
    const rowLists = lists(Uint32Array.from(ex.output(1) as number[]), 5, 7);
    assert.deepEqual(rowLists, refNonzeros(S, 5, 7, 1));
    assert.deepEqual(ex.output(2), [...refJoin('left', S, D, 5, 7, 3)]);
    assert.deepEqual(ex.output(3), [...refJoin('right', S, DT, 2, 5, 7)]);
    assert.deepEqual(ex.output(4), new Array(15).fill(0));
    ex.destroy();
  });

  it('the executor refuses f32 lists', async () => {
    const g = new GraphBuilder(0, 'bad');
    const s = g.add('const', [], { shape: [2, 3], values: [0, 1, 2, 0, 0, 0] });
    const d = g.add('const', [], { shape: [2, 2], values: [1, 0, 0, 1] });
    g.output(g.add('join', [s, d], { side: 'left' }), -1);
    const ex = new GraphExecutor(await gpuRunner(), { id: 0, name: 'bad', dims: [], inputs: [], nodes: g.nodes, outputs: g.outputs }, new Map(), { ctx: 16 });
    await assert.rejects(ex.run({}, []), /join: the lists \(from nonzeros\) must be u32, got f32/);
    ex.destroy();
  });

  it('autodiff refuses them by name', () => {
    const g = new GraphBuilder(0, 'learn');
    const w = g.add('tensor', [], { shape: [7, 3] });
    const rows = g.add('nonzeros', [g.add('const', [], { shape: [5, 7], values: new Array(35).fill(1) })], { axis: 1 });
    const loss = g.add('reduce', [g.add('join', [rows, w], { side: 'left' })], { fn: 'sum' });
    assert.throws(() => gradients(g, loss, [w], span), (e: Error) => e instanceof CompileError && /cannot differentiate the logic op join/.test(e.message));
  });
});
