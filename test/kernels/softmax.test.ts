import { softmax, softmaxAxis } from '../../runtime/ops/softmax.ts';
import * as ref from '../reference/ops.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

// Outputs are probabilities in [0, 1]; GPU exp and f32 sums: a few ulps of the largest.
const TOL = { atol: 1e-6, rtol: 1e-5 };

describe('softmax kernel', () => {
  const lastAxis = [
    { rows: 1, n: 5 },
    { rows: 4, n: 100 },
    { rows: 2, n: 32000 },   // a vocabulary
  ];
  for (const { rows, n } of lastAxis) {
    it(`last axis of (${rows}, ${n})`, async () => {
      const r = await gpuRunner(), x = new Rng(n).floats(rows * n, -20, 20);
      const xb = r.storage(x), yb = r.storage(x.byteLength), expected = ref.softmax(x, rows, n);
      await r.runAll(softmax({ x: xb, y: yb, rows, n }));
      assertClose(await readF32(r, yb, rows * n), expected, TOL, 'y');
      await r.runAll(softmax({ x: xb, y: xb, rows, n }));
      assertClose(await readF32(r, xb, rows * n), expected, TOL, 'y in place');
    });
  }

  it('is stable for large logits and -inf (masked) entries', async () => {
    const r = await gpuRunner();
    const x = Float32Array.from([1000, 999, -Infinity, 998, -Infinity, 0, 0, 0]);
    const yb = r.storage(x.byteLength);
    await r.runAll(softmax({ x: r.storage(x), y: yb, rows: 2, n: 4 }));
    assertClose(await readF32(r, yb, 8), ref.softmax(x, 2, 4), TOL, 'y');
  });

  const axes = [
    { shape: [3, 4, 5], axis: 1 },
    { shape: [3, 4, 5], axis: 0 },
    { shape: [2, 3, 4, 5], axis: -1 },
  ];
  for (const { shape, axis } of axes) {
    it(`axis ${axis} of [${shape}]`, async () => {
      const r = await gpuRunner(), n = shape.reduce((a, b) => a * b), x = new Rng(n + axis).floats(n, -5, 5);
      const yb = r.storage(n * 4);
      await r.runAll(softmaxAxis({ x: r.storage(x), y: yb, shape, axis }));
      assertClose(await readF32(r, yb, n), ref.softmaxAxis(x, shape, axis < 0 ? shape.length + axis : axis), TOL, 'y');
    });
  }
});
