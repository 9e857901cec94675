import assert from 'node:assert/strict';
import { copyStrided, broadcastTo, transpose, sliceLast } from '../../runtime/ops/copy_strided.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32 } from './support.ts';

// A copy: exact.
describe('copy_strided kernel', () => {
  const views = [
    { what: 'transpose (3, 4) -> (4, 3)', shape: [4, 3], strides: [1, 4], offset: 0 },
    { what: 'a column', shape: [5], strides: [4], offset: 2 },
    { what: 'broadcast a row', shape: [3, 4], strides: [0, 1], offset: 4 },
    { what: 'a 0-d element', shape: [], strides: [], offset: 7 },
    { what: 'rank 5 with unit and zero strides', shape: [2, 1, 3, 2, 2], strides: [1, 9, 2, 0, 6], offset: 1 },
  ];
  for (const { what, shape, strides, offset } of views) {
    it(what, async () => {
      const r = await gpuRunner(), src = new Rng(3).floats(24);
      const n = shape.reduce((p, d) => p * d, 1), dst = r.storage(Math.max(n, 1) * 4 + 8);
      await r.runAll(copyStrided({ src: r.storage(src), dst, shape, strides, srcOffset: offset, dstOffset: 2 }));
      assert.deepEqual([...await readF32(r, dst, n, 2)], [...ref.copyStrided(src, shape, strides, offset)]);
    });
  }

  it('broadcast_to, transpose and slice_last', async () => {
    const r = await gpuRunner(), x = new Rng(1).floats(2 * 3 * 4), xb = r.storage(x);
    const b = r.storage(5 * 2 * 3 * 4 * 4), t = r.storage(x.byteLength), s = r.storage(16);
    await r.runAll([
      ...broadcastTo({ src: xb, dst: b, shape: [2, 1, 4], to: [5, 2, 3, 4] }),
      ...transpose({ src: xb, dst: t, shape: [2, 3, 4], perm: [2, 0, 1] }),
      ...sliceLast({ src: xb, dst: s, rows: 6, n: 4 }),
    ]);
    assert.deepEqual([...await readF32(r, b, 120)], [...ref.broadcastTo(x.subarray(0, 8), [2, 1, 4], [5, 2, 3, 4])]);
    assert.deepEqual([...await readF32(r, t, 24)], [...ref.transpose(x, [2, 3, 4], [2, 0, 1])]);
    assert.deepEqual([...await readF32(r, s, 4)], [...x.subarray(20)]);
  });

  it('rejects negative strides, rank mismatches and non-permutations', () => {
    const a = {} as GPUBuffer, b = {} as GPUBuffer;
    assert.throws(() => copyStrided({ src: a, dst: b, shape: [2], strides: [-1] }), /non-negative/);
    assert.throws(() => copyStrided({ src: a, dst: b, shape: [2, 2], strides: [1] }), /rank/);
    assert.throws(() => transpose({ src: a, dst: b, shape: [2, 2], perm: [0, 0] }), /not a permutation/);
  });
});
