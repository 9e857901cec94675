import { rmsNorm } from '../../runtime/ops/rms_norm.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

// f32 sum of squares in a different order than the f64 reference: a few ulps.
const TOL = { atol: 1e-6, rtol: 1e-5 };

describe('rms_norm kernel', () => {
  const cases = [
    { rows: 1, n: 8, eps: 1e-5 },
    { rows: 3, n: 64, eps: 1e-6 },
    { rows: 5, n: 300, eps: 1e-5 },   // n not a multiple of the workgroup
    { rows: 2, n: 2048, eps: 1e-5 },  // several elements per thread
  ];
  for (const { rows, n, eps } of cases) {
    it(`(${rows}, ${n}) eps ${eps}`, async () => {
      const r = await gpuRunner(), rng = new Rng(rows * 1000 + n);
      const x = rng.floats(rows * n, -3, 3), w = rng.floats(n, 0.5, 1.5);
      const xb = r.storage(x), wb = r.storage(w), yb = r.storage(x.byteLength);
      await r.runAll(rmsNorm({ x: xb, w: wb, y: yb, rows, n, eps }));
      assertClose(await readF32(r, yb, rows * n), ref.rmsNorm(x, w, rows, n, eps), TOL, 'y');
      // in place: y is x
      await r.runAll(rmsNorm({ x: xb, w: wb, y: xb, rows, n, eps }));
      assertClose(await readF32(r, xb, rows * n), ref.rmsNorm(x, w, rows, n, eps), TOL, 'y in place');
    });
  }

  it('reads only `rows` rows of a larger buffer', async () => {
    const r = await gpuRunner(), n = 16;
    const x = new Rng(7).floats(4 * n), y0 = new Float32Array(4 * n).fill(42);
    const yb = r.storage(y0);
    await r.runAll(rmsNorm({ x: r.storage(x), w: r.storage(new Float32Array(n).fill(1)), y: yb, rows: 2, n, eps: 1e-5 }));
    const y = await readF32(r, yb, 4 * n);
    assertClose(y.subarray(0, 2 * n), ref.rmsNorm(x, new Float32Array(n).fill(1), 2, n, 1e-5), TOL, 'rows 0..1');
    assertClose(y.subarray(2 * n), y0.subarray(2 * n), { atol: 0 }, 'rows 2..3 untouched');
  });
});
