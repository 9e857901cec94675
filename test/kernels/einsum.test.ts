import assert from 'node:assert/strict';
import { einsum, einsumShape } from '../../runtime/ops/einsum.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

// f32 sums of up to 40 products of values in [-1, 1], in the same order as the f64 reference.
const TOL = { atol: 1e-5, rtol: 1e-5 };

describe('einsum kernel', () => {
  const cases: { spec: string; shapes: number[][]; shape: number[] }[] = [
    { spec: 'ihd,jhd->ihj', shapes: [[3, 2, 8], [5, 2, 8]], shape: [3, 2, 5] },  // attention scores
    { spec: 'ihj,jhd->ihd', shapes: [[3, 2, 5], [5, 2, 8]], shape: [3, 2, 8] },  // weights times values
    { spec: 'ij,jk->ik', shapes: [[4, 24], [24, 3]], shape: [4, 3] },
    { spec: 'ij,jk', shapes: [[4, 6], [6, 3]], shape: [4, 3] },                  // implicit output
    { spec: 'ii->i', shapes: [[5, 5]], shape: [5] },
    { spec: 'ii', shapes: [[5, 5]], shape: [] },                                  // trace
    { spec: 'ij->', shapes: [[3, 7]], shape: [] },
    { spec: 'ij->ji', shapes: [[3, 7]], shape: [7, 3] },
    { spec: 'i,j->ij', shapes: [[4], [3]], shape: [4, 3] },
    { spec: 'bij,bjk->bik', shapes: [[2, 3, 4], [2, 4, 5]], shape: [2, 3, 5] },
    { spec: 'ijk->k', shapes: [[2, 1, 3]], shape: [3] },                         // a size-1 letter
    { spec: 'ij,jk->ik', shapes: [[20, 40], [40, 18]], shape: [20, 18] },         // several 16x16 tiles
    { spec: 'bhid,bhjd->bhij', shapes: [[2, 3, 5, 4], [2, 3, 6, 4]], shape: [2, 3, 5, 6] },
    { spec: 'i,i->', shapes: [[33], [33]], shape: [] },                          // a dot product
    { spec: 'ij,j->i', shapes: [[5, 17], [17]], shape: [5] },
    { spec: 'ij,jk->', shapes: [[2, 3], [3, 2]], shape: [] },                      // summed twice: generic
  ];
  // The matmul forms take the tiled kernel, the rest the generic one.
  const TILED = new Set(['ihd,jhd->ihj', 'ihj,jhd->ihd', 'ij,jk->ik', 'ij,jk', 'bij,bjk->bik', 'bhid,bhjd->bhij', 'i,i->', 'ij,j->i']);
  for (const { spec, shapes, shape } of cases) {
    it(`${spec} [${shapes.map((s) => `[${s}]`)}]`, async () => {
      const r = await gpuRunner(), rng = new Rng(spec.length);
      const xs = shapes.map((s) => rng.floats(s.reduce((p, d) => p * d, 1)));
      const expected = ref.einsum(spec, xs, shapes);
      assert.deepEqual(expected.shape, shape);
      assert.deepEqual(einsumShape(spec, shapes), shape);
      const out = r.storage(expected.y.byteLength);
      const dispatches = einsum(spec, { operands: xs.map((x) => r.storage(x)), shapes, out });
      assert.equal(dispatches[0].kernel.name === 'einsum_matmul', TILED.has(spec), 'kernel choice');
      await r.runAll(dispatches);
      assertClose(await readF32(r, out, expected.y.length), expected.y, TOL, spec);
    });
  }

  const bad = [
    { spec: 'ij,jk->ik', shapes: [[2, 3], [4, 5]], error: /letter j is 3 in one place and 4/ },
    { spec: 'ij->ik', shapes: [[2, 3]], error: /output letter k is in no operand/ },
    { spec: 'ijk->i', shapes: [[2, 3]], error: /rank 3/ },
    { spec: 'i,j,k->ijk', shapes: [[1], [1], [1]], error: /one or two operands/ },
    { spec: 'ij->ii', shapes: [[2, 2]], error: /repeats a letter/ },
  ];
  for (const { spec, shapes, error } of bad) {
    it(`rejects "${spec}" [${shapes.map((s) => `[${s}]`)}]`, () => {
      assert.throws(() => einsumShape(spec, shapes), error);
    });
  }
});
