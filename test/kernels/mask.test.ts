import assert from 'node:assert/strict';
import { causalMask, applyAttentionMask } from '../../runtime/ops/mask.ts';
import { softmax } from '../../runtime/ops/softmax.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

const I = -Infinity;

describe('causal mask kernels', () => {
  const cases = [
    { rows: 3, pos0: 0, expected: [0, I, I, 0, 0, I, 0, 0, 0] },
    { rows: 2, pos0: 2, expected: [0, 0, 0, I, 0, 0, 0, 0] },       // (seq, pos0 + seq)
    { rows: 1, pos0: 4, expected: [0, 0, 0, 0, 0] },                // decode: nothing masked
  ];
  for (const { rows, pos0, expected } of cases) {
    it(`${rows} rows after ${pos0} cached`, async () => {
      const r = await gpuRunner(), mask = r.storage(expected.length * 4);
      await r.runAll(causalMask({ mask, rows, pos0 }));
      assert.deepEqual([...await readF32(r, mask, expected.length)], expected);
      assert.deepEqual(expected, [...ref.causalMask(rows, rows + pos0, pos0)]);
    });
  }

  it('masked scores over heads, then softmax: weights only on keys <= position', async () => {
    const r = await gpuRunner(), heads = 2, seq = 3, pos0 = 1, kv = pos0 + seq;
    const scores = new Rng(8).floats(heads * seq * kv, -3, 3), sb = r.storage(scores), mask = r.storage(seq * kv * 4);
    await r.runAll([
      ...causalMask({ mask, rows: seq, pos0 }),
      ...applyAttentionMask({ scores: sb, scoresShape: [heads, seq, kv], mask, maskShape: [seq, kv], out: sb }),
      ...softmax({ x: sb, y: sb, rows: heads * seq, n: kv }),
    ]);
    const masked = ref.binary('add', scores, [heads, seq, kv], ref.causalMask(seq, kv, pos0), [seq, kv]).y;
    const expected = ref.softmax(masked, heads * seq, kv);
    assertClose(await readF32(r, sb, scores.length), expected, { atol: 1e-6, rtol: 1e-5 }, 'weights');
    assert.equal(expected[kv - 1], 0, 'query 0 (position 1) gives key 3 no weight');
  });
});
