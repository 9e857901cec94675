import { rope } from '../../runtime/ops/rope.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

// The kernel's own cos/sin vs f64 Math.cos of the same f32 angle: within ~1 ulp, so |x| <= 1 data
// stays within 2e-6 even at position 12000 (angles of thousands of radians).
const TOL = { atol: 2e-6 };

describe('rope kernel', () => {
  const cases = [
    { seq: 3, nHead: 2, headDim: 8, pos0: 0 },
    { seq: 4, nHead: 3, headDim: 16, pos0: 7, nRot: 8 },            // dims >= n_rot untouched
    { seq: 2, nHead: 2, headDim: 16, pos0: 5, neox: true },
    { seq: 2, nHead: 2, headDim: 16, pos0: 3, nRot: 12, neox: true },
    { seq: 2, nHead: 4, headDim: 64, pos0: 12000 },                  // large angles
    { seq: 3, nHead: 2, headDim: 64, pos0: 1000, base: 500000 },     // llama 3's base
  ];
  for (const c of cases) {
    it(JSON.stringify(c), async () => {
      const r = await gpuRunner(), rng = new Rng(c.seq * 31 + c.headDim + c.pos0);
      const n = c.seq * c.nHead * c.headDim;
      const x = rng.floats(n), expected = ref.rope(x, c.seq, c.nHead, c.headDim, c);
      const xb = r.storage(x), yb = r.storage(x.byteLength);
      await r.runAll(rope({ ...c, x: xb, y: yb }));
      assertClose(await readF32(r, yb, n), expected, TOL, 'y');
      await r.runAll(rope({ ...c, x: xb, y: xb }));
      assertClose(await readF32(r, xb, n), expected, TOL, 'y in place');
    });
  }

  it('divides each angle by its frequency factor (llama 3.1 rope_freqs)', async () => {
    const r = await gpuRunner(), rng = new Rng(11), c = { seq: 3, nHead: 2, headDim: 16, pos0: 500 };
    const x = rng.floats(3 * 2 * 16), freqFactors = Float32Array.from({ length: 8 }, (_, i) => 1 + i * 1.5);
    const y = r.storage(x.byteLength);
    await r.runAll(rope({ ...c, x: r.storage(x), y, freqFactors: r.storage(freqFactors) }));
    assertClose(await readF32(r, y, x.length), ref.rope(x, 3, 2, 16, { ...c, freqFactors }), TOL, 'y');
  });

  it('rotates by the position alone: row s of a prefill equals a decode at pos0 + s', async () => {
    const r = await gpuRunner(), h = 2, d = 8, x = new Rng(3).floats(4 * h * d);
    const all = r.storage(x.byteLength), one = r.storage(h * d * 4);
    await r.runAll(rope({ x: r.storage(x), y: all, seq: 4, nHead: h, headDim: d, pos0: 10 }));
    await r.runAll(rope({ x: r.storage(x.subarray(3 * h * d)), y: one, seq: 1, nHead: h, headDim: d, pos0: 13 }));
    assertClose(await readF32(r, one, h * d), (await readF32(r, all, 4 * h * d)).subarray(3 * h * d), { atol: 0 }, 'row 3');
  });
});
