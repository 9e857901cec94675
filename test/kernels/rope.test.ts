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

  // Independent of the kernel and of ref.rope's step-by-step angles: the closed form, each pair
  // (2i, 2i + 1) turned by pos * base^(-2i / d), in f64. The kernel builds its angles in f32 (a few
  // ulps of an angle up to pos), so 1e-5 at these positions.
  const closedForm = (x: Float32Array, nHead: number, d: number, pos: number): Float64Array => {
    const y = Float64Array.from(x);
    for (let h = 0; h < nHead; h++) {
      for (let i = 0; i < d / 2; i++) {
        const t = pos * 10000 ** (-2 * i / d), [a, b] = [x[h * d + 2 * i], x[h * d + 2 * i + 1]];
        y[h * d + 2 * i] = a * Math.cos(t) - b * Math.sin(t);
        y[h * d + 2 * i + 1] = a * Math.sin(t) + b * Math.cos(t);
      }
    }
    return y;
  };

  it('rotates by the position alone: row s of a prefill equals a decode at pos0 + s, and the closed form', async () => {
    const r = await gpuRunner(), h = 2, d = 8, seq = 4, pos0 = 10, row = h * d, x = new Rng(3).floats(seq * row);
    const all = r.storage(x.byteLength);
    await r.runAll(rope({ x: r.storage(x), y: all, seq, nHead: h, headDim: d, pos0 }));
    const prefill = await readF32(r, all, seq * row);
    for (let s = 0; s < seq; s++) {
      const one = r.storage(row * 4), xs = x.subarray(s * row, (s + 1) * row);
      await r.runAll(rope({ x: r.storage(xs), y: one, seq: 1, nHead: h, headDim: d, pos0: pos0 + s }));
      const decode = await readF32(r, one, row);
      assertClose(decode, prefill.subarray(s * row, (s + 1) * row), { atol: 0 }, `row ${s}: decode vs prefill`);
      assertClose(decode, closedForm(xs, h, d, pos0 + s), { atol: 1e-5 }, `row ${s}: decode vs the closed form`);
    }
  });
});
