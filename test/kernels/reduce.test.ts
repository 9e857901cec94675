// max / min along an axis or over everything (shaders/reduce.ts) against a plain loop, on random data.
import { reduceExtreme, type ExtremeOp } from '../../runtime/ops/reduce.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32, assertClose } from './support.ts';

/** The reference: for each (outer, inner) line of `axis`, the extreme of its elements. */
function reference(op: ExtremeOp, x: Float32Array, shape: number[], axis: number | undefined): Float32Array {
  const pick = op === 'max' ? Math.max : Math.min;
  if (axis === undefined) return Float32Array.of(x.reduce((a, v) => pick(a, v), x[0]));
  const len = shape[axis], inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = x.length / (len * inner);
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let m = x[o * len * inner + i];
      for (let k = 1; k < len; k++) m = pick(m, x[(o * len + k) * inner + i]);
      out[o * inner + i] = m;
    }
  }
  return out;
}

describe('reduce max/min kernel', () => {
  const cases: { shape: number[]; axis?: number }[] = [
    { shape: [7] },
    { shape: [3, 1000] },          // more elements per line than threads
    { shape: [300, 17] },
    { shape: [4, 5, 6], axis: 0 },
    { shape: [4, 5, 6], axis: 1 },
    { shape: [4, 5, 600], axis: 2 },
    { shape: [1, 1], axis: 1 },
  ];
  for (const op of ['max', 'min'] as const) {
    for (const { shape, axis } of cases) {
      it(`${op} of [${shape}] ${axis === undefined ? 'over everything' : `along axis ${axis}`}`, async () => {
        const r = await gpuRunner(), n = shape.reduce((a, b) => a * b, 1);
        const x = new Rng(n * 7 + (axis ?? 9)).floats(n, -100, 100);
        const expected = reference(op, x, shape, axis);
        const yb = r.storage(expected.length * 4);
        await r.runAll(reduceExtreme(op, { x: r.storage(x), y: yb, shape, axis }));
        assertClose(await readF32(r, yb, expected.length), expected, { atol: 0 }, op);
      });
    }
  }

  it('finds an extreme at the last element and among negative infinities', async () => {
    const r = await gpuRunner();
    const x = Float32Array.from([-Infinity, -Infinity, -5, -Infinity, 2, 9]);
    const yb = r.storage(8);
    await r.runAll(reduceExtreme('max', { x: r.storage(x), y: yb, shape: [2, 3], axis: 1 }));
    assertClose(await readF32(r, yb, 2), [-5, 9], { atol: 0 }, 'max');
  });
});
