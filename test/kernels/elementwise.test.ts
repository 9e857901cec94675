import assert from 'node:assert/strict';
import { unary, scale, addScalar, binary, swiglu, type UnaryOp, type BinaryOp } from '../../runtime/ops/elementwise.ts';
import { UNARY_OPS } from '../../shaders/unary.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

// GPU exp/log/sin/cos/division are a few ulps off (WGSL allows more); outputs are O(1)-O(10).
const TOL = { atol: 2e-6, rtol: 2e-6 };
// Inputs in the op's domain.
const DOMAIN: Partial<Record<UnaryOp, [number, number]>> = { log: [0.01, 10], sqrt: [0, 10], rsqrt: [0.01, 10], recip: [0.1, 5] };

describe('elementwise kernels', () => {
  describe('unary', () => {
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
      it(op, async () => {
        const r = await gpuRunner(), [lo, hi] = DOMAIN[op] ?? [-8, 8];
        const x = new Rng(op.length).floats(1000, lo, hi), c = 1.75;
        const y = r.storage(x.byteLength);
        await r.runAll(unary(op, { x: r.storage(x), y, n: x.length, c }));
        assertClose(await readF32(r, y, x.length), ref.unary(op, x, c), TOL, op);
      });
    }

    it('silu, sigmoid and gelu saturate without NaN at +-100', async () => {
      const r = await gpuRunner(), x = Float32Array.from([-100, -30, 30, 100]);
      for (const op of ['silu', 'sigmoid', 'gelu', 'tanh'] as UnaryOp[]) {
        const y = r.storage(x.byteLength);
        await r.runAll(unary(op, { x: r.storage(x), y, n: 4 }));
        assertClose(await readF32(r, y, 4), ref.unary(op, x), TOL, op);
      }
    });

    it('past 65535 workgroups (the grid folds into y)', async () => {
      const r = await gpuRunner(), n = 65535 * 64 + 1000, x = new Rng(5).floats(n), y = r.storage(x.byteLength);
      await r.runAll(unary('neg', { x: r.storage(x), y, n }));
      assertClose(await readF32(r, y, n), x.map((v) => -v), { atol: 0 }, 'neg');
    });

    it('scale and add_scalar, in place, on a prefix of the buffer', async () => {
      const r = await gpuRunner(), x = new Rng(9).floats(100), xb = r.storage(x);
      await r.runAll([...scale({ x: xb, y: xb, n: 70, s: -3 }), ...addScalar({ x: xb, y: xb, n: 70, c: 0.5 })]);
      const expected = x.map((v, i) => (i < 70 ? v * -3 + 0.5 : v));
      assertClose(await readF32(r, xb, 100), expected, TOL, 'y');
    });
  });

  describe('binary with broadcasting', () => {
    const cases: { op: BinaryOp; a: number[]; b: number[] }[] = [
      { op: 'add', a: [3, 70], b: [3, 70] },
      { op: 'sub', a: [4, 5], b: [5] },                     // a row vector over rows
      { op: 'mul', a: [6, 1], b: [1, 7] },                  // outer product shape
      { op: 'div', a: [2, 3, 4], b: [3, 1] },
      { op: 'max', a: [2, 1, 3, 1, 2, 2], b: [2, 1, 2, 1, 2] }, // rank 6
      { op: 'min', a: [], b: [5, 2] },                      // a scalar
      { op: 'swiglu', a: [10], b: [10] },
    ];
    for (const { op, a, b } of cases) {
      it(`${op} [${a}] [${b}]`, async () => {
        const r = await gpuRunner(), rng = new Rng(a.length * 10 + b.length);
        const av = rng.floats(a.reduce((p, d) => p * d, 1), -4, 4), bv = rng.floats(b.reduce((p, d) => p * d, 1), 0.5, 4);
        const { y, shape } = ref.binary(op, av, a, bv, b);
        const out = r.storage(y.byteLength);
        await r.runAll(binary(op, { a: r.storage(av), aShape: a, b: r.storage(bv), bShape: b, out }));
        assertClose(await readF32(r, out, y.length), y, TOL, `${op} -> [${shape}]`);
      });
    }

    it('writes in place into a, into b, or into both', async () => {
      const r = await gpuRunner(), rng = new Rng(2);
      const a = rng.floats(12), b = rng.floats(4);
      const ab = r.storage(a);
      await r.runAll(binary('add', { a: ab, aShape: [3, 4], b: r.storage(b), bShape: [4], out: ab }));
      assertClose(await readF32(r, ab, 12), ref.binary('add', a, [3, 4], b, [4]).y, TOL, 'out = a');
      const bb = r.storage(a);
      await r.runAll(binary('sub', { a: r.storage(b), aShape: [1, 4], b: bb, bShape: [3, 4], out: bb }));
      assertClose(await readF32(r, bb, 12), ref.binary('sub', b, [1, 4], a, [3, 4]).y, TOL, 'out = b');
      const sq = r.storage(b);
      await r.runAll(binary('mul', { a: sq, aShape: [4], b: sq, bShape: [4], out: sq }));
      assertClose(await readF32(r, sq, 4), b.map((v) => v * v), TOL, 'out = a = b');
    });

    it('swiglu(gate, up) = silu(gate) * up', async () => {
      const r = await gpuRunner(), rng = new Rng(4), gate = rng.floats(300, -6, 6), up = rng.floats(300);
      const out = r.storage(gate.byteLength);
      await r.runAll(swiglu({ gate: r.storage(gate), up: r.storage(up), out, n: 300 }));
      assertClose(await readF32(r, out, 300), gate.map((g, i) => ref.UNARY.silu(g, 0) * up[i]), TOL, 'swiglu');
    });

    it('rejects shapes that do not broadcast, and an in-place output too small', () => {
      const b = {} as GPUBuffer, c = {} as GPUBuffer;
      assert.throws(() => binary('add', { a: b, aShape: [3, 4], b: c, bShape: [3], out: c }), /do not broadcast/);
      assert.throws(() => binary('add', { a: b, aShape: [3, 4], b: c, bShape: [4], out: c }), /smaller than the result/);
    });
  });
});
