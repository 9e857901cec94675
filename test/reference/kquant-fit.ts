// The scale search of tlc's Q4_K and Q6_K quantizers, written again from its definition rather than
// from runtime/quant.ts, so that a test can pin every rule of it. (It is tlc's own search, in the
// spirit of llama.cpp's make_qkx / make_qx_quants, not a copy: only the bytes it writes are a format.)
//
//   affine (Q4_K, L in 0..nmax):     x ≈ scale * L - min, scale > 0, min >= 0
//   symmetric (Q6_K, L in -nmax..nmax-1): x ≈ scale * L
//
// Candidates: a first guess, then one grid per step s = -6..6 with (nmax + 0.1 s) levels across the
// range; each grid's L is refitted by least squares. The result is the candidate with the smallest
// squared error; of equal errors the earliest. Arithmetic is JavaScript doubles, summed in index
// order, as the quantizer's.

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const STEPS = Array.from({ length: 13 }, (_, i) => i - 6);

interface Candidate<T> { value: T; err: number }

/** The first candidate with the least error; NaN errors never win. */
function firstBest<T>(cands: Candidate<T>[]): T {
  let best = cands[0];
  for (const c of cands.slice(1)) if (c.err < best.err) best = c;
  return best.value;
}

export function refFitAffine(x: ArrayLike<number>, nmax: number): [number, number] {
  const xs = Array.from(x), n = xs.length;
  const lo = Math.min(0, ...xs), hi = Math.max(...xs);
  if (hi === lo) return [0, -lo]; // constant (or all zero) with lo: min alone
  const err = ([scale, min]: [number, number]) =>
    xs.reduce((e, v) => e + (scale * clamp(Math.round((v + min) / scale), 0, nmax) - min - v) ** 2, 0);
  const first: [number, number] = [(hi - lo) / nmax, -lo];
  const cands: Candidate<[number, number]>[] = [{ value: first, err: err(first) }];
  for (const s of STEPS) {
    const iscale = (nmax + 0.1 * s) / (hi - lo);
    const L = xs.map((v) => clamp(Math.round(iscale * (v - lo)), 0, nmax));
    let sl = 0, sl2 = 0, sx = 0, slx = 0;
    for (let i = 0; i < n; i++) { sl += L[i]; sl2 += L[i] * L[i]; sx += xs[i]; slx += L[i] * xs[i]; }
    const det = n * sl2 - sl * sl;
    if (det <= 0) continue; // every L equal: no slope
    let scale = (n * slx - sl * sx) / det, offset = (sx - scale * sl) / n;
    if (offset > 0) [offset, scale] = [0, slx / sl2]; // min >= 0: refit through the origin
    if (scale <= 0) continue;
    cands.push({ value: [scale, -offset], err: err([scale, -offset]) });
  }
  return firstBest(cands);
}

export function refFitSymmetric(x: ArrayLike<number>, nmax: number): number {
  const xs = Array.from(x);
  // The value of largest magnitude, the first of equal ones, sets the sign of the grid.
  const max = xs.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
  if (max === 0) return 0;
  const cands: Candidate<number>[] = [{ value: -max / nmax, err: Infinity }];
  for (const s of STEPS) {
    const iscale = -(nmax + 0.1 * s) / max;
    const L = xs.map((v) => clamp(Math.round(iscale * v), -nmax, nmax - 1));
    const slx = L.reduce((a, l, i) => a + l * xs[i], 0), sl2 = L.reduce((a, l) => a + l * l, 0);
    if (sl2 === 0) continue;
    const scale = slx / sl2;
    cands.push({ value: scale, err: xs.reduce((e, v) => e + (scale * clamp(Math.round(v / scale), -nmax, nmax - 1) - v) ** 2, 0) });
  }
  return firstBest(cands);
}
