import assert from 'node:assert/strict';
import { gather, scatter } from '../../runtime/ops/gather_scatter.ts';
import { Rng } from '../../runtime/rng.ts';
import { gpuRunner, readF32 } from './support.ts';

// Plain references: an index is rounded (halves away from zero); outside [0, size) it reads 0
// (gather) or writes nothing (scatter); of duplicates the last in row-major order wins.
function slot(v: number, size: number): number {
  const r = Math.sign(v) * Math.round(Math.abs(v));
  return r >= 0 && r < size ? r : -1;
}

/** x as (outer, size, inner); the index (outer, count, inner), or 1-D (count) repeated over outer and inner. */
function dims(xShape: number[], indexShape: number[], dim: number) {
  const outer = xShape.slice(0, dim).reduce((p, d) => p * d, 1), inner = xShape.slice(dim + 1).reduce((p, d) => p * d, 1);
  const count = indexShape.length === 1 ? indexShape[0] : indexShape[dim];
  const at = (o: number, j: number, i: number) => (indexShape.length === 1 && xShape.length > 1 ? j : (o * count + j) * inner + i);
  return { outer, inner, size: xShape[dim], count, at };
}

function refGather(x: Float32Array, xShape: number[], index: ArrayLike<number>, indexShape: number[], dim: number): Float32Array {
  const { outer, inner, size, count, at } = dims(xShape, indexShape, dim);
  const out = new Float32Array(outer * count * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < count; j++) for (let i = 0; i < inner; i++) {
    const s = slot(index[at(o, j, i)], size);
    out[(o * count + j) * inner + i] = s < 0 ? 0 : x[(o * size + s) * inner + i];
  }
  return out;
}

function refScatter(x: Float32Array, xShape: number[], index: ArrayLike<number>, indexShape: number[], src: Float32Array, dim: number): Float32Array {
  const { outer, inner, size, count, at } = dims(xShape, indexShape, dim);
  const out = x.slice();
  for (let o = 0; o < outer; o++) for (let j = 0; j < count; j++) for (let i = 0; i < inner; i++) {
    const s = slot(index[at(o, j, i)], size);
    if (s >= 0) out[(o * size + s) * inner + i] = src[(o * count + j) * inner + i];
  }
  return out;
}

/** Random indices, mostly in range, some out (negative, past the end, NaN) and some not whole. */
function indices(rng: Rng, n: number, size: number): Float32Array {
  const f = rng.floats(n, 0, 1), v = rng.floats(n, -0.49, size - 0.51);
  return Float32Array.from(f, (u, k) => (u < 0.08 ? -1 - Math.floor(u * 20) : u < 0.16 ? size + Math.floor(u * 10) : u < 0.18 ? NaN : u < 0.5 ? v[k] : Math.round(v[k])));
}

const count = (s: number[]) => s.reduce((p, d) => p * d, 1);

describe('gather and scatter kernels', () => {
  const cases = [
    { x: [7], index: [12], dim: 0 },
    { x: [5, 6], index: [9, 6], dim: 0 },
    { x: [5, 6], index: [5, 3], dim: 1 },
    { x: [3, 4, 5], index: [3, 7, 5], dim: 1 },
    { x: [2, 3, 4], index: [2, 3, 9], dim: 2 },
    { x: [10, 4], index: [3], dim: 0 },          // 1-D: whole rows
    { x: [4, 6, 3], index: [8], dim: 1 },
    { x: [70, 33], index: [70, 40], dim: 1 },     // more than one workgroup
  ];
  cases.forEach(({ x: xShape, index: indexShape, dim }, n) => {
    it(`x [${xShape}], index [${indexShape}] along dim ${dim}`, async () => {
      const r = await gpuRunner(), rng = new Rng(100 + n);
      const x = rng.floats(count(xShape)), idx = indices(rng, count(indexShape), xShape[dim]);
      const outShape = indexShape.length === 1 && xShape.length > 1 ? xShape.map((d, i) => (i === dim ? indexShape[0] : d)) : indexShape;
      const src = rng.floats(count(outShape));
      const [xb, ib, sb] = [r.storage(x), r.storage(idx), r.storage(src)];
      const g = r.storage(count(outShape) * 4), s = r.storage(x.byteLength);
      await r.runAll([
        ...gather({ x: xb, xShape, index: ib, indexShape, dim, out: g }),
        ...scatter({ x: xb, xShape, index: ib, indexShape, dim, src: sb, out: s }),
      ]);
      assert.deepEqual([...await readF32(r, g, count(outShape))], [...refGather(x, xShape, idx, indexShape, dim)]);
      assert.deepEqual([...await readF32(r, s, x.length)], [...refScatter(x, xShape, idx, indexShape, src, dim)]);
    });
  });

  it('u32 indices; duplicates: the last wins; halves round away from zero', async () => {
    const r = await gpuRunner();
    const x = Float32Array.from([10, 20, 30, 40]);
    const run = async (index: Uint32Array | Float32Array, src: number[]) => {
      const g = r.storage(16 * 4), s = r.storage(16);
      const common = { x: r.storage(x), xShape: [4], index: r.storage(index), indexShape: [index.length], indexType: index instanceof Uint32Array ? 'u32' as const : 'f32' as const, dim: 0 };
      await r.runAll([...gather({ ...common, out: g }), ...scatter({ ...common, src: r.storage(Float32Array.from(src)), out: s })]);
      return [[...await readF32(r, g, index.length)], [...await readF32(r, s, 4)]];
    };
    assert.deepEqual(await run(Uint32Array.from([3, 1, 1, 9]), [1, 2, 3, 4]), [[40, 20, 20, 0], [10, 3, 30, 1]]);
    assert.deepEqual(await run(Float32Array.from([0.5, 1.49, -0.5, 2.5, -0.4]), [1, 2, 3, 4, 5]), [[20, 20, 0, 40, 10], [5, 2, 30, 4]]);
  });

  it('rejects an index that does not fit', () => {
    const a = {} as GPUBuffer, b = {} as GPUBuffer, c = {} as GPUBuffer;
    assert.throws(() => gather({ x: a, xShape: [2, 3], index: b, indexShape: [2, 2], dim: 0, out: c }), /must match/);
    assert.throws(() => gather({ x: a, xShape: [2, 3], index: b, indexShape: [2, 3], dim: 2, out: c }), /out of range/);
  });
});
